/**
 * Mutual TLS against a real Mosquitto (require_certificate, use_identity_as_username): the
 * success path and every failure an operator meets, each explained in operator words, and no
 * key material in any log line or tool result.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { ConfigError } from '../../src/errors.js';
import { explainConnectionError } from '../../src/mqtt/explain.js';
import { startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, type TestBridge } from '../helpers/bridge.js';
import { caTool } from '../helpers/ca-tool.js';
import { createPki, type Pki } from '../helpers/pki.js';

let pki: Pki;
let broker: Broker;

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
});
after(async () => {
  await broker.stop();
});

function keyLines(path: string): string[] {
  return readFileSync(path, 'latin1')
    .split('\n')
    .filter((l) => l.length > 20 && !l.startsWith('-----'));
}

function assertNoKeyMaterial(text: string): void {
  assert.doesNotMatch(text, /PRIVATE KEY/);
  for (const path of [pki.clientKey, pki.encryptedKey, pki.foreignKey]) {
    for (const line of keyLines(path)) assert.ok(!text.includes(line), `key material from ${path} leaked`);
  }
}

/** Start a bridge that is expected not to connect, and return its last error once reported. */
async function failingBridge(
  extra: Record<string, string>,
): Promise<{ bridge: TestBridge; code: string; message: string }> {
  const bridge = await startBridge(bridgeEnv(broker, pki, extra));
  const error = await waitFor(() => bridge.app.link.status().lastError, 8000, 'a connection error');
  assert.notEqual(bridge.app.link.status().state, 'connected');
  return { bridge, code: error.code, message: error.message };
}

