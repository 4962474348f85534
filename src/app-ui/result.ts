/**
 * The chart data in a tool result, read defensively: the view gets `structuredContent` from the
 * host, and everything in it (topic names, fields, units) is broker data. Only the expected
 * shape is kept (the summary's series, its range and bucket width, and `bridgeOffline`), with
 * finite numbers, strings and bounded counts; anything else is dropped.
 */
import {
  CHART_LIMITS,
  type ChartBucket,
  type ChartInput,
  type ChartSeries,
  type OfflinePeriod,
} from '../pictures/types.js';

/** Series kept from a result: more than a chart draws, so that switching fields has some to pick from. */
export const MAX_SERIES_KEPT = 64;
const MAX_TEXT = 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, MAX_TEXT) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const time = (v: unknown): string | undefined => {
  const s = str(v);
  return s !== undefined && Number.isFinite(Date.parse(s)) ? s : undefined;
};

function bucketOf(v: unknown): ChartBucket | undefined {
  if (!isObj(v)) return undefined;
  const start = time(v.start);
  const count = num(v.count);
  if (start === undefined || count === undefined) return undefined;
  const min = num(v.min);
  const max = num(v.max);
  const mean = num(v.mean);
  if (count > 0 && min !== undefined && max !== undefined && mean !== undefined)
    return { start, count, min, max, mean };
  return { start, count: 0 };
}

function seriesOf(v: unknown): ChartSeries | undefined {
  if (!isObj(v) || !Array.isArray(v.buckets)) return undefined;
  const topic = str(v.topic);
  const field = str(v.field) ?? '';
  if (topic === undefined) return undefined;
  const unit = str(v.unit);
  const buckets = v.buckets.slice(0, CHART_LIMITS.maxBuckets).flatMap((b) => bucketOf(b) ?? []);
  return { topic, field, ...(unit !== undefined ? { unit } : {}), buckets };
}

function offlineOf(v: unknown): OfflinePeriod | undefined {
  if (!isObj(v)) return undefined;
  const from = time(v.from);
  if (from === undefined) return undefined;
  const to = time(v.to);
  return to === undefined ? { from } : { from, to };
}

/** The chart input in a result's structuredContent, or undefined when it has none. */
export function chartInputOf(content: unknown): ChartInput | undefined {
  if (!isObj(content) || !Array.isArray(content.series)) return undefined;
  const from = time(content.from);
  const to = time(content.to);
  const bucketSeconds = num(content.bucketSeconds);
  if (from === undefined || to === undefined || bucketSeconds === undefined || bucketSeconds <= 0)
    return undefined;
  const series = content.series.slice(0, MAX_SERIES_KEPT).flatMap((s) => seriesOf(s) ?? []);
  const offline = Array.isArray(content.bridgeOffline)
    ? content.bridgeOffline.slice(0, CHART_LIMITS.maxOffline).flatMap((p) => offlineOf(p) ?? [])
    : [];
  return { from, to, bucketSeconds, series, offline };
}

/** The fields of the series, in order of first appearance (the field switch's choices). */
export function fieldsOf(input: ChartInput): string[] {
  return [...new Set(input.series.map((s) => s.field))];
}

/** The input with only one field's series (undefined: all), and only buckets inside [from, to). */
export function viewOf(
  input: ChartInput,
  field: string | undefined,
  range?: { from: number; to: number },
): ChartInput {
  const series = field === undefined ? input.series : input.series.filter((s) => s.field === field);
  if (range === undefined) return { ...input, series };
  const width = input.bucketSeconds * 1000;
  return {
    ...input,
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    series: series.map((s) => ({
      ...s,
      buckets: s.buckets.filter((b) => {
        const start = Date.parse(b.start);
        return start + width > range.from && start < range.to;
      }),
    })),
  };
}
