import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/load.js';
import {
  ENV_PASSWORD,
  FILE_PASSWORD,
  PASSPHRASE,
  URL_OK,
  URL_PASSWORD,
  configError,
  encrypted,
  expectProblems,
  files,
  pki,
  type Env,
  type ErrorCase,
  type Virtual,
} from './support/config-fixtures.js';

// Environment, URL, credentials, numbers and policy. TLS files: config-tls.test.ts.
const ERROR_CASES: readonly ErrorCase[] = [
  // ---- MQTT_URL ----
  { name: 'MQTT_URL missing', env: {}, problems: [/^MQTT_URL: is required/] },
  { name: 'MQTT_URL blank', env: { MQTT_URL: '   ' }, problems: [/^MQTT_URL: is required/] },
  { name: 'MQTT_URL not a URL', env: { MQTT_URL: 'not a url' }, problems: [/^MQTT_URL: is not a valid URL/] },
  { name: 'http scheme', env: { MQTT_URL: 'http://broker:80' }, problems: [/^MQTT_URL: scheme must be/] },
  { name: 'ftp scheme', env: { MQTT_URL: 'ftp://broker' }, problems: [/^MQTT_URL: scheme must be/] },
  { name: 'query in a ws URL', env: { MQTT_URL: 'wss://broker/mqtt?x=1' }, problems: [/without a query/] },
  {
    name: 'TLS file with plain ws://',
    env: { MQTT_URL: 'ws://broker/mqtt', MQTT_SERVERNAME: 'broker.example' },
    problems: [/^MQTT_SERVERNAME: is set but MQTT_URL uses plain ws:\/\/; use wss:\/\//],
  },
  { name: 'no host', env: { MQTT_URL: 'mqtts://' }, problems: [/^MQTT_URL: has no host/] },
  {
    name: 'user:password in the URL',
    env: { MQTT_URL: `mqtts://alice:${URL_PASSWORD}@broker:8883` },
    problems: [/^MQTT_URL: must not contain a user name or password/],
  },
  { name: 'user in the URL', env: { MQTT_URL: 'mqtts://alice@broker' }, problems: [/user name or password/] },
  { name: 'path in the URL', env: { MQTT_URL: 'mqtts://broker/x' }, problems: [/without a path, query/] },
  { name: 'query in the URL', env: { MQTT_URL: 'mqtts://broker?a=1' }, problems: [/without a path, query/] },
  { name: 'fragment in the URL', env: { MQTT_URL: 'mqtts://broker#f' }, problems: [/without a path, query/] },
  // ---- credentials ----
  {
    name: 'MQTT_PASSWORD and MQTT_PASSWORD_FILE',
    env: { MQTT_URL: URL_OK, MQTT_USERNAME: 'u', MQTT_PASSWORD: ENV_PASSWORD, MQTT_PASSWORD_FILE: '/v/pw' },
    virtual: { '/v/pw': FILE_PASSWORD },
    problems: [/^MQTT_PASSWORD and MQTT_PASSWORD_FILE: set one of them, not both/],
  },
  {
    name: 'MQTT_PASSWORD without a user name',
    env: { MQTT_URL: URL_OK, MQTT_PASSWORD: ENV_PASSWORD },
    problems: [/^MQTT_USERNAME: is required when a password is set/],
  },
  {
    name: 'MQTT_PASSWORD_FILE without a user name',
    env: { MQTT_URL: URL_OK, MQTT_PASSWORD_FILE: '/v/pw' },
    virtual: { '/v/pw': `${FILE_PASSWORD}\n` },
    problems: [/^MQTT_USERNAME: is required/],
  },
  {
    name: 'empty password file',
    env: { MQTT_URL: URL_OK, MQTT_USERNAME: 'u', MQTT_PASSWORD_FILE: '/v/pw' },
    virtual: { '/v/pw': '\n' },
    problems: [/^MQTT_PASSWORD_FILE: \/v\/pw is empty/],
  },
  // ---- numbers, enums and filters ----
  ...(
    [
      ['MQTT_KEEPALIVE_SECONDS', 'abc', /must be a whole number between 5 and 3600/],
      ['MQTT_KEEPALIVE_SECONDS', '-5', /must be a whole number/],
      ['MQTT_KEEPALIVE_SECONDS', '1.5', /must be a whole number/],
      ['MQTT_KEEPALIVE_SECONDS', '1e3', /must be a whole number/],
      ['MQTT_KEEPALIVE_SECONDS', '4', /must be at least 5/],
      ['MQTT_KEEPALIVE_SECONDS', '3601', /must be at most 3600/],
      ['MQTT_CONNECT_TIMEOUT_MS', '999', /must be at least 1000/],
      ['MQTT_MAX_PACKET_BYTES', '268435456', /must be at most 268435455/],
      ['STORE_MAX_TOPICS', '0', /must be at least 1/],
      ['STORE_MAX_BYTES', '1000', /must be at least 1048576/],
      ['STORE_MAX_PAYLOAD_BYTES', '15', /must be at least 16/],
      ['MCP_MAX_SUBSCRIPTIONS', '10001', /must be at most 10000/],
      ['MQTT_PROTOCOL_VERSION', '3', /must be 5, 4 or auto/],
      ['MQTT_SUBSCRIBE_QOS', '3', /must be 0, 1 or 2/],
      ['MQTT_CLIENT_ID', 'has space', /must be 1-40 characters/],
      ['MQTT_CLIENT_ID', 'x'.repeat(41), /must be 1-40 characters/],
      ['MQTT_SERVERNAME', 'bad_name!', /must be a DNS name/],
      ['MQTT_TLS_INSECURE', 'maybe', /must be true or false/],
      ['LOG_LEVEL', 'verbose', /must be one of fatal/],
      ['MCP_READ_TOPICS', 'a/#/b', /"a\/#\/b": filter may use # only as a whole last level/],
      ['MCP_WRITE_TOPICS', 'ok/+, x+', /"x\+": filter may use \+ only as a whole level/],
      // The NUL is shown escaped, never raw.
      ['MCP_DENY_TOPICS', 'a/\u0000', /"a\/\\u0000": filter must not contain the NUL character/],
      ['MQTT_SUBSCRIBE', '#/x', /"#\/x": filter may use #/],
    ] as const
  ).map(([variable, value, message]) => ({
    name: `${variable}=${JSON.stringify(value)}`,
    env: { MQTT_URL: URL_OK, [variable]: value },
    problems: [new RegExp(`^${variable}: ${message.source}`)],
  })),
  // ---- cross-field rules ----
  {
    name: 'reconnect max below min',
    env: { MQTT_URL: URL_OK, MQTT_RECONNECT_MIN_MS: '5000', MQTT_RECONNECT_MAX_MS: '1000' },
    problems: [/^MQTT_RECONNECT_MAX_MS: must not be smaller than MQTT_RECONNECT_MIN_MS/],
  },
  {
    name: 'store bytes below twice the payload cap',
    env: { MQTT_URL: URL_OK, STORE_MAX_BYTES: '1048576', STORE_MAX_PAYLOAD_BYTES: '600000' },
    problems: [/^STORE_MAX_BYTES: must be at least twice STORE_MAX_PAYLOAD_BYTES/],
  },
  {
    name: 'MQTT_SUBSCRIBE outside the read topics',
    env: { MQTT_URL: URL_OK, MCP_READ_TOPICS: 'plant/#', MQTT_SUBSCRIBE: 'plant/+/temp, office/#' },
    problems: [/^MQTT_SUBSCRIBE: "office\/#" matches no topic of MCP_READ_TOPICS/],
  },
  {
    name: 'MQTT_SUBSCRIBE $SYS/# with read #',
    env: { MQTT_URL: URL_OK, MQTT_SUBSCRIBE: '$SYS/#' },
    problems: [/^MQTT_SUBSCRIBE: "\$SYS\/#" matches no topic/],
  },
  {
    name: 'too many subscribe filters',
    env: { MQTT_URL: URL_OK, MQTT_SUBSCRIBE: 'a,b,c', MCP_MAX_SUBSCRIPTIONS: '2' },
    problems: [/^MQTT_SUBSCRIBE: has 3 filters, more than MCP_MAX_SUBSCRIPTIONS \(2\)/],
  },
  {
    name: 'too many read filters used as the default subscription',
    env: { MQTT_URL: URL_OK, MCP_READ_TOPICS: 'a/#,b/#,c/#', MCP_MAX_SUBSCRIPTIONS: '2' },
    problems: [/^MQTT_SUBSCRIBE: has 3 filters/],
  },
  // ---- HTTP limits ----
  {
    name: 'more sessions per principal than in total',
    env: {
      MQTT_URL: URL_OK,
      MCP_TRANSPORT: 'http',
      MCP_AUTH: 'none',
      MCP_HTTP_MAX_SESSIONS: '5',
      MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL: '6',
    },
    problems: [/^MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL: 6 is more than MCP_HTTP_MAX_SESSIONS \(5\)$/],
  },
  {
    name: 'no connections left for authenticated clients',
    env: {
      MQTT_URL: URL_OK,
      MCP_TRANSPORT: 'http',
      MCP_AUTH: 'none',
      MCP_HTTP_MAX_CONNECTIONS: '100',
      MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS: '100',
    },
    problems: [/^MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS: must be below MCP_HTTP_MAX_CONNECTIONS \(100\)/],
  },
];

describe('loadConfig refuses bad configuration', () => {
  for (const c of ERROR_CASES) {
    it(c.name, () => {
      const error = configError(c.env, files(c.virtual), c.now);
      expectProblems(error.problems, c.problems);
    });
  }
});

describe('loadConfig accepts good configuration', () => {
  const load = (env: Env, virtual?: Record<string, Virtual>): Config => loadConfig(env, files(virtual));

  it('fills in the defaults', () => {
    const config = load({ MQTT_URL: URL_OK });
    assert.equal(config.mqtt.url, 'mqtts://broker.example:8883');
    assert.equal(config.mqtt.protocol, 'mqtts');
    assert.equal(config.mqtt.host, 'broker.example');
    assert.equal(config.mqtt.port, 8883);
    assert.equal(config.mqtt.protocolVersion, 5);
    assert.equal(config.mqtt.clientIdPrefix, 'mcp-bridge');
    assert.equal(config.mqtt.username, undefined);
    assert.equal(config.mqtt.password, undefined);
    assert.deepEqual(config.mqtt.tls, {
      ca: undefined,
      cert: undefined,
      key: undefined,
      passphrase: undefined,
      servername: undefined,
      insecure: false,
    });
    assert.equal(config.mqtt.keepaliveSeconds, 30);
    assert.equal(config.mqtt.reconnectMinMs, 1000);
    assert.equal(config.mqtt.reconnectMaxMs, 30_000);
    assert.equal(config.mqtt.subscribeQos, 1);
    assert.deepEqual(config.policy, { read: ['#'], write: [], deny: [] });
    assert.deepEqual(config.subscribe, ['#']);
    assert.equal(config.store.maxAgeMs, 86_400_000);
    assert.equal(config.store.maxPayloadBytes, 65_536);
    assert.equal(config.tools.maxSubscriptions, 50);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.production, false);
    assert.deepEqual(config.secrets, []);
  });

  const URLS: ReadonlyArray<readonly [string, string, string, number]> = [
    ['mqtts://broker', 'mqtts://broker:8883', 'broker', 8883],
    ['mqtt://broker', 'mqtt://broker:1883', 'broker', 1883],
    ['mqtts://broker:1234/', 'mqtts://broker:1234', 'broker', 1234],
    ['  mqtt://10.0.0.5:1884  ', 'mqtt://10.0.0.5:1884', '10.0.0.5', 1884],
    ['mqtt://[::1]:1884', 'mqtt://[::1]:1884', '::1', 1884],
    ['wss://broker', 'wss://broker:443/mqtt', 'broker', 443],
    ['ws://broker:8080/', 'ws://broker:8080/mqtt', 'broker', 8080],
    ['wss://broker:8884/ws/mqtt', 'wss://broker:8884/ws/mqtt', 'broker', 8884],
  ];
  for (const [input, url, host, port] of URLS) {
    it(`sanitizes the URL ${input.trim()}`, () => {
      const config = load({ MQTT_URL: input });
      assert.equal(config.mqtt.url, url);
      assert.equal(config.mqtt.host, host);
      assert.equal(config.mqtt.port, port);
      assert.equal(config.mqtt.secure, url.startsWith('mqtts:') || url.startsWith('wss:'));
      assert.equal(config.mqtt.path, url.startsWith('ws') ? new URL(url).pathname : undefined);
    });
  }

  it('parses lists, numbers with spaces and treats empty values as unset', () => {
    const config = load({
      MQTT_URL: URL_OK,
      MCP_READ_TOPICS: ' plant/# , office/+/temp,, plant/# ',
      MCP_WRITE_TOPICS: 'plant/+/cmd',
      MCP_DENY_TOPICS: 'plant/secret/#',
      MQTT_SUBSCRIBE: 'plant/line1/#',
      MQTT_KEEPALIVE_SECONDS: ' 45 ',
      MQTT_PROTOCOL_VERSION: '4',
      MQTT_USERNAME: '',
      LOG_LEVEL: '',
      NODE_ENV: 'production',
    });
    assert.deepEqual(config.policy, {
      read: ['plant/#', 'office/+/temp'],
      write: ['plant/+/cmd'],
      deny: ['plant/secret/#'],
    });
    assert.deepEqual(config.subscribe, ['plant/line1/#']);
    assert.equal(config.mqtt.keepaliveSeconds, 45);
    assert.equal(config.mqtt.protocolVersion, 4);
    assert.equal(load({ MQTT_URL: URL_OK, MQTT_PROTOCOL_VERSION: 'auto' }).mqtt.protocolVersion, 'auto');
    assert.equal(config.mqtt.username, undefined);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.production, true);
  });

  it('loads a password from the environment and registers it', () => {
    const config = load({ MQTT_URL: URL_OK, MQTT_USERNAME: 'u', MQTT_PASSWORD: ENV_PASSWORD });
    assert.equal(config.mqtt.password, ENV_PASSWORD);
    assert.deepEqual(config.secrets, [ENV_PASSWORD]);
  });

  it('loads a password file without its trailing newline and registers it', () => {
    const config = load(
      { MQTT_URL: URL_OK, MQTT_USERNAME: 'u', MQTT_PASSWORD_FILE: '/v/pw' },
      { '/v/pw': `${FILE_PASSWORD}\r\n` },
    );
    assert.equal(config.mqtt.password, FILE_PASSWORD);
    assert.deepEqual(config.secrets, [FILE_PASSWORD]);
  });

  it('loads mutual TLS with an encrypted key and registers the passphrase and key lines', () => {
    const config = load({
      MQTT_URL: URL_OK,
      ...encrypted,
      MQTT_SERVERNAME: 'broker.example',
      MQTT_TLS_INSECURE: 'false',
    });
    assert.deepEqual(config.mqtt.tls.ca, readFileSync(pki.ca));
    assert.deepEqual(config.mqtt.tls.cert, readFileSync(pki.clientCert));
    assert.deepEqual(config.mqtt.tls.key, readFileSync(pki.encryptedKey));
    assert.equal(config.mqtt.tls.passphrase, PASSPHRASE);
    assert.equal(config.mqtt.tls.servername, 'broker.example');
    assert.equal(config.mqtt.tls.insecure, false);
    assert.ok(config.secrets.includes(PASSPHRASE));
    assert.ok(config.secrets.length > 1, 'key body lines are registered too');
    assert.equal(new Set(config.secrets).size, config.secrets.length, 'no duplicates');
  });

  it('accepts MQTT_TLS_INSECURE outside production', () => {
    assert.equal(load({ MQTT_URL: URL_OK, MQTT_TLS_INSECURE: 'true' }).mqtt.tls.insecure, true);
  });
});
