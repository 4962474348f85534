/**
 * The report's "History (PostgreSQL)" section from the history-pg case (bench/cases/history-pg.ts).
 */
import type { HistoryPgResult } from './cases/history-pg.js';

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
