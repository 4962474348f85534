/**
 * The history tools over a real McpServer and SDK Client, a real Mosquitto over mutual TLS and a
 * real SQLite file: what is recorded answers after a restart, time windows reach into history,
 * summaries are exact, silence is found, the policy rules the past, and status tells what is on disk.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sleep, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, type TestBridge } from '../helpers/bridge.js';
import { type Pki } from '../helpers/pki.js';
import { historyFixture } from '../helpers/history.js';
import type { Spy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
let spy: Spy;
let dir: string;
historyFixture('mqtt-history-tools-', (f) => ({ pki, broker, spy, dir } = f));

const env = (extra: Record<string, string> = {}) =>
  bridgeEnv(broker, pki, { HISTORY_PATH: join(dir, 'history.db'), HISTORY_FLUSH_MS: '100', ...extra });

async function written(bridge: TestBridge, records: number): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const s = await bridge.ok('mqtt_status');
    if (s.history.written >= records) return;
    if (Date.now() > until) throw new Error(`${records} records not written: ${JSON.stringify(s.history)}`);
    await sleep(50);
  }
}

describe('history over the tools', () => {
  it('records, answers after a restart with original times and flags, and summarizes exactly', async () => {
    // Retained before the bridge subscribes: it arrives as a retained replay (retain true).
    await spy.publish('plant/line1/status', 'running', { retain: true, qos: 1 });
    let bridge = await startBridge(env());
    const values = [20, 21.5, 23, 19, 22];
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      for (const v of values) await spy.publish('plant/line1/temp', JSON.stringify({ temp: v }), { qos: 1 });
      await written(bridge, values.length + 1);
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.history.state, 'recording');
      assert.ok(status.history.records >= values.length + 1, JSON.stringify(status.history));
      assert.equal(statSync(join(dir, 'history.db')).mode & 0o777, 0o600);
    } finally {
      await bridge.close();
    }
    const before = Date.now();
    bridge = await startBridge(env(), { start: false });
    try {
      // Not connected and nothing in memory: history answers for what was recorded.
      const read = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/line1/temp',
        limit: 10,
        sinceSeconds: 3600,
      });
      assert.equal(read.source, 'history');
      assert.deepEqual(
        read.messages.map((m: { payload: { temp: number } }) => m.payload.temp),
        [...values].reverse(),
      );
      for (const m of read.messages) assert.ok(Date.parse(m.receivedAt) < before, 'original receive time');
      assert.equal(read.connection.state, 'connecting');
      const latest = await bridge.ok('mqtt_get_latest', { filter: 'plant/line1/#' });
      const status = latest.messages.find((m: { topic: string }) => m.topic === 'plant/line1/status');
      assert.equal(status.retain, true, 'the retained flag as recorded');
      assert.equal(status.payload, 'running');
      const topics = await bridge.ok('mqtt_list_topics', { filter: 'plant/line1/#' });
      const temp = topics.topics.find((t: { topic: string }) => t.topic === 'plant/line1/temp');
      assert.equal(temp.recorded, values.length);
      assert.equal(temp.stored, 0);
      const summary = await bridge.ok('mqtt_summarize', {
        filter: 'plant/line1/temp',
        sinceSeconds: 3600,
        buckets: 4,
      });
      assert.equal(summary.source, 'history');
      assert.equal(summary.series.length, 1);
      const [s] = summary.series;
      assert.equal(s.field, 'temp');
      assert.equal(s.count, values.length);
      assert.equal(s.min, Math.min(...values));
      assert.equal(s.max, Math.max(...values));
      assert.equal(s.mean, values.reduce((a, b) => a + b, 0) / values.length);
      assert.equal(s.first.value, values[0]);
      assert.equal(s.last.value, values.at(-1));
      assert.equal(s.buckets.length, 4);
      assert.equal(
        s.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0),
        values.length,
      );
    } finally {
      await bridge.close();
    }
  });

  it('a time window: from/to read history; both forms at once, or from after to, are refused', async () => {
    const bridge = await startBridge(env(), { start: false });
    try {
      const all = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/line1/temp',
        limit: 10,
        sinceSeconds: 3600,
      });
      const times = all.messages.map((m: { receivedAt: string }) => Date.parse(m.receivedAt));
      const mid = times[2] as number;
      const window = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/line1/temp',
        from: new Date(mid).toISOString(),
        to: new Date(times[0] as number).toISOString(),
      });
      assert.equal(window.source, 'history');
      for (const m of window.messages) {
        const t = Date.parse(m.receivedAt);
        assert.ok(t >= mid && t < (times[0] as number));
      }
      assert.match(
        await bridge.fails('mqtt_read_messages', {
          filter: 'plant/#',
          sinceSeconds: 60,
          from: '2026-01-01T00:00:00Z',
        }),
        /not both/,
      );
      assert.match(
        await bridge.fails('mqtt_read_messages', {
          filter: 'plant/#',
          from: '2026-01-02T00:00:00Z',
          to: '2026-01-01T00:00:00Z',
        }),
        /earlier/,
      );
      const bad = await bridge.fails('mqtt_read_messages', { filter: 'plant/#', from: 'yesterday-evil' });
      assert.match(bad, /ISO 8601/);
      assert.doesNotMatch(bad, /yesterday-evil/, 'input is not echoed');
    } finally {
      await bridge.close();
    }
  });

  it('the current policy rules the past: a topic denied after a restart is never returned', async () => {
    const bridge = await startBridge(env({ MCP_DENY_TOPICS: 'plant/line1/temp' }), { start: false });
    try {
      const read = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/line1/#',
        limit: 50,
        sinceSeconds: 3600,
      });
      assert.ok(read.messages.length > 0);
      for (const m of read.messages) assert.notEqual(m.topic, 'plant/line1/temp');
      const summary = await bridge.ok('mqtt_summarize', { filter: 'plant/line1/#', sinceSeconds: 3600 });
      assert.deepEqual(summary.series, []);
      const topics = await bridge.ok('mqtt_list_topics', { filter: 'plant/#' });
      assert.ok(!topics.topics.some((t: { topic: string }) => t.topic === 'plant/line1/temp'));
    } finally {
      await bridge.close();
    }
  });

  it('finds a topic silent beyond a fixed threshold, and the bridge offline before it connected', async () => {
    const bridge = await startBridge(env());
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      const found = await bridge.ok('mqtt_find_silent', { filter: 'plant/#', silentSeconds: 0.5 });
      assert.equal(found.source, 'history');
      assert.ok(found.silent.some((s: { topic: string }) => s.topic === 'plant/line1/temp'));
      // This run was offline from its start until it connected; the last run's stop is on disk.
      assert.ok(found.bridgeOffline.length >= 1);
      const last = found.bridgeOffline.at(-1);
      assert.ok(last.to !== undefined, 'connected now');
    } finally {
      await bridge.close();
    }
  });

  it('without HISTORY_PATH the tools answer from memory and say so', async () => {
    const bridge = await startBridge(bridgeEnv(broker, pki));
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      for (const v of [1, 2, 3]) await spy.publish('plant/mem/x', String(v), { qos: 1 });
      // All three of this topic (the received count also holds retained replays of other topics).
      await waitFor(
        () => bridge.app.deps.store.query('plant/mem/x', { limit: 10, now: Date.now() }).length >= 3,
        5000,
        'the three messages in memory',
      );
      const summary = await bridge.ok('mqtt_summarize', { filter: 'plant/mem/x', sinceSeconds: 60 });
      assert.equal(summary.source, 'memory');
      assert.equal(summary.series[0].count, 3);
      assert.equal(summary.series[0].mean, 2);
      assert.equal(summary.series[0].field, '');
      const status = await bridge.ok('mqtt_status');
      assert.deepEqual(status.history, { state: 'off' });
      const read = await bridge.ok('mqtt_read_messages', { filter: 'plant/mem/x', sinceSeconds: 60 });
      assert.equal(read.source, 'memory');
    } finally {
      await bridge.close();
    }
  });
});
