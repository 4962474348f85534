/**
 * What a broker does on the wire, seen by a plain mqtt.js client (no bridge in between), each
 * case reduced to one short phrase: the phrases are the cells of the README's compatibility
 * matrix (support/facts.ts), and the tests assert that the broker still behaves that way.
 */
import { alertCode } from '../../../src/mqtt/explain.js';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { sleep } from '../../helpers/broker.js';
import { clientOptions, connectSpy, uniquePrefix, type InteropBroker } from './kit.js';

export interface Observed {
  readonly outcome: string;
  /** From the start of the attempt to the outcome. */
  readonly ms: number;
  /** From the end of the TLS handshake (when the CONNECT is written) to the outcome. */
  readonly afterHandshakeMs?: number;
}

const TLS_ALERTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'TLS alert "certificate required"',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'TLS alert "unknown CA"',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'TLS alert "bad certificate"',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'TLS alert "handshake failure"',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'TLS alert "certificate unknown"',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'TLS alert "access denied"',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'TLS alert "decrypt error"',
};

/** One connection attempt: CONNACK, refusal, TLS alert or a close without any of them. */
export function probeConnect(options: IClientOptions): Promise<Observed> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const client = mqtt.connect({ ...options, reconnectPeriod: 0 });
    let done = false;
    let sentAt: number | undefined;
    client.stream.once('secureConnect', () => (sentAt = performance.now()));
    const finish = (outcome: string) => {
      if (done) return;
      done = true;
      const ms = elapsed();
      client.end(true);
      resolve({
        outcome,
        ms,
        ...(sentAt !== undefined ? { afterHandshakeMs: Math.round(performance.now() - sentAt) } : {}),
      });
    };
    client.on('connect', () => finish('CONNACK, accepted'));
    client.on('error', (error) => {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') finish(`CONNACK refusing it, code ${code}`);
      else if (typeof code === 'string' && TLS_ALERTS[alertCode(code)] !== undefined)
        finish(TLS_ALERTS[alertCode(code)] as string);
      else if (code === 'ECONNRESET') finish('connection reset, no CONNACK');
      else if (error.message === 'connack timeout') finish('no answer (CONNACK timeout)');
      else finish(`error ${typeof code === 'string' ? code : error.message}`);
    });
    client.on('close', () => finish('socket closed, no CONNACK, no TLS alert'));
  });
}

async function connected(options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync({ ...options, reconnectPeriod: 0 });
}

/** The bridge's identity publishes (QoS 1) to a topic the broker's ACL forbids it. */
export async function probeRefusedPublish(broker: InteropBroker): Promise<Observed> {
  const spy = await connectSpy(broker, ['secret/#']);
  const client = await connected(clientOptions(broker, { identity: 'bridge' }));
  const started = performance.now();
  try {
    const outcome = await new Promise<string>((resolve) => {
      client.once('close', () => resolve('connection closed, no PUBACK'));
      client.publish('secret/door', 'unlock', { qos: 1 }, (error, packet) => {
        const code =
          (error as { code?: unknown } | undefined)?.code ?? (packet as { reasonCode?: number })?.reasonCode;
        if (typeof code === 'number' && code >= 0x80) resolve(`PUBACK with reason code ${code}`);
        else if (error !== undefined && error !== null) resolve(`publish error: ${error.message}`);
        else resolve('PUBACK');
      });
      setTimeout(() => resolve('no PUBACK within 5 s, connection open'), 5000);
    });
    const ms = Math.round(performance.now() - started);
    if (outcome !== 'PUBACK') return { outcome, ms };
    await sleep(500);
    const delivered = spy.received.some((m) => m.topic === 'secret/door');
    return { outcome: delivered ? 'PUBACK, delivered (not refused)' : 'PUBACK, message dropped', ms };
  } finally {
    client.end(true);
    await spy.close();
  }
}

async function receivedWithin(spyReceived: () => number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (spyReceived() > 0) return true;
    await sleep(25);
  }
  return false;
}

export interface RetainObserved {
  /** A new subscriber gets the retained value: on an exact topic, on a wildcard filter, with the flag. */
  readonly retained: string;
  /** A second, overlapping wildcard subscription of the same client gets it again. */
  readonly overlapping: string;
}

