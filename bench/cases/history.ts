/**
 * The SQLite history backend on its own (in-process, no broker): writer throughput to disk,
 * sustained (1,000,000 records over 1k topics, one numeric field each, in batches of the
 * recorder's batchMax, 20,000, which is what it hands over when the disk is the bottleneck: one
 * batch in flight, everything queued meanwhile in the next; also batches of 1,000 for what a
 * slow trickle costs per record), bytes on disk per record (a ~10-byte payload with one numeric
 * field, and 100 B, 1 KB, 4 KB, 16 KB opaque payloads), and, as one topic's history grows
 * through 10k, 100k and 1M records (10M with BENCH_HISTORY_10M=1: about 4 minutes more),
 * mqtt_summarize's backend call over all of it into 24 buckets and one hour's range read.
 * Targets (issue 12): >= 50,000 msgs/s, <= payload + 64 B, summarize p50 < 100 ms at 1M.
 *
 * Standalone: node --import tsx bench/cases/history.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteHistory } from '../../src/history/sqlite-backend.js';
import type { HistoryOptions, HistoryRecord } from '../../src/history/types.js';
import { latency, type LatencySummary } from '../lib/stats.js';

export interface HistoryCurvePoint {
  readonly records: number;
  readonly summarize: LatencySummary;
  readonly rangeHour: LatencySummary;
  readonly returned: number;
  readonly fileBytes: number;
}

export interface HistoryBenchResult {
  readonly writer: {
    readonly records: number;
    readonly topics: number;
    readonly batch: number;
    readonly seconds: number;
    readonly msgsPerSecond: number;
    /** Over the second half only: the rate once the file is large. */
    readonly sustainedMsgsPerSecond: number;
    readonly msgsPerCpuSecond: number;
    readonly smallBatch: { readonly records: number; readonly batch: number; readonly msgsPerSecond: number };
  };
  readonly bytesPerRecord: {
    readonly records: number;
    readonly payloadBytes: number;
    readonly fileBytes: number;
    readonly perRecord: number;
    readonly overPayload: number;
  };
  readonly payloadSizes: ReadonlyArray<{
    readonly payloadBytes: number;
    readonly records: number;
    readonly perRecord: number;
  }>;
  readonly summarize: { readonly points: number; readonly buckets: number; readonly latency: LatencySummary };
  readonly rangeHour: {
    readonly records: number;
    readonly returned: number;
    readonly latency: LatencySummary;
  };
  readonly curve: readonly HistoryCurvePoint[];
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
  { batch = 1000, from = 0, payloadOf = (i: number) => record('', 0, i).payload } = {},
) {
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

const opaque = (size: number) => (i: number) => Buffer.alloc(size, `payload ${i} `).toString('latin1');

/** summarize over everything and one hour's range out of a topic of `n` records at 1 Hz. */
async function probe(
  h: SqliteHistory,
  n: number,
  runs: number,
): Promise<Omit<HistoryCurvePoint, 'fileBytes'>> {
  const sumTimes: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const s = performance.now();
    const r = await h.summarize({ filter: TOPIC, from: T0, to: T0 + n * 1000, buckets: 24, maxSeries: 10 });
    if (i >= 2) sumTimes.push(performance.now() - s);
    if (r.series[0]?.count !== n) throw new Error(`summary counted ${r.series[0]?.count}`);
  }
  const rangeTimes: number[] = [];
  let returned = 0;
  for (let i = 0; i < runs * 10 + 5; i++) {
    const from = T0 + ((i * 7919) % Math.max(1, n - 3600)) * 1000;
    const s = performance.now();
    const r = await h.range({ filter: TOPIC, from, to: from + 3_600_000, limit: 100 });
    if (i >= 5) rangeTimes.push(performance.now() - s);
    returned = r.messages.length;
  }
  return { records: n, summarize: latency(sumTimes), rangeHour: latency(rangeTimes), returned };
}

const TOPIC = 'plant/boiler3/temp';

