/**
 * Two replicas against one, in the same run (issue 15): bridge ingest workers (the bridge's
 * ingest path and recorder, bench/workers/ingest.ts) as replicas of one MQTT 5 shared-subscription
 * group (MQTT_REPLICA_ID, MQTT_SHARE_GROUP), recording into one PostgreSQL database made for the
 * run with durable settings. A paced flood of 60-byte QoS 0 messages over 1,000 topics (QoS 0 as
 * in the one-bridge case of history-pg, so no acknowledgement is held), offered above what one
 * replica records here, goes to a group of one and to a group of two, alternating per round.
 *
 * Figures per trial: records written per second across the group (all records written, from the
 * first message any replica received to the last write of any), the rows in the database against
 * the messages received, each replica's share, and CPU per message in the replicas and in the
 * database. The ratio two / one feeds the capacity model in docs/SCALING.md; broker, publisher,
 * database and replicas share the two cores of this machine, so it is not a target.
 */
import type { BenchContext } from '../lib/context.js';
import { spread, type Spread } from '../lib/stats.js';
import { tsxWorker } from '../lib/proc.js';
import { startPostgres } from '../../test/helpers/postgres.js';
import { serverCpuSeconds } from './history-pg.js';
import { nodeSubscriber, type IngestTrial } from './ingest.js';

interface ReplicaTrial {
  readonly replicas: number;
  readonly received: number;
  readonly stored: number;
  readonly recorded: number;
  readonly shares: number[];
  readonly cpu: number;
  readonly server: number;
  readonly dropped: number;
}

export interface HistoryPgReplicasResult {
  readonly server: string;
  readonly rate: number;
  readonly seconds: number;
  readonly topics: number;
  readonly byReplicas: ReadonlyArray<{
    readonly replicas: number;
    /** Records written per second across the group. */
    readonly recordedRate: Spread;
    /** Rows in PostgreSQL / messages received by the group. */
    readonly storedShare: Spread;
    readonly dropped: Spread;
    /** CPU µs per message: the replicas together, and PostgreSQL. */
    readonly bridgeCpuUsPerMsg: Spread;
    readonly serverCpuUsPerMsg: Spread;
    /** The largest replica's share of the messages (0.5 is an even split of two). */
    readonly largestShare: Spread;
  }>;
  /** Median of two replicas' recorded rate over one's, each round's pair taken together. */
  readonly ratio: Spread;
}

export async function runHistoryPgReplicas(ctx: BenchContext): Promise<HistoryPgReplicasResult> {
  const quick = ctx.options.quick;
  const seconds = quick ? 4 : 8;
  const topics = 1000;
  const rate = 40_000;
  const server = await startPostgres({
    extraConfig: ['fsync = on', 'synchronous_commit = on', 'full_page_writes = on', 'max_wal_size = 4GB'],
  });
  const trials: ReplicaTrial[] = [];
  try {
    const version = String((await server.admin('SHOW server_version')).rows[0]?.server_version);
    for (let round = 0; round < ctx.options.rounds; round++) {
      for (const replicas of round % 2 === 0 ? [1, 2] : [2, 1]) {
        const name = `replicas${round}n${replicas}`;
        await server.createDatabase(name);
        const count = rate * seconds;
        const group = Array.from({ length: replicas }, (_, i) =>
          nodeSubscriber(ctx, 'history', Math.ceil(count / replicas), false, {
            BENCH_HISTORY_URL: server.url(name),
            BENCH_HISTORY_DRAIN: '1',
            BENCH_SHARE_GROUP: name,
            BENCH_REPLICA_ID: `${name}r${i}`,
          })(),
        );
        await Promise.all(group.map((g) => g.ready));
        const before = serverCpuSeconds(server.pid);
        const publisher = tsxWorker('test/soak/flood-publisher.ts', [
          ctx.broker.url,
          ctx.pki.dir,
          String(rate),
          String(seconds),
          String(topics),
          '60',
          `bench/replicas/${name}/`,
        ]);
        const [results] = await Promise.all([
          Promise.all(group.map((g) => g.done)),
          new Promise<void>((resolve) => publisher.once('exit', () => resolve())),
        ]);
        const serverCpu = serverCpuSeconds(server.pid) - before;
        const trial = summarize(replicas, results, serverCpu);
        const stored = Number(
          (await server.admin('SELECT count(*) AS n FROM mqtt_history.messages', name)).rows[0]?.n,
        );
        trials.push({ ...trial, stored });
        ctx.log(
          `history-pg replicas round ${round + 1}, ${replicas} replica(s), ${rate} msg/s offered: received ${trial.received} (shares ${trial.shares.join('/')}), ${stored} in PostgreSQL, recorded ${Math.round(trial.recorded)} msg/s across the group, dropped ${trial.dropped}; CPU per message ${trial.cpu.toFixed(1)} µs replicas + ${trial.server.toFixed(1)} µs server`,
        );
      }
    }
    const pairs: number[] = [];
    for (let round = 0; round < ctx.options.rounds; round++) {
      const one = trials[round * 2 + (round % 2 === 0 ? 0 : 1)];
      const two = trials[round * 2 + (round % 2 === 0 ? 1 : 0)];
      if (one !== undefined && two !== undefined && one.recorded > 0) pairs.push(two.recorded / one.recorded);
    }
    return {
      server: version,
      rate,
      seconds,
      topics,
      byReplicas: [1, 2].map((replicas) => {
        const at = trials.filter((t) => t.replicas === replicas);
        return {
          replicas,
          recordedRate: spread(at.map((t) => t.recorded)),
          storedShare: spread(at.map((t) => t.stored / Math.max(1, t.received))),
          dropped: spread(at.map((t) => t.dropped)),
          bridgeCpuUsPerMsg: spread(at.map((t) => t.cpu)),
          serverCpuUsPerMsg: spread(at.map((t) => t.server)),
          largestShare: spread(at.map((t) => Math.max(...t.shares) / Math.max(1, t.received))),
        };
      }),
      ratio: spread(pairs),
    };
  } finally {
    await server.destroy();
  }
}

/** One trial across the group: rates from wall-clock times, since the replicas are processes. */
function summarize(
  replicas: number,
  results: IngestTrial[],
  serverCpu: number,
): Omit<ReplicaTrial, 'stored'> {
  const received = results.reduce((sum, r) => sum + r.received, 0);
  const written = results.reduce((sum, r) => sum + Number(r.history?.written ?? 0), 0);
  const first = Math.min(...results.map((r) => r.firstWallMs ?? Infinity));
  const last = Math.max(...results.map((r) => r.recordedWallMs ?? -Infinity));
  const cpu = results.reduce((sum, r) => sum + (r.recordedCpuSeconds ?? r.cpuSeconds), 0);
  const dropped = results.reduce(
    (sum, r) =>
      sum + Number(r.history?.dropped?.queueFull ?? 0) + Number(r.history?.dropped?.whilePaused ?? 0),
    0,
  );
  return {
    replicas,
    received,
    recorded: Number.isFinite(first) && last > first ? written / ((last - first) / 1000) : 0,
    shares: results.map((r) => r.received),
    cpu: (cpu * 1e6) / Math.max(1, received),
    server: (serverCpu * 1e6) / Math.max(1, received),
    dropped,
  };
}
