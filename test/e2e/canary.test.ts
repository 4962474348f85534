/**
 * Secret canary sweep (T-6.1): distinctive values for the MQTT password, the key passphrase,
 * the HTTP token and a URL password, and a key file whose body carries a marker; then every
 * failure path (wrong CA, bad passphrase, broker down, ACL denied, invalid configuration,
 * HTTP 400/401/413, a crash through the fatal handler), with DEBUG=* and NODE_DEBUG=tls,net.
 * Not one canary and not one "PRIVATE KEY" may appear on stdout, stderr, in tool results or in
 * MCP log notifications.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { sleep, startBroker, type Broker } from '../helpers/broker.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { raw } from '../helpers/raw-http.js';
import { cleanEnv, SERVER, startHttpProcess } from '../helpers/spawned.js';

const CANARY = {
  password: 'CANARY_PW_9f2c',
  passphrase: 'CANARY_PP_77c1',
  token: 'CANARY_TOK_5d0e8a1b2c3d4e5f60718293a4b5c6d7',
  urlPassword: 'CANARY_URLPW_3b',
  keyMarker: 'CANARYKEYMARKER',
};

let pki: Pki;
let broker: Broker;
let files: { canaryKey: string; passphrase: string; token: string; markedKey: string; otherKey: string };
/** Everything any path produced that a person or a model could see. */
const seen: Array<{ path: string; text: string }> = [];

function record(path: string, text: string): void {
  seen.push({ path, text });
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({
    DEBUG: '*',
    NODE_DEBUG: 'tls,net',
    MQTT_URL: broker.url,
    MQTT_CA_FILE: pki.ca,
    MQTT_CERT_FILE: pki.clientCert,
    MQTT_KEY_FILE: files.canaryKey,
    MQTT_KEY_PASSPHRASE_FILE: files.passphrase,
    MQTT_USERNAME: 'mcp-bridge',
    MQTT_PASSWORD: CANARY.password,
    MCP_READ_TOPICS: 'plant/#',
    MCP_WRITE_TOPICS: 'plant/#,secret/#',
    MQTT_RECONNECT_MIN_MS: '200',
    MQTT_RECONNECT_MAX_MS: '500',
    LOG_LEVEL: 'trace',
    ...extra,
  });
}

async function runToExit(path: string, environment: Record<string, string>): Promise<number | null> {
  const child = spawn(process.execPath, [SERVER], { env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  record(path, out);
  return code;
}

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  const dir = pki.dir;
  files = {
    canaryKey: join(dir, 'canary.key'),
    passphrase: join(dir, 'canary-passphrase'),
    token: join(dir, 'canary-token'),
    markedKey: join(dir, 'marked.key'),
    otherKey: join(dir, 'other-passphrase.key'),
  };
  writeFileSync(files.passphrase, `${CANARY.passphrase}\n`, { mode: 0o600 });
  execFileSync('openssl', [
    'pkcs8',
    '-topk8',
    '-in',
    pki.clientKey,
    '-v2',
    'aes-256-cbc',
    '-passout',
    `file:${files.passphrase}`,
    '-out',
    files.canaryKey,
  ]);
  execFileSync('openssl', [
    'pkcs8',
    '-topk8',
    '-in',
    pki.clientKey,
    '-v2',
    'aes-256-cbc',
    '-passout',
    'pass:another-passphrase',
    '-out',
    files.otherKey,
  ]);
  writeFileSync(files.token, `${CANARY.token}\n`, { mode: 0o600 });
  writeFileSync(
    files.markedKey,
    `-----BEGIN PRIVATE KEY-----\n${CANARY.keyMarker}${'A'.repeat(49)}\n${'B'.repeat(64)}\n-----END PRIVATE KEY-----\n`,
    { mode: 0o600 },
  );
});
after(async () => {
  await broker?.stop();
});

