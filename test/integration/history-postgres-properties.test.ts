/**
 * The history properties (test/history/properties.ts) against the PostgreSQL backend: a cluster
 * made for this file (test/helpers/postgres.ts), a fresh database per run.
 */
import { after, before } from 'node:test';
import { PostgresHistory } from '../../src/history/postgres-backend.js';
import { runProperties } from '../history/properties.js';
import { PG_USER, startPostgres, type Postgres } from '../helpers/postgres.js';

let server: Postgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.destroy();
});
let n = 0;

runProperties('postgres', async (o = {}) => {
  const database = await server.createDatabase(`p${n++}`);
  return PostgresHistory.open({
    connect: { host: '127.0.0.1', port: server.port, user: PG_USER, database, statementTimeoutMs: 30_000 },
    policy: { read: ['#'], write: [], deny: [] },
    retentionMs: o.retentionMs ?? 86_400_000,
    maxBytes: o.maxBytes ?? 2 ** 30,
    maxPayloadBytes: 65_536,
    maxFieldsPerMessage: 32,
  });
});
