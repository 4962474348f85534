/**
 * mqtt_publish over stdio, QoS 1, a 60-byte JSON payload, against four clients doing the same
 * publish in the same round, one call each in turn (A B C D A B C D ...):
 *   bare     mqtt.js publishAsync, subscribed to its own topic (the bridge reads what it writes)
 *   bridge   dist/index.js over stdio, tools/call mqtt_publish (collects its own topic)
 *   minimal  the minimal SDK server over stdio, a tool calling publishAsync (subscribed too)
 *   c        mosquitto_pub -l through a pipe (the C client; no subscription)
 * Fresh processes every round. Figures: p50 and p99 of each, and per round the differences
 * bridge - bare (the target), minimal - bare (the cost of MCP and stdio), bridge - minimal
 * (the bridge's own cost).
 */
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, connectMqtt, minimalEnv } from '../lib/context.js';
import { startCPublisher } from '../lib/cpub.js';
import { TYPICAL_PAYLOAD } from '../lib/payload.js';
import { startBridge, startMinimal } from '../lib/servers.js';
import { latency, spread, type LatencySummary, type Spread } from '../lib/stats.js';

export interface PublishRound {
  readonly bare: LatencySummary;
  readonly bridge: LatencySummary;
  readonly minimal: LatencySummary;
  readonly c: LatencySummary;
}

export interface PublishResult {
  readonly calls: number;
  readonly payloadBytes: number;
  readonly rounds: PublishRound[];
  readonly overheadP50: Spread;
  readonly overheadP99: Spread;
  readonly mcpP50: Spread;
  readonly mcpP99: Spread;
  readonly ownP50: Spread;
  readonly ownP99: Spread;
  readonly ratioP50: Spread;
  readonly bareP50: Spread;
  readonly bridgeP50: Spread;
  readonly minimalP50: Spread;
  readonly cP50: Spread;
  readonly bareP99: Spread;
  readonly bridgeP99: Spread;
  readonly minimalP99: Spread;
  readonly cP99: Spread;
}

export async function runPublish(ctx: BenchContext): Promise<PublishResult> {
  const calls = ctx.options.quick ? 150 : 500;
  const warmup = ctx.options.quick ? 50 : 150;
  const payload = TYPICAL_PAYLOAD;
  const rounds: PublishRound[] = [];
  for (let round = 0; round < ctx.options.rounds; round++) {
    const bridge = await startBridge(
      bridgeEnv(ctx, {
        MCP_READ_TOPICS: 'bench/#',
        MCP_WRITE_TOPICS: 'bench/#',
        MQTT_SUBSCRIBE: 'bench/pub/bridge/#',
      }),
    );
    const minimal = await startMinimal(minimalEnv(ctx, { MIN_SUBSCRIBE: 'bench/pub/min/#' }));
    const bare = await connectMqtt(ctx, { nodelay: true });
    await bare.subscribeAsync('bench/pub/bare/#', { qos: 1 });
    const c = await startCPublisher(ctx.broker, ctx.pki, 'bench/pub/c/lat');
    const t = { bare: [] as number[], bridge: [] as number[], minimal: [] as number[], c: [] as number[] };
    for (let i = 0; i < warmup + calls; i++) {
      let s = performance.now();
      await bare.publishAsync('bench/pub/bare/lat', payload, { qos: 1 });
      const dBare = performance.now() - s;
      s = performance.now();
      const r = await bridge.callTool('mqtt_publish', { topic: 'bench/pub/bridge/lat', payload, qos: 1 });
      const dBridge = performance.now() - s;
      if (r.line.includes('"isError":true')) throw new Error(`mqtt_publish failed: ${r.line.slice(0, 400)}`);
      s = performance.now();
      await minimal.callTool('publish', { topic: 'bench/pub/min/lat', payload, qos: 1 });
      const dMinimal = performance.now() - s;
      s = performance.now();
      await c.publish(payload);
      const dC = performance.now() - s;
      if (i >= warmup) {
        t.bare.push(dBare);
        t.bridge.push(dBridge);
        t.minimal.push(dMinimal);
        t.c.push(dC);
      }
    }
    await Promise.all([bridge.close(), minimal.close(), bare.endAsync(), c.close()]);
    const r: PublishRound = {
      bare: latency(t.bare),
      bridge: latency(t.bridge),
      minimal: latency(t.minimal),
      c: latency(t.c),
    };
    rounds.push(r);
    ctx.log(
      `publish round ${round + 1}: p50 bare ${r.bare.p50.toFixed(3)} / minimal ${r.minimal.p50.toFixed(3)} / bridge ${r.bridge.p50.toFixed(3)} / mosquitto_pub ${r.c.p50.toFixed(3)} ms; ` +
        `p99 bare ${r.bare.p99.toFixed(2)} / minimal ${r.minimal.p99.toFixed(2)} / bridge ${r.bridge.p99.toFixed(2)} ms`,
    );
  }
  const s = (f: (r: PublishRound) => number) => spread(rounds.map(f));
  return {
    calls,
    payloadBytes: Buffer.byteLength(payload),
    rounds,
    overheadP50: s((r) => r.bridge.p50 - r.bare.p50),
    overheadP99: s((r) => r.bridge.p99 - r.bare.p99),
    mcpP50: s((r) => r.minimal.p50 - r.bare.p50),
    mcpP99: s((r) => r.minimal.p99 - r.bare.p99),
    ownP50: s((r) => r.bridge.p50 - r.minimal.p50),
    ownP99: s((r) => r.bridge.p99 - r.minimal.p99),
    ratioP50: s((r) => r.bridge.p50 / r.bare.p50),
    bareP50: s((r) => r.bare.p50),
    bridgeP50: s((r) => r.bridge.p50),
    minimalP50: s((r) => r.minimal.p50),
    cP50: s((r) => r.c.p50),
    bareP99: s((r) => r.bare.p99),
    bridgeP99: s((r) => r.bridge.p99),
    minimalP99: s((r) => r.minimal.p99),
    cP99: s((r) => r.c.p99),
  };
}
