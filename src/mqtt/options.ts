/**
 * Config -> mqtt.js client options. Verification stays on (rejectUnauthorized, TLS 1.2
 * minimum); reconnecting is done by client.ts with backoff, so mqtt.js' own fixed-interval
 * reconnect, resubscribe and offline queueing are all turned off.
 */
import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config/load.js';

export function makeClientId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function clientOptions(config: MqttConfig, clientId: string): IClientOptions {
  const options: IClientOptions = {
    protocol: config.protocol,
    host: config.host,
    port: config.port,
    protocolVersion: config.protocolVersion,
    clientId,
    clean: true,
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
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (config.protocolVersion === 5) {
    options.properties = { maximumPacketSize: config.maxPacketBytes, sessionExpiryInterval: 0 };
  }
  if (config.protocol === 'mqtts') {
    const tls = config.tls;
    Object.assign(options, {
      rejectUnauthorized: !tls.insecure,
      minVersion: 'TLSv1.2',
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    });
    setCredentials(options, tls);
  }
  return options;
}

/**
 * The CA, certificate, key and passphrase in mqtt.js options: set or removed. Also how new TLS
 * material takes effect (mqtt.js reads its options again at every connection).
 */
export function setCredentials(options: IClientOptions, tls: MqttConfig['tls']): void {
  const fields = options as Record<string, unknown>;
  for (const name of ['ca', 'cert', 'key', 'passphrase'] as const) {
    if (tls[name] === undefined) delete fields[name];
    else fields[name] = tls[name];
  }
}
