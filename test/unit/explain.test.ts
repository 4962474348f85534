/**
 * Connection failures in operator words: each known code maps to a stable code and a message
 * that says what to check, without repeating raw library text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainConnectionError, explainSilentClose, reasonText } from '../../src/mqtt/explain.js';

const context = { host: '10.0.0.5', port: 8883, servername: undefined, protocolVersion: 5 as 4 | 5 };
const withCode = (code: string | number, message = 'raw library text') =>
  Object.assign(new Error(message), { code });

describe('explainConnectionError', () => {
  const cases: Array<[string | number, 4 | 5, string, RegExp]> = [
    [
      'SELF_SIGNED_CERT_IN_CHAIN',
      5,
      'BROKER_CERT_UNTRUSTED',
      /broker certificate not trusted .*MQTT_CA_FILE/,
    ],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 5, 'BROKER_CERT_UNTRUSTED', /not trusted/],
    ['CERT_HAS_EXPIRED', 5, 'BROKER_CERT_EXPIRED', /expired/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 5, 'HOSTNAME_MISMATCH', /not valid for '10\.0\.0\.5'.*MQTT_SERVERNAME/],
    [
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      5,
      'CLIENT_CERT_REQUIRED',
      /MQTT_CERT_FILE and MQTT_KEY_FILE/,
    ],
    [
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      5,
      'CLIENT_CERT_REJECTED',
      /rejected our client certificate: unknown CA/,
    ],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED', 5, 'CLIENT_CERT_REJECTED', /revoked/],
    // The same alerts as OpenSSL 3.2+ (Node 24) names them.
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_REVOKED', 5, 'CLIENT_CERT_REJECTED', /certificate: revoked/],
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED', 5, 'CLIENT_CERT_REJECTED', /certificate: expired/],
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 5, 'CLIENT_CERT_REJECTED', /bad certificate/],
    ['ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', 5, 'TLS_HANDSHAKE_FAILED', /refused the handshake/],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 5, 'NOT_TLS', /plain mqtt:\/\/ port/],
    ['ECONNREFUSED', 5, 'CONNECTION_REFUSED', /connection refused by 10\.0\.0\.5:8883/],
    ['ENOTFOUND', 5, 'DNS_FAILED', /cannot resolve the broker host '10\.0\.0\.5'/],
    ['ERR_SSL_SOMETHING_NEW', 5, 'TLS_ERROR', /^TLS error \(ERR_SSL_SOMETHING_NEW\)$/],
    [135, 5, 'CONNECT_NOT_AUTHORIZED', /not authorized \(135\)/],
    [134, 5, 'CONNECT_NOT_AUTHORIZED', /bad user name or password/],
    [1, 5, 'PROTOCOL_VERSION', /does not accept MQTT 5.*MQTT_PROTOCOL_VERSION=4/],
    [5, 4, 'CONNECT_REFUSED', /not authorized/],
    [136, 5, 'CONNECT_REFUSED', /server unavailable \(136\)/],
  ];
  for (const [code, version, expected, message] of cases) {
    it(`${String(code)} over MQTT ${version}`, () => {
      const explained = explainConnectionError(withCode(code), { ...context, protocolVersion: version });
      assert.equal(explained.code, expected);
      assert.match(explained.message, message);
      assert.ok(!explained.message.includes('raw library text'));
    });
  }

  it('mqtt.js plain errors', () => {
    assert.equal(explainConnectionError(new Error('connack timeout'), context).code, 'CONNECT_TIMEOUT');
    assert.equal(explainConnectionError(new Error('Keepalive timeout'), context).code, 'KEEPALIVE_TIMEOUT');
    assert.equal(explainConnectionError(new Error('something else'), context).message, 'connection error');
  });

  it('reason codes have names', () => {
    assert.equal(reasonText(0x87), 'not authorized');
    assert.equal(reasonText(0x97), 'quota exceeded');
    assert.equal(reasonText(250), 'reason code 250');
  });
});

describe('what the explanation knows about the attempt', () => {
  const tls = { ...context, tls: { handshakeDone: true } };

  it('a client certificate refused when none is configured means one is required', () => {
    for (const code of ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE']) {
      const none = explainConnectionError(withCode(code), { ...tls, clientCert: false });
      assert.equal(none.code, 'CLIENT_CERT_REQUIRED');
      assert.doesNotMatch(none.message, /rejected our client certificate/);
      const some = explainConnectionError(withCode(code), { ...tls, clientCert: true });
      assert.notEqual(some.code, 'CLIENT_CERT_REQUIRED');
    }
  });

  it('a refused loopback address inside a container says 127.0.0.1 is the container', () => {
    const local = { ...context, host: '127.0.0.1' };
    const inside = explainConnectionError(withCode('ECONNREFUSED'), { ...local, inContainer: true });
    assert.match(
      inside.message,
      /in a container, where 127\.0\.0\.1 is the container itself.*host\.docker\.internal/,
    );
    const outside = explainConnectionError(withCode('ECONNREFUSED'), { ...local, inContainer: false });
    assert.doesNotMatch(outside.message, /container/);
    const remote = explainConnectionError(withCode('ECONNREFUSED'), { ...context, inContainer: true });
    assert.doesNotMatch(remote.message, /container/, 'only loopback addresses');
  });

  it('a reset during the TLS handshake with a client certificate may be a silent refusal of it', () => {
    const during = { ...context, clientCert: true, tls: { handshakeDone: false } };
    assert.match(
      explainConnectionError(withCode('ECONNRESET'), during).message,
      /during the TLS handshake: the broker may have rejected our client certificate without saying so/,
    );
    assert.match(explainConnectionError(withCode('ECONNRESET'), tls).message, /broker restarted/);
  });

  it('the refusal codes of MQTT 5 for the version suggest 4 or auto', () => {
    for (const code of [1, 0x84]) {
      const explained = explainConnectionError(withCode(code), context);
      assert.equal(explained.code, 'PROTOCOL_VERSION');
      assert.match(explained.message, /MQTT_PROTOCOL_VERSION=4 or auto/);
    }
  });
});

describe('explainSilentClose', () => {
  it('names every likely cause for the configuration, and only those', () => {
    const v5tls = explainSilentClose({ ...context, clientCert: true, tls: { handshakeDone: true } });
    assert.equal(v5tls.code, 'CLOSED_BEFORE_CONNACK');
    assert.match(v5tls.message, /without answering our CONNECT/);
    assert.match(v5tls.message, /may not support MQTT 5: set MQTT_PROTOCOL_VERSION=4 or auto/);
    assert.match(v5tls.message, /may have rejected our client certificate without saying so/);

    const v4plain = explainSilentClose({ ...context, protocolVersion: 4 });
    assert.doesNotMatch(v4plain.message, /MQTT 5|certificate/);
    assert.match(v4plain.message, /see the broker log/);

    const handshake = explainSilentClose({
      ...context,
      protocolVersion: 4,
      clientCert: false,
      tls: { handshakeDone: false },
    });
    assert.match(handshake.message, /during the TLS handshake: it may require a client certificate/);
  });
});

describe('OpenSSL 3.2+ alert names (Node 24)', () => {
  it('are explained as their OpenSSL 3.0 names are, also when no certificate is configured', () => {
    const tls = { ...context, tls: { handshakeDone: true } };
    assert.equal(
      explainConnectionError(withCode('ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE'), { ...tls, clientCert: false })
        .code,
      'CLIENT_CERT_REQUIRED',
    );
    assert.equal(
      explainConnectionError(withCode('ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE'), {
        ...tls,
        clientCert: true,
      }).code,
      'TLS_HANDSHAKE_FAILED',
    );
  });
});
