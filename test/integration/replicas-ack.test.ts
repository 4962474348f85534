/**
 * At-least-once recording and what Mosquitto does with a shared-subscription member that
 * disappears, against the real broker:
 * - a member killed (socket destroyed, no DISCONNECT) with unacknowledged QoS 1 messages: with a
 *   kept session those stay with its session (not handed to the other member), it goes on getting
 *   its turn of new messages (queued for it while away), and it gets both when it comes back, the
 *   unacknowledged ones with DUP; with session expiry 0 they are gone (helpers/share-members.ts);
 * - a bridge killed (-9) with messages received but not yet committed to history gets them again
 *   from the broker after its restart, because their PUBACK waited for the commit;
 * - a bridge gone after the commit but before the PUBACK: the copies the broker resends to the
 *   restarted process are found in history by packet id and not recorded twice;
 * - a broker with persistence keeps the session, and what queued for it, across its restart; a
 *   broker without it, or a session that expired while the bridge was away, loses them, and the
 *   bridge counts and says that.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import type { MqttClient } from 'mqtt';
import { sleep, startBroker, waitFor } from '../helpers/broker.js';
import { connectSpy } from '../helpers/spy.js';
import { historyEnv, historyFixture, written, type HistoryFixture } from '../helpers/history.js';
import { startBridge } from '../helpers/bridge.js';
import { spawnBridge } from '../helpers/spawned.js';
import { describeShareMembers } from '../helpers/share-members.js';

let f: HistoryFixture;
historyFixture('mqtt-mcp-replicas-', (made) => {
  f = made;
});

/** Rows of `topic` in the SQLite history at `path`, and how many distinct payloads they carry. */
function recordedRows(path: string, topic: string): { n: number; d: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db
      .prepare(
        'SELECT COUNT(*) AS n, COUNT(DISTINCT m.payload) AS d FROM messages m JOIN topics t ON t.id = m.topic_id WHERE t.topic = ?',
      )
      .get(topic) as { n: number; d: number };
    return { n: row.n, d: row.d };
  } finally {
    db.close();
  }
}

/** An in-process bridge recording as replica `name` (plant/<name>/#) into <name>.db. */
async function replica(name: string, extra: Record<string, string> = {}, broker = f.broker) {
  const path = join(f.dir, `${name}.db`);
  const bridge = await startBridge(
    historyEnv(broker, f.pki, path, { MQTT_REPLICA_ID: name, MQTT_SUBSCRIBE: `plant/${name}/#`, ...extra }),
  );
  return { bridge, path };
}

async function publish(topic: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await f.spy.publish(topic, String(i), { qos: 1 });
}

describeShareMembers('Mosquitto (installed)', () => {
  const spy = f.pki.issueClient('spy');
  return {
    port: f.broker.port,
    tls: { ca: readFileSync(f.pki.ca), cert: readFileSync(spy.cert), key: readFileSync(spy.key) },
    waitForLog: (pattern) => f.broker.waitForLog(pattern),
  };
});

