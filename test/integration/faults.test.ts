/**
 * Fault tests against a real Mosquitto on loopback (reference/security.md 3.5 and 4.4): the
 * broker killed mid-publish, a burst of publishes while it is down, a hung (SIGSTOPped) broker,
 * two instances with one configuration, oversized messages, SIGHUP, and a subscription the
 * broker ACL denies. Each test starts its own broker and stops it by PID.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient, type Packet } from 'mqtt';
import { sleep, startBroker, waitFor, type Broker, type BrokerOptions } from '../helpers/broker.js';
import { bridgeEnv, settled, startBridge, textOf, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy } from '../helpers/spy.js';

const SOAK = process.env.SOAK === '1';

let pki: Pki;
let workDir: string;
before(() => {
  pki = createPki();
  workDir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-faults-'));
});

const brokers: Broker[] = [];
after(async () => {
  for (const b of brokers) {
    b.signal('SIGCONT'); // a stopped broker would not act on SIGTERM
    await b.kill();
  }
});
async function broker(options: Partial<BrokerOptions> = {}): Promise<Broker> {
  const b = await startBroker({ pki, ...options });
  brokers.push(b);
  return b;
}

let bridges = 0;
/** The bridge environment for these tests: tool rate limits out of the way, audit lines to a file. */
function env(b: Broker, extra: Record<string, string> = {}): Record<string, string> {
  return bridgeEnv(b, pki, {
    MCP_PUBLISH_RATE_PER_MINUTE: '1000000',
    MCP_TOOL_RATE_PER_MINUTE: '1000000',
    MCP_AUDIT_LOG_FILE: join(workDir, `audit-${++bridges}.log`),
    ...extra,
  });
}

const connected = (bridge: TestBridge, what = 'connected', timeoutMs = 5000) =>
  waitFor(() => bridge.app.link.connected, timeoutMs, what);

const EMPTY_QUEUES = { queued: 0, outgoing: 0, pending: 0 };

/** global.gc when the process runs with --expose-gc; otherwise switched on through V8 flags. */
function exposeGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/** The broker log written since its last (re)start. */
function logSinceStart(b: Broker): string {
  const log = b.log();
  return log.slice(log.lastIndexOf(' starting'));
}

