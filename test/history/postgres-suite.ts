/**
 * What the PostgreSQL history backend must do against a real server, whatever its layout: the
 * history contract suite unchanged (a fresh database per case), then what only PostgreSQL has:
 * migrations by two openers at once, Sparkplug naming across writers, a writer thread that dies,
 * the broker column, days dropped whole by pruning (partitions, or TimescaleDB chunks), a newer
 * schema refused. Run on Debian's PostgreSQL (test/integration/history-postgres.test.ts) and on
 * PostgreSQL with TimescaleDB (test/docker/timescaledb.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type pg from 'pg';
import { PostgresHistory, type PostgresOptions } from '../../src/history/postgres-backend.js';
import { HistoryOpenError } from '../../src/history/types.js';
import {
  SPARKPLUG_BIRTH,
  commonOptions,
  rec,
  runContract,
  sparkplugData,
  type ContractOpenOptions,
} from './contract.js';

/** A server to test against: its port on 127.0.0.1, superuser statements, empty databases. */
export interface PgServer {
  readonly port: number;
  admin(sql: string, database?: string): Promise<pg.QueryResult>;
  /** A new, empty database the role `user` owns. */
  createDatabase(name: string): Promise<string>;
}

export function describePostgresHistory(
  name: string,
  server: () => PgServer,
  user: string,
  layout: 'partitions' | 'hypertables',
): void {
  let n = 0;
  function options(database: string, o: ContractOpenOptions = {}): PostgresOptions {
    return {
      connect: { host: '127.0.0.1', port: server().port, user, database, statementTimeoutMs: 10_000 },
      ...commonOptions(o),
    };
  }

  let last = '';
  runContract(name, async (o = {}) => {
    if (!o.reopen) last = await server().createDatabase(`c${n++}`);
    return PostgresHistory.open(options(last, o));
  });

  const T0 = Date.parse('2026-11-02T00:00:00Z');
  const DAY = 86_400_000;

  describe(`${name} history`, () => {
    it('two openers at once migrate once and both record', async () => {
      const db = await server().createDatabase(`twice${n++}`);
      const [a, b] = await Promise.all([
        PostgresHistory.open(options(db)),
        PostgresHistory.open(options(db)),
      ]);
      await Promise.all([a.append([rec('t/a', T0, '1')], []), b.append([rec('t/b', T0 + 1, '2')], [])]);
      assert.equal((await a.stats()).records, 2);
      const versions = await server().admin(
        'SELECT version FROM mqtt_history.migrations ORDER BY version',
        db,
      );
      assert.deepEqual(
        versions.rows.map((r) => r.version),
        [1, 2, 3],
      );
      await a.close();
      await b.close();
    });

    it('names Sparkplug DATA by a BIRTH another writer recorded (a share group gives BIRTH and DATA to different replicas)', async () => {
      const db = await server().createDatabase(`births${n++}`);
      const [a, b] = await Promise.all([
        PostgresHistory.open(options(db)),
        PostgresHistory.open(options(db)),
      ]);
      try {
        await a.append([rec('spBv1.0/g/DBIRTH/e/d', T0, SPARKPLUG_BIRTH)], []);
        await b.append([rec('spBv1.0/g/DDATA/e/d', T0 + 1000, sparkplugData(21.5))], []);
        const r = await a.summarize({
          filter: 'spBv1.0/g/DDATA/#',
          from: T0,
          to: T0 + 60_000,
          buckets: 1,
          maxSeries: 10,
        });
        assert.deepEqual(
          r.series.map((x) => [x.field, x.count]),
          [['boiler/temp', 1]],
        );
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a writer thread that dies fails its batch as a fault; the next batch starts it again and is written', async () => {
      const db = await server().createDatabase(`thread${n++}`);
      const h = await PostgresHistory.open(options(db));
      try {
        await h.append([rec('t/a', T0, '1')], []);
        const thread = h.writer.thread;
        assert.ok(thread !== undefined);
        const pending = h.append([rec('t/a', T0 + 1, '2')], []);
        await thread.terminate();
        await assert.rejects(
          pending,
          (e: Error) => e.name === 'HistoryFault' || /stopped|failed/.test(e.message),
        );
        await h.append([rec('t/a', T0 + 2, '3')], []);
        assert.notEqual(h.writer.thread, thread, 'a new thread');
        const read = await h.range({ filter: 't/#', limit: 10 });
        // '2' may have been committed before the thread stopped; '1' and '3' are there.
        assert.ok(
          read.messages.some((m) => m.payload === '3') && read.messages.some((m) => m.payload === '1'),
        );
      } finally {
        await h.close();
      }
    });

    it('records the broker a message came from, default when unnamed', async () => {
      const db = await server().createDatabase(`broker${n++}`);
      const h = await PostgresHistory.open(options(db));
      await h.append([rec('x', T0, 'a'), rec('x', T0 + 1, 'b', { broker: 'site' })], []);
      const rows = await server().admin('SELECT broker FROM mqtt_history.messages ORDER BY at', db);
      assert.deepEqual(
        rows.rows.map((r) => r.broker),
        ['default', 'site'],
      );
      const read = await h.range({ filter: '#', limit: 10 });
      assert.deepEqual(
        read.messages.map((m) => m.broker),
        ['site', undefined],
      );
      await h.close();
    });

    it(`prunes whole days by dropping their ${layout === 'hypertables' ? 'chunks' : 'partitions'}`, async () => {
      const db = await server().createDatabase(`days${n++}`);
      const h = await PostgresHistory.open(options(db, { retentionMs: 2 * DAY }));
      await h.append(
        [0, 1, 2, 3].map((d) => rec(`d/${d % 2}`, T0 + d * DAY + 1000, `{"v":${d}}`)),
        [],
      );
      const partitions = async () =>
        (
          await server().admin(
            layout === 'hypertables'
              ? "SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_schema = 'mqtt_history' AND hypertable_name = 'messages'"
              : "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'mqtt_history' AND tablename LIKE 'messages_d%'",
            db,
          )
        ).rows[0].n;
      assert.equal(await partitions(), 4);
      let removed = 0;
      for (let i = 0; i < 10; i++) removed += await h.prune(T0 + 3 * DAY + 2000);
      assert.equal(removed, 1, 'only day 0 is older than two days');
      assert.equal(await partitions(), 3);
      const stats = await h.stats();
      assert.equal(stats.records, 3);
      assert.equal(stats.oldestAt, T0 + DAY + 1000);
      assert.deepEqual(
        (await h.topics('#', 10)).topics.map((t) => [t.topic, t.records, t.firstAt]),
        [
          ['d/0', 1, T0 + 2 * DAY + 1000],
          ['d/1', 2, T0 + DAY + 1000],
        ],
      );
      const s = await h.summarize({ filter: 'd/0', from: T0, to: T0 + 4 * DAY, buckets: 4, maxSeries: 5 });
      assert.equal(s.series[0]?.count, 1);
      await h.close();
    });

    it('says how it stores the records (mqtt_status history.storage)', async () => {
      const db = await server().createDatabase(`storage${n++}`);
      const h = await PostgresHistory.open(options(db));
      try {
        assert.match(
          (await h.stats()).storage ?? '',
          layout === 'hypertables'
            ? /^timescaledb \d+\.\d+\.\d+: hypertables with 1-day chunks; pruning drops whole chunks; /
            : /^postgresql: tables partitioned by day; pruning drops whole days$/,
        );
      } finally {
        await h.close();
      }
    });

    it("records its broker in the schema, claims one made before (version 1), refuses another broker's", async () => {
      const db = await server().createDatabase(`owner${n++}`);
      const site = await PostgresHistory.open({ ...options(db), broker: 'site' });
      await site.append([rec('plant/a', T0, '1')], []);
      await site.close();
      const owner = async () =>
        (await server().admin(`SELECT value FROM mqtt_history.meta WHERE key = 'broker'`, db)).rows;
      assert.deepEqual(await owner(), [{ value: 'site' }]);
      await assert.rejects(PostgresHistory.open({ ...options(db), broker: 'cloud' }), (e: Error) => {
        assert.ok(e instanceof HistoryOpenError, String(e));
        assert.match(e.message, /holds the history of broker 'site', not of 'cloud'; it was left as it was/);
        return true;
      });
      assert.deepEqual(await owner(), [{ value: 'site' }]);
      // A schema of version 1 has no meta table: migrated, then claimed by the broker opening it.
      await server().admin(
        'DROP TABLE mqtt_history.meta, mqtt_history.held; DELETE FROM mqtt_history.migrations WHERE version >= 2',
        db,
      );
      const cloud = await PostgresHistory.open({ ...options(db), broker: 'cloud' });
      try {
        assert.equal((await cloud.stats()).records, 1);
      } finally {
        await cloud.close();
      }
      assert.deepEqual(await owner(), [{ value: 'cloud' }]);
    });

    it('refuses a database with a newer schema and leaves it as it was', async () => {
      const db = await server().createDatabase(`newer${n++}`);
      const h = await PostgresHistory.open(options(db));
      await h.close();
      await server().admin('INSERT INTO mqtt_history.migrations(version) VALUES (99)', db);
      await assert.rejects(PostgresHistory.open(options(db)), (e: Error) => {
        assert.ok(e instanceof HistoryOpenError);
        assert.match(e.message, /newer than this bridge knows/);
        return true;
      });
    });
  });
}
