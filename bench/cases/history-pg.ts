/**
 * The PostgreSQL history backend (HISTORY_URL), against a cluster made for the run with Debian's
 * PostgreSQL (test/helpers/postgres.ts) with durable settings (fsync, synchronous_commit and
 * full_page_writes on, as a production server), on the same two cores as everything else:
 *
 * - writer: the backend on its own, 1,000,000 records over 1,000 topics (200,000 when quick) in
 *   batches of 20,000 (the recorder's batchMax, what it hands over when the database is the
 *   bottleneck); msgs/s overall and over the second half; CPU per message of this process and of
 *   the PostgreSQL server processes (from /proc).
 * - bridge: one bridge (the ingest worker: the bridge's ingest path and recorder, no MCP client)
 *   subscribed to a real Mosquitto, recording a paced flood of QoS 0 messages of 60 bytes over
 *   1,000 topics into PostgreSQL for 8 s (4 when quick) at 25,000 msgs/s offered, and at 35,000;
 *   recorded msgs/s from the first message to the last write, the rows in the database against
 *   the messages received, drops, and CPU per message. Target (issue 15): >= 20,000 msgs/s
 *   sustained (nothing dropped at the offered rate).
 * - reads: the same one-topic series at 1 Hz (1,000,000 records; 200,000 when quick) in
 *   PostgreSQL and in SQLite: mqtt_summarize's backend call over all of it into 24 buckets and one
 *   hour's range read, p50 and p90 of each, and the ratio PostgreSQL / SQLite.
 *
 * Standalone: node --import tsx bench/cases/history-pg.ts [--quick] (no broker: writer and reads).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresHistory } from '../../src/history/postgres-backend.js';
import { SqliteHistory } from '../../src/history/sqlite-backend.js';
import type { HistoryBackend, HistoryRecord } from '../../src/history/types.js';
import { PG_USER, startPostgres, type Postgres } from '../../test/helpers/postgres.js';
import type { BenchContext } from '../lib/context.js';
import { connectMqtt } from '../lib/context.js';
import { latency, spread, type LatencySummary, type Spread } from '../lib/stats.js';
import { tsxWorker } from '../lib/proc.js';
import { INGEST_PROBE, nodeSubscriber } from './ingest.js';

interface BridgeTrial {
  rate: number;
  received: number;
  stored: number;
  recorded: number;
  ingest: number;
  cpu: number;
  server: number;
  dropped: number;
  /** At-least-once trials: the link's acknowledgement counts. */
  acks?: Record<string, number>;
  /** The recorder's: acknowledged without a commit, and times a full queue paused the intake. */
  ackedUnwritten: number;
  intakePauses: number;
}

/** The at-least-once trial's offered rate: above the target (20,000), as for QoS 0. */
const ALO_RATE = 25_000;

export interface HistoryPgResult {
  readonly server: string;
  readonly writer: {
    readonly records: number;
    readonly topics: number;
    readonly batch: number;
    readonly msgsPerSecond: number;
    readonly sustainedMsgsPerSecond: number;
    /** CPU microseconds per message: this process (driver, batching) and the server processes. */
    readonly clientCpuUsPerMsg: number;
    readonly serverCpuUsPerMsg: number;
    readonly bytesPerRecord: number;
  };
  readonly bridge?: {
    readonly seconds: number;
    readonly topics: number;
    readonly byRate: ReadonlyArray<{
      /** Offered rate (paced publisher), msgs/s. */
      readonly rate: number;
      /** Records written per second, first message to last write. */
      readonly recordedRate: Spread;
      /** Rows in PostgreSQL / messages the bridge received. */
      readonly storedShare: Spread;
      readonly dropped: Spread;
      readonly bridgeCpuUsPerMsg: Spread;
      readonly serverCpuUsPerMsg: Spread;
    }>;
    /** At-least-once recording (a replica's deployed mode): QoS 1 publisher and collection, PUBACKs after commit. */
    readonly atLeastOnce: {
      readonly rate: number;
      readonly seconds: number;
      readonly recordedRate: Spread;
      readonly storedShare: Spread;
      readonly dropped: Spread;
      /** PUBACKs the bridge sent after their batch committed. */
      readonly acksSent: Spread;
      /** Acknowledged without a commit (while history was paused). */
      readonly ackedUnwritten: Spread;
      /** Times a full queue of held records paused reading from the broker. */
      readonly intakePauses: Spread;
      readonly bridgeCpuUsPerMsg: Spread;
      readonly serverCpuUsPerMsg: Spread;
    };
  };
  readonly reads: {
    readonly records: number;
    readonly postgres: { readonly summarize: LatencySummary; readonly rangeHour: LatencySummary };
    readonly sqlite: { readonly summarize: LatencySummary; readonly rangeHour: LatencySummary };
    readonly summarizeRatio: number;
    readonly rangeRatio: number;
  };
}

