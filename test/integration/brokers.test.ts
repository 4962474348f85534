/**
 * Several brokers (MQTT_BROKERS_FILE): two real Mosquitto brokers over mutual TLS, each with its
 * own CA and client certificate, reached by one bridge through the real MCP SDK Client. Publish
 * and read on each; policies never mix (a topic allowed on site is denied on cloud, though the
 * cloud broker's own ACL would allow it); an unknown broker name is refused with the configured
 * names; mqtt_status shows both; one broker down while the other works; history kept per broker.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brokerHistoryPath } from '../../src/broker-history.js';
import { Metrics } from '../../src/metrics.js';
import { topicUri } from '../../src/resources/resources.js';
import { startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { startBridge, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { SERVER, cleanEnv, pollTool, spawnBridge } from '../helpers/spawned.js';
import { configProblems, runToExit } from '../packaging/support.js';
import { connectSpy, type Spy } from '../helpers/spy.js';
import { startPostgres } from '../helpers/postgres.js';

// The cloud broker lets the bridge write plant/# too: only the bridge's policy keeps it out.
/** mqtt_status once every broker of a spawned bridge is connected. */
const allConnected = (bridge: Awaited<ReturnType<typeof spawnBridge>>) =>
  pollTool(
    bridge,
    'mqtt_status',
    {},
    (s) => s.brokers?.every((b: { state: string }) => b.state === 'connected') === true,
  );

const CLOUD_ACL = [
  'user mcp-bridge',
  'topic readwrite fleet/#',
  'topic readwrite plant/#',
  '',
  'user spy',
  'topic readwrite #',
  '',
].join('\n');

let sitePki: Pki;
let cloudPki: Pki;
let site: Broker;
let cloud: Broker;
let siteSpy: Spy;
let cloudSpy: Spy;
let bridge: TestBridge;
let dir: string;

before(async () => {
  sitePki = createPki();
  cloudPki = createPki();
  site = await startBroker({ pki: sitePki });
  cloud = await startBroker({ pki: cloudPki, acl: CLOUD_ACL });
  siteSpy = await connectSpy(site, sitePki, ['#']);
  cloudSpy = await connectSpy(cloud, cloudPki, ['#']);
  dir = mkdtempSync(join(tmpdir(), 'mqtt-brokers-'));
  const file = join(dir, 'brokers.json');
  writeFileSync(
    file,
    JSON.stringify({
      brokers: [
        {
          name: 'site',
          url: site.url,
          caFile: sitePki.ca,
          certFile: sitePki.clientCert,
          keyFile: sitePki.clientKey,
          read: ['plant/#'],
          write: ['plant/+/cmd'],
          subscribe: ['plant/#'],
        },
        {
          name: 'cloud',
          url: cloud.url,
          caFile: cloudPki.ca,
          certFile: cloudPki.clientCert,
          keyFile: cloudPki.clientKey,
          read: ['fleet/#'],
          write: ['fleet/+/cmd'],
        },
      ],
    }),
  );
  bridge = await startBridge({
    MQTT_BROKERS_FILE: file,
    HISTORY_PATH: join(dir, 'history.db'),
    HISTORY_FLUSH_MS: '50',
    MQTT_RECONNECT_MIN_MS: '200',
    MQTT_RECONNECT_MAX_MS: '1000',
    MQTT_PUBLISH_TIMEOUT_MS: '3000',
    MQTT_CONNECT_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'debug',
    MCP_PUBLISH_RATE_PER_MINUTE: '1000000',
    MCP_TOOL_RATE_PER_MINUTE: '1000000',
  });
  await waitFor(() => bridge.app.brokers.every((b) => b.link.connected), 5000, 'both brokers connected');
});

