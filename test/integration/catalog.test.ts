/**
 * The topic catalog against a real Mosquitto over mutual TLS: reads carry each topic's description
 * and unit once per topic; a publish outside the entry's schema is PAYLOAD_INVALID and sends
 * nothing; one inside goes out; publish.confirm asks the user; the policy still wins over the
 * catalog; a bad catalog stops the start with every problem; SIGHUP reloads it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { createServer } from '../../src/server.js';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { pollTool, spawnBridge } from '../helpers/spawned.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
let spy: Spy;
let catalogFile: string;
const bridges: TestBridge[] = [];

const CATALOG = {
  topics: [
    { filter: 'plant/+/temp', description: 'Line temperature', unit: '°C' },
    {
      filter: 'plant/+/speed/set',
      description: 'Line speed',
      unit: 'rpm',
      publish: { schema: { type: 'number', minimum: 0, maximum: 60 } },
    },
    { filter: 'plant/+/valve/set', publish: { schema: { enum: ['open', 'closed'] }, confirm: true } },
    { filter: 'office/door/set', description: 'Not writable by the policy', publish: { schema: {} } },
  ],
};

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki, ['plant/#']);
  catalogFile = join(pki.dir, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(CATALOG));
});
after(async () => {
  for (const b of bridges) await b.close();
  await spy.close();
  await broker.stop();
});

async function bridge(extra: Record<string, string> = {}): Promise<TestBridge> {
  const b = await startBridge(
    bridgeEnv(broker, pki, {
      MCP_TOPIC_CATALOG_FILE: catalogFile,
      MCP_WRITE_TOPICS: 'plant/+/speed/set,plant/+/valve/set',
      ...extra,
    }),
  );
  bridges.push(b);
  await waitFor(() => b.app.link.grantedAt('plant/#'), 5000, 'the SUBACK');
  return b;
}

describe('the catalog in reads', () => {
  it('each topic shown carries its description and unit once; listings per topic', async () => {
    const b = await bridge();
    await spy.publish('plant/l1/temp', '21.5');
    await spy.publish('plant/l1/temp', '21.7');
    await spy.publish('plant/l1/other', 'x');
    await waitFor(() => b.app.deps.store.stats(Date.now()).received >= 3, 5000, 'the messages');
    const read = await b.ok('mqtt_read_messages', { filter: 'plant/l1/#' });
    assert.equal(read.count, 3);
    assert.deepEqual(read.catalog, { 'plant/l1/temp': { description: 'Line temperature', unit: '°C' } });
    assert.equal(read.messages[0].description, undefined, 'not per message');
    const latest = await b.ok('mqtt_get_latest', { filter: 'plant/l1/other' });
    assert.equal(latest.catalog, undefined);
    const topics = await b.ok('mqtt_list_topics', { filter: 'plant/l1/#' });
    const temp = topics.topics.find((t: { topic: string }) => t.topic === 'plant/l1/temp');
    assert.equal(temp.unit, '°C');
    assert.equal(temp.description, 'Line temperature');
  });
});

describe('the catalog in publishes', () => {
  it('outside the schema: PAYLOAD_INVALID naming the constraint, and nothing reaches the broker', async () => {
    const b = await bridge();
    const before = spy.received.length;
    const text = await b.fails('mqtt_publish', { topic: 'plant/l2/speed/set', payload: 80 });
    assert.match(
      text,
      /^PAYLOAD_INVALID: the topic catalog \(MCP_TOPIC_CATALOG_FILE\) does not allow this value there: the payload must be <= 60 \(maximum\); nothing was sent$/,
    );
    assert.match(
      await b.fails('mqtt_publish', { topic: 'plant/l2/speed/set', payload: 'fast' }),
      /must be number/,
    );
    const ok = await b.ok('mqtt_publish', { topic: 'plant/l2/speed/set', payload: 42 });
    assert.equal(ok.delivery, 'acknowledged');
    await waitFor(() => spy.received.length > before, 3000, 'the publish');
    await sleep(200);
    assert.deepEqual(
      spy.received.slice(before).map((m) => `${m.topic}=${m.payload}`),
      ['plant/l2/speed/set=42'],
    );
    const audit = b.logs.lines.filter((l) => l.includes('"log":"audit"') && l.includes('plant/l2/speed/set'));
    assert.ok(audit.some((l) => l.includes('"result":"PAYLOAD_INVALID"')));
  });

  it('publish.confirm asks the user, with the topic and value shown', async () => {
    const b = await bridge();
    const client = new Client({ name: 'confirming', version: '1' }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(String(request.params.message));
      return { action: 'accept', content: { confirm: true } };
    });
    const server = createServer(b.app.deps);
    const [a, s] = InMemoryTransport.createLinkedPair();
    await server.connect(s);
    await client.connect(a);
    try {
      const result = await client.callTool({
        name: 'mqtt_publish',
        arguments: { topic: 'plant/l3/valve/set', payload: 'open' },
      });
      assert.equal(result.isError, undefined);
      assert.equal(asked.length, 1);
      assert.match(asked[0] ?? '', /plant\/l3\/valve\/set[\s\S]*\nopen\nSend it\?/);
      const refused = await client.callTool({
        name: 'mqtt_publish',
        arguments: { topic: 'plant/l3/valve/set', payload: 'ajar' },
      });
      assert.equal(refused.isError, true);
      assert.equal(asked.length, 1, 'a value outside the schema is refused before anyone is asked');
    } finally {
      await client.close();
    }
  });

  it('the policy wins: a catalog entry for a topic the policy does not allow changes nothing', async () => {
    const b = await bridge({ MCP_READ_TOPICS: 'plant/#,office/#', MQTT_SUBSCRIBE: 'plant/#' });
    assert.match(
      await b.fails('mqtt_publish', { topic: 'office/door/set', payload: 'open' }),
      /^POLICY_DENIED: the topic is outside the writable topics/,
    );
  });
});

describe('loading and reloading', () => {
  it('a bad catalog stops the start with every problem listed', () => {
    const bad = join(pki.dir, 'bad-catalog.yaml');
    writeFileSync(bad, 'topics:\n  - filter: "a/#/b"\n  - filter: ok\n    unit: 3\n');
    assert.throws(
      () =>
        loadConfig({ MQTT_URL: 'mqtt://127.0.0.1:1', MCP_TOPIC_CATALOG_FILE: bad }, (p) => readFileSync(p)),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => /entry 1: filter/.test(p)) &&
        error.problems.some((p) => /entry 2 \(unit\)/.test(p)),
    );
    assert.throws(
      () =>
        loadConfig(
          { MQTT_URL: 'mqtt://127.0.0.1:1', MCP_TOPIC_CATALOG_FILE: join(pki.dir, 'none.json') },
          (p) => readFileSync(p),
        ),
      /MCP_TOPIC_CATALOG_FILE: cannot read .*none\.json \(no such file\)/,
    );
  });

  it('SIGHUP reads the catalog again (the built server)', async () => {
    const file = join(pki.dir, 'reloaded.json');
    writeFileSync(file, JSON.stringify({ topics: [{ filter: 'plant/+/temp', unit: 'K' }] }));
    const server = await spawnBridge('stdio', bridgeEnv(broker, pki, { MCP_TOPIC_CATALOG_FILE: file }));
    try {
      await server.connected();
      await spy.publish('plant/l9/temp', '300');
      await pollTool(server, 'mqtt_get_latest', { filter: 'plant/l9/temp' }, (r) => r.count > 0);
      assert.deepEqual((await server.ok('mqtt_get_latest', { filter: 'plant/l9/temp' })).catalog, {
        'plant/l9/temp': { unit: 'K' },
      });
      writeFileSync(file, JSON.stringify({ topics: [{ filter: 'plant/+/temp', unit: '°C' }] }));
      server.signal('SIGHUP');
      await waitFor(() => server.stderr().includes('topic catalog loaded'), 5000, 'the reload');
      assert.deepEqual((await server.ok('mqtt_get_latest', { filter: 'plant/l9/temp' })).catalog, {
        'plant/l9/temp': { unit: '°C' },
      });
    } finally {
      await server.close();
    }
  });
});