export const T0 = Date.parse('2026-11-02T00:00:00Z');
export const TOPIC = 'plant/boiler3/temp';
export const common = {
  policy: { read: ['#'], write: [], deny: [] },
  retentionMs: 3650 * 86_400_000,
  maxBytes: 2 ** 40,
  maxPayloadBytes: 65_536,
  maxFieldsPerMessage: 32,
};

const payloadOf = (i: number) => `{"v":${(i % 1000) + 0.5}}`;

export async function fill(
  h: HistoryBackend,
  from: number,
  n: number,
  topicOf: (i: number) => string,
  atOf: (i: number) => number,
  batch: number,
): Promise<void> {
  for (let start = from; start < n; start += batch) {
    const records: HistoryRecord[] = [];
    for (let i = start; i < Math.min(n, start + batch); i++) {
      const payload = payloadOf(i);
      records.push({
        topic: topicOf(i),
        payload,
        sizeBytes: payload.length,
        qos: 0,
        retain: false,
        receivedAt: atOf(i),
      });
    }
    await h.append(records, []);
  }
}

/** CPU seconds of the postmaster and its children (the backends, WAL writer, checkpointer), from /proc. */
export function serverCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    if (Number(entry) !== pid && ppid !== pid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

async function database(server: Postgres, name: string): Promise<PostgresHistory> {
  await server.createDatabase(name);
  return PostgresHistory.open({
    ...common,
    connect: {
      host: '127.0.0.1',
      port: server.port,
      user: PG_USER,
      database: name,
      statementTimeoutMs: 120_000,
    },
  });
}

export async function probe(h: HistoryBackend, n: number, runs: number) {
  const sumTimes: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const s = performance.now();
    const r = await h.summarize({ filter: TOPIC, from: T0, to: T0 + n * 1000, buckets: 24, maxSeries: 10 });
    if (i >= 2) sumTimes.push(performance.now() - s);
    if (r.series[0]?.count !== n) throw new Error(`summary counted ${r.series[0]?.count}`);
  }
  const rangeTimes: number[] = [];
  for (let i = 0; i < runs * 10 + 5; i++) {
    const from = T0 + ((i * 7919) % Math.max(1, n - 3600)) * 1000;
    const s = performance.now();
    const r = await h.range({ filter: TOPIC, from, to: from + 3_600_000, limit: 100 });
    if (i >= 5) rangeTimes.push(performance.now() - s);
    if (r.messages.length !== 100) throw new Error(`range returned ${r.messages.length}`);
  }
  return { summarize: latency(sumTimes), rangeHour: latency(rangeTimes) };
}

