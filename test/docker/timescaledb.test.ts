/**
 * The PostgreSQL history on TimescaleDB: the stand-in image (scripts/docker-images.sh: Debian
 * trixie's PostgreSQL 17 and postgresql-17-timescaledb, the Apache edition, preloaded) started
 * once for this file, its port published on 127.0.0.1 only, the data directory on a tmpfs. The
 * whole PostgreSQL suite (test/history/postgres-suite.ts) runs on it as hypertables, each case in
 * a fresh database with the extension installed; then what only TimescaleDB has: chunks aligned
 * to UTC days, the retention policy TimescaleDB refuses in this edition said in the storage
 * line, and a database made before the extension was installed staying partitioned.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresHistory } from '../../src/history/postgres-backend.js';
import { rec } from '../history/contract.js';
import { describePostgresHistory } from '../history/postgres-suite.js';
import { prepareEngineAndStandins } from './support/docker.js';
import { TIMESCALE_USER as USER, TimescaleContainer } from './support/timescaledb.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');

let server: TimescaleContainer;
before(
  async () => {
    const { timescaledbImage } = prepareEngineAndStandins();
    server = await new TimescaleContainer().start(timescaledbImage);
  },
  { timeout: 600_000 },
);
after(async () => {
  await server?.destroy();
});

describePostgresHistory('timescaledb', () => server, USER, 'hypertables');

function options(database: string) {
  return {
    connect: { host: '127.0.0.1', port: server.port, user: USER, database, statementTimeoutMs: 10_000 },
    policy: { read: ['#'], write: [], deny: [] },
    retentionMs: 30 * DAY,
    maxBytes: 2 ** 30,
    maxPayloadBytes: 65_536,
    maxFieldsPerMessage: 32,
  };
}

describe('timescaledb layout', () => {
  let n = 0;

  it('makes messages, points and rollups hypertables whose chunks are UTC days', async () => {
    const db = await server.createDatabase(`layout${n++}`);
    const h = await PostgresHistory.open(options(db));
    try {
      await h.append(
        [0, 1, 2].map((d) => rec('line/temp', T0 + d * DAY + 12 * 3_600_000, `{"v":${d}}`)),
        [],
      );
      const tables = await server.admin(
        "SELECT hypertable_name AS t FROM timescaledb_information.hypertables WHERE hypertable_schema = 'mqtt_history' ORDER BY 1",
        db,
      );
      assert.deepEqual(
        tables.rows.map((r) => r.t),
        ['messages', 'points', 'rollups'],
      );
      const chunks = await server.admin(
        `SELECT hypertable_name AS t, range_start_integer::text AS lo, range_end_integer::text AS hi
           FROM timescaledb_information.chunks WHERE hypertable_schema = 'mqtt_history' ORDER BY 1, 2`,
        db,
      );
      const of = (t: string) => chunks.rows.filter((r) => r.t === t).map((r) => [Number(r.lo), Number(r.hi)]);
      const days = [0, 1, 2].map((d) => [T0 + d * DAY, T0 + (d + 1) * DAY]);
      assert.deepEqual(of('messages'), days);
      assert.deepEqual(of('points'), days);
      assert.deepEqual(
        of('rollups'),
        days.map(([lo, hi]) => [lo! / 60_000, hi! / 60_000]),
      );
      // This edition has no policies: the storage line says so, and that pruning is the bridge's.
      assert.match(
        (await h.stats()).storage ?? '',
        /timescaledb 2\.\d+\.\d+: hypertables .*; no TimescaleDB retention policy \(.*apache.*\): the bridge's pruning alone applies$/,
      );
    } finally {
      await h.close();
    }
  });

  it('keeps a database made before the extension was installed on partitions', async () => {
    const db = await server.createDatabase(`plain${n++}`, false);
    const first = await PostgresHistory.open(options(db));
    await first.append([rec('a', T0, '1')], []);
    await first.close();
    await server.admin('CREATE EXTENSION timescaledb', db);
    const h = await PostgresHistory.open(options(db));
    try {
      await h.append([rec('a', T0 + DAY, '2')], []);
      assert.match((await h.stats()).storage ?? '', /^postgresql: tables partitioned by day/);
      const hyper = await server.admin(
        'SELECT count(*)::int AS n FROM timescaledb_information.hypertables',
        db,
      );
      assert.equal(hyper.rows[0].n, 0);
      assert.equal((await h.range({ filter: '#', limit: 10 })).messages.length, 2);
    } finally {
      await h.close();
    }
  });
});
