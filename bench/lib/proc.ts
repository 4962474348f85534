/**
 * Process helpers: spawning bench workers (TypeScript through tsx), reading another process's
 * resident memory and CPU time from /proc, and waiting for lines on a child's stdout.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { adopt } from '../../test/helpers/broker.js';

export const ROOT = resolve(import.meta.dirname, '../..');

let clockTicks = 0;
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident set size of a process in bytes (0 when it is gone). */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds a process has used so far (NaN when it is gone). */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/**
 * BENCH_PIN=1: where a process of an ingest comparison runs. The subscriber under test (bare
 * mqtt.js, the bridge with every thread it starts, mosquitto_sub) on CPU 1; the broker, the
 * publishers and the runner on CPU 0. Both sides of a comparison then get one core to themselves,
 * instead of whichever share the scheduler gives three busy processes on two cores (the bare
 * client's rate otherwise swings between about 130k and 220k msg/s from round to round).
 */
export type BenchCpu = 'subject' | 'load';

export const PINNED = process.env.BENCH_PIN === '1';

/** The command and arguments that run `command` on its CPU (unchanged without BENCH_PIN=1). */
export function onCpu(
  cpu: BenchCpu | undefined,
  command: string,
  args: readonly string[],
): [string, string[]] {
  if (!PINNED || cpu === undefined) return [command, [...args]];
  return ['taskset', ['-c', cpu === 'subject' ? '1' : '0', command, ...args]];
}

/** Spawn a bench worker (a .ts file under bench/) with tsx; stdout piped, stderr inherited. */
export function tsxWorker(
  file: string,
  args: readonly string[],
  options: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv; cpu?: BenchCpu } = {},
): ChildProcess {
  const spawnOptions: SpawnOptions = {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: options.env ?? process.env,
  };
  const [command, argv] = onCpu(options.cpu, process.execPath, [
    ...(options.nodeArgs ?? []),
    '--import',
    'tsx',
    file,
    ...args,
  ]);
  return adopt(spawn(command, argv, spawnOptions));
}

/** Call onMessage for every JSON line the child prints on stdout. */
export function jsonLines(child: ChildProcess, onMessage: (message: Record<string, any>) => void): void {
  let buffer = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      if (line !== '') onMessage(JSON.parse(line) as Record<string, any>);
    }
  });
}

/** Run a worker that prints one JSON line with `done: true`; resolve with it. */
export function runWorker(
  file: string,
  args: readonly string[],
  options: { nodeArgs?: readonly string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv; cpu?: BenchCpu } = {},
): Promise<Record<string, any>> {
  const child = tsxWorker(file, args, options);
  return new Promise((resolvePromise, reject) => {
    let result: Record<string, any> | undefined;
    jsonLines(child, (m) => {
      if (m.done === true) result = m;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} timed out`));
    }, options.timeoutMs ?? 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result !== undefined) resolvePromise(result);
      else reject(new Error(`${file} ${args.join(' ')} exited ${code} without a result`));
    });
  });
}

export function waitExit(child: ChildProcess, timeoutMs = 5000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
