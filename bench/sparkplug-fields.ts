/**
 * The history writer's cost per Sparkplug DDATA for its numeric series, in process: 20 metrics by
 * alias (the shape of the sparkplug ingest case), named from the DBIRTH, as SparkplugFields reads
 * them (the walk of sparkplug-scan.ts) against the full decode, view and numericMetrics it used
 * before; both give the same 20 fields. Microseconds per message, 100,000 messages, 5 rounds.
 * Usage: node --import tsx bench/sparkplug-fields.ts
 */
import { birthOf, decodeSparkplug, viewSparkplug } from '../src/decode/sparkplug.js';
import { numericMetrics, SparkplugFields } from '../src/history/sparkplug-fields.js';
import { BENCH_BIRTH, BENCH_DATA } from './lib/sparkplug-payloads.js';

const birth = BENCH_BIRTH.toString('latin1');
const data = BENCH_DATA.toString('latin1');
const fields = new SparkplugFields();
fields.fields('spBv1.0/bench/DBIRTH/e/d', birth, 64);
const declared = birthOf(decodeSparkplug(Buffer.from(birth, 'latin1'), 1 << 20), 1000);
const N = 100_000;
const LIMITS = { maxMetrics: 1000, maxElements: 0, maxDepth: 1 };

const cases: Array<[string, () => number]> = [
  [
    'full decode and view',
    () => {
      let n = 0;
      for (let i = 0; i < N; i++)
        n += numericMetrics(
          viewSparkplug(decodeSparkplug(Buffer.from(data, 'latin1'), 1 << 20), declared, LIMITS).metrics,
          64,
        ).length;
      return n;
    },
  ],
  [
    'walk (SparkplugFields)',
    () => {
      let n = 0;
      for (let i = 0; i < N; i++) n += fields.fields('spBv1.0/bench/DDATA/e/d', data, 64)?.length ?? 0;
      return n;
    },
  ],
];
for (let round = 0; round < 5; round++) {
  for (const [name, run] of cases) {
    const t0 = process.hrtime.bigint();
    const n = run();
    const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
    process.stdout.write(`${name}: ${us.toFixed(2)} us per DDATA (${n / N} fields each)\n`);
  }
}
