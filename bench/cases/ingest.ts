/**
 * Ingest flood: 200,000 QoS 0 messages of 60 bytes over 1,000 topics, published by a separate
 * process, received by a subscriber to '#' (QoS 1). Per round, in this order:
 *   A bare mqtt.js subscriber, B the bridge's ingest path (createApp), C mosquitto_sub (the C
 *   client: the physical ceiling of a subscriber on this machine).
 * Figures: wall msg/s from the first to the last message (the issue's definition), and CPU
 * capacity (messages per CPU-second of the subscriber), which does not depend on who else
 * competes for the two cores. The bridge's resident memory is sampled along the flood; with
 * 1,000 topics and 100 messages per topic the store reaches its cap at 100,000 messages.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { adopt } from '../../test/helpers/broker.js';
import type { BenchContext } from '../lib/context.js';
import { connectMqtt, publishFlood } from '../lib/context.js';
import { cpuOf, jsonLines, onCpu, sleep, tsxWorker } from '../lib/proc.js';
import { linearFit, spread, type Spread } from '../lib/stats.js';

export interface IngestTrial {
  readonly rate: number;
  readonly cpuSeconds: number;
  readonly capacity: number;
  readonly received: number;
  readonly complete: boolean;
  readonly peakRss?: number;
  readonly samples?: Array<{ messages: number; rss: number; heap: number; ms: number; liveHeap?: number }>;
  readonly store?: Record<string, any>;
  /** Mode history: the recorder's status when the last message arrived. */
  readonly history?: Record<string, any>;
  /** Mode history with BENCH_HISTORY_DRAIN=1: records written per second, first message to last write. */
  readonly recordedRate?: number;
  readonly recordedCpuSeconds?: number;
  /** Wall-clock ms (Date.now) of the first message and, with BENCH_HISTORY_DRAIN=1, of the last write. */
  readonly firstWallMs?: number;
  readonly recordedWallMs?: number;
  /** The bridge's history warnings during the trial (a pause and its reason). */
  readonly historyWarnings?: readonly string[];
  /** BENCH_AT_LEAST_ONCE=1: the link's held PUBACK counts (mqtt_status history.acknowledgements). */
  readonly acknowledgements?: Record<string, number>;
}

export interface IngestRound {
  readonly bare: IngestTrial;
  readonly bridge: IngestTrial;
  readonly mosquittoSub: IngestTrial;
  readonly publisherRate: number;
}

export interface IngestModeResult {
  readonly rounds: IngestRound[];
  /** bridge / bare wall msg/s, per round. */
  readonly ratio: Spread;
  /** bridge / bare messages per CPU-second, per round. */
  readonly capacityRatio: Spread;
  /** bridge / mosquitto_sub wall msg/s. */
  readonly ceilingRatio: Spread;
  readonly bareRate: Spread;
  readonly bridgeRate: Spread;
  readonly subRate: Spread;
  readonly bareCapacity: Spread;
  readonly bridgeCapacity: Spread;
  readonly subCapacity: Spread;
  readonly bridgePeakRss: Spread;
  readonly incomplete: number;
}

export interface IngestResult {
  readonly flood: number;
  readonly topics: number;
  readonly payloadBytes: number;
  readonly drain: IngestModeResult;
  readonly live: IngestModeResult;
  /** A longer live flood into the bridge alone: RSS per message once the store is at its cap. */
  readonly long:
    | {
        flood: number;
        /** The natural trial: RSS as V8 lets it grow. */
        samples: IngestTrial['samples'];
        /** RSS slope after the cap (includes garbage V8 has not collected yet). */
        slopeBytesPerMessageAfterCap: number;
        rssAtCap: number;
        rssAtEnd: number;
        rssPeak: number;
        /** The trial with a full GC at every sample. */
        gcFlood: number;
        gcSamples: IngestTrial['samples'];
        /** Slope of the heap after a full GC: what is really retained per message. */
        liveSlopeBytesPerMessageAfterCap: number;
        liveHeapAtCap: number;
        liveHeapAtEnd: number;
        gcRssAtCap: number;
        gcRssAtEnd: number;
        store: Record<string, any> | undefined;
      }
    | undefined;
}

