/**
 * The few statistics the bench reports: median, percentiles (nearest rank), min/max spread, and
 * the summary of per-round ratios or differences that every figure of the report is made of.
 */

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Nearest-rank percentile, p in [0, 1]. NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const rank = Math.ceil(p * s.length) - 1;
  return s[Math.min(s.length - 1, Math.max(0, rank))] as number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The per-round values, in round order. */
  readonly rounds: number[];
}

/** Median and min/max of per-round values (ratios, differences, rates). */
export function spread(rounds: readonly number[]): Spread {
  return {
    median: median(rounds),
    min: rounds.length === 0 ? NaN : Math.min(...rounds),
    max: rounds.length === 0 ? NaN : Math.max(...rounds),
    rounds: [...rounds],
  };
}

export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function latency(xs: readonly number[]): LatencySummary {
  return {
    n: xs.length,
    p50: percentile(xs, 0.5),
    p90: percentile(xs, 0.9),
    p99: percentile(xs, 0.99),
    max: xs.length === 0 ? NaN : Math.max(...xs),
    mean: mean(xs),
  };
}

/** Least-squares slope and intercept of y over x. */
export function linearFit(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number } {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return { slope: NaN, intercept: NaN };
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  const slope = den === 0 ? NaN : num / den;
  return { slope, intercept: my - slope * mx };
}

/**
 * Growth exponent between two points of a scaling curve: 0 is flat, 1 is linear, 2 quadratic.
 * log(y2/y1) / log(x2/x1).
 */
export function growthExponent(x1: number, y1: number, x2: number, y2: number): number {
  return Math.log(y2 / y1) / Math.log(x2 / x1);
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toFixed(digits);
}

/** 1234567 -> "1.23 M", 12345 -> "12.3 k". */
export function human(n: number, unit = ''): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  const s = unit === '' ? '' : ` ${unit}`;
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} G${unit}`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M${unit}`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)} k${unit}`;
  return `${Math.round(n)}${s}`;
}

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  if (abs >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (abs >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (abs >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}
