/**
 * The real Docker paths, against the real engine (security.md T-1.13, T-5.2, T-5.5): the image
 * built from the repository's Dockerfile on the local stand-in base images, `docker run -i`
 * over stdio as Claude Desktop runs it, and the shipped docker-compose.yml with its broker.
 * Containers talk only to each other on networks this suite creates, and to the host through
 * one port published on 127.0.0.1. Everything created is labelled and removed in after().
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CONTAINER_HEAP_MIB } from '../soak/support.js';
import { freePort } from '../helpers/broker.js';
import { raw } from '../helpers/raw-http.js';
import {
  ROOT,
  RUN_ID,
  RUN_LABEL,
  RUN_LABEL_ARG,
  buildBridgeImage,
  createDockerPki,
  docker,
  dockerOk,
  eventually,
  inspect,
  leftovers,
  loadYaml,
  prepareEngineAndStandins,
  removeLabelled,
  removePki,
  type DockerPki,
} from './support/docker.js';
import { composeBaseEnv, composeProject } from './support/compose.js';
import { assertHardened } from './support/hardening.js';
import { describeScale } from './support/scale-suite.js';
import {
  bridgeIdentity,
  mosquittoPub,
  startBrokerContainer,
  startSubscriber,
} from './support/mqtt-containers.js';

const IMAGE = `mqtt-mcp-bridge-test:${RUN_ID}`;
const PROJECT = `mmbtest${RUN_ID}`;

let nodeImage: string;
let mosquittoImage: string;
let postgresImage: string;
let haproxyImage: string;
let pki: DockerPki;
let network: string;
/** Tags of the images this run built (runtime and build stage). */
let builtImages: string[] = [];

before(
  async () => {
    ({ nodeImage, mosquittoImage, postgresImage, haproxyImage } = prepareEngineAndStandins());
    pki = createDockerPki();
    builtImages = await buildBridgeImage(IMAGE, nodeImage);
    network = `mmbtest-${RUN_ID}`;
    await dockerOk(['network', 'create', '--internal', '--label', RUN_LABEL_ARG, network]);
  },
  { timeout: 540_000 },
);

after(
  async () => {
    // Containers first (a client container keeps a compose network busy), then compose, then
    // the rest of what carries this run's label.
    await removeLabelled({ containersOnly: true });
    await composeDown();
    const removed = await removeLabelled();
    for (const image of builtImages)
      if ((await docker(['rmi', image])).code === 0) removed.push(`image ${image}`);
    process.stderr.write(`docker suite: removed ${removed.join(', ')}\n`);
    removePki(pki);
    const left = [
      ...(await leftovers(`label=${RUN_LABEL_ARG}`)),
      ...(await leftovers(`label=com.docker.compose.project=${PROJECT}`)),
    ];
    for (const image of builtImages)
      if ((await docker(['image', 'inspect', image])).code === 0) left.push(`image ${image}`);
    assert.deepEqual(left, [], 'the suite left Docker objects behind');
  },
  { timeout: 120_000 },
);

/** Run a short program inside the image, as `docker run` would, without network. */
function runInImage(flags: readonly string[], entrypoint: string, args: readonly string[]) {
  return docker([
    'run',
    '--rm',
    '--label',
    RUN_LABEL_ARG,
    '--network',
    'none',
    ...flags,
    '--entrypoint',
    entrypoint,
    IMAGE,
    ...args,
  ]);
}

