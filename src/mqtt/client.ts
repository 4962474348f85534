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
  LinkError,
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
import { clientOptions, makeClientId } from './options.js';
import { quoteTopic } from './topic.js';

export interface LinkDeps {
  readonly config: MqttConfig;
  readonly logger: Logger;
  /** Injected for tests of the backoff. */
  readonly random?: () => number;
}

interface PendingPublish {
  readonly topic: string;
  readonly callback: (error?: Error, packet?: unknown) => void;
  fail(error: BridgeError): void;
}

const INSECURE_WARNING_MS = 60_000;
const ERROR_LOG_INTERVAL_MS = 60_000;

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class MqttLink implements BrokerLink {
  readonly clientId: string;
  private readonly client: MqttClient;
  private readonly log: Logger;
  private readonly random: () => number;
  private state: ConnectionState = 'connecting';
  private lastError: LinkError | undefined;
  private connectedSince: Date | undefined;
  private reconnectCount = 0;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private nextAttemptAt: Date | undefined;
  private insecureTimer: NodeJS.Timeout | undefined;
  private readonly wanted = new Map<string, { live: boolean }>();
  private readonly pending = new Set<PendingPublish>();
  private readonly listeners: Array<(message: IncomingMessage) => void> = [];
  private readonly eventListeners = new Set<(event: LinkEvent) => void>();
  private lastLogged: { code: string; at: number; repeats: number } | undefined;
  private closing = false;
  private started = false;

  constructor(private readonly deps: LinkDeps) {
    this.log = deps.logger.child({ component: 'mqtt' });
    this.random = deps.random ?? Math.random;
    this.clientId = makeClientId(deps.config.clientIdPrefix);
    const options: IClientOptions = clientOptions(deps.config, this.clientId);
    this.client = mqtt.connect(options);
    this.client.on('connect', () => this.onConnect());
    this.client.on('error', (error) => this.onError(error));
    this.client.on('close', () => this.onClose());
    this.client.on('disconnect', (packet) => {
      const code = packet.reasonCode ?? 0;
      this.setError({
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
      lastError: this.lastError,
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
    this.eventListeners.add(listener);
    return () => {
      this.eventListeners.delete(listener);
    };
  }

  private emitEvent(event: LinkEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  publish(request: PublishRequest): Promise<PublishReceipt> {
    if (!this.connected) return Promise.reject(this.unavailable());
    const { topic, payload, qos, retain } = request;
    return new Promise<PublishReceipt>((resolve, reject) => {
      let settled = false;
      const finish = (error: BridgeError | undefined, receipt?: PublishReceipt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(entry);
        if (error !== undefined) reject(error);
        else resolve(receipt as PublishReceipt);
      };
      const callback = (error?: Error, packet?: unknown) => {
        if (error === undefined || error === null) {
          finish(undefined, {
            delivery: qos === 0 ? 'sent' : 'acknowledged',
            reasonCode:
              qos === 0 ? undefined : ((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0),
            reason:
              qos === 0
                ? 'written to the connection (QoS 0 has no acknowledgement)'
                : this.deps.config.protocolVersion === 5
                  ? 'acknowledged by the broker'
                  : 'acknowledged by the broker (MQTT 3.1.1 cannot report an ACL refusal; it may still have been dropped)',
          });
          return;
        }
        finish(this.publishError(error, topic));
      };
      const entry: PendingPublish = {
        topic,
        callback,
        fail: (error) => {
          finish(error);
          // After finish(): removing calls the callback with 'Message removed', now ignored.
          this.dropOutgoing(callback);
        },
      };
      const timer = setTimeout(() => {
        entry.fail(
          new BridgeError(
            'DELIVERY_UNKNOWN',
            `no acknowledgement from the broker within ${this.deps.config.publishTimeoutMs} ms; delivery is unknown (the message was removed from the outgoing queue and will not be re-sent)`,
          ),
        );
      }, this.deps.config.publishTimeoutMs);
      this.pending.add(entry);
      try {
        this.client.publish(topic, payload, { qos, retain }, callback);
      } catch (error) {
        entry.fail(this.publishError(error as Error, topic));
      }
    });
  }

  async subscribe(filter: string, options: { live?: boolean } = {}): Promise<void> {
    this.wanted.set(filter, { live: options.live === true });
    if (!this.connected) return;
    try {
      await this.sendSubscribe([filter]);
    } catch (error) {
      this.wanted.delete(filter);
      throw error;
    }
  }

  async unsubscribe(filter: string): Promise<void> {
    if (!this.wanted.delete(filter)) return;
    if (!this.connected) return;
    try {
      await this.client.unsubscribeAsync(filter);
    } catch (error) {
      this.log.warn({ filter, err: error }, 'unsubscribe failed');
    }
  }

  /** Messages held by mqtt.js for (re)sending: its offline queue and its outgoing store. */
  queueDepth(): { queued: number; outgoing: number; pending: number } {
    return {
      queued: this.client.queue.length,
      outgoing: Object.keys(this.client.outgoing).length,
      pending: this.pending.size,
    };
  }

  subscriptions(): string[] {
    return [...this.wanted.keys()];
  }

  /** Clean DISCONNECT (when connected), bounded by the deadline. */
  async close(deadlineMs = 3000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.insecureTimer);
    for (const entry of [...this.pending]) {
      entry.fail(
        new BridgeError('BROKER_UNAVAILABLE', 'the bridge is shutting down; the publish was not confirmed'),
      );
    }
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
    this.lastLogged = undefined;
    this.log.info(
      { clientId: this.clientId, reconnects: this.reconnectCount },
      wasReconnect ? 'reconnected' : 'connected',
    );
    this.emitEvent({
      level: 'info',
      code: 'CONNECTED',
      message: wasReconnect ? 'reconnected to the broker' : 'connected to the broker',
    });
    const filters = [...this.wanted.keys()];
    if (filters.length > 0) {
      this.sendSubscribe(filters).catch((error: unknown) => {
        this.log.warn({ err: error }, 'renewing subscriptions failed');
      });
    }
  }

  private onError(error: Error): void {
    const explained = explainConnectionError(error, {
      host: this.deps.config.host,
      port: this.deps.config.port,
      servername: this.deps.config.tls.servername,
      protocolVersion: this.deps.config.protocolVersion,
    });
    this.setError(explained);
  }

  private setError(explained: { code: string; message: string }): void {
    this.lastError = { ...explained, at: new Date().toISOString() };
    const now = Date.now();
    const last = this.lastLogged;
    if (last !== undefined && last.code === explained.code && now - last.at < ERROR_LOG_INTERVAL_MS) {
      last.repeats++;
      return;
    }
    this.log.error(
      {
        code: explained.code,
        ...(last !== undefined && last.repeats > 0 ? { repeatedBefore: last.repeats } : {}),
      },
      explained.message,
    );
    this.emitEvent({ level: 'error', code: explained.code, message: explained.message });
    this.lastLogged = { code: explained.code, at: now, repeats: 0 };
  }

  private onClose(): void {
    const wasConnected = this.state === 'connected';
    for (const entry of [...this.pending]) {
      entry.fail(
        new BridgeError(
          'DELIVERY_UNKNOWN',
          'the connection to the broker was lost before it acknowledged the publish; delivery is unknown (it will not be re-sent)',
        ),
      );
    }
    if (this.closing) {
      this.state = 'closed';
      return;
    }
    if (wasConnected) {
      this.log.warn({ lastError: this.lastError?.code }, 'connection to broker lost');
      this.emitEvent({
        level: 'warning',
        code: 'CONNECTION_LOST',
        message: 'the connection to the broker was lost; reconnecting',
      });
    }
    this.state = 'reconnecting';
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

  private async sendSubscribe(filters: string[]): Promise<void> {
    const v5 = this.deps.config.protocolVersion === 5;
    const qos = this.deps.config.subscribeQos;
    const map: Record<string, { qos: 0 | 1 | 2; rh?: number }> = {};
    for (const filter of filters) {
      const live = this.wanted.get(filter)?.live === true;
      map[filter] = v5 && live ? { qos, rh: 2 } : { qos };
    }
    let granted: Array<{ topic: string; qos: number }>;
    try {
      granted = await this.client.subscribeAsync(map);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') {
        throw new BridgeError(
          code === 0x87 ? 'NOT_AUTHORIZED' : 'PUBLISH_REFUSED',
          `the broker refused the subscription: ${reasonText(code)} (${code})`,
        );
      }
      throw new BridgeError(
        'BROKER_UNAVAILABLE',
        'the subscription could not be sent; the connection was lost',
      );
    }
    const refused = granted.filter((g) => g.qos >= 0x80);
    if (refused.length > 0) {
      const first = refused[0] as { topic: string; qos: number };
      throw new BridgeError(
        first.qos === 0x87 ? 'NOT_AUTHORIZED' : 'PUBLISH_REFUSED',
        `the broker refused the subscription to ${quoteTopic(first.topic)}: ${reasonText(first.qos)} (${first.qos})`,
      );
    }
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

  private publishError(error: Error, topic: string): BridgeError {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') {
      if (code === 0x87) {
        return new BridgeError(
          'NOT_AUTHORIZED',
          `the broker refused the publish to ${quoteTopic(topic)}: not authorized (reason code 135); its ACL does not let this client write there`,
        );
      }
      return new BridgeError(
        'PUBLISH_REFUSED',
        `the broker refused the publish to ${quoteTopic(topic)}: ${reasonText(code)} (reason code ${code})`,
      );
    }
    if (error.message === 'client disconnecting' || error.message === 'Connection closed') {
      return new BridgeError(
        'DELIVERY_UNKNOWN',
        'the connection closed before the broker acknowledged the publish; delivery is unknown',
      );
    }
    return new BridgeError(
      'DELIVERY_UNKNOWN',
      'the publish failed before the broker acknowledged it; delivery is unknown',
    );
  }

  /** Remove our message from mqtt.js' outgoing store, so that it is never re-sent. */
  private dropOutgoing(callback: PendingPublish['callback']): void {
    for (const [id, out] of Object.entries(this.client.outgoing)) {
      if (out.cb === callback) this.client.removeOutgoingMessage(Number(id));
    }
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
