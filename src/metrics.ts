/**
 * Prometheus metrics (prom-client): connection state, reconnects, messages in, store size and
 * drops, tool calls and errors by tool (calls refused by input validation included), publish
 * latency, HTTP sessions and the MCP servers alive (their connection-event listeners); every name
 * starts with mqtt_mcp_bridge_. Broker and store figures are read when scraped; tool figures are
 * recorded by the tool boundary.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BrokerLink } from './bridge.js';
import type { MessageStore } from './store/message-store.js';
import type { ToolTelemetry } from './tools/deps.js';

export interface MetricSources {
  /** Every configured broker; with more than one, broker and store figures carry a `broker` label. */
  readonly brokers: ReadonlyArray<{
    readonly name: string;
    readonly link: BrokerLink;
    readonly store: MessageStore;
  }>;
  readonly sessions: () => number;
  /** Connection-event listeners on the (first) link: one per MCP server alive. */
  readonly eventListeners: () => number;
}

/** Every metric of the bridge starts with this. */
export const PREFIX = 'mqtt_mcp_bridge_';

export class Metrics implements ToolTelemetry {
  readonly registry = new Registry();
  private readonly calls: Counter;
  private readonly errors: Counter;
  private readonly duration: Histogram;
  private readonly publishLatency: Histogram;
  private readonly httpRefused: Counter;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    const brokers = sources.brokers;
    const several = brokers.length > 1;
    const brokerLabel = several ? ['broker'] : [];
    const labels = (name: string, extra: Record<string, string> = {}) =>
      several ? { broker: name, ...extra } : extra;
    /** A gauge with one value per broker, read when scraped. */
    const perBroker = (name: string, help: string, value: (b: (typeof brokers)[number]) => number) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        labelNames: brokerLabel,
        registers,
        collect() {
          for (const b of brokers) this.set(labels(b.name), value(b));
        },
      });
    /** A counter fed from a running total per broker (and per extra label). */
    const totals = (
      name: string,
      help: string,
      extraLabel: string | undefined,
      read: (b: (typeof brokers)[number]) => Record<string, number>,
    ) => {
      const last = new Map<string, number>();
      return new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: extraLabel === undefined ? brokerLabel : [...brokerLabel, extraLabel],
        registers,
        collect() {
          for (const b of brokers) {
            for (const [key, value] of Object.entries(read(b))) {
              const id = `${b.name}\u0000${key}`;
              const delta = Math.max(0, value - (last.get(id) ?? 0));
              this.inc(labels(b.name, extraLabel === undefined ? {} : { [extraLabel]: key }), delta);
              last.set(id, value);
            }
          }
        },
      });
    };
    const storeStats = (b: (typeof brokers)[number]) => b.store.stats(Date.now());
    perBroker('mqtt_connected', '1 when connected to the broker, 0 otherwise', (b) =>
      b.link.connected ? 1 : 0,
    );
    totals('mqtt_reconnects_total', 'Connection attempts after the first one', undefined, (b) => ({
      n: b.link.status().reconnectCount,
    }));
    totals(
      'mqtt_messages_received_total',
      'Messages received from the broker (including ones dropped by the read policy)',
      undefined,
      (b) => {
        const s = storeStats(b);
        return { n: s.received + s.dropped.policy };
      },
    );
    perBroker('store_topics', 'Topics held in the store', (b) => storeStats(b).topics);
    perBroker('store_messages', 'Messages held in the store', (b) => storeStats(b).messages);
    perBroker(
      'store_bytes',
      'Heap bytes the store counts against STORE_MAX_BYTES: payloads, properties, topic names, the topic index',
      (b) => storeStats(b).bytes,
    );
    totals(
      'store_dropped_total',
      'Messages dropped by the store, by reason (age, bytes, perTopic, topics, policy)',
      'reason',
      (b) => ({ ...storeStats(b).dropped }),
    );
    new Gauge({
      name: `${PREFIX}http_sessions`,
      help: 'MCP sessions open over HTTP',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    });
    new Gauge({
      name: `${PREFIX}mqtt_event_listeners`,
      help: 'Listeners for broker connection events, one per MCP server alive (above http_sessions: servers left behind)',
      registers,
      collect() {
        this.set(sources.eventListeners());
      },
    });
    this.calls = new Counter({
      name: `${PREFIX}mcp_tool_calls_total`,
      help: 'Tool calls, by tool',
      labelNames: ['tool'],
      registers,
    });
    this.errors = new Counter({
      name: `${PREFIX}mcp_tool_errors_total`,
      help: 'Tool calls that returned an error, by tool and error code (INVALID_INPUT: refused by input validation)',
      labelNames: ['tool', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: `${PREFIX}mcp_tool_duration_seconds`,
      help: 'Tool call duration, by tool',
      labelNames: ['tool'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30, 60],
      registers,
    });
    this.publishLatency = new Histogram({
      name: `${PREFIX}mqtt_publish_duration_seconds`,
      help: 'Successful mqtt_publish calls, from call to broker acknowledgement',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10],
      registers,
    });
    this.httpRefused = new Counter({
      name: `${PREFIX}http_requests_refused_total`,
      help: 'HTTP requests refused before reaching MCP, by reason',
      labelNames: ['reason'],
      registers,
    });
  }

  toolCall(tool: string, ms: number, errorCode: string | undefined): void {
    this.calls.inc({ tool });
    this.duration.observe({ tool }, ms / 1000);
    if (errorCode !== undefined) this.errors.inc({ tool, code: errorCode });
    else if (tool === 'mqtt_publish') this.publishLatency.observe(ms / 1000);
  }

  refused(reason: string): void {
    this.httpRefused.inc({ reason });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
