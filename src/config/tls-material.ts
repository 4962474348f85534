/**
 * Checks the TLS files before any connection is made, so that a wrong passphrase or a key that
 * does not belong to its certificate is reported in operator words at start-up. Messages name
 * variables and paths, never file contents.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  readonly ca?: { path: string; data: Buffer };
  readonly cert?: { path: string; data: Buffer };
  readonly key?: { path: string; data: Buffer };
  readonly passphrase?: string;
  /** How messages name the settings (default: the MQTT_* variables). */
  readonly labels?: TlsLabels;
}

export interface TlsLabels {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Where the passphrase came from. */
  readonly passphrase: string;
  /** What to set for an encrypted key. */
  readonly passphraseHint: string;
  /** The three files together. */
  readonly all: string;
}

const ENV_LABELS: TlsLabels = {
  ca: 'MQTT_CA_FILE',
  cert: 'MQTT_CERT_FILE',
  key: 'MQTT_KEY_FILE',
  passphrase: 'MQTT_KEY_PASSPHRASE_FILE',
  passphraseHint: 'MQTT_KEY_PASSPHRASE_FILE or MQTT_KEY_PASSPHRASE',
  all: 'MQTT_CA_FILE/MQTT_CERT_FILE/MQTT_KEY_FILE',
};

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Problems with the TLS material; empty when it is usable. */
export function tlsMaterialProblems(files: TlsFiles, now: Date): string[] {
  const problems: string[] = [];
  const l = files.labels ?? ENV_LABELS;

  if (files.ca !== undefined) {
    const text = files.ca.data.toString('latin1');
    const blocks = text.match(PEM_CERT) ?? [];
    if (blocks.length === 0) {
      problems.push(
        `${l.ca}: ${files.ca.path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
      );
    } else {
      for (const block of blocks) {
        try {
          new X509Certificate(block);
        } catch {
          problems.push(`${l.ca}: ${files.ca.path} holds a certificate that cannot be parsed`);
          break;
        }
      }
    }
  }

  let cert: X509Certificate | undefined;
  if (files.cert !== undefined) {
    try {
      cert = new X509Certificate(files.cert.data);
    } catch {
      problems.push(`${l.cert}: ${files.cert.path} is not a PEM certificate`);
    }
    if (cert !== undefined) {
      if (new Date(cert.validTo).getTime() < now.getTime()) {
        problems.push(`${l.cert}: the client certificate in ${files.cert.path} expired on ${cert.validTo}`);
      } else if (new Date(cert.validFrom).getTime() > now.getTime()) {
        problems.push(
          `${l.cert}: the client certificate in ${files.cert.path} is not valid before ${cert.validFrom}`,
        );
      }
    }
  }

  let key: KeyObject | undefined;
  if (files.key !== undefined) {
    const text = files.key.data.toString('latin1');
    const encrypted = text.includes('ENCRYPTED PRIVATE KEY') || text.includes('Proc-Type: 4,ENCRYPTED');
    if (!text.includes('PRIVATE KEY-----')) {
      problems.push(`${l.key}: ${files.key.path} is not a PEM private key`);
    } else if (encrypted && files.passphrase === undefined) {
      problems.push(`${l.key}: the key in ${files.key.path} is encrypted; set ${l.passphraseHint}`);
    } else {
      try {
        key = createPrivateKey(
          files.passphrase === undefined
            ? { key: files.key.data, format: 'pem' }
            : { key: files.key.data, format: 'pem', passphrase: files.passphrase },
        );
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        problems.push(
          code === 'ERR_OSSL_BAD_DECRYPT' && encrypted
            ? `${l.passphrase}: wrong passphrase for the key in ${files.key.path}`
            : `${l.key}: the key in ${files.key.path} cannot be read (${typeof code === 'string' ? code : 'unknown error'})`,
        );
      }
    }
  }

  if (cert !== undefined && key !== undefined) {
    if (!cert.checkPrivateKey(key)) {
      problems.push(
        `${l.key}: the key in ${files.key?.path ?? '?'} does not match the certificate in ${files.cert?.path ?? '?'}`,
      );
    }
  }

  if (problems.length === 0) {
    // Last word: OpenSSL itself must accept the combination.
    try {
      createSecureContext({
        ...(files.ca !== undefined ? { ca: files.ca.data } : {}),
        ...(files.cert !== undefined ? { cert: files.cert.data } : {}),
        ...(files.key !== undefined ? { key: files.key.data } : {}),
        ...(files.passphrase !== undefined ? { passphrase: files.passphrase } : {}),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      problems.push(
        `${l.all}: OpenSSL refused the TLS files (${typeof code === 'string' ? code : 'unknown error'})`,
      );
    }
  }
  return problems;
}
