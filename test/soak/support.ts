/**
 * Shared by the soak tests: durations (short unless SOAK=1), the built server's own figures read
 * from its Prometheus /metrics, and the flood publisher process.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { adopt } from '../helpers/broker.js';
import { ROOT, type SpawnedBridge } from '../helpers/spawned.js';

export const SOAK = process.env.SOAK === '1';

/** The memory limit of the bridge container in docker-compose.yml. */
export const CONTAINER_LIMIT_BYTES = 256 * 1024 * 1024;

/**
 * The V8 heap cap the image sets (Dockerfile, ENV NODE_OPTIONS); test/docker checks that they
 * match. Without it Node sizes the heap from the cgroup limit (259 MiB in a 256 MiB cgroup),
 * which leaves no room for Node's own native memory.
 */
export const CONTAINER_HEAP_MIB = 160;

/**
 * The V8 heap the server gets inside that container: the image's cap, and the young generation
 * Node sizes from a 256 MiB memory cgroup (up to 4 MiB, measured in the stand-in image with
 * --memory 256m). On a host with gigabytes free, V8 sizes the young generation from the host's
 * memory instead (64-128 MiB), which alone pushes RSS past the container's limit; the second
 * flag reproduces the container's size (about 6 MiB).
 */
export const CONTAINER_NODE_OPTIONS = `--max-old-space-size=${CONTAINER_HEAP_MIB} --max-semi-space-size=2`;

export interface ServerFigures {
  /** process_resident_memory_bytes */
  readonly rss: number;
  readonly heapUsed: number;
  /** Event-loop delay p99 since the previous scrape (prom-client resets it per scrape), seconds. */
  readonly lagP99: number;
}

/** Read the spawned HTTP server's own process figures from /metrics (prefix mqtt_mcp_bridge_). */
export async function serverFigures(bridge: SpawnedBridge): Promise<ServerFigures> {
  if (bridge.url === undefined || bridge.token === undefined) throw new Error('an HTTP bridge is needed');
  const response = await fetch(`${bridge.url}/metrics`, {
    headers: { Authorization: `Bearer ${bridge.token}` },
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const metric = (name: string): number => {
    const match = new RegExp(`^mqtt_mcp_bridge_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (match === null) throw new Error(`metric ${name} missing from /metrics`);
    return Number(match[1]);
  };
  return {
    rss: metric('process_resident_memory_bytes'),
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    lagP99: metric('nodejs_eventloop_lag_p99_seconds'),
  };
}

export interface Publisher {
  /** Resolves when the publisher is connected. */
  readonly ready: Promise<void>;
  /** Resolves with its summary when it has sent everything and exited. */
  readonly done: Promise<{ sent: number; seconds: number }>;
  readonly exited: () => boolean;
}

/** Start test/soak/flood-publisher.ts as its own process. */
export function startPublisher(options: {
  url: string;
  pkiDir: string;
  rate: number;
  seconds: number;
  topics: number;
  size: number;
  prefix: string;
  /** After the topic's number. */
  suffix?: string;
}): Publisher {
  const child = adopt(
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'test/soak/flood-publisher.ts'),
        options.url,
        options.pkiDir,
        String(options.rate),
        String(options.seconds),
        String(options.topics),
        String(options.size),
        options.prefix,
        ...(options.suffix !== undefined ? [options.suffix] : []),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('"ready":true')) onReady();
  });
  const done = new Promise<{ sent: number; seconds: number }>((resolve, reject) => {
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.includes('"sent"')) {
        reject(new Error(`flood publisher exited ${code}: ${stderr.slice(-2000)}`));
      } else {
        resolve(JSON.parse(last) as { sent: number; seconds: number });
      }
    });
  });
  // Fail `ready` too when the process dies before connecting.
  const readyOrDied = Promise.race([ready, done.then(() => undefined)]);
  return { ready: readyOrDied, done, exited: () => child.exitCode !== null || child.signalCode !== null };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}
