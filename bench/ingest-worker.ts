/**
 * One ingest trial in its own process: either the bridge's ingest path (createApp, the same
 * objects the binary builds) or a bare mqtt.js subscriber. Subscribes to bench/#, reports
 * "ready", then counts messages until it has `count`, and reports the rate and memory.
 * Usage: tsx bench/ingest-worker.ts <bridge|bare> <url> <pkiDir> <count>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/logging/logger.js';
import { Scrubber } from '../src/logging/scrub.js';

const [mode, url, pkiDir, countText] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countText);
const files = {
  ca: join(pkiDir, 'ca.crt'),
  cert: join(pkiDir, 'client.crt'),
  key: join(pkiDir, 'client.key'),
};
const send = (message: Record<string, unknown>) => process.stdout.write(JSON.stringify(message) + '\n');

let received = 0;
let first = 0;
const peak = { rss: 0, heap: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peak.rss = Math.max(peak.rss, m.rss);
  peak.heap = Math.max(peak.heap, m.heapUsed);
}, 50);

function tick(): void {
  if (received === 0) first = performance.now();
  received++;
  if (received === count) {
    const seconds = (performance.now() - first) / 1000;
    clearInterval(sampler);
    const m = process.memoryUsage();
    send({
      done: true,
      rate: (count - 1) / seconds,
      seconds,
      rss: Math.max(peak.rss, m.rss),
      heap: Math.max(peak.heap, m.heapUsed),
    });
    setTimeout(() => process.exit(0), 50);
  }
}

if (mode === 'bare') {
  const client = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: new URL(url).hostname,
    port: Number(new URL(url).port),
    protocolVersion: 5,
    ca: readFileSync(files.ca),
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
    reconnectPeriod: 0,
  });
  client.on('message', tick);
  await client.subscribeAsync('bench/#', { qos: 1 });
} else {
  const config = loadConfig(
    {
      MQTT_URL: url,
      MQTT_CA_FILE: files.ca,
      MQTT_CERT_FILE: files.cert,
      MQTT_KEY_FILE: files.key,
      MCP_READ_TOPICS: 'bench/#',
      STORE_MAX_BYTES: process.env.BENCH_STORE_MAX_BYTES ?? String(16 * 1024 * 1024),
      LOG_LEVEL: 'warn',
    },
    (p) => readFileSync(p),
  );
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const logger = createLogger({ level: 'warn', scrubber: new Scrubber(), destination: sink });
  const app = createApp(config, logger, new Scrubber(), 'bench');
  app.link.onMessage(tick);
  await app.start();
  while (!app.link.connected || app.link.subscriptions().length === 0)
    await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 200)); // SUBACK
}
send({ ready: true });
