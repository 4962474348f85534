/**
 * One broker's address, credentials and TLS material, checked the same way whether they come
 * from the MQTT_* variables or from an entry of MQTT_BROKERS_FILE. Messages name the setting as
 * the operator wrote it (`MQTT_CA_FILE: ...` or `brokers[1] "cloud": caFile: ...`) and never
 * include a secret value or file content.
 */
import { tlsMaterialProblems } from './tls-material.js';
import { fileErrorReason, keyBodyLines } from './parse.js';

export type ReadFile = (path: string) => Buffer;

export interface ConnectionInput {
  /** '' when missing (reported by the caller). */
  readonly url: string;
  readonly username?: string | undefined;
  /** A password given as a value (MQTT_PASSWORD); the brokers file has none. */
  readonly password?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly keyPassphrase?: string | undefined;
  readonly keyPassphraseFile?: string | undefined;
  readonly servername?: string | undefined;
  readonly insecure: boolean;
}

export type ConnectionField = keyof ConnectionInput;

/** How messages name the settings: `where` starts a message, `names` refer to other settings. */
export interface ConnectionNames {
  readonly where: (field: ConnectionField) => string;
  readonly names: Readonly<Record<ConnectionField, string>>;
}

export const ENV_NAMES: ConnectionNames = (() => {
  const names: Record<ConnectionField, string> = {
    url: 'MQTT_URL',
    username: 'MQTT_USERNAME',
    password: 'MQTT_PASSWORD',
    passwordFile: 'MQTT_PASSWORD_FILE',
    caFile: 'MQTT_CA_FILE',
    certFile: 'MQTT_CERT_FILE',
    keyFile: 'MQTT_KEY_FILE',
    keyPassphrase: 'MQTT_KEY_PASSPHRASE',
    keyPassphraseFile: 'MQTT_KEY_PASSPHRASE_FILE',
    servername: 'MQTT_SERVERNAME',
    insecure: 'MQTT_TLS_INSECURE',
  };
  return { names, where: (field) => names[field] };
})();

/** Names inside an entry of the brokers file: `brokers[1] "cloud": caFile`. */
export function entryNames(prefix: string): ConnectionNames {
  const names = Object.fromEntries(Object.keys(ENV_NAMES.names).map((field) => [field, field])) as Record<
    ConnectionField,
    string
  >;
  return { names, where: (field) => `${prefix}${field}` };
}

export interface Connection {
  /** The broker URL as shown to people: scheme, host, port (and the WebSocket path) only. */
  readonly url: string;
  readonly protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly path: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: {
    readonly ca: Buffer | undefined;
    readonly cert: Buffer | undefined;
    readonly key: Buffer | undefined;
    readonly passphrase: string | undefined;
    readonly servername: string | undefined;
    readonly insecure: boolean;
  };
}

const SCHEMES = {
  'mqtt:': { protocol: 'mqtt', port: 1883, secure: false, ws: false },
  'mqtts:': { protocol: 'mqtts', port: 8883, secure: true, ws: false },
  'ws:': { protocol: 'ws', port: 80, secure: false, ws: true },
  'wss:': { protocol: 'wss', port: 443, secure: true, ws: true },
} as const;

/** The WebSocket path when the URL has none: what most brokers serve MQTT over WebSockets on. */
const DEFAULT_WS_PATH = '/mqtt';

/**
 * Checks one broker's connection settings and reads its files. Problems and every secret met
 * (passwords, passphrases, key lines) are appended to the given lists; undefined when any
 * problem was found.
 */
