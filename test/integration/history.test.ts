/**
 * History through the built server (dist/index.js, spawned over stdio) against a real Mosquitto
 * over mutual TLS and a real SQLite file: the same answers after a restart, a kill -9 in the
 * middle of a flood (integrity ok, nothing lost that was reported written), the current policy
 * hiding a denied topic's past, a broker outage recorded as a bridge-offline period, and a device
 * that stops publishing found silent while a steady one is not. Every process is stopped by PID.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, sleep, startBroker, type Broker } from '../helpers/broker.js';
import { historyEnv, inspectHistory, startFlood, written, historyFixture } from '../helpers/history.js';
import { type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';
import { type Spy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
let spy: Spy;
let dir: string;
historyFixture('mqtt-history-integ-', (f) => ({ pki, broker, spy, dir } = f));

/** A bridge whose broker address answers nothing: whatever it returns comes from history. */
async function offlineBridge(path: string, extra: Record<string, string> = {}): Promise<SpawnedBridge> {
  const port = await freePort();
  return spawnBridge(
    'stdio',
    historyEnv(broker, pki, path, { MQTT_URL: `mqtts://127.0.0.1:${port}`, ...extra }),
  );
}

interface Message {
  topic: string;
  payload: unknown;
  receivedAt: string;
  retain?: boolean;
}
const view = (messages: Message[]) =>
  messages.map((m) => ({
    topic: m.topic,
    payload: m.payload,
    receivedAt: m.receivedAt,
    retain: m.retain === true,
  }));

