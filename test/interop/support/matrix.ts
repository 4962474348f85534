/**
 * The README's "Broker compatibility" matrix, rendered from support/facts.ts (which the suite
 * asserts against the real brokers). `--write` puts it into README.md between its markers.
 *
 *   npx tsx test/interop/support/matrix.ts --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format } from 'prettier';
import { FACTS, ROWS } from './facts.js';
import { BROKER_KEYS } from './kit.js';

export const README = resolve(import.meta.dirname, '../../../README.md');
export const BEGIN = '<!-- interop-matrix:begin (npx tsx test/interop/support/matrix.ts --write) -->';
export const END = '<!-- interop-matrix:end -->';

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderMatrix(): string {
  const head = ['', ...BROKER_KEYS.map((key) => FACTS[key].product)];
  const lines = [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const [field, label] of ROWS) {
    lines.push(`| ${[label, ...BROKER_KEYS.map((key) => FACTS[key][field])].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The README text between the markers (undefined when they are missing). */
export function readmeMatrix(readme: string): string | undefined {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + BEGIN.length, end).trim();
}

/** A Markdown table's cells, row by row, without the separator row (Prettier pads the columns). */
export function tableCells(table: string): string[][] {
  return table
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    )
    .filter((row) => !row.every((c) => /^:?-+:?$/.test(c)));
}

if (process.argv[1] === import.meta.filename && process.argv.includes('--write')) {
  const readme = readFileSync(README, 'utf8');
  if (readmeMatrix(readme) === undefined) throw new Error(`README.md has no ${BEGIN} ... ${END} markers`);
  const start = readme.indexOf(BEGIN) + BEGIN.length;
  const updated = `${readme.slice(0, start)}\n\n${renderMatrix()}\n\n${readme.slice(readme.indexOf(END))}`;
  // As `npm run format` would write it (Prettier pads the table's columns).
  writeFileSync(README, await format(updated, { parser: 'markdown', filepath: README }));
}