describe('secret canaries', () => {
  it('HTTP mode: ACL denial, bad input, 400/401/413 and the broker going down', async () => {
    const server = await startHttpProcess({ ...env({ MCP_AUTH_TOKEN_FILE: files.token }) });
    try {
      const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${CANARY.token}` } },
      });
      const client = new Client({ name: 'canary', version: '1' });
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) =>
        record('notification', JSON.stringify(n)),
      );
      await client.connect(transport);
      await client.setLoggingLevel('debug');
      for (
        let i = 0;
        i < 50 &&
        !JSON.stringify(await client.callTool({ name: 'mqtt_status', arguments: {} })).includes(
          '"state":"connected"',
        );
        i++
      ) {
        await sleep(50);
      }
      const calls: Array<[string, Record<string, unknown>]> = [
        ['mqtt_publish', { topic: 'secret/door', payload: `password=${CANARY.password}` }], // broker ACL denies
        ['mqtt_publish', { topic: 'plant/#', payload: 'x' }],
        ['mqtt_read_messages', { filter: 'factory/#' }],
        ['mqtt_status', {}],
      ];
      for (const [name, args] of calls)
        record(`tool ${name}`, JSON.stringify(await client.callTool({ name, arguments: args })));
      const h = {
        host: `127.0.0.1:${server.port}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      };
      record(
        'http 400',
        JSON.stringify(
          await raw(server.port, 'POST', '/mcp', {
            headers: { ...h, authorization: `Bearer ${CANARY.token}` },
            body: `{"token":"${CANARY.token}",`,
          }),
        ),
      );
      record(
        'http 401',
        JSON.stringify(
          await raw(server.port, 'POST', '/mcp', {
            headers: { ...h, authorization: `Bearer ${CANARY.token}x` },
            body: '{}',
          }),
        ),
      );
      record(
        'http 413',
        JSON.stringify(
          await raw(server.port, 'POST', '/mcp', {
            headers: { ...h, authorization: `Bearer ${CANARY.token}` },
            body: `{"p":"${CANARY.password}${'x'.repeat(2 * 1024 * 1024)}"}`,
          }),
        ),
      );
      await broker.kill();
      await sleep(1200);
      record(
        'tool while down',
        JSON.stringify(
          await client.callTool({ name: 'mqtt_publish', arguments: { topic: 'plant/a', payload: 'x' } }),
        ),
      );
      record(
        'status while down',
        JSON.stringify(await client.callTool({ name: 'mqtt_status', arguments: {} })),
      );
      await broker.restart();
      await client.close();
    } finally {
      await server.stop();
      record('http stderr', server.stderr());
    }
  });

  it('stdio: wrong CA', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [SERVER],
      env: env({ MQTT_CA_FILE: pki.foreignCa }),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'canary', version: '1' });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) =>
      record('notification', JSON.stringify(n)),
    );
    await client.connect(transport);
    await client.setLoggingLevel('debug');
    await sleep(800);
    record('status wrong CA', JSON.stringify(await client.callTool({ name: 'mqtt_status', arguments: {} })));
    await client.close();
    record('stdio stderr', stderr);
    assert.match(stderr, /BROKER_CERT_UNTRUSTED/);
  });

  it('start-up failures: bad passphrase, invalid configuration, marked key, a crash', async () => {
    assert.equal(await runToExit('bad passphrase', env({ MQTT_KEY_FILE: files.otherKey })), 1);
    assert.equal(
      await runToExit(
        'invalid config',
        env({
          MQTT_URL: `mqtts://user:${CANARY.urlPassword}@broker:8883`,
          MQTT_KEY_FILE: files.markedKey,
          MQTT_PASSWORD_FILE: files.token,
        }),
      ),
      1,
    );
    assert.equal(
      await runToExit('marked key', env({ MQTT_KEY_FILE: files.markedKey, MQTT_KEY_PASSPHRASE_FILE: '' })),
      1,
    );
    assert.equal(
      await runToExit('crash', env({ MCP_AUDIT_LOG_FILE: join(pki.dir, 'no-such-dir', 'audit.log') })),
      2,
    );
    const crash = seen.find((s) => s.path === 'crash')?.text ?? '';
    assert.match(crash, /"level":60.*"msg":"start-up failed"/);
  });

  it('no canary and no PRIVATE KEY anywhere', () => {
    assert.ok(seen.length >= 15, `only ${seen.length} outputs collected`);
    if (process.env.CANARY_DEBUG)
      for (const s of seen) process.stderr.write(`${s.path}: ${s.text.length} ${s.text.slice(0, 160)}\n`);
    const marked = readFileSync(files.markedKey, 'utf8').split('\n')[2] ?? '';
    for (const { path, text } of seen) {
      for (const [name, value] of Object.entries(CANARY))
        assert.ok(!text.includes(value), `${name} canary in ${path}`);
      assert.ok(!text.includes(marked), `key body in ${path}`);
      assert.ok(!text.includes('PRIVATE KEY'), `PRIVATE KEY in ${path}`);
    }
  });
});
