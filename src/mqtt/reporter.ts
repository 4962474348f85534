/**
 * What the link tells people about its connection: the last error (kept for mqtt_status, also
 * after recovery), operator log lines (one per distinct error a minute, with a repeat count,
 * instead of one per reconnect attempt) and events for MCP clients.
 */
import type { LinkError, LinkEvent } from '../bridge.js';
import type { Logger } from '../logging/logger.js';

const ERROR_LOG_INTERVAL_MS = 60_000;

export class ConnectionReporter {
  lastError: LinkError | undefined;
  private lastLogged: { code: string; at: number; repeats: number } | undefined;
  private readonly listeners = new Set<(event: LinkEvent) => void>();

  constructor(private readonly log: Logger) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  listen(listener: (event: LinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: LinkEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  error(explained: { code: string; message: string }): void {
    this.lastError = { ...explained, at: new Date().toISOString() };
    const now = Date.now();
    const last = this.lastLogged;
    if (last !== undefined && last.code === explained.code && now - last.at < ERROR_LOG_INTERVAL_MS) {
      last.repeats++;
      return;
    }
    this.log.error(
      {
        code: explained.code,
        ...(last !== undefined && last.repeats > 0 ? { repeatedBefore: last.repeats } : {}),
      },
      explained.message,
    );
    this.emit({ level: 'error', code: explained.code, message: explained.message });
    this.lastLogged = { code: explained.code, at: now, repeats: 0 };
  }

  connected(reconnected: boolean, fields: Record<string, unknown>): void {
    this.lastLogged = undefined;
    this.log.info(fields, reconnected ? 'reconnected' : 'connected');
    this.emit({
      level: 'info',
      code: 'CONNECTED',
      message: reconnected ? 'reconnected to the broker' : 'connected to the broker',
    });
  }

  lost(): void {
    this.log.warn({ lastError: this.lastError?.code }, 'connection to broker lost');
    this.emit({
      level: 'warning',
      code: 'CONNECTION_LOST',
      message: 'the connection to the broker was lost; reconnecting',
    });
  }
}
