/**
 * The PostgreSQL connection of the history: the ONLY importer of the SQL driver ('pg',
 * node-postgres: pure JavaScript, the most used PostgreSQL client for Node, with pooling, TLS and
 * SCRAM built in). Everything above it (postgres-schema.ts, -write.ts, -read.ts, -backend.ts)
 * talks to the small `Pg` interface below, so the driver could be replaced in this one file.
 *
 * Connection: host, port, user and database from HISTORY_URL, the password from
 * HISTORY_PASSWORD_FILE, TLS only with HISTORY_CA_FILE and then verified in full (the chain to
 * that CA and the host name against the certificate, as libpq's sslmode=verify-full).
 * statement_timeout is set on every connection (HISTORY_STATEMENT_TIMEOUT_MS) and the driver
 * gives up a little later on its own (query_timeout), so a stopped server cannot hang a batch.
 *
 * Driver and server errors become operator words here (describe()): what failed, where, and which
 * setting to look at, never the password.
 */
import pg from 'pg';
import { SCHEMA } from './postgres-schema.js';
import { HistoryFault } from './types.js';

export interface PgConnect {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password?: string | undefined;
  /** CA certificate(s), PEM: TLS verified against them and the host name. Undefined: no TLS. */
  readonly ca?: Buffer | undefined;
  readonly statementTimeoutMs: number;
  /** Connections at most (one writes, the others read). */
  readonly maxConnections?: number;
  /** The schema the history lives in, as an SQL identifier (quoted where needed). */
  readonly schema?: string;
}

export type Row = Record<string, unknown>;

/** What the history needs of a connection: queries, and transactions on one connection. */
export interface Pg {
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
  transaction<T>(f: (tx: Pg) => Promise<T>): Promise<T>;
  /** f on one connection (session-level advisory locks live as long as it). */
  session<T>(f: (s: Pg) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Where, for messages: host:port/database. */
  readonly where: string;
  /** The history's schema, as an SQL identifier: every statement names its tables in it. */
  readonly schema: string;
}

// int8, numeric and their arrays as numbers: every value here (epoch ms, counts, byte sums) is
// below 2^53.
const NUMBER_TYPES = new Set([20, 1700]);
const NUMBER_ARRAYS = new Set([1016, 1231]);
/** Parses a PostgreSQL array literal of numbers, `{1,2,NULL}`, as float8[] does. */
const FLOAT8_ARRAY = 1022 as Parameters<typeof pg.types.getTypeParser>[0];
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (NUMBER_TYPES.has(oid)) return (v: string) => Number(v);
    const parse = pg.types.getTypeParser(NUMBER_ARRAYS.has(oid) ? FLOAT8_ARRAY : oid, format as 'text') as (
      v: string,
    ) => unknown;
    return parse;
  }) as typeof pg.types.getTypeParser,
};

