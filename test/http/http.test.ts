/**
 * The Streamable HTTP transport as an attack surface (security.md T-1.1 to T-1.10): the built
 * server on an ephemeral loopback port, raw HTTP requests for the edge cases and the SDK's
 * StreamableHTTPClientTransport for protocol flows.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { sleep, startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { cleanEnv, SERVER, startHttpProcess, type HttpProcess } from '../helpers/spawned.js';
import { CONTAINER_NODE_OPTIONS } from '../soak/support.js';
import { raw } from '../helpers/raw-http.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

const ALICE = 'a'.repeat(20) + 'alice-token-0123456789';
const BOB = 'b'.repeat(20) + 'bob-token-0123456789ab';

let pki: Pki;
let broker: Broker;
let spy: Spy;
let server: HttpProcess;

function headers(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    host: `127.0.0.1:${server.port}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  };
}

async function initialize(token: string): Promise<string> {
  const res = await raw(server.port, 'POST', '/mcp', { headers: headers(token), body: INIT });
  assert.equal(res.status, 200, res.body);
  const id = res.headers['mcp-session-id'];
  assert.equal(typeof id, 'string');
  const notified = await raw(server.port, 'POST', '/mcp', {
    headers: headers(token, { 'mcp-session-id': id as string, 'mcp-protocol-version': '2025-11-25' }),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  assert.equal(notified.status, 202);
  return id as string;
}

function sdkClient(
  port: number,
  token: string,
): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  return { client: new Client({ name: 'http-test', version: '1' }), transport };
}

async function metric(name: string, token = ALICE): Promise<number> {
  const res = await raw(server.port, 'GET', '/metrics', { headers: headers(token) });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').pop());
}

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki, ['#']);
  const tokens = `${pki.dir}/tokens`;
  writeFileSync(tokens, `# two principals\nalice=${ALICE}\nbob=${BOB}\n`, { mode: 0o600 });
  server = await startHttpProcess(
    bridgeEnv(broker, pki, {
      MCP_AUTH_TOKEN_FILE: tokens,
      MCP_ALLOWED_ORIGINS: 'http://app.example',
      MCP_HTTP_MAX_SESSIONS: '20',
      MCP_WRITE_TOPICS: 'plant/#',
      LOG_LEVEL: 'info',
      // The heap it has in the container, so that memory figures mean what they would there.
      NODE_OPTIONS: CONTAINER_NODE_OPTIONS,
      // T-1.8 alone makes 600 requests; the rate limit has its own server below.
      MCP_HTTP_RATE_LIMIT_PER_MINUTE: '100000',
    }),
  );
});
after(async () => {
  await server.stop();
  await spy.close();
  await broker.stop();
});

describe('DNS rebinding and CORS (T-1.1 to T-1.3)', () => {
  it('T-1.1 a bad Host header is refused with 403', async () => {
    const res = await raw(server.port, 'POST', '/mcp', {
      headers: headers(ALICE, { host: `evil.example:${server.port}` }),
      body: INIT,
    });
    assert.equal(res.status, 403);
  });

  it('T-1.2 a valid Host with a foreign Origin is refused with 403', async () => {
    const res = await raw(server.port, 'POST', '/mcp', {
      headers: headers(ALICE, { origin: 'http://evil.example' }),
      body: INIT,
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  it('T-1.3 no Origin passes; an allowed Origin passes with CORS naming exactly it', async () => {
    const plain = await raw(server.port, 'POST', '/mcp', { headers: headers(ALICE), body: INIT });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['access-control-allow-origin'], undefined);
    const allowed = await raw(server.port, 'POST', '/mcp', {
      headers: headers(ALICE, { origin: 'http://app.example' }),
      body: INIT,
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], 'http://app.example');
    const preflight = await raw(server.port, 'OPTIONS', '/mcp', {
      headers: headers(undefined, { origin: 'http://app.example' }),
    });
    assert.equal(preflight.status, 204);
    assert.match(String(preflight.headers['access-control-allow-headers']), /Mcp-Session-Id/);
  });
});

describe('authentication (T-1.4)', () => {
  it('no token and a wrong token get 401 with WWW-Authenticate', async () => {
    const none = await raw(server.port, 'POST', '/mcp', { headers: headers(undefined), body: INIT });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer realm="mqtt-mcp-bridge"/);
    const wrong = await raw(server.port, 'POST', '/mcp', { headers: headers('x'.repeat(64)), body: INIT });
    assert.equal(wrong.status, 401);
    assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
    assert.ok(!server.stderr().includes('x'.repeat(64)), 'a presented token was logged');
  });

  it('health probes need no token and reveal only up/down; metrics need the token', async () => {
    const health = await raw(server.port, 'GET', '/healthz', { headers: { host: 'pod-10-1-2-3' } });
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    const ready = await raw(server.port, 'GET', '/readyz');
    assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
    assert.equal((await raw(server.port, 'GET', '/metrics', { headers: headers(undefined) })).status, 401);
    assert.equal(await metric('mqtt_mcp_bridge_mqtt_connected'), 1);
  });
});

describe('sessions (T-1.6 to T-1.8)', () => {
  it('T-1.6 no session id after init is 400; an unknown id is 404; DELETE then reuse is 404', async () => {
    const id = await initialize(ALICE);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const v = { 'mcp-protocol-version': '2025-11-25' };
    assert.equal(
      (await raw(server.port, 'POST', '/mcp', { headers: headers(ALICE, v), body: list })).status,
      400,
    );
    assert.equal(
      (
        await raw(server.port, 'POST', '/mcp', {
          headers: headers(ALICE, { ...v, 'mcp-session-id': crypto.randomUUID() }),
          body: list,
        })
      ).status,
      404,
    );
    assert.equal(
      (
        await raw(server.port, 'POST', '/mcp', {
          headers: headers(ALICE, { ...v, 'mcp-session-id': id }),
          body: list,
        })
      ).status,
      200,
    );
    assert.equal(
      (await raw(server.port, 'DELETE', '/mcp', { headers: headers(ALICE, { ...v, 'mcp-session-id': id }) }))
        .status,
      200,
    );
    assert.equal(
      (
        await raw(server.port, 'POST', '/mcp', {
          headers: headers(ALICE, { ...v, 'mcp-session-id': id }),
          body: list,
        })
      ).status,
      404,
    );
  });

  it('T-1.7 a session created by one principal is refused to another', async () => {
    const id = await initialize(ALICE);
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const v = { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': id };
    assert.equal(
      (await raw(server.port, 'POST', '/mcp', { headers: headers(BOB, v), body: list })).status,
      404,
    );
    assert.equal((await raw(server.port, 'DELETE', '/mcp', { headers: headers(BOB, v) })).status, 404);
    assert.equal(
      (await raw(server.port, 'POST', '/mcp', { headers: headers(ALICE, v), body: list })).status,
      200,
    );
  });

  it('T-1.8 300 sessions never closed: the count stays at the cap and memory stays bounded', async () => {
    // The first 300 also grow the heap to its working size (a one-off), so the bound is on the
    // next 300. The server runs with the container's heap sizes (CONTAINER_NODE_OPTIONS): sized
    // from a large host's memory, V8's young generation alone grows RSS by 40+ MiB.
    for (let i = 0; i < 300; i++) await initialize(i % 2 === 0 ? ALICE : BOB);
    assert.ok((await metric('mqtt_mcp_bridge_http_sessions')) <= 20);
    const rssBefore = await metric('mqtt_mcp_bridge_process_resident_memory_bytes');
    for (let i = 0; i < 300; i++) await initialize(i % 2 === 0 ? ALICE : BOB);
    assert.ok((await metric('mqtt_mcp_bridge_http_sessions')) <= 20);
    const rssAfter = await metric('mqtt_mcp_bridge_process_resident_memory_bytes');
    const grownMiB = (rssAfter - rssBefore) / 2 ** 20;
    assert.ok(grownMiB < 40, `RSS grew by ${grownMiB.toFixed(1)} MiB`);
  });
});

describe('limits (T-1.9) and rate limits', () => {
  it('5 MB body is 413, batch of 101 is 400, unknown protocol version is 400, malformed JSON is 400 and not logged', async () => {
    const big = await raw(server.port, 'POST', '/mcp', {
      headers: headers(ALICE),
      body: `{"x":"${'y'.repeat(5 * 1024 * 1024)}"}`,
    });
    assert.equal(big.status, 413);
    const batch = JSON.stringify(
      Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' })),
    );
    assert.equal(
      (await raw(server.port, 'POST', '/mcp', { headers: headers(ALICE), body: batch })).status,
      400,
    );
    const id = await initialize(ALICE);
    const badVersion = await raw(server.port, 'POST', '/mcp', {
      headers: headers(ALICE, { 'mcp-session-id': id, 'mcp-protocol-version': '1999-01-01' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }),
    });
    assert.equal(badVersion.status, 400);
    const marker = 'MALFORMED_BODY_MARKER_7c1';
    const malformed = await raw(server.port, 'POST', '/mcp', {
      headers: headers(ALICE),
      body: `{"${marker}": `,
    });
    assert.equal(malformed.status, 400);
    assert.equal(JSON.parse(malformed.body).error.code, -32700);
    await sleep(100);
    assert.ok(!server.stderr().includes(marker), 'the request body reached the log');
    assert.match(server.stderr(), /"status":400,"type":"entity.parse.failed".*"msg":"HTTP request refused"/);
  });

  it('requests above the per-principal rate get 429 with Retry-After; other principals are not affected', async () => {
    const limited = await startHttpProcess(
      bridgeEnv(broker, pki, {
        MCP_AUTH_TOKEN_FILE: `${pki.dir}/tokens`,
        MCP_HTTP_RATE_LIMIT_PER_MINUTE: '5',
      }),
    );
    try {
      const h = (token: string) => ({ ...headers(token), host: `127.0.0.1:${limited.port}` });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await raw(limited.port, 'POST', '/mcp', { headers: h(ALICE), body: INIT })).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      const last = await raw(limited.port, 'POST', '/mcp', { headers: h(ALICE), body: INIT });
      assert.ok(Number(last.headers['retry-after']) >= 1);
      assert.equal((await raw(limited.port, 'POST', '/mcp', { headers: h(BOB), body: INIT })).status, 200);
    } finally {
      await limited.stop();
    }
  });
});

describe('isolation between clients (T-1.10)', () => {
  it('two clients waiting with progress each see only their own messages and progress', async () => {
    const a = sdkClient(server.port, ALICE);
    const b = sdkClient(server.port, BOB);
    await a.client.connect(a.transport);
    await b.client.connect(b.transport);
    try {
      const progressA: string[] = [];
      const progressB: string[] = [];
      const waitA = a.client.callTool(
        { name: 'mqtt_wait_for_messages', arguments: { filter: 'plant/a/#', count: 3, timeoutMs: 5000 } },
        undefined,
        { onprogress: (p) => progressA.push(p.message ?? '') },
      );
      const waitB = b.client.callTool(
        { name: 'mqtt_wait_for_messages', arguments: { filter: 'plant/b/#', count: 2, timeoutMs: 5000 } },
        undefined,
        { onprogress: (p) => progressB.push(p.message ?? '') },
      );
      await sleep(400);
      for (let i = 0; i < 3; i++) await spy.publish(`plant/a/${i}`, `for-a-${i}`);
      for (let i = 0; i < 2; i++) await spy.publish(`plant/b/${i}`, `for-b-${i}`);
      const ra = ((await waitA) as CallToolResult).structuredContent as Record<string, any>;
      const rb = ((await waitB) as CallToolResult).structuredContent as Record<string, any>;
      assert.deepEqual(
        ra.messages.map((m: { payload: string }) => m.payload),
        ['for-a-0', 'for-a-1', 'for-a-2'],
      );
      assert.deepEqual(
        rb.messages.map((m: { payload: string }) => m.payload),
        ['for-b-0', 'for-b-1'],
      );
      assert.deepEqual(progressA, ['1 of 3 messages', '2 of 3 messages']);
      assert.deepEqual(progressB, ['1 of 2 messages']);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it('tool calls are counted in /metrics by tool, calls refused by input validation too; one name prefix', async () => {
    assert.ok((await metric('mqtt_mcp_bridge_mcp_tool_calls_total{tool="mqtt_wait_for_messages"}')) >= 2);
    const a = sdkClient(server.port, ALICE);
    await a.client.connect(a.transport);
    try {
      const refused = await a.client.callTool({
        name: 'mqtt_read_messages',
        arguments: { filter: 'plant/#', limit: 0 },
      });
      assert.equal(refused.isError, true);
    } finally {
      await a.client.close();
    }
    assert.equal(
      await metric('mqtt_mcp_bridge_mcp_tool_errors_total{tool="mqtt_read_messages",code="INVALID_INPUT"}'),
      1,
    );
    const res = await raw(server.port, 'GET', '/metrics', { headers: headers(ALICE) });
    const names = res.body
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split(/[{ ]/)[0]);
    assert.ok(names.length > 20);
    for (const name of names) assert.match(name ?? '', /^mqtt_mcp_bridge_/);
  });
});

describe('start-up refusals and shutdown', () => {
  async function exitOf(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [SERVER], {
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    return { code, stderr };
  }

  it('refuses to listen on a non-loopback address without authentication, or without allowed hosts', async () => {
    const base = {
      MQTT_URL: broker.url,
      MCP_TRANSPORT: 'http',
      MCP_HTTP_HOST: '0.0.0.0',
      MCP_HTTP_PORT: '0',
    };
    const open = await exitOf({ ...base, MCP_AUTH: 'none', MCP_ALLOWED_HOSTS: 'localhost' });
    assert.equal(open.code, 1);
    assert.match(open.stderr, /MCP_AUTH: none is refused when listening on 0\.0\.0\.0/);
    const hostless = await exitOf({ ...base, MCP_AUTH_TOKEN_FILE: `${pki.dir}/tokens` });
    assert.equal(hostless.code, 1);
    assert.match(hostless.stderr, /MCP_ALLOWED_HOSTS: is required when listening on 0\.0\.0\.0/);
  });

  it('a port already in use is one clear line and exit 1, not a crash', async () => {
    const taken = await exitOf({
      MQTT_URL: broker.url,
      MCP_TRANSPORT: 'http',
      MCP_AUTH: 'none',
      MCP_HTTP_PORT: String(server.port),
    });
    assert.equal(taken.code, 1);
    const lines = taken.stderr
      .trim()
      .split('\n')
      .filter((l) => l.includes('"level":60'));
    assert.equal(lines.length, 1, taken.stderr);
    assert.match(
      lines[0] ?? '',
      /cannot listen on 127\.0\.0\.1:\d+: address already in use \(MCP_HTTP_HOST, MCP_HTTP_PORT\)/,
    );
    assert.doesNotMatch(taken.stderr, /"stack"/);
  });

  it('SIGTERM closes the sessions and MQTT and exits 0', async () => {
    const proc = await startHttpProcess(bridgeEnv(broker, pki, {}));
    const { client, transport } = sdkClient(proc.port, proc.token);
    await client.connect(transport);
    await client.listTools();
    const started = Date.now();
    assert.equal(await proc.stop('SIGTERM'), 0);
    assert.ok(Date.now() - started < 5000);
    assert.match(proc.stderr(), /"reason":"SIGTERM","msg":"shutting down"/);
    assert.match(proc.stderr(), /"clean":true,"msg":"disconnected from broker"/);
  });

  it('with MQTT_REPLICA_ID the session ids start with the replica id, so a proxy can route them back; without it they are bare UUIDs', async () => {
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    assert.match(await initialize(ALICE), new RegExp(`^${uuid}$`));
    const proc = await startHttpProcess(
      bridgeEnv(broker, pki, { MQTT_PROTOCOL_VERSION: '5', MQTT_REPLICA_ID: 'bridge-b' }),
    );
    try {
      const { client, transport } = sdkClient(proc.port, proc.token);
      await client.connect(transport);
      assert.match(transport.sessionId ?? '', new RegExp(`^bridge-b:${uuid}$`));
      // The session works under that id (the SDK client sends it back on every request).
      assert.ok((await client.listTools()).tools.length > 0);
      await transport.terminateSession();
      await client.close();
      assert.match(
        proc.stderr(),
        /"session":"bridge-b:[0-9a-f]{8}","principal":"[^"]+","msg":"session opened"/,
      );
    } finally {
      await proc.stop();
    }
  });
});
