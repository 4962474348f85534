/**
 * What every case gets: options from the environment, the PKI, the brokers, and small helpers
 * (an mqtt.js client, environments for the spawned bridge and the minimal server).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Pki } from '../../test/helpers/pki.js';
import type { BenchBroker } from './broker.js';
import { ROOT, runWorker } from './proc.js';

export interface BenchOptions {
  /** BENCH_QUICK=1: a smoke run of a minute or two with smaller sizes and 3 rounds. */
  readonly quick: boolean;
  /** BENCH_ROUNDS (default 5, 3 when quick; at least 3). */
  readonly rounds: number;
  /** BENCH_CASES: comma-separated case names to run (default all). */
  readonly cases: readonly string[] | undefined;
  /** BENCH_PROFILE=0 turns the CPU profiles off (default on, off when quick). */
  readonly profile: boolean;
}

export function benchOptions(env: NodeJS.ProcessEnv): BenchOptions {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const rounds = Math.max(3, Number(env.BENCH_ROUNDS ?? (quick ? 3 : 5)) || 5);
  const cases = env.BENCH_CASES?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const profile = env.BENCH_PROFILE === undefined ? !quick : env.BENCH_PROFILE === '1';
  return { quick, rounds, cases, profile };
}

export interface BenchContext {
  readonly options: BenchOptions;
  readonly pki: Pki;
  /** set_tcp_nodelay true (what the compose broker and the tests ship). */
  readonly broker: BenchBroker;
  /** set_tcp_nodelay false (Mosquitto's default). */
  readonly brokerNagle: BenchBroker;
  /** Progress line on stderr. */
  log(message: string): void;
}

export const SERVER = join(ROOT, 'dist/index.js');
export const MINIMAL = join(ROOT, 'bench/minimal-server.mjs');

/** An mqtt.js client with the bridge's certificate (or the spy's). */
export async function connectMqtt(
  ctx: BenchContext,
  options: { broker?: BenchBroker; identity?: 'bridge' | 'spy'; nodelay?: boolean } = {},
): Promise<MqttClient> {
  const broker = options.broker ?? ctx.broker;
  const spy = options.identity === 'spy';
  const client = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: '127.0.0.1',
    port: broker.port,
    protocolVersion: 5,
    ca: readFileSync(ctx.pki.ca),
    cert: readFileSync(spy ? join(ctx.pki.dir, 'spy.crt') : ctx.pki.clientCert),
    key: readFileSync(spy ? join(ctx.pki.dir, 'spy.key') : ctx.pki.clientKey),
    reconnectPeriod: 0,
  });
  if (options.nodelay === true)
    (client.stream as { setNoDelay?: (on: boolean) => unknown }).setNoDelay?.(true);
  return client;
}

/** Environment of the minimal SDK server: the broker and the client identity. */
export function minimalEnv(
  ctx: BenchContext,
  extra: Record<string, string> = {},
  broker: BenchBroker = ctx.broker,
): Record<string, string> {
  return {
    MQTT_URL: broker.url,
    MQTT_CA_FILE: ctx.pki.ca,
    MQTT_CERT_FILE: ctx.pki.clientCert,
    MQTT_KEY_FILE: ctx.pki.clientKey,
    ...extra,
  };
}

/** Environment of dist/index.js: the same, with rate limits out of the way and quiet logs. */
export function bridgeEnv(
  ctx: BenchContext,
  extra: Record<string, string> = {},
  broker: BenchBroker = ctx.broker,
): Record<string, string> {
  return minimalEnv(
    ctx,
    {
      LOG_LEVEL: 'warn',
      MCP_TOOL_RATE_PER_MINUTE: '1000000',
      MCP_PUBLISH_RATE_PER_MINUTE: '1000000',
      MCP_MAX_CONCURRENT_CALLS: '1000',
      ...extra,
    },
    broker,
  );
}

/**
 * Publish a flood from a worker process (bench/workers/flood.ts): `count` messages of `size`
 * bytes over `topics` topics under `prefix`, named by `scheme`. Resolves with the worker's result.
 */
export function publishFlood(
  ctx: BenchContext,
  flood: { count: number; topics: number; size?: number; prefix?: string; scheme?: string },
): Promise<Record<string, any>> {
  const args = [
    ctx.broker.url,
    ctx.pki.dir,
    String(flood.count),
    String(flood.topics),
    String(flood.size ?? 60),
  ];
  if (flood.prefix !== undefined) args.push(flood.prefix, flood.scheme ?? 'flat');
  return runWorker('bench/workers/flood.ts', args, { cpu: 'load' });
}

export function packageVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  ).version;
}
