/**
 * Official tooling against the built server, both tools (they need Node >= 22) run by the Node
 * that runs this suite (the project's engines: 24 or newer):
 * - @modelcontextprotocol/conformance 0.1.16 against the HTTP mode, all scenarios, with the
 *   checked-in expected-failures baseline (fixture-specific scenarios, each with its reason);
 * - the MCP Inspector CLI v2 listing tools and calling one over stdio and over HTTP, exiting 5
 *   on an isError result.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { ROOT, SERVER, startHttpProcess, type HttpProcess } from '../helpers/spawned.js';

const CONFORMANCE = '@modelcontextprotocol/conformance@0.1.16';
const INSPECTOR = '@modelcontextprotocol/inspector@2.12.0';

let pki: Pki;
let broker: Broker;
let open: HttpProcess;
let env: Record<string, string>;

/** Run a command line with this Node first on PATH and the package on it (npx -p pkg -c ...). */
function withPackage(
  pkg: string,
  command: string,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['-y', '-p', pkg, '-c', command], {
      cwd,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
        npm_config_update_notifier: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  env = bridgeEnv(broker, pki, { LOG_LEVEL: 'info' });
  // Unauthenticated on loopback: the conformance client cannot send our token.
  open = await startHttpProcess({ ...env, MCP_AUTH: 'none' });
});
after(async () => {
  await open?.stop();
  await broker?.stop();
});

describe('MCP conformance suite (HTTP)', () => {
  it('passes every generic scenario; the baseline lists only fixture-specific ones', async () => {
    const url = `http://localhost:${open.port}/mcp`;
    const baseline = join(ROOT, 'test/conformance/baseline.yml');
    const run = await withPackage(
      CONFORMANCE,
      `conformance server --url ${url} --suite all --expected-failures ${baseline}`,
      pki.dir,
    );
    const summary = run.stdout.slice(run.stdout.indexOf('=== SUMMARY ==='));
    assert.equal(run.code, 0, summary || run.stderr.slice(-2000));
    for (const scenario of [
      'server-initialize',
      'ping',
      'tools-list',
      'prompts-list',
      'resources-list',
      'logging-set-level',
      'dns-rebinding-protection',
    ]) {
      assert.match(summary, new RegExp(`✓ ${scenario}: \\d+ passed, 0 failed`), `${scenario} did not pass`);
    }
  });
});

describe('MCP Inspector CLI', () => {
  // The Inspector starts stdio targets with a minimal environment, so settings go through env(1).
  const stdioTarget = () =>
    `env ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} ${process.execPath} ${SERVER}`;

  it('lists tools and calls one over stdio', async () => {
    const list = await withPackage(
      INSPECTOR,
      `mcp-inspector --cli ${stdioTarget()} -- --method tools/list --format json`,
      pki.dir,
    );
    assert.equal(list.code, 0, list.stderr.slice(-1500));
    const names = (
      JSON.parse(list.stdout) as { result: { tools: Array<{ name: string }> } }
    ).result.tools.map((t) => t.name);
    assert.ok(names.includes('mqtt_status'));
    const call = await withPackage(
      INSPECTOR,
      `mcp-inspector --cli ${stdioTarget()} -- --method tools/call --tool-name mqtt_status --format json`,
      pki.dir,
    );
    assert.equal(call.code, 0, call.stderr.slice(-1500));
    assert.match(call.stdout, /"brokerUrl":"mqtts:\/\/127\.0\.0\.1:\d+"/);
  });

  it('exits 5 on an isError result', async () => {
    const args = `'{"filter":"factory/#"}'`;
    const call = await withPackage(
      INSPECTOR,
      `mcp-inspector --cli ${stdioTarget()} -- --method tools/call --tool-name mqtt_read_messages --tool-args-json ${args} --format json`,
      pki.dir,
    );
    assert.equal(call.code, 5, call.stdout + call.stderr.slice(-1000));
    assert.match(call.stdout, /POLICY_DENIED: the filter is outside the readable topics/);
  });

  it('lists tools and calls one over HTTP with the bearer token', async () => {
    const secured = await startHttpProcess(env);
    try {
      const target = `http://127.0.0.1:${secured.port}/mcp --transport http --header "Authorization: Bearer ${secured.token}"`;
      const list = await withPackage(
        INSPECTOR,
        `mcp-inspector --cli ${target} --method tools/list --format json`,
        pki.dir,
      );
      assert.equal(list.code, 0, list.stderr.slice(-1500));
      assert.match(list.stdout, /"name":"mqtt_get_latest"/);
      const call = await withPackage(
        INSPECTOR,
        `mcp-inspector --cli ${target} --method tools/call --tool-name mqtt_list_topics --format json`,
        pki.dir,
      );
      assert.equal(call.code, 0, call.stderr.slice(-1500));
      assert.match(call.stdout, /"matched":\d+/);
      const denied = await withPackage(
        INSPECTOR,
        `mcp-inspector --cli http://127.0.0.1:${secured.port}/mcp --transport http --method tools/list --format json`,
        pki.dir,
      );
      assert.notEqual(denied.code, 0, 'no token must not list tools');
    } finally {
      await secured.stop();
    }
  });
});
