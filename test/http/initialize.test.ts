/**
 * An initialize that never becomes a session leaves nothing behind: every way the SDK's
 * StreamableHTTPServerTransport (1.32) or the bridge in front of it refuses an initialize POST
 * (Accept, Content-Type, JSON-RPC shape, batches, an initialize sent as a notification) ends with
 * no session held and no MCP server alive. Counted from the built server's /metrics:
 * `http_sessions` and `mqtt_event_listeners` (the broker event listener each MCP server
 * registers, dropped when it closes).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { raw } from '../helpers/raw-http.js';
import { startHttpProcess, type HttpProcess } from '../helpers/spawned.js';

const PARAMS = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } };
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: PARAMS };
const ACCEPT = 'application/json, text/event-stream';

let pki: Pki;
let broker: Broker;
let server: HttpProcess;

function headers(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    host: `127.0.0.1:${server.port}`,
    'content-type': 'application/json',
    accept: ACCEPT,
    authorization: `Bearer ${server.token}`,
    ...extra,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

async function metric(name: string): Promise<number> {
  const res = await raw(server.port, 'GET', '/metrics', { headers: headers() });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `${name} missing from /metrics`);
  return Number(line.split(' ').pop());
}

async function held(): Promise<{ sessions: number; listeners: number }> {
  return {
    sessions: await metric('mqtt_mcp_bridge_http_sessions'),
    listeners: await metric('mqtt_mcp_bridge_mqtt_event_listeners'),
  };
}

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  server = await startHttpProcess(
    bridgeEnv(broker, pki, { LOG_LEVEL: 'info', MCP_HTTP_RATE_LIMIT_PER_MINUTE: '100000' }),
  );
});
after(async () => {
  await server.stop();
  await broker.stop();
});

interface Refusal {
  readonly name: string;
  readonly status: number;
  readonly headers?: Record<string, string | undefined>;
  readonly body: unknown;
}

// Each passes the bridge's own checks up to the point named; most reach the SDK transport.
const REFUSALS: Refusal[] = [
  {
    name: 'Accept: application/json only (406)',
    status: 406,
    headers: { accept: 'application/json' },
    body: INIT,
  },
  {
    name: 'Accept: text/event-stream only (406)',
    status: 406,
    headers: { accept: 'text/event-stream' },
    body: INIT,
  },
  { name: 'no Accept header (406)', status: 406, headers: { accept: undefined }, body: INIT },
  {
    name: 'Accept: */* (406: the SDK wants both types named)',
    status: 406,
    headers: { accept: '*/*' },
    body: INIT,
  },
  { name: 'no jsonrpc member (400)', status: 400, body: { id: 1, method: 'initialize', params: PARAMS } },
  { name: 'jsonrpc "1.0" (400)', status: 400, body: { ...INIT, jsonrpc: '1.0' } },
  { name: 'id null (400)', status: 400, body: { ...INIT, id: null } },
  { name: 'fractional id (400)', status: 400, body: { ...INIT, id: 1.5 } },
  { name: 'an unknown top-level member (400)', status: 400, body: { ...INIT, extra: true } },
  {
    name: 'initialize sent as a notification, without id (202, no session id given out)',
    status: 202,
    body: { jsonrpc: '2.0', method: 'initialize', params: PARAMS },
  },
  { name: 'a batch of one initialize (400)', status: 400, body: [INIT] },
  {
    name: 'a batch of initialize and ping (400)',
    status: 400,
    body: [INIT, { jsonrpc: '2.0', id: 2, method: 'ping' }],
  },
  {
    name: 'Content-Type: text/plain (400: not parsed as JSON)',
    status: 400,
    headers: { 'content-type': 'text/plain' },
    body: INIT,
  },
  {
    name: 'params without clientInfo (400)',
    status: 400,
    body: { ...INIT, params: { protocolVersion: '2025-11-25', capabilities: {} } },
  },
];

describe('an initialize that is refused leaves nothing behind', () => {
  for (const refusal of REFUSALS) {
    it(refusal.name, async () => {
      const before = await held();
      for (let i = 0; i < 3; i++) {
        const res = await raw(server.port, 'POST', '/mcp', {
          headers: headers(refusal.headers),
          body: JSON.stringify(refusal.body),
        });
        assert.equal(res.status, refusal.status, res.body);
        if (res.status !== 202) assert.equal(JSON.parse(res.body).jsonrpc, '2.0');
      }
      assert.deepEqual(await held(), before);
    });
  }

  it('an initialize with an unsupported MCP-Protocol-Version header is negotiated, not refused; DELETE releases it', async () => {
    const before = await held();
    const res = await raw(server.port, 'POST', '/mcp', {
      headers: headers({ 'mcp-protocol-version': '1999-01-01' }),
      body: JSON.stringify(INIT),
    });
    assert.equal(res.status, 200, res.body);
    const id = res.headers['mcp-session-id'] as string;
    assert.deepEqual(await held(), { sessions: before.sessions + 1, listeners: before.listeners + 1 });
    const deleted = await raw(server.port, 'DELETE', '/mcp', {
      headers: headers({ 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' }),
    });
    assert.equal(deleted.status, 200);
    assert.deepEqual(await held(), before);
  });

  it('after all of them a real client opens a session and calls a tool; closing it releases everything', async () => {
    const before = await held();
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${server.token}` } },
    });
    const client = new Client({ name: 'after-refusals', version: '1' });
    await client.connect(transport);
    const status = await client.callTool({ name: 'mqtt_status', arguments: {} });
    assert.notEqual(status.isError, true);
    assert.deepEqual(await held(), { sessions: before.sessions + 1, listeners: before.listeners + 1 });
    await transport.terminateSession();
    await client.close();
    assert.deepEqual(await held(), before);
  });
});
