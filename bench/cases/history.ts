/**
 * The SQLite history backend on its own (in-process, no broker): writer throughput to disk
 * (200k records over 1k topics, batches of 1,000, one numeric field each), bytes on disk per
 * record (100k records of a ~10-byte payload with one numeric field), mqtt_summarize's backend
 * call over 1,000,000 points of one topic into 24 buckets, and one hour of one topic out of
 * 1,000,000 records. Targets (issue 12): >= 50,000 msgs/s, <= payload + 64 B, p50 < 100 ms.
 *
 * Standalone: node --import tsx bench/cases/history.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteHistory } from '../../src/history/sqlite-backend.js';
import type { HistoryOptions, HistoryRecord } from '../../src/history/types.js';
import { latency, type LatencySummary } from '../lib/stats.js';

export interface HistoryBenchResult {
  readonly writer: { readonly records: number; readonly seconds: number; readonly msgsPerSecond: number };
  readonly bytesPerRecord: {
    readonly records: number;
    readonly payloadBytes: number;
    readonly fileBytes: number;
    readonly perRecord: number;
    readonly overPayload: number;
  };
  readonly summarize: { readonly points: number; readonly buckets: number; readonly latency: LatencySummary };
  readonly rangeHour: {
    readonly records: number;
    readonly returned: number;
    readonly latency: LatencySummary;
  };
}

const T0 = Date.parse('2026-11-02T00:00:00Z');

function options(location: string): HistoryOptions {
  return {
    location,
    policy: { read: ['#'], write: [], deny: [] },
    retentionMs: 3650 * 86_400_000,
    maxBytes: 2 ** 40,
    maxPayloadBytes: 65_536,
    maxFieldsPerMessage: 32,
  };
}

const record = (topic: string, at: number, i: number): HistoryRecord => {
  const payload = `{"v":${(i % 1000) + 0.5}}`;
  return { topic, payload, sizeBytes: payload.length, qos: 0, retain: false, receivedAt: at };
};

async function fill(
  h: SqliteHistory,
  n: number,
  topicOf: (i: number) => string,
  atOf: (i: number) => number,
) {
  const batch = 1000;
  for (let start = 0; start < n; start += batch) {
    const records: HistoryRecord[] = [];
    for (let i = start; i < Math.min(n, start + batch); i++) records.push(record(topicOf(i), atOf(i), i));
    await h.append(records, []);
  }
}

export async function runHistory(ctx: {
  options: { quick: boolean };
  log(message: string): void;
}): Promise<HistoryBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-history-'));
  const quick = ctx.options.quick;
  try {
    // Writer throughput.
    const nWrite = quick ? 50_000 : 200_000;
    let h = await SqliteHistory.open(options(join(dir, 'writer.db')));
    const t0 = performance.now();
    await fill(
      h,
      nWrite,
      (i) => `plant/line${i % 10}/dev${i % 1000}`,
      (i) => T0 + i,
    );
    const seconds = (performance.now() - t0) / 1000;
    await h.close();
    const writer = { records: nWrite, seconds, msgsPerSecond: nWrite / seconds };
    ctx.log(`history writer: ${Math.round(writer.msgsPerSecond)} msgs/s`);

    // Bytes on disk per record.
    const nBytes = 100_000;
    h = await SqliteHistory.open(options(join(dir, 'bytes.db')));
    await fill(
      h,
      nBytes,
      (i) => `plant/dev${i % 100}`,
      (i) => T0 + i * 10,
    );
    await h.prune(T0); // checkpoints the WAL into the file; nothing is old enough to go
    const fileBytes = (await h.stats()).bytesOnDisk;
    await h.close();
    const payloadBytes = record('x', 0, 1).payload.length;
    const bytesPerRecord = {
      records: nBytes,
      payloadBytes,
      fileBytes,
      perRecord: fileBytes / nBytes,
      overPayload: fileBytes / nBytes - payloadBytes,
    };
    ctx.log(
      `history bytes per record: ${bytesPerRecord.perRecord.toFixed(1)} (payload ${payloadBytes} + ${bytesPerRecord.overPayload.toFixed(1)})`,
    );

    // One topic, 1,000,000 records at 1 Hz (11.6 days): summarize and one hour's range.
    const nBig = quick ? 200_000 : 1_000_000;
    h = await SqliteHistory.open(options(join(dir, 'big.db')));
    await fill(
      h,
      nBig,
      () => 'plant/boiler3/temp',
      (i) => T0 + i * 1000,
    );
    const runs = quick ? 10 : 30;
    const sumTimes: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const s = performance.now();
      const r = await h.summarize({
        filter: 'plant/boiler3/temp',
        from: T0,
        to: T0 + nBig * 1000,
        buckets: 24,
        maxSeries: 10,
      });
      if (i >= 2) sumTimes.push(performance.now() - s);
      if (r.series[0]?.count !== nBig) throw new Error(`summary counted ${r.series[0]?.count}`);
    }
    const rangeTimes: number[] = [];
    let returned = 0;
    for (let i = 0; i < runs * 10 + 5; i++) {
      const from = T0 + ((i * 7919) % Math.max(1, nBig - 3600)) * 1000;
      const s = performance.now();
      const r = await h.range({ filter: 'plant/boiler3/temp', from, to: from + 3_600_000, limit: 100 });
      if (i >= 5) rangeTimes.push(performance.now() - s);
      returned = r.messages.length;
    }
    await h.close();
    const summarize = { points: nBig, buckets: 24, latency: latency(sumTimes) };
    const rangeHour = { records: nBig, returned, latency: latency(rangeTimes) };
    ctx.log(
      `history summarize ${nBig} points: p50 ${summarize.latency.p50.toFixed(1)} ms; one hour's range: p50 ${rangeHour.latency.p50.toFixed(2)} ms`,
    );
    return { writer, bytesPerRecord, summarize, rangeHour };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runHistory({
    options: { quick: process.argv.includes('--quick') },
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}