const PROBE = 'bench/ready';
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

interface Subscriber {
  /** Signal the subscriber (and, for a shell wrapper, its children). */
  signal(signal: NodeJS.Signals): void;
  readonly ready: Promise<void>;
  readonly done: Promise<IngestTrial>;
}

export type FloodMode = 'drain' | 'live';

/**
 * live: the flood runs while the subscriber reads (publisher, broker and subscriber share the
 * two cores). drain: the subscriber is stopped (SIGSTOP) while the publisher floods and the
 * broker routes and queues everything, then continued: it drains at its own speed, so the wall
 * rate is the subscriber's capacity rather than the slower of three processes on two cores.
 */
export async function floodInto(
  ctx: BenchContext,
  startSubscriber: () => Subscriber,
  count: number,
  topics: number,
  size: number,
  mode: FloodMode,
): Promise<{ trial: IngestTrial; publisherRate: number }> {
  const sub = startSubscriber();
  await sub.ready;
  if (mode === 'drain') sub.signal('SIGSTOP');
  const flood = publishFlood(ctx, { count, topics, size });
  if (mode === 'drain') {
    await flood;
    await brokerIdle(ctx);
    sub.signal('SIGCONT');
  }
  const [trial, published] = await Promise.all([sub.done, flood]);
  return { trial, publisherRate: Number(published.rate) };
}

/** Wait until the broker has routed everything it received (its CPU time stops moving). */
async function brokerIdle(ctx: BenchContext): Promise<void> {
  let before = cpuOf(ctx.broker.pid);
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const now = cpuOf(ctx.broker.pid);
    if (now - before < 0.011) return;
    before = now;
  }
}

export function nodeSubscriber(
  ctx: BenchContext,
  mode: 'bare' | 'bridge' | 'history',
  count: number,
  gcSamples = false,
  env: Record<string, string> = {},
) {
  return () => {
    const child = tsxWorker(
      'bench/workers/ingest.ts',
      [mode, ctx.broker.url, ctx.pki.dir, String(count)],
      gcSamples
        ? {
            nodeArgs: ['--expose-gc'],
            env: { ...process.env, ...env, BENCH_GC_SAMPLES: '1' },
            cpu: 'subject',
          }
        : { env: { ...process.env, ...env }, cpu: 'subject' },
    );
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (onReady = r));
    const done = new Promise<IngestTrial>((resolve, reject) => {
      jsonLines(child, (m) => {
        if (m.ready === true) onReady();
        if (m.done === true) {
          resolve({
            rate: m.rate,
            cpuSeconds: m.cpuSeconds,
            capacity: m.received / m.cpuSeconds,
            received: m.received,
            complete: m.complete,
            peakRss: m.peakRss,
            samples: m.samples,
            store: m.store,
            history: m.history,
            ...(m.firstWallMs !== undefined ? { firstWallMs: m.firstWallMs } : {}),
            ...(m.recordedWallMs !== undefined ? { recordedWallMs: m.recordedWallMs } : {}),
            ...(m.recordedRate !== undefined
              ? { recordedRate: m.recordedRate, recordedCpuSeconds: m.recordedCpuSeconds }
              : {}),
            ...(m.historyWarnings !== undefined ? { historyWarnings: m.historyWarnings } : {}),
            ...(m.acknowledgements !== undefined ? { acknowledgements: m.acknowledgements } : {}),
          });
        }
      });
      child.on('exit', (code) => code !== 0 && reject(new Error(`${mode} ingest worker exited ${code}`)));
    });
    return { ready, done, signal: (signal: NodeJS.Signals) => child.kill(signal) };
  };
}

