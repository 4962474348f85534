/**
 * Config -> mqtt.js client options. Verification stays on (rejectUnauthorized, TLS 1.2
 * minimum); reconnecting is done by client.ts with backoff, so mqtt.js' own fixed-interval
 * reconnect, resubscribe and offline queueing are all turned off.
 *
 * Over wss:// the TLS options go to the `ws` package through `wsOptions`, set here in full:
 * mqtt.js copies only some of them there (not servername or minVersion), and only once, so a
 * rotated certificate would otherwise never reach a WebSocket connection.
 */
import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config/load.js';

/** `{prefix}-{replicaId}` exactly with a replica id (so its session can be resumed), else a random suffix. */
export function makeClientId(prefix: string, replicaId?: string): string {
  return `${prefix}-${replicaId ?? randomBytes(6).toString('hex')}`;
}

/** Inbound QoS 1 and 2 messages the broker may have unacknowledged with us (MQTT 5 Receive Maximum). */
export const RECEIVE_MAXIMUM = 65_535;

/** The protocol version of the first attempt: `auto` starts with MQTT 5. */
export function initialVersion(config: MqttConfig): 4 | 5 {
  return config.protocolVersion === 4 ? 4 : 5;
}

export function clientOptions(config: MqttConfig, clientId: string): IClientOptions {
  const options: IClientOptions = {
    protocol: config.protocol,
    host: config.host,
    port: config.port,
    clientId,
    // A positive session expiry (MQTT_REPLICA_ID) resumes the session the broker kept.
    clean: config.replica.sessionExpirySeconds === 0,
    keepalive: config.keepaliveSeconds,
    connectTimeout: config.connectTimeoutMs,
    reconnectPeriod: 0,
    reconnectOnConnackError: false,
    resubscribe: false,
    queueQoSZero: false,
    manualConnect: true,
    // mqtt.js would otherwise log through `debug`, which prints the CONNECT packet
    // (password included) when DEBUG=mqttjs* is set.
    log: () => undefined,
  };
  if (config.path !== undefined) options.path = config.path;
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  setProtocolVersion(options, config, initialVersion(config));
  if (config.secure) {
    const tls = config.tls;
    Object.assign(options, {
      rejectUnauthorized: !tls.insecure,
      minVersion: 'TLSv1.2',
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    });
    if (config.path !== undefined) options.wsOptions = {};
    setCredentials(options, tls);
  }
  return options;
}

/** The MQTT version of the next connection (mqtt.js reads its options again at every connect). */
export function setProtocolVersion(options: IClientOptions, config: MqttConfig, version: 4 | 5): void {
  options.protocolVersion = version;
  if (version === 5) {
    options.properties = {
      maximumPacketSize: config.maxPacketBytes,
      sessionExpiryInterval: config.replica.sessionExpirySeconds,
      // Messages stay unacknowledged until history has committed them (at-least-once recording):
      // let the broker keep as many in flight with us as MQTT 5 allows.
      ...(config.replica.sessionExpirySeconds > 0 ? { receiveMaximum: RECEIVE_MAXIMUM } : {}),
    };
  } else {
    delete options.properties;
  }
}

/**
 * The CA, certificate, key and passphrase in mqtt.js options: set or removed. Also how new TLS
 * material takes effect (mqtt.js reads its options again at every connection).
 */
export function setCredentials(options: IClientOptions, tls: MqttConfig['tls']): void {
  const fields = options as Record<string, unknown>;
  const ws = options.wsOptions as Record<string, unknown> | undefined;
  for (const name of ['ca', 'cert', 'key', 'passphrase'] as const) {
    for (const target of ws === undefined ? [fields] : [fields, ws]) {
      if (tls[name] === undefined) delete target[name];
      else target[name] = tls[name];
    }
  }
  if (ws !== undefined) {
    for (const name of ['rejectUnauthorized', 'minVersion', 'servername'] as const) {
      if (fields[name] === undefined) delete ws[name];
      else ws[name] = fields[name];
    }
  }
}
