/**
 * The demo's certificates: a TEST ONLY CA, a broker certificate for 127.0.0.1/localhost and the
 * bridge's client certificate, made by the project's own certs/generate.sh with OpenSSL. The
 * script keeps certificates that are still valid, so repeated runs reuse them and a client
 * configuration that points at them keeps working.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface DemoPki {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export class PkiError extends Error {}

export function ensurePki(rootDir: string, dir: string): DemoPki {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new PkiError(
      'openssl was not found on PATH. The demo makes its test certificates with OpenSSL: install it ' +
        '(Debian/Ubuntu: apt-get install openssl; macOS: it ships with the system, or brew install openssl) and retry.',
    );
  }
  const script = join(rootDir, 'certs', 'generate.sh');
  const result = spawnSync(
    'sh',
    [script, '--out', dir, '--days', '30', '--server-dns', 'localhost', '--server-ip', '127.0.0.1'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (result.error !== undefined || result.status !== 0) {
    const detail = (result.stderr || result.error?.message || '').trim().split('\n').slice(-5).join('\n');
    throw new PkiError(`certs/generate.sh failed (exit ${result.status ?? 'none'}):\n${detail}`);
  }
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
}
