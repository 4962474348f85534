import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configErrorSecrets } from '../../src/config/load.js';
import {
  ENV_PASSWORD,
  PASSPHRASE,
  URL_OK,
  URL_PASSWORD,
  WRONG_PASSPHRASE,
  bogusCertBlock,
  configError,
  encrypted,
  expectProblems,
  files,
  fsError,
  mtls,
  pki,
  type ErrorCase,
} from './support/config-fixtures.js';

// TLS variables and files, unreadable files, and secrets in errors (loadConfig).
const TLS_CASES: readonly ErrorCase[] = [
  // ---- TLS variables ----
  {
    name: 'MQTT_CERT_FILE without MQTT_KEY_FILE',
    env: { MQTT_URL: URL_OK, MQTT_CERT_FILE: pki.clientCert },
    problems: [/^MQTT_CERT_FILE and MQTT_KEY_FILE: set both/],
  },
  {
    name: 'MQTT_KEY_FILE without MQTT_CERT_FILE',
    env: { MQTT_URL: URL_OK, MQTT_KEY_FILE: pki.clientKey },
    problems: [/^MQTT_CERT_FILE and MQTT_KEY_FILE: set both/],
  },
  {
    name: 'passphrase file without a key',
    env: { MQTT_URL: URL_OK, MQTT_KEY_PASSPHRASE_FILE: pki.passphraseFile },
    problems: [/^MQTT_KEY_PASSPHRASE_FILE: is set but MQTT_KEY_FILE is not/],
  },
  {
    name: 'TLS files and insecure with plain mqtt://',
    env: { MQTT_URL: 'mqtt://broker', ...mtls, MQTT_SERVERNAME: 'broker.example', MQTT_TLS_INSECURE: 'true' },
    problems: [
      /^MQTT_CA_FILE: is set but MQTT_URL uses plain mqtt:\/\//,
      /^MQTT_CERT_FILE: is set but MQTT_URL uses plain mqtt:\/\//,
      /^MQTT_KEY_FILE: is set but MQTT_URL uses plain mqtt:\/\//,
      /^MQTT_SERVERNAME: is set but MQTT_URL uses plain mqtt:\/\//,
      /^MQTT_TLS_INSECURE: is set but MQTT_URL uses plain mqtt:\/\//,
    ],
  },
  {
    name: 'MQTT_TLS_INSECURE with NODE_ENV=production',
    env: { MQTT_URL: URL_OK, MQTT_TLS_INSECURE: 'true', NODE_ENV: 'production' },
    problems: [/^MQTT_TLS_INSECURE: is refused when NODE_ENV=production/],
  },
  // ---- TLS material ----
  {
    name: 'encrypted key without a passphrase',
    env: { MQTT_URL: URL_OK, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.encryptedKey },
    problems: [
      /^MQTT_KEY_FILE: the key in .*client-encrypted\.key is encrypted; set MQTT_KEY_PASSPHRASE_FILE/,
    ],
  },
  {
    name: 'wrong passphrase',
    env: { MQTT_URL: URL_OK, ...encrypted, MQTT_KEY_PASSPHRASE_FILE: '/v/pass' },
    virtual: { '/v/pass': `${WRONG_PASSPHRASE}\n` },
    problems: [/^MQTT_KEY_PASSPHRASE_FILE: wrong passphrase for the key in .*client-encrypted\.key/],
  },
  {
    name: 'stray key that matches no certificate',
    env: { MQTT_URL: URL_OK, ...mtls, MQTT_KEY_FILE: pki.strayKey },
    problems: [/^MQTT_KEY_FILE: the key in .*stray\.key does not match the certificate in .*client\.crt/],
  },
  {
    name: 'key of another identity',
    env: { MQTT_URL: URL_OK, ...mtls, MQTT_KEY_FILE: pki.foreignKey },
    problems: [/^MQTT_KEY_FILE: .* does not match the certificate/],
  },
  {
    name: 'non-PEM CA file',
    env: { MQTT_URL: URL_OK, MQTT_CA_FILE: '/v/ca.der' },
    virtual: { '/v/ca.der': randomBytes(600) },
    problems: [/^MQTT_CA_FILE: \/v\/ca\.der holds no PEM certificate/],
  },
  {
    name: 'a private key given as the CA file',
    env: { MQTT_URL: URL_OK, MQTT_CA_FILE: pki.clientKey },
    problems: [/^MQTT_CA_FILE: .*client\.key holds no PEM certificate/],
  },
  {
    name: 'CA file with a corrupt certificate block',
    env: { MQTT_URL: URL_OK, MQTT_CA_FILE: '/v/ca.pem' },
    virtual: { '/v/ca.pem': readFileSync(pki.ca, 'latin1') + bogusCertBlock },
    problems: [/^MQTT_CA_FILE: \/v\/ca\.pem holds a certificate that cannot be parsed/],
  },
  {
    name: 'certificate and key files swapped',
    env: { MQTT_URL: URL_OK, MQTT_CERT_FILE: pki.clientKey, MQTT_KEY_FILE: pki.clientCert },
    problems: [
      /^MQTT_CERT_FILE: .*client\.key is not a PEM certificate/,
      /^MQTT_KEY_FILE: .* is not a PEM private key/,
    ],
  },
  {
    name: 'a key file with a PEM header and a broken body',
    env: { MQTT_URL: URL_OK, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: '/v/key' },
    virtual: {
      '/v/key': '-----BEGIN PRIVATE KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n-----END PRIVATE KEY-----\n',
    },
    problems: [/^MQTT_KEY_FILE: the key in \/v\/key cannot be read/],
  },
  {
    name: 'expired client certificate',
    env: { MQTT_URL: URL_OK, ...mtls },
    now: new Date('2100-01-01T00:00:00Z'),
    problems: [/^MQTT_CERT_FILE: the client certificate in .*client\.crt expired on /],
  },
  {
    name: 'client certificate not yet valid',
    env: { MQTT_URL: URL_OK, ...mtls },
    now: new Date('2000-01-01T00:00:00Z'),
    problems: [/^MQTT_CERT_FILE: the client certificate in .*client\.crt is not valid before /],
  },
];

