/**
 * Mosquitto in containers for the Docker suite: the shipped broker config on a network the
 * test created, and one-shot mosquitto_pub / mosquitto_sub clients on such a network. Nothing
 * here talks to anything but those networks.
 */
import { join } from 'node:path';
import { ROOT, RUN_LABEL_ARG, docker, dockerOk, eventually } from './docker.js';
import type { DockerPki } from './docker.js';

/** The compose file's hardening for the broker, as `docker run` flags. */
const BROKER_HARDENING = [
  '--user',
  '1883:1883',
  '--read-only',
  '--tmpfs',
  '/mosquitto/data:size=1m',
  '--tmpfs',
  '/mosquitto/log:size=1m',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges:true',
  '--memory',
  '128m',
  '--pids-limit',
  '64',
];

/** The shipped mosquitto/mosquitto.conf, ACL and the PKI's server certificate, mounted read-only. */
function brokerMounts(pki: DockerPki): string[] {
  return [
    '-v',
    `${join(ROOT, 'mosquitto/mosquitto.conf')}:/mosquitto/config/mosquitto.conf:ro`,
    '-v',
    `${join(ROOT, 'mosquitto/acl')}:/mosquitto/config/acl:ro`,
    ...['ca.crt', 'server.crt', 'server.key'].flatMap((f) => [
      '-v',
      `${join(pki.dir, f)}:/mosquitto/certs/${f}:ro`,
    ]),
  ];
}

async function runBroker(image: string, placement: readonly string[], pki: DockerPki): Promise<string> {
  const id = await dockerOk([
    'run',
    '-d',
    '--label',
    RUN_LABEL_ARG,
    ...placement,
    ...BROKER_HARDENING,
    ...brokerMounts(pki),
    image,
  ]);
  await eventually(
    async () => / running/.test((await docker(['logs', id])).stderr),
    15_000,
    'mosquitto to report running',
  );
  return id;
}

/** Start the shipped mosquitto/mosquitto.conf and ACL on `network`, reachable as `mosquitto`. */
export function startBrokerContainer(image: string, network: string, pki: DockerPki): Promise<string> {
  return runBroker(image, ['--network', network, '--network-alias', 'mosquitto'], pki);
}

/**
 * The same broker with its mTLS port published on 127.0.0.1 only (an ephemeral port), for clients
 * on this host; its log (stderr) through `docker logs`.
 */
export async function startPublishedBroker(
  image: string,
  pki: DockerPki,
): Promise<{ id: string; port: number; log(): Promise<string> }> {
  const id = await runBroker(image, ['-p', '127.0.0.1::8883'], pki);
  const mapped = await dockerOk(['port', id, '8883/tcp']);
  const port = Number(/:(\d+)\s*$/m.exec(mapped)?.[1]);
  if (!(port > 0)) throw new Error(`docker port said ${mapped}`);
  return { id, port, log: async () => (await docker(['logs', id])).stderr };
}

export interface ClientIdentity {
  /** Host directory with ca.crt, and the client certificate and key (when any). */
  readonly dir: string;
  readonly cert?: string;
  readonly key?: string;
}

/** The bridge identity (CN mcp-bridge), which the shipped ACL lets read and write plant/#. */
export function bridgeIdentity(pki: DockerPki): ClientIdentity {
  return { dir: pki.dir, cert: 'client.crt', key: 'client.key' };
}

/** mosquitto_pub/mosquitto_sub arguments for the broker `mosquitto` on port 8883. */
function tlsArgs(identity: ClientIdentity, caDir: string): string[] {
  return [
    '-h',
    'mosquitto',
    '-p',
    '8883',
    '-V',
    '5',
    '--cafile',
    `${caDir === identity.dir ? '/id' : '/ca'}/ca.crt`,
    ...(identity.cert !== undefined && identity.key !== undefined
      ? ['--cert', `/id/${identity.cert}`, '--key', `/id/${identity.key}`]
      : []),
  ];
}

