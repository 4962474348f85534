/**
 * Rows as export text, CSV (RFC 4180) or JSON Lines, bounded in rows and bytes:
 * - text cells are neutralised like every other output (neutralize.ts) and cut to a cell bound;
 * - CSV injection: a text cell that a spreadsheet would read as a formula (it starts with `=`,
 *   `+`, `-`, `@`, a tab or a carriage return, or their full-width forms) gets a leading
 *   apostrophe and quotes, so it is shown as text and never run. Numbers stay numbers (`-3.5`
 *   is data), and so does text that is exactly a plain number;
 * - rows are written in order until the next would pass `maxRows` or `maxBytes`; `omitted`
 *   counts the rest and `nextIndex` is the first of them, where the next part starts.
 * Pure; no I/O.
 */
import { Buffer } from 'node:buffer';
import { neutralize } from './neutralize.js';

export type ExportCell = string | number | boolean | null | undefined;
export type ExportRow = Readonly<Record<string, ExportCell>>;
export type ExportFormat = 'csv' | 'jsonl';

export const EXPORT_MIME_TYPES = { csv: 'text/csv', jsonl: 'application/jsonl' } as const;

export interface ExportOptions {
  readonly format: ExportFormat;
  /** Column names, in order: the CSV header, the keys of each JSON line. */
  readonly columns: readonly string[];
  readonly maxRows: number;
  /** UTF-8 bytes of the whole text, header included. */
  readonly maxBytes: number;
  /** Characters kept per text cell (default 4096); a longer cell ends with an ellipsis. */
  readonly maxCellChars?: number;
}

export interface ExportText {
  readonly text: string;
  readonly mimeType: (typeof EXPORT_MIME_TYPES)[ExportFormat];
  readonly rows: number;
  readonly bytes: number;
  /** Rows of the input not in the text (cut by maxRows or maxBytes). */
  readonly omitted: number;
  /** Index of the first omitted row; absent when nothing was omitted. */
  readonly nextIndex?: number;
  /** Text cells cut to maxCellChars. */
  readonly cutCells: number;
}

const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NEEDS_QUOTES = /[",\n\r]|^\s|\s$/;

export function formatRows(rows: readonly ExportRow[], options: ExportOptions): ExportText {
  const maxCell = options.maxCellChars ?? 4096;
  let cutCells = 0;
  const text = (value: string): string => {
    const clean = neutralize(value);
    if (clean.length <= maxCell) return clean;
    cutCells++;
    return `${clean.slice(0, maxCell - 1)}\u2026`;
  };
  const lineOf =
    options.format === 'csv'
      ? (row: ExportRow) => `${options.columns.map((c) => csvCell(row[c], text)).join(',')}\r\n`
      : (row: ExportRow) => `${jsonLine(row, options.columns, text)}\n`;
  const parts: string[] = [];
  let bytes = 0;
  if (options.format === 'csv') {
    const header = `${options.columns.map((c) => csvCell(c, text)).join(',')}\r\n`;
    parts.push(header);
    bytes += utf8Length(header);
  }
  let written = 0;
  for (const row of rows) {
    if (written >= options.maxRows) break;
    const cutBefore = cutCells;
    const line = lineOf(row);
    const size = utf8Length(line);
    if (bytes + size > options.maxBytes) {
      cutCells = cutBefore;
      break;
    }
    parts.push(line);
    bytes += size;
    written++;
  }
  const omitted = rows.length - written;
  return {
    text: parts.join(''),
    mimeType: EXPORT_MIME_TYPES[options.format],
    rows: written,
    bytes,
    omitted,
    ...(omitted > 0 ? { nextIndex: written } : {}),
    cutCells,
  };
}

function csvCell(value: ExportCell, text: (v: string) => string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const clean = text(value);
  if (FORMULA_START.test(clean) && !PLAIN_NUMBER.test(clean)) return `"'${clean.replace(/"/g, '""')}"`;
  return NEEDS_QUOTES.test(clean) ? `"${clean.replace(/"/g, '""')}"` : clean;
}

function jsonLine(row: ExportRow, columns: readonly string[], text: (v: string) => string): string {
  const out: Record<string, string | number | boolean | null> = {};
  for (const c of columns) {
    const value = row[c];
    if (value === undefined) continue;
    if (typeof value === 'string') out[c] = text(value);
    else if (typeof value === 'number') out[c] = Number.isFinite(value) ? value : null;
    else out[c] = value;
  }
  return JSON.stringify(out);
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
