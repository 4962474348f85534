/**
 * npm run demo:chart: the README's chart, made from the demo's own data. The demo broker and
 * plant run for a minute (telemetry every 500 ms); halfway, line 2's coolant pump is switched
 * off through the bridge, so its temperature climbs; then mqtt_chart draws plant/+/temperature
 * and the PNG is written to docs/images/demo-chart.png (or the path given as the first argument).
 * The bridge is the real one, in-process, recording into a temporary folder that is removed.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { openHistory } from '../src/history/open.js';
import { createLogger } from '../src/logging/logger.js';
import { Scrubber } from '../src/logging/scrub.js';
import { createServer } from '../src/server.js';
import { bridgeEnv } from './bridge.js';
import { startBroker } from './broker.js';
import { ensurePki } from './pki.js';
import { Plant } from './plant.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, 'docs', 'images', 'demo-chart.png'));
const SECONDS = Number(process.env.DEMO_CHART_SECONDS ?? 60);
const say = (line: string) => process.stderr.write(`demo:chart ${line}\n`);

async function main(): Promise<void> {
  const pki = ensurePki(ROOT, join(ROOT, 'demo', '.pki'));
  const broker = await startBroker(pki, 0, say);
  const plant = new Plant(broker, { intervalMs: 500, silentAfterSeconds: 3600, say });
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-demo-chart-'));
  const env = {
    ...bridgeEnv(broker.url, pki, join(ROOT, 'demo', 'catalog.json')),
    HISTORY_PATH: join(dir, 'history.db'),
    HISTORY_FLUSH_MS: '200',
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env, (path) => readFileSync(path));
  const scrubber = new Scrubber(config.secrets);
  const logger = createLogger({ level: config.logLevel, scrubber });
  const history = await openHistory(config.history!, config.policy);
  const app = createApp(config, logger, scrubber, 'demo', undefined, { history });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'demo-chart', version: '1.0.0' });
  await createServer(app.deps).connect(b);
  await client.connect(a);
  try {
    await app.start();
    await plant.start();
    say(`collecting for ${SECONDS} s`);
    await sleep((SECONDS * 1000) / 2);
    await client.callTool({
      name: 'mqtt_publish',
      arguments: { topic: 'plant/line2/pump/cmd', payload: 'off' },
    });
    say('line 2 pump switched off');
    await sleep((SECONDS * 1000) / 2);
    const result = (await client.callTool({
      name: 'mqtt_chart',
      arguments: {
        filter: 'plant/+/temperature',
        sinceSeconds: SECONDS,
        buckets: 60,
        width: 800,
        height: 400,
      },
    })) as CallToolResult;
    const image = result.content.find((c) => c.type === 'image');
    if (result.isError === true || image?.type !== 'image') throw new Error('mqtt_chart gave no image');
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, Buffer.from(image.data, 'base64'));
    say(`wrote ${OUT}`);
  } finally {
    await client.close();
    plant.stop();
    await app.stop(1000);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().catch((error: unknown) => {
  say(`failed: ${(error as Error).message}`);
  process.exit(1);
});
