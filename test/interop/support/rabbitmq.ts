/**
 * RabbitMQ from Debian (bookworm: 3.10) with its MQTT plugin, as a private instance: its own
 * epmd on a free port (started here, so that it is stopped by its PID too), node name, Erlang
 * cookie (HOME in the temp dir), data, log and config in a temp dir, the AMQP listener off and
 * one MQTT TLS listener. Users, permissions and the topic ACL come from a definitions file
 * loaded at boot, so no rabbitmqctl is needed. The system service the package installs is not
 * used (scripts/install-interop-deps.sh stops it).
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/broker.js';
import type { Pki } from '../../helpers/pki.js';
import { Daemon, waitForPort } from './daemon.js';
import type { InteropBroker } from './kit.js';

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const START_TIMEOUT_MS = 90_000;

export function rabbitmqInstalled(): boolean {
  return existsSync(RABBITMQ_SERVER);
}

function definitions(): string {
  const user = (name: string) => ({ name, password: `unused-${name}`, tags: [] });
  const all = (name: string) => ({ user: name, vhost: '/', configure: '.*', write: '.*', read: '.*' });
  return JSON.stringify({
    users: [user('mcp-bridge'), user('spy')],
    vhosts: [{ name: '/' }],
    permissions: [all('mcp-bridge'), all('spy')],
    // MQTT topics are AMQP routing keys on amq.topic, "/" written as ".".
    topic_permissions: [
      { user: 'mcp-bridge', vhost: '/', exchange: 'amq.topic', write: '^plant\\.', read: '.*' },
    ],
  });
}

export async function rabbitmq(pki: Pki): Promise<InteropBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-rabbitmq-'));
  for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(dir, sub));
  const [port, nodePort, distPort, epmdPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const node = `interop-${Math.random().toString(36).slice(2, 8)}@localhost`;
  writeFileSync(join(dir, 'definitions.json'), definitions());
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      'listeners.tcp = none',
      'mqtt.listeners.tcp = none',
      `mqtt.listeners.ssl.default = 127.0.0.1:${port}`,
      `ssl_options.cacertfile = ${pki.ca}`,
      `ssl_options.certfile = ${pki.serverCert}`,
      `ssl_options.keyfile = ${pki.serverKey}`,
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
      'mqtt.ssl_cert_login = true',
      'ssl_cert_login_from = common_name',
      'mqtt.allow_anonymous = false',
      'definitions.import_backend = local_filesystem',
      `definitions.local.path = ${join(dir, 'definitions.json')}`,
      '',
    ].join('\n'),
  );
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    LANG: 'C.UTF-8',
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(nodePort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins-expand'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    // Our epmd is already up; the node must not start (and leave behind) another one.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-start_epmd false',
  };
  const epmd = new Daemon({
    name: 'epmd',
    command: 'epmd',
    args: ['-port', String(epmdPort), '-address', '127.0.0.1'],
    env,
    cwd: dir,
    logFile: join(dir, 'epmd.log'),
  });
  const server = new Daemon({
    name: 'rabbitmq',
    command: RABBITMQ_SERVER,
    args: [],
    env,
    cwd: dir,
    logFile: join(dir, 'rabbitmq.log'),
  });
  let startedInMs = 0;
  let version = 'unknown';
  const boot = async () => {
    const from = server.log().length;
    const started = performance.now();
    server.start();
    await server.waitForLog(/Server startup complete/, START_TIMEOUT_MS, from);
    startedInMs = Math.round(performance.now() - started);
    version = /Starting RabbitMQ (\S+)/.exec(server.log())?.[1] ?? version;
  };
  return {
    key: 'rabbitmq',
    get product() {
      return `RabbitMQ ${version}`;
    },
    protocolVersion: 4,
    pki,
    port,
    url: `mqtts://127.0.0.1:${port}`,
    get startedInMs() {
      return startedInMs;
    },
    start: async () => {
      if (!epmd.alive) {
        epmd.start();
        await waitForPort(epmdPort, 5000);
      }
      await boot();
    },
    stop: () => server.stop(),
    close: async () => {
      await server.stop();
      await epmd.stop();
    },
    restart: async () => {
      await server.stop();
      await boot();
    },
    log: () => server.log(),
  };
}
