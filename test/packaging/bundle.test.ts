/**
 * The MCP Bundle as Claude Desktop gets it: `npm run bundle` builds the .mcpb, which is
 * unpacked with @anthropic-ai/mcpb's own unpackExtension, and started with the command line
 * and environment that the library's getMcpConfigForManifest (the code hosts use) makes from
 * the manifest and the settings a user enters in the form. It answers over stdio against a real
 * Mosquitto over mutual TLS; bad settings get the one-line configuration error naming the field.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getMcpConfigForManifest, unpackExtension } from '@anthropic-ai/mcpb';
import { startBroker, type Broker } from '../helpers/broker.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy, type Spy } from '../helpers/spy.js';
import {
  PKG,
  ROOT,
  cleanEnv,
  configProblems,
  connectStdio,
  readJson,
  runToExit,
  waitConnected,
} from './support.js';

interface Manifest {
  readonly version: string;
  readonly tools: ReadonlyArray<{ readonly name: string }>;
  readonly user_config: Record<string, { readonly title: string }>;
  readonly server: { readonly mcp_config: { command: string; args: string[]; env: Record<string, string> } };
}

let work: string;
let unpacked: string;
let manifest: Manifest;
let bundleBytes: number;
let pki: Pki;
let broker: Broker;
let spy: Spy;

before(
  async () => {
    work = mkdtempSync(join(tmpdir(), 'mqtt-mcp-bundle-'));
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/bundle.ts'), '--out', join(work, 'out')],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_TEST_CONTEXT: undefined, npm_config_update_notifier: 'false' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 240_000,
      },
    );
    const file = join(work, 'out', `${PKG.name}-${PKG.version}.mcpb`);
    bundleBytes = statSync(file).size;
    process.stderr.write(`${out.split('\n').find((l) => l.startsWith('bundle: ')) ?? ''}\n`);
    unpacked = join(work, 'installed');
    assert.equal(await unpackExtension({ mcpbPath: file, outputDir: unpacked, silent: true }), true);
    manifest = readJson<Manifest>(join(unpacked, 'manifest.json'));
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

/** What a user enters in the bundle's settings form. */
function formValues(extra: Record<string, string> = {}): Record<string, string> {
  return {
    broker_url: broker.url,
    ca_file: pki.ca,
    cert_file: pki.clientCert,
    key_file: pki.clientKey,
    read_topics: 'plant/#',
    write_topics: 'plant/+/cmd',
    ...extra,
  };
}

/** The command line and environment a host makes from the manifest and the form. */
async function hostLaunch(values: Record<string, string>) {
  const config = await getMcpConfigForManifest({
    manifest: manifest as never,
    extensionPath: unpacked,
    systemDirs: {},
    userConfig: values,
    pathSeparator: '/',
  });
  assert.ok(config !== undefined, 'the host would not start the bundle (required settings missing)');
  return {
    command: config.command,
    args: config.args ?? [],
    options: { cwd: tmpdir(), env: cleanEnv(config.env ?? {}) },
  };
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? allFiles(path) : [relative(unpacked, path)];
  });
}

