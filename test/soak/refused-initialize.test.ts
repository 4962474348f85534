/**
 * Refused initializes under the container's heap limit: thousands of initialize POSTs that the
 * SDK transport refuses (406 for a missing Accept type, 400 for a JSON-RPC shape it rejects) or
 * that never get a session (initialize sent as a notification) against the built server in HTTP
 * mode with the V8 heap limit it has in the container (support.ts, CONTAINER_NODE_OPTIONS).
 * Each used to leave an MCP server, its transport and a broker event listener behind (about
 * 50 KB a request). Now the session and listener counts return to what they were, and heap and
 * resident memory stay flat. 6,000 requests, 24,000 with SOAK=1.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';
import { CONTAINER_LIMIT_BYTES, CONTAINER_NODE_OPTIONS, SOAK, serverFigures } from './support.js';

const REQUESTS = SOAK ? 24_000 : 6000;
const CONCURRENCY = 8;
const MiB = 1024 * 1024;
const PARAMS = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'soak', version: '1' },
};

// Three refusals in turn: [Accept header, body, expected status].
const KINDS: Array<[string, string, number]> = [
  ['application/json', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: PARAMS }), 406],
  [
    'application/json, text/event-stream',
    JSON.stringify({ id: 1, method: 'initialize', params: PARAMS }),
    400,
  ],
  [
    'application/json, text/event-stream',
    JSON.stringify({ jsonrpc: '2.0', method: 'initialize', params: PARAMS }),
    202,
  ],
];

let pki: Pki;
let broker: Broker;
let bridge: SpawnedBridge;

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  bridge = await spawnBridge(
    'http',
    bridgeEnv(broker, pki, {
      LOG_LEVEL: 'info',
      NODE_OPTIONS: CONTAINER_NODE_OPTIONS,
      MCP_HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
    }),
  );
});
after(async () => {
  await bridge?.close();
  await broker?.kill();
});

const mb = (bytes: number) => (bytes / MiB).toFixed(1);

describe('soak: refused initializes', () => {
  it(`${REQUESTS} refused initializes under the container heap limit: no session, no listener, flat memory`, async (t) => {
    const url = new URL(bridge.url as string);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const post = (accept: string, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/mcp',
            headers: {
              'content-type': 'application/json',
              accept,
              authorization: `Bearer ${bridge.token as string}`,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const metrics = async () => {
      const res = await fetch(`${bridge.url as string}/metrics`, {
        headers: { Authorization: `Bearer ${bridge.token as string}` },
      });
      const text = await res.text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      return {
        sessions: value('mqtt_mcp_bridge_http_sessions'),
        listeners: value('mqtt_mcp_bridge_mqtt_event_listeners'),
      };
    };
    let sent = 0;
    const run = async (count: number) => {
      const end = sent + count;
      const worker = async () => {
        while (sent < end) {
          const [accept, body, status] = KINDS[sent++ % KINDS.length] as [string, string, number];
          assert.equal(await post(accept, body), status);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    };
    try {
      const held = await metrics();
      assert.deepEqual(held, { sessions: 1, listeners: 1 }, 'the test client holds one session');
      await run(300); // warm-up: code paths compiled, pools filled
      const start = await serverFigures(bridge);
      const samples = [start];
      const started = performance.now();
      while (sent < REQUESTS) {
        await run(Math.min(1000, REQUESTS - sent));
        samples.push(await serverFigures(bridge));
      }
      const seconds = (performance.now() - started) / 1000;
      const end = samples[samples.length - 1] ?? start;
      t.diagnostic(
        `${sent} refused initializes in ${seconds.toFixed(1)} s; RSS ${mb(start.rss)} -> ${mb(end.rss)} MiB ` +
          `(max ${mb(Math.max(...samples.map((s) => s.rss)))}); heap used ${mb(start.heapUsed)} -> ${mb(end.heapUsed)} MiB ` +
          `(max ${mb(Math.max(...samples.map((s) => s.heapUsed)))}); heap samples ${samples.map((s) => mb(s.heapUsed)).join(' ')}`,
      );
      assert.deepEqual(await metrics(), held, 'sessions or MCP servers were left behind');
      assert.ok(
        Math.max(...samples.map((s) => s.rss)) < CONTAINER_LIMIT_BYTES,
        'RSS above the container limit',
      );
      // About 50 KB a request would be 300 MB here; the GC sawtooth stays well inside this margin.
      assert.ok(
        end.heapUsed - start.heapUsed < 24 * MiB,
        `heap grew ${mb(end.heapUsed - start.heapUsed)} MiB`,
      );
      assert.ok(end.rss - start.rss < 48 * MiB, `RSS grew ${mb(end.rss - start.rss)} MiB`);
      // Still serving.
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.connection.state, 'connected');
    } finally {
      agent.destroy();
    }
  });
});
