/**
 * npm run docs            rewrite the README's generated tables
 * npm run docs -- --check exit 1 when the README is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { updateReadme } from './docs.js';

const path = resolve(import.meta.dirname, '../README.md');
const current = readFileSync(path, 'utf8');
const next = await updateReadme(current, path);
if (process.argv.includes('--check')) {
  if (next !== current) {
    process.stderr.write('README.md tables are out of date; run `npm run docs`\n');
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(path, next);
  process.stderr.write('README.md tables updated\n');
}
