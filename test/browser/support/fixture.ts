/**
 * A chart tool result for the browser test, shaped as the chart tool returns it: the summary's
 * series in structuredContent (renderer input shape: from, to, bucketSeconds, series with
 * topic, field, unit and buckets, bridgeOffline) and the PNG from the real renderer as an image
 * item. Two fields (temp, humidity), a gap, an offline period, and hostile topic and field text.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { renderChart, type ChartInput } from '../../../src/pictures/index.js';

export const XSS = '<img src=x onerror="window.__xss=1;parent.postMessage({xss:1},\'*\')">';
export const HOSTILE_TOPIC = `plant/line2/${XSS}`;

const HOUR = 3600_000;

export function chartResult(
  from: number,
  hours: number,
  level: number,
): { input: ChartInput; result: CallToolResult } {
  const bucket = (i: number, mean: number | undefined) => {
    const start = new Date(from + i * HOUR).toISOString();
    return mean === undefined
      ? { start, count: 0 }
      : { start, count: 60, min: mean - 1.5, max: mean + 1.5, mean: Math.round(mean * 100) / 100 };
  };
  const input: ChartInput = {
    from: new Date(from).toISOString(),
    to: new Date(from + hours * HOUR).toISOString(),
    bucketSeconds: 3600,
    series: [
      {
        topic: 'plant/line2/oven',
        field: 'temp',
        unit: '°C',
        buckets: Array.from({ length: hours }, (_, i) =>
          bucket(i, i >= 5 && i <= 7 ? undefined : level + 8 * Math.sin(i / 4)),
        ),
      },
      {
        topic: HOSTILE_TOPIC,
        field: 'temp',
        unit: '°C',
        buckets: Array.from({ length: hours }, (_, i) => bucket(i, level - 10 + (i % 4))),
      },
      {
        topic: 'plant/line2/oven',
        field: 'humidity',
        unit: '%',
        buckets: Array.from({ length: hours }, (_, i) => bucket(i, 40 + 5 * Math.cos(i / 3))),
      },
    ],
    offline: [
      { from: new Date(from + 14 * HOUR).toISOString(), to: new Date(from + 16 * HOUR).toISOString() },
    ],
  };
  const structuredContent = {
    filter: 'plant/line2/#',
    from: input.from,
    to: input.to,
    bucketSeconds: input.bucketSeconds,
    source: 'history',
    series: input.series,
    bridgeOffline: input.offline,
  };
  const png = renderChart(input).png;
  return {
    input,
    result: {
      content: [
        { type: 'image', data: png.toString('base64'), mimeType: 'image/png' },
        { type: 'text', text: JSON.stringify(structuredContent) },
      ],
      structuredContent,
    },
  };
}
