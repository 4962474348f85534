/**
 * Reading V8 CPU profiles (node --cpu-prof): self and inclusive time per function, and time
 * per area (the bridge's own code, the MCP SDK, zod, mqtt.js, Node internals, GC), optionally
 * restricted to a time window. Profile timestamps are CLOCK_MONOTONIC microseconds, the clock of
 * process.hrtime() in any process on the machine, so the bench can cut out one phase (e.g. the
 * tool calls, without the start-up and the store fill) of a spawned server's profile.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  readonly key: string;
  readonly area: string;
  readonly selfMs: number;
  readonly selfShare: number;
  readonly totalMs: number;
  readonly totalShare: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, idle excluded, ms. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly areas: Array<{ area: string; ms: number; share: number }>;
  readonly topSelf: FunctionTime[];
  /** Inclusive time of the bridge's own functions (dist/ or src/), largest first. */
  readonly bridgeTotal: FunctionTime[];
  /** Inclusive time of the busiest functions of any origin. */
  readonly topTotal: FunctionTime[];
}

export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function shortUrl(url: string): string {
  if (url === '') return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) u = u.slice(nm + '/node_modules/'.length);
  const root = Math.max(u.indexOf('/dist/'), u.indexOf('/src/'));
  if (nm < 0 && root >= 0) u = u.slice(root + 1);
  u = u.replace(/^@modelcontextprotocol\/sdk\/dist\/esm\//, 'sdk/');
  return u;
}

export function areaOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  if (functionName === '(idle)') return 'idle';
  if (url === '') return 'V8/native (program)';
  if (url.includes('/node_modules/@modelcontextprotocol/')) return 'MCP SDK';
  if (url.includes('/node_modules/zod/')) return 'zod';
  if (url.includes('/node_modules/mqtt') || url.includes('/node_modules/mqtt-packet/')) return 'mqtt.js';
  if (url.includes('/node_modules/pino') || url.includes('/node_modules/sonic-boom/')) return 'pino';
  if (
    url.includes('/node_modules/express') ||
    url.includes('/node_modules/router/') ||
    url.includes('/node_modules/body-parser/') ||
    url.includes('/node_modules/raw-body/')
  )
    return 'express';
  if (url.includes('/node_modules/ajv')) return 'ajv';
  if (url.includes('/node_modules/')) return 'other packages';
  if (url.startsWith('node:')) return 'Node internals';
  if (url.includes('/dist/') || url.includes('/src/')) return 'bridge';
  return 'other';
}

export function loadProfile(dir: string): CpuProfile {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
}

export function summarizeProfile(
  profile: CpuProfile,
  window: { fromMicros?: number; toMicros?: number } = {},
  top = 15,
): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (n: ProfileNode) => {
    const f = n.callFrame;
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    const url = shortUrl(f.url);
    return url === '' ? name : `${url}:${f.lineNumber + 1} ${name}`;
  };
  const self = new Map<string, { ms: number; area: string }>();
  const total = new Map<string, number>();
  const areaByKey = new Map<string, string>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // The time of a sample is the delta that precedes the next one; use this one's delta.
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (window.fromMicros !== undefined && t < window.fromMicros) continue;
    if (window.toMicros !== undefined && t > window.toMicros) continue;
    const node = byId.get(profile.samples[i] as number);
    if (node === undefined) continue;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    if (area === 'idle') {
      idle += dt;
      continue;
    }
    busy += dt;
    areas.set(area, (areas.get(area) ?? 0) + dt);
    const k = keyOf(node);
    const s = self.get(k) ?? { ms: 0, area };
    s.ms += dt;
    self.set(k, s);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id) as ProfileNode;
      if (n.callFrame.functionName === '(root)') break;
      const key = keyOf(n);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
      if (!areaByKey.has(key)) areaByKey.set(key, areaOf(n.callFrame.url, n.callFrame.functionName));
    }
  }
  const share = (ms: number) => (busy === 0 ? 0 : ms / busy);
  const rows = [...total.entries()].map(([key, ms]) => {
    const s = self.get(key);
    const area = s?.area ?? areaByKey.get(key) ?? 'other';
    return {
      key,
      area,
      selfMs: s?.ms ?? 0,
      selfShare: share(s?.ms ?? 0),
      totalMs: ms,
      totalShare: share(ms),
    };
  });
  return {
    busyMs: busy,
    idleMs: idle,
    areas: [...areas.entries()]
      .map(([area, ms]) => ({ area, ms, share: share(ms) }))
      .sort((a, b) => b.ms - a.ms),
    topSelf: [...rows].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    bridgeTotal: rows
      .filter((r) => r.key.startsWith('dist/') || r.key.startsWith('src/'))
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top),
    topTotal: [...rows].sort((a, b) => b.totalMs - a.totalMs).slice(0, top),
  };
}
