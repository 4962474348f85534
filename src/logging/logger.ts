/**
 * The one logger factory. pino writes to fd 2 (stderr) in every mode, because stdout carries
 * only JSON-RPC in stdio mode. Redaction happens in three layers: pino `redact` paths, and a
 * string scrubber (patterns plus exact secret values) on every line just before it is written.
 */
import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { Scrubber } from './scrub.js';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const REDACT_PATHS = [
  'password',
  'passphrase',
  'key',
  'token',
  'secret',
  'authorization',
  'cookie',
  '*.password',
  '*.passphrase',
  '*.key',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.cookie',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'tls',
  '*.tls',
  'mqtt.password',
  'options',
  'config',
];

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly scrubber: Scrubber;
  /** Where lines go; default stderr. Tests pass a sink. */
  readonly destination?: DestinationStream;
  readonly base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  const { scrubber } = options;
  return pino(
    {
      level: options.level,
      base: options.base ?? { name: 'mqtt-mcp-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: { err: serializeError, error: serializeError },
      hooks: { streamWrite: (line: string) => scrubber.scrub(line) },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

/** Errors as type, code and message (scrubbed later by the line hook); no config, options or request objects. */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const out: Record<string, unknown> = { type: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (error.stack !== undefined) out.stack = error.stack;
  if (error.cause !== undefined && error.cause !== error) out.cause = serializeError(error.cause);
  return out;
}
