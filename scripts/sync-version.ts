/**
 * Carries package.json's version into every other place that states it: manifest.json (the MCP
 * Bundle), server.json (the MCP Registry: the server, the npm package and the image tag) and
 * the Dockerfile's image label; adds a CHANGELOG heading for it when there is none. `npm version
 * <new>` runs it (the "version" script) before committing.
 *
 *   tsx scripts/sync-version.ts [--root DIR]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const at = process.argv.indexOf('--root');
const root = at < 0 ? resolve(import.meta.dirname, '..') : resolve(process.argv[at + 1] ?? '.');
const read = (name: string) => readFileSync(join(root, name), 'utf8');

const { name, version } = JSON.parse(read('package.json')) as { name: string; version: string };
const previous = (JSON.parse(read('manifest.json')) as { version: string }).version;
const quoted = (v: string) => `"version": "${v}"`;
const escaped = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replace the text `from` by `to` in a file, and fail when it is not there. */
function replaceIn(file: string, from: string, to: string): void {
  const text = read(file);
  if (!text.includes(from)) throw new Error(`${file}: ${from} not found`);
  writeFileSync(join(root, file), text.replace(new RegExp(escaped(from), 'g'), to));
}

if (previous !== version) {
  replaceIn('manifest.json', quoted(previous), quoted(version));
  replaceIn('server.json', quoted(previous), quoted(version));
  replaceIn('server.json', `/${name}:${previous}"`, `/${name}:${version}"`);
  replaceIn(
    'Dockerfile',
    `org.opencontainers.image.version="${previous}"`,
    `org.opencontainers.image.version="${version}"`,
  );
}
const changelog = read('CHANGELOG.md');
if (!new RegExp(`^## \\[${escaped(version)}\\]`, 'm').test(changelog)) {
  const first = changelog.search(/^## /m);
  const entry = `## [${version}] - unreleased\n\n`;
  writeFileSync(
    join(root, 'CHANGELOG.md'),
    first < 0
      ? `${changelog.trimEnd()}\n\n${entry}`
      : changelog.slice(0, first) + entry + changelog.slice(first),
  );
}
process.stdout.write(`version ${version}: manifest.json, server.json, Dockerfile, CHANGELOG.md\n`);