describe('at-least-once recording', () => {
  let path: string;
  before(() => {
    path = join(f.dir, 'ack.db');
  });
  after(() => undefined);

  it('a bridge killed before its batch commits gets the messages again after a restart, and records each once', async () => {
    const env = historyEnv(f.broker, f.pki, path, {
      MQTT_REPLICA_ID: 'ack',
      MQTT_SUBSCRIBE: 'plant/ack/#',
      HISTORY_FLUSH_MS: '60000',
    });
    let bridge = await spawnBridge('stdio', env);
    try {
      await bridge.connected();
      await sleep(200);
      await publish('plant/ack/x', 0, 200);
      // Received (in memory), not yet committed: a flush every minute.
      await waitFor(
        async () => (await bridge.ok('mqtt_status')).store.received >= 200,
        5000,
        'received by the bridge',
      );
      bridge.signal('SIGKILL');
    } finally {
      await bridge.close();
    }
    bridge = await spawnBridge('stdio', { ...env, HISTORY_FLUSH_MS: '100' });
    try {
      await bridge.connected();
      await written(bridge, 200);
      // mqtt_status says what happened: 200 redeliveries recorded (none had been committed), all
      // acknowledged after their commit, none held.
      const acks = (await bridge.ok('mqtt_status')).history.acknowledgements;
      assert.equal(acks.redeliveredRecorded, 200, JSON.stringify(acks));
      assert.equal(acks.held, 0, JSON.stringify(acks));
      assert.ok(acks.sent >= 200, JSON.stringify(acks));
      assert.equal(acks.ackedUnwritten, 0, JSON.stringify(acks));
    } finally {
      await bridge.close();
    }
    assert.deepEqual(recordedRows(path, 'plant/ack/x'), { n: 200, d: 200 }, 'every message recorded, once');
  });

  it('a connection lost between the commit and the PUBACK: the DUP redeliveries are acknowledged, not recorded again', async () => {
    const bridge = await startBridge(
      historyEnv(f.broker, f.pki, join(f.dir, 'dup.db'), {
        MQTT_REPLICA_ID: 'dup',
        MQTT_SUBSCRIBE: 'plant/dup/#',
        HISTORY_FLUSH_MS: '800',
        // At least 2 s before the reconnect: the batch commits while the connection is gone.
        MQTT_RECONNECT_MIN_MS: '4000',
        MQTT_RECONNECT_MAX_MS: '8000',
      }),
    );
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      await sleep(200);
      await publish('plant/dup/x', 0, 50);
      await waitFor(() => bridge.app.deps.store.stats(Date.now()).received >= 50, 5000, 'received');
      (bridge.app.link as unknown as { client: MqttClient }).client.stream.destroy();
      const history = bridge.app.deps.history;
      assert.ok(history !== undefined);
      await waitFor(() => history.recorder.status().written >= 50, 5000, 'committed');
      await waitFor(() => bridge.app.link.connected, 15_000, 'reconnected');
      await waitFor(() => bridge.app.link.ackStats().duplicatesRemoved >= 50, 5000, 'redeliveries removed');
      await sleep(300);
      const stats = bridge.app.link.ackStats();
      assert.equal(stats.lostWithConnection, 50, JSON.stringify(stats));
      assert.equal(stats.duplicatesRemoved, 50, JSON.stringify(stats));
      assert.equal(stats.redeliveredRecorded, 0, JSON.stringify(stats));
      assert.equal(history.recorder.status().written, 50, 'not recorded twice');
      assert.equal(bridge.app.deps.store.stats(Date.now()).received, 50, 'not stored twice');
      const status = await bridge.ok('mqtt_status');
      assert.deepEqual(status.history.acknowledgements, {
        ...stats,
        copiesRemoved: 0,
        ackedUnwritten: 0,
        intakePauses: 0,
      });
    } finally {
      await bridge.close();
    }
  });

  it('more held messages than the queue takes: the bridge stops reading from the broker until the writer catches up, and records every one', async () => {
    const { bridge, path } = await replica('full', {
      // The broker may have 65,535 unacknowledged messages out to the bridge; the queue takes 100.
      HISTORY_QUEUE_MAX: '100',
      HISTORY_FLUSH_MS: '200',
    });
    const count = 600;
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      await sleep(200);
      await Promise.all(
        Array.from({ length: count }, (_, i) => f.spy.publish('plant/full/x', String(i), { qos: 1 })),
      );
      const history = bridge.app.deps.history;
      assert.ok(history !== undefined);
      await waitFor(() => history.recorder.status().written >= count, 30_000, 'all written');
      const s = history.recorder.status();
      assert.deepEqual(s.dropped, { queueFull: 0, whilePaused: 0 }, 'nothing dropped');
      assert.ok(s.intakePauses > 0, 'the queue filled and paused the intake');
      const acks = (await bridge.ok('mqtt_status')).history.acknowledgements;
      assert.equal(acks.ackedUnwritten, 0, JSON.stringify(acks));
      assert.equal(acks.intakePauses, s.intakePauses, JSON.stringify(acks));
      await waitFor(() => bridge.app.link.ackStats().held === 0, 5000, 'every PUBACK sent');
      assert.ok(bridge.app.link.ackStats().sent >= count, JSON.stringify(bridge.app.link.ackStats()));
    } finally {
      await bridge.close();
    }
    assert.deepEqual(
      recordedRows(path, 'plant/full/x'),
      { n: count, d: count },
      'every message recorded, once',
    );
  });

  it('an intake paused past the keepalive: the connection times out and comes back, and every message is recorded once', async () => {
    const { bridge, path } = await replica('keepalive', { MQTT_KEEPALIVE_SECONDS: '5' });
    const topic = 'plant/keepalive/x';
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      const history = bridge.app.deps.history;
      assert.ok(history !== undefined);
      await publish(topic, 0, 20);
      await waitFor(() => history.recorder.status().written >= 20, 10_000, 'first 20 written');
      // What a writer slower than 1.5 keepalives does to the link: no packet is read meanwhile,
      // so the PINGRESP is not either, and mqtt.js gives the connection up.
      const resume = bridge.app.link.pauseIntake();
      const before = bridge.app.link.status().reconnectCount;
      await publish(topic, 20, 40);
      await waitFor(() => bridge.app.link.status().reconnectCount > before, 20_000, 'keepalive timeout');
      resume();
      await waitFor(() => history.recorder.status().written >= 40, 20_000, 'all 40 written');
      await waitFor(() => bridge.app.link.ackStats().held === 0, 10_000, 'every PUBACK sent');
      assert.equal(bridge.app.link.ackStats().sessionsLost, 0, 'the broker kept the session');
    } finally {
      await bridge.close();
    }
    assert.deepEqual(recordedRows(path, topic), { n: 40, d: 40 }, 'every message recorded, once');
  });

  it('a broker that kept no session (restarted without persistence): the reconnect is counted as a lost session and warned of', async () => {
    // Its own broker: the restart would cut the suite's spy.
    const broker = await startBroker({ pki: f.pki });
    // Stopped also when the bridge fails to start.
    const started = await replica('lost', {}, broker).catch(async (error: unknown) => {
      await broker.stop();
      throw error;
    });
    const { bridge, path } = started;
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      assert.equal(bridge.app.link.ackStats().sessionsLost, 0, 'a first connection loses nothing');
      await broker.restart();
      await waitFor(() => bridge.app.link.ackStats().sessionsLost === 1, 20_000, 'session lost counted');
      await waitFor(() => bridge.app.link.connected, 5000, 'connected again');
      const acks = (await bridge.ok('mqtt_status')).history.acknowledgements;
      assert.equal(acks.sessionsLost, 1, JSON.stringify(acks));
      assert.match(bridge.logs.text(), /the broker kept no session for this replica/);
      // Recording goes on on the new session.
      const spy = await connectSpy(broker, f.pki);
      try {
        await spy.publish('plant/lost/x', 'after');
        const recorder = bridge.app.deps.history?.recorder;
        await waitFor(() => (recorder?.status().written ?? 0) >= 1, 10_000, 'recorded after');
      } finally {
        await spy.close();
      }
    } finally {
      await bridge.close();
      await broker.stop();
    }
    assert.deepEqual(recordedRows(path, 'plant/lost/x'), { n: 1, d: 1 });
  });

  it('a broker restarted with persistence: the session outlives the restart, no session is counted lost, and what was queued while the bridge was away is recorded once', async () => {
    const store = join(f.dir, 'mosquitto-persist');
    mkdirSync(store);
    // Its own broker (the restarts would cut the suite's spy), keeping sessions on disk.
    const broker = await startBroker({
      pki: f.pki,
      extraConfig: ['persistence true', `persistence_location ${store}/`],
    });
    const topic = 'plant/persist/x';
    try {
      let started = await replica('persist', {}, broker);
      try {
        await waitFor(() => started.bridge.app.link.connected, 5000, 'connected');
        await broker.restart();
        await waitFor(
          () => started.bridge.app.link.connected && started.bridge.app.link.status().reconnectCount > 0,
          20_000,
          'reconnected after the broker restart',
        );
        assert.equal(started.bridge.app.link.ackStats().sessionsLost, 0, 'the broker kept the session');
        const spy = await connectSpy(broker, f.pki);
        try {
          for (let i = 0; i < 10; i++) await spy.publish(topic, String(i), { qos: 1 });
        } finally {
          await spy.close();
        }
        const recorder = started.bridge.app.deps.history?.recorder;
        await waitFor(() => (recorder?.status().written ?? 0) >= 10, 10_000, 'recorded before leaving');
      } finally {
        await started.bridge.close();
      }
      // Away: 30 messages queue for its session, the broker restarts, 10 more queue.
      let spy = await connectSpy(broker, f.pki);
      try {
        for (let i = 10; i < 40; i++) await spy.publish(topic, String(i), { qos: 1 });
      } finally {
        await spy.close();
      }
      await broker.restart();
      spy = await connectSpy(broker, f.pki);
      try {
        for (let i = 40; i < 50; i++) await spy.publish(topic, String(i), { qos: 1 });
      } finally {
        await spy.close();
      }
      started = await replica('persist', {}, broker);
      try {
        const recorder = started.bridge.app.deps.history?.recorder;
        await waitFor(() => (recorder?.status().written ?? 0) >= 40, 10_000, 'the queued messages recorded');
        await waitFor(() => started.bridge.app.link.ackStats().held === 0, 10_000, 'every PUBACK sent');
      } finally {
        await started.bridge.close();
      }
      assert.deepEqual(recordedRows(started.path, topic), { n: 50, d: 50 }, 'every message recorded, once');
    } finally {
      await broker.stop();
    }
  });

  it('a session that expires while the bridge is away: the reconnect is counted as a lost session, and recording goes on', async () => {
    // The broker forgets the session 1 s after the connection is gone; the bridge is back after 3-6 s.
    const { bridge, path } = await replica('expired', {
      MQTT_SESSION_EXPIRY_SECONDS: '1',
      MQTT_RECONNECT_MIN_MS: '6000',
      MQTT_RECONNECT_MAX_MS: '6000',
    });
    const topic = 'plant/expired/x';
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      await sleep(200);
      await f.spy.publish(topic, 'before', { qos: 1 });
      const recorder = bridge.app.deps.history?.recorder;
      await waitFor(() => (recorder?.status().written ?? 0) >= 1, 10_000, 'recorded before');
      (bridge.app.link as unknown as { client: MqttClient }).client.stream.destroy();
      await waitFor(() => !bridge.app.link.connected, 5000, 'disconnected');
      await f.spy.publish(topic, 'while away', { qos: 1 });
      await waitFor(() => bridge.app.link.ackStats().sessionsLost === 1, 20_000, 'session lost counted');
      await waitFor(() => bridge.app.link.connected, 5000, 'connected again');
      assert.match(bridge.logs.text(), /the broker kept no session for this replica \(expired while away/);
      await sleep(200);
      await f.spy.publish(topic, 'after', { qos: 1 });
      await waitFor(() => (recorder?.status().written ?? 0) >= 2, 10_000, 'recorded after');
    } finally {
      await bridge.close();
    }
    // The message published while it was away went with the expired session, and the bridge said so.
    assert.deepEqual(recordedRows(path, topic), { n: 2, d: 2 });
  });

  it('a bridge gone between the commit and the PUBACK: after its restart the DUP copies are found in history by packet id, not recorded again', async () => {
    const path = join(f.dir, 'crash.db');
    const env = historyEnv(f.broker, f.pki, path, {
      MQTT_REPLICA_ID: 'crash',
      MQTT_SUBSCRIBE: 'plant/crash/#',
      HISTORY_FLUSH_MS: '300',
    });
    // No reconnect: this process never sends the PUBACKs, and what it knew ends with it.
    const first = await startBridge({
      ...env,
      MQTT_RECONNECT_MIN_MS: '60000',
      MQTT_RECONNECT_MAX_MS: '60000',
    });
    try {
      await waitFor(() => first.app.link.connected, 5000, 'connected');
      await sleep(200);
      await publish('plant/crash/x', 0, 50);
      await waitFor(() => first.app.deps.store.stats(Date.now()).received >= 50, 5000, 'received');
      (first.app.link as unknown as { client: MqttClient }).client.stream.destroy();
      const history = first.app.deps.history;
      assert.ok(history !== undefined);
      await waitFor(() => history.recorder.status().written >= 50, 5000, 'committed');
      await sleep(300);
      assert.equal(
        first.app.link.ackStats().lostWithConnection,
        50,
        JSON.stringify(first.app.link.ackStats()),
      );
    } finally {
      await first.close();
    }
    // A new process on the same session: the broker resends all 50 with DUP; 10 new ones follow.
    const second = await startBridge(env);
    try {
      await waitFor(() => second.app.link.connected, 5000, 'connected again');
      await publish('plant/crash/x', 50, 60);
      await waitFor(
        async () => (await second.ok('mqtt_status')).history.acknowledgements.sent >= 60,
        10_000,
        'all acknowledged',
      );
      const acks = (await second.ok('mqtt_status')).history.acknowledgements;
      assert.equal(acks.copiesRemoved, 50, JSON.stringify(acks));
      assert.equal(acks.redeliveredRecorded, 0, JSON.stringify(acks));
      assert.equal(acks.duplicatesRemoved, 0, JSON.stringify(acks));
      assert.equal(acks.held, 0, JSON.stringify(acks));
    } finally {
      await second.close();
    }
    assert.deepEqual(recordedRows(path, 'plant/crash/x'), { n: 60, d: 60 }, 'every message recorded, once');
  });
});
