/**
 * buildChart(input, options): the picture of a summary as an SVG scene. One line per series (the
 * bucket means), a min/max band per bucket behind it, gaps where a bucket has no data, the periods
 * when the bridge was offline shaded, a time axis in the chosen zone, a value axis with the unit
 * when every series has the same one, and a legend with topic, field and unit. Pure: the same
 * input gives the same scene; used for the PNG on the server and by the MCP App in the browser.
 */
import { area, line } from 'd3-shape';
import { timeAxis, valueAxis, type TimeAxis, type ValueAxis } from './axes.js';
import { legend, LEGEND_ROW, type LegendItem } from './legend.js';
import { el, textNode, type SvgNode } from './scene.js';
import { label, textWidth } from './text.js';
import {
  CHART_LIMITS,
  type ChartBucket,
  type ChartInput,
  type ChartOptions,
  type ChartSeries,
} from './types.js';

/** Tableau 10 without its yellow and grey (too faint on white): colour-blind-friendly, distinct. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#9c755f',
  '#ff9da7',
];
export const OFFLINE_FILL = '#e4e4e4';
export const FONT_FAMILY = 'Inter, sans-serif';
const FS = 11;
const PAD = 12;
const PLOT_ID = 'mqtt-chart-plot';
/** From the plot's bottom edge to the baseline of the time axis' title. */
const AXIS_BELOW = 2 * FS + 14;

export interface DrawnSeries {
  readonly index: number;
  readonly topic: string;
  readonly field: string;
  readonly unit?: string;
  readonly colour: string;
  /** The series' buckets with their pixel extent; `ok` when the bucket has data. */
  readonly points: readonly DrawnPoint[];
}

export interface DrawnPoint {
  readonly bucket: ChartBucket;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
}

export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly plot: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly from: number;
  readonly to: number;
  readonly time: TimeAxis;
  readonly value: ValueAxis;
  readonly series: readonly DrawnSeries[];
  /** Series of the input that were not drawn (beyond CHART_LIMITS.maxSeries). */
  readonly omittedSeries: number;
}

export interface Chart {
  readonly scene: SvgNode;
  readonly layout: ChartLayout;
}

function clamp(value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.round(value)));
}

function parseTime(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`chart: ${what} is not an ISO 8601 time`);
  return ms;
}