describe('history through the spawned bridge', () => {
  it('records, and after a restart read_messages, get_latest and list_topics give the same answers', async () => {
    const path = join(dir, 'restart.db');
    await spy.publish('plant/r/status', 'running', { retain: true });
    const values = [20, 21.5, 23, 19, 22];
    const read = { filter: 'plant/r/#', limit: 50, sinceSeconds: 3600 };
    let bridge = await spawnBridge('stdio', historyEnv(broker, pki, path));
    let before: { read: Message[]; latest: Message[]; topics: Array<Record<string, unknown>> };
    try {
      await bridge.connected();
      for (const v of values) await spy.publish('plant/r/temp', JSON.stringify({ temp: v }));
      await written(bridge, values.length + 1);
      const r = await bridge.ok('mqtt_read_messages', read);
      assert.equal(r.messages.length, values.length + 1, JSON.stringify(r));
      before = {
        read: r.messages,
        latest: (await bridge.ok('mqtt_get_latest', { filter: 'plant/r/#' })).messages,
        topics: (await bridge.ok('mqtt_list_topics', { filter: 'plant/r/#' })).topics,
      };
    } finally {
      await bridge.close();
    }
    // The retained status is gone from the broker, so a reconnecting bridge could not get it back.
    await spy.publish('plant/r/status', '', { retain: true });
    bridge = await offlineBridge(path);
    try {
      const r = await bridge.ok('mqtt_read_messages', read);
      assert.equal(r.source, 'history');
      assert.deepEqual(view(r.messages), view(before.read));
      assert.ok(
        r.messages.some((m: Message) => m.topic === 'plant/r/status' && m.retain === true),
        'the retained flag as recorded',
      );
      const latest = await bridge.ok('mqtt_get_latest', { filter: 'plant/r/#' });
      assert.deepEqual(view(latest.messages), view(before.latest));
      const topics = await bridge.ok('mqtt_list_topics', { filter: 'plant/r/#' });
      const pick = (t: Record<string, unknown>) => [t.topic, t.lastReceivedAt, t.lastRetain, t.lastSizeBytes];
      assert.deepEqual(topics.topics.map(pick), before.topics.map(pick));
      const temp = topics.topics.find((t: { topic: string }) => t.topic === 'plant/r/temp');
      assert.equal(temp.recorded, values.length);
    } finally {
      await bridge.close();
    }
  });

  it('SIGUSR2 writes an online backup next to the file (mode 0600) while recording goes on', async () => {
    const path = join(dir, 'backup.db');
    const bridge = await spawnBridge('stdio', historyEnv(broker, pki, path));
    try {
      await bridge.connected();
      for (const v of [1, 2, 3, 4]) await spy.publish('plant/b/level', String(v));
      await written(bridge, 4);
      bridge.signal('SIGUSR2');
      const copy = `${path}.backup`;
      const until = Date.now() + 10_000;
      while (!existsSync(copy) && Date.now() < until) await sleep(50);
      assert.ok(existsSync(copy), 'the backup file appeared');
      assert.equal(statSync(copy).mode & 0o777, 0o600);
      const inspected = inspectHistory(copy);
      assert.equal(inspected.integrity, 'ok');
      assert.ok(inspected.messages >= 4, `${inspected.messages} messages in the copy`);
      // Recording goes on after the backup.
      await spy.publish('plant/b/level', '5');
      await written(bridge, 5);
    } finally {
      await bridge.close();
    }
  });

  it('kill -9 in the middle of a flood: integrity ok, and every record reported written before the kill is there', async (t) => {
    const path = join(dir, 'flood.db');
    let bridge = await spawnBridge('stdio', historyEnv(broker, pki, path));
    const flood = await startFlood(broker, pki, {
      rate: 3000,
      seconds: 20,
      topics: 50,
      size: 64,
      prefix: 'plant/flood/',
    });
    let reported = 0;
    try {
      await bridge.connected();
      // Keep polling while records go in; the last answer before the kill is the bound.
      const until = Date.now() + 15_000;
      while (reported < 6000) {
        reported = (await bridge.ok('mqtt_status')).history.written as number;
        if (Date.now() > until) throw new Error(`only ${reported} written in 15 s`);
      }
      bridge.signal('SIGKILL');
    } finally {
      await flood.stop();
      await bridge.close();
    }
    bridge = await offlineBridge(path);
    let records: number;
    try {
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.history.state, 'recording', JSON.stringify(status.history));
      records = status.history.records;
      assert.ok(records >= reported, `${records} on disk, ${reported} reported written before the kill`);
      const read = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/flood/#',
        limit: 5,
        sinceSeconds: 3600,
      });
      assert.equal(read.source, 'history');
      assert.equal(read.messages.length, 5);
    } finally {
      await bridge.close();
    }
    const inspected = inspectHistory(path);
    assert.equal(inspected.integrity, 'ok');
    assert.ok(inspected.messages >= reported, `${inspected.messages} rows, ${reported} reported written`);
    t.diagnostic(
      `kill -9: ${reported} reported written before the kill, ${inspected.messages} rows after the restart`,
    );
  });

  it('a topic denied after a restart: its past is hidden from every read tool', async () => {
    const path = join(dir, 'policy.db');
    let bridge = await spawnBridge('stdio', historyEnv(broker, pki, path));
    try {
      await bridge.connected();
      for (let i = 0; i < 3; i++) {
        await spy.publish('plant/p/open', String(i));
        await spy.publish('plant/p/secret', String(100 + i));
      }
      await written(bridge, 6);
      const read = await bridge.ok('mqtt_read_messages', { filter: 'plant/p/#', limit: 50 });
      assert.ok(
        read.messages.some((m: Message) => m.topic === 'plant/p/secret'),
        'recorded while allowed',
      );
    } finally {
      await bridge.close();
    }
    bridge = await offlineBridge(path, { MCP_DENY_TOPICS: 'plant/p/secret' });
    try {
      const topicsOf = (messages: Message[]) => new Set(messages.map((m) => m.topic));
      const read = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/p/#',
        limit: 50,
        sinceSeconds: 3600,
      });
      assert.equal(read.source, 'history');
      assert.deepEqual(topicsOf(read.messages), new Set(['plant/p/open']));
      const latest = await bridge.ok('mqtt_get_latest', { filter: 'plant/#' });
      assert.deepEqual(
        topicsOf(latest.messages.filter((m: Message) => m.topic.startsWith('plant/p/'))),
        new Set(['plant/p/open']),
      );
      const topics = await bridge.ok('mqtt_list_topics', { filter: 'plant/#' });
      assert.ok(topics.topics.some((t: { topic: string }) => t.topic === 'plant/p/open'));
      assert.ok(!topics.topics.some((t: { topic: string }) => t.topic === 'plant/p/secret'));
      const summary = await bridge.ok('mqtt_summarize', { filter: 'plant/p/#', sinceSeconds: 3600 });
      assert.deepEqual(
        summary.series.map((s: { topic: string }) => s.topic),
        ['plant/p/open'],
      );
      const silent = await bridge.ok('mqtt_find_silent', { filter: 'plant/p/#', silentSeconds: 0.1 });
      assert.deepEqual(
        silent.silent.map((s: { topic: string }) => s.topic),
        ['plant/p/open'],
      );
      // Asked for by name, it is refused outright.
      for (const tool of ['mqtt_read_messages', 'mqtt_get_latest', 'mqtt_summarize']) {
        const result = await bridge.call(tool, {
          filter: 'plant/p/secret',
          ...(tool === 'mqtt_get_latest' ? {} : { sinceSeconds: 3600 }),
        });
        if (result.isError !== true) {
          const s = result.structuredContent as Record<string, any>;
          assert.equal((s.messages ?? s.series).length, 0, `${tool} returned the denied topic`);
        }
      }
    } finally {
      await bridge.close();
    }
  });

  it('a broker outage (stopped, then started on the same port) is a bridge-offline period in mqtt_find_silent, also after a restart', async () => {
    const own = await startBroker({ pki });
    const path = join(dir, 'outage.db');
    let bridge: SpawnedBridge | undefined;
    try {
      bridge = await spawnBridge('stdio', historyEnv(own, pki, path));
      await bridge.connected();
      await sleep(300);
      const stoppedAt = Date.now();
      await own.stop();
      await sleep(1500);
      const restartedAt = Date.now();
      await own.restart();
      await bridge.connected(10_000);
      const reconnectedAt = Date.now();
      const inPeriod = (p: { from: string; to?: string }) =>
        p.to !== undefined &&
        Date.parse(p.from) >= stoppedAt - 1000 &&
        Date.parse(p.from) <= restartedAt &&
        Date.parse(p.to) >= restartedAt &&
        Date.parse(p.to) <= reconnectedAt + 1000;
      const live = await bridge.ok('mqtt_find_silent', { filter: 'plant/#' });
      assert.ok(live.bridgeOffline.some(inPeriod), JSON.stringify(live.bridgeOffline));
      // The connect after the outage is on disk once a flush has run.
      await sleep(500);
      await bridge.close();
      bridge = await spawnBridge('stdio', historyEnv(own, pki, path));
      await bridge.connected();
      const found = await bridge.ok('mqtt_find_silent', { filter: 'plant/#' });
      assert.equal(found.source, 'history');
      assert.ok(found.bridgeOffline.some(inPeriod), `from disk: ${JSON.stringify(found.bridgeOffline)}`);
      assert.ok(found.bridgeOffline.at(-1).to !== undefined, 'connected now');
    } finally {
      await bridge?.close();
      await own.stop();
    }
  });

  it('a device that stops publishing is found silent; a steady one is not', async () => {
    const path = join(dir, 'silent.db');
    const bridge = await spawnBridge('stdio', historyEnv(broker, pki, path));
    try {
      await bridge.connected();
      for (let i = 0; i < 5; i++) {
        await spy.publish('plant/s/quiet', String(i));
        await spy.publish('plant/s/steady', String(i));
        await sleep(100);
      }
      // steady goes on every 200 ms; quiet has stopped.
      let beats = 0;
      const steady = setInterval(() => void spy.publish('plant/s/steady', String(++beats)), 200);
      try {
        await sleep(2500);
        await written(bridge, 10);
        const found = await bridge.ok('mqtt_find_silent', { filter: 'plant/s/#', silentSeconds: 2 });
        assert.equal(found.source, 'history');
        assert.deepEqual(
          found.silent.map((s: { topic: string }) => s.topic),
          ['plant/s/quiet'],
        );
        const [quiet] = found.silent;
        assert.ok(quiet.silentSeconds > 2, JSON.stringify(quiet));
        assert.equal(quiet.thresholdSeconds, 2);
        assert.equal(quiet.records, 5);
        // With the default threshold (3x the usual gap, at least 60 s), 2.5 s of quiet is not silence.
        const byDefault = await bridge.ok('mqtt_find_silent', { filter: 'plant/s/#' });
        assert.deepEqual(byDefault.silent, []);
      } finally {
        clearInterval(steady);
      }
    } finally {
      await bridge.close();
    }
  });
});
