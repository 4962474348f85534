/**
 * NATS from Debian (bookworm: 2.9) with its MQTT listener, which needs JetStream (retained
 * messages and sessions live in streams) and a server name. The client certificate's subject is
 * mapped to a NATS user (verify_and_map); the bridge's user may not publish to secret.> (NATS
 * subjects are MQTT topics with "/" written as ".").
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/broker.js';
import type { Pki } from '../../helpers/pki.js';
import { Daemon } from './daemon.js';
import type { InteropBroker } from './kit.js';

export const NATS_SERVER = existsSync('/usr/bin/nats-server') ? '/usr/bin/nats-server' : 'nats-server';
const START_TIMEOUT_MS = 20_000;

export function natsInstalled(): boolean {
  try {
    execFileSync(NATS_SERVER, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function nats(pki: Pki): Promise<InteropBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-nats-'));
  const [port, clientPort] = [await freePort(), await freePort()];
  pki.issueClient('spy');
  const quote = (s: string) => JSON.stringify(s);
  writeFileSync(
    join(dir, 'nats.conf'),
    [
      'server_name: interop-nats',
      `listen: ${quote(`127.0.0.1:${clientPort}`)}`,
      'debug: true',
      `jetstream { store_dir: ${quote(join(dir, 'jetstream'))}, max_memory_store: 64MB, max_file_store: 256MB }`,
      'authorization {',
      '  users = [',
      `    { user: ${quote('CN=mcp-bridge,O=mqtt-mcp-bridge TEST ONLY')}, permissions: { publish: { deny: ["secret.>"] } } }`,
      `    { user: ${quote('CN=spy')} }`,
      '  ]',
      '}',
      'mqtt {',
      `  listen: ${quote(`127.0.0.1:${port}`)}`,
      `  tls { cert_file: ${quote(pki.serverCert)}, key_file: ${quote(pki.serverKey)}, ca_file: ${quote(pki.ca)}, verify_and_map: true, timeout: 5 }`,
      '}',
      '',
    ].join('\n'),
  );
  const server = new Daemon({
    name: 'nats-server',
    command: NATS_SERVER,
    args: ['-c', join(dir, 'nats.conf')],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    logFile: join(dir, 'nats.log'),
  });
  let startedInMs = 0;
  const boot = async () => {
    const from = server.log().length;
    const started = performance.now();
    server.start();
    await server.waitForLog(/Server is ready/, START_TIMEOUT_MS, from);
    startedInMs = Math.round(performance.now() - started);
  };
  const version = /v(\d+\.\d+\.\d+)/.exec(
    execFileSync(NATS_SERVER, ['--version'], { encoding: 'utf8' }),
  )?.[1];
  return {
    key: 'nats',
    product: `NATS ${version ?? 'unknown'}`,
    protocolVersion: 4,
    pki,
    port,
    url: `mqtts://127.0.0.1:${port}`,
    get startedInMs() {
      return startedInMs;
    },
    start: boot,
    stop: () => server.stop(),
    close: () => server.stop(),
    restart: async () => {
      await server.stop();
      await boot();
    },
    log: () => server.log(),
  };
}
