/**
 * The history settings: HISTORY_PATH (SQLite) or HISTORY_URL (PostgreSQL) with its password file,
 * CA file and statement timeout; the refusals name the variable and never show the password.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import {
  FILE_PASSWORD,
  URL_OK,
  URL_PASSWORD,
  configError,
  expectProblems,
  files,
  pki,
  type Env,
  type ErrorCase,
} from './support/config-fixtures.js';

const PG = 'postgres://bridge@db.example:5433/plant';
const base = { MQTT_URL: URL_OK };

const CASES: readonly ErrorCase[] = [
  {
    name: 'both HISTORY_PATH and HISTORY_URL',
    env: { ...base, HISTORY_PATH: '/data/h.db', HISTORY_URL: PG },
    problems: [/^HISTORY_PATH and HISTORY_URL: set one of them/],
  },
  {
    name: 'a password inside HISTORY_URL',
    env: { ...base, HISTORY_URL: `postgres://bridge:${URL_PASSWORD}@db.example/plant` },
    problems: [/^HISTORY_URL: must not contain a password; .*HISTORY_PASSWORD_FILE/],
  },
  {
    name: 'another scheme',
    env: { ...base, HISTORY_URL: 'mysql://bridge@db/plant' },
    problems: [/^HISTORY_URL: scheme must be postgres:\/\//],
  },
  {
    name: 'no user',
    env: { ...base, HISTORY_URL: 'postgres://db.example/plant' },
    problems: [/has no user name/],
  },
  {
    name: 'no database',
    env: { ...base, HISTORY_URL: 'postgres://bridge@db.example' },
    problems: [/must name one database/],
  },
  {
    name: 'a query (sslmode) in the URL',
    env: { ...base, HISTORY_URL: `${PG}?sslmode=disable` },
    problems: [/^HISTORY_URL: must have no query or fragment \(TLS is set by HISTORY_CA_FILE/],
  },
  {
    name: 'HISTORY_PASSWORD_FILE without HISTORY_URL',
    env: { ...base, HISTORY_PATH: '/data/h.db', HISTORY_PASSWORD_FILE: '/v/pw' },
    virtual: { '/v/pw': FILE_PASSWORD },
    problems: [/^HISTORY_PASSWORD_FILE: is set but HISTORY_URL is not/],
  },
  {
    name: 'a CA file that holds no certificate',
    env: { ...base, HISTORY_URL: PG, HISTORY_CA_FILE: '/v/ca' },
    virtual: { '/v/ca': 'not a certificate' },
    problems: [/^HISTORY_CA_FILE: \/v\/ca holds no PEM certificate/],
  },
  {
    name: 'an empty password file',
    env: { ...base, HISTORY_URL: PG, HISTORY_PASSWORD_FILE: '/v/pw' },
    virtual: { '/v/pw': '\n' },
    problems: [/^HISTORY_PASSWORD_FILE: \/v\/pw is empty/],
  },
  {
    name: 'a statement timeout out of range',
    env: { ...base, HISTORY_URL: PG, HISTORY_STATEMENT_TIMEOUT_MS: '5' },
    problems: [/^HISTORY_STATEMENT_TIMEOUT_MS: must be at least 100/],
  },
];

describe('history settings refused', () => {
  for (const c of CASES) {
    it(c.name, () => expectProblems(configError(c.env, files(c.virtual)).problems, c.problems));
  }
});

describe('history settings accepted', () => {
  const load = (env: Env, virtual: Record<string, string | Buffer> = {}) => loadConfig(env, files(virtual));

  it('HISTORY_URL with a password file, a CA and a timeout; the password is a registered secret', () => {
    const ca = pki.ca;
    const config = load(
      {
        ...base,
        HISTORY_URL: PG,
        HISTORY_PASSWORD_FILE: '/v/pw',
        HISTORY_CA_FILE: ca,
        HISTORY_STATEMENT_TIMEOUT_MS: '2500',
      },
      {
        '/v/pw': `${FILE_PASSWORD}\n`,
        [ca]: Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n'),
      },
    );
    assert.equal(config.history?.path, PG);
    const p = config.history?.postgres;
    assert.deepEqual(
      {
        host: p?.host,
        port: p?.port,
        user: p?.user,
        database: p?.database,
        password: p?.password,
        timeout: p?.statementTimeoutMs,
      },
      {
        host: 'db.example',
        port: 5433,
        user: 'bridge',
        database: 'plant',
        password: FILE_PASSWORD,
        timeout: 2500,
      },
    );
    assert.ok(p?.ca !== undefined);
    assert.ok(config.secrets.includes(FILE_PASSWORD));
  });

  it('defaults: port 5432, no TLS, 10 s statement timeout; HISTORY_PATH alone stays SQLite', () => {
    const p = load({ ...base, HISTORY_URL: 'postgresql://bridge@db.example/plant' }).history?.postgres;
    assert.equal(p?.port, 5432);
    assert.equal(p?.ca, undefined);
    assert.equal(p?.password, undefined);
    assert.equal(p?.statementTimeoutMs, 10_000);
    const sqlite = load({ ...base, HISTORY_PATH: '/data/h.db' }).history;
    assert.equal(sqlite?.path, '/data/h.db');
    assert.equal(sqlite?.postgres, undefined);
  });
});
