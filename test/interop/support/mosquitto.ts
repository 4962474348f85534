/**
 * Mosquitto from Debian, through the integration tests' broker helper (mutual TLS,
 * use_identity_as_username, an ACL file), spoken to over MQTT 5 or 3.1.1, with a second
 * listener for MQTT over WebSockets with TLS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, MOSQUITTO, freePort } from '../../helpers/broker.js';
import type { Pki } from '../../helpers/pki.js';
import type { InteropBroker } from './kit.js';

const ACL = [
  'user mcp-bridge',
  'topic readwrite plant/#',
  '',
  'user spy',
  'topic readwrite #',
  'topic read $SYS/#',
  '',
].join('\n');

export function mosquittoVersion(): string {
  // `mosquitto -h` prints its version and exits with status 3.
  const out = spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' }).stdout;
  return /mosquitto version (\S+)/.exec(out)?.[1] ?? 'unknown';
}

/** A second listener: MQTT over WebSockets with TLS (wss://), the same certificates and ACL. */
function wssListener(pki: Pki, port: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-wss-'));
  writeFileSync(join(dir, 'acl'), ACL);
  return [
    `listener ${port} 127.0.0.1`,
    'protocol websockets',
    'allow_anonymous false',
    `cafile ${pki.ca}`,
    `certfile ${pki.serverCert}`,
    `keyfile ${pki.serverKey}`,
    'require_certificate true',
    'use_identity_as_username true',
    `acl_file ${join(dir, 'acl')}`,
  ];
}

export async function mosquitto(pki: Pki, protocolVersion: 4 | 5): Promise<InteropBroker> {
  const wssPort = await freePort();
  const broker = new Broker({ pki, acl: ACL, extraConfig: wssListener(pki, wssPort) });
  let startedInMs = 0;
  let started = false;
  const timed = async (action: () => Promise<unknown>) => {
    const t0 = performance.now();
    await action();
    startedInMs = Math.round(performance.now() - t0);
  };
  return {
    key: protocolVersion === 5 ? 'mosquitto-5' : 'mosquitto-3.1.1',
    product: `Mosquitto ${mosquittoVersion()}`,
    protocolVersion,
    pki,
    get port() {
      return broker.port;
    },
    get url() {
      return broker.url;
    },
    get startedInMs() {
      return startedInMs;
    },
    // After a stop, start again on the same port.
    start: () =>
      timed(async () => {
        await (started ? broker.restart() : broker.start());
        started = true;
      }),
    stop: () => broker.stop(),
    close: () => broker.stop(),
    restart: async () => {
      await broker.stop();
      await timed(() => broker.restart());
    },
    wssUrl: `wss://127.0.0.1:${wssPort}/mqtt`,
    log: () => broker.log(),
    cleanDisconnectLog: (clientId) => new RegExp(`Client ${clientId} disconnected\\.`),
  };
}
