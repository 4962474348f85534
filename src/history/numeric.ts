/**
 * Numbers in payloads, and the arithmetic over them. Pure functions, no I/O.
 *
 * - extractNumeric: the numeric values of one stored payload (latin1, one char per byte): a
 *   payload that is itself a number (`21.5`, ` 21.5\n`) or a JSON number gives the field ``; the
 *   numeric and boolean (0/1) leaves of a JSON object or array give their dot paths (`temp`,
 *   `sensors.0.value`). Bounded: payloads over 64 KiB are not parsed, leaves deeper than 16 levels
 *   are skipped, at most maxFields per message. Malformed JSON and non-finite numbers give nothing.
 * - summarizePoints: exact count/min/max/mean/first/last and equal-width buckets over [from, to),
 *   the same arithmetic the backends do in SQL; the memory-only path of the tools uses it.
 * - medianGap: the usual interval of a topic from its receive times.
 */
import type { Bucket, Point, Series } from './types.js';

export const MAX_NUMERIC_PAYLOAD_BYTES = 64 * 1024;
export const MAX_JSON_DEPTH = 16;
export const DEFAULT_MAX_FIELDS = 32;

export interface NumericField {
  /** Dot path; `` for a payload that is itself a number. */
  readonly field: string;
  readonly value: number;
}

const PLAIN_NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

export function extractNumeric(payload: string, maxFields: number = DEFAULT_MAX_FIELDS): NumericField[] {
  if (maxFields <= 0 || payload.length === 0 || payload.length > MAX_NUMERIC_PAYLOAD_BYTES) return [];
  const text = payload.trim();
  if (text === '') return [];
  const first = text.charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) {
    // Not an object or array: a bare number (JSON's or a looser one such as `+1` or `5.`).
    if (!PLAIN_NUMBER.test(text)) return [];
    const value = Number(text);
    return Number.isFinite(value) ? [{ field: '', value }] : [];
  }
  let parsed: unknown;
  try {
    // The bytes as stored are latin1; keys may be UTF-8.
    parsed = JSON.parse(NON_ASCII.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text);
  } catch {
    return []; // malformed JSON is simply not numeric
  }
  const out: NumericField[] = [];
  walk(parsed, '', 0, out, maxFields);
  return out;
}

function walk(node: unknown, path: string, depth: number, out: NumericField[], max: number): void {
  if (out.length >= max) return;
  if (typeof node === 'number') {
    if (Number.isFinite(node)) out.push({ field: path, value: node });
    return;
  }
  if (typeof node === 'boolean') {
    out.push({ field: path, value: node ? 1 : 0 });
    return;
  }
  if (node === null || typeof node !== 'object' || depth >= MAX_JSON_DEPTH) return;
  const prefix = path === '' ? '' : `${path}.`;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length && out.length < max; i++)
      walk(node[i], `${prefix}${i}`, depth + 1, out, max);
    return;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (out.length >= max) return;
    walk(value, `${prefix}${key}`, depth + 1, out, max);
  }
}

export type PointSummary = Omit<Series, 'topic' | 'field'>;

/**
 * Index of the bucket holding `at` in [from, to) split into `buckets` equal parts. Integer
 * arithmetic (times are whole milliseconds), the same as the SQL of the backends.
 */
export function bucketIndex(at: number, from: number, to: number, buckets: number): number {
  return Math.floor(((at - from) * buckets) / (to - from));
}

/** First millisecond of bucket i: the smallest `at` whose bucketIndex is i. */
export function bucketStart(i: number, from: number, to: number, buckets: number): number {
  return from + Math.ceil((i * (to - from)) / buckets);
}

/**
 * Exact summary of the points in [from, to); undefined when none is in it. `first` is the
 * earliest point (the first given among equal times), `last` the latest (the last given).
 */
export function summarizePoints(
  points: readonly Point[],
  from: number,
  to: number,
  buckets: number,
): PointSummary | undefined {
  if (!(to > from) || buckets < 1) return undefined;
  const counts = new Array<number>(buckets).fill(0);
  const mins = new Array<number>(buckets).fill(Infinity);
  const maxs = new Array<number>(buckets).fill(-Infinity);
  const sums = new Array<number>(buckets).fill(0);
  let first: Point | undefined;
  let last: Point | undefined;
  for (const p of points) {
    if (p.at < from || p.at >= to) continue;
    const b = bucketIndex(p.at, from, to, buckets);
    counts[b] = (counts[b] as number) + 1;
    if (p.value < (mins[b] as number)) mins[b] = p.value;
    if (p.value > (maxs[b] as number)) maxs[b] = p.value;
    sums[b] = (sums[b] as number) + p.value;
    if (first === undefined || p.at < first.at) first = p;
    if (last === undefined || p.at >= last.at) last = p;
  }
  if (first === undefined || last === undefined) return undefined;
  return combineBuckets(
    counts.map((count, i) => ({
      count,
      min: mins[i] as number,
      max: maxs[i] as number,
      sum: sums[i] as number,
    })),
    from,
    to,
    { at: first.at, value: first.value },
    { at: last.at, value: last.value },
  );
}

export interface BucketAggregate {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
}

/** The summary from per-bucket aggregates (index = bucket), as SQL returns them. */
export function combineBuckets(
  aggregates: readonly (BucketAggregate | undefined)[],
  from: number,
  to: number,
  first: Point,
  last: Point,
): PointSummary {
  const n = aggregates.length;
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const out: Bucket[] = [];
  for (let i = 0; i < n; i++) {
    const a = aggregates[i];
    const start = bucketStart(i, from, to, n);
    if (a === undefined || a.count === 0) {
      out.push({ start, count: 0 });
      continue;
    }
    count += a.count;
    sum += a.sum;
    if (a.min < min) min = a.min;
    if (a.max > max) max = a.max;
    out.push({ start, count: a.count, min: a.min, max: a.max, mean: a.sum / a.count });
  }
  return { count, min, max, mean: sum / count, first, last, buckets: out };
}

/** Median gap between consecutive times (any order); undefined with fewer than 2. */
export function medianGap(times: readonly number[]): number | undefined {
  if (times.length < 2) return undefined;
  const sorted = [...times].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) gaps.push((sorted[i] as number) - (sorted[i - 1] as number));
  gaps.sort((a, b) => a - b);
  const mid = gaps.length >> 1;
  return gaps.length % 2 === 1 ? gaps[mid] : ((gaps[mid - 1] as number) + (gaps[mid] as number)) / 2;
}
