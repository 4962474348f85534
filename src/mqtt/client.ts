/**
 * The one long-lived MQTT connection (the only importer of 'mqtt').
 * - reconnects with exponential backoff and jitter, done here (mqtt.js has a fixed interval);
 * - publishes fail at once while disconnected and are never queued for a later replay; a
 *   publish that times out or loses its connection is removed from the outgoing store;
 * - refusals by the broker (MQTT 5 reason codes) become errors, never successes;
 * - subscriptions are held here and renewed on every (re)connect.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type {
  BrokerLink,
  ConnectionState,
  IncomingMessage,
  LinkEvent,
  LinkStatus,
  MessageProperties,
  PublishReceipt,
  PublishRequest,
} from '../bridge.js';
import type { MqttConfig } from '../config/load.js';
import { BridgeError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { explainConnectionError, reasonText } from './explain.js';
import { backoffDelay } from './backoff.js';
import { clientOptions, makeClientId, setCredentials } from './options.js';
import { Publisher } from './publisher.js';
import { ConnectionReporter } from './reporter.js';
import { BrokerSubscriptions } from './subscriber.js';

export interface LinkDeps {
  readonly config: MqttConfig;
  readonly logger: Logger;
  /** Injected for tests of the backoff. */
  readonly random?: () => number;
}

const INSECURE_WARNING_MS = 60_000;

export class MqttLink implements BrokerLink {
  readonly clientId: string;
  private readonly client: MqttClient;
  private readonly log: Logger;
  private readonly random: () => number;
  private state: ConnectionState = 'connecting';
  private connectedSince: Date | undefined;
  private reconnectCount = 0;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private nextAttemptAt: Date | undefined;
  private insecureTimer: NodeJS.Timeout | undefined;
  private readonly brokerSubscriptions: BrokerSubscriptions;
  private readonly publisher: Publisher;
  private readonly listeners: Array<(message: IncomingMessage) => void> = [];
  private readonly reporter: ConnectionReporter;
  private closing = false;
  private started = false;
  /** A clean close on the way that reloadTls asked for: reconnect at once, not "lost". */
  private rotating = false;

  constructor(private readonly deps: LinkDeps) {
    this.log = deps.logger.child({ component: 'mqtt' });
    this.reporter = new ConnectionReporter(this.log);
    this.random = deps.random ?? Math.random;
    this.clientId = makeClientId(deps.config.clientIdPrefix);
    const options: IClientOptions = clientOptions(deps.config, this.clientId);
    this.client = mqtt.connect(options);
    this.brokerSubscriptions = new BrokerSubscriptions(this.client, {
      qos: deps.config.subscribeQos,
      protocolVersion: deps.config.protocolVersion,
    });
    this.publisher = new Publisher(this.client, {
      timeoutMs: deps.config.publishTimeoutMs,
      protocolVersion: deps.config.protocolVersion,
    });
    this.client.on('connect', () => this.onConnect());
    this.client.on('error', (error) => this.onError(error));
    this.client.on('close', () => this.onClose());
    this.client.on('disconnect', (packet) => {
      const code = packet.reasonCode ?? 0;
      this.reporter.error({
        code: 'BROKER_DISCONNECT',
        message: `the broker closed the session: ${reasonText(code)} (${code})`,
      });
    });
    this.client.on('message', (topic, payload, packet) => this.deliver(topic, payload, packet));
  }

  /** Start connecting. Never throws: problems are reported through status() and the logs. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    const { config } = this.deps;
    if (config.protocol === 'mqtt') {
      this.log.warn({ broker: config.url }, 'MQTT_URL uses plain mqtt://: the connection is not encrypted');
    }
    if (config.tls.insecure) {
      const warn = () =>
        this.log.warn(
          'MQTT_TLS_INSECURE=true: the broker certificate is NOT verified; never use this in production',
        );
      warn();
      this.insecureTimer = setInterval(warn, INSECURE_WARNING_MS);
      this.insecureTimer.unref();
    }
    this.log.info(
      { broker: config.url, clientId: this.clientId, protocolVersion: config.protocolVersion },
      'connecting',
    );
    this.connectNow();
  }

  get connected(): boolean {
    return this.state === 'connected' && this.client.connected;
  }

  status(): LinkStatus {
    const { config } = this.deps;
    return {
      state: this.state,
      brokerUrl: config.url,
      protocolVersion: config.protocolVersion,
      clientId: this.clientId,
      connectedSince: this.state === 'connected' ? this.connectedSince?.toISOString() : undefined,
      lastError: this.reporter.lastError,
      reconnectCount: this.reconnectCount,
      nextAttemptAt: this.state === 'reconnecting' ? this.nextAttemptAt?.toISOString() : undefined,
      tlsVerification:
        config.protocol === 'mqtt'
          ? 'not used (plain mqtt://)'
          : config.tls.insecure
            ? 'off (MQTT_TLS_INSECURE)'
            : 'on',
    };
  }

  onMessage(listener: (message: IncomingMessage) => void): void {
    this.listeners.push(listener);
  }

  onEvent(listener: (event: LinkEvent) => void): () => void {
    return this.reporter.listen(listener);
  }

  /** Connection-event listeners registered now (one per connected MCP server). */
  get eventListenerCount(): number {
    return this.reporter.listenerCount;
  }

  publish(request: PublishRequest): Promise<PublishReceipt> {
    if (!this.connected) return Promise.reject(this.unavailable());
    return this.publisher.publish(request);
  }

  async subscribe(filter: string, options: { live?: boolean } = {}): Promise<void> {
    await this.brokerSubscriptions.add(filter, options.live === true, this.connected);
  }

