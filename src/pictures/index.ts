/** Charts of summaries: the renderer's public surface. */
export { buildChart, type Chart, type ChartLayout, type DrawnSeries } from './chart.js';
export { isTimeZone } from './axes.js';
export { renderChart, type RenderedChart } from './render.js';
export {
  CHART_LIMITS,
  type ChartBucket,
  type ChartInput,
  type ChartOptions,
  type ChartSeries,
  type OfflinePeriod,
} from './types.js';
