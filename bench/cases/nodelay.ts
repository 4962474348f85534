/**
 * The Nagle trap: a QoS 1 publish from a client that also receives what it publishes. Measured
 * for a bare mqtt.js client on both brokers (set_tcp_nodelay true / false) with TCP_NODELAY on
 * and off on the client socket, for each way the client can see its own message:
 *   sub-qos1   subscribed with QoS 1 (the echo comes as QoS 1 and the client PUBACKs it)
 *   sub-qos0   subscribed with QoS 0 (the echo needs no answer)
 *   no-local   subscribed with the MQTT 5 No Local option (the broker sends no echo)
 *   none       not subscribed
 * and for the bridge itself (TCP_NODELAY on its socket) with MQTT_SUBSCRIBE_QOS 1 (its default)
 * and 0, on both brokers. Within a round each configuration publishes back to back, and the
 * configurations take turns; fresh connections and processes every round.
 */
import type { MqttClient } from 'mqtt';
import type { BenchBroker } from '../lib/broker.js';
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, connectMqtt } from '../lib/context.js';
import { TYPICAL_PAYLOAD } from '../lib/payload.js';
import type { StdioRpc } from '../lib/rpc.js';
import { startBridge } from '../lib/servers.js';
import { latency, median, spread, type LatencySummary, type Spread } from '../lib/stats.js';

export type Echo = 'sub-qos1' | 'sub-qos0' | 'no-local' | 'none';

export interface NodelayConfig {
  readonly client: 'mqtt.js' | 'bridge';
  readonly brokerNodelay: boolean;
  readonly clientNodelay: boolean;
  readonly echo: Echo;
}

export interface NodelayRow extends NodelayConfig {
  readonly p50: Spread;
  readonly p99: Spread;
  readonly rounds: LatencySummary[];
}

export interface NodelayResult {
  readonly calls: number;
  readonly rows: NodelayRow[];
}

interface Runner {
  readonly config: NodelayConfig;
  publish(i: number): Promise<void>;
  close(): Promise<void>;
}

const key = (c: NodelayConfig) => `${c.client}/${c.brokerNodelay}/${c.clientNodelay}/${c.echo}`;

async function bareRunner(ctx: BenchContext, config: NodelayConfig, broker: BenchBroker): Promise<Runner> {
  const client: MqttClient = await connectMqtt(ctx, { broker, nodelay: config.clientNodelay });
  const topic = `bench/nagle/${key(config).replace(/[^a-z0-9]/gi, '-')}`;
  if (config.echo === 'sub-qos1') await client.subscribeAsync(topic, { qos: 1 });
  if (config.echo === 'sub-qos0') await client.subscribeAsync(topic, { qos: 0 });
  if (config.echo === 'no-local') await client.subscribeAsync(topic, { qos: 1, nl: true });
  return {
    config,
    publish: async () => {
      await client.publishAsync(topic, TYPICAL_PAYLOAD, { qos: 1 });
    },
    close: async () => {
      await client.endAsync();
    },
  };
}

async function bridgeRunner(ctx: BenchContext, config: NodelayConfig, broker: BenchBroker): Promise<Runner> {
  const topic = `bench/nagle/bridge-${config.brokerNodelay}-${config.echo}`;
  const rpc: StdioRpc = await startBridge(
    bridgeEnv(
      ctx,
      {
        MCP_READ_TOPICS: 'bench/#',
        MCP_WRITE_TOPICS: 'bench/#',
        MQTT_SUBSCRIBE: config.echo === 'none' ? 'bench/nothing' : topic,
        MQTT_SUBSCRIBE_QOS: config.echo === 'sub-qos0' ? '0' : '1',
      },
      broker,
    ),
  );
  return {
    config,
    publish: async () => {
      const r = await rpc.callTool('mqtt_publish', { topic, payload: TYPICAL_PAYLOAD, qos: 1 });
      if (r.line.includes('"isError":true')) throw new Error(r.line.slice(0, 300));
    },
    close: async () => {
      await rpc.close();
    },
  };
}

export async function runNodelay(ctx: BenchContext): Promise<NodelayResult> {
  const calls = ctx.options.quick ? 8 : 40;
  const configs: NodelayConfig[] = [];
  for (const brokerNodelay of [true, false]) {
    for (const clientNodelay of [true, false]) {
      for (const echo of ['sub-qos1', 'sub-qos0', 'no-local', 'none'] as const) {
        configs.push({ client: 'mqtt.js', brokerNodelay, clientNodelay, echo });
      }
    }
    for (const echo of ['sub-qos1', 'sub-qos0'] as const)
      configs.push({ client: 'bridge', brokerNodelay, clientNodelay: true, echo });
  }
  const perRound = new Map<string, LatencySummary[]>();
  for (let round = 0; round < ctx.options.rounds; round++) {
    const runners: Runner[] = [];
    for (const config of configs) {
      const broker = config.brokerNodelay ? ctx.broker : ctx.brokerNagle;
      runners.push(
        config.client === 'bridge'
          ? await bridgeRunner(ctx, config, broker)
          : await bareRunner(ctx, config, broker),
      );
    }
    // Back to back within a configuration (the trap needs a tight loop: with a pause between
    // publishes the delayed ACK has fired before the next one); configurations take turns.
    const times = runners.map(() => [] as number[]);
    for (let k = 0; k < runners.length; k++) {
      for (let i = 0; i < calls + 5; i++) {
        const s = performance.now();
        await runners[k]!.publish(i);
        if (i >= 5) times[k]!.push(performance.now() - s);
      }
    }
    await Promise.all(runners.map((r) => r.close()));
    runners.forEach((r, k) => {
      const list = perRound.get(key(r.config)) ?? [];
      list.push(latency(times[k]!));
      perRound.set(key(r.config), list);
    });
    ctx.log(
      `nodelay round ${round + 1}: ` +
        runners
          .map(
            (r, k) =>
              `${r.config.client} b${r.config.brokerNodelay ? 1 : 0}c${r.config.clientNodelay ? 1 : 0} ${r.config.echo} ${median(times[k]!).toFixed(2)}`,
          )
          .join(', '),
    );
  }
  return {
    calls,
    rows: configs.map((config) => {
      const rounds = perRound.get(key(config)) ?? [];
      return {
        ...config,
        rounds,
        p50: spread(rounds.map((r) => r.p50)),
        p99: spread(rounds.map((r) => r.p99)),
      };
    }),
  };
}
