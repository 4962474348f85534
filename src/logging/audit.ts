/**
 * The audit log: one JSON line per publish attempt (who, topic, size, payload hash, QoS,
 * retain, result) and per suspicious broker payload shown to a model (topic and hash). It never
 * contains a payload. It is separate from the operator log: its own file when
 * MCP_AUDIT_LOG_FILE is set, otherwise stderr lines marked "log":"audit". Always on, whatever
 * LOG_LEVEL says; scrubbed like every other line.
 */
import { createHash } from 'node:crypto';
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { Scrubber } from './scrub.js';

export interface PublishAudit {
  readonly principal: string;
  readonly topic: string;
  readonly bytes: number;
  readonly payload: Uint8Array;
  readonly qos: number;
  readonly retain: boolean;
  /** `published`, or the error code of the refusal or failure. */
  readonly result: string;
  readonly reasonCode?: number | undefined;
  readonly confirmed?: boolean | undefined;
}

export interface SuspiciousAudit {
  readonly principal: string;
  readonly tool: string;
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly reasons: readonly string[];
}

export interface AuditLog {
  publish(entry: PublishAudit): void;
  suspicious(entry: SuspiciousAudit): void;
}

export function payloadHash(payload: Uint8Array): string {
  return `sha256:${createHash('sha256').update(payload).digest('hex')}`;
}

export function createAuditLog(options: {
  scrubber: Scrubber;
  file?: string | undefined;
  destination?: DestinationStream;
}): AuditLog {
  const destination =
    options.destination ??
    (options.file !== undefined
      ? pino.destination({ dest: options.file, sync: true, mkdir: false, append: true })
      : pino.destination({ dest: 2, sync: true }));
  const log: Logger = pino(
    {
      level: 'info',
      base: { name: 'mqtt-mcp-bridge', log: 'audit' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line: string) => options.scrubber.scrub(line) },
    },
    destination,
  );
  // A flagged message may be shown again and again (polling); audit each once.
  const seen = new Set<string>();
  return {
    publish(entry) {
      const { payload, ...rest } = entry;
      log.info({ event: 'publish', ...rest, payloadHash: payloadHash(payload) }, 'publish attempt');
    },
    suspicious(entry) {
      const { payload, ...rest } = entry;
      const hash = payloadHash(payload);
      const key = `${entry.topic}\u0000${hash}`;
      if (seen.has(key)) return;
      if (seen.size >= 10_000) seen.clear();
      seen.add(key);
      log.info({ event: 'suspicious-payload', ...rest, payloadHash: hash }, 'suspicious payload shown');
    },
  };
}
