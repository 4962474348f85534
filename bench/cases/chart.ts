/**
 * Chart rendering on its own (pictures/renderChart: scene, SVG, PNG by resvg) at 800x400, for
 * summaries of 24 and 200 buckets with two series, a gap and an offline period: p50/p99 of the
 * render, the share spent rasterising, and the PNG size. In-process, no broker; what a chart
 * call adds on top of the summary it draws.
 */
import { buildChart } from '../../src/pictures/chart.js';
import { renderChart, type ChartInput } from '../../src/pictures/index.js';
import { rasterise } from '../../src/pictures/raster.js';
import { toSvgString } from '../../src/pictures/scene.js';
import type { BenchContext } from '../lib/context.js';
import { latency, median, type LatencySummary } from '../lib/stats.js';

export interface ChartCaseResult {
  readonly buckets: number;
  readonly render: LatencySummary;
  /** Median share of a render spent in resvg (SVG to PNG). */
  readonly rasterShare: number;
  readonly pngBytes: number;
  readonly svgBytes: number;
}

export type ChartResult = ChartCaseResult[];

function summary(buckets: number): ChartInput {
  const from = Date.parse('2026-11-02T00:00:00Z');
  const width = 86_400_000 / buckets;
  const series = (topic: string, field: string, f: (i: number) => number) => ({
    topic,
    field,
    unit: '°C',
    buckets: Array.from({ length: buckets }, (_, i) => {
      const start = new Date(from + i * width).toISOString();
      if (i % 37 === 11) return { start, count: 0 };
      const m = f(i);
      return { start, count: 5000, min: m - 1.5, max: m + 1.5, mean: m };
    }),
  });
  return {
    from: new Date(from).toISOString(),
    to: new Date(from + 86_400_000).toISOString(),
    bucketSeconds: width / 1000,
    series: [
      series('plant/line2/oven', 'temp', (i) => 60 + 10 * Math.sin(i / (buckets / 6))),
      series('plant/line2/oven', 'setpoint', () => 65),
    ],
    offline: [
      {
        from: new Date(from + 9 * 3_600_000).toISOString(),
        to: new Date(from + 10 * 3_600_000).toISOString(),
      },
    ],
  };
}

export async function runChart(ctx: BenchContext): Promise<ChartResult> {
  const n = ctx.options.quick ? 30 : 200;
  const out: ChartCaseResult[] = [];
  for (const buckets of [24, 200]) {
    const input = summary(buckets);
    for (let i = 0; i < 5; i++) renderChart(input); // warm-up
    const times: number[] = [];
    const shares: number[] = [];
    let png = 0;
    let svg = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const text = toSvgString(buildChart(input).scene);
      const t1 = performance.now();
      png = rasterise(text).length;
      const t2 = performance.now();
      svg = text.length;
      times.push(t2 - t0);
      shares.push((t2 - t1) / (t2 - t0));
    }
    const result = {
      buckets,
      render: latency(times),
      rasterShare: median(shares),
      pngBytes: png,
      svgBytes: svg,
    };
    ctx.log(
      `chart ${buckets} buckets: p50 ${result.render.p50.toFixed(1)} ms, p99 ${result.render.p99.toFixed(1)} ms, ` +
        `raster ${(result.rasterShare * 100).toFixed(0)} %, PNG ${png} B`,
    );
    out.push(result);
  }
  return out;
}
