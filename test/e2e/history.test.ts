/**
 * End to end with history: the built server (dist/index.js) over stdio with HISTORY_PATH, driven
 * by the SDK's stdio client against a real Mosquitto over mutual TLS. A first run records; a
 * second run, started after the first exited, answers from the file (source history) with the
 * original receive times. Every byte either run wrote to stdout must be JSON-RPC.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { sleep, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { type Pki } from '../helpers/pki.js';
import { historyFixture } from '../helpers/history.js';
import type { Spy } from '../helpers/spy.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SERVER = join(ROOT, 'dist/index.js');
const TEE = join(ROOT, 'test/helpers/tee.mjs');
const NODE = process.env.E2E_NODE ?? process.execPath;

let pki: Pki;
let broker: Broker;
let spy: Spy;
let dir: string;
historyFixture('mqtt-mcp-e2e-history-', (f) => ({ pki, broker, spy, dir } = f));

interface Run {
  call(name: string, args?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Close stdin, wait for the exit; returns how many JSON-RPC lines went to stdout. */
  close(): Promise<number>;
}

async function startRun(name: string, historyPath: string): Promise<Run> {
  const stdoutFile = join(dir, `${name}.stdout`);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [TEE, NODE, SERVER],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      ...bridgeEnv(broker, pki, { HISTORY_PATH: historyPath, HISTORY_FLUSH_MS: '100' }),
      TEE_STDOUT_FILE: stdoutFile,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: `e2e-${name}`, version: '1.0.0' });
  await client.connect(transport);
  await client.listTools();
  return {
    call: async (tool, args = {}) => {
      const result = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
      assert.notEqual(
        result.isError,
        true,
        `${tool}: ${JSON.stringify(result.content)}\n${stderr.slice(-2000)}`,
      );
      return result.structuredContent as Record<string, any>;
    },
    close: async () => {
      await client.close();
      assert.match(stderr, /"msg":"history: recording"/);
      const lines = readFileSync(stdoutFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      for (const line of lines) {
        assert.equal((JSON.parse(line) as { jsonrpc?: unknown }).jsonrpc, '2.0', line.slice(0, 200));
      }
      return lines.length;
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('stdio end to end with history', () => {
  it('a run with HISTORY_PATH records; a second run answers from the file', async () => {
    const path = join(dir, 'data', 'history.db');
    const first = await startRun('first', path);
    let recorded: Array<Record<string, unknown>>;
    try {
      await until('connected', async () => {
        const s = await first.call('mqtt_status');
        return s.connection.state === 'connected' ? s : undefined;
      });
      for (const v of [1, 2, 3]) await spy.publish('plant/e2e/level', String(v));
      const h = await until('three records written', async () => {
        const s = await first.call('mqtt_status');
        return s.history.written >= 3 ? s.history : undefined;
      });
      assert.equal(h.state, 'recording');
      assert.equal(h.path, path);
      recorded = (await first.call('mqtt_read_messages', { filter: 'plant/e2e/level', limit: 10 })).messages;
      assert.deepEqual(
        recorded.map((m) => m.payload),
        [3, 2, 1],
      );
    } finally {
      assert.ok((await first.close()) >= 3);
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o700, 'the folder the bridge created');

    const second = await startRun('second', path);
    try {
      const read = await second.call('mqtt_read_messages', {
        filter: 'plant/e2e/level',
        limit: 10,
        sinceSeconds: 3600,
      });
      assert.equal(read.source, 'history');
      // The same messages, with their original receive times (only their age has grown).
      const same = (m: Record<string, unknown>) => ({ ...m, ageSeconds: undefined });
      assert.deepEqual(read.messages.map(same), recorded.map(same));
      const summary = await second.call('mqtt_summarize', { filter: 'plant/e2e/level', sinceSeconds: 3600 });
      assert.equal(summary.source, 'history');
      assert.equal(summary.series[0].count, 3);
      assert.equal(summary.series[0].mean, 2);
      const status = await second.call('mqtt_status');
      assert.ok(status.history.records >= 3, JSON.stringify(status.history));
    } finally {
      assert.ok((await second.close()) >= 3);
    }
  });
});