function isFiniteNumber(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function prepare(series: ChartSeries, index: number, to: number, bucketMs: number): DrawnSeries {
  const points = series.buckets.slice(0, CHART_LIMITS.maxBuckets).map((bucket): DrawnPoint => {
    const start = Date.parse(bucket.start);
    const ok =
      Number.isFinite(start) &&
      bucket.count > 0 &&
      isFiniteNumber(bucket.min) &&
      isFiniteNumber(bucket.max) &&
      isFiniteNumber(bucket.mean);
    return { bucket, start, end: Math.min(start + bucketMs, to), ok };
  });
  const unit =
    series.unit === undefined || series.unit === '' ? undefined : label(series.unit, CHART_LIMITS.unitChars);
  return {
    index,
    topic: label(series.topic, CHART_LIMITS.topicChars),
    field: label(series.field, CHART_LIMITS.fieldChars),
    ...(unit !== undefined ? { unit } : {}),
    colour: PALETTE[index % PALETTE.length] as string,
    points,
  };
}

export function seriesLabel(s: Pick<DrawnSeries, 'topic' | 'field' | 'unit'>): string {
  return `${s.topic}${s.field !== '' ? ` \u00b7 ${s.field}` : ''}${s.unit !== undefined ? ` (${s.unit})` : ''}`;
}

export function buildChart(input: ChartInput, options: ChartOptions = {}): Chart {
  const width = clamp(options.width, CHART_LIMITS.defaultWidth, CHART_LIMITS.minWidth, CHART_LIMITS.maxWidth);
  const height = clamp(
    options.height,
    CHART_LIMITS.defaultHeight,
    CHART_LIMITS.minHeight,
    CHART_LIMITS.maxHeight,
  );
  const zone = options.timeZone ?? 'UTC';
  const from = parseTime(input.from, 'from');
  let to = parseTime(input.to, 'to');
  if (!(to > from)) to = from + 1000;
  const bucketMs =
    Number.isFinite(input.bucketSeconds) && input.bucketSeconds > 0 ? input.bucketSeconds * 1000 : to - from;

  const series = input.series.slice(0, CHART_LIMITS.maxSeries).map((s, i) => prepare(s, i, to, bucketMs));
  const omittedSeries = Math.max(0, input.series.length - series.length);
  const offline = (input.offline ?? [])
    .slice(0, CHART_LIMITS.maxOffline)
    .map((p) => ({ from: Date.parse(p.from), to: p.to === undefined ? to : Date.parse(p.to) }))
    .filter((p) => Number.isFinite(p.from) && Number.isFinite(p.to))
    .map((p) => ({ from: Math.max(from, p.from), to: Math.min(to, p.to) }))
    .filter((p) => p.to > p.from);

  // Legend first: it takes the rows it needs at the bottom, the plot gets the rest.
  const items: LegendItem[] = series.map((s) => ({ kind: 'series', colour: s.colour, text: seriesLabel(s) }));
  if (offline.length > 0) items.push({ kind: 'offline', colour: OFFLINE_FILL, text: 'bridge offline' });
  if (omittedSeries > 0)
    items.push({
      kind: 'note',
      colour: '',
      text: `+${omittedSeries} more series not drawn (narrow the filter)`,
    });
  const legendBox = legend(items, PAD, width - PAD, FS);

  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (const p of s.points)
      if (p.ok) {
        lo = Math.min(lo, p.bucket.min as number);
        hi = Math.max(hi, p.bucket.max as number);
      }
  const hasData = lo <= hi;

  const top = PAD + FS + 12;
  const bottom = height - PAD - 4 - AXIS_BELOW - legendBox.rows * LEGEND_ROW;
  const value = valueAxis(lo, hi, bottom, top);
  const tickWidth = Math.max(...value.ticks.map((t) => textWidth(t.label, FS)), textWidth('0', FS));
  const left = PAD + FS + 8 + tickWidth + 6;
  const right = width - PAD - 14;
  const time = timeAxis(from, to, left, right, zone);
  const plot = { x: left, y: top, width: right - left, height: bottom - top };

  const children: SvgNode[] = [
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    el('defs', {}, [
      el('clipPath', { id: PLOT_ID }, [
        el('rect', { x: plot.x, y: plot.y, width: plot.width, height: plot.height }),
      ]),
    ]),
    textNode(
      { x: PAD, y: PAD + FS, fill: '#333333' },
      `${time.formatInstant(from)} \u2013 ${time.formatInstant(to)} (${time.zoneLabel}) \u00b7 buckets of ${duration(bucketMs)} \u00b7 line: mean, band: min\u2013max`,
    ),
    offlineShading(offline, time, plot),
    grid(value, time, plot),
  ];
  children.push(
    el(
      'g',
      { 'clip-path': `url(#${PLOT_ID})` },
      series.map((s) => drawSeries(s, time, value)),
    ),
  );
  if (!hasData)
    children.push(
      textNode(
        { x: plot.x + plot.width / 2, y: plot.y + plot.height / 2, 'text-anchor': 'middle', fill: '#666666' },
        'No data in this range',
      ),
    );
  children.push(axes(value, time, plot, width, unitTitle(series)));
  children.push(legendBox.node(bottom + AXIS_BELOW + LEGEND_ROW));

  const scene = el(
    'svg',
    { width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': FONT_FAMILY, 'font-size': FS },
    children,
  );
  return { scene, layout: { width, height, plot, from, to, time, value, series, omittedSeries } };
}

function drawSeries(s: DrawnSeries, time: TimeAxis, value: ValueAxis): SvgNode {
  // The band: each bucket from its start to its end, between its min and max; a bucket without
  // data breaks it. The line: the means at bucket centres, broken the same way.
  const band: { x: number; lo: number; hi: number; ok: boolean }[] = [];
  for (const p of s.points) {
    if (!p.ok) {
      band.push({ x: 0, lo: 0, hi: 0, ok: false });
      continue;
    }
    const yl = value.y(p.bucket.min as number);
    const yh = value.y(p.bucket.max as number);
    band.push(
      { x: time.x(p.start), lo: yl, hi: yh, ok: true },
      { x: time.x(p.end), lo: yl, hi: yh, ok: true },
    );
  }
  const bandPath = area<(typeof band)[number]>()
    .defined((d) => d.ok)
    .x((d) => d.x)
    .y0((d) => d.lo)
    .y1((d) => d.hi)(band);
  const centres = s.points.map((p) => ({
    x: time.x((p.start + p.end) / 2),
    y: p.ok ? value.y(p.bucket.mean as number) : 0,
    ok: p.ok,
  }));
  const linePath = line<(typeof centres)[number]>()
    .defined((d) => d.ok)
    .x((d) => d.x)
    .y((d) => d.y)(centres);
  const parts: SvgNode[] = [];
  if (bandPath !== null)
    parts.push(el('path', { d: bandPath, fill: s.colour, 'fill-opacity': 0.2, stroke: 'none' }));
  if (linePath !== null)
    parts.push(
      el('path', {
        d: linePath,
        fill: 'none',
        stroke: s.colour,
        'stroke-width': 2,
        'stroke-linejoin': 'round',
        'stroke-linecap': 'round',
      }),
    );
  // A bucket with data between two without has no line segment: a dot shows it.
  centres.forEach((c, i) => {
    if (c.ok && centres[i - 1]?.ok !== true && centres[i + 1]?.ok !== true)
      parts.push(el('circle', { cx: c.x, cy: c.y, r: 3, fill: s.colour }));
  });
  return el('g', { 'data-series': s.index }, parts);
}

function offlineShading(
  periods: readonly { from: number; to: number }[],
  time: TimeAxis,
  plot: ChartLayout['plot'],
): SvgNode {
  return el(
    'g',
    {},
    periods.flatMap((p) => {
      const x0 = time.x(p.from);
      // At least 2 px, so that a short outage in a long range still shows.
      const w = Math.max(2, time.x(p.to) - x0);
      const rect = el('rect', { x: x0, y: plot.y, width: w, height: plot.height, fill: OFFLINE_FILL });
      if (w < 52) return [rect];
      return [rect, textNode({ x: x0 + 4, y: plot.y + FS + 2, fill: '#777777', 'font-size': 10 }, 'offline')];
    }),
  );
}

function grid(value: ValueAxis, time: TimeAxis, plot: ChartLayout['plot']): SvgNode {
  const lines = value.ticks.map((t) =>
    el('line', {
      x1: plot.x,
      x2: plot.x + plot.width,
      y1: t.at,
      y2: t.at,
      stroke: '#d0d0d0',
      'stroke-width': 0.5,
    }),
  );
  for (const t of time.ticks)
    lines.push(
      el('line', {
        x1: t.at,
        x2: t.at,
        y1: plot.y,
        y2: plot.y + plot.height,
        stroke: '#e2e2e2',
        'stroke-width': 0.5,
      }),
    );
  return el('g', {}, lines);
}

function axes(
  value: ValueAxis,
  time: TimeAxis,
  plot: ChartLayout['plot'],
  width: number,
  title: string,
): SvgNode {
  const bottom = plot.y + plot.height;
  const parts: SvgNode[] = [
    el('line', {
      x1: plot.x,
      x2: plot.x + plot.width,
      y1: bottom,
      y2: bottom,
      stroke: '#555555',
      'stroke-width': 1,
    }),
    el('line', { x1: plot.x, x2: plot.x, y1: plot.y, y2: bottom, stroke: '#555555', 'stroke-width': 1 }),
  ];
  for (const t of value.ticks)
    parts.push(
      textNode({ x: plot.x - 6, y: t.at + FS * 0.35, 'text-anchor': 'end', fill: '#333333' }, t.label),
    );
  for (const t of time.ticks) {
    const half = textWidth(t.label, FS) / 2;
    const x = Math.min(width - PAD - half, Math.max(PAD + half, t.at));
    parts.push(
      el('line', { x1: t.at, x2: t.at, y1: bottom, y2: bottom + 4, stroke: '#555555', 'stroke-width': 1 }),
    );
    parts.push(textNode({ x, y: bottom + FS + 6, 'text-anchor': 'middle', fill: '#333333' }, t.label));
  }
  parts.push(
    textNode(
      { x: plot.x + plot.width / 2, y: bottom + AXIS_BELOW, 'text-anchor': 'middle', fill: '#555555' },
      `time (${time.zoneLabel})`,
    ),
  );
  const cy = plot.y + plot.height / 2;
  parts.push(
    textNode(
      {
        x: PAD + FS - 2,
        y: cy,
        'text-anchor': 'middle',
        fill: '#555555',
        transform: `rotate(-90 ${PAD + FS - 2} ${cy})`,
      },
      title,
    ),
  );
  return el('g', {}, parts);
}

/** The value axis' title: the field (when all series share it) and the unit (when all share it). */
function unitTitle(series: readonly DrawnSeries[]): string {
  const fields = new Set(series.map((s) => s.field));
  const units = new Set(series.map((s) => s.unit ?? ''));
  const field = fields.size === 1 ? [...fields][0] || 'value' : 'value';
  const unit = units.size === 1 ? [...units][0] : '';
  return unit !== undefined && unit !== '' ? `${field} (${unit})` : field;
}

export function duration(ms: number): string {
  const s = ms / 1000;
  const units: [number, string][] = [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  for (const [size, name] of units)
    if (s >= size && Math.abs(s / size - Math.round(s / size)) < 1e-9)
      return `${Math.round(s / size)} ${name}`;
  for (const [size, name] of units) if (s >= size) return `${(s / size).toFixed(1)} ${name}`;
  return `${Math.round(ms)} ms`;
}
