/**
 * Replicas against a real Mosquitto: a stable client id and a resumed MQTT 5 session
 * (MQTT_REPLICA_ID, MQTT_SESSION_EXPIRY_SECONDS), and a share group (MQTT_SHARE_GROUP) that
 * spreads the collection over two bridges while a live wait on either still sees everything, and
 * nothing is stored twice; a resource subscription on one replica is told of every change and
 * reads the value it was told of, whichever replica the broker gave the message to.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { topicUri } from '../../src/resources/resources.js';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, settled, startBridge, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
});
after(async () => {
  await broker.kill();
});

function received(bridge: TestBridge, prefix: string): number {
  return bridge.app.deps.store
    .topics(['#'], { limit: 10_000, now: Date.now() })
    .topics.filter((t) => t.topic.startsWith(prefix))
    .reduce((sum, t) => sum + t.received, 0);
}

describe('replica identity', () => {
  it('MQTT_REPLICA_ID gives the exact client id and a session the broker keeps and resumes', async () => {
    const env = bridgeEnv(broker, pki, { MQTT_REPLICA_ID: 'r1', MQTT_CLIENT_ID: 'plant-bridge' });
    const first = await startBridge(env);
    try {
      await settled(first);
      assert.equal(first.app.link.status().clientId, 'plant-bridge-r1');
      // Clean start off (c0) and the session expiry sent in CONNECT.
      await broker.waitForLog(/New client connected .* as plant-bridge-r1 \(p5, c0, k\d+/);
    } finally {
      await first.close();
    }
    const second = await startBridge(env);
    try {
      await settled(second);
      assert.equal(second.app.link.status().clientId, 'plant-bridge-r1');
      assert.match(broker.log(), /Client plant-bridge-r1 .*disconnected/);
    } finally {
      await second.close();
    }
  });

  it('without a replica id the client id keeps its random suffix and the session ends with the connection', async () => {
    const bridge = await startBridge(bridgeEnv(broker, pki, { MQTT_CLIENT_ID: 'lone' }));
    try {
      await settled(bridge);
      const id = bridge.app.link.status().clientId;
      assert.match(id, /^lone-[0-9a-f]{12}$/);
      await broker.waitForLog(new RegExp(`New client connected .* as ${id} \\(p5, c1, k\\d+`));
    } finally {
      await bridge.close();
    }
  });
});

/** Two bridges in share group `group`, collecting plant/# (session expiry 0). */
async function replicas(group: string, ...ids: [string, string]): Promise<[TestBridge, TestBridge]> {
  const env = (id: string) =>
    bridgeEnv(broker, pki, {
      MQTT_REPLICA_ID: id,
      MQTT_SHARE_GROUP: group,
      MQTT_SUBSCRIBE: 'plant/#',
      MQTT_SESSION_EXPIRY_SECONDS: '0',
    });
  return [await startBridge(env(ids[0])), await startBridge(env(ids[1]))];
}

describe('share group', () => {
  it('two replicas split the collection, each message is stored once, and a live wait sees every message', async () => {
    const [a, b] = await replicas('bridges', 'a', 'b');
    const spy = await connectSpy(broker, pki);
    try {
      await settled(a);
      await settled(b);
      assert.deepEqual(a.app.link.subscriptions(), ['$share/bridges/plant/#']);
      // A live wait on a (its own non-shared subscription) while 40 messages arrive.
      const wait = a.ok('mqtt_wait_for_messages', { filter: 'plant/share/#', count: 40, timeoutMs: 10_000 });
      await waitFor(
        () => a.app.link.subscriptions().includes('plant/share/#'),
        3000,
        'the live subscription',
      );
      await sleep(100);
      for (let i = 0; i < 40; i++) await spy.publish(`plant/share/${i}`, String(i));
      const result = await wait;
      assert.equal(result.count, 40, 'the live wait sees every message, not only its replica share');
      await waitFor(
        () => received(a, 'plant/share/') + received(b, 'plant/share/') >= 40,
        3000,
        'all stored',
      );
      await sleep(200);
      const inA = received(a, 'plant/share/');
      const inB = received(b, 'plant/share/');
      assert.equal(inA + inB, 40, `each message stored once across the group (a ${inA}, b ${inB})`);
      assert.ok(inA > 0 && inB > 0, `both replicas collect (a ${inA}, b ${inB})`);
      // The live subscription is gone after the wait; the shared one stays.
      await waitFor(() => !a.app.link.subscriptions().includes('plant/share/#'), 3000, 'live released');
      assert.deepEqual(a.app.link.subscriptions(), ['$share/bridges/plant/#']);
    } finally {
      await spy.close();
      await a.close();
      await b.close();
    }
  });

  it('a resource subscription on one replica: an update for every message, and reading it gives that message, even when the broker gave it to the other replica', async () => {
    const [a, b] = await replicas('res', 'res-a', 'res-b');
    const spy = await connectSpy(broker, pki);
    const topic = 'plant/res/level';
    const uri = topicUri(topic);
    try {
      await settled(a);
      await settled(b);
      await spy.publish(topic, '0');
      await waitFor(() => received(a, topic) + received(b, topic) >= 1, 3000, 'the first value stored');
      const updates: string[] = [];
      a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        updates.push(n.params.uri);
      });
      await a.client.subscribeResource({ uri });
      await waitFor(() => a.app.link.subscriptions().includes(topic), 3000, 'the live subscription');
      await sleep(100);
      const read = async () => {
        const r = await a.client.readResource({ uri });
        const first = r.contents[0];
        return JSON.parse(first !== undefined && 'text' in first ? String(first.text) : '{}').message
          ?.payload;
      };
      // One change a little over a second apart (updates are at most one a second per resource).
      for (let i = 1; i <= 4; i++) {
        await spy.publish(topic, String(i * 10));
        await waitFor(() => updates.length >= i, 3000, `update ${i}`);
        assert.equal(await read(), i * 10, `reading after update ${i} gives the value it announced`);
        await sleep(1100);
      }
      const inA = received(a, topic);
      const inB = received(b, topic);
      assert.equal(inA + inB, 5, `each message stored once across the group (a ${inA}, b ${inB})`);
      assert.ok(inB > 0, 'the other replica collected some of them (the case this test is about)');
      await a.client.unsubscribeResource({ uri });
      await waitFor(() => !a.app.link.subscriptions().includes(topic), 3000, 'live released');
    } finally {
      await spy.close();
      await a.close();
      await b.close();
    }
  });
});
