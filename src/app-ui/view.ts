/**
 * The interactive chart: the same scene as the PNG (pictures/chart.ts), built in the page and
 * inserted as DOM nodes, with hover values, a zoom to a dragged time range, a field switch, and
 * refreshes through the host while the view is open. All text that comes from the data is set
 * with textContent.
 */
import { buildChart, seriesLabel, type ChartLayout } from '../pictures/chart.js';
import type { ChartInput } from '../pictures/types.js';
import { svgElement, toDom } from './dom.js';
import { chartInputOf, fieldsOf, viewOf } from './result.js';
import { refreshArguments } from './tools.js';

export interface ToolCaller {
  /** structuredContent of a read-only tool's result; throws with the tool's text on isError. */
  (args: Record<string, unknown>): Promise<unknown>;
}

export interface ViewElements {
  readonly chart: HTMLElement;
  readonly field: HTMLSelectElement;
  readonly reset: HTMLButtonElement;
  readonly refresh: HTMLButtonElement;
  readonly status: HTMLElement;
  readonly tip: HTMLElement;
}

const MIN_DRAG = 6;

export class ChartView {
  private base: ChartInput | undefined;
  private zoomed: { range: { from: number; to: number }; data?: ChartInput } | undefined;
  private field: string | undefined;
  private args: Readonly<Record<string, unknown>> = {};
  private layout: ChartLayout | undefined;
  private svg: SVGSVGElement | undefined;
  private guide: SVGElement | undefined;
  private selection: SVGElement | undefined;
  private dragFrom: number | undefined;
  private busy = false;

  constructor(
    private readonly doc: Document,
    private readonly el: ViewElements,
    private readonly callTool: ToolCaller,
  ) {
    el.field.addEventListener('change', () => {
      this.field =
        el.field.value === '' ? undefined : fieldsOf(this.base ?? emptyInput())[Number(el.field.value)];
      this.draw();
    });
    el.reset.addEventListener('click', () => {
      this.zoomed = undefined;
      this.draw();
    });
    el.refresh.addEventListener('click', () => void this.refresh());
  }

  setArguments(args: Readonly<Record<string, unknown>> | undefined): void {
    this.args = args ?? {};
  }

  /** A tool result arrived (the opening call's or a refresh's). */
  show(content: unknown): boolean {
    const input = chartInputOf(content);
    if (input === undefined) {
      this.say('The result has no chart data.');
      return false;
    }
    this.base = input;
    this.fillFields(input);
    this.draw();
    return true;
  }

  async refresh(): Promise<void> {
    if (this.busy || this.base === undefined) return;
    this.busy = true;
    this.say('Refreshing\u2026');
    try {
      const range = this.zoomed?.range;
      const content = await this.callTool(refreshArguments(this.args, range));
      const input = chartInputOf(content);
      if (input === undefined) throw new Error('the result has no chart data');
      if (range !== undefined && this.zoomed !== undefined) this.zoomed = { range, data: input };
      else {
        this.base = input;
        this.fillFields(input);
      }
      this.draw();
      this.say(`Updated ${new Date().toISOString().slice(11, 19)} UTC`);
    } catch (error) {
      this.say(`Refresh failed: ${error instanceof Error ? error.message : 'unknown error'}`.slice(0, 300));
    } finally {
      this.busy = false;
    }
  }

  draw(): void {
    if (this.base === undefined) return;
    const data =
      this.zoomed?.data !== undefined
        ? viewOf(this.zoomed.data, this.field)
        : viewOf(this.base, this.field, this.zoomed?.range);
    const width = Math.max(320, Math.floor(this.el.chart.clientWidth || 800));
    const height = Math.max(240, Math.min(480, Math.round(width / 2)));
    const { scene, layout } = buildChart(data, { width, height });
    const svg = toDom(scene, this.doc) as SVGSVGElement;
    this.guide = svgElement(this.doc, 'line', { stroke: '#333333', 'stroke-width': 1, visibility: 'hidden' });
    this.selection = svgElement(this.doc, 'rect', {
      fill: '#4e79a7',
      'fill-opacity': 0.15,
      visibility: 'hidden',
    });
    svg.append(this.guide, this.selection);
    svg.addEventListener('pointermove', (e) => this.hover(e));
    svg.addEventListener('pointerleave', () => this.hideHover());
    svg.addEventListener('pointerdown', (e) => this.startDrag(e));
    svg.addEventListener('pointerup', (e) => this.endDrag(e));
    this.el.chart.replaceChildren(svg);
    this.svg = svg;
    this.layout = layout;
    this.el.reset.disabled = this.zoomed === undefined;
  }

