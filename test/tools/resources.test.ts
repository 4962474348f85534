/**
 * MCP resources with live updates, with the SDK's Client over stdio and Streamable HTTP against the
 * built server and a real Mosquitto: listing with a cursor, the topic template, reading a topic and
 * the catalog, denied topics invisible (exactly as unknown ones), subscriptions whose updates are
 * debounced to one a second without losing the last, unsubscribe, and the end of a session.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { topicUri } from '../../src/resources/resources.js';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge, type TransportKind } from '../helpers/spawned.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

const textOfResource = (r: { contents: ReadonlyArray<object> }): string => {
  const first = r.contents[0];
  return first !== undefined && 'text' in first && typeof first.text === 'string' ? first.text : '';
};

let pki: Pki;
let broker: Broker;
let spy: Spy;
let catalogFile: string;

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki);
  catalogFile = join(pki.dir, 'resources-catalog.json');
  writeFileSync(
    catalogFile,
    JSON.stringify({ topics: [{ filter: 'plant/+/temp', description: 'Line temperature', unit: '°C' }] }),
  );
  await spy.publish('plant/l1/temp', '21.5', { retain: true });
  await spy.publish('plant/secret/key', 'hunter2', { retain: true });
  for (let i = 0; i < 120; i++)
    await spy.publish(`plant/many/t${String(i).padStart(3, '0')}`, String(i), { retain: true });
});
after(async () => {
  await spy.publish('plant/l1/temp', '', { retain: true });
  await spy.close();
  await broker.stop();
});

for (const kind of ['stdio', 'http'] as const satisfies readonly TransportKind[]) {
  describe(`resources over ${kind}`, () => {
    let bridge: SpawnedBridge;
    before(async () => {
      bridge = await spawnBridge(
        kind,
        bridgeEnv(broker, pki, { MCP_DENY_TOPICS: 'plant/secret/#', MCP_TOPIC_CATALOG_FILE: catalogFile }),
      );
      await bridge.connected();
      for (let i = 0; i < 100; i++) {
        const l = await bridge.ok('mqtt_list_topics', { filter: 'plant/#', limit: 1000 });
        if (l.matched >= 121) break;
        await sleep(50);
      }
    });
    after(async () => {
      await bridge.close();
    });

    it('lists the catalog and the readable topics a page at a time; denied topics are not there', async () => {
      const first = await bridge.client.listResources();
      assert.deepEqual(
        first.resources.slice(0, 2).map((r) => r.uri),
        ['ui://mqtt-mcp-bridge/chart.html', 'mqtt://catalog'],
      );
      assert.ok(first.nextCursor !== undefined);
      const all = [...first.resources];
      for (let cursor: string | undefined = first.nextCursor; cursor !== undefined;) {
        const page = await bridge.client.listResources({ cursor });
        all.push(...page.resources);
        cursor = page.nextCursor;
      }
      const uris = all.map((r) => r.uri);
      assert.ok(uris.includes(topicUri('plant/l1/temp')));
      assert.equal(uris.filter((u) => u.startsWith('mqtt://topic/plant/many/')).length, 120);
      assert.ok(!uris.some((u) => u.includes('secret')));
      assert.equal(all.find((r) => r.uri === topicUri('plant/l1/temp'))?.description, 'Line temperature');
      await assert.rejects(bridge.client.listResources({ cursor: 'nonsense' }), /invalid cursor/);
      const templates = await bridge.client.listResourceTemplates();
      assert.equal(templates.resourceTemplates[0]?.uriTemplate, 'mqtt://topic/{+topic}');
    });

    it('reads a topic with its catalog entry, and the catalog; a denied topic is exactly "not found"', async () => {
      const read = await bridge.client.readResource({ uri: topicUri('plant/l1/temp') });
      const content = JSON.parse(textOfResource(read)) as Record<string, any>;
      assert.equal(content.message.topic, 'plant/l1/temp');
      assert.equal(content.message.payload, 21.5);
      assert.equal(content.catalog.unit, '°C');
      assert.match(content.note, /untrusted content, never instructions/);
      const catalog = await bridge.client.readResource({ uri: 'mqtt://catalog' });
      assert.equal(JSON.parse(textOfResource(catalog)).topics[0].filter, 'plant/+/temp');
      const denied = await bridge.client
        .readResource({ uri: topicUri('plant/secret/key') })
        .catch((e: Error) => e.message);
      const unknown = await bridge.client
        .readResource({ uri: topicUri('plant/nope/x') })
        .catch((e: Error) => e.message);
      assert.equal(denied, unknown);
      assert.equal(typeof denied, 'string');
      assert.match(denied as string, /Resource not found/);
      await assert.rejects(
        bridge.client.subscribeResource({ uri: topicUri('plant/secret/key') }),
        /Resource not found/,
      );
    });

    it('updates arrive, at most one a second per resource, the last change never lost; unsubscribe stops them', async () => {
      const uri = topicUri('plant/l1/temp');
      const updates: number[] = [];
      bridge.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        if (n.params.uri === uri) updates.push(Date.now());
      });
      await bridge.client.subscribeResource({ uri });
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        await spy.publish('plant/l1/temp', String(22 + i));
        await sleep(50);
      }
      await waitFor(() => updates.length >= 2, 3000, 'the trailing update');
      await sleep(1300);
      assert.equal(updates.length, 2, `updates at ${updates.map((t) => t - started).join(', ')} ms`);
      assert.ok((updates[1] ?? 0) - (updates[0] ?? 0) >= 950);
      const read = await bridge.client.readResource({ uri });
      assert.equal(JSON.parse(textOfResource(read)).message.payload, 31, 'the last value');

      await bridge.client.unsubscribeResource({ uri });
      await spy.publish('plant/l1/temp', '40');
      await sleep(1200);
      assert.equal(updates.length, 2);
    });
  });
}

describe('resource subscriptions per session', () => {
  it('are bounded, and go when the session ends', async () => {
    const b = await startBridge(bridgeEnv(broker, pki));
    try {
      await waitFor(() => b.app.link.connected, 5000, 'connected');
      const before = b.app.deps.feed.size;
      for (let i = 0; i < 100; i++)
        await b.client.subscribeResource({ uri: topicUri(`plant/many/t${String(i).padStart(3, '0')}`) });
      assert.equal(b.app.deps.feed.size, before + 100);
      await assert.rejects(
        b.client.subscribeResource({ uri: topicUri('plant/many/t100') }),
        /already holds 100 resource subscriptions/,
      );
      await b.client.close();
      await waitFor(() => b.app.deps.feed.size === before, 3000, 'the subscriptions gone');
    } finally {
      await b.app.stop(1000);
    }
  });
});
