import { z } from 'zod';
import { isTimeZone, renderChart } from '../pictures/index.js';
import { CHART_LIMITS } from '../pictures/types.js';
import { BridgeError } from '../errors.js';
import { APP_VIEW_TOOL_META } from '../resources/app-view.js';
import { defineTool, withAttachments } from './define.js';
import { offlinePeriods, showPeriod } from './find-silent.js';
import { SummaryInputShape, SummaryOutput, summaryOf } from './summarize.js';

export const chartTool = defineTool({
  name: 'mqtt_chart',
  title: 'Chart numeric MQTT values over time',
  meta: APP_VIEW_TOOL_META,
  description:
    'A line chart (PNG) of the numeric values of matching topics over a time window: one line per topic and ' +
    'field (bucket means), the min/max band per bucket, gaps where there was no data, the periods when the bridge ' +
    'was offline shaded, the unit from the catalog. Arguments as in mqtt_summarize, plus width, height and ' +
    'timeZone (IANA, default UTC); the same numbers come as data beside the picture. Example: filter ' +
    '"plant/+/temperature", sinceSeconds 43200.',
  input: z
    .object({
      ...SummaryInputShape,
      width: z
        .number()
        .int()
        .min(CHART_LIMITS.minWidth)
        .max(CHART_LIMITS.maxWidth)
        .default(CHART_LIMITS.defaultWidth)
        .describe('Pixels'),
      height: z
        .number()
        .int()
        .min(CHART_LIMITS.minHeight)
        .max(CHART_LIMITS.maxHeight)
        .default(CHART_LIMITS.defaultHeight)
        .describe('Pixels'),
      timeZone: z.string().max(64).optional().describe('IANA time zone of the time axis (default UTC)'),
    })
    .strict(),
  output: SummaryOutput.extend({
    bridgeOffline: z
      .array(z.object({ from: z.string(), to: z.string().optional() }))
      .meta({ summary: true, description: 'When the bridge was disconnected (shaded)' }),
    image: z
      .object({
        width: z.number().int(),
        height: z.number().int(),
        bytes: z.number().int(),
        omittedSeries: z.number().int(),
      })
      .meta({
        summary: true,
        description: 'The PNG beside this data: width, height, bytes, omittedSeries (not drawn)',
      }),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint: 'to see more series, narrow the filter or name one field',
  handler: async ({ width, height, timeZone, ...args }, { deps }) => {
    if (timeZone !== undefined && !isTimeZone(timeZone)) {
      throw new BridgeError(
        'INVALID_INPUT',
        'timeZone must be an IANA time zone such as UTC or Europe/Berlin',
      );
    }
    const summary = await summaryOf(deps, args);
    const from = Date.parse(summary.from);
    const to = Date.parse(summary.to);
    const offline = (await offlinePeriods(deps, from, deps.now()))
      .filter((p) => p.from < to && (p.to ?? Infinity) > from)
      .map(showPeriod);
    const catalog = deps.catalog.current;
    const series = summary.series.map((s) => {
      const unit = catalog.about(s.topic)?.unit;
      return unit === undefined ? s : { ...s, unit };
    });
    const picture = renderChart(
      { series, from: summary.from, to: summary.to, bucketSeconds: summary.bucketSeconds, offline },
      { width, height, ...(timeZone !== undefined ? { timeZone } : {}) },
    );
    return withAttachments(
      {
        ...summary,
        bridgeOffline: offline,
        image: {
          width: picture.width,
          height: picture.height,
          bytes: picture.png.byteLength,
          omittedSeries: picture.omittedSeries,
        },
      },
      [{ type: 'image', data: picture.png.toString('base64'), mimeType: 'image/png' }],
    );
  },
});
