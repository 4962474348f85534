/**
 * The PostgreSQL history on its two layouts in one server: PostgreSQL 17 with TimescaleDB (the
 * Docker stand-in of scripts/docker-images.sh: Debian trixie's postgresql-17-timescaledb, the
 * Apache edition) with durable settings (fsync, synchronous_commit, full_page_writes on), one
 * database with the extension (hypertables, 1-day chunks) and one without (day partitions), the
 * order alternating by round. The same writer and reads as bench/cases/history-pg.ts: 1,000,000
 * records over 1,000 topics in batches of 20,000 (rate, CPU per record here and in the server,
 * bytes per record), then summarize and one hour's range over 1,000,000 points of one topic.
 * Needs the Docker engine (scripts/docker-setup.sh); run alone: BENCH_CASES=history-timescaledb.
 * Compression is not measured: it is a TimescaleDB Community (TSL) feature this edition lacks.
 */
import { PostgresHistory } from '../../src/history/postgres-backend.js';
import { prepareEngineAndStandins } from '../../test/docker/support/docker.js';
import { TIMESCALE_USER, TimescaleContainer } from '../../test/docker/support/timescaledb.js';
import type { BenchContext } from '../lib/context.js';
import { spread, type LatencySummary, type Spread } from '../lib/stats.js';
import { T0, TOPIC, common, fill, probe, serverCpuSeconds } from './history-pg.js';

type Layout = 'partitions' | 'hypertables';

interface LayoutTrial {
  readonly msgsPerSecond: number;
  readonly sustainedMsgsPerSecond: number;
  readonly clientCpuUsPerMsg: number;
  readonly serverCpuUsPerMsg: number;
  readonly bytesPerRecord: number;
  readonly summarizeP50: number;
  readonly rangeHourP50: number;
}

export interface HistoryTimescaleResult {
  readonly server: string;
  readonly timescaledb: string;
  readonly records: number;
  readonly rounds: ReadonlyArray<Record<Layout, LayoutTrial>>;
  readonly byLayout: Record<
    Layout,
    {
      readonly msgsPerSecond: Spread;
      readonly sustainedMsgsPerSecond: Spread;
      readonly serverCpuUsPerMsg: Spread;
      readonly bytesPerRecord: Spread;
      /** p50 of each round's probe, ms. */
      readonly summarizeP50: Spread;
      readonly rangeHourP50: Spread;
    }
  >;
  /** hypertables / partitions, per round. */
  readonly writeRatio: Spread;
}

