/**
 * aedes (the npm MQTT broker, a devDependency) run by support/aedes-server.ts in a process of its
 * own, so that it is stopped by its PID and restarted on the same port like the other brokers.
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../helpers/broker.js';
import type { Pki } from '../../helpers/pki.js';
import { Daemon } from './daemon.js';
import type { InteropBroker } from './kit.js';

const SERVER = resolve(import.meta.dirname, 'aedes-server.ts');
const ROOT = resolve(import.meta.dirname, '../../..');

export async function aedes(pki: Pki): Promise<InteropBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-aedes-'));
  const port = await freePort();
  const version = (
    JSON.parse(readFileSync(join(ROOT, 'node_modules/aedes/package.json'), 'utf8')) as { version: string }
  ).version;
  const server = new Daemon({
    name: 'aedes',
    command: process.execPath,
    args: ['--import', 'tsx', SERVER],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AEDES_CONFIG: JSON.stringify({ port, ca: pki.ca, cert: pki.serverCert, key: pki.serverKey }),
    },
    cwd: ROOT,
    logFile: join(dir, 'aedes.log'),
  });
  let startedInMs = 0;
  const boot = async () => {
    const from = server.log().length;
    const started = performance.now();
    server.start();
    await server.waitForLog(/aedes listening on/, 20_000, from);
    startedInMs = Math.round(performance.now() - started);
  };
  return {
    key: 'aedes',
    product: `aedes ${version}`,
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
    cleanDisconnectLog: (clientId) => new RegExp(`client disconnected ${clientId} clean=true`),
  };
}
