/**
 * Sparkplug B against a real Mosquitto over mutual TLS, with a test edge node made from the
 * protobuf definitions (test/helpers/edge-node.ts): NBIRTH, DBIRTH, NDATA and DDATA by alias with
 * every data type, seq gaps, the NDEATH Will when its connection is killed, and a bridge that
 * starts late: DATA before any BIRTH shows unresolved aliases until mqtt_sparkplug_rebirth.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, type TestBridge } from '../helpers/bridge.js';
import { ALL_TYPES, EdgeNode } from '../helpers/edge-node.js';
import { createPki, type Pki } from '../helpers/pki.js';

const ACL = ['user mcp-bridge', 'topic readwrite spBv1.0/#', '', 'user spy', 'topic readwrite #', ''].join(
  '\n',
);

let pki: Pki;
let broker: Broker;
const bridges: TestBridge[] = [];
const nodes: EdgeNode[] = [];

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki, acl: ACL });
});
after(async () => {
  for (const b of bridges) await b.close();
  for (const n of nodes) await n.close();
  await broker.stop();
});

async function bridge(extra: Record<string, string> = {}): Promise<TestBridge> {
  const b = await startBridge(
    bridgeEnv(broker, pki, {
      MCP_READ_TOPICS: 'spBv1.0/#',
      MCP_WRITE_TOPICS: 'spBv1.0/+/NCMD/+',
      ...extra,
    }),
  );
  bridges.push(b);
  await waitFor(() => b.app.link.grantedAt('spBv1.0/#'), 5000, 'the SUBACK');
  return b;
}

function edge(group: string, name: string): EdgeNode {
  const n = new EdgeNode(broker, pki, group, name, 'd1');
  nodes.push(n);
  return n;
}

describe('Sparkplug B through the bridge', () => {
  it('every data type by alias, named from the BIRTH, with the right types; the node and its device', async () => {
    const b = await bridge();
    const n = edge('g1', 'E7');
    await n.connect();
    await n.data();
    await waitFor(() => b.app.deps.store.stats(Date.now()).received >= 3, 5000, 'the messages');
    const read = await b.ok('mqtt_get_latest', { filter: 'spBv1.0/g1/DDATA/E7/d1' });
    const message = read.messages[0];
    assert.equal(message.encoding, 'sparkplug');
    for (const m of ALL_TYPES) {
      const shown = message.payload.metrics.find((x: { alias: number }) => x.alias === m.alias);
      assert.equal(shown.name, m.name, m.name);
      assert.deepEqual(shown.value, m.expected, m.name);
      assert.equal(shown.unresolved, undefined);
    }
    const seen = await b.ok('mqtt_sparkplug_nodes', { edge: 'E7' });
    assert.equal(seen.nodes.length, 1);
    const node = seen.nodes[0];
    assert.equal(node.online, true);
    assert.equal(node.bdSeq, '1');
    assert.equal(node.seqGaps, 0);
    assert.deepEqual(
      node.metrics.find((m: { name: string }) => m.name === 'uptime'),
      {
        name: 'uptime',
        datatype: 'UInt32',
        value: 1,
        at: node.metrics.find((m: { name: string }) => m.name === 'uptime').at,
      },
    );
    const device = node.devices[0];
    assert.equal(device.device, 'd1');
    assert.equal(device.online, true);
    assert.equal(device.metrics.find((m: { name: string }) => m.name === 'i64').value, -1);
    assert.equal(device.omittedMetrics, undefined);
    // Without history, a summary over memory names Sparkplug series by metric too.
    const summary = await b.ok('mqtt_summarize', { filter: 'spBv1.0/g1/DDATA/E7/d1', sinceSeconds: 600 });
    assert.equal(summary.source, 'memory');
    assert.equal(summary.series.find((x: { field: string }) => x.field === 'f64')?.mean, 21.25);
  });

  it('a restart with history keeps the BIRTH certificates: names resolve for new DATA and for DATA read back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-sparkplug-history-'));
    try {
      const env = { HISTORY_PATH: join(dir, 'h.db'), HISTORY_FLUSH_MS: '50' };
      const first = await bridge(env);
      const n = edge('g9', 'E9');
      await n.connect();
      await n.data();
      await waitFor(() => first.app.deps.store.stats(Date.now()).received >= 3, 5000, 'the messages');
      await waitFor(async () => (await first.ok('mqtt_status')).history.written >= 3, 5000, 'written');
      await first.close();
      bridges.splice(bridges.indexOf(first), 1);
      // The edge node does not send its BIRTHs again: only history knows the names now.
      const second = await bridge(env);
      const seen = await second.ok('mqtt_sparkplug_nodes', { edge: 'E9' });
      assert.equal(seen.nodes.length, 1, JSON.stringify(seen));
      assert.equal(seen.nodes[0].devices[0].device, 'd1');
      const read = await second.ok('mqtt_read_messages', { filter: 'spBv1.0/g9/DDATA/E9/d1', limit: 1 });
      assert.equal(read.source, 'history');
      const old = read.messages[0];
      assert.equal(old.encoding, 'sparkplug');
      for (const m of ALL_TYPES) {
        const shown = old.payload.metrics.find((x: { alias: number }) => x.alias === m.alias);
        assert.equal(shown.name, m.name, `${m.name} in the recorded DATA`);
      }
      await n.data();
      await waitFor(() => second.app.deps.store.stats(Date.now()).received >= 1, 5000, 'new DATA');
      const fresh = await second.ok('mqtt_get_latest', { filter: 'spBv1.0/g9/DDATA/E9/d1' });
      const metric = fresh.messages[0].payload.metrics.find(
        (x: { alias: number }) => x.alias === ALL_TYPES[0]!.alias,
      );
      assert.equal(metric.name, ALL_TYPES[0]!.name, 'new DATA by alias, named from the restored BIRTH');
      assert.equal(metric.unresolved, undefined);
      // Recorded series are named by metric, before the restart and after it (the writer finds
      // the recorded DBIRTH for DATA that comes by alias only).
      await waitFor(async () => (await second.ok('mqtt_status')).history.written >= 1, 5000, 'written');
      const summary = await second.ok('mqtt_summarize', {
        filter: 'spBv1.0/g9/DDATA/E9/d1',
        sinceSeconds: 600,
      });
      const f64 = summary.series.find((x: { field: string }) => x.field === 'f64');
      assert.ok(f64 !== undefined, JSON.stringify(summary.series.map((x: { field: string }) => x.field)));
      assert.equal(f64.count, 2);
      assert.equal(f64.mean, 21.25);
      assert.equal(summary.series.find((x: { field: string }) => x.field === 'bool')?.max, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a seq gap is counted; a killed connection brings the NDEATH Will: node and devices offline', async () => {
    const b = await bridge();
    const n = edge('g2', 'E8');
    await n.connect();
    n.skip(3);
    await n.nodeData(5);
    await waitFor(
      () => [...(b.app.deps.sparkplug?.nodes() ?? [])].find((x) => x.edge === 'E8' && x.seqGaps === 1),
      5000,
      'the seq gap',
    );
    n.kill();
    await waitFor(
      () => [...(b.app.deps.sparkplug?.nodes() ?? [])].find((x) => x.edge === 'E8' && x.online === false),
      10_000,
      'the NDEATH',
    );
    const seen = await b.ok('mqtt_sparkplug_nodes', { group: 'g2' });
    assert.equal(seen.nodes[0].online, false);
    assert.equal(seen.nodes[0].devices[0].online, false);
    assert.ok(Date.parse(seen.nodes[0].lastDeathAt) >= Date.parse(seen.nodes[0].lastBirthAt));
  });

  it('a bridge that starts late: unresolved aliases until a rebirth it asks for', async () => {
    const n = edge('g3', 'E9');
    await n.connect(); // births before the bridge is there
    const b = await bridge();
    await n.data();
    await waitFor(() => b.app.deps.store.stats(Date.now()).received >= 1, 5000, 'the DDATA');
    const before = (await b.ok('mqtt_get_latest', { filter: 'spBv1.0/g3/DDATA/E9/d1' })).messages[0];
    assert.equal(before.encoding, 'sparkplug');
    const first = before.payload.metrics[0];
    assert.equal(first.unresolved, true);
    assert.equal(first.name, undefined);
    assert.equal(first.alias, ALL_TYPES[0]?.alias);

    // No BIRTH seen: online is not known, and the result says so.
    const unknown = (await b.ok('mqtt_sparkplug_nodes', { edge: 'E9' })).nodes[0];
    assert.equal(unknown.noBirthSeen, true);
    assert.equal(unknown.online, undefined);
    const rebirth = await b.ok('mqtt_sparkplug_rebirth', { group: 'g3', edge: 'E9' });
    assert.equal(rebirth.topic, 'spBv1.0/g3/NCMD/E9');
    await waitFor(() => n.rebirths >= 1, 5000, 'the NCMD at the edge node');
    await waitFor(
      () =>
        [...(b.app.deps.sparkplug?.nodes() ?? [])].find(
          (x) => x.edge === 'E9' && x.devices.get('d1')?.online,
        ),
      5000,
      'the DBIRTH',
    );
    await n.data();
    await sleep(200);
    const after = (await b.ok('mqtt_read_messages', { filter: 'spBv1.0/g3/DDATA/E9/d1', limit: 2 })).messages;
    assert.equal(after[0].payload.metrics[0].name, ALL_TYPES[0]?.name, 'the new DATA is named');
    assert.equal(after[1].payload.metrics[0].unresolved, true, 'the old one stays as it was received');
    // The rebirth went through the publish audit like any publish.
    assert.ok(b.logs.lines.some((l) => l.includes('"log":"audit"') && l.includes('spBv1.0/g3/NCMD/E9')));
  });

  it('rebirth: refused outside the write policy, and not listed when read-only', async () => {
    const b = await bridge({ MCP_WRITE_TOPICS: 'spBv1.0/other/NCMD/+' });
    const text = await b.fails('mqtt_sparkplug_rebirth', { group: 'g1', edge: 'E7' });
    assert.match(text, /^POLICY_DENIED: the topic is outside the writable topics/);
    const ro = await bridge({ MCP_WRITE_TOPICS: '' });
    const { tools } = await ro.client.listTools();
    assert.ok(tools.some((t) => t.name === 'mqtt_sparkplug_nodes'));
    assert.ok(!tools.some((t) => t.name === 'mqtt_sparkplug_rebirth'));
    const off = await bridge({ MQTT_SPARKPLUG: 'off' });
    const offTools = (await off.client.listTools()).tools.map((t) => t.name);
    assert.ok(!offTools.includes('mqtt_sparkplug_nodes'));
  });

  it('a payload on a Sparkplug topic that does not decode is base64 and flagged, never an empty object', async () => {
    const b = await bridge();
    const spy = edge('g4', 'E10');
    await spy.connect({ birth: false });
    await spy.raw('spBv1.0/g4/NDATA/E10', Buffer.from([0x12, 0xff, 0x01]));
    await waitFor(() => b.app.deps.store.stats(Date.now()).received >= 1, 5000, 'the bad payload');
    const shown = (await b.ok('mqtt_get_latest', { filter: 'spBv1.0/g4/#' })).messages[0];
    assert.equal(shown.encoding, 'base64');
    assert.equal(shown.payload, 'Ev8B');
    assert.match(shown.decodeError, /not a Sparkplug B payload/);
  });
});