describe('the image', { timeout: 120_000 }, () => {
  it('runs as uid 10001 with the configured entrypoint, healthcheck and NODE_ENV', async () => {
    const config = (await inspect(IMAGE)).Config;
    assert.equal(config.User, '10001:10001');
    assert.deepEqual(config.Entrypoint, ['node', 'dist/index.js']);
    assert.deepEqual(config.Healthcheck.Test, ['CMD', 'node', 'dist/healthcheck.js']);
    assert.ok(config.Env.includes('NODE_ENV=production'), config.Env.join(' '));
    assert.ok(
      config.Env.includes(`NODE_OPTIONS=--max-old-space-size=${CONTAINER_HEAP_MIB}`),
      config.Env.join(' '),
    );
    const result = await runInImage(['--read-only'], 'id', ['-u']);
    assert.equal(result.stdout.trim(), '10001');
  });

  it('carries the MCP Registry name (server.json) and the package version as labels', async () => {
    const labels = (await inspect(IMAGE)).Config.Labels as Record<string, string>;
    const server = JSON.parse(readFileSync(join(ROOT, 'server.json'), 'utf8')) as { name: string };
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(labels['io.modelcontextprotocol.server.name'], server.name);
    assert.equal(labels['org.opencontainers.image.version'], pkg.version);
  });

  it('runs the Node major of the pinned official base image (the stand-in is built from it)', async () => {
    const major = /^ARG NODE_IMAGE=node:(\d+)\./m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    assert.ok(major !== undefined, 'no ARG NODE_IMAGE=node:N. in the Dockerfile');
    const result = await runInImage(['--read-only'], 'node', ['--version']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.trim(), new RegExp(`^v${major}\\.\\d+\\.\\d+$`));
  });

  it('has a read-only root filesystem, and /app is not writable by its user even without --read-only', async () => {
    const probe = `
      const fs = require('node:fs');
      const tryWrite = (p) => { try { fs.writeFileSync(p, 'x'); return 'written'; } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        uid: process.getuid(), root: tryWrite('/probe'), app: tryWrite('/app/probe'),
        dist: tryWrite('/app/dist/index.js'), tmp: tryWrite('/tmp/probe'),
      }));`;
    const ro = await runInImage(['--read-only', '--tmpfs', '/tmp:size=1m'], 'node', ['-e', probe]);
    assert.equal(ro.code, 0, ro.stderr);
    assert.deepEqual(JSON.parse(ro.stdout), {
      uid: 10001,
      root: 'EROFS',
      app: 'EROFS',
      dist: 'EROFS',
      tmp: 'written',
    });
    const rw = await runInImage([], 'node', ['-e', probe]);
    assert.equal(rw.code, 0, rw.stderr);
    const writable = JSON.parse(rw.stdout);
    assert.equal(writable.app, 'EACCES', 'uid 10001 must not be able to write to /app');
    assert.equal(writable.dist, 'EACCES', 'uid 10001 must not be able to change dist/');
  });

  it('holds production dependencies and dist/ only: no dev dependencies, tests, sources, keys or npm cache', async () => {
    const probe = `
      const fs = require('node:fs'); const path = require('node:path');
      const found = [];
      const walk = (dir) => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        const inDeps = p.startsWith('/app/node_modules/');
        if (e.isDirectory()) walk(p);
        else if (/\\.(key|pem|crt|csr|p12|pfx)$|^\\.env|^mcp_token$/.test(e.name)) found.push(p);
        else if (!inDeps && /\\.ts$|\\.test\\.js$/.test(e.name)) found.push(p);
      } };
      walk('/app');
      const exists = (p) => fs.existsSync(p);
      console.log(JSON.stringify({
        top: fs.readdirSync('/app').sort(),
        dev: ['typescript', 'eslint', 'tsx', 'prettier', 'aedes', '@eslint', 'typescript-eslint', 'esbuild', '@types/express']
          .filter((d) => exists('/app/node_modules/' + d)),
        runtime: ['@modelcontextprotocol/sdk', 'mqtt', 'pino', 'express', 'zod'].filter((d) => exists('/app/node_modules/' + d)),
        secretsOrSources: found,
        npmCache: ['/root/.npm', '/root/.cache', '/home/node/.npm'].filter(exists),
        tmp: fs.readdirSync('/tmp'),
        dist: ['index.js', 'healthcheck.js'].filter((f) => exists('/app/dist/' + f)),
      }));`;
    // As root (no capabilities), only to be able to look into /root.
    const result = await runInImage(['--user', '0:0', '--cap-drop', 'ALL'], 'node', ['-e', probe]);
    assert.equal(result.code, 0, result.stderr);
    const image = JSON.parse(result.stdout);
    assert.deepEqual(image.top, ['dist', 'node_modules', 'package-lock.json', 'package.json']);
    assert.deepEqual(image.dev, []);
    assert.deepEqual(image.runtime, ['@modelcontextprotocol/sdk', 'mqtt', 'pino', 'express', 'zod']);
    assert.deepEqual(image.secretsOrSources, []);
    assert.deepEqual(image.npmCache, []);
    assert.deepEqual(image.tmp, []);
    assert.deepEqual(image.dist, ['index.js', 'healthcheck.js']);
  });

  it('starts under the full hardening flags; the healthcheck passes in stdio mode', async () => {
    const flags = ['--read-only', '--tmpfs', '/tmp:size=1m', '--cap-drop', 'ALL'];
    const version = await runInImage(
      [...flags, '--security-opt', 'no-new-privileges:true', '--init'],
      'node',
      ['dist/index.js', '--version'],
    );
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stderr, /^\d+\.\d+\.\d+/);
    const health = await runInImage(flags, 'node', ['dist/healthcheck.js']);
    assert.equal(health.code, 0, health.stderr);
    assert.match(health.stdout, /stdio mode/);
  });

  const root = process.getuid?.() === 0;
  it(
    'refuses a key it cannot read with exit 1 and one line that names the file, never its content (T-5.5)',
    {
      skip: root ? false : 'needs root to give the key to another uid',
    },
    async () => {
      // server.key belongs to uid 1883 with mode 0600: uid 10001 cannot read it.
      const result = await docker([
        'run',
        '--rm',
        '-i',
        '--label',
        RUN_LABEL_ARG,
        '--network',
        'none',
        '--read-only',
        ...brokerTlsArgs('server.key'),
        IMAGE,
      ]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /MQTT_KEY_FILE: cannot read \/certs\/client\.key \(permission denied\)/);
      assert.doesNotMatch(result.stderr, /PRIVATE KEY/);
      assert.equal(result.stdout, '', 'stdout is for JSON-RPC only');
    },
  );
});