function mosquittoSub(ctx: BenchContext, count: number) {
  return () => {
    const args = [
      '-h',
      '127.0.0.1',
      '-p',
      String(ctx.broker.port),
      '-V',
      '5',
      '-q',
      '1',
      '-t',
      '#',
      '--cafile',
      ctx.pki.ca,
      '--cert',
      ctx.pki.clientCert,
      '--key',
      ctx.pki.clientKey,
      '-i',
      `bench-sub-${process.pid}-${Date.now()}`,
      '-C',
      String(count + 1),
      '-F',
      '.',
      '-N',
    ];
    const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    // bash's `times` prints the CPU time of the waited-for child: mosquitto_sub's own.
    const child = adopt(
      spawn(...onCpu('subject', 'bash', ['-c', `mosquitto_sub ${quoted}; times >&2`]), {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (onReady = r));
    let bytes = 0;
    let first = 0;
    let last = 0;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      const now = performance.now();
      const before = bytes;
      bytes += d.length;
      if (before === 0) onReady();
      if (before <= 1 && bytes > 1) first = now;
      last = now;
    });
    const done = new Promise<IngestTrial>((resolve, reject) => {
      child.on('exit', (code) => {
        const lines = stderr.trim().split('\n');
        const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines[lines.length - 1] ?? '');
        if (code !== 0 || m === null) {
          reject(new Error(`mosquitto_sub failed (${code}): ${stderr}`));
          return;
        }
        const cpu = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
        const received = bytes - 1;
        resolve({
          rate: (received - 1) / ((last - first) / 1000),
          cpuSeconds: cpu,
          capacity: received / cpu,
          received,
          complete: received >= count,
        });
      });
    });
    // The whole process group: bash and mosquitto_sub.
    return { ready, done, signal: (signal: NodeJS.Signals) => process.kill(-(child.pid ?? 0), signal) };
  };
}

function summarize(rounds: IngestRound[]): IngestModeResult {
  const r = (f: (x: IngestRound) => number) => spread(rounds.map(f));
  return {
    rounds,
    ratio: r((x) => x.bridge.rate / x.bare.rate),
    capacityRatio: r((x) => x.bridge.capacity / x.bare.capacity),
    ceilingRatio: r((x) => x.bridge.rate / x.mosquittoSub.rate),
    bareRate: r((x) => x.bare.rate),
    bridgeRate: r((x) => x.bridge.rate),
    subRate: r((x) => x.mosquittoSub.rate),
    bareCapacity: r((x) => x.bare.capacity),
    bridgeCapacity: r((x) => x.bridge.capacity),
    subCapacity: r((x) => x.mosquittoSub.capacity),
    bridgePeakRss: r((x) => x.bridge.peakRss ?? NaN),
    incomplete: rounds.filter((x) => !x.bare.complete || !x.bridge.complete || !x.mosquittoSub.complete)
      .length,
  };
}

