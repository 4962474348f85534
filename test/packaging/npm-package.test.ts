/**
 * The npm package as a user gets it: `npm pack` (its prepack builds from a copy of the sources,
 * so the repository's dist/ is left alone), the tarball installed into an empty folder, and
 * `npx mqtt-mcp-bridge` over stdio against a real Mosquitto over mutual TLS, configured the way
 * the README's client blocks do it: environment variables only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBroker, type Broker } from '../helpers/broker.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy, type Spy } from '../helpers/spy.js';
import {
  PKG,
  ROOT,
  cleanEnv,
  configProblems,
  connectStdio,
  runToExit,
  waitConnected,
  type StdioSession,
} from './support.js';

interface PackResult {
  readonly filename: string;
  readonly size: number;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

let work: string;
let packed: PackResult;
let tarball: string;
let installDir: string;
let pki: Pki;
let broker: Broker;
let spy: Spy;

/** npm pack and npm install, with this machine's npm settings (registry, proxy, CA). */
const run = (command: string, args: readonly string[], cwd: string): string =>
  execFileSync(command, args, {
    cwd,
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, npm_config_update_notifier: 'false' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  });

before(
  async () => {
    work = mkdtempSync(join(tmpdir(), 'mqtt-mcp-npm-'));
    // The sources npm pack needs, and the repository's node_modules for the build (prepack).
    const source = join(work, 'source');
    for (const path of ['package.json', 'tsconfig.json', 'src', 'README.md', 'SECURITY.md', 'CHANGELOG.md'])
      cpSync(join(ROOT, path), join(source, path), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
    const out = run('npm', ['pack', '--json', '--pack-destination', work], source);
    packed = (JSON.parse(out.slice(out.indexOf('['))) as PackResult[])[0]!;
    tarball = join(work, packed.filename);
    process.stderr.write(
      `npm package: ${packed.filename}, ${packed.size} bytes, ${packed.files.length} files\n`,
    );
    // An empty folder, the tarball installed the way `npm install <tarball>` does it.
    installDir = join(work, 'user');
    cpSync(tarball, join(installDir, packed.filename));
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', `./${packed.filename}`],
      installDir,
    );
    pki = createPki();
    broker = await startBroker({ pki });
    spy = await connectSpy(broker, pki);
  },
  { timeout: 300_000 },
);

after(async () => {
  await spy?.close();
  await broker?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** The README's configuration: the certificate paths and the policy as environment variables. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({
    MQTT_URL: broker.url,
    MQTT_CA_FILE: pki.ca,
    MQTT_CERT_FILE: pki.clientCert,
    MQTT_KEY_FILE: pki.clientKey,
    MCP_READ_TOPICS: 'plant/#',
    MCP_WRITE_TOPICS: 'plant/+/cmd',
    ...extra,
  });
}

describe('npm package', { timeout: 120_000 }, () => {
  it('holds what runs and nothing else: dist/*.js, the App view, the chart font, package.json, README, SECURITY, CHANGELOG', () => {
    const paths = packed.files.map((f) => f.path).sort();
    assert.ok(paths.includes('dist/index.js'), 'no dist/index.js');
    for (const path of paths) {
      assert.match(
        path,
        /^(package\.json|README\.md|SECURITY\.md|CHANGELOG\.md|dist\/[a-z0-9/-]+\.js|dist\/app-ui\/view\.html|dist\/pictures\/fonts\/(Inter-Regular\.ttf|OFL\.txt|README\.md))$/,
        `${path} is in the package`,
      );
    }
    assert.equal(PKG.bin[PKG.name], 'dist/index.js');
  });

  it('`npx mqtt-mcp-bridge --version` prints the package version', async () => {
    const exit = await runToExit('npx', ['--no-install', PKG.name, '--version'], {
      cwd: installDir,
      env: userEnv(),
    });
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(exit.stderr.trim(), PKG.version);
  });

  it('runs with npx over stdio against Mosquitto over mTLS: initialize, tools, a read and a publish', async () => {
    const session: StdioSession = await connectStdio('npx', ['--no-install', PKG.name], {
      cwd: installDir,
      env: userEnv(),
    });
    try {
      const info = session.client.getServerVersion();
      assert.equal(info?.name, PKG.name);
      assert.equal(info?.version, PKG.version);
      const status = await waitConnected(session);
      assert.equal(status.server.version, PKG.version);
      await spy.publish('plant/line1/temp', '21.5', { retain: true });
      let latest: Record<string, any> = {};
      for (let i = 0; i < 50; i++) {
        latest = (await session.call('mqtt_get_latest', { filter: 'plant/#' })).structuredContent as Record<
          string,
          any
        >;
        if (latest.count > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(latest.messages[0]?.payload, 21.5);
      const published = await session.call('mqtt_publish', { topic: 'plant/line1/cmd', payload: 'stop' });
      assert.notEqual(published.isError, true, JSON.stringify(published.content));
    } finally {
      await session.close();
    }
  });

  it('a missing certificate file: exit 1 and the one-line configuration error naming the variable', async () => {
    const missing = join(pki.dir, 'no-such-client.crt');
    const problems = configProblems(
      await runToExit('npx', ['--no-install', PKG.name], {
        cwd: installDir,
        env: userEnv({ MQTT_CERT_FILE: missing }),
      }),
    );
    assert.deepEqual(problems, [`MQTT_CERT_FILE: cannot read ${missing} (no such file)`]);
  });

  it('a URL with credentials: refused, naming MQTT_URL, without the password', async () => {
    const exit = await runToExit('npx', ['--no-install', PKG.name], {
      cwd: installDir,
      env: userEnv({ MQTT_URL: `mqtts://mcp-bridge:Npx-Canary-31@127.0.0.1:${broker.port}` }),
    });
    const problems = configProblems(exit);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^MQTT_URL: must not contain a user name or password/);
    assert.doesNotMatch(exit.stderr, /Npx-Canary-31/);
  });
});
