/**
 * A test PKI per test file, made with the project's own certs/generate.sh, plus the negative
 * fixtures the TLS tests need: a client certificate from a foreign CA, a key that belongs to no
 * certificate, and extra client identities for spy subscribers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Pki {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** The bridge identity, CN mcp-bridge. */
  readonly clientCert: string;
  readonly clientKey: string;
  readonly encryptedKey: string;
  readonly passphraseFile: string;
  /** A client certificate and key issued by another CA. */
  readonly foreignCert: string;
  readonly foreignKey: string;
  /** The other CA's certificate (wrong trust anchor on our side). */
  readonly foreignCa: string;
  /** A private key that matches no certificate. */
  readonly strayKey: string;
  /** Issue one more client certificate from the test CA. */
  issueClient(cn: string): { cert: string; key: string };
}

const GENERATE = resolve(import.meta.dirname, '../../certs/generate.sh');

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-pki-'));
  execFileSync('sh', [GENERATE, '--out', dir, '--days', '2', '--encrypted-key'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const foreign = join(dir, 'foreign');
  execFileSync('sh', [GENERATE, '--out', foreign, '--days', '2', '--client-cn', 'mcp-bridge'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'stray.key'], dir);

  const issued = new Map<string, { cert: string; key: string }>();
  const issueClient = (cn: string) => {
    const done = issued.get(cn);
    if (done !== undefined) return done;
    const key = join(dir, `${cn}.key`);
    const cert = join(dir, `${cn}.crt`);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key], dir);
    openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', `${cn}.csr`], dir);
    writeFileSync(join(dir, `${cn}.ext`), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${cn}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-sha256',
        '-extfile',
        `${cn}.ext`,
        '-out',
        cert,
      ],
      dir,
    );
    issued.set(cn, { cert, key });
    return { cert, key };
  };

  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    encryptedKey: join(dir, 'client-encrypted.key'),
    passphraseFile: join(dir, 'client-key-passphrase.txt'),
    foreignCert: join(foreign, 'client.crt'),
    foreignKey: join(foreign, 'client.key'),
    foreignCa: join(foreign, 'ca.crt'),
    strayKey: join(dir, 'stray.key'),
    issueClient,
  };
}

export function read(path: string): Buffer {
  return readFileSync(path);
}