/** The docker run line of the README's Claude Desktop block, for the test network and certificates. */
function stdioRunArgs(caseLabel: string): string[] {
  return [
    'run',
    '-i',
    '--rm',
    '--init',
    '--user',
    '10001:10001',
    '--read-only',
    '--tmpfs',
    '/tmp:rw,noexec,nosuid,nodev,size=16m',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges:true',
    '--memory',
    '256m',
    '--memory-swap',
    '256m',
    '--cpus',
    '0.5',
    '--pids-limit',
    '64',
    '--ulimit',
    'nofile=1024:1024',
    '--stop-timeout',
    '10',
    '--label',
    RUN_LABEL_ARG,
    '--label',
    `${RUN_LABEL}.case=${caseLabel}`,
    '--network',
    network,
    ...brokerTlsArgs('client.key'),
    '-e',
    'MCP_READ_TOPICS=plant/#',
    IMAGE,
  ];
}

/**
 * `docker run` arguments that mount the test CA, the client certificate and a key (as
 * /certs/client.key, read-only) and point the bridge at the compose broker with them.
 */
function brokerTlsArgs(keyFile: string): string[] {
  const mounts = [`ca.crt:/certs/ca.crt`, `client.crt:/certs/client.crt`, `${keyFile}:/certs/client.key`];
  return [
    ...mounts.flatMap((m) => ['-v', `${pki.dir}/${m}:ro`]),
    ...[
      'MQTT_URL=mqtts://mosquitto:8883',
      'MQTT_CA_FILE=/certs/ca.crt',
      'MQTT_CERT_FILE=/certs/client.crt',
      'MQTT_KEY_FILE=/certs/client.key',
    ].flatMap((e) => ['-e', e]),
  ];
}

/** Containers of this run with a given case label (running or not). */
async function containersOf(caseLabel: string): Promise<string[]> {
  const result = await docker(['ps', '-aq', '--filter', `label=${RUN_LABEL}.case=${caseLabel}`]);
  return result.stdout.split('\n').filter(Boolean);
}

async function gone(caseLabel: string, withinMs: number): Promise<number> {
  const start = Date.now();
  await eventually(
    async () => (await containersOf(caseLabel)).length === 0,
    withinMs,
    `${caseLabel} removed`,
  );
  return Date.now() - start;
}

