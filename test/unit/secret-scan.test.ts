/**
 * The secret scan (scripts/secret-scan.sh, secretlint with .secretlintrc.json) can fail: fake
 * secrets made at run time (none is written in this file, so the repository scan stays clean)
 * are found; a git-ignored key is not counted while a new file git would add is; and the
 * repository itself scans clean.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const SECRETLINT = join(ROOT, 'node_modules/.bin/secretlint');
const CONFIG = join(ROOT, '.secretlintrc.json');

const fakePrivateKey = (): string =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

/** An AWS-style access key id: the 4-letter prefix and 16 random [A-Z2-7] characters. */
const fakeAwsKeyId = (): string => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const body = [...randomBytes(16)].map((b) => alphabet[b % 32]).join('');
  return ['AK', 'IA', body].join('');
};

function run(
  command: string,
  args: string[],
  cwd: string,
): { status: number | null; stdout: string; out: string } {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, out: `${r.stdout}${r.stderr}` };
}

describe('secret scan', () => {
  it('secretlint with the project config finds a private key and an AWS key id, and passes clean text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-scan-'));
    writeFileSync(join(dir, 'key.pem'), fakePrivateKey());
    writeFileSync(join(dir, 'aws.txt'), `export AWS_ACCESS_KEY_ID=${fakeAwsKeyId()}\n`);
    writeFileSync(join(dir, 'clean.txt'), 'connected to the broker in 35 ms, 3 subscriptions active\n');
    const { status, stdout, out } = run(
      SECRETLINT,
      ['--secretlintrc', CONFIG, '--no-glob', '--format', 'json', 'key.pem', 'aws.txt', 'clean.txt'],
      dir,
    );
    assert.equal(status, 1, out);
    const results = JSON.parse(stdout) as Array<{ filePath: string; messages: Array<{ ruleId: string }> }>;
    const rules = (file: string) =>
      results.filter((r) => r.filePath.endsWith(file)).flatMap((r) => r.messages.map((m) => m.ruleId));
    assert.deepEqual(rules('key.pem'), ['@secretlint/secretlint-rule-privatekey']);
    assert.deepEqual(rules('aws.txt'), ['@secretlint/secretlint-rule-aws']);
    assert.deepEqual(rules('clean.txt'), []);
  });

  it('scripts/secret-scan.sh fails on a new file git would add, and ignores a git-ignored key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-scan-repo-'));
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(ROOT, 'scripts/secret-scan.sh'), join(dir, 'scripts/secret-scan.sh'));
    copyFileSync(CONFIG, join(dir, '.secretlintrc.json'));
    copyFileSync(join(ROOT, '.secretlintignore'), join(dir, '.secretlintignore'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, '.gitignore'), 'node_modules\n*.key\n');
    assert.equal(run('git', ['init', '-q'], dir).status, 0);
    // Generated keys are git-ignored (as certs/out, demo/.pki and *.key are in this repository).
    writeFileSync(join(dir, 'generated.key'), fakePrivateKey());
    writeFileSync(join(dir, 'README.md'), '# nothing secret here\n');

    const clean = run('sh', ['scripts/secret-scan.sh'], dir);
    assert.equal(clean.status, 0, clean.out);
    assert.match(clean.out, /no secrets found/);

    writeFileSync(join(dir, 'deploy.env'), `AWS_ACCESS_KEY_ID=${fakeAwsKeyId()}\n`);
    const found = run('sh', ['scripts/secret-scan.sh'], dir);
    assert.equal(found.status, 1, found.out);
    assert.match(found.out, /deploy\.env/);
    assert.doesNotMatch(found.out, /generated\.key/);
  });

  it('the repository scans clean', () => {
    const repo = run('sh', ['scripts/secret-scan.sh'], ROOT);
    assert.equal(repo.status, 0, repo.out);
  });
});
