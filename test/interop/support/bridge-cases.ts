/**
 * The interoperability cases through the bridge, for one broker: in-process with a real MCP
 * Client (test/helpers/bridge.ts), and the built server for the clean exit.
 */
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { sleep, waitFor } from '../../helpers/broker.js';
import { startBridge, type TestBridge } from '../../helpers/bridge.js';
import { exitCleanly } from './clean-exit.js';
import { FACTS } from './facts.js';
import {
  PROTOCOL_VERSION,
  connectSpy,
  interopEnv,
  uniquePrefix,
  type BrokerKey,
  type InteropBroker,
} from './kit.js';

/** Bridge behaviour a case needs that the bridge does not have yet (a node:test todo); none now. */
const NEEDS = {
  silentClose: false,
  auto: false,
  closedOnPublish: false,
  noReasonCode: false,
  certRequired: false,
  silentCertRefusal: false,
  replayDedup: false,
  websockets: false,
} as const;

/** `broker` returns the started broker (once the suite's before hook ran). */
export function bridgeCases(key: BrokerKey, started: () => InteropBroker): void {
  const facts = FACTS[key];
  const version = PROTOCOL_VERSION[key];
  let broker: InteropBroker;
  before(() => {
    broker = started();
  });
  const bridges: TestBridge[] = [];
  /** A started bridge against the broker, closed after the test. */
  const bridge = async (extra: Record<string, string> = {}): Promise<TestBridge> => {
    const b = await startBridge(interopEnv(broker, extra));
    bridges.push(b);
    return b;
  };
  const connected = (b: TestBridge) => waitFor(() => b.app.link.connected, 10_000, 'connected');
  const lastError = (b: TestBridge) =>
    waitFor(() => b.app.link.status().lastError, 10_000, 'a connection error recorded');

  describe('through the bridge', () => {
    afterEach(async () => {
      for (let b = bridges.pop(); b !== undefined; b = bridges.pop()) await b.close();
    });
    const mqtt5Accepted = facts.mqtt5Connect === 'CONNACK, accepted';
    const mqtt5Silent = facts.mqtt5Connect.startsWith('socket closed');

    it(
      'default settings (MQTT 5): connects, or says why not and what to set',
      { todo: mqtt5Silent && NEEDS.silentClose },
      async () => {
        const env = interopEnv(broker);
        delete env.MQTT_PROTOCOL_VERSION;
        const b = await startBridge(env);
        bridges.push(b);
        if (mqtt5Accepted) {
          await connected(b);
          assert.equal((await b.ok('mqtt_status')).connection.protocolVersion, 5);
          return;
        }
        const error = await lastError(b);
        assert.notEqual(b.app.link.status().state, 'connected');
        assert.match(error.message, /MQTT 5/);
        assert.match(error.message, /MQTT_PROTOCOL_VERSION=4/);
        const status = await b.ok('mqtt_status');
        assert.equal(status.connection.lastError.code, error.code);
        assert.ok(
          b.logs.lines.some((l) => l.includes(`"code":"${error.code}"`)),
          'the error is logged',
        );
      },
    );

    it(`MQTT_PROTOCOL_VERSION=${version}: connects`, async () => {
      const b = await bridge();
      await connected(b);
      const status = await b.ok('mqtt_status');
      assert.equal(status.connection.protocolVersion, version);
      assert.equal(status.connection.lastError, undefined);
    });

    it(
      'MQTT_PROTOCOL_VERSION=auto: connects, falling back to 3.1.1 only when refused, and says so',
      { todo: NEEDS.auto },
      async () => {
        const b = await bridge({ MQTT_PROTOCOL_VERSION: 'auto' });
        await connected(b);
        const status = await b.ok('mqtt_status');
        assert.equal(status.connection.protocolVersion, mqtt5Accepted ? 5 : 4);
        if (!mqtt5Accepted) {
          assert.match(JSON.stringify(status), /3\.1\.1/);
          assert.match(JSON.stringify(status), /cannot report/);
          assert.ok(
            b.logs.lines.some((l) => /fall(s|ing)? back|fell back/i.test(l)),
            'the fallback is logged',
          );
        }
      },
    );

    it('collects in the background: mqtt_read_messages and mqtt_get_latest', async () => {
      const p = uniquePrefix('collect');
      const b = await bridge();
      await connected(b);
      await waitFor(() => b.app.link.queueDepth().outgoing === 0, 5000, 'SUBACK');
      const spy = await connectSpy(broker);
      try {
        await spy.publish(`${p}/temp`, '21.5');
        await spy.publish(`${p}/temp`, '21.7');
        const read = await pollUntil(
          () => b.ok('mqtt_read_messages', { filter: `${p}/#` }),
          (r) => r.count === 2,
        );
        assert.deepEqual(
          read.messages.map((m: { payload: unknown }) => String(m.payload)),
          ['21.7', '21.5'],
        );
        assert.equal(read.coverage, 'full');
        const latest = await b.ok('mqtt_get_latest', { filter: `${p}/#` });
        assert.deepEqual(
          latest.messages.map((m: { payload: unknown }) => String(m.payload)),
          ['21.7'],
        );
        assert.equal(latest.messages[0].retain, undefined);
      } finally {
        await spy.close();
      }
    });

    it(
      'retained values: replayed to the bridge where the broker does, and never counted twice',
      { todo: facts.overlapping === 'sent again' && NEEDS.replayDedup },
      async () => {
        const p = uniquePrefix('retained');
        const spy = await connectSpy(broker);
        try {
          await spy.publish(`${p}/level`, '7', { retain: true });
          await sleep(200);
          const b = await bridge();
          await connected(b);
          const replayedOnWildcard = facts.retained === 'replayed on subscribe';
          if (replayedOnWildcard) {
            const latest = await pollUntil(
              () => b.ok('mqtt_get_latest', { filter: `${p}/#` }),
              (r) => r.count === 1,
            );
            assert.equal(latest.messages[0].retain, true);
            assert.equal(String(latest.messages[0].payload), '7');
          } else {
            // The bridge collects plant/#: a broker that replays only on exact topics sends nothing.
            await sleep(1000);
            assert.equal((await b.ok('mqtt_get_latest', { filter: `${p}/#` })).count, 0);
          }
          // A redundant subscription (already collected by plant/#) must not make a new message of a replay.
          const added = await b.ok('mqtt_subscribe', { filter: `${p}/+` });
          assert.equal(added.added, true);
          await sleep(1000);
          const read = await b.ok('mqtt_read_messages', { filter: `${p}/#` });
          assert.equal(read.count, replayedOnWildcard ? 1 : 0, JSON.stringify(read.messages));
          await spy.publish(`${p}/level`, '', { retain: true });
        } finally {
          await spy.close();
        }
      },
    );

    it('wildcards: + and # in reads, and in a subscription made by the agent', async () => {
      const p = uniquePrefix('wild');
      const b = await bridge({ MQTT_SUBSCRIBE: `${p}/nothing` });
      await connected(b);
      const sub = await b.ok('mqtt_subscribe', { filter: `${p}/+/temp` });
      assert.equal(sub.connected, true);
      await waitFor(() => b.app.link.queueDepth().outgoing === 0, 5000, 'SUBACK');
      const spy = await connectSpy(broker);
      try {
        for (const [topic, value] of [
          ['line1/temp', '20'],
          ['line2/temp', '21'],
          ['line1/pump/state', 'on'],
        ] as const)
          await spy.publish(`${p}/${topic}`, value);
        const temps = await pollUntil(
          () => b.ok('mqtt_get_latest', { filter: `${p}/+/temp` }),
          (r) => r.count === 2,
        );
        assert.deepEqual(temps.messages.map((m: { topic: string }) => m.topic).sort(), [
          `${p}/line1/temp`,
          `${p}/line2/temp`,
        ]);
        await sleep(300);
        // Not subscribed: the broker's wildcard matching did not over-deliver.
        assert.equal((await b.ok('mqtt_read_messages', { filter: `${p}/line1/#` })).count, 1);
        await b.ok('mqtt_subscribe', { filter: `${p}/#` });
        await waitFor(() => b.app.link.queueDepth().outgoing === 0, 5000, 'SUBACK');
        await spy.publish(`${p}/line1/pump/state`, 'off');
        const line1 = await pollUntil(
          () => b.ok('mqtt_read_messages', { filter: `${p}/line1/#` }),
          (r) => r.count === 2,
        );
        assert.deepEqual(
          line1.messages.map((m: { payload: unknown }) => String(m.payload)),
          ['off', '20'],
        );
      } finally {
        await spy.close();
      }
    });

    it('mqtt_list_topics lists what was collected', async () => {
      const p = uniquePrefix('list');
      const b = await bridge();
      await connected(b);
      await waitFor(() => b.app.link.queueDepth().outgoing === 0, 5000, 'SUBACK');
      const spy = await connectSpy(broker);
      try {
        for (const t of ['a/x', 'a/y', 'b/x']) await spy.publish(`${p}/${t}`, t);
        const list = await pollUntil(
          () => b.ok('mqtt_list_topics', { filter: `${p}/#` }),
          (r) => r.matched === 3,
        );
        assert.deepEqual(list.topics.map((t: { topic: string }) => t.topic).sort(), [
          `${p}/a/x`,
          `${p}/a/y`,
          `${p}/b/x`,
        ]);
        assert.equal((await b.ok('mqtt_list_topics', { filter: `${p}/+/x` })).matched, 2);
      } finally {
        await spy.close();
      }
    });

    it('mqtt_wait_for_messages returns a live message, not a retained replay', async () => {
      const p = uniquePrefix('live');
      const spy = await connectSpy(broker);
      try {
        await spy.publish(`${p}/state`, 'old', { retain: true });
        const b = await bridge();
        await connected(b);
        const waiting = b.ok('mqtt_wait_for_messages', { filter: `${p}/#`, count: 1, timeoutMs: 8000 });
        await sleep(1000);
        await spy.publish(`${p}/state`, 'new');
        const result = await waiting;
        assert.equal(result.timedOut, false);
        assert.deepEqual(
          result.messages.map((m: { payload: unknown }) => String(m.payload)),
          ['new'],
        );
        await spy.publish(`${p}/state`, '', { retain: true });
      } finally {
        await spy.close();
      }
    });

    it('mqtt_publish: acknowledged at QoS 1, sent at QoS 0, retained kept, and received', async () => {
      const p = uniquePrefix('publish');
      const spy = await connectSpy(broker, [`${p}/#`]);
      const b = await bridge();
      try {
        await connected(b);
        const ok = await b.ok('mqtt_publish', { topic: `${p}/cmd`, payload: 'ON' });
        assert.equal(ok.delivery, 'acknowledged');
        const fire = await b.ok('mqtt_publish', { topic: `${p}/cmd`, payload: 'AGAIN', qos: 0 });
        assert.equal(fire.delivery, 'sent');
        assert.equal(fire.reasonCode, undefined);
        await b.ok('mqtt_publish', { topic: `${p}/setpoint`, payload: '42', retain: true });
        await waitFor(() => spy.received.length >= 3, 5000, 'three messages at the spy');
        assert.deepEqual(spy.received.map((m) => m.payload).sort(), ['42', 'AGAIN', 'ON']);
        if (facts.retained !== 'not kept') {
          const later = await connectSpy(broker, [`${p}/setpoint`]);
          try {
            await waitFor(() => later.received[0], 3000, 'the retained value');
            assert.equal(later.received[0]?.payload, '42');
          } finally {
            await later.close();
          }
        }
        await b.ok('mqtt_publish', { topic: `${p}/setpoint`, payload: '', retain: true });
      } finally {
        await spy.close();
      }
    });

    it(
      'mqtt_publish under MQTT 3.1.1 carries no reasonCode (its PUBACK has none)',
      { skip: version === 5 && 'used with MQTT 5', todo: NEEDS.noReasonCode },
      async () => {
        const b = await bridge();
        await connected(b);
        const ok = await b.ok('mqtt_publish', { topic: `${uniquePrefix('rc')}/cmd`, payload: 'ON' });
        assert.equal(ok.delivery, 'acknowledged');
        assert.equal('reasonCode' in ok, false, JSON.stringify(ok));
      },
    );

    const closes = facts.refusedPublish.startsWith('connection closed');
    it(
      `a publish the broker refuses (${facts.refusedPublish}) is reported as what it is`,
      { todo: closes && NEEDS.closedOnPublish },
      async () => {
        const b = await bridge();
        await connected(b);
        const call = await b.call('mqtt_publish', { topic: 'secret/door', payload: 'unlock' });
        const text = call.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
        if (facts.refusedPublish === 'PUBACK with reason code 135') {
          assert.equal(call.isError, true);
          assert.match(text, /^NOT_AUTHORIZED: .*not authorized \(reason code 135\)/);
        } else if (facts.refusedPublish === 'PUBACK, message dropped') {
          assert.equal(call.isError, undefined, text);
          assert.match(text, /MQTT 3\.1\.1 cannot report an ACL refusal/);
        } else {
          assert.equal(call.isError, true);
          assert.match(text, /the broker closed the connection/);
          assert.match(text, /refuse/);
          const status = await b.ok('mqtt_status');
          assert.match(status.connection.lastError?.message ?? '', /closed the connection/);
        }
      },
    );

    it('after a refused publish the bridge is connected again and publishes', async () => {
      const p = uniquePrefix('after-refusal');
      const b = await bridge();
      await connected(b);
      await b.call('mqtt_publish', { topic: 'secret/door', payload: 'unlock' });
      await connected(b);
      const spy = await connectSpy(broker, [`${p}/#`]);
      try {
        const ok = await b.ok('mqtt_publish', { topic: `${p}/cmd`, payload: 'ON' });
        assert.equal(ok.delivery, 'acknowledged');
        await waitFor(() => spy.received.find((m) => m.payload === 'ON'), 5000, 'the publish');
      } finally {
        await spy.close();
      }
    });

    it(
      'no client certificate configured: "a client certificate is required"',
      { todo: facts.noClientCert !== 'TLS alert "certificate required"' && NEEDS.certRequired },
      async () => {
        const b = await bridge({ MQTT_CERT_FILE: '', MQTT_KEY_FILE: '' });
        const error = await lastError(b);
        assert.notEqual(b.app.link.status().state, 'connected');
        assert.match(error.message, /client certificate is required|requires a client certificate/);
        assert.doesNotMatch(error.message, /rejected our client certificate/);
      },
    );

    const silentCa = facts.unknownCa.startsWith('socket closed');
    it(
      'a client certificate from an unknown CA: refused and explained',
      { todo: silentCa && NEEDS.silentCertRefusal },
      async () => {
        const b = await bridge({
          MQTT_CERT_FILE: broker.pki.foreignCert,
          MQTT_KEY_FILE: broker.pki.foreignKey,
        });
        const error = await lastError(b);
        assert.notEqual(b.app.link.status().state, 'connected');
        if (facts.unknownCa === 'TLS alert "unknown CA"') {
          assert.equal(error.code, 'CLIENT_CERT_REJECTED');
          assert.match(error.message, /unknown CA/);
        } else if (silentCa) {
          assert.match(error.message, /may have rejected our client certificate without saying so/);
        } else {
          assert.equal(error.code, 'CLIENT_CERT_REJECTED');
        }
      },
    );

    it('broker restart: publishes while down fail at once, nothing is replayed, collection resumes', async () => {
      const p = uniquePrefix('restart');
      const b = await bridge({ MQTT_RECONNECT_MAX_MS: '500' });
      await connected(b);
      await waitFor(() => b.app.link.queueDepth().outgoing === 0, 5000, 'SUBACK');
      await broker.stop();
      await waitFor(() => !b.app.link.connected, 10_000, 'disconnected');
      for (let i = 0; i < 5; i++) {
        const text = await b.fails('mqtt_publish', {
          topic: `${p}/cmd`,
          payload: `stale-${i}`,
          qos: 1,
          retain: true,
        });
        assert.match(text, /^BROKER_UNAVAILABLE/);
      }
      assert.deepEqual(b.app.link.queueDepth(), { queued: 0, outgoing: 0, pending: 0 });
      await broker.start();
      await waitFor(() => b.app.link.connected, 15_000, 'reconnected');
      const spy = await connectSpy(broker, [`${p}/#`, `${p}/cmd`]);
      try {
        await sleep(1000);
        assert.deepEqual(
          spy.received.filter((m) => m.payload.startsWith('stale-')),
          [],
          'a stale publish was replayed',
        );
        await waitFor(() => b.app.link.queueDepth().outgoing === 0, 5000, 'renewed SUBACK');
        await spy.publish(`${p}/level`, 'after');
        await pollUntil(
          () => b.ok('mqtt_read_messages', { filter: `${p}/#` }),
          (r) => r.count === 1,
        );
      } finally {
        await spy.close();
      }
    });

    it(
      'a wss:// broker URL: MQTT over WebSockets with the same mutual TLS',
      {
        skip: key.startsWith('mosquitto') ? false : 'no WebSocket listener set up',
        todo: NEEDS.websockets,
      },
      async () => {
        const p = uniquePrefix('wss');
        const b = await bridge({ MQTT_URL: broker.wssUrl ?? '' });
        await connected(b);
        const status = await b.ok('mqtt_status');
        assert.match(status.connection.brokerUrl, /^wss:\/\/127\.0\.0\.1:\d+/);
        assert.equal(status.connection.tlsVerification, 'on');
        const spy = await connectSpy(broker, [`${p}/#`]);
        try {
          await b.ok('mqtt_publish', { topic: `${p}/cmd`, payload: 'ON' });
          await waitFor(() => spy.received.find((m) => m.payload === 'ON'), 5000, 'the publish over wss');
          await spy.publish(`${p}/temp`, '20');
          await pollUntil(
            () => b.ok('mqtt_read_messages', { filter: `${p}/#` }),
            (r) => r.count === 1,
          );
        } finally {
          await spy.close();
        }
        const refused = await bridge({
          MQTT_URL: broker.wssUrl ?? '',
          MQTT_CERT_FILE: broker.pki.foreignCert,
          MQTT_KEY_FILE: broker.pki.foreignKey,
        });
        assert.equal((await lastError(refused)).code, 'CLIENT_CERT_REJECTED');
      },
    );

    it('the built server exits cleanly on SIGTERM, with a DISCONNECT to the broker', async () => {
      const { code, stderr, clientId } = await exitCleanly(interopEnv(broker));
      assert.equal(code, 0, stderr.slice(-3000));
      assert.match(stderr, /"clean":true,"msg":"disconnected from broker"/);
      const pattern = broker.cleanDisconnectLog?.(clientId);
      if (pattern !== undefined)
        await waitFor(() => pattern.test(broker.log()), 5000, `broker log ${pattern}`);
    });
  });
}

/** Call `read` until `check` accepts its result. */
async function pollUntil<T>(
  read: () => Promise<T>,
  check: (result: T) => boolean,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await read();
    if (check(result)) return result;
    if (Date.now() > deadline) throw new Error(`never satisfied: ${JSON.stringify(result).slice(0, 800)}`);
    await sleep(100);
  }
}
