/**
 * renderChart(input, options): a summary's chart as SVG text and as a PNG. Pure apart from the
 * rasteriser's read of the shipped font; no network, no browser.
 */
import { buildChart, type ChartLayout } from './chart.js';
import { rasterise } from './raster.js';
import { toSvgString } from './scene.js';
import type { ChartInput, ChartOptions } from './types.js';

export interface RenderedChart {
  readonly svg: string;
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  /** Where the plot area is, for callers that point into the picture (tests, an image map). */
  readonly plot: ChartLayout['plot'];
  /** Series left out of the picture (beyond CHART_LIMITS.maxSeries). */
  readonly omittedSeries: number;
}

export function renderChart(input: ChartInput, options: ChartOptions = {}): RenderedChart {
  const { scene, layout } = buildChart(input, options);
  const svg = toSvgString(scene);
  return {
    svg,
    png: rasterise(svg),
    width: layout.width,
    height: layout.height,
    plot: layout.plot,
    omittedSeries: layout.omittedSeries,
  };
}
