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
  readonly link: BrokerLink;
  readonly store: MessageStore;
  readonly sessions: () => number;
  /** Connection-event listeners on the link: one per MCP server alive. */
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
    new Gauge({
      name: `${PREFIX}mqtt_connected`,
      help: '1 when connected to the broker, 0 otherwise',
      registers,
      collect() {
        this.set(sources.link.connected ? 1 : 0);
      },
    });
    let lastReconnects = 0;
    new Counter({
      name: `${PREFIX}mqtt_reconnects_total`,
      help: 'Connection attempts after the first one',
      registers,
      collect() {
        const now = sources.link.status().reconnectCount;
        if (now > lastReconnects) this.inc(now - lastReconnects);
        lastReconnects = now;
      },
    });
    const storeStats = () => sources.store.stats(Date.now());
    let lastReceived = 0;
    new Counter({
      name: `${PREFIX}mqtt_messages_received_total`,
      help: 'Messages received from the broker (including ones dropped by the read policy)',
      registers,
      collect() {
        const s = storeStats();
        const now = s.received + s.dropped.policy;
        if (now > lastReceived) this.inc(now - lastReceived);
        lastReceived = now;
      },
    });
    new Gauge({
      name: `${PREFIX}store_topics`,
      help: 'Topics held in the store',
      registers,
      collect() {
        this.set(storeStats().topics);
      },
    });
    new Gauge({
      name: `${PREFIX}store_messages`,
      help: 'Messages held in the store',
      registers,
      collect() {
        this.set(storeStats().messages);
      },
    });
    new Gauge({
      name: `${PREFIX}store_bytes`,
      help: 'Heap bytes the store counts against STORE_MAX_BYTES: payloads, properties, topic names, the topic index',
      registers,
      collect() {
        this.set(storeStats().bytes);
      },
    });
    const lastDropped: Record<string, number> = {};
    new Counter({
      name: `${PREFIX}store_dropped_total`,
      help: 'Messages dropped by the store, by reason (age, bytes, perTopic, topics, policy)',
      labelNames: ['reason'],
      registers,
      collect() {
        for (const [reason, value] of Object.entries(storeStats().dropped)) {
          const delta = value - (lastDropped[reason] ?? 0);
          if (delta > 0) this.inc({ reason }, delta);
          else this.inc({ reason }, 0);
          lastDropped[reason] = value;
        }
      },
    });
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
