/**
 * Small SVG charts written as text, no dependency: line charts (linear or log axes) and grouped
 * bar charts with min/max whiskers and an optional target line. Good enough to read the shape
 * of a curve in a Markdown viewer.
 */

export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<{ x: number; y: number }>;
  readonly dashed?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly logX?: boolean;
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
  /** Horizontal reference lines (targets). */
  readonly hlines?: ReadonlyArray<{ y: number; label: string }>;
}

export interface Bar {
  readonly name: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
}

export interface BarChart {
  readonly title: string;
  readonly yLabel: string;
  readonly groups: ReadonlyArray<{ label: string; bars: readonly Bar[] }>;
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
  readonly hlines?: ReadonlyArray<{ y: number; label: string }>;
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#17becf',
  '#bcbd22',
];

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function niceNumber(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
}

function linearTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    const v = 10 ** e;
    if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
  }
  if (out.length < 3) {
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo && v <= hi) out.push(v);
      }
    }
    out.sort((a, b) => a - b);
  }
  return out;
}

interface Scale {
  (v: number): number;
  ticks: number[];
}

function scale(lo: number, hi: number, a: number, b: number, log: boolean): Scale {
  if (log) {
    const l0 = Math.log10(lo);
    const l1 = Math.log10(hi);
    const f = ((v: number) => a + ((Math.log10(Math.max(v, lo)) - l0) / (l1 - l0 || 1)) * (b - a)) as Scale;
    f.ticks = logTicks(lo, hi);
    return f;
  }
  const f = ((v: number) => a + ((v - lo) / (hi - lo || 1)) * (b - a)) as Scale;
  f.ticks = linearTicks(lo, hi);
  return f;
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export function lineChart(c: LineChart): string {
  const width = c.width ?? 720;
  const legendRows = Math.ceil(c.series.length / 2);
  const height = (c.height ?? 380) + legendRows * 16;
  const m = { l: 70, r: 20, t: 34, b: 56 + legendRows * 16 };
  const all = c.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const ys = [...all.map((p) => p.y), ...(c.hlines ?? []).map((h) => h.y)];
  let x0 = Math.min(...all.map((p) => p.x));
  let x1 = Math.max(...all.map((p) => p.x));
  let y0 = c.logY ? Math.min(...ys.filter((y) => y > 0)) : Math.min(0, ...ys);
  let y1 = Math.max(...ys);
  if (c.logY) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  } else y1 = y1 * 1.08 || 1;
  if (x0 === x1) {
    x0 = c.logX ? x0 / 2 : x0 - 1;
    x1 = c.logX ? x1 * 2 : x1 + 1;
  }
  const sx = scale(x0, x1, m.l, width - m.r, c.logX === true);
  const sy = scale(y0, y1, height - m.b, m.t, c.logY === true);
  const body: string[] = [];
  for (const t of sy.ticks) {
    const y = sy(t).toFixed(1);
    body.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    body.push(
      `<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${niceNumber(t)}</text>`,
    );
  }
  for (const t of sx.ticks) {
    const x = sx(t).toFixed(1);
    body.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${height - m.b}" stroke="#f0f0f0"/>`);
    body.push(
      `<text x="${x}" y="${height - m.b + 16}" text-anchor="middle" fill="#444">${niceNumber(t)}</text>`,
    );
  }
  body.push(
    `<text x="${(m.l + width - m.r) / 2}" y="${height - m.b + 34}" text-anchor="middle">${esc(c.xLabel)}${c.logX ? ' (log)' : ''}</text>`,
  );
  body.push(...plotArea(c, m, width, height, sy));
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!c.logY || p.y > 0));
    if (pts.length > 1) {
      const d = pts
        .map((p, k) => `${k === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
        .join(' ');
      body.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      );
    }
    for (const p of pts)
      body.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"><title>${esc(s.name)}: ${niceNumber(p.x)} → ${niceNumber(p.y)}</title></circle>`,
      );
    const lx = m.l + (i % 2) * ((width - m.l - m.r) / 2);
    const ly = height - 14 - (legendRows - 1 - Math.floor(i / 2)) * 16;
    body.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    body.push(`<text x="${lx + 24}" y="${ly}" fill="#222">${esc(s.name)}</text>`);
  });
  return frame(width, height, c.title, body);
}

