/**
 * The report's "History (PostgreSQL)" sections: the history-pg, history-pg-replicas and
 * history-timescaledb cases (bench/cases/history-pg*.ts, history-timescaledb.ts).
 */
import type { HistoryPgReplicasResult } from './cases/history-pg-replicas.js';
import type { HistoryPgResult } from './cases/history-pg.js';
import type { HistoryTimescaleResult } from './cases/history-timescaledb.js';
import { spread, type Spread } from './lib/stats.js';

const n = (x: number, d = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function historyPgSection(h: HistoryPgResult): string {
  const lines = ['## History (PostgreSQL)', ''];
  lines.push(
    `The PostgreSQL history backend (HISTORY_URL) against PostgreSQL ${h.server.split(' ')[0]} made for the run with durable settings (fsync, synchronous_commit, full_page_writes on), on the same two cores as the broker and the bridge (bench/cases/history-pg.ts). \`BENCH_CASES=history-pg npm run bench\` runs this section alone; docs/SCALING.md reads these figures.`,
    '',
  );
  const w = h.writer;
  const rows: string[][] = [
    [
      'Writer (the backend alone), sustained',
      `${n(w.sustainedMsgsPerSecond)} msgs/s over the second half (${n(w.msgsPerSecond)} over all ${n(w.records)} records, ${n(w.topics)} topics, batches of ${n(w.batch)})`,
      '',
    ],
    [
      'CPU per message, writer',
      `${w.clientCpuUsPerMsg.toFixed(1)} µs in the bridge process + ${w.serverCpuUsPerMsg.toFixed(1)} µs in PostgreSQL`,
      '',
    ],
    ['Database bytes per record (one numeric field, heap and indexes)', `${n(w.bytesPerRecord)} B`, ''],
  ];
  if (h.bridge !== undefined) {
    const b = h.bridge;
    for (const x of b.byRate) {
      rows.push(
        [
          `One bridge recording a paced flood into PostgreSQL: ${n(x.rate)} msgs/s offered for ${b.seconds} s (60 B, ${n(b.topics)} topics, ${x.recordedRate.rounds.length} rounds)`,
          `${n(x.recordedRate.median)} msgs/s recorded, first message to last write (${n(x.recordedRate.min)}..${n(x.recordedRate.max)}); in the database ${(x.storedShare.min * 100).toFixed(1)}% of received at least; dropped ${n(x.dropped.max)} at most`,
          x.rate === 25_000 ? '>= 20,000 msgs/s sustained' : '(above the target: where it gives)',
        ],
        [
          `CPU per message at ${n(x.rate)} msgs/s`,
          `${x.bridgeCpuUsPerMsg.median.toFixed(1)} µs in the bridge (ingest and recorder) + ${x.serverCpuUsPerMsg.median.toFixed(1)} µs in PostgreSQL`,
          '',
        ],
      );
    }
    const a = b.atLeastOnce;
    if (a !== undefined && a.recordedRate.rounds.length > 0)
      rows.push(
        [
          `At-least-once (a replica's mode: QoS 1 publisher and collection, kept session, each PUBACK after its batch commits): ${n(a.rate)} msgs/s offered for ${a.seconds} s (${a.recordedRate.rounds.length} rounds)`,
          `${n(a.recordedRate.median)} msgs/s recorded (${n(a.recordedRate.min)}..${n(a.recordedRate.max)}); in the database ${(a.storedShare.min * 100).toFixed(1)}% of received at least; dropped ${n(a.dropped.max)} at most; PUBACKs sent after commit ${n(a.acksSent.min)} at least, acknowledged unwritten ${n(a.ackedUnwritten.max)} at most; intake paused ${n(a.intakePauses.min)}..${n(a.intakePauses.max)} times`,
          '>= 20,000 msgs/s sustained',
        ],
        [
          `CPU per message, at-least-once`,
          `${a.bridgeCpuUsPerMsg.median.toFixed(1)} µs in the bridge + ${a.serverCpuUsPerMsg.median.toFixed(1)} µs in PostgreSQL`,
          '',
        ],
      );
  }
  const r = h.reads;
  rows.push(
    [
      `mqtt_summarize's backend call, ${n(r.records)} points, 24 buckets`,
      `PostgreSQL p50 ${ms(r.postgres.summarize.p50)} ms (p99 ${ms(r.postgres.summarize.p99)}), SQLite p50 ${ms(r.sqlite.summarize.p50)} ms: ${r.summarizeRatio.toFixed(2)}x`,
      'reported against SQLite',
    ],
    [
      `One hour of one topic out of ${n(r.records)} records (limit 100)`,
      `PostgreSQL p50 ${ms(r.postgres.rangeHour.p50)} ms (p99 ${ms(r.postgres.rangeHour.p99)}), SQLite p50 ${ms(r.sqlite.rangeHour.p50)} ms: ${r.rangeRatio.toFixed(2)}x`,
      'reported against SQLite',
    ],
  );
  lines.push(table(['Measure', 'Figure', 'Target'], rows), '');
  return lines.join('\n');
}

export function historyPgReplicasSection(h: HistoryPgReplicasResult): string {
  const lines = ['## History (PostgreSQL): two replicas against one', ''];
  lines.push(
    `Bridge replicas (the ingest path and recorder) in one MQTT 5 shared-subscription group recording into one PostgreSQL ${h.server.split(' ')[0]} database; a paced flood of ${n(h.rate)} msgs/s offered for ${h.seconds} s (QoS 0, 60 B, ${n(h.topics)} topics), a group of one and a group of two alternating per round (bench/cases/history-pg-replicas.ts). Broker, publisher, database and replicas share two cores, so the ratio feeds the capacity model in docs/SCALING.md and is not a target. \`BENCH_CASES=history-pg-replicas npm run bench\` runs this section alone.`,
    '',
  );
  const rows = h.byReplicas.map((x) => [
    String(x.replicas),
    `${n(x.recordedRate.median)} (${n(x.recordedRate.min)}..${n(x.recordedRate.max)})`,
    `${(x.storedShare.min * 100).toFixed(1)}%`,
    n(x.dropped.max),
    `${(x.largestShare.median * 100).toFixed(1)}%`,
    `${x.bridgeCpuUsPerMsg.median.toFixed(1)} + ${x.serverCpuUsPerMsg.median.toFixed(1)}`,
  ]);
  lines.push(
    table(
      [
        'replicas',
        'msgs/s recorded across the group, median (min..max)',
        'in the database, of received (lowest)',
        'dropped (most)',
        'largest replica share',
        'CPU µs per message: replicas + PostgreSQL',
      ],
      rows,
    ),
    '',
    `Two replicas / one, same round: median ${h.ratio.median.toFixed(2)}x (${h.ratio.min.toFixed(2)}..${h.ratio.max.toFixed(2)}, ${h.ratio.rounds.length} rounds).`,
    '',
  );
  return lines.join('\n');
}

export function historyTimescaleSection(h: HistoryTimescaleResult): string {
  const lines = ['## History (PostgreSQL): day partitions against TimescaleDB hypertables', ''];
  lines.push(
    `One PostgreSQL ${h.server.split(' ')[0]} server with TimescaleDB ${h.timescaledb} (the Docker stand-in of scripts/docker-images.sh: Debian's package, the Apache edition, so no compression) and durable settings; each round one database with the extension (hypertables, 1-day chunks) and one without (day partitions), alternating (bench/cases/history-timescaledb.ts). The writer and reads of the PostgreSQL case: ${n(h.records)} records over 1,000 topics in batches of 20,000, then ${n(h.records)} points of one topic, through Docker's port proxy. \`BENCH_CASES=history-timescaledb npm run bench\` runs this section alone (it needs the Docker engine); docs/SCALING.md reads these figures.`,
    '',
  );
  const s = (x: Spread, f: (v: number) => string) => `${f(x.median)} (${f(x.min)}..${f(x.max)})`;
  const p = h.byLayout.partitions;
  const t = h.byLayout.hypertables;
  const ratio = (f: (r: HistoryTimescaleResult['rounds'][number]) => number) => spread(h.rounds.map(f));
  const x = (r: Spread) => `${r.median.toFixed(2)}x (${r.min.toFixed(2)}..${r.max.toFixed(2)})`;
  lines.push(
    table(
      ['figure, median (min..max)', 'day partitions', 'hypertables', 'hypertables / partitions, per round'],
      [
        ['Writer, msgs/s', s(p.msgsPerSecond, n), s(t.msgsPerSecond, n), x(h.writeRatio)],
        [
          'PostgreSQL CPU per record',
          `${p.serverCpuUsPerMsg.median.toFixed(1)} µs`,
          `${t.serverCpuUsPerMsg.median.toFixed(1)} µs`,
          '',
        ],
        ['Bytes per record', `${n(p.bytesPerRecord.median)} B`, `${n(t.bytesPerRecord.median)} B`, ''],
        [
          'mqtt_summarize backend call, 24 buckets, p50 ms',
          s(p.summarizeP50, ms),
          s(t.summarizeP50, ms),
          x(ratio((r) => r.hypertables.summarizeP50 / r.partitions.summarizeP50)),
        ],
        [
          'One hour of one topic, p50 ms',
          s(p.rangeHourP50, ms),
          s(t.rangeHourP50, ms),
          x(ratio((r) => r.hypertables.rangeHourP50 / r.partitions.rangeHourP50)),
        ],
      ],
    ),
    '',
  );
  return lines.join('\n');
}
