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
  AckStats,
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
import { explainConnectionError, explainSilentClose, reasonText, type ExplainContext } from './explain.js';
import { backoffDelay } from './backoff.js';
import { DeferredAcks, noAcks } from './deferred-acks.js';
import {
  clientOptions,
  initialVersion,
  makeClientId,
  setCredentials,
  setProtocolVersion,
} from './options.js';
import { Publisher } from './publisher.js';
import { ConnectionReporter } from './reporter.js';
import { BrokerSubscriptions, routeOf } from './subscriber.js';

export interface LinkDeps {
  readonly config: MqttConfig;
  readonly logger: Logger;
  /** Injected for tests of the backoff. */
  readonly random?: () => number;
  /** The process runs in a container (errors about loopback addresses say what that means). */
  readonly inContainer?: boolean;
  /**
   * At-least-once recording: a QoS 1 message a listener holds (IncomingMessage.hold) is
   * acknowledged (PUBACK) only when the holder releases it, after its history batch committed.
   */
  readonly deferAcks?: boolean;
}

const INSECURE_WARNING_MS = 60_000;

export class MqttLink implements BrokerLink {
  readonly clientId: string;
  private readonly client: MqttClient;
  private readonly log: Logger;
  private readonly random: () => number;
  private state: ConnectionState = 'connecting';
  /** When `state` last changed. */
  private stateSince = new Date();
  private connectedSince: Date | undefined;
  /** The MQTT version of the current (or next) connection. */
  private version: 4 | 5;
  /** MQTT_PROTOCOL_VERSION=auto fell back to 3.1.1: why, and whether 3.1.1 has connected since. */
  private fallback: { reason: string; confirmed: boolean } | undefined;
  /** The current attempt or connection reported an error (so a close is not silent). */
  private errored = false;
  /** TLS handshake of the current attempt completed. */
  private handshakeDone = false;
  private reconnectCount = 0;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private nextAttemptAt: Date | undefined;
  private insecureTimer: NodeJS.Timeout | undefined;
  private readonly brokerSubscriptions: BrokerSubscriptions;
  private readonly publisher: Publisher;
  private readonly listeners: Array<(message: IncomingMessage) => void> = [];
  private readonly connectionListeners: Array<(state: 'up' | 'down') => void> = [];
  private readonly reporter: ConnectionReporter;
  private closing = false;
  private started = false;
  /** A clean close on the way that reloadTls asked for: reconnect at once, not "lost". */
  private rotating = false;
  /** The next attempt is made at once (a protocol fallback), not after a backoff delay. */
  private retryNow = false;
  /** At-least-once recording (LinkDeps.deferAcks): held PUBACKs and the intake pause. */
  private readonly deferred: DeferredAcks | undefined;

  constructor(private readonly deps: LinkDeps) {
    this.log = deps.logger.child({ component: 'mqtt' });
    this.reporter = new ConnectionReporter(this.log);
    this.random = deps.random ?? Math.random;
    this.clientId = makeClientId(deps.config.clientIdPrefix, deps.config.replica.replicaId);
    this.version = initialVersion(deps.config);
    const options: IClientOptions = clientOptions(deps.config, this.clientId);
    this.client = mqtt.connect(options);
    this.brokerSubscriptions = new BrokerSubscriptions(this.client, {
      qos: deps.config.subscribeQos,
      protocolVersion: () => this.version,
      shareGroup: deps.config.replica.shareGroup,
    });
    this.publisher = new Publisher(this.client, {
      timeoutMs: deps.config.publishTimeoutMs,
      protocolVersion: () => this.version,
    });
    this.deferred =
      deps.deferAcks === true ? new DeferredAcks(this.client, this.log, this.clientId) : undefined;
    this.client.on('connect', (connack) => {
      this.deferred?.connected(connack.sessionPresent === true, this.connectedSince !== undefined);
      this.onConnect();
    });
    this.client.on('error', (error) => this.onError(error));
    this.client.on('close', () => this.onClose());
    this.client.on('disconnect', (packet) => {
      const code = packet.reasonCode ?? 0;
      this.errored = true;
      this.reporter.error({
        code: 'BROKER_DISCONNECT',
        message: `the broker closed the session: ${reasonText(code)} (${code})`,
      });
    });
    this.client.on('message', (topic, payload, packet) => this.deliver(topic, payload, packet));
  }

