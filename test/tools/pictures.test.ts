/**
 * mqtt_chart and mqtt_export over a real McpServer and SDK Client, a real Mosquitto over mutual
 * TLS and a real history file: the chart's PNG decodes at the asked size beside the same numbers as
 * mqtt_summarize; the export's rows are the recorded messages, formulas neutralised, and its parts
 * join up without a loss or a repeat.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PNG } from 'pngjs';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
let spy: Spy;
let dir: string;
let bridge: TestBridge;
const VALUES = [20, 21, 22.5, 19, 23, 24];
const CELLS = ['=HYPERLINK("http://x")', '+1+2', '@SUM(A1)', 'plain'];

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki);
  dir = mkdtempSync(join(tmpdir(), 'mqtt-pictures-'));
  bridge = await startBridge(
    bridgeEnv(broker, pki, { HISTORY_PATH: join(dir, 'h.db'), HISTORY_FLUSH_MS: '50' }),
  );
  await waitFor(() => bridge.app.link.connected, 5000, 'connected');
  for (const v of VALUES) {
    await spy.publish('plant/line2/temperature', JSON.stringify({ temp: v }), { qos: 1 });
    await sleep(3); // distinct receive times
  }
  for (const c of CELLS) await spy.publish('plant/line2/note', c, { qos: 1 });
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const s = await bridge.ok('mqtt_status');
    if (s.history.written >= VALUES.length + CELLS.length) break;
    await sleep(50);
  }
});
after(async () => {
  await bridge?.close();
  await spy?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function image(result: CallToolResult): PNG {
  const item = result.content.find((c) => c.type === 'image');
  assert.ok(item !== undefined && item.type === 'image', 'an image content item');
  assert.equal(item.mimeType, 'image/png');
  return PNG.sync.read(Buffer.from(item.data, 'base64'));
}

function resourceText(result: CallToolResult): { text: string; mimeType: string | undefined } {
  const item = result.content.find((c) => c.type === 'resource');
  assert.ok(
    item !== undefined && item.type === 'resource' && 'text' in item.resource,
    'an embedded resource',
  );
  return { text: item.resource.text, mimeType: item.resource.mimeType };
}

describe('mqtt_chart', () => {
  it('returns a PNG of the asked size and the same series as mqtt_summarize', async () => {
    const args = { filter: 'plant/line2/temperature', sinceSeconds: 600, buckets: 12 };
    const result = (await bridge.client.callTool({
      name: 'mqtt_chart',
      arguments: { ...args, width: 640, height: 320 },
    })) as CallToolResult;
    assert.notEqual(result.isError, true);
    const png = image(result);
    assert.equal(png.width, 640);
    assert.equal(png.height, 320);
    const data = result.structuredContent as Record<string, any>;
    assert.ok(data.image.bytes < 200 * 1024, `${data.image.bytes} bytes`);
    assert.equal(data.image.width, 640);
    const summary = await bridge.ok('mqtt_summarize', args);
    assert.deepEqual(
      data.series.map((s: { count: number; min: number; max: number }) => [s.count, s.min, s.max]),
      summary.series.map((s: { count: number; min: number; max: number }) => [s.count, s.min, s.max]),
    );
    assert.equal(data.series[0].count, VALUES.length);
    // The picture is not blank: some pixels are neither white nor near-white.
    let ink = 0;
    for (let i = 0; i < png.data.length; i += 4) if ((png.data[i] as number) < 200) ink++;
    assert.ok(ink > 500, `${ink} dark pixels`);
    // The tool opens the MCP App view where the host supports it.
    const { tools } = await bridge.client.listTools();
    const chart = tools.find((t) => t.name === 'mqtt_chart');
    assert.ok(JSON.stringify(chart?._meta ?? {}).includes('ui://mqtt-mcp-bridge/chart.html'));
  });

  it('refuses an unknown time zone and a size out of bounds', async () => {
    assert.match(await bridge.fails('mqtt_chart', { filter: 'plant/#', timeZone: 'Mars/Olympus' }), /IANA/);
    assert.match(await bridge.fails('mqtt_chart', { filter: 'plant/#', width: 100_000 }), /INVALID_INPUT/);
  });
});

describe('mqtt_export', () => {
  it('rows are the recorded messages, oldest first, formulas quoted as text', async () => {
    const result = (await bridge.client.callTool({
      name: 'mqtt_export',
      arguments: { filter: 'plant/line2/note', sinceSeconds: 600 },
    })) as CallToolResult;
    const { text, mimeType } = resourceText(result);
    assert.equal(mimeType, 'text/csv');
    const lines = text.trim().split(/\r?\n/);
    assert.equal(lines[0], 'receivedAt,topic,qos,retain,sizeBytes,truncated,encoding,payload');
    assert.equal(lines.length, 1 + CELLS.length);
    for (const cell of ['"\'=HYPERLINK(""http://x"")"', '"\'+1+2"', '"\'@SUM(A1)"']) {
      assert.ok(text.includes(`,${cell}`), `${cell} in ${text}`);
    }
    assert.ok(!lines.some((l) => /,=|,\+1|,@SUM/.test(l)), 'no cell starts with a formula character');
    assert.ok(lines.at(-1)?.endsWith(',plain'));
  });

  it('JSON Lines with a field: one row per value; parts join without a loss or a repeat', async () => {
    const seen: number[] = [];
    let to: string | undefined;
    for (let part = 0; part < 10; part++) {
      const result = (await bridge.client.callTool({
        name: 'mqtt_export',
        arguments: {
          filter: 'plant/line2/temperature',
          field: 'temp',
          format: 'jsonl',
          limit: 4,
          ...(to === undefined
            ? { sinceSeconds: 600 }
            : { from: new Date(Date.now() - 600_000).toISOString(), to }),
        },
      })) as CallToolResult;
      const { text, mimeType } = resourceText(result);
      assert.equal(mimeType, 'application/jsonl');
      const rows = text
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { field: string; value: number });
      for (const r of rows) assert.equal(r.field, 'temp');
      seen.unshift(...rows.map((r) => r.value));
      const data = result.structuredContent as { next?: { to: string }; more?: true };
      if (data.next === undefined) break;
      assert.equal(data.more, true);
      to = data.next.to;
    }
    assert.deepEqual(seen, VALUES);
  });
});
