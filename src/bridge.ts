/**
 * The interface tools use to reach the broker. Implemented by mqtt/client.ts; tools never
 * import 'mqtt' itself, and tests can wire tools to the real implementation or a real broker.
 */

/** MQTT 5 properties of a received message that are kept (publisher-controlled, untrusted). */
export interface MessageProperties {
  readonly contentType?: string;
  readonly userProperties?: Readonly<Record<string, string | readonly string[]>>;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface LinkError {
  /** A short stable code, e.g. BROKER_CERT_UNTRUSTED, CONNECTION_REFUSED. */
  readonly code: string;
  /** What happened, in operator words, with what to check. */
  readonly message: string;
  /** ISO 8601. */
  readonly at: string;
}

export interface LinkStatus {
  readonly state: ConnectionState;
  /** When the link entered `state` (ISO 8601). */
  readonly since: string;
  readonly brokerUrl: string;
  /** The MQTT version of the current (or next) connection. */
  readonly protocolVersion: 4 | 5;
  /** With MQTT_PROTOCOL_VERSION=auto: which version it uses and why. */
  readonly protocolNote?: string;
  readonly clientId: string;
  readonly connectedSince: string | undefined;
  readonly lastError: LinkError | undefined;
  /** Connection attempts after the first one. */
  readonly reconnectCount: number;
  /** When the next connection attempt is due, while reconnecting. */
  readonly nextAttemptAt: string | undefined;
  readonly tlsVerification: string;
}

export interface PublishRequest {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
}

export interface PublishReceipt {
  /** `acknowledged`: the broker confirmed (QoS 1/2); `sent`: written to the socket (QoS 0 has no acknowledgement). */
  readonly delivery: 'acknowledged' | 'sent';
  /** MQTT 5 reason code of the acknowledgement; undefined under 3.1.1 and for QoS 0 (none on the wire). */
  readonly reasonCode: number | undefined;
  readonly reason: string;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly properties: MessageProperties | undefined;
  /**
   * With a share group: `collect`, the copy of the shared collection subscription (store and
   * history, not the live feed); `live`, the copy of a live subscription (the live feed only).
   * Absent: both (no share group).
   */
  readonly route?: 'collect' | 'live';
  /**
   * At-least-once recording (a persistent session, QoS 1, history on): hold the broker's
   * acknowledgement; the returned function sends it (call it once the message is committed, or
   * when it will never be). Absent: acknowledged as it arrived.
   */
  readonly hold?: () => () => void;
  /** With `hold`: the packet id, and whether the broker resent it (DUP), for history to tell copies apart. */
  readonly delivery?: Delivery;
}

export interface Delivery {
  readonly mid: number;
  readonly redelivered: boolean;
}

/** Connection events worth telling an MCP client about (sent as MCP log notifications). */
export interface LinkEvent {
  readonly level: 'info' | 'warning' | 'error';
  readonly code: string;
  readonly message: string;
}

/** Deferred acknowledgements (at-least-once recording), counted. */
export interface AckStats {
  /** PUBACKs held now, waiting for their batch to commit. */
  readonly held: number;
  /** Sent after the commit. */
  readonly sent: number;
  /** Committed after their connection was gone: the broker sends them again (with DUP). */
  readonly lostWithConnection: number;
  /** Redeliveries (DUP) of a message already committed on the previous connection: acknowledged, not recorded again. */
  readonly duplicatesRemoved: number;
  /** Other redeliveries (DUP) recorded: may repeat a record committed before a crash of this process. */
  readonly redeliveredRecorded: number;
  /**
   * Reconnects on which the broker had kept no session (expired while away, or restarted without
   * persistence): what was published meanwhile and not delivered is not in history.
   */
  readonly sessionsLost: number;
}

export interface BrokerLink {
  status(): LinkStatus;
  readonly connected: boolean;
  /** Fails at once when not connected; never queues for later. */
  publish(request: PublishRequest): Promise<PublishReceipt>;
  /** Add a subscription; kept across reconnects until removed. `live` skips retained replays (MQTT 5). */
  subscribe(filter: string, options?: { live?: boolean }): Promise<void>;
  /** Remove a subscription added with the same `live` option. */
  unsubscribe(filter: string, options?: { live?: boolean }): Promise<void>;
  /**
   * MQTT_SHARE_GROUP: the collection is a shared subscription, so this replica's collection
   * receives only its share; live waits need their own subscription to see everything.
   */
  readonly sharedCollection?: boolean;
  /** The broker subscriptions wanted right now (held across reconnects). */
  subscriptions(): string[];
  /** When the broker granted this subscription on the current connection (epoch ms); undefined: not granted now. */
  grantedAt(filter: string): number | undefined;
  onMessage(listener: (message: IncomingMessage) => void): void;
  /** Listen for connection events; returns the function that stops listening. */
  onEvent(listener: (event: LinkEvent) => void): () => void;
}
