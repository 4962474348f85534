/**
 * npm run bench: measures the bridge against bare mqtt.js in the same run, on a Mosquitto the
 * bench starts on loopback. Rounds alternate A B A B; figures are ratios to the baseline of the
 * same round, reported as median and spread. Absolute numbers are shown, never judged.
 *
 * Cases:
 *   ingest   msg/s of the bridge's ingest path vs a bare mqtt.js subscriber, same flood
 *   publish  mqtt_publish latency through MCP stdio vs bare mqtt.js publishAsync (QoS 1)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import mqtt from 'mqtt';
import { startBroker } from '../test/helpers/broker.js';
import { createPki } from '../test/helpers/pki.js';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FLOOD = Number(process.env.BENCH_FLOOD ?? 200_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 300);

const pki = createPki();
const spyId = pki.issueClient('spy');
void spyId;
const acl = ['user mcp-bridge', 'topic readwrite bench/#', '', 'user spy', 'topic readwrite #', ''].join(
  '\n',
);
const broker = await startBroker({ pki, acl, nodelay: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const spread = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs) });
const fmt = (n: number, d = 2) => n.toFixed(d);

function tsx(args: string[]): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function lines(child: ReturnType<typeof spawn>, onLine: (m: Record<string, any>) => void): void {
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      onLine(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
}

async function ingestTrial(mode: 'bridge' | 'bare'): Promise<{ rate: number; rss: number }> {
  const worker = tsx(['bench/ingest-worker.ts', mode, broker.url, pki.dir, String(FLOOD)]);
  return new Promise((resolvePromise, reject) => {
    lines(worker, (m) => {
      if (m.ready) {
        const flood = tsx(['bench/flood.ts', broker.url, pki.dir, String(FLOOD), '1000', '60']);
        flood.on('exit', (code) => code !== 0 && reject(new Error(`flood exited ${code}`)));
      }
      if (m.done) resolvePromise({ rate: m.rate, rss: m.rss });
    });
    worker.on('exit', (code) => code !== 0 && reject(new Error(`worker exited ${code}`)));
    setTimeout(() => reject(new Error(`${mode} ingest trial timed out`)), 120_000).unref();
  });
}

async function publishTrial(): Promise<{ bare: number[]; bridge: number[] }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(ROOT, 'dist/index.js')],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      MQTT_URL: broker.url,
      MQTT_CA_FILE: pki.ca,
      MQTT_CERT_FILE: pki.clientCert,
      MQTT_KEY_FILE: pki.clientKey,
      MCP_READ_TOPICS: 'bench/#',
      MCP_WRITE_TOPICS: 'bench/#',
      MQTT_SUBSCRIBE: 'bench/bridge/#',
      LOG_LEVEL: 'warn',
    },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  await client.listTools();
  for (;;) {
    const s = (await client.callTool({ name: 'mqtt_status', arguments: {} })).structuredContent as any;
    if (s.connection.state === 'connected' && s.subscriptions.length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const bare = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: '127.0.0.1',
    port: broker.port,
    protocolVersion: 5,
    ca: readFileSync(pki.ca),
    cert: readFileSync(pki.clientCert),
    key: readFileSync(pki.clientKey),
    reconnectPeriod: 0,
  });
  // Same socket tuning as the bridge (TCP_NODELAY), and like the bridge it reads what it writes.
  (bare.stream as { setNoDelay?: (v: boolean) => unknown }).setNoDelay?.(true);
  await bare.subscribeAsync('bench/bare/#', { qos: 1 });
  const result = { bare: [] as number[], bridge: [] as number[] };
  const payload = '{"t":21.5,"unit":"C","ok":true,"seq":123456,"device":"pump-7"}';
  for (let i = 0; i < 30; i++) {
    await bare.publishAsync('bench/bare/lat', payload, { qos: 1 });
    await client.callTool({ name: 'mqtt_publish', arguments: { topic: 'bench/bridge/lat', payload } });
  }
  for (let i = 0; i < CALLS; i++) {
    let t = performance.now();
    await bare.publishAsync('bench/bare/lat', payload, { qos: 1 });
    result.bare.push(performance.now() - t);
    t = performance.now();
    const r = await client.callTool({
      name: 'mqtt_publish',
      arguments: { topic: 'bench/bridge/lat', payload },
    });
    result.bridge.push(performance.now() - t);
    if (r.isError) throw new Error(JSON.stringify(r.content));
  }
  await bare.endAsync();
  await client.close();
  return result;
}

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  mqtt: JSON.parse(readFileSync(join(ROOT, 'node_modules/mqtt/package.json'), 'utf8')).version,
  sdk: JSON.parse(readFileSync(join(ROOT, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8'))
    .version,
};
process.stderr.write(`machine: ${JSON.stringify(machine)}\n`);

const ingest = {
  ratio: [] as number[],
  bare: [] as number[],
  bridge: [] as number[],
  bridgeRss: [] as number[],
};
for (let round = 0; round < ROUNDS; round++) {
  const a = await ingestTrial('bare');
  const b = await ingestTrial('bridge');
  ingest.bare.push(a.rate);
  ingest.bridge.push(b.rate);
  ingest.bridgeRss.push(b.rss);
  ingest.ratio.push(b.rate / a.rate);
  process.stderr.write(
    `ingest round ${round + 1}: bare ${fmt(a.rate, 0)} msg/s, bridge ${fmt(b.rate, 0)} msg/s, ratio ${fmt(b.rate / a.rate, 3)}, bridge RSS ${fmt(b.rss / 2 ** 20, 1)} MiB\n`,
  );
}

const publish = {
  p50: [] as number[],
  p99: [] as number[],
  bare50: [] as number[],
  bridge50: [] as number[],
};
for (let round = 0; round < ROUNDS; round++) {
  const r = await publishTrial();
  publish.bare50.push(median(r.bare));
  publish.bridge50.push(median(r.bridge));
  publish.p50.push(median(r.bridge) - median(r.bare));
  publish.p99.push(pct(r.bridge, 0.99) - pct(r.bare, 0.99));
  process.stderr.write(
    `publish round ${round + 1}: bare p50 ${fmt(median(r.bare), 3)} ms, bridge p50 ${fmt(median(r.bridge), 3)} ms, overhead p50 ${fmt(median(r.bridge) - median(r.bare), 3)} ms, p99 ${fmt(pct(r.bridge, 0.99) - pct(r.bare, 0.99), 3)} ms\n`,
  );
}
await broker.stop();

const summary = {
  machine,
  config: {
    rounds: ROUNDS,
    flood: FLOOD,
    floodTopics: 1000,
    payloadBytes: 60,
    calls: CALLS,
    brokerNodelay: true,
  },
  ingest: {
    ratioMedian: median(ingest.ratio),
    ratioSpread: spread(ingest.ratio),
    bareMedianMsgPerSec: median(ingest.bare),
    bridgeMedianMsgPerSec: median(ingest.bridge),
    bridgePeakRssMiB: Math.max(...ingest.bridgeRss) / 2 ** 20,
    target: 'ratio >= 0.9',
  },
  publish: {
    overheadP50MsMedian: median(publish.p50),
    overheadP50Spread: spread(publish.p50),
    overheadP99MsMedian: median(publish.p99),
    bareP50Ms: median(publish.bare50),
    bridgeP50Ms: median(publish.bridge50),
    target: 'p50 overhead < 0.2 ms',
  },
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/latest.json'), JSON.stringify(summary, null, 2) + '\n');
process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
