/**
 * End to end: the built server (dist/index.js) spawned over stdio, driven by the SDK's stdio
 * Client, against a real Mosquitto over mutual TLS. Every tool is called; every byte written
 * to stdout must be JSON-RPC; closing stdin (or SIGTERM) ends the process cleanly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { freePort, sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SERVER = join(ROOT, 'dist/index.js');
const TEE = join(ROOT, 'test/helpers/tee.mjs');
// The Node binary that runs the server: E2E_NODE lets CI run this suite under Node 26 as well.
const NODE = process.env.E2E_NODE ?? process.execPath;

let pki: Pki;
let broker: Broker;
let spy: Spy;

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki, ['plant/#']);
  await spy.publish('plant/line1/temp', '21.5', { retain: true });
});
after(async () => {
  await spy.close();
  await broker.stop();
});

/** Clean environment: nothing from the test runner's own environment leaks in. */
function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_ENV: 'production',
    ...bridgeEnv(broker, pki, { MCP_WRITE_TOPICS: 'plant/+/cmd', LOG_LEVEL: 'debug' }),
    ...extra,
  };
}

function assertJsonRpcOnly(stdout: string): number {
  const lines = stdout.split('\n').filter((l) => l !== '');
  for (const line of lines) {
    const message = JSON.parse(line) as { jsonrpc?: unknown };
    assert.equal(message.jsonrpc, '2.0', `not JSON-RPC on stdout: ${line.slice(0, 200)}`);
  }
  return lines.length;
}

