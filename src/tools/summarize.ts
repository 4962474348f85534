import { z } from 'zod';
import {
  DEFAULT_MAX_FIELDS,
  extractNumeric,
  summarizePoints,
  type NumericField,
} from '../history/numeric.js';
import { numericMetrics } from '../history/sparkplug-fields.js';
import type { StoredMessage } from '../store/types.js';
import type { Point, Series } from '../history/types.js';
import { neutralize } from '../output/neutralize.js';
import { iso, readBasis } from './basis.js';
import { defineTool } from './define.js';
import type { ToolDeps } from './deps.js';
import { BasisShape, FilterInput, SourceField } from './schemas.js';
import { timeWindow, WindowShape } from './window.js';

/** Series (topic x field) in one result at most. */
const MAX_SERIES = 50;
/** Messages memory may hold in all; a memory summary reads at most this many. */
const MEMORY_SCAN = 1_000_000;

const PointShape = z.object({ at: z.string(), value: z.number() });

/** The arguments of a summary (mqtt_chart takes them too). */
export const SummaryInputShape = {
  filter: FilterInput,
  field: z.string().max(256).optional().describe('Dot path of one field; absent: every numeric field'),
  ...WindowShape,
  buckets: z.number().int().min(1).max(200).default(24).describe('Equal time buckets, 1-200'),
};

/** What a summary returns (mqtt_chart returns it too, with its picture). */
export const SummaryOutput = z.object({
  filter: z.string(),
  from: z.string(),
  to: z.string(),
  bucketSeconds: z.number(),
  source: SourceField,
  series: z.array(
    z
      .object({
        topic: z.string(),
        field: z.string(),
        count: z.number().int(),
        min: z.number(),
        max: z.number(),
        mean: z.number(),
        first: PointShape,
        last: PointShape,
        buckets: z.array(
          z.object({
            start: z.string(),
            count: z.number().int(),
            min: z.number().optional(),
            max: z.number().optional(),
            mean: z.number().optional(),
          }),
        ),
      })
      .meta({
        summary: true,
        description:
          'topic, field, count, min, max, mean, first and last {at, value}; buckets [{start, count, min, max, mean}] ' +
          '(no min/max/mean when count is 0)',
      }),
  ),
  ...BasisShape,
});

export interface SummaryArgs {
  readonly filter: string;
  readonly field?: string | undefined;
  readonly buckets: number;
  readonly sinceSeconds?: number | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export const summarizeTool = defineTool({
  name: 'mqtt_summarize',
  title: 'Summarize numeric MQTT values over time',
  description:
    'Exact statistics of the numeric values of matching topics over a time window, computed by the bridge: per ' +
    'topic and field (dot path into JSON, e.g. "temp" or "sensors.0.value"; "" for a payload that is a number) ' +
    'count, min, max, mean, first and last, and the window split into equal buckets. Use it instead of reading ' +
    'raw messages to answer "what did line 1 do overnight": filter "plant/line1/#", sinceSeconds 43200. ' +
    'source says whether history (on disk) or memory answered; heldSince: nothing earlier is held.',
  input: z.object(SummaryInputShape).strict(),
  output: SummaryOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint: 'to see more series, narrow the filter or name one field',
  handler: async (args, { deps }) => summaryOf(deps, args),
});

/** A summary as mqtt_summarize returns it (policy checked, window resolved, basis added). */
export async function summaryOf(deps: ToolDeps, { filter, field, buckets, ...window }: SummaryArgs) {
  deps.policy.assertReadFilter(filter);
  const now = deps.now();
  const { since, until } = timeWindow(window, now, 86_400);
  const from = since ?? now - 86_400_000;
  const to = until ?? now + 1;
  const result =
    deps.history !== undefined
      ? await deps.history.backend.summarize({ filter, field, from, to, buckets, maxSeries: MAX_SERIES })
      : summarizeMemory(deps, { filter, field, from, to, buckets, now });
  const stats = deps.history !== undefined ? await deps.history.backend.stats() : undefined;
  return {
    filter,
    from: iso(from),
    to: iso(to),
    bucketSeconds: (to - from) / buckets / 1000,
    source: deps.history !== undefined ? ('history' as const) : ('memory' as const),
    series: result.series.map(showSeries),
    ...readBasis(deps, [filter], {
      since: from,
      limited: result.more,
      now,
      ...(stats !== undefined ? { historySince: stats.oldestAt ?? now } : {}),
    }),
  };
}

/** A message's numeric fields: Sparkplug metrics by name (the tracker's view), else from the payload. */
function numbersOf(deps: ToolDeps, m: StoredMessage): NumericField[] {
  const decoded = m.topic.startsWith('spBv1.0/') ? deps.sparkplug?.view(m) : undefined;
  if (decoded === undefined) return extractNumeric(m.data, DEFAULT_MAX_FIELDS);
  if (!('ok' in decoded)) return [];
  return numericMetrics(decoded.ok.metrics, DEFAULT_MAX_FIELDS);
}

/** Over what memory holds: every matching message in the window, its numbers extracted here. */
function summarizeMemory(
  deps: ToolDeps,
  q: { filter: string; field: string | undefined; from: number; to: number; buckets: number; now: number },
): { series: Series[]; more: boolean } {
  const found = deps.store.query(q.filter, { limit: MEMORY_SCAN, since: q.from, now: q.now });
  const points = new Map<string, { topic: string; field: string; points: Point[] }>();
  // Newest first from the store; the series want oldest first.
  for (let i = found.length - 1; i >= 0; i--) {
    const m = found[i];
    if (m === undefined || m.receivedAt >= q.to) continue;
    for (const { field, value } of numbersOf(deps, m)) {
      if (q.field !== undefined && field !== q.field) continue;
      const key = `${m.topic}\u0000${field}`;
      let s = points.get(key);
      if (s === undefined) {
        s = { topic: m.topic, field, points: [] };
        points.set(key, s);
      }
      s.points.push({ at: m.receivedAt, value });
    }
  }
  const all = [...points.values()].sort((a, b) =>
    a.topic === b.topic ? (a.field < b.field ? -1 : 1) : a.topic < b.topic ? -1 : 1,
  );
  const series: Series[] = [];
  for (const s of all.slice(0, MAX_SERIES)) {
    const summary = summarizePoints(s.points, q.from, q.to, q.buckets);
    if (summary !== undefined) series.push({ topic: s.topic, field: s.field, ...summary });
  }
  return { series, more: all.length > MAX_SERIES };
}

function showSeries(s: Series) {
  return {
    topic: neutralize(s.topic),
    field: neutralize(s.field),
    count: s.count,
    min: s.min,
    max: s.max,
    mean: round(s.mean),
    first: { at: iso(s.first.at), value: s.first.value },
    last: { at: iso(s.last.at), value: s.last.value },
    buckets: s.buckets.map((b) => ({
      start: iso(b.start),
      count: b.count,
      ...(b.min !== undefined ? { min: b.min } : {}),
      ...(b.max !== undefined ? { max: b.max } : {}),
      ...(b.mean !== undefined ? { mean: round(b.mean) } : {}),
    })),
  };
}

/** A mean to 12 significant digits: the rest is rounding noise that costs tokens. */
function round(x: number): number {
  return Number(x.toPrecision(12));
}
