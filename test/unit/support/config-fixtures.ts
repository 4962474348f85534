/**
 * Shared fixtures for the configuration tests: a test PKI, a readFile that can serve virtual
 * files and simulated errors, the secret values in play, and assertions that no problem text
 * ever carries one of them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig, type ReadFile } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { createPki } from '../../helpers/pki.js';

export const pki = createPki();
export const URL_OK = 'mqtts://broker.example:8883';
export type Env = Record<string, string>;
export type Virtual = string | Buffer | Error;

export const fsError = (code: string): Error =>
  Object.assign(new Error(`${code}: simulated failure`), { code });

/** readFile over the real disk, with some paths replaced by virtual content or errors. */
export function files(virtual: Readonly<Record<string, Virtual>> = {}): ReadFile {
  return (path) => {
    const v = virtual[path];
    if (v === undefined) return readFileSync(path);
    if (v instanceof Error) throw v;
    return Buffer.from(v);
  };
}

// Every secret in play; no problem text may ever contain one of these.
export const ENV_PASSWORD = 'env-pass-Zq81!';
export const FILE_PASSWORD = 'file-pass-9c1e';
export const URL_PASSWORD = 'url-pass-42x';
export const WRONG_PASSPHRASE = 'not-the-passphrase-7f3a';
export const PASSPHRASE = readFileSync(pki.passphraseFile, 'utf8').trim();
const keyLines = [pki.clientKey, pki.encryptedKey, pki.strayKey, pki.foreignKey].flatMap((path) =>
  readFileSync(path, 'latin1')
    .split(/\r?\n/)
    .filter((line) => line.length > 0 && !line.startsWith('-----')),
);
export const SECRETS = [ENV_PASSWORD, FILE_PASSWORD, URL_PASSWORD, WRONG_PASSPHRASE, PASSPHRASE, ...keyLines];

export function assertNoSecrets(error: ConfigError): void {
  for (const text of [error.message, ...error.problems]) {
    assert.doesNotMatch(text, /PRIVATE KEY/);
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `a secret leaked into: ${text}`);
  }
}

export function configError(env: Env, readFile: ReadFile = files(), now?: Date): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env, readFile, now);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'CONFIG_INVALID');
  for (const problem of caught.problems) assert.ok(caught.message.includes(problem));
  assertNoSecrets(caught);
  return caught;
}

export function expectProblems(problems: readonly string[], expected: readonly RegExp[]): void {
  for (const pattern of expected) {
    assert.ok(
      problems.some((p) => pattern.test(p)),
      `no problem matches ${String(pattern)} in ${JSON.stringify(problems)}`,
    );
  }
  assert.equal(problems.length, expected.length, `unexpected problems: ${JSON.stringify(problems)}`);
}

export interface ErrorCase {
  readonly name: string;
  readonly env: Env;
  readonly virtual?: Readonly<Record<string, Virtual>>;
  readonly now?: Date;
  readonly problems: readonly RegExp[];
}

/** MQTT_BROKERS_FILE's path in the virtual file system, and its brokers' connections (each test adds the policy). */
export const BROKERS_FILE = '/v/brokers.json';
export const siteConnection = {
  name: 'site',
  url: 'mqtts://site-broker:8883',
  caFile: pki.ca,
  certFile: pki.clientCert,
  keyFile: pki.clientKey,
};
export const cloudConnection = { name: 'cloud', url: 'mqtts://cloud-broker:8883', caFile: pki.foreignCa };
export const mtls = { MQTT_CA_FILE: pki.ca, MQTT_CERT_FILE: pki.clientCert, MQTT_KEY_FILE: pki.clientKey };
export const encrypted = {
  MQTT_CA_FILE: pki.ca,
  MQTT_CERT_FILE: pki.clientCert,
  MQTT_KEY_FILE: pki.encryptedKey,
  MQTT_KEY_PASSPHRASE_FILE: pki.passphraseFile,
};
export const bogusCertBlock = '-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n';