after(async () => {
  await bridge?.close();
  await siteSpy?.close();
  await cloudSpy?.close();
  await site?.stop();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('several brokers', () => {
  it('offers `broker` on every tool, one of the configured names', async () => {
    assert.match(bridge.client.getInstructions() ?? '', /It bridges 2 brokers: site, cloud\./);
    const { tools } = await bridge.client.listTools();
    for (const tool of tools) {
      const broker = (tool.inputSchema.properties as Record<string, { enum?: string[] }> | undefined)?.broker;
      assert.deepEqual(broker?.enum, ['site', 'cloud'], tool.name);
    }
  });

  it('publishes and reads on each broker, the first by default', async () => {
    await siteSpy.publish('plant/l1/temp', '21.5');
    await cloudSpy.publish('fleet/truck1/temp', '4.5');
    await waitFor(
      () => bridge.app.brokers.every((b) => b.store.stats(Date.now()).messages > 0),
      3000,
      'collected',
    );
    const onSite = await bridge.ok('mqtt_get_latest', { filter: 'plant/#' });
    assert.deepEqual(
      onSite.messages.map((m: { topic: string }) => m.topic),
      ['plant/l1/temp'],
    );
    const onCloud = await bridge.ok('mqtt_get_latest', { filter: 'fleet/#', broker: 'cloud' });
    assert.deepEqual(
      onCloud.messages.map((m: { topic: string }) => m.topic),
      ['fleet/truck1/temp'],
    );

    const seenOnCloud = cloudSpy.received.length;
    await bridge.ok('mqtt_publish', { broker: 'cloud', topic: 'fleet/truck1/cmd', payload: 'stop' });
    assert.match(bridge.logs.text(), /"event":"publish","principal":"stdio","broker":"cloud"/);
    await waitFor(() => cloudSpy.received.some((m) => m.topic === 'fleet/truck1/cmd'), 3000, 'on cloud');
    assert.ok(cloudSpy.received.length > seenOnCloud);
    assert.ok(!siteSpy.received.some((m) => m.topic === 'fleet/truck1/cmd'), 'nothing reached site');
    await bridge.ok('mqtt_publish', { topic: 'plant/l1/cmd', payload: 'start' });
    await waitFor(() => siteSpy.received.some((m) => m.topic === 'plant/l1/cmd'), 3000, 'on site');
    assert.ok(!cloudSpy.received.some((m) => m.topic === 'plant/l1/cmd'), 'nothing reached cloud');
  });

  it('keeps the policies apart: a topic allowed on site is denied on cloud', async () => {
    const denied = await bridge.fails('mqtt_publish', {
      broker: 'cloud',
      topic: 'plant/l1/cmd',
      payload: 'x',
    });
    assert.match(denied, /^POLICY_DENIED/);
    assert.match(
      await bridge.fails('mqtt_read_messages', { broker: 'cloud', filter: 'plant/#' }),
      /^POLICY_DENIED/,
    );
    assert.match(
      await bridge.fails('mqtt_subscribe', { broker: 'cloud', filter: 'plant/#' }),
      /^POLICY_DENIED/,
    );
    // And the other way round.
    assert.match(
      await bridge.fails('mqtt_publish', { topic: 'fleet/truck1/cmd', payload: 'x' }),
      /^POLICY_DENIED/,
    );
    // What the cloud broker carries on plant/# never reaches the bridge's cloud store.
    await cloudSpy.publish('plant/l9/temp', '99');
    await bridge.ok('mqtt_subscribe', { broker: 'cloud', filter: 'fleet/#' });
    await cloudSpy.publish('fleet/truck3/temp', '1');
    await waitFor(
      () => bridge.app.deps.brokers.get('cloud')!.store.stats(Date.now()).topics >= 2,
      3000,
      'fleet',
    );
    const topics = await bridge.ok('mqtt_list_topics', { broker: 'cloud', filter: 'fleet/#' });
    assert.ok(!JSON.stringify(topics).includes('plant/'), JSON.stringify(topics));
    assert.equal(
      bridge.app.deps.brokers.get('cloud')!.store.latest('plant/#', { limit: 10, now: Date.now() }).matched,
      0,
    );
    const status = await bridge.ok('mqtt_status', { broker: 'cloud' });
    assert.deepEqual(status.policy, { read: ['fleet/#'], write: ['fleet/+/cmd'], deny: [] });
  });

  it('refuses a broker the configuration does not name, listing the configured ones', async () => {
    const text = await bridge.fails('mqtt_status', { broker: 'attacker' });
    assert.match(text, /^INVALID_INPUT: invalid arguments: broker: .*"site".*"cloud"/);
    assert.ok(!text.includes('attacker'));
    assert.match(
      await bridge.fails('mqtt_publish', {
        broker: 'mqtts://evil:8883',
        topic: 'plant/l1/cmd',
        payload: 'x',
      }),
      /^INVALID_INPUT/,
    );
  });

  it('records history per broker, each in its own file under its own policy', async () => {
    await cloudSpy.publish('fleet/truck2/temp', '5.5');
    await siteSpy.publish('plant/l2/temp', '22');
    const [siteBroker, cloudBroker] = bridge.app.brokers;
    assert.equal(cloudBroker?.history?.path, brokerHistoryPath(join(dir, 'history.db'), 'cloud'));
    assert.equal(cloudBroker?.history?.path, join(dir, 'history.cloud.db'));
    await waitFor(
      async () => (await cloudBroker.history!.backend.range({ filter: '#', limit: 10 })).messages.length >= 2,
      5000,
      'cloud history',
    );
    await waitFor(
      async () => (await siteBroker!.history!.backend.range({ filter: '#', limit: 10 })).messages.length >= 2,
      5000,
      'site history',
    );
    const onCloud = await cloudBroker.history.backend.range({ filter: '#', limit: 10 });
    const onSite = await siteBroker!.history!.backend.range({ filter: '#', limit: 10 });
    assert.ok(
      onCloud.messages.every((m) => m.topic.startsWith('fleet/')),
      JSON.stringify(onCloud),
    );
    assert.ok(
      onSite.messages.every((m) => m.topic.startsWith('plant/')),
      JSON.stringify(onSite),
    );
    const status = await bridge.ok('mqtt_status', { broker: 'cloud' });
    assert.equal(status.history.path, join(dir, 'history.cloud.db'));
  });

  it('serves resources per broker: the first under mqtt://topic/, the others under mqtt://broker/{name}/', async () => {
    const { resourceTemplates } = await bridge.client.listResourceTemplates();
    assert.deepEqual(
      resourceTemplates.map((t) => t.uriTemplate),
      ['mqtt://topic/{+topic}', 'mqtt://broker/{broker}/topic/{+topic}'],
    );
    const { resources } = await bridge.client.listResources();
    const uris = resources.map((r) => r.uri);
    assert.ok(uris.includes(topicUri('plant/l1/temp')), JSON.stringify(uris));
    assert.ok(uris.includes('mqtt://broker/cloud/topic/fleet/truck1/temp'), JSON.stringify(uris));
    assert.ok(!uris.some((u) => u.startsWith('mqtt://broker/site/')));
    const read = await bridge.client.readResource({ uri: topicUri('fleet/truck1/temp', 'cloud') });
    assert.match(JSON.stringify(read.contents), /fleet\/truck1\/temp/);
    // Another broker's topic, an unknown broker and the first broker's long form: not found.
    for (const uri of [
      topicUri('plant/l1/temp', 'cloud'),
      'mqtt://broker/attacker/topic/fleet/truck1/temp',
      'mqtt://broker/site/topic/plant/l1/temp',
      topicUri('fleet/truck1/temp'),
    ]) {
      await assert.rejects(bridge.client.readResource({ uri }), /Resource not found/, uri);
    }
  });

  it('the built server reads the file too, opening one history file per broker', async () => {
    const spawned = await spawnBridge('stdio', {
      MQTT_BROKERS_FILE: join(dir, 'brokers.json'),
      HISTORY_PATH: join(dir, 'spawned.db'),
    });
    try {
      const status = await allConnected(spawned);
      assert.deepEqual(
        status.brokers.map((b: { name: string }) => b.name),
        ['site', 'cloud'],
      );
      const cloudStatus = await spawned.ok('mqtt_status', { broker: 'cloud' });
      assert.equal(cloudStatus.history.path, join(dir, 'spawned.cloud.db'));
      assert.ok(existsSync(join(dir, 'spawned.cloud.db')));
      assert.match(spawned.stderr(), /"broker":"cloud"/);
    } finally {
      await spawned.close();
    }
  });

  it('the built server records several brokers into one PostgreSQL: a schema each, each row naming its broker, policies apart', async () => {
    const pg = await startPostgres();
    try {
      await pg.createDatabase('brokers');
      const onPostgres = (file: string) =>
        spawnBridge('stdio', {
          MQTT_BROKERS_FILE: join(dir, file),
          HISTORY_URL: pg.url('brokers'),
          HISTORY_FLUSH_MS: '50',
        });
      const spawned = await onPostgres('brokers.json');
      try {
        await allConnected(spawned);
        await siteSpy.publish('plant/pg/temp', '21');
        await cloudSpy.publish('fleet/pg/temp', '7');
        const rows = async (schema: string) =>
          (
            await pg.admin(
              `SELECT t.topic, m.broker FROM ${schema}.messages m JOIN ${schema}.topics t ON t.id = m.topic_id WHERE t.topic LIKE '%/pg/%' ORDER BY t.topic`,
              'brokers',
            )
          ).rows;
        await waitFor(async () => (await rows('mqtt_history_cloud')).length >= 1, 10_000, 'cloud recorded');
        await waitFor(async () => (await rows('mqtt_history')).length >= 1, 10_000, 'site recorded');
        assert.deepEqual(await rows('mqtt_history'), [{ topic: 'plant/pg/temp', broker: 'site' }]);
        assert.deepEqual(await rows('mqtt_history_cloud'), [{ topic: 'fleet/pg/temp', broker: 'cloud' }]);
        // Reads through each broker see its own history only.
        const cloudRead = await spawned.ok('mqtt_read_messages', {
          broker: 'cloud',
          filter: 'fleet/#',
          from: new Date(Date.now() - 60_000).toISOString(),
        });
        assert.equal(cloudRead.source, 'history');
        assert.ok(
          cloudRead.messages.length > 0 &&
            cloudRead.messages.every((m: { topic: string }) => m.topic.startsWith('fleet/')),
          JSON.stringify(cloudRead.messages),
        );
        const cloudStatus = await spawned.ok('mqtt_status', { broker: 'cloud' });
        assert.equal(cloudStatus.history.state, 'recording');
        assert.match(cloudStatus.history.path, /\(schema mqtt_history_cloud\)$/);
      } finally {
        await spawned.close();
      }
      // The same brokers in the other order: each schema stays with the broker it names.
      const [first, second] = JSON.parse(readFileSync(join(dir, 'brokers.json'), 'utf8')).brokers;
      writeFileSync(join(dir, 'reordered.json'), JSON.stringify({ brokers: [second, first] }));
      const reordered = await onPostgres('reordered.json');
      try {
        const status = await pollTool(reordered, 'mqtt_status', {}, (s) => s.history?.state === 'recording');
        assert.match(status.history.path, /\(schema mqtt_history_cloud\)$/);
        const from = new Date(Date.now() - 120_000).toISOString();
        const siteRead = await reordered.ok('mqtt_read_messages', {
          broker: 'site',
          filter: 'plant/pg/#',
          from,
        });
        assert.deepEqual(
          siteRead.messages.map((m: { topic: string }) => m.topic),
          ['plant/pg/temp'],
        );
        const cloudRead = await reordered.ok('mqtt_read_messages', { filter: 'fleet/pg/#', from });
        assert.deepEqual(
          cloudRead.messages.map((m: { topic: string }) => m.topic),
          ['fleet/pg/temp'],
        );
      } finally {
        await reordered.close();
      }
      // Reordered again, with the database down at start: each broker still finds its schema
      // once the database answers (no schema for the first broker, no history split).
      await pg.stop();
      const late = await onPostgres('reordered.json');
      try {
        await allConnected(late);
        await pg.start();
        await siteSpy.publish('plant/pg/late', '22');
        await cloudSpy.publish('fleet/pg/late', '8');
        const rows = async (schema: string) =>
          (
            await pg.admin(
              `SELECT t.topic FROM ${schema}.messages m JOIN ${schema}.topics t ON t.id = m.topic_id WHERE t.topic LIKE '%/pg/late' ORDER BY t.topic`,
              'brokers',
            )
          ).rows.map((r) => r.topic);
        await waitFor(async () => (await rows('mqtt_history')).length >= 1, 20_000, 'site recorded late');
        await waitFor(
          async () => (await rows('mqtt_history_cloud')).length >= 1,
          20_000,
          'cloud recorded late',
        );
        assert.deepEqual(await rows('mqtt_history'), ['plant/pg/late']);
        assert.deepEqual(await rows('mqtt_history_cloud'), ['fleet/pg/late']);
        const status = await late.ok('mqtt_status', {});
        assert.match(status.history.path, /\(schema mqtt_history_cloud\)$/);
        const site = await late.ok('mqtt_status', { broker: 'site' });
        assert.doesNotMatch(site.history.path, /\(schema/);
        assert.equal(site.history.state, 'recording');
      } finally {
        await late.close();
      }
      const schemas = await pg.admin(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mqtt_history%' ORDER BY nspname",
        'brokers',
      );
      assert.deepEqual(
        schemas.rows.map((r) => r.nspname),
        ['mqtt_history', 'mqtt_history_cloud'],
      );
      const owners = async (schema: string) =>
        (await pg.admin(`SELECT value FROM ${schema}.meta WHERE key = 'broker'`, 'brokers')).rows;
      assert.deepEqual(await owners('mqtt_history'), [{ value: 'site' }]);
      assert.deepEqual(await owners('mqtt_history_cloud'), [{ value: 'cloud' }]);
    } finally {
      await pg.destroy();
    }
  });

  it('the built server stops on a bad entry with one line naming the broker and the field, and no secret', async () => {
    const bad = join(dir, 'bad-brokers.yaml');
    const missing = join(dir, 'no-such-ca.crt');
    writeFileSync(
      bad,
      `brokers:\n  - name: site\n    url: ${site.url}\n    caFile: ${sitePki.ca}\n` +
        `  - name: cloud\n    url: ${cloud.url}\n    caFile: ${missing}\n    username: u\n    password: Inline-Canary-77\n`,
    );
    const exit = await runToExit(process.execPath, [SERVER], {
      cwd: dir,
      env: cleanEnv({ MQTT_BROKERS_FILE: bad, MQTT_URL: site.url }),
    });
    assert.deepEqual(configProblems(exit), [
      "MQTT_URL: is set together with MQTT_BROKERS_FILE; with the file, each broker's settings go into its entry",
      'brokers[1] "cloud": an inline password is not accepted; put it in a file named by passwordFile',
      `brokers[1] "cloud": caFile: cannot read ${missing} (no such file)`,
    ]);
    assert.doesNotMatch(exit.stderr, /Inline-Canary-77/);
  });

  it('shows every broker in mqtt_status, and one broker down leaves the other working', async () => {
    const both = await bridge.ok('mqtt_status');
    assert.deepEqual(
      both.brokers.map((b: { name: string; state: string }) => [b.name, b.state]),
      [
        ['site', 'connected'],
        ['cloud', 'connected'],
      ],
    );
    assert.ok(both.brokers[1].received >= 1);
    await cloud.stop();
    await waitFor(() => !bridge.app.brokers[1]!.link.connected, 5000, 'cloud down');
    const status = await bridge.ok('mqtt_status');
    assert.equal(status.connection.state, 'connected');
    assert.notEqual(status.brokers[1].state, 'connected');
    assert.match(
      await bridge.fails('mqtt_publish', { broker: 'cloud', topic: 'fleet/t/cmd', payload: 'x' }),
      /^BROKER_UNAVAILABLE/,
    );
    await bridge.ok('mqtt_publish', { topic: 'plant/l3/cmd', payload: 'still' });
    await waitFor(() => siteSpy.received.some((m) => m.topic === 'plant/l3/cmd'), 3000, 'site still works');
    // Metrics carry the broker as a label.
    const metrics = new Metrics({ brokers: bridge.app.brokers, sessions: () => 0, eventListeners: () => 0 });
    const text = await metrics.render();
    assert.match(text, /mqtt_mcp_bridge_mqtt_connected\{broker="site"\} 1/);
    assert.match(text, /mqtt_mcp_bridge_mqtt_connected\{broker="cloud"\} 0/);
    assert.match(text, /mqtt_mcp_bridge_store_topics\{broker="cloud"\} [1-9]/);
    // What cloud held is still readable while it is away.
    const held = await bridge.ok('mqtt_get_latest', { broker: 'cloud', filter: 'fleet/#' });
    assert.ok(held.messages.length >= 1);
  });
});