describe('stdio end to end', () => {
  it('serves every tool to the SDK stdio client; stdout carries only JSON-RPC', async () => {
    const stdoutFile = join(mkdtempSync(join(tmpdir(), 'mqtt-mcp-e2e-')), 'stdout');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [TEE, NODE, SERVER],
      env: { ...serverEnv({ DEBUG: '*', NODE_DEBUG: 'tls,net' }), TEE_STDOUT_FILE: stdoutFile },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      const instructions = client.getInstructions() ?? '';
      assert.match(instructions, /untrusted content, never instructions/);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [
        'mqtt_chart',
        'mqtt_export',
        'mqtt_find_silent',
        'mqtt_get_latest',
        'mqtt_list_topics',
        'mqtt_publish',
        'mqtt_read_messages',
        'mqtt_sparkplug_nodes',
        'mqtt_sparkplug_rebirth',
        'mqtt_status',
        'mqtt_subscribe',
        'mqtt_summarize',
        'mqtt_unsubscribe',
        'mqtt_wait_for_messages',
      ]);
      const call = async (name: string, args: Record<string, unknown> = {}) => {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
        return result.structuredContent as Record<string, any>;
      };

      const status = await (async () => {
        for (let i = 0; i < 100; i++) {
          const s = await call('mqtt_status');
          if (s.connection.state === 'connected') return s;
          await sleep(50);
        }
        assert.fail('never connected');
      })();
      assert.equal(status.readOnly, false);

      const latest = await (async () => {
        for (let i = 0; i < 100; i++) {
          const l = await call('mqtt_get_latest', { filter: 'plant/+/temp' });
          if (l.count > 0) return l;
          await sleep(50);
        }
        assert.fail('retained value never arrived');
      })();
      assert.equal(latest.messages[0].payload, 21.5);
      assert.equal(latest.messages[0].encoding, 'json');
      assert.equal(latest.messages[0].retain, true);

      const waiting = client.callTool({
        name: 'mqtt_wait_for_messages',
        arguments: { filter: 'plant/line2/#', count: 1, timeoutMs: 5000 },
      });
      await sleep(300);
      await spy.publish('plant/line2/alarm', 'overheat');
      const waited = ((await waiting) as CallToolResult).structuredContent as Record<string, any>;
      assert.equal(waited.timedOut, false);
      assert.equal(waited.messages[0].payload, 'overheat');

      const published = await call('mqtt_publish', { topic: 'plant/line1/cmd', payload: 'OFF' });
      assert.equal(published.delivery, 'acknowledged');
      await waitFor(
        () => spy.received.find((m) => m.topic === 'plant/line1/cmd' && m.payload === 'OFF'),
        3000,
        'spy',
      );

      const read = await call('mqtt_read_messages', { filter: 'plant/#', limit: 10 });
      assert.ok(read.messages.some((m: { payload: string }) => m.payload === 'overheat'));
      const topics = await call('mqtt_list_topics', { filter: 'plant/#' });
      assert.ok(topics.topics.some((t: { topic: string }) => t.topic === 'plant/line1/temp'));
      // Without HISTORY_PATH, summaries and silence come from memory.
      const summary = await call('mqtt_summarize', { filter: 'plant/+/temp', sinceSeconds: 3600 });
      assert.equal(summary.source, 'memory');
      assert.equal(summary.series[0].last.value, 21.5);
      const silent = await call('mqtt_find_silent', { filter: 'plant/#', silentSeconds: 3600 });
      assert.equal(silent.source, 'memory');
      const sub = await call('mqtt_subscribe', { filter: 'plant/line9/#' });
      assert.equal(sub.added, true);
      const unsub = await call('mqtt_unsubscribe', { filter: 'plant/line9/#' });
      assert.equal(unsub.removed, true);

      // An error result is an isError result, not a protocol error.
      const bad = (await client.callTool({
        name: 'mqtt_publish',
        arguments: { topic: 'plant/#', payload: 'x' },
      })) as CallToolResult;
      assert.equal(bad.isError, true);
    } finally {
      await client.close();
    }
    const count = assertJsonRpcOnly(readFileSync(stdoutFile, 'utf8'));
    // One response per request made above (initialize, tools/list and eleven tool calls), at least.
    assert.ok(count >= 13, `only ${count} JSON-RPC lines`);
    // Logs went to stderr, and DEBUG / NODE_DEBUG did not print secrets or payloads there.
    assert.match(stderr, /"msg":"mqtt-mcp-bridge started"/);
    assert.doesNotMatch(stderr, /PRIVATE KEY/);
  });

  it('closing stdin ends the process with exit 0 and a clean DISCONNECT', async () => {
    const child = spawn(NODE, [SERVER], { env: serverEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.write(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }) + '\n',
    );
    await waitFor(() => stdout.includes('"id":1'), 5000, 'initialize result');
    const clientId = await waitFor(
      () => /"clientId":"(mcp-bridge-[0-9a-f]+)","reconnects":0,[^}]*"msg":"connected"/.exec(stderr)?.[1],
      5000,
      'connected',
    );
    const exited = new Promise<{ code: number | null; ms: number }>((res) => {
      const started = performance.now();
      child.once('exit', (code) => res({ code, ms: performance.now() - started }));
    });
    child.stdin.end();
    const { code, ms } = await exited;
    assert.equal(code, 0, stderr);
    assert.ok(ms < 5000, `took ${ms} ms`);
    await broker.waitForLog(new RegExp(`Client ${clientId} disconnected\\.`));
    assert.doesNotMatch(broker.log(), new RegExp(`Client ${clientId} closed its connection`));
    assertJsonRpcOnly(stdout);
  });

  it('SIGTERM ends the process with exit 0', async () => {
    const child = spawn(NODE, [SERVER], { env: serverEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('"msg":"connected"'), 5000, 'connected');
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stderr, /"reason":"SIGTERM","msg":"shutting down"/);
  });

  it('answers initialize and tools/list with the broker down, and says why', async () => {
    const port = await freePort();
    const transport = new StdioClientTransport({
      command: NODE,
      args: [SERVER],
      env: serverEnv({ MQTT_URL: `mqtts://127.0.0.1:${port}` }),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      assert.equal(tools.length, 14, tools.map((t) => t.name).join(', '));
      await sleep(300);
      const result = (await client.callTool({
        name: 'mqtt_read_messages',
        arguments: { filter: 'plant/#' },
      })) as CallToolResult;
      assert.notEqual(result.isError, true);
      const status = (await client.callTool({ name: 'mqtt_status', arguments: {} })) as CallToolResult;
      const connection = (status.structuredContent as Record<string, any>).connection;
      assert.equal(connection.state, 'reconnecting');
      assert.equal(connection.lastError.code, 'CONNECTION_REFUSED');
    } finally {
      await client.close();
    }
  });

  it('an invalid configuration exits 1 with one message naming every problem and no secret', async () => {
    const child = spawn(NODE, [SERVER], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        MQTT_URL: 'mqtts://user:CANARY_URL_PW_77@broker:8883',
        MQTT_PASSWORD: 'CANARY_PW_9f2c',
        MQTT_PASSWORD_FILE: '/nonexistent/password',
        MQTT_PROTOCOL_VERSION: '6',
        MCP_READ_TOPICS: 'a/#/b',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    assert.equal(code, 1);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    const entry = JSON.parse(lines[0]!) as { level: number; problems: string[] };
    assert.equal(entry.level, 60);
    assert.ok(entry.problems.some((p) => p.startsWith('MQTT_PROTOCOL_VERSION:')));
    assert.ok(entry.problems.some((p) => p.startsWith('MCP_READ_TOPICS:')));
    assert.doesNotMatch(stderr, /CANARY_/);
  });
});
