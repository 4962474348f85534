/**
 * The legend: one entry per series (a band swatch with the line over it, then topic, field and
 * unit), one for the offline shading, and a note when series were left out. Entries flow left to
 * right and wrap; the chart reserves the rows they take.
 */
import { el, textNode, type SvgNode } from './scene.js';
import { textWidth } from './text.js';

export const LEGEND_ROW = 16;
const SWATCH = 18;
const GAP = 16;

export interface LegendItem {
  readonly kind: 'series' | 'offline' | 'note';
  readonly colour: string;
  readonly text: string;
}

export interface LegendBox {
  readonly rows: number;
  /** The legend's elements, its first row's baseline at `y`. */
  node(y: number): SvgNode;
}

export function legend(
  items: readonly LegendItem[],
  left: number,
  right: number,
  fontSize: number,
): LegendBox {
  const placed: { item: LegendItem; x: number; row: number }[] = [];
  let x = left;
  let row = 0;
  for (const item of items) {
    const w = (item.kind === 'note' ? 0 : SWATCH + 6) + textWidth(item.text, fontSize);
    if (x > left && x + w > right) {
      row += 1;
      x = left;
    }
    placed.push({ item, x, row });
    x += w + GAP;
  }
  const rows = items.length === 0 ? 0 : row + 1;
  return {
    rows,
    node: (y) =>
      el(
        'g',
        {},
        placed.flatMap(({ item, x: ix, row: r }) => {
          const base = y + r * LEGEND_ROW;
          const mid = base - fontSize * 0.35;
          const parts: SvgNode[] = [];
          if (item.kind === 'series') {
            parts.push(
              el('rect', {
                x: ix,
                y: mid - 5,
                width: SWATCH,
                height: 10,
                fill: item.colour,
                'fill-opacity': 0.2,
              }),
              el('line', {
                x1: ix,
                x2: ix + SWATCH,
                y1: mid,
                y2: mid,
                stroke: item.colour,
                'stroke-width': 2,
              }),
            );
          } else if (item.kind === 'offline') {
            parts.push(el('rect', { x: ix, y: mid - 5, width: SWATCH, height: 10, fill: item.colour }));
          }
          const tx = item.kind === 'note' ? ix : ix + SWATCH + 6;
          parts.push(
            textNode({ x: tx, y: base, fill: item.kind === 'note' ? '#666666' : '#222222' }, item.text),
          );
          return parts;
        }),
      ),
  };
}