describe('docker run -i over stdio (Claude Desktop)', { timeout: 180_000 }, () => {
  before(async () => {
    await startBrokerContainer(mosquittoImage, network, pki);
    const pub = await mosquittoPub(mosquittoImage, network, bridgeIdentity(pki), [
      '-t',
      'plant/line1/temp',
      '-m',
      '21.5',
      '-r',
      '-q',
      '1',
    ]);
    assert.equal(pub.code, 0, `retained publish failed: ${pub.stderr}`);
  });

  it('serves tools over mTLS, with the limits applied; closing stdin removes the container within 10 s', async () => {
    const caseLabel = `stdio-${RUN_ID}`;
    const transport = new StdioClientTransport({
      command: 'docker',
      args: stdioRunArgs(caseLabel),
      env: getDefaultEnvironment(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'docker-stdio', version: '1.0.0' });
    await client.connect(transport);
    let closed = false;
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      assert.ok(names.includes('mqtt_get_latest'), names.join(','));
      assert.ok(!names.includes('mqtt_publish'), 'read-only without MCP_WRITE_TOPICS');

      const latest = await eventually(
        async () => {
          const result = (await client.callTool({
            name: 'mqtt_get_latest',
            arguments: { filter: 'plant/+/temp' },
          })) as CallToolResult;
          const content = result.structuredContent as any;
          return content?.count > 0 ? content : undefined;
        },
        20_000,
        'the retained value through the container',
      );
      assert.equal(latest.messages[0].topic, 'plant/line1/temp');
      assert.equal(latest.messages[0].payload, 21.5);
      assert.equal(latest.messages[0].retain, true);

      const [id] = await containersOf(caseLabel);
      assert.ok(id !== undefined, 'container not found by label');
      const host = (await inspect(id)).HostConfig;
      assert.equal(host.ReadonlyRootfs, true);
      assert.deepEqual(host.CapDrop, ['ALL']);
      assert.ok(host.SecurityOpt.includes('no-new-privileges:true'), host.SecurityOpt.join(','));
      assert.equal(host.Memory, 256 * 1024 * 1024);
      assert.equal(host.MemorySwap, 256 * 1024 * 1024);
      assert.equal(host.NanoCpus, 500_000_000);
      assert.equal(host.PidsLimit, 64);
      assert.equal(host.Init, true);
      assert.deepEqual(host.Tmpfs, { '/tmp': 'rw,noexec,nosuid,nodev,size=16m' });
      assert.deepEqual(host.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 1024 }]);
      assert.equal((await inspect(id)).Config.User, '10001:10001');

      // Closing the client ends the docker CLI's stdin. The SDK would send SIGTERM after 2 s:
      // finishing sooner shows that stdin EOF alone ended the container.
      const start = Date.now();
      await client.close();
      closed = true;
      const closeMs = Date.now() - start;
      assert.ok(closeMs < 2000, `docker run took ${closeMs} ms to end after stdin closed`);
      assert.match(stderr, /"reason":"stdin closed","msg":"shutting down"/);
      await gone(caseLabel, 10_000);
    } finally {
      if (!closed) await client.close();
    }
  });

  it('a broker URL of 127.0.0.1 inside the container: the refusal says 127.0.0.1 is the container itself', async () => {
    const caseLabel = `loopback-${RUN_ID}`;
    const args = stdioRunArgs(caseLabel);
    // The same run, with the broker address a user might copy from the host (the last -e wins).
    args.splice(args.indexOf(IMAGE), 0, '-e', 'MQTT_URL=mqtts://127.0.0.1:8883');
    const transport = new StdioClientTransport({
      command: 'docker',
      args,
      env: getDefaultEnvironment(),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'docker-loopback', version: '1.0.0' });
    await client.connect(transport);
    try {
      const error = await eventually(
        async () => {
          const result = (await client.callTool({ name: 'mqtt_status', arguments: {} })) as CallToolResult;
          return (result.structuredContent as any)?.connection?.lastError;
        },
        20_000,
        'the connection error',
      );
      assert.equal(error.code, 'CONNECTION_REFUSED');
      assert.match(error.message, /127\.0\.0\.1 is the container itself, not the host/);
      assert.match(error.message, /host\.docker\.internal/);
    } finally {
      await client.close();
    }
    await gone(caseLabel, 10_000);
  });

  it('history on the /data volume: a record survives a new container on the same named volume; /data 0700 and the file 0600, owned by 10001', async () => {
    const volume = `mmbtest-history-${RUN_ID}`;
    await dockerOk(['volume', 'create', '--label', RUN_LABEL_ARG, volume]);
    /** The README's docker run -i line with `-v <volume>:/data` before the image. */
    const open = async (caseLabel: string) => {
      const args = stdioRunArgs(caseLabel);
      args.splice(args.indexOf(IMAGE), 0, '-v', `${volume}:/data`, '-e', 'HISTORY_FLUSH_MS=100');
      const transport = new StdioClientTransport({
        command: 'docker',
        args,
        env: getDefaultEnvironment(),
        stderr: 'pipe',
      });
      const client = new Client({ name: caseLabel, version: '1.0.0' });
      await client.connect(transport);
      const call = async (name: string, args: Record<string, unknown> = {}) => {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
        return result.structuredContent as any;
      };
      return { client, call };
    };
    const first = await open(`history-1-${RUN_ID}`);
    try {
      await eventually(
        async () => (await first.call('mqtt_status')).connection.state === 'connected',
        20_000,
        'connected',
      );
      const pub = await mosquittoPub(mosquittoImage, network, bridgeIdentity(pki), [
        '-t',
        'plant/history/level',
        '-m',
        '42',
        '-q',
        '1',
      ]);
      assert.equal(pub.code, 0, pub.stderr);
      const history = await eventually(
        async () => {
          const h = (await first.call('mqtt_status')).history;
          return h.written >= 1 ? h : undefined;
        },
        20_000,
        'the record written',
      );
      assert.equal(history.state, 'recording');
      assert.equal(history.path, '/data/history.db');
    } finally {
      await first.client.close();
    }
    await gone(`history-1-${RUN_ID}`, 10_000);
    const modes = await runInImage(['--read-only', '-v', `${volume}:/data`], 'stat', [
      '-c',
      '%n %a %u:%g',
      '/data',
      '/data/history.db',
    ]);
    assert.equal(modes.code, 0, modes.stderr);
    assert.deepEqual(modes.stdout.trim().split('\n'), [
      '/data 700 10001:10001',
      '/data/history.db 600 10001:10001',
    ]);

    const second = await open(`history-2-${RUN_ID}`);
    try {
      const read = await second.call('mqtt_read_messages', {
        filter: 'plant/history/level',
        sinceSeconds: 3600,
      });
      assert.equal(read.source, 'history');
      assert.deepEqual(
        read.messages.map((m: { payload: unknown }) => m.payload),
        [42],
      );
    } finally {
      await second.client.close();
    }
    await gone(`history-2-${RUN_ID}`, 10_000);
    await dockerOk(['volume', 'rm', volume]);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`a client that kills the docker CLI with ${signal} leaves no container behind`, async () => {
      const caseLabel = `${signal.toLowerCase()}-${RUN_ID}`;
      // stdin stays open (a pipe nobody writes to), as with a client that never closes it.
      const cli = spawn('docker', stdioRunArgs(caseLabel), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      cli.stdout.resume();
      try {
        await eventually(async () => /"msg":"connected"/.test(stderr), 20_000, 'the bridge to connect');
        assert.equal((await containersOf(caseLabel)).length, 1);
        const exited = new Promise<void>((r) => cli.once('close', () => r()));
        cli.kill(signal);
        await exited;
        const ms = await gone(caseLabel, 10_000);
        if (signal === 'SIGTERM') assert.match(stderr, /"reason":"SIGTERM","msg":"shutting down"/);
        assert.ok(ms < 10_000);
      } finally {
        if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
      }
    });
  }
});