describe('mutual TLS', () => {
  it('connects with the client certificate; the broker sees the certificate CN as user', async () => {
    const bridge = await startBridge(bridgeEnv(broker, pki));
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.connection.state, 'connected');
      assert.equal(status.connection.tlsVerification, 'on');
      assert.equal(status.connection.lastError, undefined);
      await broker.waitForLog(
        new RegExp(
          `New client connected from 127\\.0\\.0\\.1:\\d+ as ${status.connection.clientId} .*u'mcp-bridge'`,
        ),
      );
    } finally {
      await bridge.close();
    }
  });

  it('connects with an encrypted key and the right passphrase', async () => {
    const bridge = await startBridge(
      bridgeEnv(broker, pki, {
        MQTT_KEY_FILE: pki.encryptedKey,
        MQTT_KEY_PASSPHRASE_FILE: pki.passphraseFile,
      }),
    );
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      assertNoKeyMaterial(bridge.logs.text());
      const passphrase = readFileSync(pki.passphraseFile, 'utf8').trim();
      assert.ok(!bridge.logs.text().includes(passphrase));
    } finally {
      await bridge.close();
    }
  });

  const startupFailures: Array<{ name: string; env: () => Record<string, string>; expect: RegExp }> = [
    {
      name: 'wrong passphrase',
      env: () => ({ MQTT_KEY_FILE: pki.encryptedKey, MQTT_KEY_PASSPHRASE_FILE: pki.clientCert }),
      expect: /MQTT_KEY_PASSPHRASE_FILE: wrong passphrase for the key in/,
    },
    {
      name: 'encrypted key without a passphrase',
      env: () => ({ MQTT_KEY_FILE: pki.encryptedKey }),
      expect: /MQTT_KEY_FILE: the key in .* is encrypted; set MQTT_KEY_PASSPHRASE_FILE/,
    },
    {
      name: 'key that does not match the certificate',
      env: () => ({ MQTT_KEY_FILE: pki.strayKey }),
      expect: /MQTT_KEY_FILE: the key in .*stray\.key does not match the certificate in .*client\.crt/,
    },
    {
      name: 'missing CA file',
      env: () => ({ MQTT_CA_FILE: `${pki.dir}/nope.crt` }),
      expect: /MQTT_CA_FILE: cannot read .*nope\.crt \(no such file\)/,
    },
  ];
  for (const c of startupFailures) {
    it(`refuses to start: ${c.name}`, async () => {
      const error = await startBridge(bridgeEnv(broker, pki, c.env())).then(
        () => assert.fail('the bridge started'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, c.expect);
      assertNoKeyMaterial(error.message);
    });
  }

  const connectFailures: Array<{
    name: string;
    env: () => Record<string, string>;
    code: RegExp;
    message: RegExp;
  }> = [
    {
      name: 'no client certificate',
      env: () => ({ MQTT_CERT_FILE: '', MQTT_KEY_FILE: '' }),
      code: /^(CLIENT_CERT_REQUIRED|TLS_HANDSHAKE_FAILED|CONNECTION_RESET)$/,
      message: /client certificate|handshake|reset/,
    },
    {
      name: 'client certificate from another CA',
      env: () => ({ MQTT_CERT_FILE: pki.foreignCert, MQTT_KEY_FILE: pki.foreignKey }),
      code: /^CLIENT_CERT_REJECTED$/,
      message: /rejected our client certificate: unknown CA/,
    },
    {
      name: 'wrong CA on our side',
      env: () => ({ MQTT_CA_FILE: pki.foreignCa }),
      code: /^BROKER_CERT_UNTRUSTED$/,
      message: /broker certificate not trusted .*MQTT_CA_FILE/,
    },
    {
      name: 'hostname mismatch',
      env: () => ({ MQTT_SERVERNAME: 'wrong.example' }),
      code: /^HOSTNAME_MISMATCH$/,
      message: /hostname mismatch: the broker certificate is not valid for 'wrong\.example'/,
    },
  ];
  for (const c of connectFailures) {
    it(`explains a failed connection: ${c.name}`, async () => {
      const { bridge, code, message } = await failingBridge(c.env());
      try {
        assert.match(code, c.code);
        assert.match(message, c.message);
        // The agent gets the same explanation, and nothing is sent.
        const text = await bridge.fails('mqtt_publish', { topic: 'plant/a', payload: 'x' });
        assert.match(
          text,
          /^BROKER_UNAVAILABLE: broker unavailable \((reconnecting|connecting); last error: /,
        );
        const status = await bridge.ok('mqtt_status');
        assert.equal(status.connection.lastError.code, code);
        assertNoKeyMaterial(bridge.logs.text());
        assertNoKeyMaterial(text);
      } finally {
        await bridge.close();
      }
    });
  }

  it('the development-only MQTT_TLS_INSECURE switch connects to an untrusted broker, loudly', async () => {
    const bridge = await startBridge(
      bridgeEnv(broker, pki, { MQTT_CA_FILE: pki.foreignCa, MQTT_TLS_INSECURE: 'true' }),
    );
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.connection.tlsVerification, 'off (MQTT_TLS_INSECURE)');
      assert.ok(bridge.logs.lines.some((l) => l.includes('"level":40') && l.includes('is NOT verified')));
    } finally {
      await bridge.close();
    }
    const refused = await startBridge(
      bridgeEnv(broker, pki, { MQTT_TLS_INSECURE: 'true', NODE_ENV: 'production' }),
    ).then(
      () => assert.fail('started in production with TLS verification off'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof ConfigError);
    assert.match(refused.message, /MQTT_TLS_INSECURE: is refused when NODE_ENV=production/);
  });

  it('reconnect attempts back off instead of hammering the broker', async () => {
    const { bridge } = await failingBridge({
      MQTT_CA_FILE: pki.foreignCa,
      MQTT_RECONNECT_MIN_MS: '100',
      MQTT_RECONNECT_MAX_MS: '800',
    });
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const attempts = bridge.app.link.status().reconnectCount;
      // Without backoff a 100 ms period gives ~30 attempts in 3 s; with doubling capped at
      // 800 ms (half fixed, half random) at most about 3000 / 400 + 3 are possible.
      assert.ok(attempts >= 2 && attempts <= 11, `attempts in 3 s: ${attempts}`);
      // One error line per distinct failure, not one per attempt.
      const errorLines = bridge.logs.lines.filter((l) => l.includes('"code":"BROKER_CERT_UNTRUSTED"'));
      assert.equal(errorLines.length, 1, errorLines.join('\n'));
    } finally {
      await bridge.close();
    }
  });
});

