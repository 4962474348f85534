/**
 * One idempotent shutdown with a deadline: run the steps in order, then exit. Asking again
 * while it runs does nothing; force() (a second signal) exits at once; the deadline exits too.
 */
import type { Logger } from './logging/logger.js';

export interface ShutdownOptions {
  readonly logger: Logger;
  readonly deadlineMs: number;
  readonly steps: ReadonlyArray<{ readonly name: string; readonly run: () => Promise<void> }>;
  readonly exit: (code: number) => void;
}

export interface Shutdown {
  /** Start the shutdown (idempotent). */
  begin(reason: string, code?: number): void;
  /** Exit now, e.g. on a second signal. */
  force(reason: string): void;
  readonly started: boolean;
}

export function createShutdown(options: ShutdownOptions): Shutdown {
  let started = false;
  return {
    get started() {
      return started;
    },
    force(reason) {
      options.logger.warn({ reason }, 'forced exit');
      options.exit(1);
    },
    begin(reason, code = 0) {
      if (started) return;
      started = true;
      options.logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        options.logger.warn({ deadlineMs: options.deadlineMs }, 'shutdown deadline reached; exiting');
        options.exit(1);
      }, options.deadlineMs);
      timer.unref();
      void (async () => {
        for (const step of options.steps) {
          try {
            await step.run();
          } catch (error) {
            options.logger.warn({ step: step.name, err: error }, 'shutdown step failed');
          }
        }
        clearTimeout(timer);
        options.exit(code);
      })();
    },
  };
}