export async function runHistoryTimescale(
  ctx: Pick<BenchContext, 'options' | 'log'>,
): Promise<HistoryTimescaleResult> {
  const quick = ctx.options.quick;
  const { timescaledbImage } = prepareEngineAndStandins();
  const server = await new TimescaleContainer().start(timescaledbImage, [
    'fsync=on',
    'synchronous_commit=on',
    'full_page_writes=on',
    'max_wal_size=4GB',
  ]);
  try {
    const version = String((await server.admin('SHOW server_version')).rows[0]?.server_version);
    // The postmaster's PID on the host (the container's first process), for its CPU in /proc.
    const hostPid = await server.hostPid();
    const n = quick ? 200_000 : 1_000_000;
    const batch = 20_000;
    const rounds: Array<Record<Layout, LayoutTrial>> = [];
    const reads: Record<Layout, { summarize: LatencySummary[]; range: LatencySummary[] }> = {
      partitions: { summarize: [], range: [] },
      hypertables: { summarize: [], range: [] },
    };
    let tsVersion = '';
    let db = 0;
    for (let round = 0; round < ctx.options.rounds; round++) {
      const order: Layout[] = round % 2 === 0 ? ['partitions', 'hypertables'] : ['hypertables', 'partitions'];
      const got: Partial<Record<Layout, LayoutTrial>> = {};
      for (const layout of order) {
        const open = async (name: string) => {
          await server.createDatabase(name, layout === 'hypertables');
          return PostgresHistory.open({
            ...common,
            connect: {
              host: '127.0.0.1',
              port: server.port,
              user: TIMESCALE_USER,
              database: name,
              statementTimeoutMs: 120_000,
            },
          });
        };
        const name = `w${db++}`;
        const w = await open(name);
        const storage = (await w.stats()).storage ?? '';
        if (layout === 'hypertables') tsVersion = /^timescaledb (\S+):/.exec(storage)?.[1] ?? storage;
        const topicOf = (i: number) => `plant/line${i % 10}/dev${i % 1000}`;
        const s0 = serverCpuSeconds(hostPid);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await fill(w, 0, n / 2, topicOf, (i) => T0 + i, batch);
        const tHalf = performance.now();
        await fill(w, n / 2, n, topicOf, (i) => T0 + i, batch);
        const t1 = performance.now();
        const c = process.cpuUsage(c0);
        const serverCpu = serverCpuSeconds(hostPid) - s0;
        const size = await server.admin(
          `SELECT sum(pg_total_relation_size(c.oid))::bigint AS b FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
            WHERE s.nspname IN ('mqtt_history', '_timescaledb_internal') AND c.relkind = 'r'`,
          name,
        );
        await w.close();
        const r = await open(`r${db++}`);
        await fill(
          r,
          0,
          n,
          () => TOPIC,
          (i) => T0 + i * 1000,
          batch,
        );
        await server.admin('VACUUM ANALYZE', `r${db - 1}`);
        const p = await probe(r, n, quick ? 10 : 30);
        await r.close();
        reads[layout].summarize.push(p.summarize);
        reads[layout].range.push(p.rangeHour);
        const t: LayoutTrial = {
          msgsPerSecond: n / ((t1 - t0) / 1000),
          sustainedMsgsPerSecond: n / 2 / ((t1 - tHalf) / 1000),
          clientCpuUsPerMsg: (c.user + c.system) / n,
          serverCpuUsPerMsg: (serverCpu * 1e6) / n,
          bytesPerRecord: Number(size.rows[0]?.b) / n,
          summarizeP50: p.summarize.p50,
          rangeHourP50: p.rangeHour.p50,
        };
        got[layout] = t;
        ctx.log(
          `history-timescaledb round ${round + 1}, ${layout}: ${Math.round(t.msgsPerSecond)} msgs/s (second half ${Math.round(t.sustainedMsgsPerSecond)}), ` +
            `CPU ${t.clientCpuUsPerMsg.toFixed(1)} µs here + ${t.serverCpuUsPerMsg.toFixed(1)} µs server, ${t.bytesPerRecord.toFixed(0)} B per record; ` +
            `summarize p50 ${t.summarizeP50.toFixed(1)} ms, hour range p50 ${t.rangeHourP50.toFixed(2)} ms`,
        );
      }
      rounds.push(got as Record<Layout, LayoutTrial>);
    }
    const by = (layout: Layout) => {
      const at = rounds.map((r) => r[layout]);
      return {
        msgsPerSecond: spread(at.map((x) => x.msgsPerSecond)),
        sustainedMsgsPerSecond: spread(at.map((x) => x.sustainedMsgsPerSecond)),
        serverCpuUsPerMsg: spread(at.map((x) => x.serverCpuUsPerMsg)),
        bytesPerRecord: spread(at.map((x) => x.bytesPerRecord)),
        summarizeP50: spread(reads[layout].summarize.map((x) => x.p50)),
        rangeHourP50: spread(reads[layout].range.map((x) => x.p50)),
      };
    };
    return {
      server: version,
      timescaledb: tsVersion,
      records: n,
      rounds,
      byLayout: { partitions: by('partitions'), hypertables: by('hypertables') },
      writeRatio: spread(rounds.map((r) => r.hypertables.msgsPerSecond / r.partitions.msgsPerSecond)),
    };
  } finally {
    await server.destroy();
  }
}
