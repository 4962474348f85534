/**
 * What an interoperability test needs from a broker, whichever it is: start, stop and restart on
 * the same loopback port, its log, the bridge's environment against it and plain mqtt.js clients
 * with the test identities. Every broker is set up the same way: a TLS listener on 127.0.0.1 and
 * a port the test chose, client certificates from the run's PKI required, the certificate CN as
 * user name, and these rights: "mcp-bridge" (the bridge) reads and writes plant/# and may not
 * publish to secret/#; "spy" (the test's own client) may do everything.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Broker } from '../../helpers/broker.js';
import { bridgeEnv } from '../../helpers/bridge.js';
import type { Pki } from '../../helpers/pki.js';

export const BROKER_KEYS = ['mosquitto-5', 'mosquitto-3.1.1', 'rabbitmq', 'nats', 'aedes'] as const;
export type BrokerKey = (typeof BROKER_KEYS)[number];

/** The MQTT version each broker is used with (4 is 3.1.1). */
export const PROTOCOL_VERSION: Record<BrokerKey, 4 | 5> = {
  'mosquitto-5': 5,
  'mosquitto-3.1.1': 4,
  rabbitmq: 4,
  nats: 4,
  aedes: 4,
};

export interface InteropBroker {
  readonly key: BrokerKey;
  /** Product and version as the broker reports it, e.g. "Mosquitto 2.0.11". */
  readonly product: string;
  /** The MQTT version to use with this broker (4 is 3.1.1). */
  readonly protocolVersion: 4 | 5;
  readonly pki: Pki;
  readonly port: number;
  readonly url: string;
  /** MQTT over WebSockets with TLS, where the broker is set up for it. */
  readonly wssUrl?: string;
  /** How long the last start took, until the MQTT listener was ready, in ms. */
  readonly startedInMs: number;
  start(): Promise<void>;
  /** Stop the broker (helpers such as epmd stay up for a start on the same port). */
  stop(): Promise<void>;
  /** Stop and start again on the same port (same data directory). */
  restart(): Promise<void>;
  /** Stop the broker and every helper process: the end of the test file. */
  close(): Promise<void>;
  log(): string;
  /** What the broker logs for a client that sent DISCONNECT (undefined: it logs nothing telling). */
  cleanDisconnectLog?(clientId: string): RegExp;
}

/** The bridge's environment against an interop broker: its version, the test identity, plant/# read and written. */
export function interopEnv(
  broker: InteropBroker,
  extra: Record<string, string> = {},
): Record<string, string> {
  return bridgeEnv({ url: broker.url } as Broker, broker.pki, {
    MQTT_PROTOCOL_VERSION: String(broker.protocolVersion),
    // The bridge's own policy allows secret/#: the broker's ACL is what refuses it.
    MCP_WRITE_TOPICS: 'plant/#,secret/#',
    MCP_PUBLISH_ALLOW_RETAIN: 'true',
    ...extra,
  });
}

export interface ClientOptions {
  readonly identity?: 'bridge' | 'spy' | 'foreign' | 'none';
  readonly protocolVersion?: 4 | 5;
  readonly clientId?: string;
}

/** mqtt.js options for a plain client of this broker (no reconnects). */
export function clientOptions(broker: InteropBroker, options: ClientOptions = {}): IClientOptions {
  const { pki } = broker;
  const identity = options.identity ?? 'spy';
  const files =
    identity === 'bridge'
      ? { cert: pki.clientCert, key: pki.clientKey }
      : identity === 'foreign'
        ? { cert: pki.foreignCert, key: pki.foreignKey }
        : identity === 'spy'
          ? pki.issueClient('spy')
          : undefined;
  return {
    protocol: 'mqtts',
    host: '127.0.0.1',
    port: broker.port,
    protocolVersion: options.protocolVersion ?? broker.protocolVersion,
    ca: readFileSync(pki.ca),
    ...(files !== undefined ? { cert: readFileSync(files.cert), key: readFileSync(files.key) } : {}),
    clientId: options.clientId ?? `${identity}-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 0,
    connectTimeout: 8000,
    clean: true,
  };
}

export interface Spy {
  readonly client: MqttClient;
  readonly received: Array<{ topic: string; payload: string; retain: boolean; qos: number }>;
  publish(topic: string, payload: string, options?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** The test's own client (identity "spy", all rights), subscribed to `filters`. */
export async function connectSpy(broker: InteropBroker, filters: string[] = []): Promise<Spy> {
  const client = await mqtt.connectAsync(clientOptions(broker, { identity: 'spy' }));
  const received: Spy['received'] = [];
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, qos: packet.qos }),
  );
  if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
  return {
    client,
    received,
    publish: async (topic, payload, options = {}) => {
      await client.publishAsync(topic, payload, { qos: options.qos ?? 1, retain: options.retain ?? false });
    },
    close: async () => {
      await client.endAsync(true);
    },
  };
}

/** A run-unique topic prefix, so that retained values of one test never leak into another. */
export function uniquePrefix(name: string): string {
  return `plant/${name}-${Math.random().toString(36).slice(2, 8)}`;
}