export async function runIngest(ctx: BenchContext): Promise<IngestResult> {
  const { quick } = ctx.options;
  // The wall rates of three busy processes on two cores swing from round to round; more rounds
  // than the other cases keep the median stable.
  const rounds = quick ? ctx.options.rounds : Math.max(ctx.options.rounds, 9);
  const flood = quick ? 30_000 : 200_000;
  const topics = 1000;
  const size = 60;
  const spy = await connectMqtt(ctx, { identity: 'spy' });
  await spy.publishAsync(PROBE, 'ready', { qos: 1, retain: true });
  const byMode: Record<FloodMode, IngestRound[]> = { drain: [], live: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of quick ? (['live'] as const) : (['drain', 'live'] as const)) {
        // A B C in odd rounds, C B A in even ones, so that a drift in the machine's load does not
        // always favour the same subscriber.
        const order =
          round % 2 === 0 ? (['bare', 'bridge', 'sub'] as const) : (['sub', 'bridge', 'bare'] as const);
        const got: Partial<Record<'bare' | 'bridge' | 'sub', { trial: IngestTrial; publisherRate: number }>> =
          {};
        for (const who of order) {
          got[who] = await floodInto(
            ctx,
            who === 'sub' ? mosquittoSub(ctx, flood) : nodeSubscriber(ctx, who, flood),
            flood,
            topics,
            size,
            mode,
          );
        }
        const bare = got.bare!;
        const bridge = got.bridge!;
        const sub = got.sub!;
        byMode[mode].push({
          bare: bare.trial,
          bridge: bridge.trial,
          mosquittoSub: sub.trial,
          publisherRate: bridge.publisherRate,
        });
        const t = (x: IngestTrial) =>
          `${Math.round(x.rate)} msg/s, ${Math.round(x.capacity)}/cpu-s${x.complete ? '' : ` INCOMPLETE ${x.received}`}`;
        ctx.log(
          `ingest ${mode} round ${round + 1}: bare ${t(bare.trial)}; bridge ${t(bridge.trial)}; mosquitto_sub ${t(sub.trial)}; ` +
            `ratio ${(bridge.trial.rate / bare.trial.rate).toFixed(3)}, bridge peak RSS ${((bridge.trial.peakRss ?? 0) / 2 ** 20).toFixed(0)} MiB`,
        );
      }
    }
    let long: IngestResult['long'];
    if (!quick) {
      // Natural: RSS as an operator sees it, V8 collecting when it decides to.
      const naturalFlood = 5 * flood;
      const natural = (
        await floodInto(ctx, nodeSubscriber(ctx, 'bridge', naturalFlood), naturalFlood, topics, size, 'live')
      ).trial;
      // With a full GC at every sample: what the process really retains.
      const gcFlood = 3 * flood;
      const collected = (
        await floodInto(ctx, nodeSubscriber(ctx, 'bridge', gcFlood, true), gcFlood, topics, size, 'live')
      ).trial;
      const cap = topics * 100;
      const atOrAfter = (list: IngestTrial['samples'], n: number) =>
        (list ?? []).find((s) => s.messages >= n);
      const last = (list: IngestTrial['samples']) => list?.[list.length - 1];
      const tail = (list: IngestTrial['samples']) =>
        (list ?? []).filter((s) => s.messages >= cap + flood / 4);
      const fit = linearFit(
        tail(natural.samples).map((s) => s.messages),
        tail(natural.samples).map((s) => s.rss),
      );
      const gcSamples = (collected.samples ?? []).filter((s) => s.liveHeap !== undefined);
      const liveFit = linearFit(
        tail(gcSamples).map((s) => s.messages),
        tail(gcSamples).map((s) => s.liveHeap ?? NaN),
      );
      long = {
        flood: naturalFlood,
        samples: natural.samples,
        slopeBytesPerMessageAfterCap: fit.slope,
        rssAtCap: atOrAfter(natural.samples, cap)?.rss ?? NaN,
        rssAtEnd: last(natural.samples)?.rss ?? NaN,
        rssPeak: Math.max(...(natural.samples ?? []).map((s) => s.rss)),
        gcFlood,
        gcSamples,
        liveSlopeBytesPerMessageAfterCap: liveFit.slope,
        liveHeapAtCap: atOrAfter(gcSamples, cap)?.liveHeap ?? NaN,
        liveHeapAtEnd: last(gcSamples)?.liveHeap ?? NaN,
        gcRssAtCap: atOrAfter(gcSamples, cap)?.rss ?? NaN,
        gcRssAtEnd: last(gcSamples)?.rss ?? NaN,
        store: natural.store,
      };
      ctx.log(
        `ingest long flood: ${naturalFlood} msgs, RSS at cap ${mib(long.rssAtCap)}, at end ${mib(long.rssAtEnd)}, peak ${mib(long.rssPeak)}; ` +
          `with a GC at every sample (${gcFlood} msgs): heap ${mib(long.liveHeapAtCap)} -> ${mib(long.liveHeapAtEnd)}, RSS ${mib(long.gcRssAtCap)} -> ${mib(long.gcRssAtEnd)}`,
      );
    }
    return {
      flood,
      topics,
      payloadBytes: size,
      drain: summarize(byMode.drain.length > 0 ? byMode.drain : byMode.live),
      live: summarize(byMode.live),
      long,
    };
  } finally {
    await spy.publishAsync(PROBE, '', { qos: 1, retain: true });
    await spy.endAsync();
  }
}

export const INGEST_PROBE = PROBE;
export const ingestFiles = { worker: join('bench', 'workers', 'ingest.ts') };
