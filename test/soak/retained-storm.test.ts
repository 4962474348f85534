/**
 * T-3.16 retained storm (reference/security.md 3.5; mqttjs/MQTT.js#823): 10,000 retained topics
 * exist under the collected prefix before the bridge subscribes. The broker replays them all at
 * once on SUBSCRIBE. The built server (HTTP mode) must not fall into a reconnect loop, must keep
 * topics bounded by STORE_MAX_TOPICS (counting the rest in dropped.topics), and must answer tools
 * and pings while and after it happens. Observed for 30 s with SOAK=1, 3 s otherwise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';
import { connectSpy } from '../helpers/spy.js';
import { CONTAINER_LIMIT_BYTES, CONTAINER_NODE_OPTIONS, SOAK, percentile, serverFigures } from './support.js';

const RETAINED = 10_000;
const MAX_TOPICS = 2000;
const OBSERVE_SECONDS = SOAK ? 30 : 3;
const MiB = 1024 * 1024;

let pki: Pki;
let broker: Broker;
let bridge: SpawnedBridge | undefined;

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
});
after(async () => {
  await bridge?.close();
  await broker?.kill();
});

describe('soak: retained storm', () => {
  it(`T-3.16 ${RETAINED} retained topics replayed on subscribe: no reconnect loop, topics bounded by STORE_MAX_TOPICS=${MAX_TOPICS}, tools answer`, async (t) => {
    // The storm is on the broker before the bridge exists.
    const spy = await connectSpy(broker, pki);
    const payload = Buffer.alloc(64, 'r');
    for (let i = 0; i < RETAINED; i++) {
      spy.client.publish(`plant/storm/${i}`, payload, { qos: 0, retain: true });
      if (spy.client.stream.writableNeedDrain) {
        await new Promise<void>((resolve) => spy.client.stream.once('drain', () => resolve()));
      }
    }
    // In-order processing: once this is acknowledged, every retained message above is stored.
    await spy.publish('plant/storm-barrier', 'done', { qos: 1 });
    await spy.close();

    const started = performance.now();
    bridge = await spawnBridge(
      'http',
      bridgeEnv(broker, pki, {
        LOG_LEVEL: 'info',
        NODE_OPTIONS: CONTAINER_NODE_OPTIONS,
        MQTT_SUBSCRIBE: 'plant/storm/#',
        MQTT_KEEPALIVE_SECONDS: '5',
        STORE_MAX_TOPICS: String(MAX_TOPICS),
        MCP_TOOL_RATE_PER_MINUTE: '100000',
        MCP_HTTP_RATE_LIMIT_PER_MINUTE: '100000',
      }),
    );
    const b = bridge;
    await b.connected();
    const stats = async () => (await b.ok('mqtt_status')).store;
    let store = await stats();
    while (store.received + store.dropped.policy < RETAINED) {
      if (performance.now() - started > 30_000) {
        assert.fail(
          `only ${store.received} of ${RETAINED} retained messages arrived: ${JSON.stringify(store)}`,
        );
      }
      await sleep(100);
      store = await stats();
    }
    const ingestedMs = performance.now() - started;

    // Watch it for a while: connected, no reconnect, ping and tools answering.
    const pings: number[] = [];
    const rss: number[] = [];
    const end = performance.now() + OBSERVE_SECONDS * 1000;
    while (performance.now() < end) {
      const t0 = performance.now();
      await b.client.ping({ timeout: 10_000 });
      pings.push(performance.now() - t0);
      const status = await b.ok('mqtt_status');
      assert.equal(status.connection.state, 'connected');
      assert.equal(status.connection.reconnectCount, 0, 'the bridge reconnected');
      rss.push((await serverFigures(b)).rss);
      await sleep(Math.max(0, 500 - (performance.now() - t0)));
    }
    store = await stats();
    t.diagnostic(
      `${RETAINED} retained messages ingested ${ingestedMs.toFixed(0)} ms after the server started; store ${JSON.stringify(
        {
          topics: store.topics,
          messages: store.messages,
          bytes: store.bytes,
          received: store.received,
          dropped: store.dropped,
        },
      )}`,
    );
    t.diagnostic(
      `observed ${OBSERVE_SECONDS} s: RSS max ${(Math.max(...rss) / MiB).toFixed(1)} MiB; ping median ${percentile(pings, 0.5).toFixed(1)} ms, max ${Math.max(...pings).toFixed(1)} ms`,
    );

    assert.equal(store.received, RETAINED);
    assert.equal(store.topics, MAX_TOPICS);
    assert.equal(store.dropped.topics, RETAINED - MAX_TOPICS);
    assert.ok(Math.max(...pings) < 1000, `slowest ping ${Math.max(...pings).toFixed(0)} ms`);
    assert.ok(Math.max(...rss) < CONTAINER_LIMIT_BYTES, 'RSS above the container limit');
    // One connection from the bridge in the broker log: no connect/kick loop.
    assert.equal(broker.log().match(/New client connected from \S+ as mcp-bridge-/g)?.length, 1);

    // Tools answer over the bounded store.
    const listed = await b.ok('mqtt_list_topics', { filter: 'plant/storm/#', limit: 10 });
    assert.equal(listed.matched, MAX_TOPICS);
    assert.equal(listed.count, 10);
    assert.equal(listed.more, true);
    const latest = await b.ok('mqtt_get_latest', { filter: 'plant/storm/#', limit: 3 });
    assert.equal(latest.matchedTopics, MAX_TOPICS);
    assert.ok(latest.messages.every((m: { retain: boolean }) => m.retain));
  });
});