describe('broker faults', () => {
  it('T-3.7 broker SIGKILLed while a QoS 1 publish is in flight: isError within the deadline + 1 s, the bridge lives, reconnects, and publishes again', async (t) => {
    const timeoutMs = 3000;
    const b = await broker();
    const bridge = await startBridge(env(b, { MQTT_PUBLISH_TIMEOUT_MS: String(timeoutMs) }));
    try {
      await connected(bridge);
      // Stopped first, so the PUBACK cannot come: the publish is surely in flight when killed.
      b.signal('SIGSTOP');
      const started = performance.now();
      const inFlight = bridge.call('mqtt_publish', { topic: 'plant/valve', payload: 'in-flight', qos: 1 });
      await waitFor(() => bridge.app.link.queueDepth().pending === 1, 2000, 'the publish in flight');
      await sleep(200);
      await b.kill();
      const result = await inFlight;
      const took = performance.now() - started;
      assert.equal(result.isError, true, textOf(result));
      assert.match(textOf(result), /^(DELIVERY_UNKNOWN|BROKER_UNAVAILABLE): /);
      assert.ok(took < timeoutMs + 1000, `answered after ${took.toFixed(0)} ms`);
      assert.deepEqual(bridge.app.link.queueDepth(), EMPTY_QUEUES);

      // Alive: tools answer and say the broker is away.
      const status = await bridge.ok('mqtt_status');
      assert.notEqual(status.connection.state, 'connected');
      const down = await bridge.fails('mqtt_publish', { topic: 'plant/valve', payload: 'while-down' });
      assert.match(down, /^BROKER_UNAVAILABLE: /);

      await b.restart();
      const restarted = performance.now();
      const spy = await connectSpy(b, pki, ['plant/#']);
      // Within the backoff window: the longest delay (MQTT_RECONNECT_MAX_MS) plus one connect.
      await connected(bridge, 'reconnected after the restart', 1000 + 3000);
      const reconnectMs = performance.now() - restarted;
      assert.ok(bridge.app.link.status().reconnectCount >= 1);
      const ok = await bridge.ok('mqtt_publish', { topic: 'plant/valve', payload: 'after', qos: 1 });
      assert.equal(ok.delivery, 'acknowledged');
      await waitFor(() => spy.received.find((m) => m.payload === 'after'), 3000, 'the publish after restart');
      await sleep(300);
      assert.deepEqual(
        spy.received.map((m) => m.payload),
        ['after'],
        'the in-flight message must not be re-sent after the reconnect',
      );
      // The spy may have subscribed after a replay; the broker log cannot miss one.
      const fromBridge = new RegExp(`Received PUBLISH from ${bridge.app.link.clientId} `, 'g');
      assert.equal(logSinceStart(b).match(fromBridge)?.length, 1, 'one publish since the restart');
      await spy.close();
      t.diagnostic(
        `T-3.7: isError after ${took.toFixed(0)} ms; reconnected ${reconnectMs.toFixed(0)} ms after the restart`,
      );
    } finally {
      await bridge.close();
    }
  });

  it('T-3.17 QoS 2 interrupted after PUBREC: delivery unknown within the deadline + 1 s, nothing stays in flight, the next QoS 2 publish completes', async (t) => {
    const timeoutMs = 2000;
    const b = await broker();
    const bridge = await startBridge(
      env(b, { MQTT_PUBLISH_TIMEOUT_MS: String(timeoutMs), MCP_PUBLISH_ALLOW_QOS2: 'true' }),
    );
    try {
      await settled(bridge);
      // The link's mqtt.js client (private): its packetreceive event fires before mqtt.js answers
      // the PUBREC, so the broker is stopped after PUBREC and before it can see the PUBREL.
      const client = (bridge.app.link as unknown as { client: MqttClient }).client;
      let pubrecs = 0;
      const stopAfterPubrec = (packet: Packet) => {
        if (packet.cmd !== 'pubrec' || pubrecs++ > 0) return;
        b.signal('SIGSTOP');
      };
      client.on('packetreceive', stopAfterPubrec);
      const started = performance.now();
      const result = await bridge.call('mqtt_publish', { topic: 'plant/door', payload: 'open', qos: 2 });
      const took = performance.now() - started;
      client.off('packetreceive', stopAfterPubrec);
      assert.equal(pubrecs, 1, 'the broker answered the PUBLISH with PUBREC');
      assert.equal(result.isError, true, textOf(result));
      assert.match(textOf(result), /^DELIVERY_UNKNOWN: /);
      assert.ok(took < timeoutMs + 1000, `answered after ${took.toFixed(0)} ms`);
      assert.deepEqual(bridge.app.link.queueDepth(), EMPTY_QUEUES, 'nothing left in flight');

      b.signal('SIGCONT');
      await b.kill();
      await b.restart();
      await connected(bridge, 'reconnected after the restart', 1000 + 3000);
      // The renewed subscriptions are in flight for a moment after the reconnect.
      await settled(bridge, 3000);
      assert.deepEqual(bridge.app.link.queueDepth(), EMPTY_QUEUES, 'nothing re-sent after the reconnect');
      const fromBridge = new RegExp(`Received (PUBLISH|PUBREL) from ${bridge.app.link.clientId} `);
      assert.doesNotMatch(logSinceStart(b), fromBridge, 'the interrupted QoS 2 flow is not resumed');
      const spy = await connectSpy(b, pki, ['plant/#']);
      const ok = await bridge.ok('mqtt_publish', { topic: 'plant/door', payload: 'closed', qos: 2 });
      assert.equal(ok.delivery, 'acknowledged');
      await waitFor(
        () => spy.received.find((m) => m.payload === 'closed'),
        3000,
        'the QoS 2 publish after restart',
      );
      assert.deepEqual(bridge.app.link.queueDepth(), EMPTY_QUEUES);
      await spy.close();
      t.diagnostic(`T-3.17: delivery unknown after ${took.toFixed(0)} ms`);
    } finally {
      b.signal('SIGCONT');
      await bridge.close();
    }
  });

  it('T-3.8 offline burst: 10,000 publishes while the broker is down fail fast, queue nothing, keep the heap flat, and never reach the broker', async (t) => {
    const N = 10_000;
    const b = await broker();
    // LOG_LEVEL warn: the in-memory log sink of the test bridge would otherwise hold 10,000 lines.
    const bridge = await startBridge(env(b, { LOG_LEVEL: 'warn' }));
    const gc = exposeGc();
    try {
      await connected(bridge);
      const clientId = bridge.app.link.clientId;
      await b.kill();
      await waitFor(() => !bridge.app.link.connected, 5000, 'disconnected');
      const publish = (i: number) =>
        bridge.call('mqtt_publish', { topic: `plant/burst/${i % 100}`, payload: `burst-${i}`, qos: i % 2 });
      // Between calls (not timed): a real transport hands each request over in its own event-loop
      // turn, so yield one. Without it the in-memory transport runs the whole burst as a single
      // microtask job, and V8 keeps every WeakRef target (AbortSignal.any in the tool boundary)
      // alive until the job ends: ~3 KB per call that looks like a leak and is not one.
      // Pace to at most 4 calls per Date.now() millisecond: the publish bucket holds 5 tokens,
      // refilled per millisecond, and every call here must take the offline path, not the limit.
      let stamp = 0;
      let inStamp = 0;
      const nextTurn = async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        while (Date.now() === stamp && inStamp >= 4) await new Promise<void>((r) => setImmediate(r));
        if (Date.now() !== stamp) [stamp, inStamp] = [Date.now(), 0];
        inStamp++;
      };
      const settledHeap = async () => {
        await sleep(10); // end the current job, so kept WeakRef targets can be collected
        gc?.();
        return process.memoryUsage().heapUsed;
      };
      // Warm-up (JIT, first-call allocations), not measured.
      for (let i = 0; i < 200; i++) {
        await nextTurn();
        await publish(-1 - i);
      }
      const heapBefore = await settledHeap();
      const timed = async (i: number) => {
        await nextTurn();
        const t0 = performance.now();
        const result = await publish(i);
        return { ms: performance.now() - t0, result };
      };
      const times = new Float64Array(N);
      const wrong: string[] = [];
      let firstMax = 0;
      let remeasured = 0;
      for (let i = 0; i < N; i++) {
        let { ms, result } = await timed(i);
        firstMax = Math.max(firstMax, ms);
        // Each call is one synchronous job over the in-memory transport: only CPU work, GC or the
        // OS scheduler can make it slow. A call that waited (for a timer, a reconnect) would be slow
        // every time; one preempted on a busy machine is not. So a slow call is timed again, twice
        // at most, and the bound applies to its best attempt.
        for (let attempt = 1; ms >= 50 && attempt < 3; attempt++) {
          remeasured++;
          ({ ms, result } = await timed(i));
        }
        times[i] = ms;
        if (result.isError !== true || !textOf(result).startsWith('BROKER_UNAVAILABLE: ')) {
          if (wrong.length < 5) wrong.push(`#${i}: ${textOf(result).slice(0, 200)}`);
        }
      }
      const heapGrowth = (await settledHeap()) - heapBefore;
      const sorted = [...times].sort((x, y) => x - y);
      const median = sorted[Math.floor(N / 2)] as number;
      const p99 = sorted[Math.floor(N * 0.99)] as number;
      const max = sorted[N - 1] as number;
      t.diagnostic(
        `T-3.8: per call median ${median.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${max.toFixed(1)} ms ` +
          `(first attempts: max ${firstMax.toFixed(1)} ms, ${remeasured} re-timed); ` +
          `heap growth ${(heapGrowth / 1e6).toFixed(2)} MB (gc ${gc === undefined ? 'unavailable' : 'forced'})`,
      );
      assert.deepEqual(wrong, [], 'every call must be a BROKER_UNAVAILABLE error');
      assert.ok(max < 50, `slowest call took ${max.toFixed(1)} ms`);
      assert.ok(median < 5, `median ${median.toFixed(3)} ms`);
      assert.deepEqual(bridge.app.link.queueDepth(), EMPTY_QUEUES);
      // 10 MB with a forced GC; without one, garbage is counted too, so the bound is generous.
      const bound = gc !== undefined ? 10e6 : 64e6;
      assert.ok(heapGrowth < bound, `heap grew ${(heapGrowth / 1e6).toFixed(1)} MB`);

      await b.restart();
      const spy = await connectSpy(b, pki, ['#']);
      await connected(bridge, 'reconnected', 8000);
      await sleep(1000);
      assert.equal(spy.received.filter((m) => m.payload.startsWith('burst-')).length, 0);
      const escaped = clientId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const fromBridge = new RegExp(`Received PUBLISH from ${escaped}\\b`);
      assert.doesNotMatch(logSinceStart(b), fromBridge, 'the broker received a publish from the bridge');
      // The check above can see a publish: one made now shows up in the log.
      await bridge.ok('mqtt_publish', { topic: 'plant/burst/control', payload: 'control' });
      await b.waitForLog(fromBridge, 3000);
      await waitFor(() => spy.received.find((m) => m.payload === 'control'), 3000, 'the control publish');
      assert.equal(spy.received.filter((m) => m.payload.startsWith('burst-')).length, 0);
      await spy.close();
    } finally {
      await bridge.close();
    }
  });

  it('T-3.10 hung broker (SIGSTOP): keepalive notices within ~1.5 x keepalive, publishes fail fast, and SIGCONT recovers', async (t) => {
    const keepaliveS = 5; // the smallest MQTT_KEEPALIVE_SECONDS the configuration accepts
    const b = await broker();
    const bridge = await startBridge(env(b, { MQTT_KEEPALIVE_SECONDS: String(keepaliveS) }));
    try {
      await connected(bridge);
      b.signal('SIGSTOP');
      const stoppedAt = performance.now();
      // mqtt.js: PINGREQ after one keepalive without traffic, gives up at 1.5 x keepalive.
      await waitFor(() => !bridge.app.link.connected, keepaliveS * 1500 + 2500, 'the hung broker noticed');
      const noticedMs = performance.now() - stoppedAt;
      const t0 = performance.now();
      const text = await bridge.fails('mqtt_publish', { topic: 'plant/valve', payload: 'hung' });
      const failMs = performance.now() - t0;
      assert.match(text, /^BROKER_UNAVAILABLE: /);
      assert.ok(failMs < 50, `publish took ${failMs.toFixed(1)} ms while the broker hung`);
      assert.notEqual((await bridge.ok('mqtt_status')).connection.state, 'connected');

      b.signal('SIGCONT');
      const resumedAt = performance.now();
      // A connection attempt may be stuck on the stopped broker until MQTT_CONNECT_TIMEOUT_MS (3 s).
      await connected(bridge, 'recovered after SIGCONT', 3000 + 1000 + 4000);
      const recoveredMs = performance.now() - resumedAt;
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.connection.state, 'connected');
      const ok = await bridge.ok('mqtt_publish', { topic: 'plant/valve', payload: 'resumed', qos: 1 });
      assert.equal(ok.delivery, 'acknowledged');
      t.diagnostic(
        `T-3.10: hung broker noticed after ${noticedMs.toFixed(0)} ms (keepalive ${keepaliveS} s), ` +
          `publish failed in ${failMs.toFixed(1)} ms, recovered ${recoveredMs.toFixed(0)} ms after SIGCONT`,
      );
    } finally {
      await bridge.close();
    }
  });

  it(`T-3.13 two instances with one configuration stay connected together for ${SOAK ? 60 : 8} s without kicking each other`, async () => {
    const b = await broker();
    const config = env(b, { MQTT_CLIENT_ID: 'twin', MQTT_SUBSCRIBE: 'plant/#' });
    const one = await startBridge(config);
    const two = await startBridge(config);
    const spy = await connectSpy(b, pki);
    try {
      await connected(one);
      await connected(two);
      const [a, c] = [one.app.link.clientId, two.app.link.clientId];
      assert.match(a, /^twin-[0-9a-f]+$/);
      assert.match(c, /^twin-[0-9a-f]+$/);
      assert.notEqual(a, c, 'the client ids must differ (random suffix)');
      const end = Date.now() + (SOAK ? 60_000 : 8_000);
      let tick = 0;
      while (Date.now() < end) {
        assert.ok(one.app.link.connected && two.app.link.connected, `a bridge dropped at tick ${tick}`);
        await spy.publish('plant/twin', `tick-${++tick}`);
        await sleep(250);
      }
      // Both kept receiving until the end.
      const last = `tick-${tick}`;
      for (const bridge of [one, two]) {
        await waitFor(
          () =>
            bridge.app.deps.store
              .latest('plant/twin', { limit: 1, now: Date.now() })
              .messages[0]?.payload.toString() === last,
          2000,
          'the last tick on both bridges',
        );
        assert.equal(bridge.app.link.status().reconnectCount, 0);
        assert.equal(bridge.app.link.status().state, 'connected');
      }
      assert.doesNotMatch(b.log(), /already connected|session taken over/i);
      assert.equal(b.log().match(/New client connected from .* as twin-/g)?.length, 2);

      // The log check above can see a takeover: two clients with one fixed id kick each other.
      const id = pki.issueClient('spy');
      const dupOptions = {
        protocol: 'mqtts' as const,
        host: '127.0.0.1',
        port: b.port,
        protocolVersion: 5 as const,
        ca: readFileSync(pki.ca),
        cert: readFileSync(id.cert),
        key: readFileSync(id.key),
        reconnectPeriod: 0,
        clientId: 'fixed-duplicate',
      };
      const first = await mqtt.connectAsync(dupOptions);
      const second = await mqtt.connectAsync(dupOptions);
      await b.waitForLog(/Client fixed-duplicate already connected/, 3000);
      await first.endAsync(true);
      await second.endAsync(true);
    } finally {
      await spy.close();
      await one.close();
      await two.close();
    }
  });

  it('T-3.14 a 100 KB message above MQTT_MAX_PACKET_BYTES (16 KiB) is dropped by the broker: the bridge stays connected, stores nothing, and gets the next message', async () => {
    const b = await broker();
    const bridge = await startBridge(env(b, { MQTT_MAX_PACKET_BYTES: '16384', MQTT_SUBSCRIBE: 'plant/#' }));
    const spy = await connectSpy(b, pki);
    try {
      await connected(bridge);
      await waitFor(() => /Sending SUBACK to mcp-bridge-/.test(b.log()), 3000, 'subscribed');
      await spy.publish('plant/big', Buffer.alloc(100 * 1024, 'x'));
      await spy.publish('plant/small', 'after-big');
      const store = bridge.app.deps.store;
      await waitFor(
        () => store.latest('plant/small', { limit: 1, now: Date.now() }).messages[0],
        3000,
        'the small message after the big one',
      );
      await b.waitForLog(/Dropping too large outgoing PUBLISH/, 3000);
      assert.equal(store.latest('plant/big', { limit: 1, now: Date.now() }).matched, 0);
      assert.equal(bridge.app.link.connected, true);
      assert.equal(bridge.app.link.status().reconnectCount, 0);
      const read = await bridge.ok('mqtt_read_messages', { filter: 'plant/#' });
      assert.deepEqual(
        read.messages.map((m: { topic: string }) => m.topic),
        ['plant/small'],
      );
    } finally {
      await spy.close();
      await bridge.close();
    }
  });

  it('T-3.14 a message larger than STORE_MAX_PAYLOAD_BYTES (packet limit high) is stored cut, with its original size and truncated: true', async () => {
    const size = 100 * 1024;
    const keep = 1024;
    const b = await broker();
    const bridge = await startBridge(
      env(b, {
        MQTT_MAX_PACKET_BYTES: String(4 * 1024 * 1024),
        STORE_MAX_PAYLOAD_BYTES: String(keep),
        // Shown per message above what is stored: the cut seen in results is the store's.
        MCP_RESULT_PAYLOAD_BYTES: '8192',
        MQTT_SUBSCRIBE: 'plant/#',
      }),
    );
    const spy = await connectSpy(b, pki);
    try {
      await connected(bridge);
      await waitFor(() => /Sending SUBACK to mcp-bridge-/.test(b.log()), 3000, 'subscribed');
      await spy.publish('plant/big', Buffer.alloc(size, 'y'));
      const store = bridge.app.deps.store;
      const stored = await waitFor(
        () => store.latest('plant/big', { limit: 1, now: Date.now() }).messages[0],
        3000,
        'the big message stored',
      );
      assert.equal(stored.sizeBytes, size);
      assert.equal(stored.payload.byteLength, keep);
      assert.ok(store.stats(Date.now()).bytes < size, 'the store holds the cut payload only');

      for (const tool of ['mqtt_read_messages', 'mqtt_get_latest']) {
        const result = await bridge.ok(tool, { filter: 'plant/big' });
        const [message] = result.messages as Array<{
          sizeBytes: number;
          truncated: boolean;
          payload: string;
        }>;
        assert.ok(message, `${tool} returned the message`);
        assert.equal(message.sizeBytes, size, tool);
        assert.equal(message.truncated, true, tool);
        assert.equal(message.payload, 'y'.repeat(keep), tool);
      }
      const status = await bridge.ok('mqtt_status');
      assert.equal(status.store.truncatedOnArrival, 1);
      const topics = await bridge.ok('mqtt_list_topics', { filter: 'plant/#' });
      assert.equal(topics.topics[0].lastSizeBytes, size);
      assert.equal(bridge.app.link.status().reconnectCount, 0);
    } finally {
      await spy.close();
      await bridge.close();
    }
  });

  it('T-4.3 SIGHUP to the broker during a session: the bridge stays connected (no reconnect) and keeps working', async () => {
    const b = await broker();
    const bridge = await startBridge(env(b, { MQTT_SUBSCRIBE: 'plant/#' }));
    const spy = await connectSpy(b, pki, ['plant/#']);
    try {
      await connected(bridge);
      b.signal('SIGHUP');
      await b.waitForLog(/Reloading config/, 3000);
      await sleep(1500);
      assert.equal(bridge.app.link.connected, true);
      assert.equal(bridge.app.link.status().reconnectCount, 0);
      assert.doesNotMatch(bridge.logs.text(), /connection to broker lost/);
      const ok = await bridge.ok('mqtt_publish', { topic: 'plant/hup', payload: 'after-hup', qos: 1 });
      assert.equal(ok.delivery, 'acknowledged');
      await waitFor(() => spy.received.find((m) => m.payload === 'after-hup'), 3000, 'publish after HUP');
      await spy.publish('plant/hup-in', 'inbound');
      await waitFor(
        () => bridge.app.deps.store.latest('plant/hup-in', { limit: 1, now: Date.now() }).messages[0],
        3000,
        'inbound message after HUP',
      );
    } finally {
      await spy.close();
      await bridge.close();
    }
  });

  // Mosquitto 2.0 (verified with 2.0.11) grants the SUBACK for a filter its ACL does not let the
  // client read, and then delivers nothing from it: the bridge cannot tell such a subscription
  // from a quiet topic, so mqtt_subscribe reports it as added. What must hold either way: nothing
  // from the denied topic reaches the store, and the rest of the collection keeps working.
  it('T-3.12 subscribing to a topic the broker ACL denies: Mosquitto 2.0 grants the SUBACK, and nothing from that topic reaches the store', async () => {
    const b = await broker();
    // The bridge policy allows secret/#; the broker ACL (DEFAULT_ACL) does not.
    const bridge = await startBridge(
      env(b, { MCP_READ_TOPICS: 'plant/#,secret/#', MQTT_SUBSCRIBE: 'plant/#' }),
    );
    const spy = await connectSpy(b, pki, ['secret/#']);
    try {
      await connected(bridge);
      const result = await bridge.call('mqtt_subscribe', { filter: 'secret/#' });
      const listed = bridge.app.deps.subscriptions.list('stdio').filters.some((s) => s.filter === 'secret/#');
      if (result.isError === true) {
        // A broker that refuses it (reason 135) must be reported, and nothing kept.
        assert.match(textOf(result), /^NOT_AUTHORIZED: /);
        assert.equal(listed, false);
      } else {
        assert.equal((result.structuredContent as { added: boolean }).added, true);
        assert.equal(listed, true);
      }
      await b.waitForLog(/mcp-bridge-[0-9a-f]+ 1 secret\/#/, 3000); // the broker's subscription line
      await spy.publish('secret/door', 'code-1234');
      await spy.publish('plant/after', 'visible');
      // The spy (allowed to read secret/#) got it, so it was published...
      await waitFor(() => spy.received.find((m) => m.topic === 'secret/door'), 3000, 'spy sees secret');
      // ...and the bridge got the message published after it, so delivery to it works.
      const store = bridge.app.deps.store;
      await waitFor(
        () => store.latest('plant/after', { limit: 1, now: Date.now() }).messages[0],
        3000,
        'plant message after the secret one',
      );
      await sleep(300);
      assert.equal(store.latest('secret/#', { limit: 10, now: Date.now() }).matched, 0);
      assert.equal(store.stats(Date.now()).dropped.policy, 0, 'the broker, not the bridge, withheld it');
      const read = await bridge.ok('mqtt_read_messages', { filter: 'secret/#' });
      assert.equal(read.count, 0);
      assert.equal(bridge.app.link.connected, true);
    } finally {
      await spy.close();
      await bridge.close();
    }
  });
});
