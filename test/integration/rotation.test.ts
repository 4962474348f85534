/**
 * T-3.19 certificate rotation: new client certificate and key files (same CA), then SIGHUP to the
 * built server. It reconnects at once with the new identity (the broker's ACL, keyed by the
 * certificate's CN, tells which identity publishes). Files that do not pass the start-up checks
 * change nothing: the connection and identity stay, and no key material reaches the log.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';

// Each identity may publish under its own prefix only.
const ACL = [
  'user mcp-bridge',
  'topic readwrite plant/#',
  '',
  'user rotated',
  'topic readwrite lab/#',
  '',
].join('\n');

let pki: Pki;
let broker: Broker;
let bridge: SpawnedBridge | undefined;
before(async () => {
  pki = createPki();
  broker = await startBroker({ pki, acl: ACL });
});
after(async () => {
  await bridge?.close();
  await broker.stop();
});

const NOT_AUTHORIZED = /^NOT_AUTHORIZED: .*reason code 135/;

describe('certificate rotation (T-3.19)', () => {
  it('SIGHUP with new files reconnects as the new identity; a bad pair is refused and the connection stays', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-rotation-'));
    const cert = join(dir, 'client.crt');
    const key = join(dir, 'client.key');
    copyFileSync(pki.clientCert, cert);
    copyFileSync(pki.clientKey, key);
    bridge = await spawnBridge('stdio', {
      MQTT_URL: broker.url,
      MQTT_CA_FILE: pki.ca,
      MQTT_CERT_FILE: cert,
      MQTT_KEY_FILE: key,
      MCP_WRITE_TOPICS: 'plant/#,lab/#',
      LOG_LEVEL: 'info',
      MCP_PUBLISH_RATE_PER_MINUTE: '100000',
      MCP_TOOL_RATE_PER_MINUTE: '100000',
    });
    const b = bridge;
    await b.connected();
    assert.equal(
      (await b.ok('mqtt_publish', { topic: 'plant/a', payload: 'as bridge' })).delivery,
      'acknowledged',
    );
    assert.match(await b.fails('mqtt_publish', { topic: 'lab/a', payload: 'as bridge' }), NOT_AUTHORIZED);

    // Rotate: copy the new pair over the old files, as an operator would, then SIGHUP.
    const rotated = pki.issueClient('rotated');
    copyFileSync(rotated.cert, cert);
    copyFileSync(rotated.key, key);
    const before = (await b.ok('mqtt_status')).connection.reconnectCount as number;
    const started = performance.now();
    b.signal('SIGHUP');
    // Publishing to lab/ works only once the bridge is connected as the new identity.
    for (let done = false; !done;) {
      const r = await b.call('mqtt_publish', { topic: 'lab/a', payload: 'as rotated' });
      done = r.isError !== true;
      if (!done && performance.now() - started > 5000) assert.fail('never published as the new identity');
      if (!done) await sleep(50);
    }
    const tookMs = performance.now() - started;
    assert.match(await b.fails('mqtt_publish', { topic: 'plant/a', payload: 'as rotated' }), NOT_AUTHORIZED);
    const status = await b.ok('mqtt_status');
    assert.equal(status.connection.state, 'connected');
    assert.equal(status.connection.reconnectCount, before + 1);
    assert.match(b.stderr(), /TLS material reloaded: reconnecting with it/);
    assert.doesNotMatch(b.stderr(), /connection to broker lost/);
    assert.match(broker.log(), /New client connected from \S+ as mcp-bridge-\S+ \(.*u'rotated'\)/);

    // A key that does not match the certificate: refused, nothing changes.
    copyFileSync(pki.clientKey, key);
    b.signal('SIGHUP');
    await waitFor(() => /SIGHUP: the configuration does not load/.test(b.stderr()), 5000, 'the refusal');
    assert.match(b.stderr(), /MQTT_KEY_FILE/);
    const after = await b.ok('mqtt_status');
    assert.equal(after.connection.state, 'connected');
    assert.equal(after.connection.reconnectCount, before + 1, 'no reconnect for a refused pair');
    assert.equal(
      (await b.ok('mqtt_publish', { topic: 'lab/b', payload: 'still rotated' })).delivery,
      'acknowledged',
    );
    assert.doesNotMatch(b.stderr(), /PRIVATE KEY/);
    for (const line of readFileSync(pki.clientKey, 'latin1')
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----')))
      assert.ok(!b.stderr().includes(line), 'key material in the log');
    t.diagnostic(`T-3.19: publishing as the new identity ${tookMs.toFixed(0)} ms after SIGHUP`);
  });
});