export function brokerConnection(
  input: ConnectionInput,
  names: ConnectionNames,
  context: { readonly problems: string[]; readonly secrets: string[]; readonly readFile: ReadFile },
  production: boolean,
  now: Date,
): Connection | undefined {
  const { problems, secrets } = context;
  const before = problems.length;
  const n = names.names;
  const at = names.where;
  const read = (field: ConnectionField, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return context.readFile(path);
    } catch (error) {
      problems.push(`${at(field)}: cannot read ${path} (${fileErrorReason(error)})`);
      return undefined;
    }
  };
  const readSecret = (field: ConnectionField, path: string | undefined): string | undefined => {
    const data = read(field, path);
    if (data === undefined) return undefined;
    const value = data.toString('utf8').replace(/\r?\n$/, '');
    if (value.length === 0) {
      problems.push(`${at(field)}: ${path ?? ''} is empty`);
      return undefined;
    }
    secrets.push(value);
    return value;
  };

  // ---- URL ----
  let url: URL | undefined;
  if (input.url !== '') {
    try {
      url = new URL(input.url);
    } catch {
      problems.push(
        `${at('url')}: is not a valid URL (expected mqtts://host:8883, mqtt://host:1883, wss://host:8884/mqtt or ws://host:8080/mqtt)`,
      );
    }
  }
  let scheme: (typeof SCHEMES)[keyof typeof SCHEMES] | undefined;
  if (url !== undefined) {
    if (url.username !== '' || url.password !== '') {
      if (url.password !== '') secrets.push(decodeURIComponent(url.password));
      const passwords = names === ENV_NAMES ? `${n.password} or ${n.passwordFile}` : n.passwordFile;
      problems.push(
        `${at('url')}: must not contain a user name or password; use ${n.username} with ${passwords} instead`,
      );
    }
    scheme = SCHEMES[url.protocol as keyof typeof SCHEMES];
    if (scheme === undefined)
      problems.push(`${at('url')}: scheme must be mqtts://, mqtt://, wss:// or ws://`);
    if (url.hostname === '') problems.push(`${at('url')}: has no host`);
    if (url.port === '0') problems.push(`${at('url')}: port 0 is not a broker port`);
    if (scheme?.ws === true) {
      if (url.search !== '' || url.hash !== '')
        problems.push(`${at('url')}: must be scheme://host:port/path without a query or fragment`);
    } else if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
      problems.push(`${at('url')}: must be scheme://host:port without a path, query or fragment`);
    }
  }

  // ---- credentials ----
  if (input.password !== undefined && input.passwordFile !== undefined) {
    problems.push(`${at('password')} and ${n.passwordFile}: set one of them, not both`);
  }
  const filePassword = readSecret('passwordFile', input.passwordFile);
  const password = input.password ?? filePassword;
  if (password !== undefined && input.username === undefined) {
    problems.push(`${at('username')}: is required when a password is set`);
  }

  // ---- TLS ----
  if ((input.certFile === undefined) !== (input.keyFile === undefined)) {
    problems.push(`${at('certFile')} and ${n.keyFile}: set both (mutual TLS) or neither`);
  }
  for (const field of ['keyPassphrase', 'keyPassphraseFile'] as const) {
    if (input[field] !== undefined && input.keyFile === undefined)
      problems.push(`${at(field)}: is set but ${n.keyFile} is not`);
  }
  if (input.keyPassphrase !== undefined && input.keyPassphraseFile !== undefined) {
    problems.push(`${at('keyPassphrase')} and ${n.keyPassphraseFile}: set one of them, not both`);
  }
  if (scheme !== undefined && !scheme.secure) {
    const plain = `${scheme.protocol}://`;
    const secure = scheme.ws ? 'wss://' : 'mqtts://';
    for (const field of ['caFile', 'certFile', 'keyFile', 'servername'] as const) {
      if (input[field] !== undefined)
        problems.push(`${at(field)}: is set but ${n.url} uses plain ${plain}; use ${secure}`);
    }
    if (input.insecure) problems.push(`${at('insecure')}: is set but ${n.url} uses plain ${plain}`);
  }
  if (input.insecure && production) {
    problems.push(`${at('insecure')}: is refused when NODE_ENV=production; fix the CA instead`);
  }
  const ca = read('caFile', input.caFile);
  const cert = read('certFile', input.certFile);
  const key = read('keyFile', input.keyFile);
  const filePassphrase = readSecret('keyPassphraseFile', input.keyPassphraseFile);
  const passphrase = input.keyPassphrase ?? filePassphrase;
  if (key !== undefined) secrets.push(...keyBodyLines(key));
  if (
    (input.caFile === undefined || ca !== undefined) &&
    (input.certFile === undefined || cert !== undefined) &&
    (input.keyFile === undefined || key !== undefined) &&
    (input.keyPassphraseFile === undefined || filePassphrase !== undefined)
  ) {
    problems.push(
      ...tlsMaterialProblems(
        {
          ...(ca !== undefined && input.caFile !== undefined ? { ca: { path: input.caFile, data: ca } } : {}),
          ...(cert !== undefined && input.certFile !== undefined
            ? { cert: { path: input.certFile, data: cert } }
            : {}),
          ...(key !== undefined && input.keyFile !== undefined
            ? { key: { path: input.keyFile, data: key } }
            : {}),
          ...(passphrase !== undefined ? { passphrase } : {}),
          labels: {
            ca: at('caFile'),
            cert: at('certFile'),
            key: at('keyFile'),
            passphrase: input.keyPassphrase !== undefined ? at('keyPassphrase') : at('keyPassphraseFile'),
            passphraseHint:
              names === ENV_NAMES ? `${n.keyPassphraseFile} or ${n.keyPassphrase}` : n.keyPassphraseFile,
            all: `${at('caFile')}/${n.certFile}/${n.keyFile}`,
          },
        },
        now,
      ),
    );
  }
  if (problems.length > before || url === undefined || scheme === undefined) return undefined;

  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? scheme.port : Number(url.port);
  const path = scheme.ws
    ? url.pathname === '' || url.pathname === '/'
      ? DEFAULT_WS_PATH
      : url.pathname
    : undefined;
  return {
    url: `${scheme.protocol}://${url.hostname}:${port}${path ?? ''}`,
    protocol: scheme.protocol,
    secure: scheme.secure,
    host,
    port,
    path,
    username: input.username,
    password,
    tls: { ca, cert, key, passphrase, servername: input.servername, insecure: input.insecure },
  };
}
