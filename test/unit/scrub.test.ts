import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, serializeError, type Logger } from '../../src/logging/logger.js';
import { REDACTED, Scrubber, scrubPatterns } from '../../src/logging/scrub.js';

const R = REDACTED;
const PEM_BODY = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3Zb4hJ0x';
const pem = (label: string, nl = '\n') =>
  `-----BEGIN ${label}-----${nl}${PEM_BODY}${nl}${PEM_BODY.slice(3)}${nl}-----END ${label}-----`;
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

/** [name, input, expected output] */
const PATTERN_CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['PEM private key', `key: ${pem('PRIVATE KEY')} done`, 'key: [REDACTED KEY] done'],
  ['PEM RSA private key', pem('RSA PRIVATE KEY'), '[REDACTED KEY]'],
  ['PEM EC private key', `a ${pem('EC PRIVATE KEY')} b`, 'a [REDACTED KEY] b'],
  ['PEM encrypted private key', pem('ENCRYPTED PRIVATE KEY'), '[REDACTED KEY]'],
  ['PEM OpenSSH private key', pem('OPENSSH PRIVATE KEY'), '[REDACTED KEY]'],
  ['PEM with CRLF', pem('PRIVATE KEY', '\r\n'), '[REDACTED KEY]'],
  [
    'two PEM keys',
    `${pem('PRIVATE KEY')} and ${pem('EC PRIVATE KEY')}.`,
    '[REDACTED KEY] and [REDACTED KEY].',
  ],
  ['JSON-escaped PEM', JSON.stringify({ k: `${pem('PRIVATE KEY')}\n` }), '{"k":"[REDACTED KEY]\\n"}'],
  [
    'unterminated PEM',
    `oops -----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n${PEM_BODY}`,
    'oops [REDACTED KEY]',
  ],
  ['unterminated PEM end line', `x ${pem('PRIVATE KEY').slice(0, -10)}`, 'x [REDACTED KEY]'],
  [
    'mqtts URL userinfo',
    'connect mqtts://user:s3cr3t@broker:8883 now',
    `connect mqtts://user:${R}@broker:8883 now`,
  ],
  ['https URL userinfo', 'GET https://bob:pw-1234@example.com/x', `GET https://bob:${R}@example.com/x`],
  ['postgres URL userinfo', 'postgres://app:hunter2@db:5432/app', `postgres://app:${R}@db:5432/app`],
  ['URL userinfo in quotes', '"url":"mqtt://u:p%40ss@h:1883"', `"url":"mqtt://u:${R}@h:1883"`],
  ['Bearer token', 'sent Bearer abcdef123456', `sent Bearer ${R}`],
  ['Basic credentials', 'sent Basic dXNlcjpwYXNz', `sent Basic ${R}`],
  ['lower-case bearer', 'bearer abcdef123456', `bearer ${R}`],
  ['JWT', `jwt ${JWT} done`, `jwt ${R} done`],
  ['password=', 'password=hunter2&x=1', `password=${R}&x=1`],
  ['pwd=', 'user=a pwd=hunter2 ok', `user=a pwd=${R} ok`],
  ['"token":"..." in JSON', '{"token":"abc123xyz","n":1}', `{"token":"${R}","n":1}`],
  ['"password": "..." with spaces around the colon', '{"password" : "abc"}', `{"password" : "${R}"}`],
  [
    'JSON-escaped JSON',
    JSON.stringify({ msg: '{"password":"hunter2"}' }),
    `{"msg":"{\\"password\\":\\"${R}\\"}"}`,
  ],
  ['passphrase: x', 'passphrase: correcthorse', `passphrase: ${R}`],
  ['mixed case key', 'PassWord=Hunter2', `PassWord=${R}`],
  ['upper case key', 'PASSWORD: Hunter2', `PASSWORD: ${R}`],
  ['api_key', 'api_key=AAAA1234', `api_key=${R}`],
  ['api-key', 'x-api-key: abcd', `x-api-key: ${R}`],
  ['client_secret', 'client_secret=abc;', `client_secret=${R};`],
  ['secret=', "secret='abc'", `secret='${R}'`],
  ['a quoted password with spaces', '{"password":"correct horse battery staple"}', `{"password":"${R}"}`],
  ['sk- key', 'key sk-abcdefghijklmnopqrstuv end', `key ${R} end`],
  ['ghp_ token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', R],
  ['ghp_ token after a slash', 'https://x/ghp_abcdefghijklmnopqrstuvwxyz0123456789', `https://x/${R}`],
  ['AKIA key', 'aws AKIAIOSFODNN7EXAMPLE end', `aws ${R} end`],
  ['glpat- token', 'glpat-abcdefghij0123456789', R],
  ['xoxb- token', 'slack xoxb-123456789012-abcdefghij', `slack ${R}`],
];

