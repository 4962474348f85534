/**
 * T-3.15 flood (reference/security.md 3.5): a separate publisher process sends ~10,000 msg/s to
 * collected topics (30 s with SOAK=1, 5 s otherwise) while the built server runs in HTTP mode
 * with a small store. Measured in the server process itself (its /metrics): resident memory
 * plateaus under the container limit, the MCP ping answers within 1 s throughout (sampled every
 * 500 ms), and the store counts what it dropped. The server runs with the V8 heap limit it gets in
 * the container (support.ts, CONTAINER_NODE_OPTIONS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';
import {
  CONTAINER_LIMIT_BYTES,
  CONTAINER_NODE_OPTIONS,
  SOAK,
  percentile,
  serverFigures,
  startPublisher,
  type ServerFigures,
} from './support.js';

const SECONDS = SOAK ? 30 : 5;
const RATE = 10_000;
const TOPICS = 500;
const PAYLOAD_BYTES = 256;
const STORE_MAX_BYTES = 4 * 1024 * 1024;
const MiB = 1024 * 1024;

let pki: Pki;
let broker: Broker;
let bridge: SpawnedBridge;

before(async () => {
  pki = createPki();
  pki.issueClient('spy'); // the publisher's identity
  broker = await startBroker({ pki });
  bridge = await spawnBridge(
    'http',
    bridgeEnv(broker, pki, {
      LOG_LEVEL: 'info',
      NODE_OPTIONS: CONTAINER_NODE_OPTIONS,
      MQTT_SUBSCRIBE: 'plant/flood/#',
      STORE_MAX_BYTES: String(STORE_MAX_BYTES),
      MCP_TOOL_RATE_PER_MINUTE: '100000',
      MCP_HTTP_RATE_LIMIT_PER_MINUTE: '100000',
    }),
  );
});
after(async () => {
  await bridge?.close();
  await broker?.kill();
});

const mb = (bytes: number) => (bytes / MiB).toFixed(1);

describe('soak: flood', () => {
  it(`T-3.15 a ${RATE} msg/s flood for ${SECONDS} s: server RSS plateaus under the container limit, ping answers < 1 s, drops are counted`, async (t) => {
    await bridge.connected();
    await broker.waitForLog(/Sending SUBACK to mcp-bridge-/, 5000);
    const idle = await serverFigures(bridge);
    const publisher = startPublisher({
      url: broker.url,
      pkiDir: pki.dir,
      rate: RATE,
      seconds: SECONDS,
      topics: TOPICS,
      size: PAYLOAD_BYTES,
      prefix: 'plant/flood/t',
    });
    await publisher.ready;
    const floodStart = performance.now();
    const samples: Array<{ at: number; pingMs: number } & ServerFigures> = [];
    while (!publisher.exited()) {
      const started = performance.now();
      await bridge.client.ping({ timeout: 10_000 });
      const pingMs = performance.now() - started;
      const figures = await serverFigures(bridge);
      samples.push({ at: (started - floodStart) / 1000, pingMs, ...figures });
      await sleep(Math.max(0, 500 - (performance.now() - started)));
    }
    const { sent, seconds } = await publisher.done;
    const status = await bridge.ok('mqtt_status');
    const store = status.store;

    const firstHalf = samples.filter((s) => s.at < SECONDS / 2);
    const secondHalf = samples.filter((s) => s.at >= SECONDS / 2);
    const maxRss = (xs: typeof samples) => Math.max(...xs.map((s) => s.rss));
    const pings = samples.map((s) => s.pingMs);
    const lags = samples.map((s) => s.lagP99 * 1000);
    t.diagnostic(
      `publisher: ${sent} messages in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} msg/s); ` +
        `bridge received ${store.received}, stored ${store.messages} messages / ${mb(store.bytes)} MiB in ${store.topics} topics, ` +
        `dropped ${JSON.stringify(store.dropped)}`,
    );
    t.diagnostic(
      `RSS idle ${mb(idle.rss)} MiB; max first half ${mb(maxRss(firstHalf))} MiB, max second half ${mb(maxRss(secondHalf))} MiB; ` +
        `heap used max first half ${mb(Math.max(...firstHalf.map((s) => s.heapUsed)))} MiB, second half ${mb(Math.max(...secondHalf.map((s) => s.heapUsed)))} MiB; ` +
        `RSS samples ${samples.map((s) => mb(s.rss)).join(' ')}`,
    );
    t.diagnostic(
      `ping (${pings.length} samples): median ${percentile(pings, 0.5).toFixed(1)} ms, max ${Math.max(...pings).toFixed(1)} ms; ` +
        `event-loop lag p99 per 500 ms window: median ${percentile(lags, 0.5).toFixed(1)} ms, max ${Math.max(...lags).toFixed(1)} ms`,
    );

    // Sampled throughout (a slow ping on a busy machine stretches a 500 ms period, hence 75%).
    assert.ok(samples.length >= SECONDS * 2 * 0.75, `only ${samples.length} samples`);
    assert.ok(firstHalf.length > 0 && secondHalf.length > 0);
    // The flood reached the bridge (most of it: the broker may drop QoS 0 for a slow reader).
    assert.ok(sent >= RATE * SECONDS * 0.95, `the publisher sent only ${sent}`);
    assert.ok(store.received >= sent * 0.8, `the bridge received ${store.received} of ${sent}`);
    // Every ping answered within 1 s.
    assert.ok(Math.max(...pings) < 1000, `slowest ping ${Math.max(...pings).toFixed(0)} ms`);
    // Bounded: the store stayed within its byte cap, counted its drops, and RSS stayed under the
    // container limit with no growth over the second half beyond a margin.
    assert.ok(store.bytes <= STORE_MAX_BYTES, `store holds ${store.bytes} bytes`);
    assert.ok(store.dropped.bytes + store.dropped.perTopic > 0, JSON.stringify(store.dropped));
    assert.ok(
      Math.max(...samples.map((s) => s.rss)) < CONTAINER_LIMIT_BYTES,
      'RSS above the container limit',
    );
    const margin = Math.max(24 * MiB, maxRss(firstHalf) * 0.15);
    assert.ok(
      maxRss(secondHalf) <= maxRss(firstHalf) + margin,
      `RSS grew over the second half: ${mb(maxRss(firstHalf))} -> ${mb(maxRss(secondHalf))} MiB`,
    );
    // Still healthy afterwards: connected all along, and reads answer.
    assert.equal(status.connection.state, 'connected');
    assert.equal(status.connection.reconnectCount, 0);
    const latest = await bridge.ok('mqtt_get_latest', { filter: 'plant/flood/#', limit: 5 });
    assert.equal(latest.count, 5);
  });
});
