/**
 * npm run bench: starts its own Mosquitto (two, in fact: set_tcp_nodelay true and false) on
 * loopback with TLS and client certificates, runs every case, and writes
 *   bench/results/latest.json   every figure of the run
 *   docs/BENCHMARKS.md          the report, with charts in docs/bench/*.svg
 * Every comparison alternates the bridge and its baseline (A B A B ...) over at least 5 rounds
 * (3 with BENCH_QUICK=1) and reports the median and min..max of the per-round figure.
 *
 * Environment: BENCH_QUICK=1 (smoke run, 1-2 minutes), BENCH_ROUNDS=n, BENCH_CASES=a,b (subset:
 * coldstart, ingest, publish, nodelay, read, list, http, economy, memory, scaling, chart, sparkplug, history,
 * history-pg, history-pg-replicas, history-timescaledb (needs Docker; only when named), profile),
 * BENCH_PROFILE=0/1 (CPU profiles; on by default, off when quick), BENCH_OUT=dir (where the
 * JSON goes; default bench/results), BENCH_REPORT=0 (no Markdown/SVG).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createPki } from '../test/helpers/pki.js';
import { runChart } from './cases/chart.js';
import { runColdStart } from './cases/coldstart.js';
import { runEconomy } from './cases/economy.js';
import { runHistory } from './cases/history.js';
import { runHistoryIngest } from './cases/history-ingest.js';
import { runHistoryPg } from './cases/history-pg.js';
import { runHistoryPgReplicas } from './cases/history-pg-replicas.js';
import { runHistoryTimescale } from './cases/history-timescaledb.js';
import { runHistoryStart } from './cases/history-start.js';
import { runSparkplugIngest } from './cases/sparkplug-ingest.js';
import { runHttp } from './cases/http.js';
import { runIngest } from './cases/ingest.js';
import { runMemory } from './cases/memory.js';
import { runNodelay } from './cases/nodelay.js';
import { runProfile } from './cases/profile.js';
import { runPublish } from './cases/publish.js';
import { runList, runRead } from './cases/read.js';
import { runScaling } from './cases/scaling.js';
import { startBenchBroker } from './lib/broker.js';
import { benchOptions, packageVersion, type BenchContext } from './lib/context.js';
import { PINNED, ROOT } from './lib/proc.js';
import { writeReport } from './report.js';

const options = benchOptions(process.env);
const started = Date.now();
const log = (message: string) => {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s}s] ${message}\n`);
};

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT }).trim();
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim();
  }
}

const cpus = os.cpus();
const meta = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    loadAverageAtEnd: [] as number[],
  },
  versions: {
    node: process.version,
    mqtt: packageVersion('mqtt'),
    sdk: packageVersion('@modelcontextprotocol/sdk'),
    zod: packageVersion('zod'),
    mosquitto: /mosquitto version (\S+)/.exec(tryRun('/usr/sbin/mosquitto', ['-h']))?.[1] ?? 'unknown',
    mosquittoClients: /version (\S+)/.exec(tryRun('mosquitto_sub', ['--help']))?.[1] ?? 'unknown',
    openssl: tryRun('openssl', ['version']),
    bridge: packageVersion('../'),
    commit: `${tryRun('git', ['rev-parse', '--short', 'HEAD'])}${tryRun('git', ['status', '--porcelain', '--', 'src']) === '' ? '' : ' (src modified)'}`,
  },
  options,
  /** BENCH_PIN=1: subscribers under test on CPU 1, the rest on CPU 0 (bench/lib/proc.ts). */
  pinned: PINNED,
  durations: {} as Record<string, number>,
  totalSeconds: 0,
  errors: {} as Record<string, string>,
};
log(
  `machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGiB} GiB, load ${meta.machine.loadAverageAtStart.join(' ')}`,
);
log(
  `versions: node ${meta.versions.node}, mqtt ${meta.versions.mqtt}, SDK ${meta.versions.sdk}, zod ${meta.versions.zod}, mosquitto ${meta.versions.mosquitto}, ${meta.versions.openssl}`,
);
log(`options: ${JSON.stringify(options)}`);
if (PINNED) {
  if (os.cpus().length < 2) throw new Error('BENCH_PIN=1 needs at least 2 CPUs');
  // The runner (and what it starts unpinned) with the broker and the publishers, on CPU 0.
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  log('BENCH_PIN=1: subscribers under test on CPU 1; broker, publishers and this runner on CPU 0');
}

const pki = createPki();
pki.issueClient('spy');
const broker = await startBenchBroker(pki, { nodelay: true });
const brokerNagle = await startBenchBroker(pki, { nodelay: false });
const ctx: BenchContext = { options, pki, broker, brokerNagle, log };

const CASES: Array<[string, (ctx: BenchContext) => Promise<unknown>]> = [
  ['coldstart', runColdStart],
  ['ingest', runIngest],
  ['publish', runPublish],
  ['nodelay', runNodelay],
  ['read', runRead],
  ['list', runList],
  ['http', runHttp],
  ['economy', runEconomy],
  ['memory', runMemory],
  ['scaling', runScaling],
  ['chart', runChart],
  ['sparkplug', runSparkplugIngest],
  [
    'history',
    async (c) => ({
      ...(await runHistory(c)),
      ingest: await runHistoryIngest(c),
      start: await runHistoryStart(c),
    }),
  ],
  // The ingest part of `history` alone (its report section needs the whole `history` case).
  ['history-ingest', runHistoryIngest],
  ['history-pg', runHistoryPg],
  ['history-pg-replicas', runHistoryPgReplicas],
  // Needs the Docker engine (a TimescaleDB container): only when named.
  ['history-timescaledb', runHistoryTimescale],
  ['profile', runProfile],
];

const results: Record<string, unknown> = {};
try {
  for (const [name, run] of CASES) {
    if (options.cases !== undefined && !options.cases.includes(name)) continue;
    if (name === 'profile' && !options.profile && options.cases?.includes('profile') !== true) continue;
    // Part of `history` in a full run; alone only when named.
    if (name === 'history-ingest' && options.cases?.includes('history-ingest') !== true) continue;
    if (name === 'history-timescaledb' && options.cases?.includes('history-timescaledb') !== true) continue;
    log(`== ${name}`);
    const t = Date.now();
    try {
      results[name] = await run(ctx);
    } catch (error) {
      meta.errors[name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`!! ${name} failed: ${meta.errors[name]}`);
    }
    meta.durations[name] = Math.round((Date.now() - t) / 100) / 10;
    log(`== ${name} done in ${meta.durations[name]} s`);
  }
} finally {
  await broker.stop();
  await brokerNagle.stop();
}
meta.machine.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
meta.totalSeconds = Math.round((Date.now() - started) / 1000);

const out = process.env.BENCH_OUT ?? join(ROOT, 'bench/results');
mkdirSync(out, { recursive: true });
const all = { meta, ...results };
const file = join(out, options.quick ? 'quick.json' : 'latest.json');
writeFileSync(file, JSON.stringify(all, null, 1) + '\n');
log(`wrote ${file}`);
if (process.env.BENCH_REPORT !== '0') {
  const written = await writeReport(all, { quick: options.quick });
  for (const w of written) log(`wrote ${w}`);
}
log(`total ${meta.totalSeconds} s`);
if (Object.keys(meta.errors).length > 0) process.exitCode = 1;
process.exit();