  private fillFields(input: ChartInput): void {
    const fields = fieldsOf(input);
    const options = [new Option('All fields', '')];
    fields.forEach((f, i) => {
      const option = this.doc.createElement('option');
      option.value = String(i);
      option.textContent = f === '' ? '(value)' : f.slice(0, 80);
      options.push(option);
    });
    this.el.field.replaceChildren(...options);
    const keep = this.field === undefined ? -1 : fields.indexOf(this.field);
    if (keep < 0) this.field = undefined;
    this.el.field.value = keep < 0 ? '' : String(keep);
    this.el.field.disabled = fields.length < 2;
  }

  private x(e: PointerEvent): number | undefined {
    if (this.svg === undefined || this.layout === undefined) return undefined;
    const box = this.svg.getBoundingClientRect();
    const x = ((e.clientX - box.left) * this.layout.width) / (box.width || this.layout.width);
    const { plot } = this.layout;
    return Math.min(plot.x + plot.width, Math.max(plot.x, x));
  }

  private hover(e: PointerEvent): void {
    const x = this.x(e);
    const layout = this.layout;
    if (x === undefined || layout === undefined || this.guide === undefined) return;
    const { plot } = layout;
    setAttrs(this.guide, { x1: x, x2: x, y1: plot.y, y2: plot.y + plot.height, visibility: 'visible' });
    if (this.dragFrom !== undefined && this.selection !== undefined) {
      const left = Math.min(this.dragFrom, x);
      setAttrs(this.selection, {
        x: left,
        y: plot.y,
        width: Math.abs(x - this.dragFrom),
        height: plot.height,
        visibility: 'visible',
      });
    }
    const t = layout.time.invert(x);
    const lines: string[] = [layout.time.formatInstant(t) + ` (${layout.time.zoneLabel})`];
    for (const s of layout.series) {
      const p = s.points.find((q) => t >= q.start && t < q.end);
      const name = seriesLabel(s);
      if (p === undefined || !p.ok) lines.push(`${name}: no data`);
      else
        lines.push(
          `${name}: ${fmt(p.bucket.mean)} (min ${fmt(p.bucket.min)}, max ${fmt(p.bucket.max)}, ${p.bucket.count} values)`,
        );
    }
    this.el.tip.replaceChildren(
      ...lines.map((text) => {
        const div = this.doc.createElement('div');
        div.textContent = text;
        return div;
      }),
    );
    this.el.tip.hidden = false;
  }

  private hideHover(): void {
    if (this.guide !== undefined) this.guide.setAttribute('visibility', 'hidden');
    this.el.tip.hidden = true;
  }

  private startDrag(e: PointerEvent): void {
    this.dragFrom = this.x(e);
  }

  private endDrag(e: PointerEvent): void {
    const start = this.dragFrom;
    const end = this.x(e);
    this.dragFrom = undefined;
    if (this.selection !== undefined) this.selection.setAttribute('visibility', 'hidden');
    if (
      start === undefined ||
      end === undefined ||
      this.layout === undefined ||
      Math.abs(end - start) < MIN_DRAG
    )
      return;
    const from = this.layout.time.invert(Math.min(start, end));
    const to = this.layout.time.invert(Math.max(start, end));
    this.zoomed = { range: { from, to } };
    this.draw();
    // Finer buckets for the range, from the bridge.
    void this.refresh();
  }

  private say(text: string): void {
    this.el.status.textContent = text;
  }
}

function setAttrs(element: SVGElement, attrs: Record<string, string | number>): void {
  for (const [k, v] of Object.entries(attrs)) element.setAttribute(k, String(v));
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '?';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e7 || a < 1e-3) ? v.toExponential(4) : String(Math.round(v * 1e4) / 1e4);
}

function emptyInput(): ChartInput {
  return { from: new Date(0).toISOString(), to: new Date(1000).toISOString(), bucketSeconds: 1, series: [] };
}
