/**
 * `openssl ca` over a test PKI's CA, for what `openssl x509 -req` cannot do: certificates with
 * chosen validity dates (an expired one) and revocation with a CRL. As Mosquitto's own
 * test/ssl/gen.sh builds its expired and revoked fixtures.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pki } from './pki.js';

export interface CaTool {
  /**
   * A certificate and key signed by the test CA; `dates` as YYYYMMDDHHMMSSZ (default: valid from
   * yesterday for two days); `server` gives it the broker's names (127.0.0.1, localhost).
   */
  issue(
    name: string,
    options?: { startdate?: string; enddate?: string; server?: boolean },
  ): { cert: string; key: string };
  /** Revoke a certificate issued here and write the CA's CRL; returns the CRL's path. */
  revoke(cert: string): string;
}

const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

const tools = new WeakMap<Pki, CaTool>();

/** One per PKI, so that serial numbers stay unique and one CRL covers every revocation. */
export function caTool(pki: Pki): CaTool {
  let tool = tools.get(pki);
  if (tool === undefined) tools.set(pki, (tool = makeCaTool(pki)));
  return tool;
}

function makeCaTool(pki: Pki): CaTool {
  const dir = join(pki.dir, 'ca-tool');
  mkdirSync(join(dir, 'new'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '1000\n');
  const config = join(dir, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `database = ${join(dir, 'index.txt')}`,
      `new_certs_dir = ${join(dir, 'new')}`,
      `certificate = ${pki.ca}`,
      `private_key = ${join(pki.dir, 'ca.key')}`,
      `serial = ${join(dir, 'serial')}`,
      `crlnumber = ${join(dir, 'crlnumber')}`,
      'default_md = sha256',
      'default_crl_days = 2',
      'unique_subject = no',
      'policy = any_cn',
      '[ any_cn ]',
      'commonName = supplied',
      '[ client ]',
      'basicConstraints = CA:FALSE',
      'extendedKeyUsage = clientAuth',
      '[ server ]',
      'basicConstraints = CA:FALSE',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
      '',
    ].join('\n'),
  );
  const openssl = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return {
    issue(name, options = {}) {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.crt`);
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
      openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
      const day = 86_400_000;
      openssl([
        'ca',
        '-batch',
        '-notext',
        '-config',
        config,
        '-extensions',
        options.server === true ? 'server' : 'client',
        '-startdate',
        options.startdate ?? stamp(new Date(Date.now() - day)),
        '-enddate',
        options.enddate ?? stamp(new Date(Date.now() + 2 * day)),
        '-in',
        `${name}.csr`,
        '-out',
        cert,
      ]);
      return { cert, key };
    },
    revoke(cert) {
      const crl = join(dir, 'crl.pem');
      openssl(['ca', '-config', config, '-revoke', cert]);
      openssl(['ca', '-config', config, '-gencrl', '-out', crl]);
      return crl;
    },
  };
}