export async function runHistory(ctx: {
  options: { quick: boolean };
  log(message: string): void;
}): Promise<HistoryBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-history-'));
  const quick = ctx.options.quick;
  try {
    // Writer throughput, sustained: batches as the recorder hands them over under load.
    const nWrite = quick ? 200_000 : 1_000_000;
    const batch = 20_000;
    let h = await SqliteHistory.open(options(join(dir, 'writer.db')));
    const topicOf = (i: number) => `plant/line${i % 10}/dev${i % 1000}`;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fill(h, nWrite / 2, topicOf, (i) => T0 + i, { batch });
    const tHalf = performance.now();
    await fill(h, nWrite, topicOf, (i) => T0 + i, { batch, from: nWrite / 2 });
    const t1 = performance.now();
    const cpu = process.cpuUsage(c0); // main thread and the worker: the whole process
    await h.close();
    const nSmall = quick ? 20_000 : 100_000;
    h = await SqliteHistory.open(options(join(dir, 'small-batches.db')));
    const s0 = performance.now();
    await fill(h, nSmall, topicOf, (i) => T0 + i, { batch: 1000 });
    const smallSeconds = (performance.now() - s0) / 1000;
    await h.close();
    const writer = {
      records: nWrite,
      topics: 1000,
      batch,
      seconds: (t1 - t0) / 1000,
      msgsPerSecond: nWrite / ((t1 - t0) / 1000),
      sustainedMsgsPerSecond: nWrite / 2 / ((t1 - tHalf) / 1000),
      msgsPerCpuSecond: nWrite / ((cpu.user + cpu.system) / 1e6),
      smallBatch: { records: nSmall, batch: 1000, msgsPerSecond: nSmall / smallSeconds },
    };
    ctx.log(
      `history writer: ${Math.round(writer.msgsPerSecond)} msgs/s (second half ${Math.round(writer.sustainedMsgsPerSecond)}, ${Math.round(writer.msgsPerCpuSecond)}/cpu-s); batches of 1,000: ${Math.round(writer.smallBatch.msgsPerSecond)} msgs/s`,
    );

    // Bytes on disk per record: after a checkpoint (prune), nothing old enough to go.
    const onDisk = async (name: string, n: number, payloadOf: (i: number) => string) => {
      const db = await SqliteHistory.open(options(join(dir, name)));
      await fill(
        db,
        n,
        (i) => `plant/dev${i % 100}`,
        (i) => T0 + i * 10,
        { payloadOf },
      );
      await db.prune(T0);
      const bytes = (await db.stats()).bytesOnDisk;
      await db.close();
      return bytes;
    };
    const nBytes = 100_000;
    const fileBytes = await onDisk('bytes.db', nBytes, (i) => record('', 0, i).payload);
    const payloadBytes = record('x', 0, 1).payload.length;
    const bytesPerRecord = {
      records: nBytes,
      payloadBytes,
      fileBytes,
      perRecord: fileBytes / nBytes,
      overPayload: fileBytes / nBytes - payloadBytes,
    };
    const payloadSizes = [];
    for (const size of [100, 1024, 4096, 16_384]) {
      const n = quick ? 2000 : size > 1024 ? 10_000 : 50_000;
      payloadSizes.push({
        payloadBytes: size,
        records: n,
        perRecord: (await onDisk(`p${size}.db`, n, opaque(size))) / n,
      });
    }
    ctx.log(
      `history bytes per record: ${bytesPerRecord.perRecord.toFixed(1)} (payload ${payloadBytes} + ${bytesPerRecord.overPayload.toFixed(1)}); ` +
        payloadSizes.map((p) => `${p.payloadBytes} B: ${p.perRecord.toFixed(0)}`).join(', '),
    );

    // One topic at 1 Hz growing through the curve's sizes: summarize all of it, one hour's range.
    const sizes = quick
      ? [10_000, 100_000, 200_000]
      : [10_000, 100_000, 1_000_000, ...(process.env.BENCH_HISTORY_10M === '1' ? [10_000_000] : [])];
    const runs = quick ? 10 : 30;
    h = await SqliteHistory.open(options(join(dir, 'big.db')));
    const curve: HistoryCurvePoint[] = [];
    let have = 0;
    for (const n of sizes) {
      await fill(
        h,
        n,
        () => TOPIC,
        (i) => T0 + i * 1000,
        { batch, from: have },
      );
      have = n;
      await h.prune(T0);
      const point = { ...(await probe(h, n, runs)), fileBytes: (await h.stats()).bytesOnDisk };
      curve.push(point);
      ctx.log(
        `history curve ${n} records: summarize p50 ${point.summarize.p50.toFixed(1)} ms, one hour's range p50 ${point.rangeHour.p50.toFixed(2)} ms`,
      );
    }
    await h.close();
    const at1M = curve.find((c) => c.records === 1_000_000) ?? curve[curve.length - 1];
    if (at1M === undefined) throw new Error('no history size measured');
    const summarize = { points: at1M.records, buckets: 24, latency: at1M.summarize };
    const rangeHour = { records: at1M.records, returned: at1M.returned, latency: at1M.rangeHour };
    return { writer, bytesPerRecord, payloadSizes, summarize, rangeHour, curve };
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