  /**
   * At-least-once recording with a full queue: take no further message from the connection until
   * the returned resume() is called (the message being delivered now is the last). The broker
   * keeps what follows for this session; the socket's own flow control holds the rest. Only
   * with deferred acknowledgements (deferred-acks.ts); otherwise nothing pauses.
   */
  pauseIntake(): () => void {
    return this.deferred?.pauseIntake() ?? (() => {});
  }

  /** Deferred acknowledgements so far (at-least-once recording). */
  ackStats(): AckStats {
    return this.deferred?.stats() ?? noAcks();
  }

  /** Start connecting. Never throws: problems are reported through status() and the logs. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    const { config } = this.deps;
    if (!config.secure) {
      this.log.warn(
        { broker: config.url },
        `MQTT_URL uses plain ${config.protocol}://: the connection is not encrypted`,
      );
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
      since: this.stateSince.toISOString(),
      brokerUrl: config.url,
      protocolVersion: this.version,
      ...(config.protocolVersion === 'auto' ? { protocolNote: this.protocolNote() } : {}),
      clientId: this.clientId,
      connectedSince: this.state === 'connected' ? this.connectedSince?.toISOString() : undefined,
      lastError: this.reporter.lastError,
      reconnectCount: this.reconnectCount,
      nextAttemptAt: this.state === 'reconnecting' ? this.nextAttemptAt?.toISOString() : undefined,
      tlsVerification: !config.secure
        ? `not used (plain ${config.protocol}://)`
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

  /** The bridge's own connection went up or down (for its records; not an MCP client's listener). */
  onConnection(listener: (state: 'up' | 'down') => void): void {
    this.connectionListeners.push(listener);
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

  /** MQTT_SHARE_GROUP: collection filters are shared with the other replicas of the group. */
  get sharedCollection(): boolean {
    return this.deps.config.replica.shareGroup !== undefined;
  }

  async unsubscribe(filter: string, options: { live?: boolean } = {}): Promise<void> {
    try {
      await this.brokerSubscriptions.remove(filter, options.live === true, this.connected);
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

  grantedAt(filter: string): number | undefined {
    return this.connected ? this.brokerSubscriptions.grantedAt(filter) : undefined;
  }

  /**
   * New TLS material (certificate rotation; main.ts calls this on SIGHUP after loadConfig has
   * checked the files): used from the next connection on, which is made at once. A live
   * connection is closed cleanly first; a publish in flight is reported as delivery unknown and
   * never re-sent.
   */
  reloadTls(tls: MqttConfig['tls']): void {
    if (this.closing || !this.deps.config.secure) return;
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
    this.setState('closed');
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
    const route = this.sharedCollection ? routeOf(packet.properties?.subscriptionIdentifier) : 'both';
    const message: IncomingMessage = {
      topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      properties: packet.properties === undefined ? undefined : pickProperties(packet.properties),
      ...(route !== 'both' ? { route } : {}),
    };
    const { messageId } = packet;
    const deferred = this.deferred;
    if (deferred === undefined || packet.qos !== 1 || route === 'live' || messageId === undefined) {
      for (const listener of this.listeners) listener(message);
      return;
    }
    const held = deferred.holdable(message, packet, messageId);
    if (held === undefined) return;
    for (const listener of this.listeners) listener(held);
  }

  private connectNow(): void {
    this.nextAttemptAt = undefined;
    this.errored = false;
    this.handshakeDone = false;
    try {
      if (this.reconnectCount === 0 && this.failures === 0 && this.state === 'connecting')
        this.client.connect();
      else this.client.reconnect();
      this.client.stream?.once?.('secureConnect', () => {
        this.handshakeDone = true;
      });
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
    this.setState('connected');
    this.connectedSince = this.stateSince;
    this.failures = 0;
    this.errored = false;
    if (this.fallback !== undefined && !this.fallback.confirmed) {
      this.fallback.confirmed = true;
      this.log.warn(
        { protocolVersion: 4, reason: this.fallback.reason },
        'MQTT_PROTOCOL_VERSION=auto: connected with MQTT 3.1.1; the broker cannot report refused publishes or subscriptions under 3.1.1',
      );
    }
    this.reporter.connected(wasReconnect, {
      clientId: this.clientId,
      reconnects: this.reconnectCount,
      protocolVersion: this.version,
    });
    for (const listener of this.connectionListeners) listener('up');
    this.brokerSubscriptions.renew().catch((error: unknown) => {
      this.log.warn({ err: error }, 'renewing subscriptions failed');
    });
  }

  private explainContext(): ExplainContext {
    const { config } = this.deps;
    return {
      host: config.host,
      port: config.port,
      servername: config.tls.servername,
      protocolVersion: this.version,
      clientCert: config.tls.cert !== undefined,
      inContainer: this.deps.inContainer === true,
      ...(config.secure ? { tls: { handshakeDone: this.handshakeDone } } : {}),
    };
  }

  private onError(error: Error): void {
    this.errored = true;
    const explained = explainConnectionError(error, this.explainContext());
    if (explained.code === 'PROTOCOL_VERSION' && this.fallBack('the broker refused MQTT 5')) return;
    this.reporter.error(explained);
  }

  /**
   * MQTT_PROTOCOL_VERSION=auto: use 3.1.1 from the next attempt on. True when it did (the caller
   * then reconnects at once instead of reporting a failure).
   */
  private fallBack(reason: string): boolean {
    if (this.deps.config.protocolVersion !== 'auto' || this.version !== 5) return false;
    this.version = 4;
    this.fallback = { reason, confirmed: false };
    setProtocolVersion(this.client.options, this.deps.config, 4);
    this.log.warn({ reason }, 'MQTT_PROTOCOL_VERSION=auto: falling back to MQTT 3.1.1');
    this.retryNow = true;
    return true;
  }

  private protocolNote(): string {
    if (this.fallback === undefined) return 'auto: MQTT 5 (3.1.1 if the broker refuses 5)';
    return `auto: fell back to MQTT 3.1.1 (${this.fallback.reason}); 3.1.1 cannot report refused publishes`;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.stateSince = new Date();
  }

  private onClose(): void {
    this.deferred?.closed();
    const wasConnected = this.state === 'connected';
    const silent = !this.errored && !this.closing && !this.rotating;
    this.brokerSubscriptions.connectionLost();
    if (wasConnected && silent && this.publisher.size > 0) {
      // No error, no DISCONNECT: the broker closed a connection with a publish in flight. Some
      // brokers (RabbitMQ, aedes) refuse a forbidden publish exactly this way.
      this.publisher.failAll(
        new BridgeError(
          'DELIVERY_UNKNOWN',
          "the broker closed the connection while the publish waited for its acknowledgement; some brokers refuse a publish the client may not make this way (check the broker's ACL for this client and topic); delivery is unknown and it will not be re-sent",
        ),
      );
      this.reporter.error({
        code: 'CLOSED_BY_BROKER',
        message:
          'the broker closed the connection while a publish was in flight (some brokers refuse a forbidden publish this way: check its ACL for this client)',
      });
    } else {
      this.publisher.failAll(
        new BridgeError(
          'DELIVERY_UNKNOWN',
          'the connection to the broker was lost before it acknowledged the publish; delivery is unknown (it will not be re-sent)',
        ),
      );
      if (wasConnected && silent)
        this.reporter.error({
          code: 'CLOSED_BY_BROKER',
          message:
            'the broker closed the connection without a reason (no DISCONNECT packet); see the broker log',
        });
    }
    if (this.closing) {
      this.setState('closed');
      return;
    }
    const attemptFailedSilently = !wasConnected && silent && this.client['connackReceived'] !== true;
    this.setState('reconnecting');
    if (
      attemptFailedSilently &&
      !this.fallBack('the broker closed the connection without answering an MQTT 5 CONNECT')
    ) {
      // A silent close under 3.1.1 right after falling back: the version was not the cause; go
      // back to MQTT 5 and tell what else it may be.
      if (this.fallback !== undefined && !this.fallback.confirmed) {
        this.version = 5;
        this.fallback = undefined;
        setProtocolVersion(this.client.options, this.deps.config, 5);
      }
      this.reporter.error(explainSilentClose(this.explainContext()));
    }
    if (this.rotating || this.retryNow) {
      this.rotating = false;
      this.retryNow = false;
      this.reconnectCount++;
      this.connectNow();
      return;
    }
    if (wasConnected) {
      this.reporter.lost();
      for (const listener of this.connectionListeners) listener('down');
    }
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