export function barChart(c: BarChart): string {
  const names = [...new Set(c.groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const width = c.width ?? Math.max(520, 110 + c.groups.length * (names.length * 26 + 30));
  const legendRows = Math.ceil(names.length / 3);
  const height = (c.height ?? 360) + legendRows * 16;
  const m = { l: 70, r: 20, t: 34, b: 60 + legendRows * 16 };
  const values = c.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.max ?? b.value]));
  const ys = [...values, ...(c.hlines ?? []).map((h) => h.y)].filter((v) => Number.isFinite(v));
  let y0 = c.logY ? Math.min(...ys.filter((y) => y > 0)) : 0;
  let y1 = Math.max(...ys);
  if (c.logY) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  } else y1 = y1 * 1.1 || 1;
  const sy = scale(y0, y1, height - m.b, m.t, c.logY === true);
  const body: string[] = [];
  for (const t of sy.ticks) {
    const y = sy(t).toFixed(1);
    body.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    body.push(
      `<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${niceNumber(t)}</text>`,
    );
  }
  const groupWidth = (width - m.l - m.r) / c.groups.length;
  c.groups.forEach((g, gi) => {
    const gx = m.l + gi * groupWidth;
    const barWidth = Math.min(26, (groupWidth - 16) / Math.max(1, g.bars.length));
    const start = gx + (groupWidth - barWidth * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const color = COLORS[names.indexOf(b.name) % COLORS.length] as string;
      const x = start + bi * barWidth;
      const yv = sy(Number.isFinite(b.value) ? b.value : y0);
      const base = sy(y0);
      body.push(
        `<rect x="${x.toFixed(1)}" y="${Math.min(yv, base).toFixed(1)}" width="${(barWidth - 3).toFixed(1)}" height="${Math.abs(base - yv).toFixed(1)}" fill="${color}"><title>${esc(g.label)} / ${esc(b.name)}: ${niceNumber(b.value)}</title></rect>`,
      );
      if (b.min !== undefined && b.max !== undefined && Number.isFinite(b.min) && Number.isFinite(b.max)) {
        const cx = (x + (barWidth - 3) / 2).toFixed(1);
        body.push(
          `<line x1="${cx}" x2="${cx}" y1="${sy(b.min).toFixed(1)}" y2="${sy(b.max).toFixed(1)}" stroke="#222"/>`,
        );
        for (const v of [b.min, b.max])
          body.push(
            `<line x1="${(Number(cx) - 4).toFixed(1)}" x2="${(Number(cx) + 4).toFixed(1)}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#222"/>`,
          );
      }
      body.push(
        `<text x="${(x + (barWidth - 3) / 2).toFixed(1)}" y="${(Math.min(yv, base) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222">${niceNumber(b.value)}</text>`,
      );
    });
    const words = g.label.split(' ');
    const lines: string[] = [];
    for (const w of words) {
      const last = lines[lines.length - 1];
      if (last !== undefined && (last + ' ' + w).length * 7.2 < groupWidth - 6)
        lines[lines.length - 1] = `${last} ${w}`;
      else lines.push(w);
    }
    lines
      .slice(0, 3)
      .forEach((line, k) =>
        body.push(
          `<text x="${(gx + groupWidth / 2).toFixed(1)}" y="${height - m.b + 16 + k * 13}" text-anchor="middle" fill="#222">${esc(line)}</text>`,
        ),
      );
  });
  body.push(...plotArea(c, m, width, height, sy));
  names.forEach((name, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const lx = m.l + (i % 3) * ((width - m.l - m.r) / 3);
    const ly = height - 12 - (legendRows - 1 - Math.floor(i / 3)) * 16;
    body.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color}"/>`);
    body.push(`<text x="${lx + 18}" y="${ly}" fill="#222">${esc(name)}</text>`);
  });
  return frame(width, height, c.title, body);
}

/** The plot frame, the y-axis label and the dashed reference lines, shared by both chart kinds. */
function plotArea(
  c: { yLabel: string; logY?: boolean; hlines?: ReadonlyArray<{ y: number; label: string }> },
  m: { l: number; r: number; t: number; b: number },
  width: number,
  height: number,
  sy: (y: number) => number,
): string[] {
  const out = [
    `<rect x="${m.l}" y="${m.t}" width="${width - m.l - m.r}" height="${height - m.t - m.b}" fill="none" stroke="#999"/>`,
    `<text transform="translate(16 ${(m.t + height - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}${c.logY === true ? ' (log)' : ''}</text>`,
  ];
  for (const h of c.hlines ?? []) {
    const y = sy(h.y).toFixed(1);
    out.push(
      `<line x1="${m.l}" x2="${width - m.r}" y1="${y}" y2="${y}" stroke="#000" stroke-dasharray="6 4"/>`,
      `<text x="${width - m.r - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#000">${esc(h.label)}</text>`,
    );
  }
  return out;
}