/* ------------------------------------------------------------------------------------------ */

let hostPort = 0;

function composeEnv(): NodeJS.ProcessEnv {
  return {
    ...composeBaseEnv(),
    BRIDGE_IMAGE: IMAGE,
    NODE_IMAGE: nodeImage,
    MOSQUITTO_IMAGE: mosquittoImage,
    CERTS_DIR: pki.dir,
    MCP_TOKEN_FILE: pki.tokenFile,
    MCP_HOST_PORT: String(hostPort),
  };
}

const { compose, composeOk, serviceId, healthy } = composeProject(
  join(ROOT, 'docker-compose.yml'),
  () => PROJECT,
  composeEnv,
);

let composeStarted = false;
async function composeDown(): Promise<void> {
  if (!composeStarted) return;
  const down = await compose(['down', '-v', '--remove-orphans', '-t', '10'], 120_000);
  if (down.code !== 0) process.stderr.write(`docker-compose down: ${down.stderr}\n`);
  // Whatever compose itself did not remove (an interrupted run), by its project label.
  const filter = ['--filter', `label=com.docker.compose.project=${PROJECT}`];
  const ids = (await docker(['ps', '-aq', ...filter])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids]);
  const nets = (await docker(['network', 'ls', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (nets.length > 0) await docker(['network', 'rm', ...nets]);
  const vols = (await docker(['volume', 'ls', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (vols.length > 0) await docker(['volume', 'rm', '-f', ...vols]);
}

async function httpClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${hostPort}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${pki.token}` } },
  });
  const client = new Client({ name: 'docker-compose', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    close: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

async function tool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}

describe('docker-compose.yml', { timeout: 300_000 }, () => {
  let brokerNetwork: string;

  before(async () => {
    hostPort = await freePort();
    brokerNetwork = `${PROJECT}_broker`;
    composeStarted = true;
    await composeOk(['up', '-d', '--no-build'], 240_000);
  });

  it('brings the broker and the bridge up healthy; the probes answer as documented', async () => {
    await healthy('mosquitto', 90_000);
    await healthy('bridge', 90_000);
    const live = await raw(hostPort, 'GET', '/healthz');
    assert.equal(live.status, 200);
    const ready = await eventually(
      async () => {
        const r = await raw(hostPort, 'GET', '/readyz');
        return r.status === 200 ? r : undefined;
      },
      20_000,
      '/readyz 200',
    );
    assert.match(ready.body, /ready/);
    const anonymous = await raw(hostPort, 'POST', '/mcp', {
      headers: { 'content-type': 'application/json', host: `127.0.0.1:${hostPort}` },
      body: '{}',
    });
    assert.equal(anonymous.status, 401);
    const metrics = await raw(hostPort, 'GET', '/metrics', {
      headers: { authorization: `Bearer ${pki.token}`, host: `127.0.0.1:${hostPort}` },
    });
    assert.equal(metrics.status, 200);
  });

  it('delivers a publish made through the bridge (MCP over HTTP, bearer token) to a subscriber on the broker', async () => {
    const subscriber = await startSubscriber(
      mosquittoImage,
      brokerNetwork,
      bridgeIdentity(pki),
      'plant/line1/cmd',
      1,
    );
    const { client, close } = await httpClient();
    try {
      const status = await eventually(
        async () => {
          const s = await tool(client, 'mqtt_status');
          return s.connection.state === 'connected' ? s : undefined;
        },
        20_000,
        'the bridge to be connected',
      );
      assert.equal(status.connection.brokerUrl, 'mqtts://mosquitto:8883');
      const published = await tool(client, 'mqtt_publish', { topic: 'plant/line1/cmd', payload: 'OFF' });
      assert.equal(published.delivery, 'acknowledged');
    } finally {
      await close();
    }
    const output = await subscriber.wait(20_000);
    assert.match(output, /^plant\/line1\/cmd OFF\r?$/m);
  });

  it('applies the limits and hardening the compose file declares (docker inspect)', async () => {
    const file = loadYaml(join(ROOT, 'docker-compose.yml'));
    for (const service of ['mosquitto', 'bridge']) {
      // The one writable mount: the bridge's named history volume.
      const writable: Record<string, string> = service === 'bridge' ? { '/data': `${PROJECT}_history` } : {};
      await assertHardened(service, file.services[service], await serviceId(service), writable);
    }
    const bridge = await inspect(await serviceId('bridge'));
    // History on the named volume: /data 0700 and the file 0600, both the bridge user's.
    const modes = await dockerOk(['exec', bridge.Id, 'stat', '-c', '%n %a %u', '/data', '/data/history.db']);
    assert.deepEqual(modes.split('\n'), ['/data 700 10001', '/data/history.db 600 10001']);
    assert.deepEqual(bridge.HostConfig.PortBindings, {
      '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }],
    });
    assert.deepEqual(bridge.HostConfig.Tmpfs, { '/tmp': 'rw,noexec,nosuid,nodev,size=16m' });
    assert.deepEqual(Object.keys(bridge.NetworkSettings.Networks).sort(), [
      `${PROJECT}_broker`,
      `${PROJECT}_edge`,
    ]);
    const broker = await inspect(await serviceId('mosquitto'));
    assert.deepEqual(Object.keys(broker.NetworkSettings.Networks), [`${PROJECT}_broker`]);
    assert.deepEqual(broker.HostConfig.PortBindings ?? {}, {});
    const internal = JSON.parse(await dockerOk(['network', 'inspect', `${PROJECT}_broker`]))[0];
    assert.equal(internal.Internal, true);
    // No anonymous volumes for the image's VOLUME paths (tmpfs covers them).
    assert.deepEqual(
      (broker.Mounts as Array<{ Type: string }>).filter((m) => m.Type === 'volume'),
      [],
    );
    // Writing to the root filesystem fails in both containers.
    for (const service of ['mosquitto', 'bridge']) {
      const write = await docker(['exec', await serviceId(service), 'sh', '-c', 'echo x > /probe']);
      assert.notEqual(write.code, 0);
      assert.match(write.stderr, /Read-only file system/);
    }
  });

  it('refuses clients without a valid certificate: none, and one from another CA', async () => {
    const broker = await serviceId('mosquitto');
    const attempt = (identity: { dir: string; cert?: string; key?: string }) =>
      mosquittoPub(mosquittoImage, brokerNetwork, identity, ['-t', 'plant/x', '-m', '1', '-q', '1'], pki.dir);
    const none = await attempt({ dir: pki.dir });
    assert.notEqual(none.code, 0, 'a client without a certificate was accepted');
    const foreign = await attempt({ dir: pki.foreignDir, cert: 'client.crt', key: 'client.key' });
    assert.notEqual(foreign.code, 0, 'a client certificate from another CA was accepted');
    // The control: the same client with the right certificate gets through.
    const valid = await attempt(bridgeIdentity(pki));
    assert.equal(valid.code, 0, valid.stderr);
    const log = await eventually(
      async () => {
        const l = (await docker(['logs', broker])).stderr;
        return /certificate verify failed/.test(l) ? l : undefined;
      },
      10_000,
      'the broker to log the refusals',
    );
    assert.match(log, /peer did not return a certificate/);
    assert.match(log, /certificate verify failed/);
  });

  it('passes SIGHUP through its init to the bridge, which re-reads its mounted TLS files and reconnects', async () => {
    const { client, close } = await httpClient();
    try {
      const before = await tool(client, 'mqtt_status');
      assert.equal(before.connection.state, 'connected');
      await composeOk(['kill', '-s', 'HUP', 'bridge']);
      const after = await eventually(
        async () => {
          const s = await tool(client, 'mqtt_status');
          return s.connection.state === 'connected' &&
            s.connection.reconnectCount === before.connection.reconnectCount + 1
            ? s
            : undefined;
        },
        15_000,
        'a reconnect with the reloaded material',
      );
      assert.equal(after.connection.clientId, before.connection.clientId);
      const id = await serviceId('bridge');
      assert.equal(await dockerOk(['inspect', '-f', '{{.State.Running}}', id]), 'true');
      const logs = (await docker(['logs', id])).stderr;
      assert.match(logs, /TLS material reloaded: reconnecting with it/);
    } finally {
      await close();
    }
  });

  it('reports a broker that is down (mqtt_status, /readyz 503) and connects once it is up', async () => {
    await composeOk(['stop', 'mosquitto']);
    await composeOk(['up', '-d', '--no-deps', '--no-build', '--force-recreate', 'bridge']);
    await eventually(
      async () => (await raw(hostPort, 'GET', '/healthz')).status === 200,
      30_000,
      'the recreated bridge to listen',
    );
    const notReady = await raw(hostPort, 'GET', '/readyz');
    assert.equal(notReady.status, 503);
    const { client, close } = await httpClient();
    try {
      const down = await tool(client, 'mqtt_status');
      assert.notEqual(down.connection.state, 'connected');
      const failed = await eventually(
        async () => (await tool(client, 'mqtt_status')).connection.lastError,
        15_000,
        'a connection error in mqtt_status',
      );
      assert.ok(failed.message.length > 0);
      const refused = (await client.callTool({
        name: 'mqtt_publish',
        arguments: { topic: 'plant/line1/cmd', payload: 'ON' },
      })) as CallToolResult;
      assert.equal(refused.isError, true, 'a publish while the broker is down must fail at once');

      await composeOk(['start', 'mosquitto']);
      await eventually(
        async () => (await raw(hostPort, 'GET', '/readyz')).status === 200,
        60_000,
        '/readyz 200 after the broker came back',
      );
      const up = await tool(client, 'mqtt_status');
      assert.equal(up.connection.state, 'connected');
    } finally {
      await close();
    }
    await healthy('bridge', 60_000);
  });
});

describeScale(() => ({
  project: `${PROJECT}s`,
  bridgeImage: IMAGE,
  nodeImage,
  mosquittoImage,
  postgresImage,
  haproxyImage,
  pki,
}));