describe('loadConfig refuses bad TLS configuration', () => {
  for (const c of TLS_CASES) {
    it(c.name, () => {
      const error = configError(c.env, files(c.virtual), c.now);
      expectProblems(error.problems, c.problems);
    });
  }
});

describe('loadConfig reports unreadable files', () => {
  const VARIABLES = [
    { variable: 'MQTT_PASSWORD_FILE', env: { MQTT_USERNAME: 'u' } },
    { variable: 'MQTT_CA_FILE', env: encrypted },
    { variable: 'MQTT_CERT_FILE', env: encrypted },
    { variable: 'MQTT_KEY_FILE', env: encrypted },
    { variable: 'MQTT_KEY_PASSPHRASE_FILE', env: encrypted },
  ] as const;
  const CODES = [
    ['ENOENT', 'no such file'],
    ['EACCES', 'permission denied'],
    ['EPERM', 'permission denied'],
    ['EISDIR', 'is a directory, not a file'],
    ['ENOTDIR', 'a part of the path is not a directory'],
    ['ELOOP', 'too many symbolic links'],
    ['EIO', 'EIO'],
  ] as const;
  for (const { variable, env } of VARIABLES) {
    for (const [code, reason] of CODES) {
      it(`${variable}: ${code}`, () => {
        const path = `/secret-dir/${variable.toLowerCase()}.pem`;
        const error = configError(
          { MQTT_URL: URL_OK, ...env, [variable]: path },
          files({ [path]: fsError(code) }),
        );
        // Only this one problem: nothing is checked against a file that could not be read.
        assert.deepEqual(error.problems, [`${variable}: cannot read ${path} (${reason})`]);
      });
    }
  }

  it('an error without a code is "unreadable"', () => {
    const error = configError({ MQTT_URL: URL_OK, MQTT_CA_FILE: '/x' }, files({ '/x': new Error('boom') }));
    assert.deepEqual(error.problems, ['MQTT_CA_FILE: cannot read /x (unreadable)']);
  });

  it('real file system errors: a missing file and a directory', () => {
    const missing = `${pki.dir}/does-not-exist.crt`;
    const error = configError({ MQTT_URL: URL_OK, ...mtls, MQTT_CA_FILE: missing, MQTT_CERT_FILE: pki.dir });
    expectProblems(error.problems, [
      new RegExp(`^MQTT_CA_FILE: cannot read ${missing} \\(no such file\\)`),
      new RegExp(`^MQTT_CERT_FILE: cannot read ${pki.dir} \\(is a directory, not a file\\)`),
    ]);
  });
});

describe('loadConfig secrets in errors', () => {
  it('reports many problems at once in one ConfigError, without secret values', () => {
    const error = configError({
      MQTT_URL: `http://alice:${URL_PASSWORD}@broker/x`,
      MQTT_PASSWORD: ENV_PASSWORD,
      MQTT_KEEPALIVE_SECONDS: 'abc',
      LOG_LEVEL: 'loud',
      MCP_READ_TOPICS: 'a/#/b',
      MQTT_CERT_FILE: pki.clientCert,
      MQTT_RECONNECT_MIN_MS: '5000',
      MQTT_RECONNECT_MAX_MS: '1000',
    });
    expectProblems(error.problems, [
      /^MQTT_KEEPALIVE_SECONDS:/,
      /^LOG_LEVEL:/,
      /^MCP_READ_TOPICS:/,
      /^MQTT_URL: must not contain a user name or password/,
      /^MQTT_URL: scheme must be/,
      /^MQTT_URL: must be scheme:\/\/host:port without a path/,
      /^MQTT_USERNAME: is required/,
      /^MQTT_CERT_FILE and MQTT_KEY_FILE/,
      /^MQTT_RECONNECT_MAX_MS:/,
    ]);
    assert.deepEqual(new Set(configErrorSecrets(error)), new Set([ENV_PASSWORD, URL_PASSWORD]));
  });

  it('a percent-encoded URL password is registered decoded and never shown', () => {
    const error = configError({ MQTT_URL: 'mqtts://alice:p%40ss-url-77@broker' });
    for (const text of [error.message, ...error.problems]) {
      assert.ok(!text.includes('p@ss-url-77') && !text.includes('p%40ss-url-77'));
    }
    assert.ok(configErrorSecrets(error).includes('p@ss-url-77'));
  });

  it('key body lines and passphrases are registered as secrets on a failed load', () => {
    const error = configError({
      MQTT_URL: URL_OK,
      ...encrypted,
      MQTT_RECONNECT_MAX_MS: '100',
      MQTT_RECONNECT_MIN_MS: '200',
    });
    const secrets = configErrorSecrets(error);
    assert.ok(secrets.includes(PASSPHRASE));
    const body = readFileSync(pki.encryptedKey, 'latin1')
      .split('\n')
      .filter((l) => /^[A-Za-z0-9+/=]{16,}$/.test(l));
    for (const line of body) assert.ok(secrets.includes(line));
  });
});
