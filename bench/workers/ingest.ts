/**
 * One ingest trial in its own process: the bridge's ingest path (createApp: the same link,
 * store, policy and live feed dist/index.js builds, without an MCP client attached) or a bare
 * mqtt.js subscriber. Both subscribe to '#' with QoS 1. The first message is the retained
 * readiness probe; after it the worker prints {"ready":true}, then counts `count` messages and
 * prints the wall rate (first to last message), the CPU seconds it used for them, and resident
 * memory sampled along the way.
 * Mode `history`: the bridge's ingest path recording into a fresh SQLite history (HISTORY_PATH in
 * a temp dir, defaults otherwise), or into PostgreSQL when BENCH_HISTORY_URL is set (HISTORY_URL);
 * its recorder status (written, queued, dropped) is reported, and, with BENCH_HISTORY_DRAIN=1,
 * the time until everything received was written (recordedRate: records written per second
 * from the first message to the last write) and the CPU seconds up to then.
 * BENCH_REPLICA_ID and BENCH_SHARE_GROUP make it a replica (MQTT_REPLICA_ID, MQTT_SHARE_GROUP,
 * MQTT_SESSION_EXPIRY_SECONDS=2): its collection is a shared subscription, which gets no retained
 * messages, so it is ready once the broker has granted it (no probe); wall-clock times of its
 * first message and last write are reported so that several replicas can be added up.
 * BENCH_AT_LEAST_ONCE=1: a replica's at-least-once recording (MQTT_REPLICA_ID, a kept session,
 * QoS 1 collection; each PUBACK held until its batch commits); its acknowledgement counts are reported.
 * BENCH_STORE_PER_TOPIC sets the bridge's STORE_MAX_MESSAGES_PER_TOPIC (an experiment: what the
 * store's retention costs ingest).
 * Usage: tsx bench/workers/ingest.ts <bridge|bare|history> <url> <pkiDir> <count> [storeMaxBytes]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { openHistories } from '../../src/broker-history.js';
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
const historyWarnings: string[] = [];
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

async function finish(): Promise<void> {
  clearTimeout(idle);
  const drained = process.env.BENCH_HISTORY_DRAIN === '1' ? await drain() : {};
  const seconds = (last - first) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const m = process.memoryUsage();
  samples.push({ messages: received, rss: m.rss, heap: m.heapUsed, ms: last - first });
  const store = app?.deps.store.stats(Date.now());
  const history = app?.deps.history?.recorder.status();
  const acknowledgements = app?.deps.history?.acknowledgements?.();
  send({
    done: true,
    received,
    firstWallMs: Date.now() - (performance.now() - first),
    complete: received >= count,
    rate: (received - 1) / seconds,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rss: m.rss,
    peakRss: Math.max(...samples.map((s) => s.rss)),
    samples,
    store,
    ...(history !== undefined ? { history } : {}),
    ...(acknowledgements !== undefined ? { acknowledgements } : {}),
    ...(historyWarnings.length > 0 ? { historyWarnings } : {}),
    ...drained,
  });
  setTimeout(() => process.exit(0), 20);
}

/** Wait (60 s at most) until the recorder has written everything received. */
async function drain(): Promise<Record<string, number>> {
  const recorder = app?.deps.history?.recorder;
  if (recorder === undefined) return {};
  const until = Date.now() + 60_000;
  while (recorder.status().queued > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - first;
  const c = process.cpuUsage(cpu0);
  const s = recorder.status();
  return {
    recordedRate: s.written / (ms / 1000),
    recordedMs: ms,
    recordedWallMs: Date.now(),
    recordedCpuSeconds: (c.user + c.system) / 1e6,
  };
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
  if (received === count) void finish();
  else if (received % 1000 === 1) {
    // A flood that lost messages in the broker must still end the trial.
    clearTimeout(idle);
    idle = setTimeout(() => void finish(), 3000);
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
      ...(process.env.BENCH_SHARE_GROUP !== undefined
        ? {
            MQTT_REPLICA_ID: process.env.BENCH_REPLICA_ID ?? 'bench',
            MQTT_SHARE_GROUP: process.env.BENCH_SHARE_GROUP,
            MQTT_SESSION_EXPIRY_SECONDS: '2',
          }
        : {}),
      // At-least-once recording as a replica runs it: a kept session, QoS 1 collection, each
      // PUBACK held until its batch is committed.
      ...(process.env.BENCH_AT_LEAST_ONCE === '1'
        ? {
            MQTT_REPLICA_ID: process.env.BENCH_REPLICA_ID ?? 'bench-alo',
            MQTT_SESSION_EXPIRY_SECONDS: '5',
            MQTT_SUBSCRIBE_QOS: '1',
          }
        : {}),
      ...(storeMaxBytes !== undefined ? { STORE_MAX_BYTES: storeMaxBytes } : {}),
      // What keeping messages in memory costs the ingest path: BENCH_STORE_PER_TOPIC=1 keeps only
      // each topic's last value (default: the bridge's 100 per topic).
      ...(process.env.BENCH_STORE_PER_TOPIC !== undefined
        ? { STORE_MAX_MESSAGES_PER_TOPIC: process.env.BENCH_STORE_PER_TOPIC }
        : {}),
      ...(mode === 'history'
        ? process.env.BENCH_HISTORY_URL !== undefined
          ? { HISTORY_URL: process.env.BENCH_HISTORY_URL }
          : { HISTORY_PATH: join(mkdtempSync(join(tmpdir(), 'bench-ingest-')), 'history.db') }
        : {}),
    },
    (p) => readFileSync(p),
  );
  // As main.ts opens it: with a replica id, history keeps the session's packet ids.
  const history = (await openHistories(config)).get(config.brokers[0]?.name ?? 'default')?.backend;
  // The bridge's warnings about history (a pause and its reason) are kept for the report.
  const sink = new Writable({
    write: (chunk: Buffer, _e, done) => {
      const line = chunk.toString();
      if (line.includes('history:') && historyWarnings.length < 5)
        historyWarnings.push(line.trim().slice(0, 400));
      done();
    },
  });
  const scrubber = new Scrubber(config.secrets);
  const logger = createLogger({ level: 'warn', scrubber, destination: sink });
  app = createApp(config, logger, scrubber, 'bench', createAuditLog({ scrubber, destination: sink }), {
    ...(history !== undefined ? { history } : {}),
  });
  app.link.onMessage(tick);
  await app.start();
  if (process.env.BENCH_SHARE_GROUP !== undefined) {
    const link = app.link;
    const until = Date.now() + 10_000;
    while (link.subscriptions().some((f) => link.grantedAt(f) === undefined) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    probe = true;
    cpu0 = process.cpuUsage();
    send({ ready: true });
  }
}
