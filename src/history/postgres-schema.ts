/**
 * The PostgreSQL history schema: versioned migrations applied at start, and the daily
 * partitions. Everything lives in its own schema, `mqtt_history`, so the database can hold other
 * things too.
 *
 * Migrations run under a session-level advisory lock (pg_advisory_lock), so two replicas that
 * start at once apply them one after the other: the second finds them done. Each version is one
 * transaction and a row in mqtt_history.migrations; a database with a version newer than this
 * bridge knows is refused (HistoryOpenError), never changed. Version 2 adds meta, whose `broker`
 * names the broker whose history the schema holds (checked at every start); version 3 adds held,
 * the packet ids of each MQTT session's last batches (redeliveries.ts).
 *
 * Time-ordered storage (docs/SCALING.md says why): messages, points and rollups are partitioned
 * by range of receive time, one partition a UTC day, created ahead as batches need them. Age
 * pruning drops whole days (no DELETE, no VACUUM); a range read or a summary touches only the
 * days it asks for (partition pruning), each through a (topic_id | series_id, at) B-tree index.
 *
 * With the TimescaleDB extension installed in the database (CREATE EXTENSION timescaledb) when the
 * schema is first made, the same three tables are hypertables instead, with one-day chunks
 * aligned like the partitions (integer time: chunk boundaries are multiples of the interval), and
 * pruning drops chunks (drop_chunks) where it would drop partitions; reads are the same SQL.
 * The layout is chosen once, at the first migration, and read from the catalog afterwards
 * (`messages` partitioned or not); a database made without the extension stays partitioned.
 * TimescaleDB's own retention policy is set as a backstop one day past HISTORY_RETENTION_DAYS,
 * for when no bridge runs to prune; the bridge prunes first, keeping its counts (minutes,
 * topic_days) in step. The policy needs the Community (TSL) edition; the Apache edition (Debian's
 * package) has hypertables and drop_chunks, not policies, and storage() says so.
 */
import type { Pg } from './postgres.js';
import { HistoryOpenError } from './types.js';

/** The schema of the only broker, or of the one broker-history.ts places there. */
export const SCHEMA = 'mqtt_history';

/** A broker's own schema, by name (broker names are [a-z0-9_-]; quoted where used, for the '-'). */
export function brokerSchemaName(broker: string): string {
  return `${SCHEMA}_${broker}`;
}
export const DAY = 86_400_000;
/** pg_advisory_lock keys: migrations, partition DDL, pruning. */
export const LOCK = { migrate: 7_314_001, ddl: 7_314_002, prune: 7_314_003 } as const;

/** Each entry: the SQL of one version in `schema`, applied in order; `ts`: as hypertables. */
const migrations = (schema: string, ts = false): readonly string[] => [
  // 1: the tables.
  `CREATE TABLE ${schema}.topics(id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     topic text COLLATE "C" NOT NULL UNIQUE, first_at bigint NOT NULL, last_at bigint NOT NULL,
     last_seq bigint NOT NULL, last_retain boolean NOT NULL, last_size integer NOT NULL,
     records bigint NOT NULL DEFAULT 0);
   CREATE SEQUENCE ${schema}.seq AS bigint CACHE 1;
   CREATE TABLE ${schema}.messages(topic_id integer NOT NULL, at bigint NOT NULL, seq bigint NOT NULL,
     qos smallint NOT NULL, retain boolean NOT NULL, size integer NOT NULL, payload bytea NOT NULL,
     properties text, broker text NOT NULL DEFAULT 'default')${ts ? '' : ' PARTITION BY RANGE (at)'};
   CREATE INDEX ON ${schema}.messages(topic_id, at, seq);
   CREATE TABLE ${schema}.series(id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     topic_id integer NOT NULL, field text COLLATE "C" NOT NULL, UNIQUE(topic_id, field));
   CREATE TABLE ${schema}.points(series_id integer NOT NULL, at bigint NOT NULL, seq bigint NOT NULL,
     value double precision NOT NULL)${ts ? '' : ' PARTITION BY RANGE (at)'};
   CREATE INDEX ON ${schema}.points(series_id, at, seq);
   CREATE TABLE ${schema}.rollups(series_id integer NOT NULL, minute bigint NOT NULL, n bigint NOT NULL,
     sum double precision NOT NULL, lo double precision NOT NULL, hi double precision NOT NULL,
     PRIMARY KEY(series_id, minute))${ts ? '' : ' PARTITION BY RANGE (minute)'};
   CREATE TABLE ${schema}.minutes(minute bigint PRIMARY KEY, records bigint NOT NULL, bytes bigint NOT NULL);
   CREATE TABLE ${schema}.topic_days(topic_id integer NOT NULL, day bigint NOT NULL, records bigint NOT NULL,
     PRIMARY KEY(day, topic_id));
   CREATE TABLE ${schema}.partitions(day bigint PRIMARY KEY);
   CREATE TABLE ${schema}.link_events(at bigint NOT NULL, seq bigint NOT NULL, state smallint NOT NULL,
     PRIMARY KEY(at, seq));${ts ? hypertables(schema) : ''}`,
  // 2: meta(key, value); `broker` names the broker whose history this schema holds.
  `CREATE TABLE ${schema}.meta(key text COLLATE "C" PRIMARY KEY, value text NOT NULL);`,
  // 3: per MQTT session, the packet ids of its last batches (redeliveries.ts).
  `CREATE TABLE ${schema}.held(client text COLLATE "C" NOT NULL, batch bigint NOT NULL, at bigint NOT NULL,
     mids bytea NOT NULL, PRIMARY KEY(client, batch));`,
];
export const SCHEMA_VERSION = migrations(SCHEMA).length;