function clientRunArgs(network: string, identity: ClientIdentity, caDir: string): string[] {
  return [
    '--label',
    RUN_LABEL_ARG,
    '--network',
    network,
    // The keys belong to uid 10001 (the bridge's); the client runs as that uid, unprivileged.
    '--user',
    '10001:10001',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges:true',
    '-v',
    `${identity.dir}:/id:ro`,
    ...(caDir === identity.dir ? [] : ['-v', `${caDir}:/ca:ro`]),
  ];
}

/** One mosquitto_pub, to completion. caDir: where the trusted ca.crt is (default: the identity's). */
export async function mosquittoPub(
  image: string,
  network: string,
  identity: ClientIdentity,
  args: readonly string[],
  caDir = identity.dir,
) {
  return docker(
    [
      'run',
      '--rm',
      ...clientRunArgs(network, identity, caDir),
      image,
      'mosquitto_pub',
      ...tlsArgs(identity, caDir),
      ...args,
    ],
    60_000,
  );
}

/** A mosquitto_sub in the background that prints `-v` lines; resolves once it is subscribed. */
export async function startSubscriber(
  image: string,
  network: string,
  identity: ClientIdentity,
  topic: string,
  count: number,
): Promise<{ id: string; output(): Promise<string>; wait(timeoutMs: number): Promise<string> }> {
  const id = await dockerOk([
    'run',
    '-d',
    // A TTY makes mosquitto_sub's stdout line-buffered, so `docker logs` shows SUBACK at once.
    '-t',
    ...clientRunArgs(network, identity, identity.dir),
    image,
    'mosquitto_sub',
    ...tlsArgs(identity, identity.dir),
    '-d',
    '-v',
    '-t',
    topic,
    '-C',
    String(count),
    '-W',
    '60',
  ]);
  const output = async () => {
    const logs = await docker(['logs', id]);
    return logs.stdout + logs.stderr;
  };
  await eventually(async () => (await output()).includes('SUBACK'), 20_000, `subscriber on ${topic}`);
  return {
    id,
    output,
    wait: async (timeoutMs) => {
      await eventually(
        async () => (await dockerOk(['inspect', '-f', '{{.State.Running}}', id])) === 'false',
        timeoutMs,
        `subscriber ${id.slice(0, 12)} to receive ${count} message(s)`,
      );
      return output();
    },
  };
}

/**
 * A QoS 1 flood in the background: `count` messages on `topic`, the payloads 1..count in order,
 * paced at about `perSecond` (mosquitto_pub -l publishes one message per line of its input).
 * The container exits 0 once the broker has acknowledged every message.
 */
export async function startFlood(
  image: string,
  network: string,
  identity: ClientIdentity,
  topic: string,
  count: number,
  perSecond: number,
): Promise<{ id: string; exitCode(timeoutMs: number): Promise<number>; running(): Promise<boolean> }> {
  const step = Math.max(1, Math.round(perSecond / 10));
  // A line at a time, a pause of 0.1 s after every `step` lines.
  const lines = `i=1; while [ $i -le ${count} ]; do echo $i; [ $((i % ${step})) -eq 0 ] && sleep 0.1; i=$((i + 1)); done`;
  const pub = ['mosquitto_pub', ...tlsArgs(identity, identity.dir), '-q', '1', '-l', '-t', topic].join(' ');
  const id = await dockerOk([
    'run',
    '-d',
    ...clientRunArgs(network, identity, identity.dir),
    '--entrypoint',
    'sh',
    image,
    '-c',
    `${lines} | ${pub}`,
  ]);
  return {
    id,
    running: async () => (await dockerOk(['inspect', '-f', '{{.State.Running}}', id])) === 'true',
    exitCode: async (timeoutMs) => {
      const waited = await docker(['wait', id], timeoutMs);
      if (waited.code !== 0) throw new Error(`docker wait ${id}: ${waited.stderr}`);
      return Number(waited.stdout.trim());
    },
  };
}
