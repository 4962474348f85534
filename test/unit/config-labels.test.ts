/**
 * Settings as a form names them (MCP_SETTING_LABELS, set by the MCP Bundle) and the key
 * passphrase given as a value (MQTT_KEY_PASSPHRASE, what a bundle's sensitive field passes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configErrorSecrets, loadConfig } from '../../src/config/load.js';
import {
  PASSPHRASE,
  URL_OK,
  WRONG_PASSPHRASE,
  configError,
  encrypted,
  expectProblems,
  files,
  mtls,
  pki,
} from './support/config-fixtures.js';

const LABELS =
  'MQTT_URL=Broker URL;MQTT_CA_FILE=CA certificate;MQTT_CERT_FILE=Client certificate;' +
  'MQTT_KEY_FILE=Client key;MQTT_KEY_PASSPHRASE=Key passphrase;MQTT_USERNAME=User name;' +
  'MQTT_PASSWORD=Password';

describe('MCP_SETTING_LABELS: problems name the field as well as the variable', () => {
  it('a missing certificate file', () => {
    const missing = `${pki.dir}/no-such-ca.crt`;
    const error = configError({
      MQTT_URL: URL_OK,
      ...mtls,
      MQTT_CA_FILE: missing,
      MCP_SETTING_LABELS: LABELS,
    });
    assert.deepEqual(error.problems, [
      `"CA certificate" (MQTT_CA_FILE): cannot read ${missing} (no such file)`,
    ]);
  });

  it('a URL with credentials: the field, the variable and the fields to use instead, never the password', () => {
    const error = configError({
      MQTT_URL: 'mqtts://alice:url-pass-42x@broker.example:8883',
      MCP_SETTING_LABELS: LABELS,
    });
    assert.deepEqual(error.problems, [
      '"Broker URL" (MQTT_URL): must not contain a user name or password; use "User name" (MQTT_USERNAME) with "Password" (MQTT_PASSWORD) or MQTT_PASSWORD_FILE instead',
    ]);
  });

  it('names only whole variables: MQTT_PASSWORD_FILE is not the labelled MQTT_PASSWORD', () => {
    const error = configError(
      { MQTT_URL: URL_OK, MQTT_USERNAME: 'u', MQTT_PASSWORD_FILE: '/v/p', MCP_SETTING_LABELS: LABELS },
      files({ '/v/p': '' }),
    );
    assert.deepEqual(error.problems, ['MQTT_PASSWORD_FILE: /v/p is empty']);
  });

  it('without labels the problems are as before', () => {
    const missing = `${pki.dir}/no-such-ca.crt`;
    const error = configError({ MQTT_URL: URL_OK, ...mtls, MQTT_CA_FILE: missing });
    assert.deepEqual(error.problems, [`MQTT_CA_FILE: cannot read ${missing} (no such file)`]);
  });

  it('a malformed entry or an unknown variable is a problem of its own', () => {
    const error = configError({
      MQTT_URL: URL_OK,
      MCP_SETTING_LABELS: 'MQTT_URL=Broker URL;NOPE=x;MQTT_CA_FILE',
    });
    expectProblems(error.problems, [
      /^MCP_SETTING_LABELS: 'NOPE' is not VARIABLE=Label/,
      /^MCP_SETTING_LABELS: 'MQTT_CA_FILE' is not VARIABLE=Label/,
    ]);
  });

  it('labels change nothing in a valid configuration', () => {
    const config = loadConfig({ MQTT_URL: URL_OK, ...mtls, MCP_SETTING_LABELS: LABELS }, files());
    assert.equal(config.mqtt.url, 'mqtts://broker.example:8883');
  });
});

describe('MQTT_KEY_PASSPHRASE: the passphrase as a value', () => {
  const encryptedKey = {
    MQTT_CA_FILE: pki.ca,
    MQTT_CERT_FILE: pki.clientCert,
    MQTT_KEY_FILE: pki.encryptedKey,
  };

  it('opens an encrypted key and is registered as a secret', () => {
    const config = loadConfig(
      { MQTT_URL: URL_OK, ...encryptedKey, MQTT_KEY_PASSPHRASE: PASSPHRASE },
      files(),
    );
    assert.equal(config.mqtt.tls.passphrase, PASSPHRASE);
    assert.ok(config.secrets.includes(PASSPHRASE));
  });

  it('a wrong one names MQTT_KEY_PASSPHRASE (and the field) and is never shown', () => {
    const error = configError({
      MQTT_URL: URL_OK,
      ...encryptedKey,
      MQTT_KEY_PASSPHRASE: WRONG_PASSPHRASE,
      MCP_SETTING_LABELS: LABELS,
    });
    expectProblems(error.problems, [
      /^"Key passphrase" \(MQTT_KEY_PASSPHRASE\): wrong passphrase for the key in .*client-encrypted\.key$/,
    ]);
    assert.ok(configErrorSecrets(error).includes(WRONG_PASSPHRASE));
  });

  it('value and file together are refused', () => {
    const error = configError({ MQTT_URL: URL_OK, ...encrypted, MQTT_KEY_PASSPHRASE: PASSPHRASE });
    expectProblems(error.problems, [
      /^MQTT_KEY_PASSPHRASE and MQTT_KEY_PASSPHRASE_FILE: set one of them, not both$/,
    ]);
  });

  it('without a key it is refused', () => {
    const error = configError({ MQTT_URL: URL_OK, MQTT_KEY_PASSPHRASE: PASSPHRASE });
    expectProblems(error.problems, [/^MQTT_KEY_PASSPHRASE: is set but MQTT_KEY_FILE is not$/]);
  });

  it('an encrypted key without either names both ways to give it', () => {
    const error = configError({ MQTT_URL: URL_OK, ...encryptedKey });
    expectProblems(error.problems, [/is encrypted; set MQTT_KEY_PASSPHRASE_FILE or MQTT_KEY_PASSPHRASE$/]);
  });
});