/** One checked-out connection of a PgPool: its place, schema and error words are the pool's. */
class Session implements Pg {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly pool: PgPool,
  ) {}

  get where(): string {
    return this.pool.where;
  }

  get schema(): string {
    return this.pool.schema;
  }

  async query(text: string, params?: readonly unknown[]): Promise<Row[]> {
    try {
      return (await this.client.query(text, params as unknown[])).rows as Row[];
    } catch (error) {
      throw this.pool.describe(error);
    }
  }

  async transaction<T>(f: (tx: Pg) => Promise<T>): Promise<T> {
    await this.query('BEGIN');
    try {
      const out = await f(this);
      await this.query('COMMIT');
      return out;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  session<T>(f: (s: Pg) => Promise<T>): Promise<T> {
    return f(this);
  }

  async close(): Promise<void> {}
}

export class PgPool implements Pg {
  private readonly pool: pg.Pool;
  readonly where: string;
  private scoped: string;

  constructor(private readonly c: PgConnect) {
    this.where = `${c.host}:${c.port}/${c.database}`;
    this.scoped = c.schema ?? SCHEMA;
    this.pool = new pg.Pool({
      host: c.host,
      port: c.port,
      user: c.user,
      database: c.database,
      ...(c.password !== undefined ? { password: c.password } : {}),
      ssl:
        c.ca === undefined ? false : { ca: c.ca, rejectUnauthorized: true, servername: servername(c.host) },
      statement_timeout: c.statementTimeoutMs,
      query_timeout: c.statementTimeoutMs + 5000,
      connectionTimeoutMillis: Math.min(c.statementTimeoutMs + 5000, 15_000),
      application_name: 'mqtt-mcp-bridge',
      // No JIT: the history's queries are short index scans whose estimated cost over many day
      // partitions passes jit_above_cost, and compiling them took 120 ms of a 130 ms summary.
      options: '-c jit=off',
      max: c.maxConnections ?? 4,
      idleTimeoutMillis: 30_000,
      types,
    });
    // An idle connection lost (server restart, network): the next query opens a new one.
    this.pool.on('error', () => undefined);
  }

  get schema(): string {
    return this.scoped;
  }

  /** A driver or server error in operator words, with no secret in them. */
  describe(error: unknown): HistoryFault {
    return describe(error, this.c);
  }

  /** Moves every later statement to another schema (the broker's, once it is chosen). */
  scope(schema: string): void {
    this.scoped = schema;
  }

  async query(text: string, params?: readonly unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query(text, params as unknown[])).rows as Row[];
    } catch (error) {
      throw describe(error, this.c);
    }
  }

  async session<T>(f: (s: Pg) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw describe(error, this.c);
    }
    let broken: Error | undefined;
    // A connection lost while checked out (between the statements of a transaction) is reported
    // as an 'error' event too; the statement under way fails with it, so nothing more to do here.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      return await f(new Session(client, this));
    } catch (error) {
      // A fault of the connection itself: do not hand it to the next caller.
      if (error instanceof HistoryFault && error.kind !== 'full' && error.kind !== 'readonly') broken = error;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  transaction<T>(f: (tx: Pg) => Promise<T>): Promise<T> {
    return this.session((s) => s.transaction(f));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** TLS server name: a host name as is; none for an IP address (Node checks the IP SAN then). */
function servername(host: string): string | undefined {
  return /^[\d.]+$/.test(host) || host.includes(':') ? undefined : host;
}

/** SQLSTATE codes and driver errors, in operator words (never with the password). */
export function describe(error: unknown, c: PgConnect): HistoryFault {
  if (error instanceof HistoryFault) return error;
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const raw = typeof e?.message === 'string' ? e.message : String(error);
  const where = `the history database ${c.host}:${c.port}/${c.database}`;
  const fault = (kind: HistoryFault['kind'], text: string) => new HistoryFault(kind, text);
  switch (code) {
    case '28P01':
      return fault(
        'io',
        `${where} refused the password of user ${c.user}; check HISTORY_PASSWORD_FILE and the user's password in PostgreSQL`,
      );
    case '28000':
      return fault(
        'io',
        `${where} does not let user ${c.user} connect from here (pg_hba.conf has no entry for it${c.ca === undefined ? ', or it requires TLS: set HISTORY_CA_FILE' : ''})`,
      );
    case '3D000':
      return fault('io', `${where} does not exist; create the database or fix HISTORY_URL`);
    case '42501':
      return fault(
        'io',
        `user ${c.user} may not create or write the history tables in ${where} (${raw}); grant it CREATE on the database`,
      );
    case '57014':
      return fault(
        'io',
        `${where} did not answer within HISTORY_STATEMENT_TIMEOUT_MS (${c.statementTimeoutMs} ms): the database is slow or a table is locked`,
      );
    case '53100':
      return fault('full', `the disk of ${where} is full`);
    case '53200':
    case '53300':
      return fault('io', `${where} is out of memory or connections (${raw})`);
    case '25006':
      return fault('readonly', `${where} is read-only (a standby, or default_transaction_read_only)`);
    case '57P01':
    case '57P02':
    case '57P03':
      return fault('io', `${where} is shutting down or starting up; recording resumes when it is back`);
    case 'ECONNREFUSED':
      return fault(
        'io',
        `${where} does not answer (connection refused): is PostgreSQL running and listening there?`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fault('io', `the host of ${where} is not known (DNS); check HISTORY_URL`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return fault('io', `${where} cannot be reached (${code})`);
    case 'ECONNRESET':
    case 'EPIPE':
      return fault('io', `the connection to ${where} was lost; recording resumes when it is back`);
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return fault(
        'io',
        `TLS to ${where} failed: its certificate is not for ${c.host}; connect by a name the certificate carries`,
      );
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return fault(
        'io',
        `TLS to ${where} failed: its certificate is not signed by the CA in HISTORY_CA_FILE (${code})`,
      );
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return fault('io', `TLS to ${where} failed: its certificate is expired or not yet valid`);
    default:
      break;
  }
  if (/does not support SSL/i.test(raw))
    return fault(
      'io',
      `${where} does not offer TLS, but HISTORY_CA_FILE asks for it; turn on ssl in PostgreSQL`,
    );
  if (/no pg_hba.conf entry/i.test(raw))
    return fault('io', `${where} does not let user ${c.user} connect from here (pg_hba.conf)`);
  if (/timeout|timed out/i.test(raw))
    return fault(
      'io',
      `${where} did not answer in time (HISTORY_STATEMENT_TIMEOUT_MS ${c.statementTimeoutMs} ms): the database is slow or unreachable`,
    );
  if (/terminat|Connection ended|closed/i.test(raw))
    return fault('io', `the connection to ${where} was lost; recording resumes when it is back`);
  if (/password/i.test(raw))
    return fault('io', `${where} asks for a password: set HISTORY_PASSWORD_FILE (${stripSecrets(raw, c)})`);
  return fault('io', `${where}: ${stripSecrets(raw, c)}${code !== '' ? ` (${code})` : ''}`);
}

function stripSecrets(text: string, c: PgConnect): string {
  return c.password === undefined || c.password === '' ? text : text.split(c.password).join('[redacted]');
}
