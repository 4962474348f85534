/**
 * A plain mqtt.js client with its own certificate (CN "spy"), to publish test traffic and to
 * observe what the bridge sends to the broker.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Broker } from './broker.js';
import type { Pki } from './pki.js';

export interface Spy {
  readonly client: MqttClient;
  readonly received: Array<{ topic: string; payload: string; retain: boolean }>;
  publish(
    topic: string,
    payload: string | Buffer,
    options?: { qos?: 0 | 1 | 2; retain?: boolean },
  ): Promise<void>;
  close(): Promise<void>;
}

export async function connectSpy(broker: Broker, pki: Pki, subscribe: string[] = []): Promise<Spy> {
  const spyId = pki.issueClient('spy');
  const client = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: '127.0.0.1',
    port: broker.port,
    protocolVersion: 5,
    ca: readFileSync(pki.ca),
    cert: readFileSync(spyId.cert),
    key: readFileSync(spyId.key),
    reconnectPeriod: 0,
    clientId: `spy-${Math.random().toString(16).slice(2, 10)}`,
  });
  const received: Spy['received'] = [];
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }),
  );
  if (subscribe.length > 0) await client.subscribeAsync(subscribe, { qos: 1 });
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
