/**
 * Cold start: spawn to `tools/list` answered, broker up, for the bridge (dist/index.js) and the
 * minimal SDK server (which also loads mqtt.js and starts a TLS connection in the background).
 * The initialize request is written as soon as the process is spawned. Per round, K spawns of
 * each, alternating A B A B; the figure is the per-round ratio of medians.
 * Then the import cost of the modules the bridge loads in stdio mode, each timed in a fresh
 * process on top of what the minimal server loads anyway (SDK server + stdio, zod, mqtt.js).
 */
import { execFileSync } from 'node:child_process';
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, MINIMAL, minimalEnv, SERVER } from '../lib/context.js';
import { ROOT } from '../lib/proc.js';
import { spawnStdio } from '../lib/rpc.js';
import { median, spread, type Spread } from '../lib/stats.js';

export interface ColdStartResult {
  readonly spawnsPerRound: number;
  readonly rounds: Array<{ bridge: number[]; minimal: number[] }>;
  readonly ratio: Spread;
  readonly bridgeMs: Spread;
  readonly minimalMs: Spread;
  readonly imports: Array<{ module: string; ms: number; note: string }>;
}

/** Milliseconds from spawn to `tools/list` answered over stdio. */
export async function startOnce(script: string, env: Record<string, string>): Promise<number> {
  const t = performance.now();
  const rpc = spawnStdio(script, env);
  await rpc.initialize();
  await rpc.request('tools/list');
  const ms = performance.now() - t;
  await rpc.close();
  return ms;
}

/** Milliseconds to import `target` in a fresh Node process after importing `preload`. */
function importCost(preload: readonly string[], target: string): number {
  const code = [
    ...preload.map((m) => `await import(${JSON.stringify(m)});`),
    'const t = performance.now();',
    `await import(${JSON.stringify(target)});`,
    'process.stdout.write(String(performance.now() - t));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return Number(out);
}

export async function runColdStart(ctx: BenchContext): Promise<ColdStartResult> {
  const k = ctx.options.quick ? 2 : 6;
  const rounds: ColdStartResult['rounds'] = [];
  const benv = bridgeEnv(ctx, { MCP_READ_TOPICS: 'bench/#' });
  const menv = minimalEnv(ctx);
  // One of each to warm the file system cache.
  await startOnce(MINIMAL, menv);
  await startOnce(SERVER, benv);
  for (let round = 0; round < ctx.options.rounds; round++) {
    const r = { bridge: [] as number[], minimal: [] as number[] };
    for (let i = 0; i < k; i++) {
      r.minimal.push(await startOnce(MINIMAL, menv));
      r.bridge.push(await startOnce(SERVER, benv));
    }
    rounds.push(r);
    ctx.log(
      `cold start round ${round + 1}: minimal ${median(r.minimal).toFixed(0)} ms, bridge ${median(r.bridge).toFixed(0)} ms, ratio ${(median(r.bridge) / median(r.minimal)).toFixed(2)}`,
    );
  }
  const base = [
    '@modelcontextprotocol/sdk/server/mcp.js',
    '@modelcontextprotocol/sdk/server/stdio.js',
    'zod',
    'mqtt',
  ];
  const dist = (p: string) => `${ROOT}/dist/${p}`;
  const targets: Array<[string, string]> = [
    ['@modelcontextprotocol/sdk/server/mcp.js', 'alone, in an empty process (the minimal server needs it)'],
    ['mqtt', 'alone, in an empty process (the minimal server needs it)'],
    ['pino', 'logger'],
    ['express', 'HTTP transport only'],
    ['prom-client', 'metrics: HTTP transport only'],
    ['jose', 'OAuth: HTTP transport only'],
    ['@modelcontextprotocol/sdk/server/streamableHttp.js', 'HTTP transport only'],
    [dist('transports/http.js'), 'everything the HTTP transport pulls in (express, jose, SDK HTTP and auth)'],
    [dist('metrics.js'), 'prom-client and the metrics module'],
    [dist('app.js'), 'store, link, policy (mqtt.js, pino)'],
    [dist('server.js'), 'McpServer with the tools (zod schemas)'],
    [dist('main.js'), 'the whole process as dist/index.js loads it'],
  ];
  const imports: ColdStartResult['imports'] = [];
  for (const [target, note] of ctx.options.quick ? targets.filter(([t]) => t.startsWith(ROOT)) : targets) {
    const alone = note.startsWith('alone');
    const times = (ctx.options.quick ? [0] : [0, 1, 2]).map(() => importCost(alone ? [] : base, target));
    imports.push({
      module: target.replace(`${ROOT}/`, ''),
      ms: median(times),
      note: alone ? note : `${note}; on top of SDK server+stdio, zod, mqtt`,
    });
  }
  for (const i of imports) ctx.log(`  import ${i.module}: ${i.ms.toFixed(1)} ms`);
  return {
    spawnsPerRound: k,
    rounds,
    ratio: spread(rounds.map((r) => median(r.bridge) / median(r.minimal))),
    bridgeMs: spread(rounds.map((r) => median(r.bridge))),
    minimalMs: spread(rounds.map((r) => median(r.minimal))),
    imports,
  };
}
