/**
 * The PostgreSQL history backend against Debian's PostgreSQL (a cluster made for this file, see
 * test/helpers/postgres.ts): test/history/postgres-suite.ts on declarative day partitions.
 */
import { after, before } from 'node:test';
import { describePostgresHistory } from '../history/postgres-suite.js';
import { PG_USER, startPostgres, type Postgres } from '../helpers/postgres.js';

let server: Postgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.destroy();
});

describePostgresHistory('postgres', () => server, PG_USER, 'partitions');
