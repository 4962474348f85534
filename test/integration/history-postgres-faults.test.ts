/**
 * PostgreSQL history faults for real, through the built server (dist/index.js over stdio),
 * Mosquitto over mutual TLS, and a PostgreSQL cluster of this file with TLS (the test PKI's server
 * certificate) and SCRAM passwords: the database down at start, restarted mid-flood, slow (a
 * table locked past HISTORY_STATEMENT_TIMEOUT_MS), a wrong password, a CA that does not sign
 * its certificate, and a certificate signed by the right CA for another host name. Each time: the bridge starts, live tools work, mqtt_status shows history
 * paused with the reason in operator words, recording resumes; no password is ever printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { historyState, historyStatus, startFlood, written } from '../helpers/history.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { PG_USER, startPostgres, type Postgres } from '../helpers/postgres.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

const PASSWORD = `pg-Secret-${Math.random().toString(36).slice(2)}-x`;
const WRONG = `wrong-${Math.random().toString(36).slice(2)}-pw`;

let pki: Pki;
let broker: Broker;
let spy: Spy;
let server: Postgres;
let dir: string;
let n = 0;
before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki, ['plant/#']);
  server = await startPostgres({ password: PASSWORD, tls: { cert: pki.serverCert, key: pki.serverKey } });
  dir = mkdtempSync(join(tmpdir(), 'mqtt-pg-faults-'));
  writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
  writeFileSync(join(dir, 'wrong'), `${WRONG}\n`);
});
after(async () => {
  await spy?.close();
  await broker?.stop();
  await server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function env(database: string, extra: Record<string, string> = {}): Record<string, string> {
  return bridgeEnv(broker, pki, {
    HISTORY_URL: server.url(database),
    HISTORY_PASSWORD_FILE: join(dir, 'password'),
    HISTORY_CA_FILE: pki.ca,
    HISTORY_FLUSH_MS: '100',
    LOG_LEVEL: 'info',
    ...extra,
  });
}

/** Every text a person or a model saw: stderr and the tool results so far. */
function assertNoPassword(bridge: SpawnedBridge, seen: readonly unknown[]): void {
  const texts = [bridge.stderr(), ...seen.map((s) => JSON.stringify(s))];
  for (const t of texts) {
    assert.ok(!t.includes(PASSWORD), 'the password was printed');
    assert.ok(!t.includes(WRONG), 'the wrong password was printed');
  }
}

/** get_latest answers from memory and a publish reaches the broker. */
async function liveToolsWork(bridge: SpawnedBridge, tag: string): Promise<void> {
  await spy.publish('plant/live/value', tag);
  await waitFor(
    async () =>
      (await bridge.ok('mqtt_get_latest', { filter: 'plant/live/value' })).messages[0]?.payload === tag,
    5000,
    `get_latest showing ${tag}`,
  );
  const published = await bridge.ok('mqtt_publish', {
    topic: 'plant/live/cmd',
    payload: `cmd-${tag}`,
    qos: 1,
  });
  assert.equal(published.delivery, 'acknowledged');
}

async function dbCount(database: string): Promise<number> {
  return Number((await server.admin('SELECT count(*) AS n FROM mqtt_history.messages', database)).rows[0].n);
}

