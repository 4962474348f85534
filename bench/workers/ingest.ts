/**
 * One ingest trial in its own process: the bridge's ingest path (createApp: the same link,
 * store, policy and live feed dist/index.js builds, without an MCP client attached) or a bare
 * mqtt.js subscriber. Both subscribe to '#' with QoS 1. The first message is the retained
 * readiness probe; after it the worker prints {"ready":true}, then counts `count` messages and
 * prints the wall rate (first to last message), the CPU seconds it used for them, and resident
 * memory sampled along the way.
 * Mode `history`: the bridge's ingest path recording into a fresh SQLite history (HISTORY_PATH in
 * a temp dir, defaults otherwise); its recorder status (written, queued, dropped) is reported.
 * Usage: tsx bench/workers/ingest.ts <bridge|bare|history> <url> <pkiDir> <count> [storeMaxBytes]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { openHistory } from '../../src/history/open.js';
import { createAuditLog } from '../../src/logging/audit.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';

const [mode, url, pkiDir, countText, storeMaxBytes] = process.argv.slice(2) as [
  'bridge' | 'bare' | 'history',
  string,
  string,
  string,
  string?,
];
const count = Number(countText);
const files = {
  ca: join(pkiDir, 'ca.crt'),
  cert: join(pkiDir, 'client.crt'),
  key: join(pkiDir, 'client.key'),
};
const send = (message: Record<string, unknown>) => process.stdout.write(JSON.stringify(message) + '\n');

let app: App | undefined;
let probe = false;
let received = 0;
let first = 0;
let last = 0;
let cpu0 = process.cpuUsage();
const samples: Array<{ messages: number; rss: number; heap: number; ms: number; liveHeap?: number }> = [];
// BENCH_GC_SAMPLES=1 (with --expose-gc): also the heap after a full GC at every sample, i.e. what
// is really retained (slows the trial; for the memory curve only).
const gc = process.env.BENCH_GC_SAMPLES === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
const sampleEvery = Math.max(1, Math.floor(count / 40));
let idle: NodeJS.Timeout | undefined;

function finish(): void {
  clearTimeout(idle);
  const seconds = (last - first) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const m = process.memoryUsage();
  samples.push({ messages: received, rss: m.rss, heap: m.heapUsed, ms: last - first });
  const store = app?.deps.store.stats(Date.now());
  const history = app?.deps.history?.recorder.status();
  send({
    done: true,
    received,
    complete: received >= count,
    rate: (received - 1) / seconds,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rss: m.rss,
    peakRss: Math.max(...samples.map((s) => s.rss)),
    samples,
    store,
    ...(history !== undefined ? { history } : {}),
  });
  setTimeout(() => process.exit(0), 20);
}

function tick(): void {
  if (!probe) {
    probe = true;
    cpu0 = process.cpuUsage();
    send({ ready: true });
    return;
  }
  const now = performance.now();
  if (received === 0) first = now;
  last = now;
  received++;
  if (received % sampleEvery === 0) {
    const m = process.memoryUsage();
    let liveHeap: number | undefined;
    if (gc !== undefined) {
      gc();
      liveHeap = process.memoryUsage().heapUsed;
    }
    samples.push({
      messages: received,
      rss: m.rss,
      heap: m.heapUsed,
      ms: now - first,
      ...(liveHeap !== undefined ? { liveHeap } : {}),
    });
  }
  if (received === count) finish();
  else if (received % 1000 === 1) {
    // A flood that lost messages in the broker must still end the trial.
    clearTimeout(idle);
    idle = setTimeout(finish, 3000);
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
  await client.subscribeAsync('#', { qos: 1 });
} else {
  const config = loadConfig(
    {
      MQTT_URL: url,
      MQTT_CA_FILE: files.ca,
      MQTT_CERT_FILE: files.cert,
      MQTT_KEY_FILE: files.key,
      MCP_READ_TOPICS: '#',
      LOG_LEVEL: 'warn',
      ...(storeMaxBytes !== undefined ? { STORE_MAX_BYTES: storeMaxBytes } : {}),
      ...(mode === 'history'
        ? { HISTORY_PATH: join(mkdtempSync(join(tmpdir(), 'bench-ingest-')), 'history.db') }
        : {}),
    },
    (p) => readFileSync(p),
  );
  const history = config.history === undefined ? undefined : await openHistory(config.history, config.policy);
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const scrubber = new Scrubber(config.secrets);
  const logger = createLogger({ level: 'warn', scrubber, destination: sink });
  app = createApp(config, logger, scrubber, 'bench', createAuditLog({ scrubber, destination: sink }), {
    ...(history !== undefined ? { history } : {}),
  });
  app.link.onMessage(tick);
  await app.start();
}