/** The time-partitioned tables and their time column's unit per day. */
const TIMED = [
  ['messages', 'at', DAY],
  ['points', 'at', DAY],
  ['rollups', 'minute', DAY / 60_000],
] as const;

function hypertables(schema: string): string {
  return TIMED.map(
    ([table, column, perDay]) =>
      `\n   SELECT create_hypertable('${schema}.${table}', '${column}', chunk_time_interval => ${perDay}::bigint, create_default_indexes => false);`,
  ).join('');
}

/** How the history is stored, in operator words (mqtt_status). */
export type Storage = string;

/**
 * Applies the migrations this database lacks, one replica at a time, then checks that the schema
 * holds `broker`'s history: one made before it recorded its broker is claimed for it; one that
 * names another broker is refused (HistoryOpenError), so one broker's past is never read under
 * another's policy. `place`, when given, first moves db to the schema that is this broker's
 * (broker-history.ts), under the same lock.
 */
export async function migrate(db: Pg, broker: string, place?: (s: Pg) => Promise<void>): Promise<void> {
  await db.session(async (s) => {
    await s.query('SELECT pg_advisory_lock($1)', [LOCK.migrate]);
    try {
      // Under the lock, so two processes that place their brokers at once agree.
      await place?.(s);
      await s.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
      await s.query(
        `CREATE TABLE IF NOT EXISTS ${s.schema}.migrations(version integer PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const [row] = await s.query(`SELECT coalesce(max(version), 0) AS v FROM ${s.schema}.migrations`);
      const have = Number(row?.v ?? 0);
      if (have > SCHEMA_VERSION) {
        throw new HistoryOpenError(
          `the history database ${db.where} has schema version ${have}, newer than this bridge knows (${SCHEMA_VERSION}); it was left as it was. Run a newer bridge`,
        );
      }
      // The layout is chosen when the tables are made: hypertables if TimescaleDB is installed.
      const ts = have === 0 && (await timescaleVersion(s)) !== undefined;
      for (let v = have + 1; v <= SCHEMA_VERSION; v++) {
        await s.transaction(async (tx) => {
          await tx.query(migrations(db.schema, ts)[v - 1] as string);
          await tx.query(`INSERT INTO ${tx.schema}.migrations(version) VALUES ($1)`, [v]);
        });
      }
      await s.query(
        `INSERT INTO ${s.schema}.meta(key, value) VALUES ('broker', $1) ON CONFLICT (key) DO NOTHING`,
        [broker],
      );
      const owner = await recordedBroker(s);
      if (owner !== broker) {
        throw new HistoryOpenError(
          `the history schema ${s.schema} in ${db.where} holds the history of broker '${String(owner)}', not of '${broker}'; it was left as it was`,
        );
      }
    } finally {
      await s.query('SELECT pg_advisory_unlock($1)', [LOCK.migrate]).catch(() => undefined);
    }
  });
}

/** The broker whose history this schema holds; undefined: none recorded yet (or no schema). */
export async function recordedBroker(db: Pg, schema = db.schema): Promise<string | undefined> {
  const [table] = await db.query(`SELECT to_regclass('${schema}.meta') AS t`);
  if (table?.t === null || table?.t === undefined) return undefined;
  const [row] = await db.query(`SELECT value FROM ${schema}.meta WHERE key = 'broker'`);
  return row === undefined ? undefined : String(row.value);
}

/** The installed TimescaleDB extension's version in this database, if any. */
async function timescaleVersion(db: Pg): Promise<string | undefined> {
  const [row] = await db.query(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`);
  return row === undefined ? undefined : String(row.extversion);
}

/** Whether this schema's tables are TimescaleDB hypertables (else declarative partitions). */
export async function isHypertables(db: Pg): Promise<boolean> {
  const [row] = await db.query(`SELECT relkind FROM pg_class WHERE oid = '${db.schema}.messages'::regclass`);
  return row?.relkind !== 'p';
}

/**
 * On hypertables, TimescaleDB's retention policy (one day past the bridge's retention; see the
 * top of this file), set again at each start so a changed retention takes effect. Returns the
 * storage in operator words; a policy TimescaleDB refuses (Apache edition, rights) is said there.
 */
export async function settleStorage(db: Pg, retentionMs: number): Promise<Storage> {
  if (!(await isHypertables(db))) return 'postgresql: tables partitioned by day; pruning drops whole days';
  const version = (await timescaleVersion(db)) ?? 'unknown';
  const base = `timescaledb ${version}: hypertables with 1-day chunks; pruning drops whole chunks`;
  try {
    await db.session((s) =>
      s.transaction(async (tx) => {
        for (const [table, , perDay] of TIMED) {
          const unit = perDay === DAY ? 1 : 60_000;
          const fn = `${tx.schema}.now_${table}`;
          await tx.query(
            `CREATE OR REPLACE FUNCTION ${fn}() RETURNS bigint LANGUAGE sql STABLE AS
               $$ SELECT (extract(epoch FROM now()) * 1000)::bigint / ${unit} $$`,
          );
          await tx.query(
            `SELECT set_integer_now_func('${tx.schema}.${table}', '${fn}', replace_if_exists => true)`,
          );
          await tx.query(`SELECT remove_retention_policy('${tx.schema}.${table}', if_exists => true)`);
          const after = Math.ceil((retentionMs + DAY) / unit);
          await tx.query(
            `SELECT add_retention_policy('${tx.schema}.${table}', drop_after => ${after}::bigint)`,
          );
        }
      }),
    );
    return `${base}; TimescaleDB retention policy: ${Math.round((retentionMs + DAY) / DAY)} days (a backstop: the bridge prunes first)`;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `${base}; no TimescaleDB retention policy (${why.slice(0, 200)}): the bridge's pruning alone applies`;
  }
}

/** The day partitions that exist (epoch ms of their first millisecond). */
export async function knownDays(db: Pg): Promise<Set<number>> {
  const rows = await db.query(`SELECT day FROM ${db.schema}.partitions`);
  return new Set(rows.map((r) => Number(r.day)));
}

/** Creates the partitions of these days (UTC day starts) that are missing; safe across replicas. */
export async function createDays(db: Pg, days: readonly number[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK.ddl]);
    const have = await knownDays(tx);
    // Hypertables make their chunks as rows arrive; the days are only noted, for pruning.
    const chunks = days.some((d) => !have.has(d)) && (await isHypertables(tx));
    for (const day of days) {
      if (have.has(day)) continue;
      if (chunks) {
        await tx.query(`INSERT INTO ${tx.schema}.partitions(day) VALUES ($1)`, [day]);
        continue;
      }
      const name = dayName(day);
      const next = day + DAY;
      const m0 = day / 60_000;
      const m1 = next / 60_000;
      await tx.query(
        `CREATE TABLE ${tx.schema}.messages_${name} PARTITION OF ${tx.schema}.messages FOR VALUES FROM (${day}) TO (${next});
         CREATE TABLE ${tx.schema}.points_${name} PARTITION OF ${tx.schema}.points FOR VALUES FROM (${day}) TO (${next});
         CREATE TABLE ${tx.schema}.rollups_${name} PARTITION OF ${tx.schema}.rollups FOR VALUES FROM (${m0}) TO (${m1});
         INSERT INTO ${tx.schema}.partitions(day) VALUES (${day});`,
      );
    }
  });
}

/** Drops one day's partitions, or chunks (inside the caller's transaction). */
export async function dropDay(tx: Pg, day: number): Promise<void> {
  if (await isHypertables(tx)) {
    for (const [table, , perDay] of TIMED) {
      const end = ((day + DAY) / DAY) * perDay;
      await tx.query(`SELECT drop_chunks('${tx.schema}.${table}', older_than => ${end}::bigint)`);
    }
    await tx.query(`DELETE FROM ${tx.schema}.partitions WHERE day = $1`, [day]);
    return;
  }
  const name = dayName(day);
  await tx.query(
    `DROP TABLE IF EXISTS ${tx.schema}.messages_${name}, ${tx.schema}.points_${name}, ${tx.schema}.rollups_${name};
     DELETE FROM ${tx.schema}.partitions WHERE day = ${day};`,
  );
}

/** `d20261102` for the UTC day starting at `day`; before 1970 `n` and the day number. */
function dayName(day: number): string {
  if (day < 0) return `n${-day / DAY}`;
  return `d${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export function dayOf(at: number): number {
  return Math.floor(at / DAY) * DAY;
}