describe('expired and revoked certificates (T-3.5, T-3.6)', () => {
  const LONG_AGO = { startdate: '20200101000000Z', enddate: '20200102000000Z' };
  const context = { host: '127.0.0.1', port: 0, servername: undefined, protocolVersion: 5 as const };
  const brokers: Broker[] = [];
  after(async () => {
    for (const b of brokers) await b.stop();
  });

  it('T-3.5 an expired broker certificate is refused and explained', async () => {
    const expired = caTool(pki).issue('expired-server', { ...LONG_AGO, server: true });
    const b = await startBroker({ pki, server: expired });
    brokers.push(b);
    const bridge = await startBridge(bridgeEnv(b, pki));
    try {
      const error = await waitFor(() => bridge.app.link.status().lastError, 8000, 'a connection error');
      assert.equal(error.code, 'BROKER_CERT_EXPIRED');
      assert.match(error.message, /broker certificate has expired/);
      assert.notEqual(bridge.app.link.status().state, 'connected');
    } finally {
      await bridge.close();
    }
  });

  it('T-3.5 an expired client certificate is refused at start-up, and by the broker if it expires while running', async () => {
    const expired = caTool(pki).issue('expired-client', LONG_AGO);
    await assert.rejects(
      startBridge(bridgeEnv(broker, pki, { MQTT_CERT_FILE: expired.cert, MQTT_KEY_FILE: expired.key })),
      (error: unknown) =>
        error instanceof ConfigError &&
        /MQTT_CERT_FILE: the client certificate in .* expired on/.test(error.message),
    );
    // What the broker answers a certificate that expired after start-up, as the bridge explains it.
    const refused = await mqtt
      .connectAsync({
        protocol: 'mqtts',
        host: '127.0.0.1',
        port: broker.port,
        protocolVersion: 5,
        ca: readFileSync(pki.ca),
        cert: readFileSync(expired.cert),
        key: readFileSync(expired.key),
        reconnectPeriod: 0,
        connectTimeout: 5000,
      })
      .then(
        async (client) => {
          await client.endAsync();
          return undefined;
        },
        (error: unknown) => error,
      );
    assert.ok(refused !== undefined, 'the broker accepted an expired client certificate');
    assert.deepEqual(explainConnectionError(refused, context), {
      code: 'CLIENT_CERT_REJECTED',
      message: 'the broker rejected our client certificate: expired',
    });
  });

  it('T-3.6 a revoked client certificate is refused by a broker with a CRL, and explained; others still connect', async () => {
    const ca = caTool(pki);
    const revoked = ca.issue('revoked-client');
    const crl = ca.revoke(revoked.cert);
    const b = await startBroker({ pki, extraConfig: [`crlfile ${crl}`] });
    brokers.push(b);
    const bridge = await startBridge(
      bridgeEnv(b, pki, { MQTT_CERT_FILE: revoked.cert, MQTT_KEY_FILE: revoked.key }),
    );
    try {
      const error = await waitFor(() => bridge.app.link.status().lastError, 8000, 'a connection error');
      assert.deepEqual(
        { code: error.code, message: error.message },
        { code: 'CLIENT_CERT_REJECTED', message: 'the broker rejected our client certificate: revoked' },
      );
      assert.notEqual(bridge.app.link.status().state, 'connected');
    } finally {
      await bridge.close();
    }
    const good = await startBridge(bridgeEnv(b, pki));
    try {
      await waitFor(() => good.app.link.connected, 5000, 'a certificate not on the CRL connects');
    } finally {
      await good.close();
    }
  });
});
