/**
 * A real PostgreSQL per test file: a cluster made with Debian's initdb in a temporary folder
 * (owned by the `postgres` system user, since initdb and postgres refuse to run as root), a
 * listener on 127.0.0.1 and an ephemeral port, its Unix socket in that folder, stopped by its PID.
 * scripts/install-postgres.sh installs the package.
 *
 * Options: `password` turns on SCRAM password authentication over TCP for the role `bridge`
 * (the superuser `postgres` keeps trust over the Unix socket, for the test's own set-up);
 * `tls` (the test PKI's server certificate) turns on TLS and refuses TCP without it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { adopt, freePort, sleep } from './broker.js';

export const PG_USER = 'bridge';

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  throw new Error('PostgreSQL is not installed: run sh scripts/install-postgres.sh');
}

/** Run as the postgres system user (setpriv execs, so the PID is the program's own). */
function asPostgres(): string[] {
  const id = (flag: string) => execFileSync('id', [flag, 'postgres']).toString().trim();
  return ['--reuid', id('-u'), '--regid', id('-g'), '--init-groups', '--'];
}

export interface PostgresOptions {
  readonly password?: string;
  readonly tls?: { readonly cert: string; readonly key: string };
  /** postgresql.conf lines added (e.g. fsync = on for benchmarks). */
  readonly extraConfig?: readonly string[];
}

export class Postgres {
  readonly dir: string;
  readonly data: string;
  port = 0;
  private child: ChildProcess | undefined;
  private log = '';

  constructor(private readonly options: PostgresOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-pg-'));
    this.data = join(this.dir, 'data');
  }

  /** initdb (once), then start on a free port (the same one on a restart). */
  async start(): Promise<this> {
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null)
      return this;
    if (!existsSync(this.data)) this.init();
    if (this.port === 0) this.port = await freePort();
    const child = adopt(
      spawn(
        'setpriv',
        [...asPostgres(), join(pgBin(), 'postgres'), '-D', this.data, '-p', String(this.port)],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      ),
    );
    child.stderr?.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000)));
    this.child = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${this.log}`);
      try {
        await this.admin('SELECT 1');
        return this;
      } catch {
        if (Date.now() > deadline) throw new Error(`postgres did not start: ${this.log}`);
        await sleep(100);
      }
    }
  }

  private init(): void {
    chownSync(
      this.dir,
      Number(execFileSync('id', ['-u', 'postgres'])),
      Number(execFileSync('id', ['-g', 'postgres'])),
    );
    execFileSync(
      'setpriv',
      [
        ...asPostgres(),
        join(pgBin(), 'initdb'),
        '-D',
        this.data,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const conf = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${this.dir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'shared_buffers = 128MB',
      'max_connections = 40',
      "password_encryption = 'scram-sha-256'",
      ...(this.options.extraConfig ?? []),
    ];
    const hba = ['local all all trust'];
    const method = this.options.password !== undefined ? 'scram-sha-256' : 'trust';
    if (this.options.tls !== undefined) {
      const cert = join(this.data, 'server.crt');
      const key = join(this.data, 'server.key');
      copyFileSync(this.options.tls.cert, cert);
      copyFileSync(this.options.tls.key, key);
      execFileSync('chmod', ['0600', key]);
      execFileSync('chown', ['postgres:postgres', cert, key]);
      conf.push('ssl = on', `ssl_cert_file = '${cert}'`, `ssl_key_file = '${key}'`);
      hba.push(`hostssl all all 127.0.0.1/32 ${method}`);
    } else {
      hba.push(`host all all 127.0.0.1/32 ${method}`);
    }
    writeFileSync(join(this.data, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
    writeFileSync(join(this.data, 'pg_hba.conf'), `${hba.join('\n')}\n`);
    execFileSync('chown', [
      'postgres:postgres',
      join(this.data, 'postgresql.auto.conf'),
      join(this.data, 'pg_hba.conf'),
    ]);
  }

  /** One statement as the superuser over the Unix socket. */
  async admin(sql: string, database = 'postgres'): Promise<pg.QueryResult> {
    const client = new pg.Client({ host: this.dir, port: this.port, user: 'postgres', database });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  }

  /** A new, empty database owned by the `bridge` role (made with its password on first use). */
  async createDatabase(name: string): Promise<string> {
    const roles = await this.admin(`SELECT 1 FROM pg_roles WHERE rolname = '${PG_USER}'`);
    if (roles.rowCount === 0) {
      const pw = this.options.password;
      await this.admin(
        `CREATE ROLE ${PG_USER} LOGIN${pw !== undefined ? ` PASSWORD '${pw.replaceAll("'", "''")}'` : ''}`,
      );
    }
    await this.admin(`CREATE DATABASE ${name} OWNER ${PG_USER}`);
    return name;
  }

  /** postgres://bridge@127.0.0.1:port/db (no password: that comes from a file). */
  url(database: string, host = '127.0.0.1'): string {
    return `postgres://${PG_USER}@${host}:${this.port}/${database}`;
  }

  /** Stop by PID: SIGINT is PostgreSQL's fast shutdown (sessions ended, clean), SIGKILL a crash. */
  async stop(signal: 'SIGINT' | 'SIGKILL' = 'SIGINT'): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
    if (signal === 'SIGKILL') {
      // The server's own children notice the postmaster's death and exit; give them a moment.
      await sleep(300);
    }
    this.child = undefined;
  }

  /** Stop and remove the cluster. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The postmaster's PID (undefined while stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get stderr(): string {
    return this.log;
  }
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  return new Postgres(options).start();
}
