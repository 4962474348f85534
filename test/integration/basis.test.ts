/**
 * Every read says what it stands on, against a real Mosquitto over mutual TLS:
 * - not connected never looks like "no sensors": coverage is pending and the connection is named;
 * - coverage comes from what the broker granted, on this connection;
 * - 20 seconds of memory never reads as an hour: heldSince and olderDropped, and `more` when a
 *   limit cut the answer;
 * - a retained replay of a held value (a redundant subscribe, a reconnect) keeps its receive time;
 * - a refused loopback address inside a container says what 127.0.0.1 is there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, textOf, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
let spy: Spy;
const bridges: TestBridge[] = [];

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki);
});
after(async () => {
  for (const b of bridges) await b.close();
  await spy.close();
  await broker.stop();
});

async function bridge(env: Record<string, string> = {}, options: { inContainer?: boolean } = {}) {
  const b = await startBridge(bridgeEnv(broker, pki, env), options);
  bridges.push(b);
  return b;
}

const connected = (b: TestBridge) => waitFor(() => b.app.link.connected, 5000, 'connected');

describe('not connected is not "nothing there"', () => {
  it('a bridge whose broker is unreachable says so in every read', async () => {
    const port = await freePort();
    const b = await startBridge(bridgeEnv(broker, pki, { MQTT_URL: `mqtts://127.0.0.1:${port}` }));
    bridges.push(b);
    await waitFor(() => b.app.link.status().lastError, 5000, 'a connection error');
    for (const [tool, args] of [
      ['mqtt_get_latest', { filter: 'plant/#' }],
      ['mqtt_read_messages', { filter: 'plant/#' }],
      ['mqtt_list_topics', {}],
    ] as const) {
      const result = await b.ok(tool, args);
      assert.equal(result.coverage, 'pending', tool);
      assert.notEqual(result.connection, undefined, tool);
      assert.match(result.connection.state, /connecting|reconnecting/);
      assert.ok(Date.parse(result.connection.since) <= Date.now());
      assert.match(result.connection.lastError, /connection refused by 127\.0\.0\.1/);
    }
  });

  it('coverage is full once granted, pending while the broker is down, full again after', async () => {
    const b = await bridge({ STORE_MAX_MESSAGES_PER_TOPIC: '100' });
    await connected(b);
    await waitFor(() => b.app.link.grantedAt('plant/#'), 5000, 'the SUBACK');
    const up = await b.ok('mqtt_get_latest', { filter: 'plant/line1/#' });
    assert.equal(up.coverage, 'full');
    assert.equal(up.connection, undefined);

    await broker.stop();
    await waitFor(() => !b.app.link.connected, 5000, 'disconnected');
    const down = await b.ok('mqtt_read_messages', { filter: 'plant/line1/#' });
    assert.equal(down.coverage, 'pending');
    assert.equal(down.connection.state, 'reconnecting');

    await broker.restart();
    spy = await connectSpy(broker, pki);
    await connected(b);
    await waitFor(() => b.app.link.grantedAt('plant/#'), 5000, 'the SUBACK after the reconnect');
    const again = await b.ok('mqtt_read_messages', { filter: 'plant/line1/#', sinceSeconds: 3600 });
    assert.equal(again.coverage, 'full');
    // The window reaches back past the reconnect: nothing before it was seen on this connection.
    assert.ok(Date.parse(again.collectingSince) > Date.now() - 10_000, again.collectingSince);
  });
});

describe('short memory never reads as long history', () => {
  it('heldSince and olderDropped when the store dropped messages of the topics; more when a limit cut', async () => {
    const b = await bridge({ STORE_MAX_MESSAGES_PER_TOPIC: '5' });
    await connected(b);
    await waitFor(() => b.app.link.grantedAt('plant/#'), 5000, 'the SUBACK');
    for (let i = 0; i < 20; i++) await spy.publish('plant/fast/temp', String(i));
    await waitFor(() => b.app.deps.store.stats(Date.now()).received >= 20, 5000, '20 messages');
    const read = await b.ok('mqtt_read_messages', { filter: 'plant/fast/#', sinceSeconds: 3600, limit: 200 });
    assert.equal(read.count, 5);
    assert.equal(read.olderDropped, 15);
    assert.ok(Date.parse(read.heldSince) <= Date.parse(read.messages[4].receivedAt));
    assert.equal(read.more, undefined);

    const cut = await b.call('mqtt_read_messages', { filter: 'plant/fast/#', limit: 2 });
    assert.equal((cut.structuredContent as Record<string, unknown>).more, true);
    assert.match(textOf(cut), /The result was cut \(more: true\): to see more, raise limit/);

    // A topic with nothing dropped says nothing about drops.
    await spy.publish('plant/slow/temp', '1');
    await waitFor(() => b.app.deps.store.stats(Date.now()).received >= 21, 5000, 'the slow one');
    const slow = await b.ok('mqtt_read_messages', { filter: 'plant/slow/#', sinceSeconds: 3600 });
    assert.equal(slow.olderDropped, undefined);
    assert.equal(slow.heldSince, undefined);
  });
});

describe('a value never looks newer than it is', () => {
  it('a redundant subscribe and a reconnect replay the retained value; it keeps its receive time', async () => {
    await spy.publish('plant/replay/temp', '19.0', { retain: true });
    const b = await bridge();
    await connected(b);
    const first = await waitFor(
      () => b.app.deps.store.latest('plant/replay/temp', { limit: 1, now: Date.now() }).messages[0],
      5000,
      'the retained value',
    );
    assert.equal(first.retain, true);

    await b.ok('mqtt_subscribe', { filter: 'plant/replay/+' });
    await waitFor(() => b.app.deps.store.stats(Date.now()).replaysIgnored >= 1, 5000, 'the replay');
    b.app.link.reloadTls(b.config.mqtt.tls); // a clean reconnect, renewing every subscription
    await waitFor(() => b.app.deps.store.stats(Date.now()).replaysIgnored >= 3, 5000, 'the replays');

    const read = await b.ok('mqtt_read_messages', { filter: 'plant/replay/temp' });
    assert.equal(read.count, 1);
    assert.equal(read.messages[0].receivedAt, new Date(first.receivedAt).toISOString());
    const topics = await b.ok('mqtt_list_topics', { filter: 'plant/replay/#' });
    assert.equal(topics.topics[0].received, 1);
    assert.equal((await b.ok('mqtt_status')).store.replaysIgnored, 3);
  });

  it('a live message and its retained replay are one message, and the wait counts only the live one', async () => {
    const b = await bridge({ MQTT_SUBSCRIBE: 'plant/unseen/#' });
    await connected(b);
    const wait = b.ok('mqtt_wait_for_messages', { filter: 'plant/unseen/#', timeoutMs: 1500 });
    await spy.publish('plant/unseen/value', 'old', { retain: true });
    await b.ok('mqtt_subscribe', { filter: 'plant/unseen/value' }); // the broker replays it now
    const waited = await wait;
    const stored = await b.ok('mqtt_read_messages', { filter: 'plant/unseen/value' });
    // Delivered live once (retain false), then replayed (same bytes): one message, live.
    assert.equal(stored.count, 1);
    assert.equal(waited.count, 1);
    assert.equal(waited.messages[0].retain, undefined);
  });
});

describe('in a container', () => {
  it('a refused 127.0.0.1 says that 127.0.0.1 is the container itself', async () => {
    const port = await freePort();
    const b = await startBridge(bridgeEnv(broker, pki, { MQTT_URL: `mqtts://127.0.0.1:${port}` }), {
      inContainer: true,
    });
    bridges.push(b);
    const error = await waitFor(() => b.app.link.status().lastError, 5000, 'a connection error');
    assert.equal(error.code, 'CONNECTION_REFUSED');
    assert.match(error.message, /127\.0\.0\.1 is the container itself, not the host/);
    assert.match(error.message, /host\.docker\.internal/);
    const read = await b.ok('mqtt_get_latest', { filter: 'plant/#' });
    assert.match(read.connection.lastError, /the container itself/);
  });
});
