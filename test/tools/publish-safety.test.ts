/**
 * Publish safety and call limits over both transports: retain and QoS 2 only when allowed,
 * confirmation through elicitation for risky topics, rate limits (T-1.16), the concurrency
 * cap, the deadline on every call, and the audit log of every publish attempt.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, textOf } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge, type TransportKind } from '../helpers/spawned.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

for (const kind of ['stdio', 'http'] as const satisfies readonly TransportKind[]) {
  describe(`publish safety over ${kind}`, () => suite(kind));
}

function suite(kind: TransportKind): void {
  let pki: Pki;
  let broker: Broker;
  let spy: Spy;
  let auditFile: string;
  const bridges: SpawnedBridge[] = [];
  const start = async (extra: Record<string, string>, options: Parameters<typeof spawnBridge>[2] = {}) => {
    const bridge = await spawnBridge(
      kind,
      bridgeEnv(broker, pki, { MCP_WRITE_TOPICS: 'plant/#', MCP_AUDIT_LOG_FILE: auditFile, ...extra }),
      options,
    );
    bridges.push(bridge);
    await bridge.connected();
    return bridge;
  };

  before(async () => {
    pki = createPki();
    broker = await startBroker({ pki });
    spy = await connectSpy(broker, pki, ['plant/#']);
    auditFile = join(mkdtempSync(join(tmpdir(), 'mqtt-mcp-audit-')), 'audit.log');
  });
  after(async () => {
    for (const b of bridges) await b.close();
    await spy.close();
    await broker.stop();
  });

  it('refuses retain and QoS 2 unless the operator allows them', async () => {
    const bridge = await start({});
    assert.match(
      await bridge.fails('mqtt_publish', { topic: 'plant/a/cmd', payload: 'x', retain: true }),
      /^POLICY_DENIED: retained publishes are not allowed here \(MCP_PUBLISH_ALLOW_RETAIN\)/,
    );
    assert.match(
      await bridge.fails('mqtt_publish', { topic: 'plant/a/cmd', payload: 'x', qos: 2 }),
      /^POLICY_DENIED: QoS 2 is not allowed here \(MCP_PUBLISH_ALLOW_QOS2\)/,
    );
    await sleep(200);
    assert.equal(spy.received.filter((m) => m.topic === 'plant/a/cmd').length, 0);
  });

  it('T-1.16: 200 publish calls in a burst: only the allowed number reaches the broker', async () => {
    const bridge = await start({ MCP_PUBLISH_RATE_PER_MINUTE: '60' });
    const before = spy.received.filter((m) => m.topic === 'plant/burst/cmd').length;
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        bridge.call('mqtt_publish', { topic: 'plant/burst/cmd', payload: `n${i}` }),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const ok = results.filter((r) => r.isError !== true).length;
    const limited = results.filter((r) =>
      /^RATE_LIMITED: too many publishes: the limit is 60 per minute for all publishing tools together \(retry after \d+ s\)/.test(
        textOf(r),
      ),
    );
    // Burst of 5, then one per second.
    assert.ok(ok >= 5 && ok <= 5 + Math.ceil(seconds) + 1, `${ok} publishes passed in ${seconds} s`);
    assert.equal(ok + limited.length, 200);
    await sleep(500);
    assert.equal(spy.received.filter((m) => m.topic === 'plant/burst/cmd').length - before, ok);
  });

  it('caps the calls one client runs at once', async () => {
    const bridge = await start({ MCP_MAX_CONCURRENT_CALLS: '2' });
    const waits = [0, 1].map(() =>
      bridge.call('mqtt_wait_for_messages', { filter: 'plant/quiet/#', timeoutMs: 1500 }),
    );
    await sleep(200);
    assert.match(
      await bridge.fails('mqtt_status'),
      /^BUSY: 2 calls of this client are still running \(the limit is 2\); wait for one to finish \(retry after 1 s\)/,
    );
    await Promise.all(waits);
    await bridge.ok('mqtt_status');
  });

  it('ends every call at the deadline', async () => {
    const bridge = await start({ MCP_TOOL_TIMEOUT_MS: '1000' });
    const started = Date.now();
    const text = await bridge.fails('mqtt_wait_for_messages', { filter: 'plant/quiet/#', timeoutMs: 5000 });
    assert.match(text, /^TIMEOUT: the call took longer than 1000 ms \(MCP_TOOL_TIMEOUT_MS\)/);
    assert.ok(Date.now() - started < 2500);
  });

  it('asks the user before publishing to a confirmed topic; declined or unaskable means nothing is sent', async () => {
    const asked: string[] = [];
    const accepting = await start(
      { MCP_CONFIRM_TOPICS: 'plant/+/valve' },
      {
        elicit: (message) => {
          asked.push(message);
          return { action: 'accept', content: { confirm: true } };
        },
      },
    );
    const ok = await accepting.ok('mqtt_publish', { topic: 'plant/l1/valve', payload: 'OPEN' });
    assert.equal(ok.delivery, 'acknowledged');
    assert.match(
      asked[0] ?? '',
      /publish to the topic plant\/l1\/valve \(QoS 1\)\.\nPayload: 4 bytes, SHA-256 [0-9a-f]{64}, shown as text[^\n]*:\nOPEN\nSend it\?/,
    );
    // The review's padded payload: the user sees the second action, and the exact size.
    const padded = `{"action":"status"${' '.repeat(190)},"action":"unlock"}`;
    await accepting.ok('mqtt_publish', { topic: 'plant/l1/valve', payload: padded });
    assert.match(asked[1] ?? '', /"status"\[190 spaces\],"action":"unlock"\}\nSend it\?/);
    assert.match(asked[1] ?? '', new RegExp(`Payload: ${Buffer.byteLength(padded)} bytes`));
    // Too long to show faithfully: the user is not asked, nothing is sent.
    assert.match(
      await accepting.fails('mqtt_publish', { topic: 'plant/l1/valve', payload: 'x'.repeat(8000) }),
      /^CONFIRMATION_REQUIRED: the payload \(8000 bytes\) is too long to show the user faithfully/,
    );
    assert.equal(asked.length, 2);
    await waitFor(
      () => spy.received.find((m) => m.topic === 'plant/l1/valve' && m.payload === 'OPEN'),
      3000,
      'confirmed',
    );

    const declining = await start(
      { MCP_CONFIRM_TOPICS: 'plant/+/valve' },
      { elicit: () => ({ action: 'decline' }) },
    );
    assert.match(
      await declining.fails('mqtt_publish', { topic: 'plant/l2/valve', payload: 'OPEN' }),
      /^CONFIRMATION_REQUIRED: the user did not confirm the publish; nothing was sent/,
    );
    const unaskable = await start({ MCP_CONFIRM_TOPICS: 'plant/+/valve' });
    assert.match(
      await unaskable.fails('mqtt_publish', { topic: 'plant/l3/valve', payload: 'OPEN' }),
      /^CONFIRMATION_REQUIRED: publishing to that topic needs the user's confirmation, and this client cannot ask for it/,
    );
    // Other topics need no confirmation.
    assert.equal(
      (await unaskable.ok('mqtt_publish', { topic: 'plant/l3/cmd', payload: 'x' })).delivery,
      'acknowledged',
    );
    await sleep(300);
    assert.equal(
      spy.received.filter((m) => m.topic === 'plant/l2/valve' || m.topic === 'plant/l3/valve').length,
      0,
    );
  });

  it('writes an audit line for every publish attempt, with a hash and never the payload', async () => {
    const bridge = await start({});
    await bridge.ok('mqtt_publish', { topic: 'plant/audit/cmd', payload: 'AUDIT_PAYLOAD_SECRET_1' });
    await bridge.fails('mqtt_publish', {
      topic: 'plant/audit/cmd',
      payload: 'AUDIT_PAYLOAD_SECRET_2',
      retain: true,
    });
    const text = readFileSync(auditFile, 'utf8');
    assert.ok(!text.includes('AUDIT_PAYLOAD_SECRET'), 'a payload reached the audit log');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.topic === 'plant/audit/cmd');
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.equal(line.log, 'audit');
      assert.equal(line.event, 'publish');
      assert.equal(line.principal, kind === 'stdio' ? 'stdio' : 'token-1');
      assert.equal(line.bytes, 22);
      assert.match(String(line.payloadHash), /^sha256:[0-9a-f]{64}$/);
    }
    assert.deepEqual(
      lines.map((l) => l.result),
      ['published', 'POLICY_DENIED'],
    );
    // The operator log (stderr) is not where audit lines go when a file is configured.
    assert.ok(!bridge.stderr().includes('"log":"audit"'));
  });
}
