/**
 * One MCP principal against another: sessions. Four bearer-token principals share a server
 * holding at most 6 sessions, 3 per principal. A principal opening many sessions closes only its
 * own (least recently used first); when all sessions are taken, a principal holding none is
 * refused with 503, Retry-After and a JSON-RPC error, and nobody else's session is closed.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { raw } from '../helpers/raw-http.js';
import { startHttpProcess, type HttpProcess } from '../helpers/spawned.js';

const TOKENS = {
  alice: 'a'.repeat(20) + 'alice-token-0123456789',
  bob: 'b'.repeat(20) + 'bob-token-0123456789ab',
  carol: 'c'.repeat(20) + 'carol-token-0123456789',
  dave: 'd'.repeat(20) + 'dave-token-0123456789a',
};
type Name = keyof typeof TOKENS;
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });

let pki: Pki;
let broker: Broker;
let server: HttpProcess;

function headers(who: Name, extra: Record<string, string> = {}): Record<string, string> {
  return {
    host: `127.0.0.1:${server.port}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${TOKENS[who]}`,
    ...extra,
  };
}

async function open(who: Name): Promise<string> {
  const res = await raw(server.port, 'POST', '/mcp', { headers: headers(who), body: INIT });
  assert.equal(res.status, 200, res.body);
  return res.headers['mcp-session-id'] as string;
}

/** The status a session answers tools/list with (200 alive, 404 closed). */
async function answers(who: Name, id: string): Promise<number> {
  const v = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  return (await raw(server.port, 'POST', '/mcp', { headers: headers(who, v), body: LIST })).status;
}

async function sdkClient(who: Name): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${TOKENS[who]}` } },
  });
  const client = new Client({ name: `principal-${who}`, version: '1' });
  await client.connect(transport);
  return { client, transport };
}

async function sessionsHeld(): Promise<number> {
  const res = await raw(server.port, 'GET', '/metrics', { headers: headers('alice') });
  return Number(/^mqtt_mcp_bridge_http_sessions (\d+)$/m.exec(res.body)?.[1]);
}

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  const tokens = `${pki.dir}/tokens`;
  writeFileSync(
    tokens,
    Object.entries(TOKENS)
      .map(([name, token]) => `${name}=${token}`)
      .join('\n'),
    { mode: 0o600 },
  );
  server = await startHttpProcess(
    bridgeEnv(broker, pki, {
      MCP_AUTH_TOKEN_FILE: tokens,
      MCP_HTTP_MAX_SESSIONS: '6',
      MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL: '3',
      LOG_LEVEL: 'info',
    }),
  );
});
after(async () => {
  await server.stop();
  await broker.stop();
});

describe('one principal against another: sessions', () => {
  it('a principal opening many sessions closes only its own; a full server refuses a newcomer with 503', async () => {
    const bob = [await sdkClient('bob'), await sdkClient('bob')];
    try {
      const alice: string[] = [];
      for (let i = 0; i < 10; i++) alice.push(await open('alice'));
      // Bob's sessions survive; alice keeps her 3 most recent, her older ones were hers to close.
      for (const { client } of bob) assert.ok((await client.listTools()).tools.length > 0);
      const aliceStatus = await Promise.all(alice.map((id) => answers('alice', id)));
      assert.deepEqual(aliceStatus, [404, 404, 404, 404, 404, 404, 404, 200, 200, 200]);
      assert.equal(await sessionsHeld(), 5);

      const carol = await open('carol');
      assert.equal(await sessionsHeld(), 6);
      // Full, and dave holds nothing to give up: refused, nobody's session closed.
      const refused = await raw(server.port, 'POST', '/mcp', { headers: headers('dave'), body: INIT });
      assert.equal(refused.status, 503, refused.body);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      const error = JSON.parse(refused.body);
      assert.equal(error.jsonrpc, '2.0');
      assert.equal(error.error.code, -32000);
      assert.match(
        error.error.message,
        /^Session limit reached \(6 sessions held by other clients\); retry after \d+ s$/,
      );
      assert.equal(refused.headers['mcp-session-id'], undefined);

      // Alice, at the full server, may still open one: it costs her own oldest session.
      const aliceNew = await open('alice');
      assert.equal(await answers('alice', alice[7] as string), 404);
      assert.equal(await answers('alice', aliceNew), 200);
      assert.equal(await answers('carol', carol), 200);
      for (const { client } of bob) assert.ok((await client.listTools()).tools.length > 0);
      assert.equal(await sessionsHeld(), 6);

      // When bob ends a session, dave gets in.
      await bob[0]?.transport.terminateSession();
      assert.equal(await sessionsHeld(), 5);
      await open('dave');
      assert.equal(await answers('carol', carol), 200);
      assert.ok(((await bob[1]?.client.listTools())?.tools.length ?? 0) > 0);
    } finally {
      for (const { client } of bob) await client.close();
    }
  });
});