async function retainedReplay(broker: InteropBroker, filter: string): Promise<'flag' | 'no flag' | 'none'> {
  const reader = await connectSpy(broker);
  try {
    await reader.client.subscribeAsync(filter, { qos: 1 });
    if (!(await receivedWithin(() => reader.received.length, 1500))) return 'none';
    return reader.received[0]?.retain === true ? 'flag' : 'no flag';
  } finally {
    await reader.close();
  }
}

export async function probeRetain(broker: InteropBroker): Promise<RetainObserved> {
  const prefix = uniquePrefix('wire-retain');
  const publisher = await connectSpy(broker);
  try {
    await publisher.publish(`${prefix}/level`, '7', { retain: true });
    await sleep(200);
    const exact = await retainedReplay(broker, `${prefix}/level`);
    const wildcard = await retainedReplay(broker, `${prefix}/#`);
    const flag = exact === 'no flag' || wildcard === 'no flag' ? ' (without the retain flag)' : '';
    const retained =
      exact === 'none' && wildcard === 'none'
        ? 'not kept'
        : wildcard === 'none'
          ? `replayed on an exact-topic subscription only${flag}`
          : exact === 'none'
            ? `replayed on a wildcard subscription only${flag}`
            : `replayed on subscribe${flag}`;
    const reader = await connectSpy(broker);
    try {
      await reader.client.subscribeAsync(`${prefix}/level`, { qos: 1 });
      await receivedWithin(() => reader.received.length, 1500);
      const before = reader.received.length;
      // As the bridge does for mqtt_subscribe plant/line1/+ while plant/# is collected.
      await reader.client.subscribeAsync(`${prefix}/+`, { qos: 1 });
      const again = await receivedWithin(() => reader.received.length - before, 1500);
      return { retained, overlapping: before === 0 ? 'n/a' : again ? 'sent again' : 'not sent again' };
    } finally {
      await reader.close();
    }
  } finally {
    await publisher.publish(`${prefix}/level`, '', { retain: true }).catch(() => undefined);
    await publisher.close();
  }
}

export interface Qos2Observed {
  readonly subscribe: string;
  readonly publish: string;
}

export async function probeQos2(broker: InteropBroker): Promise<Qos2Observed> {
  const prefix = uniquePrefix('wire-qos2');
  const reader = await connected(clientOptions(broker));
  let subscribe: string;
  try {
    const granted = await reader.subscribeAsync(`${prefix}/q`, { qos: 2 });
    const qos = granted[0]?.qos;
    subscribe =
      qos === 2 ? 'granted QoS 2' : qos !== undefined && qos < 3 ? `granted QoS ${qos}` : `refused (${qos})`;
  } catch (error) {
    subscribe = `error: ${(error as Error).message}`;
  } finally {
    reader.end(true);
  }
  const writer = await connected(clientOptions(broker));
  try {
    const publish = await new Promise<string>((resolve) => {
      writer.once('close', () => resolve('connection closed'));
      writer.publish(`${prefix}/q`, 'x', { qos: 2 }, (error, packet) => {
        const code = (packet as { reasonCode?: number } | undefined)?.reasonCode;
        if (error !== undefined && error !== null) resolve(`error: ${error.message}`);
        else if (typeof code === 'number' && code >= 0x80) resolve(`PUBREC with reason code ${code}`);
        else resolve('completed');
      });
      setTimeout(() => resolve('no answer within 5 s'), 5000);
    });
    return { subscribe, publish };
  } finally {
    writer.end(true);
  }
}

/** Whether the broker publishes $SYS topics to a client allowed to read them. */
export async function probeSys(broker: InteropBroker): Promise<string> {
  const spy = await connectSpy(broker);
  try {
    const granted = await spy.client.subscribeAsync('$SYS/#', { qos: 0 });
    const qos = granted[0]?.qos ?? 128;
    if (qos >= 0x80) return 'subscription refused';
    const got = await receivedWithin(() => spy.received.length, 3000);
    return got ? 'yes' : 'no (subscribes, nothing arrives)';
  } catch (error) {
    return `error: ${(error as Error).message}`;
  } finally {
    await spy.close().catch(() => undefined);
  }
}