export async function runHistoryPg(
  ctx: Pick<BenchContext, 'options' | 'log'> & Partial<BenchContext>,
): Promise<HistoryPgResult> {
  const quick = ctx.options.quick;
  const server = await startPostgres({
    extraConfig: ['fsync = on', 'synchronous_commit = on', 'full_page_writes = on', 'max_wal_size = 4GB'],
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-history-pg-'));
  try {
    const version = String((await server.admin('SHOW server_version')).rows[0]?.server_version);
    // Writer.
    const nWrite = quick ? 200_000 : 1_000_000;
    const batch = 20_000;
    const w = await database(server, 'writer');
    const topicOf = (i: number) => `plant/line${i % 10}/dev${i % 1000}`;
    const s0 = serverCpuSeconds(server.pid);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fill(w, 0, nWrite / 2, topicOf, (i) => T0 + i, batch);
    const tHalf = performance.now();
    await fill(w, nWrite / 2, nWrite, topicOf, (i) => T0 + i, batch);
    const t1 = performance.now();
    const c = process.cpuUsage(c0);
    const serverCpu = serverCpuSeconds(server.pid) - s0;
    const size = await server.admin(
      "SELECT sum(pg_total_relation_size(c.oid))::bigint AS b FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'mqtt_history' AND c.relkind = 'r'",
      'writer',
    );
    await w.close();
    const writer = {
      records: nWrite,
      topics: 1000,
      batch,
      msgsPerSecond: nWrite / ((t1 - t0) / 1000),
      sustainedMsgsPerSecond: nWrite / 2 / ((t1 - tHalf) / 1000),
      clientCpuUsPerMsg: (c.user + c.system) / nWrite,
      serverCpuUsPerMsg: (serverCpu * 1e6) / nWrite,
      bytesPerRecord: Number(size.rows[0]?.b) / nWrite,
    };
    ctx.log(
      `history-pg writer (PostgreSQL ${version}): ${Math.round(writer.msgsPerSecond)} msgs/s (second half ${Math.round(writer.sustainedMsgsPerSecond)}); CPU per message ${writer.clientCpuUsPerMsg.toFixed(1)} µs here + ${writer.serverCpuUsPerMsg.toFixed(1)} µs in the server; ${writer.bytesPerRecord.toFixed(0)} B per record`,
    );

    // One bridge recording a paced flood through Mosquitto, at the target rate and above it.
    let bridge: HistoryPgResult['bridge'];
    if (ctx.broker !== undefined && ctx.pki !== undefined) {
      const full = ctx as BenchContext;
      const seconds = quick ? 4 : 8;
      const topics = 1000;
      const rates = quick ? [25_000] : [25_000, 35_000];
      const spy = await connectMqtt(full, { identity: 'spy' });
      await spy.publishAsync(INGEST_PROBE, 'ready', { qos: 1, retain: true });
      const trials: BridgeTrial[] = [];
      const aloTrials: BridgeTrial[] = [];
      const aloSeconds = quick ? 6 : 20;
      try {
        /** One paced flood into a fresh database; `atLeastOnce`: QoS 1 end to end, PUBACKs held until commit. */
        const run = async (name: string, rate: number, secs: number, atLeastOnce: boolean) => {
          await server.createDatabase(name);
          process.env.BENCH_HISTORY_URL = server.url(name);
          process.env.BENCH_HISTORY_DRAIN = '1';
          const count = rate * secs;
          const env: Record<string, string> = atLeastOnce
            ? { BENCH_AT_LEAST_ONCE: '1', BENCH_REPLICA_ID: `alo-${name}` }
            : {};
          const sub = nodeSubscriber(full, 'history', count, false, env)();
          await sub.ready;
          const before = serverCpuSeconds(server.pid);
          const publisher = tsxWorker(
            'test/soak/flood-publisher.ts',
            [full.broker.url, full.pki.dir, String(rate), String(secs), String(topics), '60', 'bench/pg/'],
            { env: { ...process.env, FLOOD_QOS: atLeastOnce ? '1' : '0' } },
          );
          const [t] = await Promise.all([
            sub.done,
            new Promise<void>((resolve) => publisher.once('exit', () => resolve())),
          ]);
          const serverCpu = serverCpuSeconds(server.pid) - before;
          const h = t.history ?? {};
          const stored = Number(
            (await server.admin('SELECT count(*) AS n FROM mqtt_history.messages', name)).rows[0]?.n,
          );
          const trial: BridgeTrial = {
            rate,
            received: t.received,
            stored,
            recorded: t.recordedRate ?? 0,
            ingest: t.rate,
            cpu: ((t.recordedCpuSeconds ?? t.cpuSeconds) * 1e6) / t.received,
            server: (serverCpu * 1e6) / t.received,
            dropped: Number(h.dropped?.queueFull ?? 0) + Number(h.dropped?.whilePaused ?? 0),
            ackedUnwritten: Number(h.ackedUnwritten ?? 0),
            intakePauses: Number(h.intakePauses ?? 0),
            ...(t.acknowledgements !== undefined ? { acks: t.acknowledgements } : {}),
          };
          for (const w of t.historyWarnings ?? []) ctx.log(`history-pg bridge warning: ${w}`);
          return trial;
        };
        for (let round = 0; round < ctx.options.rounds; round++) {
          for (const rate of rates) {
            const trial = await run(`bridge${round}r${rate}`, rate, seconds, false);
            trials.push(trial);
            ctx.log(
              `history-pg bridge round ${round + 1} at ${rate} msg/s offered: received ${trial.received} at ${Math.round(trial.ingest)} msg/s, ${trial.stored} in PostgreSQL, recorded ${Math.round(trial.recorded)} msg/s (first message to last write), dropped ${trial.dropped}; CPU per message ${trial.cpu.toFixed(1)} µs bridge + ${trial.server.toFixed(1)} µs server`,
            );
          }
          const trial = await run(`alo${round}`, ALO_RATE, aloSeconds, true);
          aloTrials.push(trial);
          ctx.log(
            `history-pg at-least-once round ${round + 1} at ${ALO_RATE} msg/s offered for ${aloSeconds} s (QoS 1, PUBACKs after commit): received ${trial.received}, ${trial.stored} in PostgreSQL, recorded ${Math.round(trial.recorded)} msg/s, dropped ${trial.dropped}, acknowledged unwritten ${trial.ackedUnwritten}, intake paused ${trial.intakePauses} times; acknowledgements ${JSON.stringify(trial.acks)}; CPU per message ${trial.cpu.toFixed(1)} µs bridge + ${trial.server.toFixed(1)} µs server`,
          );
        }
      } finally {
        delete process.env.BENCH_HISTORY_URL;
        delete process.env.BENCH_HISTORY_DRAIN;
        await spy.publishAsync(INGEST_PROBE, '', { qos: 1, retain: true });
        await spy.endAsync();
      }
      bridge = {
        seconds,
        topics,
        byRate: rates.map((rate) => {
          const at = trials.filter((x) => x.rate === rate);
          return {
            rate,
            recordedRate: spread(at.map((x) => x.recorded)),
            storedShare: spread(at.map((x) => x.stored / Math.max(1, x.received))),
            dropped: spread(at.map((x) => x.dropped)),
            bridgeCpuUsPerMsg: spread(at.map((x) => x.cpu)),
            serverCpuUsPerMsg: spread(at.map((x) => x.server)),
          };
        }),
        atLeastOnce: {
          rate: ALO_RATE,
          seconds: aloSeconds,
          recordedRate: spread(aloTrials.map((x) => x.recorded)),
          storedShare: spread(aloTrials.map((x) => x.stored / Math.max(1, x.received))),
          dropped: spread(aloTrials.map((x) => x.dropped)),
          acksSent: spread(aloTrials.map((x) => Number(x.acks?.sent ?? 0))),
          ackedUnwritten: spread(aloTrials.map((x) => x.ackedUnwritten)),
          intakePauses: spread(aloTrials.map((x) => x.intakePauses)),
          bridgeCpuUsPerMsg: spread(aloTrials.map((x) => x.cpu)),
          serverCpuUsPerMsg: spread(aloTrials.map((x) => x.server)),
        },
      };
    }

    // Reads: the same series in both backends.
    const n = quick ? 200_000 : 1_000_000;
    const runs = quick ? 10 : 30;
    const pgReads = await database(server, 'reads');
    const lite = await SqliteHistory.open({ ...common, location: join(dir, 'reads.db') });
    try {
      for (const h of [pgReads, lite])
        await fill(
          h,
          0,
          n,
          () => TOPIC,
          (i) => T0 + i * 1000,
          batch,
        );
      await server.admin('VACUUM ANALYZE', 'reads');
      const postgres = await probe(pgReads, n, runs);
      const sqlite = await probe(lite, n, runs);
      const reads = {
        records: n,
        postgres,
        sqlite,
        summarizeRatio: postgres.summarize.p50 / sqlite.summarize.p50,
        rangeRatio: postgres.rangeHour.p50 / sqlite.rangeHour.p50,
      };
      ctx.log(
        `history-pg reads over ${n} records: summarize 24 buckets p50 ${postgres.summarize.p50.toFixed(1)} ms (SQLite ${sqlite.summarize.p50.toFixed(1)} ms, ${reads.summarizeRatio.toFixed(2)}x), one hour's range p50 ${postgres.rangeHour.p50.toFixed(2)} ms (SQLite ${sqlite.rangeHour.p50.toFixed(2)} ms, ${reads.rangeRatio.toFixed(2)}x)`,
      );
      return { server: version, writer, ...(bridge !== undefined ? { bridge } : {}), reads };
    } finally {
      await pgReads.close();
      await lite.close();
    }
  } finally {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runHistoryPg({
    options: { quick: process.argv.includes('--quick'), rounds: 3, cases: undefined, profile: false },
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}
