/**
 * The one error type of the bridge. `code` is stable (tests and callers branch on it);
 * `message` is written for the person or model who reads it: what happened and what to do.
 * Messages never contain secrets or payloads; they are scrubbed again at every boundary.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'INVALID_INPUT',
  'POLICY_DENIED',
  'BROKER_UNAVAILABLE',
  'NOT_AUTHORIZED',
  'PUBLISH_REFUSED',
  'DELIVERY_UNKNOWN',
  'TIMEOUT',
  'RATE_LIMITED',
  'BUSY',
  'NOT_FOUND',
  'CANCELLED',
  'CONFIRMATION_REQUIRED',
  'PAYLOAD_INVALID',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class BridgeError extends Error {
  readonly code: ErrorCode;
  /** Seconds after which a retry makes sense (rate limits, busy). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BridgeError';
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export function isBridgeError(error: unknown): error is BridgeError {
  return error instanceof BridgeError;
}

/** Configuration problems: all of them at once, each naming its variable. */
export class ConfigError extends BridgeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
