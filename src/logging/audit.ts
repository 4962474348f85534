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
  /** With several brokers: the broker it went to. */
  readonly broker?: string | undefined;
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
  /** With several brokers: the broker it came from. */
  readonly broker?: string | undefined;
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

/** Topic text kept in an audit line; a longer topic is cut and identified by its size and hash. */
export const AUDIT_TOPIC_CHARS = 256;

/** The topic as an audit line holds it: bounded, with the size and hash of the whole when cut. */
export function auditTopic(topic: string): { topic: string; topicBytes?: number; topicHash?: string } {
  if (topic.length <= AUDIT_TOPIC_CHARS) return { topic };
  return {
    topic: `${topic.slice(0, AUDIT_TOPIC_CHARS)}...`,
    topicBytes: Buffer.byteLength(topic),
    topicHash: payloadHash(Buffer.from(topic, 'utf8')),
  };
}

/** Entries the suspicious-payload dedup set holds (a hash each, 32 bytes). */
const SEEN_MAX = 10_000;

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
  // A flagged message may be shown again and again (polling); audit each once. The set holds a
  // hash of topic and payload, never the topic itself (topics can be 64 KiB each).
  const seen = new Set<string>();
  return {
    publish(entry) {
      const { payload, topic, ...rest } = entry;
      log.info(
        { event: 'publish', ...rest, ...auditTopic(topic), payloadHash: payloadHash(payload) },
        'publish attempt',
      );
    },
    suspicious(entry) {
      const { payload, topic, ...rest } = entry;
      const hash = payloadHash(payload);
      const key = createHash('sha256')
        .update(entry.broker ?? '')
        .update('\u0000')
        .update(topic)
        .update('\u0000')
        .update(hash)
        .digest('base64');
      if (seen.has(key)) return;
      if (seen.size >= SEEN_MAX) seen.clear();
      seen.add(key);
      log.info(
        { event: 'suspicious-payload', ...rest, ...auditTopic(topic), payloadHash: hash },
        'suspicious payload shown',
      );
    },
  };
}
