/**
 * The time window of a read: `sinceSeconds` (the last N seconds) or `from`/`to` (ISO 8601), one
 * or the other, checked and turned into epoch milliseconds.
 */
import { z } from 'zod';
import { BridgeError } from '../errors.js';

export const WindowShape = {
  sinceSeconds: z
    .number()
    .positive()
    .max(31_536_000)
    .optional()
    .describe('Only the last N seconds, e.g. 3600'),
  from: z.string().optional().describe('ISO 8601 start, e.g. "2026-12-01T22:00:00Z"'),
  to: z.string().optional().describe('ISO 8601 end (exclusive)'),
};

/** ISO 8601 date and time with a zone: 2026-12-01T22:00:00Z, 2026-12-01T23:00:00.5+01:00. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = ISO.test(value) ? Date.parse(value) : Number.NaN;
  // The value itself is not repeated: errors never echo input.
  if (!Number.isFinite(ms)) {
    throw new BridgeError(
      'INVALID_INPUT',
      `${name} must be an ISO 8601 time with a zone, e.g. 2026-12-01T22:00:00Z`,
    );
  }
  return ms;
}

export interface Window {
  /** Inclusive start (epoch ms); undefined: no lower bound. */
  readonly since: number | undefined;
  /** Exclusive end; undefined: up to now. */
  readonly until: number | undefined;
}

export function timeWindow(
  input: { sinceSeconds?: number | undefined; from?: string | undefined; to?: string | undefined },
  now: number,
  defaultSeconds?: number,
): Window {
  if (input.sinceSeconds !== undefined && (input.from !== undefined || input.to !== undefined)) {
    throw new BridgeError('INVALID_INPUT', 'give sinceSeconds or from/to, not both');
  }
  const from = instant('from', input.from);
  const to = instant('to', input.to);
  if (from !== undefined && to !== undefined && from >= to) {
    throw new BridgeError('INVALID_INPUT', 'from must be earlier than to');
  }
  const seconds = input.sinceSeconds ?? (from === undefined ? defaultSeconds : undefined);
  const since = from ?? (seconds === undefined ? undefined : (to ?? now) - seconds * 1000);
  return { since, until: to };
}
