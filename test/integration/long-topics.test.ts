/**
 * Result budgets count whole messages, topic names included (issue 11, finding 6): a device
 * publisher that shapes long topics cannot make mqtt_get_latest, mqtt_read_messages or
 * mqtt_list_topics return megabytes. Against a real Mosquitto over mutual TLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

const BUDGET = 32_768;
const TOPICS = 30;

let pki: Pki;
let broker: Broker;
let spy: Spy;
let bridge: TestBridge;

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki);
  bridge = await startBridge(bridgeEnv(broker, pki, { MCP_RESULT_MAX_BYTES: String(BUDGET) }));
  await waitFor(() => bridge.app.link.grantedAt('plant/#'), 5000, 'the SUBACK');
  const long = 'x'.repeat(60_000);
  for (let i = 0; i < TOPICS; i++) await spy.publish(`plant/long/${i}/${long}`, String(i));
  await waitFor(() => bridge.app.deps.store.stats(Date.now()).topics >= TOPICS, 10_000, 'the long topics');
});
after(async () => {
  await bridge?.close();
  await spy?.close();
  await broker?.stop();
});

describe('long topics and the result budget', () => {
  for (const [tool, args, list] of [
    ['mqtt_get_latest', { filter: 'plant/long/#', limit: 500 }, 'messages'],
    ['mqtt_read_messages', { filter: 'plant/long/#', limit: 200 }, 'messages'],
    ['mqtt_list_topics', { filter: 'plant/long/#', limit: 1000 }, 'topics'],
  ] as const) {
    it(`${tool} stays within the budget and says what it left out`, async () => {
      const result = await bridge.ok(tool, args);
      const bytes = JSON.stringify(result).length;
      // The first entry is always shown; the budget bounds the rest.
      assert.ok(bytes <= BUDGET + 62_000, `${tool} returned ${bytes} bytes`);
      assert.ok(result[list].length < TOPICS);
      assert.equal(result.more, true);
      assert.equal(result.omitted + result[list].length, TOPICS);
    });
  }
});
