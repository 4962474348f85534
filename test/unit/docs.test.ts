/**
 * The README's tool and settings tables are generated from the code; this fails when they drift,
 * and checks that the settings table and the configuration schema name the same variables.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { updateReadme } from '../../scripts/docs.js';
import { EnvSchema } from '../../src/config/schema.js';
import { SETTINGS } from '../../src/config/settings.js';
import { ALL_TOOLS } from '../../src/tools/index.js';

const README_PATH = resolve(import.meta.dirname, '../../README.md');
const README = readFileSync(README_PATH, 'utf8');

describe('README', () => {
  it('tool and settings tables match the code (run `npm run docs` to update)', async () => {
    assert.equal(await updateReadme(README, README_PATH), README);
  });

  it('names every tool and every setting', () => {
    for (const tool of ALL_TOOLS) assert.ok(README.includes(`\`${tool.name}\``), tool.name);
    for (const name of Object.keys(SETTINGS)) assert.ok(README.includes(`\`${name}\``), name);
  });

  it('the settings table and the configuration schema cover the same variables', () => {
    assert.deepEqual(Object.keys(SETTINGS).sort(), Object.keys(EnvSchema.shape).sort());
  });
});