/** Ordinary text that must come through untouched. */
const UNCHANGED: ReadonlyArray<readonly [string, string]> = [
  ['log text', 'connected to the broker in 35 ms, 3 subscriptions active'],
  ['topic names', 'topic plant/line1/pump/temp and sport/+/player1/#'],
  ['ISO date', 'received at 2024-05-01T12:34:56.789Z'],
  ['URL without userinfo', 'connecting to mqtts://host:8883'],
  ['URL with only a user name', 'connecting to mqtt://alice@host:1883'],
  ['certificate PEM', pem('CERTIFICATE')],
  ['public key PEM', pem('PUBLIC KEY')],
  ['key-like word in a longer word', 'token_count=5 and passwordless=true'],
  ['word containing sk-', 'desk-lamp/controller/status-0123456789 and task-queue-worker-0123456789abc'],
  ['UUID', 'request 123e4567-e89b-12d3-a456-426614174000'],
  ['file path', '/usr/local/lib/node_modules/pino/lib/tools.js:42'],
  ['hex digest', 'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['short bearer', 'the bearer of bad news'],
  ['empty', ''],
  ['already redacted', `password=${R} and mqtts://u:${R}@h`],
];

describe('scrubPatterns', () => {
  for (const [name, input, expected] of PATTERN_CASES) {
    it(`redacts ${name}`, () => {
      const out = scrubPatterns(input);
      assert.equal(out, expected);
      assert.equal(scrubPatterns(out), out, 'idempotent');
    });
  }
  for (const [name, input] of UNCHANGED) {
    it(`keeps ${name}`, () => {
      assert.equal(scrubPatterns(input), input);
    });
  }

  it('Authorization header values are removed', () => {
    for (const input of ['Authorization: Bearer abcdef123456', 'authorization: Basic dXNlcjpwYXNz']) {
      const out = scrubPatterns(input);
      assert.ok(!out.includes('abcdef123456') && !out.includes('dXNlcjpwYXNz'), out);
      assert.ok(out.includes(R));
    }
  });

  it('runs in linear time on hostile input', () => {
    const hostile = [
      '-----BEGIN '.repeat(20_000),
      'a://'.repeat(20_000) + '@',
      `password=${'x'.repeat(200_000)}`,
      'A'.repeat(200_000),
      'eyJ.'.repeat(50_000),
      `${'Bearer '.repeat(30_000)}x`,
    ];
    for (const text of hostile) {
      const started = performance.now();
      scrubPatterns(text);
      assert.ok(performance.now() - started < 1000, `slow on ${text.slice(0, 20)}...`);
    }
  });
});

describe('Scrubber exact values', () => {
  const CASES: ReadonlyArray<{ name: string; secrets: string[]; input: string; expected: string }> = [
    { name: 'a plain value', secrets: ['s3cr3t-value'], input: 'x s3cr3t-value y', expected: `x ${R} y` },
    { name: 'every occurrence', secrets: ['abc123'], input: 'abc123/abc123', expected: `${R}/${R}` },
    {
      name: 'a value with a quote, JSON-escaped',
      secrets: ['he said "hi"'],
      input: JSON.stringify({ m: 'x he said "hi" y' }),
      expected: `{"m":"x ${R} y"}`,
    },
    {
      name: 'a value with a backslash, JSON-escaped',
      secrets: ['a\\b-secret'],
      input: JSON.stringify({ m: 'a\\b-secret' }),
      expected: `{"m":"${R}"}`,
    },
    {
      name: 'a value with a newline, raw',
      secrets: ['line1\nline2'],
      input: '<line1\nline2>',
      expected: `<${R}>`,
    },
    { name: 'regexp characters', secrets: ['.*+?(x)'], input: 'a .*+?(x) b', expected: `a ${R} b` },
    {
      name: 'the longest secret first',
      secrets: ['abcdef', 'abcdefghij'],
      input: 'abcdefghij abcdef',
      expected: `${R} ${R}`,
    },
    {
      name: 'values under 3 characters are ignored',
      secrets: ['ab', ''],
      input: 'ab cab',
      expected: 'ab cab',
    },
    {
      name: 'patterns still apply',
      secrets: ['zzz-secret'],
      input: 'zzz-secret password=x',
      expected: `${R} password=${R}`,
    },
  ];
  for (const c of CASES) {
    it(c.name, () => {
      assert.equal(new Scrubber(c.secrets).scrub(c.input), c.expected);
    });
  }

  it('add() registers more values later', () => {
    const scrubber = new Scrubber(['first-secret']);
    assert.equal(scrubber.scrub('later-secret'), 'later-secret');
    scrubber.add(['later-secret']);
    assert.equal(scrubber.scrub('first-secret later-secret'), `${R} ${R}`);
  });
});

describe('logger', () => {
  const SECRET = 'registered-s3cret-value';
  function capture(): { logger: Logger; lines: () => Array<{ raw: string; json: Record<string, unknown> }> } {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        callback();
      },
    });
    const logger = createLogger({ level: 'trace', scrubber: new Scrubber([SECRET]), destination: sink });
    return {
      logger,
      lines: () =>
        chunks
          .join('')
          .split('\n')
          .filter((l) => l !== '')
          .map((raw) => ({ raw, json: JSON.parse(raw) as Record<string, unknown> })),
    };
  }

  const CASES: ReadonlyArray<{ name: string; log: (logger: Logger) => void; hidden: string[] }> = [
    { name: 'top-level password', log: (l) => l.info({ password: 'top-pw-1' }, 'x'), hidden: ['top-pw-1'] },
    {
      name: 'one level down',
      log: (l) => l.info({ mqtt: { password: 'mqtt-pw-2', passphrase: 'pp-3', key: 'k-4' } }, 'x'),
      hidden: ['mqtt-pw-2', 'pp-3', 'k-4'],
    },
    {
      name: 'a.b.password',
      log: (l) => l.info({ a: { b: { password: 'deep-pw-5' } } }, 'x'),
      hidden: ['deep-pw-5'],
    },
    {
      name: 'a.b.password with spaces',
      log: (l) => l.info({ a: { b: { password: 'correct horse battery staple' } } }, 'x'),
      hidden: ['correct', 'horse', 'battery', 'staple'],
    },
    {
      name: 'config and tls objects',
      log: (l) => l.info({ config: { anything: 'cfg-value-6' }, tls: { ca: 'ca-value-7' } }, 'x'),
      hidden: ['cfg-value-6', 'ca-value-7'],
    },
    {
      name: 'an Error with a registered secret and a PEM key',
      log: (l) => l.error({ err: new Error(`failed with ${SECRET} and ${pem('PRIVATE KEY')}`) }, 'boom'),
      hidden: [SECRET, PEM_BODY, 'PRIVATE KEY-----'],
    },
    {
      name: 'an Error cause chain',
      log: (l) => l.error({ err: new Error('outer', { cause: new Error(`inner ${SECRET}`) }) }, 'boom'),
      hidden: [SECRET],
    },
    {
      name: 'the message text',
      log: (l) => l.warn(`dial mqtts://u:url-pw-8@h failed, ${SECRET}, Bearer tok-abcdef-9`),
      hidden: ['url-pw-8', SECRET, 'tok-abcdef-9'],
    },
  ];
  for (const c of CASES) {
    it(`hides ${c.name}`, () => {
      const { logger, lines } = capture();
      c.log(logger);
      const written = lines();
      assert.equal(written.length, 1);
      for (const { raw } of written) {
        for (const hidden of c.hidden) assert.ok(!raw.includes(hidden), `'${hidden}' leaked: ${raw}`);
        assert.ok(raw.includes('REDACTED'), raw);
      }
    });
  }

  it('keeps ordinary fields and writes valid JSON lines', () => {
    const { logger, lines } = capture();
    logger.info({ topic: 'plant/line1/temp', count: 3 }, 'stored');
    logger.debug('second');
    const [first, second] = lines();
    assert.equal(first?.json.topic, 'plant/line1/temp');
    assert.equal(first?.json.count, 3);
    assert.equal(first?.json.msg, 'stored');
    assert.equal(first?.json.name, 'mqtt-mcp-bridge');
    assert.equal(second?.json.msg, 'second');
  });

  it('serializeError keeps type, code, message and cause', () => {
    const error = Object.assign(new Error('outer', { cause: 'plain cause' }), { code: 'ECONNREFUSED' });
    const out = serializeError(error);
    assert.equal(out.type, 'Error');
    assert.equal(out.code, 'ECONNREFUSED');
    assert.equal(out.message, 'outer');
    assert.deepEqual(out.cause, { message: 'plain cause' });
    assert.deepEqual(serializeError('just text'), { message: 'just text' });
  });
});
