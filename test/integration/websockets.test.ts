/**
 * MQTT over WebSockets: ws:// and wss:// broker URLs against aedes behind the `ws` package's
 * server (plain HTTP, and HTTPS requiring a client certificate from the test CA), on loopback
 * ports the test picks. The same checks as over mqtts://: the broker's certificate verified, our
 * client certificate presented and a foreign one refused, collection and publishing working, and
 * a reload of the TLS material reaching the WebSocket connection.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { loadConfig } from '../../src/config/load.js';
import { waitFor } from '../helpers/broker.js';
import { startBridge, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';

let pki: Pki;
let aedes: Aedes;
let plain: HttpServer;
let secure: HttpServer;
const bridges: TestBridge[] = [];
const published: string[] = [];

const listen = (server: HttpServer) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

before(async () => {
  pki = createPki();
  aedes = await Aedes.createBroker();
  aedes.on('publish', (packet, client) => {
    if (client !== null) published.push(`${packet.topic}=${packet.payload.toString()}`);
  });
  plain = createHttpServer();
  secure = createHttpsServer({
    ca: readFileSync(pki.ca),
    cert: readFileSync(pki.serverCert),
    key: readFileSync(pki.serverKey),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });
  for (const server of [plain, secure]) {
    const wss = new WebSocketServer({ server, path: '/mqtt' });
    wss.on('connection', (socket) => aedes.handle(createWebSocketStream(socket)));
  }
  await listen(plain);
  await listen(secure);
});
after(async () => {
  for (const b of bridges) await b.close();
  plain.closeAllConnections();
  secure.closeAllConnections();
  await new Promise((r) => plain.close(r));
  await new Promise((r) => secure.close(r));
  await new Promise<void>((r) => aedes.close(() => r()));
});

const port = (server: HttpServer) => (server.address() as AddressInfo).port;

function env(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MQTT_URL: url,
    MQTT_PROTOCOL_VERSION: '4', // aedes speaks 3.1.1
    MCP_READ_TOPICS: 'plant/#',
    MCP_WRITE_TOPICS: 'plant/#',
    MQTT_RECONNECT_MIN_MS: '200',
    MQTT_RECONNECT_MAX_MS: '1000',
    MQTT_CONNECT_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'debug',
    ...extra,
  };
}

const tls = (p: Pki) => ({ MQTT_CA_FILE: p.ca, MQTT_CERT_FILE: p.clientCert, MQTT_KEY_FILE: p.clientKey });

async function bridge(environment: Record<string, string>): Promise<TestBridge> {
  const b = await startBridge(environment);
  bridges.push(b);
  return b;
}

describe('MQTT over WebSockets', () => {
  it('ws://: collects and publishes; the status says the connection is not encrypted', async () => {
    const b = await bridge(env(`ws://127.0.0.1:${port(plain)}/mqtt`));
    await waitFor(() => b.app.link.grantedAt('plant/#'), 5000, 'the SUBACK over ws://');
    const status = await b.ok('mqtt_status');
    assert.equal(status.connection.brokerUrl, `ws://127.0.0.1:${port(plain)}/mqtt`);
    assert.equal(status.connection.tlsVerification, 'not used (plain ws://)');
    assert.ok(b.logs.lines.some((l) => l.includes('MQTT_URL uses plain ws://')));
    const ok = await b.ok('mqtt_publish', { topic: 'plant/ws/cmd', payload: 'on' });
    assert.equal(ok.delivery, 'acknowledged');
    await waitFor(() => b.app.deps.store.stats(Date.now()).received >= 1, 5000, 'our own publish back');
    assert.ok(published.includes('plant/ws/cmd=on'));
  });

  it('wss://: the broker certificate verified, our client certificate presented; a foreign one refused', async () => {
    const url = `wss://127.0.0.1:${port(secure)}/mqtt`;
    const b = await bridge(env(url, tls(pki)));
    await waitFor(() => b.app.link.grantedAt('plant/#'), 5000, 'the SUBACK over wss://');
    assert.equal((await b.ok('mqtt_status')).connection.tlsVerification, 'on');

    const foreign = await bridge(
      env(url, { MQTT_CA_FILE: pki.ca, MQTT_CERT_FILE: pki.foreignCert, MQTT_KEY_FILE: pki.foreignKey }),
    );
    const error = await waitFor(() => foreign.app.link.status().lastError, 5000, 'the refusal');
    // Node's TLS server (like aedes' in the interop suite) drops an unknown-CA certificate under
    // TLS 1.3 without an alert: the bridge says what that may mean.
    assert.ok(['CLIENT_CERT_REJECTED', 'CONNECTION_RESET'].includes(error.code), error.code);
    assert.match(error.message, /rejected our client certificate/);
    assert.equal(foreign.app.link.connected, false);

    const untrusting = await bridge(env(url, { ...tls(pki), MQTT_CA_FILE: pki.foreignCa }));
    const untrusted = await waitFor(
      () => untrusting.app.link.status().lastError,
      5000,
      'the untrusted broker',
    );
    assert.equal(untrusted.code, 'BROKER_CERT_UNTRUSTED');
  });

  it('wss://: new TLS material (SIGHUP) reaches the WebSocket connection', async () => {
    const url = `wss://127.0.0.1:${port(secure)}/mqtt`;
    const b = await bridge(
      env(url, { MQTT_CA_FILE: pki.ca, MQTT_CERT_FILE: pki.foreignCert, MQTT_KEY_FILE: pki.foreignKey }),
    );
    await waitFor(() => b.app.link.status().lastError, 5000, 'the refusal of the foreign certificate');
    const fresh = loadConfig(env(url, tls(pki)), (p) => readFileSync(p));
    b.app.link.reloadTls(fresh.mqtt.tls);
    await waitFor(() => b.app.link.connected, 5000, 'connected with the new certificate');
  });
});
