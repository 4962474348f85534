import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { parseBrokersFile } from '../../src/config/brokers-file.js';
import { loadConfig } from '../../src/config/load.js';
import {
  BROKERS_FILE,
  cloudConnection,
  siteConnection,
  FILE_PASSWORD,
  PASSPHRASE,
  URL_PASSWORD,
  WRONG_PASSPHRASE,
  configError,
  expectProblems,
  files,
  pki,
  type Virtual,
} from './support/config-fixtures.js';

// MQTT_BROKERS_FILE: several named brokers, each with its own connection, policy and collection.
const FILE = BROKERS_FILE;
const site = {
  ...siteConnection,
  read: ['plant/#'],
  write: ['plant/+/cmd'],
  deny: [],
  subscribe: ['plant/#'],
};
const cloud = { ...cloudConnection, read: ['fleet/#'] };

const YAML = `# the same brokers, in YAML
brokers:
  - name: site
    url: mqtts://site-broker:8883
    caFile: ${pki.ca}
    certFile: ${pki.clientCert}
    keyFile: ${pki.clientKey}
    read: [plant/#]
    write: [plant/+/cmd]
    deny: []
    subscribe: [plant/#]
  - name: cloud
    url: mqtts://cloud-broker:8883
    caFile: ${pki.foreignCa}
    read:
      - fleet/#
`;

const withFile = (content: Virtual, env: Record<string, string> = {}) => ({
  env: { MQTT_BROKERS_FILE: FILE, ...env },
  readFile: files({ [FILE]: content }),
});
const load = (content: Virtual) => {
  const { env, readFile } = withFile(content);
  return loadConfig(env, readFile);
};
const json = (...brokers: unknown[]) => JSON.stringify({ brokers });

function problemsOf(content: Virtual, env: Record<string, string> = {}, extra: Record<string, Virtual> = {}) {
  const { env: e } = withFile(content, env);
  return configError(e, files({ [FILE]: content, ...extra })).problems;
}

