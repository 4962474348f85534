/**
 * The history settings: where it is recorded (HISTORY_PATH, an SQLite file, or HISTORY_URL, a
 * PostgreSQL database) and its bounds. The PostgreSQL URL names host, port, user and database
 * only: a password inside it is refused (it would show wherever the URL is shown); it comes from
 * HISTORY_PASSWORD_FILE and is registered as a secret. HISTORY_CA_FILE turns on verified TLS.
 */
import type { Env } from './schema.js';

export interface PostgresConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password: string | undefined;
  readonly ca: Buffer | undefined;
  readonly statementTimeoutMs: number;
}

export interface HistoryConfig {
  /** The SQLite file, or the database URL as shown to people (it holds no password). */
  readonly path: string;
  /** Set for HISTORY_URL: the PostgreSQL connection. */
  readonly postgres?: PostgresConfig;
  readonly retentionMs: number;
  readonly maxBytes: number;
  /** Filters recorded (default: everything collected). */
  readonly topics: string[];
  readonly maxPayloadBytes: number;
  readonly flushMs: number;
  readonly queueMax: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----/;

export function historyConfig(
  env: Env,
  problems: string[],
  secrets: string[],
  read: (variable: string, path: string | undefined) => Buffer | undefined,
  readSecret: (variable: string, path: string | undefined) => string | undefined,
): HistoryConfig | undefined {
  const path = env.HISTORY_PATH;
  const rawUrl = env.HISTORY_URL;
  if (path !== undefined && rawUrl !== undefined) {
    problems.push(
      'HISTORY_PATH and HISTORY_URL: set one of them (an SQLite file or a PostgreSQL database), not both',
    );
  }
  if (rawUrl === undefined) {
    for (const name of ['HISTORY_PASSWORD_FILE', 'HISTORY_CA_FILE'] as const) {
      if (env[name] !== undefined) problems.push(`${name}: is set but HISTORY_URL is not`);
    }
  }
  if (path === undefined && rawUrl === undefined) return undefined;
  if (env.HISTORY_MAX_PAYLOAD_BYTES > env.STORE_MAX_PAYLOAD_BYTES) {
    // History records what the store collected; it cannot keep bytes the store cut off.
    problems.push('HISTORY_MAX_PAYLOAD_BYTES: must not exceed STORE_MAX_PAYLOAD_BYTES');
  }
  const common = {
    retentionMs: env.HISTORY_RETENTION_DAYS * 86_400_000,
    maxBytes: env.HISTORY_MAX_BYTES,
    topics: env.HISTORY_TOPICS ?? ['#'],
    maxPayloadBytes: env.HISTORY_MAX_PAYLOAD_BYTES,
    flushMs: env.HISTORY_FLUSH_MS,
    queueMax: env.HISTORY_QUEUE_MAX,
  };
  if (rawUrl === undefined) return { path: path as string, ...common };
  const postgres = postgresConfig(env, rawUrl, problems, secrets, read, readSecret);
  if (postgres === undefined) return undefined;
  const host = postgres.host.includes(':') ? `[${postgres.host}]` : postgres.host;
  return {
    path: `postgres://${postgres.user}@${host}:${postgres.port}/${postgres.database}`,
    postgres,
    ...common,
  };
}

function postgresConfig(
  env: Env,
  raw: string,
  problems: string[],
  secrets: string[],
  read: (variable: string, path: string | undefined) => Buffer | undefined,
  readSecret: (variable: string, path: string | undefined) => string | undefined,
): PostgresConfig | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push('HISTORY_URL: is not a valid URL (expected postgres://user@host:5432/database)');
    return undefined;
  }
  const before = problems.length;
  if (url.password !== '') {
    secrets.push(decodeURIComponent(url.password));
    problems.push(
      'HISTORY_URL: must not contain a password; put it in a file and set HISTORY_PASSWORD_FILE (postgres://user@host:5432/database)',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    problems.push('HISTORY_URL: scheme must be postgres:// (or postgresql://)');
  if (url.hostname === '') problems.push('HISTORY_URL: has no host');
  if (url.username === '')
    problems.push('HISTORY_URL: has no user name (postgres://user@host:5432/database)');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/'))
    problems.push('HISTORY_URL: must name one database (postgres://user@host:5432/database)');
  if (url.search !== '' || url.hash !== '')
    problems.push(
      'HISTORY_URL: must have no query or fragment (TLS is set by HISTORY_CA_FILE, the password by HISTORY_PASSWORD_FILE)',
    );
  if (url.port === '0') problems.push('HISTORY_URL: port 0 is not a database port');
  const password = readSecret('HISTORY_PASSWORD_FILE', env.HISTORY_PASSWORD_FILE);
  const ca = read('HISTORY_CA_FILE', env.HISTORY_CA_FILE);
  if (ca !== undefined && !PEM_CERT.test(ca.toString('latin1')))
    problems.push(
      `HISTORY_CA_FILE: ${env.HISTORY_CA_FILE ?? ''} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
    );
  if (problems.length > before) return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port: url.port === '' ? 5432 : Number(url.port),
    user: decodeURIComponent(url.username),
    database,
    password,
    ca,
    statementTimeoutMs: env.HISTORY_STATEMENT_TIMEOUT_MS,
  };
}
