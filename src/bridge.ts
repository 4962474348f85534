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
  readonly brokerUrl: string;
  readonly protocolVersion: 4 | 5;
  readonly clientId: string;
  readonly connectedSince: string | undefined;
  readonly lastError: LinkError | undefined;
  /** Connection attempts after the first one. */
  readonly reconnectCount: number;
  /** When the next connection attempt is due, while reconnecting. */
  readonly nextAttemptAt: string | undefined;
  readonly tlsVerification: 'on' | 'off (MQTT_TLS_INSECURE)' | 'not used (plain mqtt://)';
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
  /** MQTT 5 reason code of the acknowledgement, when there was one. */
  readonly reasonCode: number | undefined;
  readonly reason: string;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly properties: MessageProperties | undefined;
}

/** Connection events worth telling an MCP client about (sent as MCP log notifications). */
export interface LinkEvent {
  readonly level: 'info' | 'warning' | 'error';
  readonly code: string;
  readonly message: string;
}

export interface BrokerLink {
  status(): LinkStatus;
  readonly connected: boolean;
  /** Fails at once when not connected; never queues for later. */
  publish(request: PublishRequest): Promise<PublishReceipt>;
  /** Add a subscription; kept across reconnects until removed. `live` skips retained replays (MQTT 5). */
  subscribe(filter: string, options?: { live?: boolean }): Promise<void>;
  unsubscribe(filter: string): Promise<void>;
  /** The broker subscriptions wanted right now (held across reconnects). */
  subscriptions(): string[];
  onMessage(listener: (message: IncomingMessage) => void): void;
  /** Listen for connection events; returns the function that stops listening. */
  onEvent(listener: (event: LinkEvent) => void): () => void;
}
