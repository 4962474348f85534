/**
 * The history properties (test/history/properties.ts) against the SQLite backend, a file per run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteHistory } from '../../src/history/sqlite-backend.js';
import { runProperties } from '../history/properties.js';

const root = mkdtempSync(join(tmpdir(), 'history-props-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

runProperties('sqlite', (o = {}) =>
  SqliteHistory.open({
    location: join(root, `p${n++}.db`),
    policy: { read: ['#'], write: [], deny: [] },
    retentionMs: 86_400_000,
    maxBytes: 2 ** 30,
    maxPayloadBytes: 65_536,
    maxFieldsPerMessage: 32,
    ...o,
  }),
);
