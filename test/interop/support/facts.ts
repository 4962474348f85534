/**
 * How each broker behaves, as observed by the interoperability suite: the single source of the
 * README's "Broker compatibility" matrix. Each wire fact is asserted against the real broker by
 * the suite (a broker upgrade that changes one fails the run, and this table is then corrected
 * from `npx tsx test/interop/support/observe.ts`); test/interop/readme.test.ts checks that the
 * README shows exactly this table.
 */
import type { BrokerKey } from './kit.js';

export interface BrokerFacts {
  /** Column heading: product and version. */
  readonly product: string;
  /** Where it comes from. */
  readonly source: string;
  /** MQTT_PROTOCOL_VERSION to set for it. */
  readonly setting: string;
  /** Answer to an MQTT 5 CONNECT. */
  readonly mqtt5Connect: string;
  /** Answer to an MQTT 3.1.1 CONNECT. */
  readonly mqtt311Connect: string;
  /** TLS: a client that sends no certificate. */
  readonly noClientCert: string;
  /** TLS: a client certificate from a CA the broker does not trust. */
  readonly unknownCa: string;
  /** A QoS 1 publish to a topic the broker's ACL forbids, at the broker's version. */
  readonly refusedPublish: string;
  readonly retained: string;
  /** A retained value when a second, overlapping wildcard subscription is made. */
  readonly overlapping: string;
  readonly qos2Subscribe: string;
  readonly qos2Publish: string;
  readonly sys: string;
}

export const FACTS: Record<BrokerKey, BrokerFacts> = {
  'mosquitto-5': {
    product: 'Mosquitto 2.0.11 (MQTT 5)',
    source: 'Debian bookworm',
    setting: '5 (default)',
    mqtt5Connect: 'CONNACK, accepted',
    mqtt311Connect: 'CONNACK, accepted',
    noClientCert: 'TLS alert "certificate required"',
    unknownCa: 'TLS alert "unknown CA"',
    refusedPublish: 'PUBACK with reason code 135',
    retained: 'replayed on subscribe',
    overlapping: 'sent again',
    qos2Subscribe: 'granted QoS 2',
    qos2Publish: 'completed',
    sys: 'yes',
  },
  'mosquitto-3.1.1': {
    product: 'Mosquitto 2.0.11 (MQTT 3.1.1)',
    source: 'Debian bookworm',
    setting: '4',
    mqtt5Connect: 'CONNACK, accepted',
    mqtt311Connect: 'CONNACK, accepted',
    noClientCert: 'TLS alert "certificate required"',
    unknownCa: 'TLS alert "unknown CA"',
    refusedPublish: 'PUBACK, message dropped',
    retained: 'replayed on subscribe',
    overlapping: 'sent again',
    qos2Subscribe: 'granted QoS 2',
    qos2Publish: 'completed',
    sys: 'yes',
  },
  rabbitmq: {
    product: 'RabbitMQ 3.10.8',
    source: 'Debian bookworm, rabbitmq_mqtt plugin',
    setting: '4',
    mqtt5Connect: 'socket closed, no CONNACK, no TLS alert',
    mqtt311Connect: 'CONNACK, accepted',
    noClientCert: 'TLS alert "certificate required"',
    unknownCa: 'TLS alert "unknown CA"',
    refusedPublish: 'connection closed, no PUBACK',
    retained: 'replayed on an exact-topic subscription only',
    overlapping: 'not sent again',
    qos2Subscribe: 'granted QoS 1',
    qos2Publish: 'completed',
    sys: 'no (subscribes, nothing arrives)',
  },
  nats: {
    product: 'NATS 2.9.10',
    source: 'Debian bookworm, MQTT with JetStream',
    setting: '4',
    mqtt5Connect: 'CONNACK refusing it, code 1',
    mqtt311Connect: 'CONNACK, accepted',
    noClientCert: 'TLS alert "bad certificate"',
    unknownCa: 'TLS alert "bad certificate"',
    refusedPublish: 'PUBACK, message dropped',
    retained: 'replayed on subscribe',
    overlapping: 'sent again',
    qos2Subscribe: 'granted QoS 1',
    qos2Publish: 'connection closed',
    sys: 'no (subscribes, nothing arrives)',
  },
  aedes: {
    product: 'aedes 1.2.0',
    source: 'npm, behind a Node TLS listener',
    setting: '4',
    mqtt5Connect: 'CONNACK refusing it, code 1',
    mqtt311Connect: 'CONNACK, accepted',
    noClientCert: 'TLS alert "certificate required"',
    unknownCa: 'socket closed, no CONNACK, no TLS alert',
    refusedPublish: 'connection closed, no PUBACK',
    retained: 'replayed on subscribe',
    overlapping: 'sent again',
    qos2Subscribe: 'granted QoS 2',
    qos2Publish: 'completed',
    sys: 'yes',
  },
};

/** Rows of the matrix: fact, and how the README names it. */
export const ROWS: ReadonlyArray<readonly [keyof BrokerFacts, string]> = [
  ['source', 'Comes from'],
  ['setting', '`MQTT_PROTOCOL_VERSION` to use'],
  ['mqtt5Connect', 'MQTT 5 CONNECT'],
  ['mqtt311Connect', 'MQTT 3.1.1 CONNECT'],
  ['noClientCert', 'TLS without a client certificate'],
  ['unknownCa', 'Client certificate from an unknown CA'],
  ['refusedPublish', 'QoS 1 publish its ACL forbids'],
  ['retained', 'Retained messages'],
  ['overlapping', 'Retained value on a second, overlapping subscription'],
  ['qos2Subscribe', 'QoS 2 subscription'],
  ['qos2Publish', 'QoS 2 publish'],
  ['sys', '`$SYS` topics'],
];