describe('MCP Bundle', { timeout: 120_000 }, () => {
  it('holds the server, its production dependencies and docs: no tests, keys, sources or dev tools', () => {
    process.stderr.write(`bundle size: ${bundleBytes} bytes\n`);
    const files = allFiles(unpacked);
    const top = new Set(files.map((f) => f.split('/')[0]));
    assert.deepEqual([...top].sort(), [
      'CHANGELOG.md',
      'README.md',
      'SECURITY.md',
      'dist',
      'manifest.json',
      'node_modules',
      'package.json',
    ]);
    assert.ok(files.includes('dist/index.js'));
    for (const file of files) {
      assert.doesNotMatch(file, /\.(key|pem|crt|csr|p12|pfx|map|tsbuildinfo)$|(^|\/)\.env/, file);
      if (file.startsWith('dist/'))
        assert.match(
          file,
          /^dist\/([a-z0-9/-]+\.js|app-ui\/view\.html|pictures\/fonts\/(Inter-Regular\.ttf|OFL\.txt|README\.md))$/,
          file,
        );
    }
    // The App's view and the chart font are there, and the rasteriser's binary for each platform
    // the manifest names.
    assert.ok(files.includes('dist/app-ui/view.html'));
    assert.ok(files.includes('dist/pictures/fonts/Inter-Regular.ttf'));
    for (const platform of ['darwin-arm64', 'darwin-x64', 'win32-x64-msvc', 'linux-x64-gnu'])
      assert.ok(
        files.some((f) => f.startsWith(`node_modules/@resvg/resvg-js-${platform}/`) && f.endsWith('.node')),
        `no rasteriser binary for ${platform}`,
      );
    // A development dependency may be there only as a dependency of a production package
    // (mqtt's @types/ws brings @types/node, whose .d.ts files are left out).
    const installed = new Map<string, Record<string, string>>();
    for (const file of files.filter((f) => /^node_modules\/(@[^/]+\/)?[^@/][^/]*\/package\.json$/.test(f))) {
      const pkg = readJson<{ name?: string; dependencies?: Record<string, string> }>(join(unpacked, file));
      if (pkg.name !== undefined) installed.set(pkg.name, pkg.dependencies ?? {});
    }
    const wanted = new Set([...installed.values()].flatMap((deps) => Object.keys(deps)));
    for (const dev of Object.keys(PKG.devDependencies))
      assert.ok(!installed.has(dev) || wanted.has(dev), `${dev} is in the bundle`);
    for (const tool of [
      'typescript',
      'eslint',
      'prettier',
      'tsx',
      '@anthropic-ai/mcpb',
      'aedes',
      'fast-check',
    ])
      assert.ok(!installed.has(tool), `${tool} is in the bundle`);
    for (const dep of Object.keys(PKG.dependencies))
      assert.ok(statSync(join(unpacked, 'node_modules', dep)).isDirectory(), `${dep} is missing`);
    const pkg = readJson<Record<string, unknown>>(join(unpacked, 'package.json'));
    assert.equal(pkg.version, PKG.version);
    assert.equal(pkg.devDependencies, undefined);
    assert.equal(pkg.scripts, undefined);
  });

  it('starts with the form settings and answers over stdio against Mosquitto over mTLS', async () => {
    const launch = await hostLaunch(formValues());
    assert.equal(launch.command, 'node');
    const session = await connectStdio(launch.command, launch.args, launch.options);
    try {
      assert.equal(session.client.getServerVersion()?.version, PKG.version);
      assert.equal(manifest.version, PKG.version);
      const { tools } = await session.client.listTools();
      assert.deepEqual(
        tools.map((t) => t.name).sort(),
        manifest.tools.map((t) => t.name).sort(),
        'the manifest lists the tools the server offers',
      );
      const status = await waitConnected(session);
      assert.deepEqual(status.policy.read, ['plant/#']);
      assert.deepEqual(status.policy.write, ['plant/+/cmd']);
      await spy.publish('plant/line2/temp', '19.0', { retain: true });
      let count = 0;
      for (let i = 0; i < 50 && count === 0; i++) {
        const latest = await session.call('mqtt_get_latest', { filter: 'plant/#' });
        count = (latest.structuredContent as { count: number }).count;
        if (count === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(count, 1);
      const refused = await session.call('mqtt_publish', { topic: 'plant/line2/temp', payload: 'x' });
      assert.equal(refused.isError, true, 'a publish outside the write field is refused');
    } finally {
      await session.close();
    }
  });

  it('an encrypted key with its passphrase from the sensitive field connects', async () => {
    const launch = await hostLaunch(
      formValues({
        key_file: pki.encryptedKey,
        key_passphrase: readFileSync(pki.passphraseFile, 'utf8').trim(),
      }),
    );
    const session = await connectStdio(launch.command, launch.args, launch.options);
    try {
      await waitConnected(session);
    } finally {
      await session.close();
    }
  });

  it('a missing certificate file: the one-line configuration error names the field and the variable', async () => {
    const missing = join(pki.dir, 'no-such-ca.crt');
    const launch = await hostLaunch(formValues({ ca_file: missing }));
    const problems = configProblems(await runToExit(launch.command, launch.args, launch.options));
    assert.deepEqual(problems, [`"CA certificate" (MQTT_CA_FILE): cannot read ${missing} (no such file)`]);
  });

  it('a URL with credentials: refused, naming the field and the variable, without the password', async () => {
    const launch = await hostLaunch(
      formValues({ broker_url: `mqtts://mcp-bridge:Bundle-Canary-58@127.0.0.1:${broker.port}` }),
    );
    const exit = await runToExit(launch.command, launch.args, launch.options);
    const problems = configProblems(exit);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^"Broker URL" \(MQTT_URL\): must not contain a user name or password/);
    assert.doesNotMatch(exit.stderr, /Bundle-Canary-58/);
  });

  it('a host does not start it without the required broker URL', async () => {
    const values = formValues();
    delete (values as Record<string, string | undefined>).broker_url;
    const config = await getMcpConfigForManifest({
      manifest: manifest as never,
      extensionPath: unpacked,
      systemDirs: {},
      userConfig: values,
      pathSeparator: '/',
    });
    assert.equal(config, undefined);
  });
});
