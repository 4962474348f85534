/**
 * The two axes of a chart: time, with ticks on readable boundaries of the chosen time zone (the
 * zone's offset at the start of the range, stated on the axis, so every label is exact), and
 * value, with ticks on round numbers, sane labels for huge, tiny and constant values, and no
 * overflow for values near the limits of a double.
 */
import { format, precisionFixed, precisionRound } from 'd3-format';
import { scaleLinear, scaleUtc } from 'd3-scale';
import { utcDay, utcMinute, utcMonth, utcSecond, utcYear } from 'd3-time';
import { utcFormat } from 'd3-time-format';

export interface Tick {
  /** Position in pixels along the axis. */
  readonly at: number;
  readonly label: string;
}

export interface TimeAxis {
  /** Pixel position of an instant (ms since the epoch). */
  x(ms: number): number;
  /** The instant at a pixel position. */
  invert(px: number): number;
  readonly ticks: readonly Tick[];
  /** `UTC`, or the zone and its offset: `Europe/Berlin, UTC+01:00`. */
  readonly zoneLabel: string;
  /** An instant as `2026-11-02 14:00` in the axis' zone. */
  formatInstant(ms: number): string;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Offset of `zone` from UTC at instant `ms`, in milliseconds. */
export function zoneOffsetMs(zone: string, ms: number): number {
  if (zone === 'UTC') return 0;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return local - Math.floor(ms / 1000) * 1000;
}

function offsetLabel(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `UTC${offsetMs < 0 ? '-' : '+'}${hh}:${mm}`;
}

const INSTANT = utcFormat('%Y-%m-%d %H:%M');

// Tick labels on a 24-hour clock; a date where a tick falls on midnight, a month or a year at
// their boundaries (d3's own multi-scale format, with 24-hour times).
const MS = utcFormat('.%L');
const SECOND = utcFormat(':%S');
const MINUTE = utcFormat('%H:%M');
const DAY = utcFormat('%b %d');
const MONTH = utcFormat('%B');
const YEAR = utcFormat('%Y');

function tickLabel(d: Date): string {
  if (utcSecond(d) < d) return MS(d);
  if (utcMinute(d) < d) return SECOND(d);
  if (utcDay(d) < d) return MINUTE(d);
  if (utcMonth(d) < d) return DAY(d);
  if (utcYear(d) < d) return MONTH(d);
  return YEAR(d);
}

export function timeAxis(from: number, to: number, left: number, right: number, zone: string): TimeAxis {
  const shift = zoneOffsetMs(zone, from);
  const scale = scaleUtc()
    .domain([new Date(from + shift), new Date(to + shift)])
    .range([left, right]);
  const count = Math.max(2, Math.floor((right - left) / 110));
  const ticks = scale.ticks(count).map((d) => ({ at: scale(d), label: tickLabel(d) }));
  return {
    x: (ms) => scale(new Date(ms + shift)),
    invert: (p) => scale.invert(p).getTime() - shift,
    ticks,
    zoneLabel: zone === 'UTC' ? 'UTC' : `${zone}, ${offsetLabel(shift)}`,
    formatInstant: (ms) => INSTANT(new Date(ms + shift)),
  };
}

export interface ValueAxis {
  y(value: number): number;
  readonly ticks: readonly Tick[];
}

const MAX_LABEL = 14;

/** `lo`..`hi` are the finite extremes of the data (lo > hi: no data). */
export function valueAxis(lo: number, hi: number, bottom: number, top: number): ValueAxis {
  let a = lo;
  let b = hi;
  if (!(a <= b)) [a, b] = [0, 1];
  // Near the limits of a double the span itself would overflow: draw in units of 16 (exact).
  const big = Math.max(Math.abs(a), Math.abs(b)) > 1e300;
  const k = big ? 1 / 16 : 1;
  let sa = a * k;
  let sb = b * k;
  if (sa === sb) {
    const d = Math.abs(sa) * 0.05 || 1;
    sa -= d;
    sb += d;
  } else {
    const pad = (sb - sa) * 0.05;
    sa -= pad;
    sb += pad;
  }
  const scale = scaleLinear().domain([sa, sb]).range([bottom, top]);
  const count = Math.max(2, Math.floor((bottom - top) / 45));
  if (!big) scale.nice(count);
  const raw = scale
    .ticks(count)
    .map((t) => (t === 0 ? 0 : t))
    .filter((t) => Number.isFinite(t / k));
  const [d0 = sa, d1 = sb] = scale.domain();
  const step = raw.length > 1 ? Math.abs((raw[1] as number) - (raw[0] as number)) / k : Math.abs(d1 - d0) / k;
  const labels = formatTicks(
    raw.map((t) => t / k),
    step,
  );
  return {
    y: (v) => scale(v * k),
    ticks: raw.map((t, i) => ({ at: scale(t), label: labels[i] ?? '' })),
  };
}

function formatTicks(values: readonly number[], step: number): string[] {
  const safeStep = step > 0 && Number.isFinite(step) ? step : 1;
  const fixed = format(`,.${Math.min(20, precisionFixed(safeStep))}f`);
  let labels = values.map((v) => fixed(v));
  if (labels.some((l) => l.length > MAX_LABEL)) {
    const maxAbs = Math.max(...values.map((v) => Math.abs(v)), safeStep);
    const exp = format(`.${Math.min(12, Math.max(0, precisionRound(safeStep, maxAbs) - 1))}~e`);
    labels = values.map((v) => (v === 0 ? '0' : exp(v)));
  }
  return labels.map((l) => (l.length > MAX_LABEL + 4 ? `${l.slice(0, MAX_LABEL + 3)}\u2026` : l));
}