  async unsubscribe(filter: string): Promise<void> {
    try {
      await this.brokerSubscriptions.remove(filter, this.connected);
    } catch (error) {
      this.log.warn({ filter, err: error }, 'unsubscribe failed');
    }
  }

  /** Messages held by mqtt.js for (re)sending: its offline queue and its outgoing store. */
  queueDepth(): { queued: number; outgoing: number; pending: number } {
    return {
      queued: this.client.queue.length,
      outgoing: Object.keys(this.client.outgoing).length,
      pending: this.publisher.size,
    };
  }

  subscriptions(): string[] {
    return this.brokerSubscriptions.filters();
  }

  /**
   * New TLS material (certificate rotation; main.ts calls this on SIGHUP after loadConfig has
   * checked the files): used from the next connection on, which is made at once. A live
   * connection is closed cleanly first; a publish in flight is reported as delivery unknown and
   * never re-sent.
   */
  reloadTls(tls: MqttConfig['tls']): void {
    if (this.closing || this.deps.config.protocol !== 'mqtts') return;
    setCredentials(this.client.options, tls);
    if (!this.started) return;
    this.log.info('TLS material reloaded: reconnecting with it');
    this.failures = 0;
    if (this.client.connected) {
      this.rotating = true;
      this.client.end(false);
    } else if (this.reconnectTimer !== undefined) {
      // Waiting out a backoff delay (a refused certificate, say): try the new material now.
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.reconnectCount++;
      this.connectNow();
    }
    // Otherwise an attempt is under way; the next one uses the new material.
  }

  /** Clean DISCONNECT (when connected), bounded by the deadline. */
  async close(deadlineMs = 3000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.insecureTimer);
    this.publisher.failAll(
      new BridgeError('BROKER_UNAVAILABLE', 'the bridge is shutting down; the publish was not confirmed'),
    );
    const wasConnected = this.client.connected;
    this.state = 'closed';
    if (!this.started) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.end(true, () => resolve());
      }, deadlineMs);
      this.client.end(false, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.log.info({ clean: wasConnected }, wasConnected ? 'disconnected from broker' : 'connection closed');
  }

  // ---- internals ----

  private deliver(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const message: IncomingMessage = {
      topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      properties: packet.properties === undefined ? undefined : pickProperties(packet.properties),
    };
    for (const listener of this.listeners) listener(message);
  }

  private connectNow(): void {
    this.nextAttemptAt = undefined;
    try {
      if (this.reconnectCount === 0 && this.failures === 0 && this.state === 'connecting')
        this.client.connect();
      else this.client.reconnect();
      // Small MQTT packets must not wait for Nagle's algorithm: a QoS 1 publish sent after a
      // PUBACK that the broker has not ACKed yet at TCP level would otherwise stall until the
      // broker's delayed ACK (~40 ms). mqtt.js leaves Nagle on.
      (this.client.stream as { setNoDelay?: (noDelay: boolean) => unknown }).setNoDelay?.(true);
    } catch (error) {
      // mqtt.js throws synchronously for TLS material OpenSSL rejects (checked at start-up too).
      this.onError(error as Error);
      this.onClose();
    }
  }

  private onConnect(): void {
    if (this.closing) return;
    const wasReconnect = this.reconnectCount > 0;
    this.state = 'connected';
    this.connectedSince = new Date();
    this.failures = 0;
    this.reporter.connected(wasReconnect, { clientId: this.clientId, reconnects: this.reconnectCount });
    this.brokerSubscriptions.renew().catch((error: unknown) => {
      this.log.warn({ err: error }, 'renewing subscriptions failed');
    });
  }

  private onError(error: Error): void {
    const explained = explainConnectionError(error, {
      host: this.deps.config.host,
      port: this.deps.config.port,
      servername: this.deps.config.tls.servername,
      protocolVersion: this.deps.config.protocolVersion,
    });
    this.reporter.error(explained);
  }

  private onClose(): void {
    const wasConnected = this.state === 'connected';
    this.publisher.failAll(
      new BridgeError(
        'DELIVERY_UNKNOWN',
        'the connection to the broker was lost before it acknowledged the publish; delivery is unknown (it will not be re-sent)',
      ),
    );
    if (this.closing) {
      this.state = 'closed';
      return;
    }
    this.state = 'reconnecting';
    if (this.rotating) {
      this.rotating = false;
      this.reconnectCount++;
      this.connectNow();
      return;
    }
    if (wasConnected) this.reporter.lost();
    if (this.reconnectTimer !== undefined) return;
    const delay = backoffDelay(
      this.failures,
      this.deps.config.reconnectMinMs,
      this.deps.config.reconnectMaxMs,
      this.random,
    );
    this.failures++;
    this.nextAttemptAt = new Date(Date.now() + delay);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closing) return;
      this.reconnectCount++;
      this.connectNow();
    }, delay);
  }

  private unavailable(): BridgeError {
    const s = this.status();
    const why = s.lastError !== undefined ? `; last error: ${s.lastError.message}` : '';
    const next = s.nextAttemptAt !== undefined ? `; next attempt at ${s.nextAttemptAt}` : '';
    return new BridgeError(
      'BROKER_UNAVAILABLE',
      `broker unavailable (${s.state}${why}${next}); nothing was sent or queued, try again once mqtt_status shows connected`,
    );
  }
}

function pickProperties(
  properties: NonNullable<IPublishPacket['properties']>,
): MessageProperties | undefined {
  const { contentType, userProperties } = properties;
  if (contentType === undefined && userProperties === undefined) return undefined;
  return {
    ...(contentType !== undefined ? { contentType } : {}),
    ...(userProperties !== undefined ? { userProperties } : {}),
  };
}