describe('postgres history faults through the spawned bridge', () => {
  it('down at start: the bridge starts, live tools work, paused with the reason, the backlog bound holds, recording resumes', async () => {
    const db = await server.createDatabase(`down${n++}`);
    await server.stop();
    let bridge: SpawnedBridge | undefined;
    try {
      bridge = await spawnBridge('stdio', env(db, { HISTORY_QUEUE_MAX: '100' }));
      await bridge.connected();
      for (let i = 0; i < 300; i++) await spy.publish('plant/down/a', `m${i}`, { qos: 0 });
      const paused = await historyState(bridge, 'paused');
      assert.match(
        paused.reason,
        /history database 127\.0\.0\.1:\d+\/down\d+ does not answer \(connection refused\)/,
      );
      await liveToolsWork(bridge, 'while-down');
      // Whether the first 300 overflowed the queue before or after the first batch failed depends
      // on timing; these arrive while history is known to be paused, so their overflow is counted so.
      for (let i = 0; i < 300; i++) await spy.publish('plant/down/a', `p${i}`, { qos: 0 });
      const full = await waitFor(
        async () => {
          const h = await historyStatus(bridge!);
          return h.dropped.whilePaused > 0 ? h : undefined;
        },
        10_000,
        'drops while paused',
      );
      // Waiting: at most HISTORY_QUEUE_MAX, plus the one batch in flight (taken before the drops).
      assert.ok(full.queued <= 200, `queued ${full.queued}: HISTORY_QUEUE_MAX and one batch at most`);
      await server.start();
      const resumed = await historyState(bridge, 'recording', 40_000);
      await spy.publish('plant/down/b', 'after-the-fault');
      await written(bridge, resumed.written + 1, 10_000);
      const read = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/down/b',
        limit: 1,
        sinceSeconds: 3600,
      });
      assert.equal(read.messages[0]?.payload, 'after-the-fault');
      assert.ok((await dbCount(db)) >= 100);
      assertNoPassword(bridge, [paused, full, read]);
    } finally {
      await bridge?.close();
      await server.start().catch(() => undefined);
    }
  });

  it('restarted mid-flood: paused while it is away, then every record the bridge counts as written is in the database', async () => {
    await server.start();
    const db = await server.createDatabase(`flood${n++}`);
    const bridge = await spawnBridge('stdio', env(db));
    try {
      await bridge.connected();
      await spy.publish('plant/flood/first', 'x');
      await written(bridge, 1, 10_000);
      const flood = await startFlood(broker, pki, {
        rate: 2000,
        seconds: 6,
        topics: 50,
        size: 64,
        prefix: 'plant/flood/',
      });
      await sleep(1500);
      await server.stop();
      const paused = await historyState(bridge, 'paused', 10_000);
      assert.match(paused.reason, /connection|does not answer|shutting down/);
      await sleep(1000);
      await server.start();
      await historyState(bridge, 'recording', 40_000);
      await new Promise<void>((resolve) => flood.child.once('exit', () => resolve()));
      const done = await waitFor(
        async () => {
          const h = await historyStatus(bridge);
          return h.queued === 0 && h.state === 'recording' ? h : undefined;
        },
        30_000,
        'the backlog written',
      );
      assert.equal(done.dropped.queueFull + done.dropped.whilePaused, 0);
      const rows = await dbCount(db);
      // Records plus the bridge's own link events are written; only records are rows here.
      assert.ok(rows >= 10_000, `${rows} rows`);
      const topics = await bridge.ok('mqtt_list_topics', { filter: 'plant/flood/#', limit: 100 });
      assert.ok(topics.topics.length >= 50 || topics.total >= 50, JSON.stringify(topics).slice(0, 300));
      assert.equal(rows, done.written, 'every written record is in the database, none twice');
      assertNoPassword(bridge, [paused, done]);
    } finally {
      await bridge.close();
    }
  });

  it('slow (a table locked past HISTORY_STATEMENT_TIMEOUT_MS): paused naming the timeout, not hung; resumes when the lock goes', async () => {
    await server.start();
    const db = await server.createDatabase(`slow${n++}`);
    const bridge = await spawnBridge('stdio', env(db, { HISTORY_STATEMENT_TIMEOUT_MS: '500' }));
    const locker = new pg.Client({ host: server.dir, port: server.port, user: 'postgres', database: db });
    try {
      await bridge.connected();
      await spy.publish('plant/slow/a', 'before');
      await written(bridge, 1);
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE mqtt_history.topics IN ACCESS EXCLUSIVE MODE');
      await spy.publish('plant/slow/a', 'during');
      const paused = await historyState(bridge, 'paused', 15_000);
      assert.match(paused.reason, /did not answer within HISTORY_STATEMENT_TIMEOUT_MS \(500 ms\)/);
      await liveToolsWork(bridge, 'while-slow');
      await locker.query('ROLLBACK');
      const resumed = await historyState(bridge, 'recording', 40_000);
      const read = await bridge.ok('mqtt_read_messages', {
        filter: 'plant/slow/a',
        limit: 5,
        sinceSeconds: 3600,
      });
      assert.deepEqual(
        read.messages.map((m: { payload: string }) => m.payload),
        ['during', 'before'],
      );
      assertNoPassword(bridge, [paused, resumed, read]);
    } finally {
      await locker.end().catch(() => undefined);
      await bridge.close();
    }
  });

  it('a wrong password and a CA that did not sign the server certificate are explained, and no password is printed', async () => {
    await server.start();
    const db = await server.createDatabase(`auth${n++}`);
    const cases = [
      {
        extra: { HISTORY_PASSWORD_FILE: join(dir, 'wrong') },
        reason: new RegExp(`refused the password of user ${PG_USER}; check HISTORY_PASSWORD_FILE`),
      },
      {
        extra: { HISTORY_CA_FILE: pki.foreignCa },
        reason:
          /TLS to the history database .* failed: its certificate is not signed by the CA in HISTORY_CA_FILE/,
      },
    ];
    for (const c of cases) {
      const bridge = await spawnBridge('stdio', env(db, c.extra));
      try {
        await bridge.connected();
        await spy.publish('plant/auth/a', 'x');
        const paused = await historyState(bridge, 'paused');
        assert.match(paused.reason, c.reason);
        await liveToolsWork(bridge, `auth-${n++}`);
        const failed = await bridge.call('mqtt_read_messages', {
          filter: 'plant/auth/a',
          limit: 1,
          sinceSeconds: 86_400,
        });
        assert.match(bridge.stderr(), /history: the database cannot be used yet/);
        assertNoPassword(bridge, [paused, failed]);
      } finally {
        await bridge.close();
      }
    }
  });

  it('a certificate from the right CA but for another host name is refused and explained (verify-full), and no password is printed', async () => {
    // A second cluster whose certificate names only db.invalid; the bridge connects by 127.0.0.1.
    const other = join(dir, 'other-pki');
    execFileSync(
      'sh',
      [
        resolve(import.meta.dirname, '../../certs/generate.sh'),
        '--out',
        other,
        '--days',
        '2',
        '--server-dns',
        'db.invalid',
        '--server-ip',
        '',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const named = await startPostgres({
      password: PASSWORD,
      tls: { cert: join(other, 'server.crt'), key: join(other, 'server.key') },
    });
    try {
      const db = await named.createDatabase('named');
      const bridge = await spawnBridge(
        'stdio',
        env(db, { HISTORY_URL: named.url(db), HISTORY_CA_FILE: join(other, 'ca.crt') }),
      );
      try {
        await bridge.connected();
        await spy.publish('plant/named/a', 'x');
        const paused = await historyState(bridge, 'paused');
        assert.match(
          paused.reason,
          /TLS to the history database .* failed: its certificate is not for 127\.0\.0\.1; connect by a name the certificate carries/,
        );
        await liveToolsWork(bridge, `named-${n++}`);
        assertNoPassword(bridge, [paused]);
      } finally {
        await bridge.close();
      }
      assert.equal(
        (await named.admin("SELECT count(*) AS n FROM pg_namespace WHERE nspname = 'mqtt_history'", db))
          .rows[0].n,
        '0',
        'nothing was written over the unverified connection',
      );
    } finally {
      await named.destroy();
    }
  });
});
