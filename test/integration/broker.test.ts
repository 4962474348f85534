/**
 * Behaviour against a real Mosquitto that refuses, disappears and comes back: ACL refusals are
 * errors, a broker that is down is reported, publishes while down fail at once and are never
 * replayed, and a publish without acknowledgement is removed from the outgoing store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { freePort, sleep, startBroker, waitFor, Broker, type BrokerOptions } from '../helpers/broker.js';
import { bridgeEnv, settled, startBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy } from '../helpers/spy.js';

let pki: Pki;
before(() => {
  pki = createPki();
});

const brokers: Broker[] = [];
after(async () => {
  for (const b of brokers) await b.kill();
});
async function broker(options: Partial<BrokerOptions> = {}): Promise<Broker> {
  const b = await startBroker({ pki, ...options });
  brokers.push(b);
  return b;
}

describe('broker refusals', () => {
  it('a publish the broker ACL denies is an error (reason 135), and nothing reaches subscribers', async () => {
    const b = await broker();
    const spy = await connectSpy(b, pki, ['#']);
    // The bridge policy allows secret/#, the broker ACL does not: the broker is the backstop.
    const bridge = await startBridge(bridgeEnv(b, pki, { MCP_WRITE_TOPICS: 'plant/#,secret/#' }));
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      const text = await bridge.fails('mqtt_publish', { topic: 'secret/door', payload: 'unlock' });
      assert.match(
        text,
        /^NOT_AUTHORIZED: the broker refused the publish: not authorized \(reason code 135\)/,
      );
      await b.waitForLog(/Denied PUBLISH from mcp-bridge-\w+ .*'secret\/door'/);
      // An allowed publish goes through and is the only thing the spy sees.
      const ok = await bridge.ok('mqtt_publish', { topic: 'plant/door', payload: 'closed' });
      assert.equal(ok.delivery, 'acknowledged');
      await waitFor(() => spy.received.find((m) => m.topic === 'plant/door'), 3000, 'allowed publish');
      assert.deepEqual(
        spy.received.map((m) => m.topic),
        ['plant/door'],
      );
    } finally {
      await bridge.close();
      await spy.close();
    }
  });

  it('over MQTT 3.1.1 an ACL refusal cannot be seen, and the result says so', async () => {
    const b = await broker();
    const bridge = await startBridge(
      bridgeEnv(b, pki, { MQTT_PROTOCOL_VERSION: '4', MCP_WRITE_TOPICS: 'secret/#' }),
    );
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      const result = await bridge.ok('mqtt_publish', { topic: 'secret/door', payload: 'unlock' });
      assert.match(result.reason, /MQTT 3\.1\.1 cannot report an ACL refusal/);
    } finally {
      await bridge.close();
    }
  });
});

describe('broker availability', () => {
  it('starts with the broker down, says why, and connects once it is up', async () => {
    const port = await freePort();
    const idle = new Broker({ pki, port });
    const bridge = await startBridge(
      bridgeEnv({ url: `mqtts://127.0.0.1:${port}` } as Broker, pki, { MQTT_RECONNECT_MAX_MS: '500' }),
    );
    try {
      // initialize and tools/list work without a broker.
      const tools = await bridge.client.listTools();
      assert.ok(tools.tools.some((t) => t.name === 'mqtt_status'));
      await waitFor(() => bridge.app.link.status().lastError?.code === 'CONNECTION_REFUSED', 5000, 'refused');
      const started = performance.now();
      const text = await bridge.fails('mqtt_publish', { topic: 'plant/a', payload: 'x' });
      assert.ok(performance.now() - started < 1000, 'a publish while down must fail at once');
      assert.match(text, /BROKER_UNAVAILABLE: .*connection refused by 127\.0\.0\.1:\d+/);
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.connection.state, 'reconnecting');
      assert.ok(status.connection.nextAttemptAt);

      await idle.start();
      brokers.push(idle);
      await waitFor(() => bridge.app.link.connected, 5000, 'connected after the broker came up');
      const spy = await connectSpy(idle, pki, ['plant/#']);
      await bridge.ok('mqtt_publish', { topic: 'plant/a', payload: 'after' });
      await waitFor(() => spy.received.find((m) => m.payload === 'after'), 3000, 'publish after recovery');
      // The publish attempted while down never arrives.
      assert.equal(spy.received.filter((m) => m.payload === 'x').length, 0);
      await spy.close();
    } finally {
      await bridge.close();
    }
  });

  it('broker killed and restarted: reconnects, renews subscriptions, and replays nothing', async () => {
    const b = await broker();
    const bridge = await startBridge(
      bridgeEnv(b, pki, { MQTT_SUBSCRIBE: 'plant/#', MCP_PUBLISH_ALLOW_QOS2: 'true' }),
    );
    try {
      await waitFor(() => bridge.app.link.connected, 5000, 'connected');
      // The MCP client hears about it as log notifications, at the level it asked for.
      const notices: string[] = [];
      bridge.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        notices.push(`${n.params.level} ${String(n.params.data)}`);
      });
      await bridge.client.setLoggingLevel('warning');
      await b.kill();
      await waitFor(() => !bridge.app.link.connected, 5000, 'disconnected');
      for (let i = 0; i < 20; i++) {
        const text = await bridge.fails('mqtt_publish', {
          topic: 'plant/pump',
          payload: `stale-${i}`,
          qos: i % 3,
        });
        assert.match(text, /^BROKER_UNAVAILABLE/);
      }
      assert.deepEqual(bridge.app.link.queueDepth(), { queued: 0, outgoing: 0, pending: 0 });

      await b.restart();
      await waitFor(() => bridge.app.link.connected, 8000, 'reconnected');
      assert.ok(bridge.app.link.status().reconnectCount >= 1);
      assert.ok(
        notices.includes('warning CONNECTION_LOST: the connection to the broker was lost; reconnecting'),
        notices.join('\n'),
      );
      assert.ok(
        !notices.some((n) => n.startsWith('info ')),
        'info notices must respect logging/setLevel warning',
      );
      const spy = await connectSpy(b, pki, ['#']);
      // Subscriptions are renewed: a message published now reaches the store.
      await spy.publish('plant/level', '42');
      await waitFor(
        () => bridge.app.deps.store.latest('plant/level', { limit: 1, now: Date.now() }).messages[0],
        3000,
        'renewed subscription',
      );
      await sleep(1000);
      assert.equal(
        spy.received.filter((m) => m.payload.startsWith('stale-')).length,
        0,
        'a stale publish was replayed',
      );
      const sinceRestart = b.log().slice(b.log().lastIndexOf('starting'));
      assert.doesNotMatch(sinceRestart, /Received PUBLISH from mcp-bridge-\w+ .*'plant\/pump'/);
      const ok = await bridge.ok('mqtt_publish', { topic: 'plant/pump', payload: 'fresh' });
      assert.equal(ok.delivery, 'acknowledged');
      await waitFor(() => spy.received.find((m) => m.payload === 'fresh'), 3000, 'fresh publish');
      await spy.close();
    } finally {
      await bridge.close();
    }
  });

  it('a publish the broker never acknowledges reports delivery unknown and leaves nothing to re-send', async () => {
    const b = await broker();
    const bridge = await startBridge(bridgeEnv(b, pki, { MQTT_PUBLISH_TIMEOUT_MS: '500' }));
    try {
      await settled(bridge);
      b.signal('SIGSTOP');
      const started = performance.now();
      const text = await bridge.fails('mqtt_publish', { topic: 'plant/valve', payload: 'open', qos: 1 });
      const took = performance.now() - started;
      assert.match(text, /^DELIVERY_UNKNOWN: no acknowledgement from the broker within 500 ms/);
      assert.ok(took < 1500, `answered after ${took} ms`);
      assert.deepEqual(bridge.app.link.queueDepth(), { queued: 0, outgoing: 0, pending: 0 });
      // Killed mid-flight: the next attempt after restart must not carry the old message.
      const inFlight = bridge.call('mqtt_publish', { topic: 'plant/valve', payload: 'in-flight', qos: 1 });
      await sleep(100);
      await b.kill();
      const lost = await inFlight;
      assert.equal(lost.isError, true);
      assert.match(JSON.stringify(lost.content), /DELIVERY_UNKNOWN/);
      assert.deepEqual(bridge.app.link.queueDepth(), { queued: 0, outgoing: 0, pending: 0 });
      await b.restart();
      await waitFor(() => bridge.app.link.connected, 8000, 'reconnected');
      const spy = await connectSpy(b, pki, ['plant/#']);
      await sleep(800);
      assert.equal(spy.received.length, 0, JSON.stringify(spy.received));
      await spy.close();
    } finally {
      await bridge.close();
    }
  });
});
