/**
 * PostgreSQL with TimescaleDB in a container: the stand-in image of scripts/docker-images.sh
 * (Debian trixie's PostgreSQL 17 and postgresql-17-timescaledb, preloaded), its port published
 * on 127.0.0.1 only, the data directory on a tmpfs, connections trusted (test data only), labelled
 * with this run's label and removed by destroy(). For test/docker/timescaledb.test.ts and the
 * TimescaleDB bench case.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { PgServer } from '../../history/postgres-suite.js';
import { RUN_LABEL_ARG, docker, dockerOk, eventually } from './docker.js';

export const TIMESCALE_USER = 'bridge';

export class TimescaleContainer implements PgServer {
  port = 0;
  private id = '';
  private readonly dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-tsdb-'));

  /** `settings`: postgres -c options (name=value), after fsync=off and synchronous_commit=off. */
  async start(image: string, settings: readonly string[] = []): Promise<this> {
    // The entrypoint wants a password file (uid 999 reads it); connections are trusted anyway.
    const pw = join(this.dir, 'password');
    writeFileSync(pw, 'unused\n');
    chmodSync(pw, 0o644);
    chmodSync(this.dir, 0o755);
    this.id = await dockerOk([
      'run',
      '-d',
      '--label',
      RUN_LABEL_ARG,
      '-p',
      '127.0.0.1::5432',
      '--tmpfs',
      '/var/lib/postgresql/data:uid=999,gid=999,mode=0700',
      '-v',
      `${pw}:/run/password:ro`,
      '-e',
      'POSTGRES_PASSWORD_FILE=/run/password',
      '-e',
      'POSTGRES_HOST_AUTH_METHOD=trust',
      image,
      'postgres',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      ...settings.flatMap((x) => ['-c', x]),
    ]);
    const mapped = await dockerOk(['port', this.id, '5432/tcp']);
    this.port = Number(/:(\d+)\s*$/m.exec(mapped)?.[1]);
    assert.ok(this.port > 0, `docker port said ${mapped}`);
    await eventually(() => this.admin('SELECT 1'), 30_000, 'TimescaleDB to accept connections');
    return this;
  }

  async admin(sql: string, database = 'postgres'): Promise<pg.QueryResult> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  }

  /** A database owned by `bridge`, with TimescaleDB installed in it unless `extension` is false. */
  async createDatabase(name: string, extension = true): Promise<string> {
    const roles = await this.admin(`SELECT 1 FROM pg_roles WHERE rolname = '${TIMESCALE_USER}'`);
    if (roles.rowCount === 0) await this.admin(`CREATE ROLE ${TIMESCALE_USER} LOGIN`);
    await this.admin(`CREATE DATABASE ${name} OWNER ${TIMESCALE_USER}`);
    if (extension) await this.admin('CREATE EXTENSION timescaledb', name);
    return name;
  }

  /** The PID, on this host, of the container's first process: the postmaster. */
  async hostPid(): Promise<number> {
    return Number(await dockerOk(['inspect', '-f', '{{.State.Pid}}', this.id]));
  }

  /** postgres://bridge@127.0.0.1:port/db. */
  url(database: string): string {
    return `postgres://${TIMESCALE_USER}@127.0.0.1:${this.port}/${database}`;
  }

  async destroy(): Promise<void> {
    if (this.id !== '') await docker(['rm', '-f', '-v', this.id]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
