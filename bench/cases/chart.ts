/**
 * Chart rendering on its own (pictures/renderChart: scene, SVG, PNG by resvg) at 800x400, for
 * summaries of 24 and 200 buckets with two series, a gap and an offline period: p50/p99 of the
 * render, the share spent rasterising, and the PNG size. In-process, no broker; what a chart
 * call adds on top of the summary it draws. Then mqtt_chart itself over 1,000,000 recorded points
 * of one topic in a real history file: p50/p99 of the call and the share of it spent rendering.
 */
import { buildChart } from '../../src/pictures/chart.js';
import { renderChart, type ChartInput } from '../../src/pictures/index.js';
import { rasterise } from '../../src/pictures/raster.js';
import { toSvgString } from '../../src/pictures/scene.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { openHistory } from '../../src/history/open.js';
import type { HistoryRecord } from '../../src/history/types.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';
import { createServer } from '../../src/server.js';
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

/** mqtt_chart end to end: the tool over a real history file of one topic, through an SDK client. */
export interface ChartToolResult {
  readonly records: number;
  readonly buckets: number;
  readonly call: LatencySummary;
  /** Median share of a call spent rendering (scene, SVG, PNG), measured on the call's own data. */
  readonly renderShare: number;
  readonly pngBytes: number;
}

export interface ChartResult {
  readonly render: ChartCaseResult[];
  readonly tool: ChartToolResult[];
}

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
  const render = runRender(ctx);
  const tool = await runChartTool(ctx);
  return { render, tool };
}

function runRender(ctx: BenchContext): ChartCaseResult[] {
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

/**
 * mqtt_chart over N recorded points of one topic (1,000,000; 100,000 when quick): the history
 * file is written through the real backend in the recorder's batch size, then the tool is called
 * through an in-process SDK client for the whole range in 24 and 200 buckets.
 */
async function runChartTool(ctx: BenchContext): Promise<ChartToolResult[]> {
  const records = ctx.options.quick ? 100_000 : 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'bench-chart-'));
  const env = {
    MQTT_URL: 'mqtts://127.0.0.1:1',
    MCP_READ_TOPICS: 'plant/#',
    HISTORY_PATH: join(dir, 'history.db'),
    HISTORY_RETENTION_DAYS: '36500',
    HISTORY_MAX_BYTES: String(16 * 1024 ** 3),
    LOG_LEVEL: 'silent',
    MCP_TOOL_RATE_PER_MINUTE: '1000000',
  };
  const config = loadConfig(env, (path) => readFileSync(path));
  const backend = await openHistory(config.history!, config.policy);
  const from = Date.parse('2026-11-02T00:00:00Z');
  const step = 86_400_000 / records;
  const t0 = performance.now();
  for (let done = 0; done < records;) {
    const batch: HistoryRecord[] = [];
    for (let i = 0; i < 20_000 && done < records; i++, done++) {
      const payload = (60 + 10 * Math.sin(done / 50_000) + (done % 7) / 10).toFixed(2);
      batch.push({
        topic: 'plant/line2/oven',
        payload,
        sizeBytes: payload.length,
        qos: 0,
        retain: false,
        receivedAt: from + done * step,
      });
    }
    await backend.append(batch, []);
  }
  ctx.log(`chart: ${records} points recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const scrubber = new Scrubber();
  const logger = createLogger({ level: 'silent', scrubber });
  const app = createApp(config, logger, scrubber, 'bench', undefined, { history: backend });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench-chart', version: '1.0.0' });
  await createServer(app.deps).connect(b);
  await client.connect(a);
  const out: ChartToolResult[] = [];
  try {
    const n = ctx.options.quick ? 10 : 50;
    for (const buckets of [24, 200]) {
      const args = {
        filter: 'plant/line2/oven',
        from: new Date(from).toISOString(),
        to: new Date(from + 86_400_000).toISOString(),
        buckets,
      };
      const times: number[] = [];
      const shares: number[] = [];
      let png = 0;
      for (let i = 0; i < n + 3; i++) {
        const c0 = performance.now();
        const result = (await client.callTool({ name: 'mqtt_chart', arguments: args })) as CallToolResult;
        const ms = performance.now() - c0;
        if (result.isError === true)
          throw new Error(`mqtt_chart failed in the bench: ${JSON.stringify(result.content).slice(0, 300)}`);
        const data = result.structuredContent as unknown as ChartInput & { image: { bytes: number } };
        const r0 = performance.now();
        renderChart(data);
        const renderMs = performance.now() - r0;
        if (i < 3) continue; // warm-up
        times.push(ms);
        shares.push(Math.min(1, renderMs / ms));
        png = data.image.bytes;
      }
      const result = { records, buckets, call: latency(times), renderShare: median(shares), pngBytes: png };
      ctx.log(
        `mqtt_chart ${buckets} buckets over ${records} points: p50 ${result.call.p50.toFixed(1)} ms, ` +
          `p99 ${result.call.p99.toFixed(1)} ms, rendering ${(result.renderShare * 100).toFixed(0)} %, PNG ${png} B`,
      );
      out.push(result);
    }
  } finally {
    await client.close();
    await app.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
