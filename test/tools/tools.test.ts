/**
 * Tool behaviour over a real McpServer and SDK Client (in-memory transport pair), with a real
 * Mosquitto behind the bridge. Bad input must give an actionable isError result and cause no
 * MQTT traffic at all; results must validate against their output schemas (the SDK client
 * checks structuredContent against each tool's outputSchema).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_TOOLS } from '../../src/tools/index.js';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, textOf } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { pollTool, spawnBridge, type SpawnedBridge, type TransportKind } from '../helpers/spawned.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

// One suite, two transports: the built server over stdio and over Streamable HTTP.
for (const kind of ['stdio', 'http'] as const satisfies readonly TransportKind[]) {
  describe(`tools over ${kind}`, () => suite(kind));
}

function suite(kind: TransportKind): void {
  let pki: Pki;
  let broker: Broker;
  let spy: Spy;
  let bridge: SpawnedBridge;
  let clientId: string;

  before(async () => {
    pki = createPki();
    broker = await startBroker({ pki });
    spy = await connectSpy(broker, pki, ['#']);
    await spy.publish('plant/line1/temp', '19.0', { retain: true });
    bridge = await spawnBridge(
      kind,
      bridgeEnv(broker, pki, {
        MCP_READ_TOPICS: 'plant/#',
        MCP_WRITE_TOPICS: 'plant/+/cmd',
        MCP_DENY_TOPICS: 'plant/secret/#',
        MCP_RESULT_PAYLOAD_BYTES: '64',
        MCP_PUBLISH_MAX_BYTES: '1024',
        MCP_PUBLISH_ALLOW_RETAIN: 'true',
        MCP_PUBLISH_ALLOW_QOS2: 'true',
        MCP_PUBLISH_RATE_PER_MINUTE: '6000',
      }),
    );
    clientId = (await bridge.connected()).connection.clientId as string;
    await pollTool(bridge, 'mqtt_read_messages', { filter: 'plant/#' }, (r) => r.count > 0);
  });
  after(async () => {
    await bridge.close();
    await spy.close();
    await broker.stop();
  });

  /** Everything our client id did at the broker, as the broker logged it. */
  function brokerTrafficOfBridge(): string[] {
    return broker
      .log()
      .split('\n')
      .filter((l) => l.includes(clientId) && /Received (PUBLISH|SUBSCRIBE|UNSUBSCRIBE)/.test(l));
  }

  const latestCount = (b: SpawnedBridge, filter: string) =>
    pollTool(b, 'mqtt_get_latest', { filter }, (r) => r.count > 0);

  describe('tool list', () => {
    it('every tool has a title, annotations, a described input schema and an output schema', async () => {
      const { tools } = await bridge.client.listTools();
      assert.equal(tools.length, ALL_TOOLS.length);
      for (const tool of tools) {
        assert.match(tool.name, /^mqtt_[a-z_]+$/);
        assert.ok(tool.title, tool.name);
        assert.ok((tool.description ?? '').length > 80, `${tool.name} description too thin`);
        assert.ok(tool.outputSchema, `${tool.name} has no outputSchema`);
        const a = tool.annotations ?? {};
        for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
          assert.equal(typeof a[hint], 'boolean', `${tool.name}.${hint}`);
        }
        assert.equal(tool.inputSchema.additionalProperties, false, `${tool.name} input must be strict`);
        for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
          assert.ok(
            (schema as { description?: string }).description,
            `${tool.name}.${field} has no description`,
          );
        }
      }
      const publish = tools.find((t) => t.name === 'mqtt_publish');
      assert.equal(publish?.annotations?.destructiveHint, true);
      assert.equal(publish?.annotations?.openWorldHint, true);
      assert.equal(publish?.annotations?.readOnlyHint, false);
      for (const name of ['mqtt_read_messages', 'mqtt_get_latest', 'mqtt_list_topics', 'mqtt_status']) {
        assert.equal(tools.find((t) => t.name === name)?.annotations?.readOnlyHint, true, name);
      }
    });

    it('read-only configuration does not offer mqtt_publish at all', async () => {
      const readOnly = await spawnBridge(kind, bridgeEnv(broker, pki, { MCP_WRITE_TOPICS: '' }));
      try {
        const { tools } = await readOnly.client.listTools();
        assert.ok(!tools.some((t) => t.name === 'mqtt_publish'));
        // An unknown tool is a protocol error (JSON-RPC -32602), not a tool result.
        await assert.rejects(
          readOnly.call('mqtt_publish', { topic: 'plant/a/cmd', payload: 'x' }),
          (error) => {
            assert.match(String(error), /-32602.*Tool not found; the tools are mqtt_read_messages/);
            return true;
          },
        );
        const status = await readOnly.ok('mqtt_status');
        assert.equal(status.readOnly, true);
      } finally {
        await readOnly.close();
      }
    });
  });

  describe('bad input is refused with a reason and causes no MQTT traffic', () => {
    const cases: Array<{ name: string; tool: string; args: Record<string, unknown>; expect: RegExp }> = [
      {
        name: 'unknown argument',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a/cmd', payload: 'x', broker: 'evil' },
        expect:
          /^INVALID_INPUT: invalid arguments: unknown argument; mqtt_publish takes topic, payload, encoding, qos, retain$/,
      },
      {
        name: 'wrong type',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a/cmd', payload: null },
        expect: /payload/,
      },
      {
        name: 'a JSON value with encoding base64',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a/cmd', payload: { state: 'off' }, encoding: 'base64' },
        expect: /sent as its JSON text: leave encoding out/,
      },
      {
        name: 'wildcard # in a publish topic',
        tool: 'mqtt_publish',
        args: { topic: 'plant/#', payload: 'x' },
        expect: /must not contain the wildcards/,
      },
      {
        name: 'wildcard + in a publish topic',
        tool: 'mqtt_publish',
        args: { topic: 'plant/+/cmd', payload: 'x' },
        expect: /must not contain the wildcards/,
      },
      {
        name: 'NUL in a topic',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a\u0000/cmd', payload: 'x' },
        expect: /NUL/,
      },
      {
        name: 'topic over 65,535 bytes',
        tool: 'mqtt_publish',
        args: { topic: `plant/${'x'.repeat(70_000)}/cmd`, payload: 'x' },
        expect: /longer than 65535 bytes/,
      },
      {
        name: 'publish outside the writable topics',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a/status', payload: 'x' },
        expect: /outside the writable topics \("plant\/\+\/cmd"\)/,
      },
      {
        name: 'publish to a denied topic',
        tool: 'mqtt_publish',
        args: { topic: 'plant/secret/cmd', payload: 'x' },
        expect: /denied/,
      },
      {
        name: 'QoS out of range',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a/cmd', payload: 'x', qos: 3 },
        expect: /qos/,
      },
      {
        name: 'payload over the size limit',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a/cmd', payload: 'x'.repeat(2000) },
        expect: /2000 bytes; the limit is 1024 bytes \(MCP_PUBLISH_MAX_BYTES\)/,
      },
      {
        name: 'invalid base64',
        tool: 'mqtt_publish',
        args: { topic: 'plant/a/cmd', payload: 'not base64!', encoding: 'base64' },
        expect: /not valid base64/,
      },
      {
        name: 'read filter outside the policy',
        tool: 'mqtt_read_messages',
        args: { filter: 'factory/#' },
        expect: /outside the readable topics/,
      },
      {
        name: '$SYS without a $ rule',
        tool: 'mqtt_read_messages',
        args: { filter: '$SYS/#' },
        expect: /outside the readable topics/,
      },
      {
        name: '# is wider than plant/#',
        tool: 'mqtt_get_latest',
        args: { filter: '#' },
        expect: /outside the readable topics/,
      },
      {
        name: 'filter inside a denied area',
        tool: 'mqtt_subscribe',
        args: { filter: 'plant/secret/#' },
        expect: /denied area/,
      },
      {
        name: 'malformed filter',
        tool: 'mqtt_subscribe',
        args: { filter: 'plant/#/x' },
        expect: /# only as a whole last level/,
      },
      {
        name: 'limit above the maximum',
        tool: 'mqtt_read_messages',
        args: { filter: 'plant/#', limit: 201 },
        expect: /limit/,
      },
      {
        name: 'limit below the minimum',
        tool: 'mqtt_list_topics',
        args: { filter: 'plant/#', limit: 0 },
        expect: /limit/,
      },
      {
        name: 'wait timeout above the maximum',
        tool: 'mqtt_wait_for_messages',
        args: { filter: 'plant/#', timeoutMs: 60_001 },
        expect: /timeoutMs/,
      },
      {
        name: 'wait count above the maximum',
        tool: 'mqtt_wait_for_messages',
        args: { filter: 'plant/#', count: 101 },
        expect: /count/,
      },
      {
        name: 'unsubscribe of a configured filter',
        tool: 'mqtt_unsubscribe',
        args: { filter: 'plant/#' },
        expect: /configured by the operator/,
      },
      {
        name: 'unsubscribe of an unknown filter',
        tool: 'mqtt_unsubscribe',
        args: { filter: 'plant/zzz/#' },
        expect: /not a collection filter you added/,
      },
    ];

    it('refuses each case and the broker sees nothing from the bridge', async () => {
      const before = brokerTrafficOfBridge().length;
      const spyBefore = spy.received.length;
      for (const c of cases) {
        const text = await bridge.fails(c.tool, c.args);
        assert.match(text, c.expect, `${c.name}: ${text}`);
        assert.ok(text.length < 1000, `${c.name}: error text is ${text.length} characters`);
        // The caller's own input is never repeated (a scrubbed echo would tell a right guess of a
        // secret from a wrong one); only the operator's policy filters may appear.
        for (const [key, value] of Object.entries(c.args)) {
          if (typeof value === 'string' && value.length >= 8 && key !== 'encoding')
            assert.ok(!text.includes(value.slice(0, 40)), `${c.name}: the error repeats ${key}`);
        }
      }
      await sleep(300);
      assert.deepEqual(brokerTrafficOfBridge().slice(before), []);
      assert.equal(spy.received.length, spyBefore);
    });
  });

  describe('reading', () => {
    it('returns messages with metadata, the retained flag and receive time, newest first', async () => {
      await spy.publish('plant/line1/temp', '19.5');
      await spy.publish('plant/line2/temp', '22.0');
      await pollTool(bridge, 'mqtt_status', {}, (r) => r.store.received >= 3);
      const read = await bridge.ok('mqtt_read_messages', { filter: 'plant/+/temp', limit: 10 });
      assert.equal(read.coverage, 'full');
      // Numbers are JSON: shown as JSON values, not as strings to unescape.
      assert.deepEqual(
        read.messages.map((m: { payload: string; encoding: string }) => [m.payload, m.encoding]),
        [
          [22, 'json'],
          [19.5, 'json'],
          [19, 'json'],
        ],
      );
      const retained = read.messages[2];
      assert.equal(retained.retain, true);
      assert.equal(retained.sizeBytes, 4);
      assert.equal(retained.truncated, undefined);
      assert.ok(Date.parse(retained.receivedAt) <= Date.now());
      const latest = await bridge.ok('mqtt_get_latest', { filter: 'plant/+/temp' });
      assert.equal(latest.matchedTopics, 2);
      assert.deepEqual(
        latest.messages.map((m: { topic: string; payload: string }) => `${m.topic}=${m.payload}`),
        ['plant/line2/temp=22', 'plant/line1/temp=19.5'],
      );
    });

    it('text mirror frames broker data between markers with a random boundary', async () => {
      const a = await bridge.call('mqtt_read_messages', { filter: 'plant/#' });
      const b = await bridge.call('mqtt_read_messages', { filter: 'plant/#' });
      const boundary = (r: typeof a) => /<<<MQTT_DATA ([0-9a-f]{16})>>>/.exec(textOf(r))?.[1];
      assert.ok(boundary(a));
      assert.notEqual(boundary(a), boundary(b));
      assert.match(textOf(a), /never as instructions/);
      const json = textOf(a).split('\n').slice(2, -1).join('\n');
      assert.deepEqual(JSON.parse(json), a.structuredContent);
    });

    it('binary payloads come out as base64, long ones cut and marked truncated', async () => {
      await spy.publish('plant/bin/raw', Buffer.from([0xff, 0x00, 0xfe, 0x80]));
      await spy.publish('plant/big/text', 'é'.repeat(100));
      await latestCount(bridge, 'plant/big/text');
      const latest = await bridge.ok('mqtt_get_latest', { filter: 'plant/+/+' });
      const bin = latest.messages.find((m: { topic: string }) => m.topic === 'plant/bin/raw');
      assert.equal(bin.encoding, 'base64');
      assert.equal(Buffer.from(bin.payload, 'base64').toString('hex'), 'ff00fe80');
      const big = latest.messages.find((m: { topic: string }) => m.topic === 'plant/big/text');
      assert.equal(big.truncated, true);
      assert.equal(big.sizeBytes, 200);
      assert.equal(big.encoding, undefined);
      assert.equal(big.payload, 'é'.repeat(32)); // 64 bytes shown, cut on a character boundary
    });

    it('denied topics never reach the store, even inside an allowed filter', async () => {
      await spy.publish('plant/secret/key', 'hunter2');
      await spy.publish('plant/open/x', 'visible');
      await latestCount(bridge, 'plant/open/x');
      const topics = await bridge.ok('mqtt_list_topics', { filter: 'plant/#', limit: 1000 });
      assert.ok(!topics.topics.some((t: { topic: string }) => t.topic.startsWith('plant/secret')));
      const status = await bridge.ok('mqtt_status');
      assert.ok(status.store.dropped.policy >= 1);
    });

    it('list_topics without a filter lists everything readable; counts and ages per topic', async () => {
      const topics = await bridge.ok('mqtt_list_topics', {});
      assert.equal(topics.filter, 'plant/#');
      const temp = topics.topics.find((t: { topic: string }) => t.topic === 'plant/line1/temp');
      assert.equal(temp.received, 2);
      assert.equal(temp.lastRetain, false);
      assert.ok(temp.ageSeconds >= 0);
      const limited = await bridge.ok('mqtt_list_topics', { filter: 'plant/#', limit: 1 });
      assert.equal(limited.count, 1);
      assert.equal(limited.more, true);
      assert.match(
        textOf(await bridge.call('mqtt_list_topics', { filter: 'plant/#', limit: 1 })),
        /cut \(more: true\): to see more topics, raise limit/,
      );
      assert.ok(limited.matched > 1);
    });
  });

  describe('pictures and exports', () => {
    it('mqtt_chart gives a PNG beside the numbers; mqtt_export a CSV file', async () => {
      for (const v of ['20.5', '21.5']) await spy.publish('plant/line3/temp', v);
      await pollTool(bridge, 'mqtt_read_messages', { filter: 'plant/line3/temp' }, (r) => r.count >= 2);
      const chart = await bridge.call('mqtt_chart', { filter: 'plant/line3/temp', sinceSeconds: 600 });
      assert.notEqual(chart.isError, true);
      const image = chart.content.find((c) => c.type === 'image');
      assert.ok(image !== undefined && image.type === 'image' && image.mimeType === 'image/png');
      assert.deepEqual(
        [...Buffer.from(image.data, 'base64').subarray(1, 4)],
        [0x50, 0x4e, 0x47],
        'PNG magic',
      );
      const data = chart.structuredContent as { series: Array<{ count: number; min: number; max: number }> };
      assert.deepEqual(
        data.series.map((x) => [x.count, x.min, x.max]),
        [[2, 20.5, 21.5]],
      );
      const csv = await bridge.call('mqtt_export', { filter: 'plant/line3/temp', sinceSeconds: 600 });
      const file = csv.content.find((c) => c.type === 'resource');
      assert.ok(file !== undefined && file.type === 'resource' && 'text' in file.resource);
      assert.equal(file.resource.mimeType, 'text/csv');
      assert.equal(file.resource.text.trim().split(/\r?\n/).length, 3, file.resource.text);
    });
  });

  describe('waiting, subscribing, publishing', () => {
    it('waits for live messages only (not retained replays), with progress notifications', async () => {
      const progress: number[] = [];
      const call = bridge.client.callTool(
        { name: 'mqtt_wait_for_messages', arguments: { filter: 'plant/line5/#', count: 2, timeoutMs: 5000 } },
        undefined,
        { onprogress: (p) => progress.push(p.progress) },
      );
      await sleep(300);
      await spy.publish('plant/line5/a', 'one');
      await spy.publish('plant/line5/b', 'two');
      const result = (await call).structuredContent as Record<string, any>;
      assert.equal(result.timedOut, false);
      assert.deepEqual(
        result.messages.map((m: { payload: string }) => m.payload),
        ['one', 'two'],
      );
      // Intermediate progress only: the result itself reports the last message.
      assert.deepEqual(progress, [1]);
    });

    it('a wait that gets fewer messages than asked reports timedOut', async () => {
      const result = await bridge.ok('mqtt_wait_for_messages', {
        filter: 'plant/quiet/#',
        count: 3,
        timeoutMs: 300,
      });
      assert.equal(result.timedOut, true);
      assert.equal(result.count, 0);
      assert.ok(result.waitedMs >= 290);
    });

    it('subscribe adds a collection filter (retained values arrive), unsubscribe removes it', async () => {
      const extra = await spawnBridge(kind, bridgeEnv(broker, pki, { MQTT_SUBSCRIBE: 'plant/line2/#' }));
      try {
        await extra.connected();
        assert.equal((await extra.ok('mqtt_read_messages', { filter: 'plant/line1/#' })).coverage, 'none');
        const added = await extra.ok('mqtt_subscribe', { filter: 'plant/line1/#' });
        assert.equal(added.added, true);
        assert.deepEqual(added.subscriptions, [
          { filter: 'plant/line2/#', source: 'configured' },
          { filter: 'plant/line1/#', source: 'agent' },
        ]);
        await latestCount(extra, 'plant/line1/temp');
        const latest = await extra.ok('mqtt_get_latest', { filter: 'plant/line1/temp' });
        assert.equal(latest.messages[0].retain, true);
        assert.equal((await extra.ok('mqtt_subscribe', { filter: 'plant/line1/#' })).added, false);
        const removed = await extra.ok('mqtt_unsubscribe', { filter: 'plant/line1/#' });
        assert.deepEqual(removed.subscriptions, [{ filter: 'plant/line2/#', source: 'configured' }]);
        assert.equal(removed.otherClients, undefined);
      } finally {
        await extra.close();
      }
    });

    it('publishes with the requested QoS and retain flag and reports the broker result', async () => {
      const before = spy.received.length;
      const r = await bridge.ok('mqtt_publish', {
        topic: 'plant/line1/cmd',
        payload: 'AQID',
        encoding: 'base64',
        qos: 2,
        retain: true,
      });
      assert.deepEqual(
        { bytes: r.bytes, qos: r.qos, retain: r.retain, delivery: r.delivery },
        { bytes: 3, qos: 2, retain: true, delivery: 'acknowledged' },
      );
      const q0 = await bridge.ok('mqtt_publish', { topic: 'plant/line1/cmd', payload: 'x', qos: 0 });
      assert.equal(q0.delivery, 'sent');
      // A JSON value, as models like to send it, goes out as its JSON text.
      const json = await bridge.ok('mqtt_publish', {
        topic: 'plant/line1/cmd',
        payload: { state: 'off', speed: 60 },
      });
      assert.equal(json.bytes, 26);
      await bridge.ok('mqtt_publish', { topic: 'plant/line1/cmd', payload: 42 });
      await waitFor(() => spy.received.length >= before + 4, 3000, 'spy');
      assert.equal(spy.received[before]?.payload, '\u0001\u0002\u0003');
      assert.equal(spy.received[before + 2]?.payload, '{"state":"off","speed":60}');
      assert.equal(spy.received[before + 3]?.payload, '42');
    });
  });
}