describe('MQTT_BROKERS_FILE', () => {
  it('reads the brokers of a JSON file, each with its own policy and collection', () => {
    const { env, readFile } = withFile(json(site, cloud));
    const config = loadConfig(env, readFile);
    assert.deepEqual(
      config.brokers.map((b) => b.name),
      ['site', 'cloud'],
    );
    const [s, c] = config.brokers;
    assert.equal(s?.mqtt.url, 'mqtts://site-broker:8883');
    assert.ok(s?.mqtt.tls.cert !== undefined && s.mqtt.tls.key !== undefined);
    assert.deepEqual(s?.policy, { read: ['plant/#'], write: ['plant/+/cmd'], deny: [] });
    assert.deepEqual(c?.policy, { read: ['fleet/#'], write: [], deny: [] });
    // The collection defaults to the broker's own read policy; the CAs stay apart.
    assert.deepEqual(c?.subscribe, ['fleet/#']);
    assert.notDeepEqual(s?.mqtt.tls.ca, c?.mqtt.tls.ca);
    assert.equal(c?.mqtt.tls.cert, undefined);
    assert.equal(c?.mqtt.protocolVersion, 5);
    assert.equal(c?.mqtt.clientIdPrefix, 'mcp-bridge');
    // The first broker is the default, also for the single-broker fields.
    assert.equal(config.mqtt, s?.mqtt);
    assert.equal(config.policy, s?.policy);
    // Shared settings apply to every broker.
    assert.equal(c?.mqtt.keepaliveSeconds, 30);
  });

  it('reads the same brokers from YAML', () => {
    assert.deepEqual(load(YAML).brokers, load(json(site, cloud)).brokers);
  });

  it('takes the optional identity fields and registers the secrets read from files', () => {
    const entry = {
      name: 'edge_1',
      url: 'mqtts://10.0.0.5:8883',
      servername: 'edge.example',
      clientId: 'bridge-edge',
      protocolVersion: 'auto',
      username: 'bridge',
      passwordFile: '/v/pw',
      caFile: pki.ca,
      certFile: pki.clientCert,
      keyFile: pki.encryptedKey,
      keyPassphraseFile: pki.passphraseFile,
    };
    const config = loadConfig(
      { MQTT_BROKERS_FILE: FILE },
      files({ [FILE]: json(entry), '/v/pw': `${FILE_PASSWORD}\n` }),
    );
    const [b] = config.brokers;
    assert.equal(b?.mqtt.tls.servername, 'edge.example');
    assert.equal(b?.mqtt.clientIdPrefix, 'bridge-edge');
    assert.equal(b?.mqtt.protocolVersion, 'auto');
    assert.equal(b?.mqtt.password, FILE_PASSWORD);
    assert.ok(config.secrets.includes(FILE_PASSWORD));
    assert.ok(config.secrets.includes(PASSPHRASE));
    assert.equal(load(json({ ...cloud, protocolVersion: 4 })).mqtt.protocolVersion, 4);
    // A broker's own share group, apart from the others'.
    const grouped = load(json(site, { ...cloud, shareGroup: 'cloud-bridges' })).brokers;
    assert.equal(grouped[0]?.mqtt.replica.shareGroup, undefined);
    assert.equal(grouped[1]?.mqtt.replica.shareGroup, 'cloud-bridges');
  });

  it('without the file, the MQTT_* variables describe one broker named default', () => {
    const config = loadConfig({ MQTT_URL: 'mqtt://broker:1883', MCP_READ_TOPICS: 'a/#' }, files());
    assert.equal(config.brokers.length, 1);
    assert.equal(config.brokers[0]?.name, 'default');
    assert.equal(config.brokers[0]?.mqtt, config.mqtt);
    assert.deepEqual(config.brokers[0]?.subscribe, ['a/#']);
  });

  const CASES: ReadonlyArray<{
    name: string;
    content: Virtual;
    env?: Record<string, string>;
    extra?: Record<string, Virtual>;
    problems: RegExp[];
  }> = [
    {
      name: 'a per-broker variable set too',
      content: json(site),
      env: { MQTT_URL: 'mqtts://x:8883', MCP_READ_TOPICS: '#', MQTT_PASSWORD: 'p-Zq81' },
      problems: [
        /^MQTT_URL: is set together with MQTT_BROKERS_FILE/,
        /^MCP_READ_TOPICS: is set together with MQTT_BROKERS_FILE/,
        /^MQTT_PASSWORD: is set together with MQTT_BROKERS_FILE/,
      ],
    },
    {
      name: 'file missing',
      content: Object.assign(new Error('gone'), { code: 'ENOENT' }),
      problems: [/^MQTT_BROKERS_FILE: cannot read \/v\/brokers\.json \(no such file\)/],
    },
    {
      name: 'not YAML',
      content: 'brokers: [\n  {name: site',
      problems: [/^MQTT_BROKERS_FILE: \/v\/brokers\.json is not valid YAML or JSON \(line \d+\)$/],
    },
    { name: 'no brokers key', content: '{"broker": []}', problems: [/must hold \{"brokers"/] },
    { name: 'empty list', content: json(), problems: [/brokers must list 1 to 16 brokers/] },
    {
      name: 'an entry that is not an object',
      content: json('site'),
      problems: [/^brokers\[0\]: must be an object/],
    },
    {
      name: 'duplicate names',
      content: json(site, { ...cloud, name: 'site' }),
      problems: [/^brokers\[1\] "site": name: another broker has the same name$/],
    },
    {
      name: 'names outside [a-z0-9_-]',
      content: json({ ...site, name: 'Site 1' }, { ...cloud, name: 'x'.repeat(33) }, { url: cloud.url }),
      problems: [
        /^brokers\[0\]: name: must be 1-32 characters/,
        /^brokers\[1\]: name: must be 1-32 characters/,
        /^brokers\[2\]: name: is required; must be/,
      ],
    },
    {
      name: 'no url',
      content: json({ name: 'cloud' }),
      problems: [/^brokers\[0\] "cloud": url: is required/],
    },
    {
      name: 'credentials in the URL',
      content: json({ ...cloud, url: `mqtts://alice:${URL_PASSWORD}@cloud:8883` }),
      problems: [
        /^brokers\[0\] "cloud": url: must not contain a user name or password; use username with passwordFile instead$/,
      ],
    },
    {
      name: 'inline secrets',
      content: json({
        ...cloud,
        username: 'u',
        password: 'inline-secret-1x',
        keyPassphrase: WRONG_PASSPHRASE,
      }),
      problems: [
        /^brokers\[0\] "cloud": an inline password is not accepted; put it in a file named by passwordFile$/,
        /^brokers\[0\] "cloud": an inline keyPassphrase is not accepted/,
      ],
    },
    {
      name: 'unknown field',
      content: json({ ...cloud, topics: ['x'] }),
      problems: [/^brokers\[0\] "cloud": unknown field; an entry takes name, url, /],
    },
    {
      name: 'bad filters',
      content: json({ ...cloud, read: ['fleet/#/x'], deny: ['a+'], write: 'plant/#' }),
      problems: [/^brokers\[0\] "cloud": write: must be a list of topic filters$/],
    },
    {
      name: 'bad filters in lists',
      content: json({ ...cloud, read: ['fleet/#/x'], deny: ['a+'] }),
      problems: [/^brokers\[0\] "cloud": read: "fleet\/#\/x": /, /^brokers\[0\] "cloud": deny: "a\+": /],
    },
    {
      name: 'bad protocol version',
      content: json({ ...cloud, protocolVersion: 3 }),
      problems: [/^brokers\[0\] "cloud": protocolVersion: must be 5, 4 or auto$/],
    },
    {
      name: 'a share group without MQTT 5',
      content: json({ ...cloud, shareGroup: 'g', protocolVersion: 'auto' }),
      problems: [/^brokers\[0\] "cloud": shareGroup: needs MQTT 5/],
    },
    {
      name: 'a bad share group',
      content: json({ ...cloud, shareGroup: '$share/x' }),
      problems: [/^brokers\[0\] "cloud": shareGroup: must be 1-40 characters/],
    },
    {
      name: 'a CA file that is not there',
      content: json(site, { ...cloud, caFile: '/v/missing-ca.pem' }),
      problems: [/^brokers\[1\] "cloud": caFile: cannot read \/v\/missing-ca\.pem \(no such file\)$/],
    },
    {
      name: 'a certificate without its key',
      content: json({ ...site, keyFile: undefined }),
      problems: [/^brokers\[0\] "site": certFile and keyFile: set both \(mutual TLS\) or neither$/],
    },
    {
      name: 'TLS files with plain mqtt://',
      content: json({ ...cloud, url: 'mqtt://cloud:1883' }),
      problems: [/^brokers\[0\] "cloud": caFile: is set but url uses plain mqtt:\/\/; use mqtts:\/\/$/],
    },
    {
      name: 'an encrypted key without its passphrase',
      content: json({ ...site, keyFile: pki.encryptedKey }),
      problems: [/^brokers\[0\] "site": keyFile: the key in .* is encrypted; set keyPassphraseFile$/],
    },
    {
      name: 'a wrong passphrase',
      content: json({ ...site, keyFile: pki.encryptedKey, keyPassphraseFile: '/v/pass' }),
      extra: { '/v/pass': WRONG_PASSPHRASE },
      problems: [/^brokers\[0\] "site": keyPassphraseFile: wrong passphrase for the key in /],
    },
    {
      name: 'a key that does not match its certificate',
      content: json({ ...site, keyFile: pki.foreignKey }),
      problems: [/^brokers\[0\] "site": keyFile: the key in .* does not match the certificate/],
    },
    {
      name: 'a collection outside the broker’s own read policy',
      content: json(site, { ...cloud, subscribe: ['plant/#'] }),
      problems: [
        /^brokers\[1\] "cloud": subscribe: "plant\/#" matches no topic of read, so everything it collects would be dropped$/,
      ],
    },
    {
      name: 'a password file without a user name',
      content: json({ ...cloud, passwordFile: '/v/pw' }),
      extra: { '/v/pw': FILE_PASSWORD },
      problems: [/^brokers\[0\] "cloud": username: is required when a password is set$/],
    },
  ];
  for (const c of CASES) {
    it(`refuses ${c.name}, naming the broker and the field`, () => {
      expectProblems(problemsOf(c.content, c.env, c.extra), c.problems);
    });
  }

  it('keeps inline secrets out of the messages and registers them for redaction', () => {
    const { env, readFile } = withFile(json({ ...cloud, username: 'u', password: 'inline-secret-1x' }));
    let caught: unknown;
    try {
      loadConfig(env, readFile);
    } catch (error) {
      caught = error;
    }
    const error = caught as { problems: string[]; secrets?: string[] };
    assert.ok(error.problems.every((p) => !p.includes('inline-secret-1x')));
    assert.ok(error.secrets?.includes('inline-secret-1x'));
  });

  it('accepts the README examples, JSON and YAML alike', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Several brokers'));
    const blocks = [...section.matchAll(/```(json|yaml)\n([\s\S]*?)```/g)].slice(0, 2);
    assert.deepEqual(
      blocks.map((b) => b[1]),
      ['json', 'yaml'],
    );
    for (const [, , text] of blocks) {
      const problems: string[] = [];
      const entries = parseBrokersFile(Buffer.from(text ?? ''), 'README', problems, []);
      assert.deepEqual(problems, []);
      assert.deepEqual(
        entries.map((e) => e.name),
        ['site', 'cloud'],
      );
    }
  });
});
