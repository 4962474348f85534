/**
 * Helpers of loadConfig: parsing each variable on its own, readable reasons for file errors,
 * the key lines registered as secrets, and the secrets carried by a ConfigError.
 */
import type { z } from 'zod';
import type { ConfigError } from '../errors.js';
import { EnvSchema, withDefaults, type Env } from './schema.js';
import { SETTINGS } from './settings.js';

/**
 * Each variable is parsed on its own, so that one bad value does not hide the problems of the
 * others: a bad value is reported and replaced by its default for the checks that follow.
 */
export function parseEnv(rawEnv: Readonly<Record<string, string | undefined>>, problems: string[]): Env {
  const raw = withDefaults(rawEnv);
  const shape = EnvSchema.shape;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(shape) as Array<keyof typeof shape>) {
    const schema = shape[name] as z.ZodType;
    const result = schema.safeParse(raw[name]);
    if (result.success) {
      out[name] = result.data;
      continue;
    }
    // Zod messages describe the expected shape; they never quote the value.
    for (const issue of result.error.issues) problems.push(`${name}: ${issue.message}`);
    const fallback = (SETTINGS as Record<string, { default: string | undefined }>)[name]?.default;
    out[name] = fallback === undefined ? undefined : schema.parse(fallback);
  }
  return out as Env;
}

/** The secret values found so far, attached to a config error so the reporter can redact them. */
export function withSecrets(error: ConfigError, secrets: string[]): ConfigError {
  Object.defineProperty(error, 'secrets', { value: [...new Set(secrets)], enumerable: false });
  return error;
}

export function configErrorSecrets(error: ConfigError): string[] {
  return (error as unknown as { secrets?: string[] }).secrets ?? [];
}

export function fileErrorReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return typeof code === 'string' ? code : 'unreadable';
  }
}

/** The base64 lines of a PEM key body, registered for exact-value redaction. */
export function keyBodyLines(key: Buffer): string[] {
  return key
    .toString('latin1')
    .split(/\r?\n/)
    .filter((line) => line.length >= 16 && /^[A-Za-z0-9+/=]+$/.test(line));
}
