/**
 * A device publisher that shapes topics: floods of deep topics (the 200 `/` Mosquitto allows),
 * of one-letter and of empty levels, and of 60 KB topic names, each topic new, reach the built
 * server (HTTP mode) through Mosquitto while it runs with the V8 heap limit it gets in the
 * container (support.ts, CONTAINER_NODE_OPTIONS) and the default STORE_MAX_BYTES. Measured in the
 * server process itself (its /metrics): the store stays within its byte limit, the heap within
 * that limit and a margin for the rest of the process, resident memory under the container limit,
 * and the MCP ping answers within 1 s throughout. 5 s per shape, 30 s with SOAK=1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';
import {
  CONTAINER_LIMIT_BYTES,
  CONTAINER_NODE_OPTIONS,
  SOAK,
  serverFigures,
  startPublisher,
  type ServerFigures,
} from './support.js';

const SECONDS = SOAK ? 30 : 5;
const MiB = 1024 * 1024;
const STORE_MAX_BYTES = 64 * MiB; // the default
/** The rest of the process besides the store: code, MCP and HTTP, the MQTT client, garbage not yet collected. */
const HEAP_MARGIN = 48 * MiB;

// Mosquitto refuses a topic with more than 200 `/` (TOPIC_HIERARCHY_LIMIT): each prefix below
// has three, the number is one level, and the suffix has the rest.
const SHAPES: ReadonlyArray<{ name: string; prefix: string; suffix: string; rate: number }> = [
  {
    name: 'deep: 200 levels with their own names',
    prefix: 'plant/shape/deep/',
    suffix: Array.from({ length: 197 }, (_, i) => `/level${i}`).join(''),
    rate: 2000,
  },
  {
    name: "one-letter levels ('a/a/a/...')",
    prefix: 'plant/shape/tiny/',
    suffix: '/a'.repeat(197),
    rate: 2000,
  },
  { name: "empty levels ('7////...')", prefix: 'plant/shape/empty/', suffix: '/'.repeat(197), rate: 2000 },
  { name: 'one 60 KB level', prefix: 'plant/shape/long/', suffix: `/${'x'.repeat(60_000)}`, rate: 200 },
];

let pki: Pki;
let broker: Broker;
let bridge: SpawnedBridge;
let idle: ServerFigures;

before(async () => {
  pki = createPki();
  pki.issueClient('spy'); // the publisher's identity
  broker = await startBroker({ pki });
  bridge = await spawnBridge(
    'http',
    bridgeEnv(broker, pki, {
      LOG_LEVEL: 'info',
      NODE_OPTIONS: CONTAINER_NODE_OPTIONS,
      MQTT_SUBSCRIBE: 'plant/shape/#',
      MCP_TOOL_RATE_PER_MINUTE: '100000',
      MCP_HTTP_RATE_LIMIT_PER_MINUTE: '100000',
    }),
  );
  await bridge.connected();
  await broker.waitForLog(/Sending SUBACK to mcp-bridge-/, 5000);
  idle = await serverFigures(bridge);
});
after(async () => {
  try {
    await bridge?.close();
  } finally {
    await broker?.kill();
  }
});

const mb = (bytes: number) => (bytes / MiB).toFixed(1);

describe('soak: topic shapes', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}, ${shape.rate} new topics/s for ${SECONDS} s: store, heap and RSS bounded, ping < 1 s`, async (t) => {
      const receivedBefore: number = (await bridge.ok('mqtt_status')).store.received;
      const publisher = startPublisher({
        url: broker.url,
        pkiDir: pki.dir,
        rate: shape.rate,
        seconds: SECONDS,
        topics: shape.rate * SECONDS, // every message a new topic
        size: 16,
        prefix: shape.prefix,
        suffix: shape.suffix,
      });
      await publisher.ready;
      // Sampled every 500 ms while the flood lasts, and at least 6 times (on a busy machine a
      // sample takes longer).
      const samples: Array<{ pingMs: number } & ServerFigures> = [];
      while (!publisher.exited() || samples.length < 6) {
        const started = performance.now();
        try {
          await bridge.client.ping({ timeout: 10_000 });
          const pingMs = performance.now() - started;
          samples.push({ pingMs, ...(await serverFigures(bridge)) });
        } catch (error) {
          // Most likely the server died: say how (V8 prints why, e.g. that it reached the heap limit).
          const said = bridge.stderr();
          throw new Error(
            `${String(error)}; the server: ${/FATAL ERROR[^\n]*/.exec(said)?.[0] ?? said.slice(-600)}`,
            { cause: error },
          );
        }
        await sleep(Math.max(0, 500 - (performance.now() - started)));
      }
      const { sent } = await publisher.done;
      await sleep(500); // what the broker still had queued
      samples.push({ pingMs: 0, ...(await serverFigures(bridge)) });
      const status = await bridge.ok('mqtt_status');
      const store = status.store;
      const maxHeap = Math.max(...samples.map((s) => s.heapUsed));
      const maxRss = Math.max(...samples.map((s) => s.rss));
      t.diagnostic(
        `publisher sent ${sent}; bridge received ${store.received - receivedBefore}, holds ${store.topics} topics, ` +
          `${store.messages} messages, ${mb(store.bytes)} MiB counted; dropped ${JSON.stringify(store.dropped)}; ` +
          `heap used idle ${mb(idle.heapUsed)} MiB, max ${mb(maxHeap)} MiB; RSS max ${mb(maxRss)} MiB; ` +
          `slowest ping ${Math.max(...samples.map((s) => s.pingMs)).toFixed(0)} ms`,
      );
      // Most of the flood reached the bridge (the broker may drop QoS 0 for a slow reader).
      const received = store.received - receivedBefore;
      assert.ok(received >= sent * 0.5, `the bridge received ${received} of ${sent}`);
      assert.ok(store.bytes <= STORE_MAX_BYTES, `the store counts ${mb(store.bytes)} MiB`);
      assert.ok(store.messages > 0, 'the newest values are kept');
      assert.ok(
        maxHeap <= idle.heapUsed + STORE_MAX_BYTES + HEAP_MARGIN,
        `heap used ${mb(maxHeap)} MiB (idle ${mb(idle.heapUsed)} MiB)`,
      );
      assert.ok(maxRss < CONTAINER_LIMIT_BYTES, `RSS ${mb(maxRss)} MiB`);
      assert.ok(Math.max(...samples.map((s) => s.pingMs)) < 1000);
      assert.equal(status.connection.state, 'connected');
      const listed = await bridge.ok('mqtt_list_topics', { filter: `${shape.prefix}#`, limit: 3 });
      assert.ok(listed.topics.length > 0, 'the newest topics are listed');
    });
  }
});
