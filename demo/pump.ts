/**
 * A coolant pump that obeys its command topic. Commands are plain words (`on`, `off`, `start`,
 * `stop`, `1`, `0`) or JSON (`{"state":"off"}`, `{"command":"start"}`); anything else is refused.
 * Its state is published retained, as real devices do, so a new subscriber sees it at once.
 */

export type PumpState = 'running' | 'stopped';

const WORDS: Record<string, PumpState> = {
  on: 'running',
  start: 'running',
  run: 'running',
  running: 'running',
  '1': 'running',
  true: 'running',
  off: 'stopped',
  stop: 'stopped',
  stopped: 'stopped',
  '0': 'stopped',
  false: 'stopped',
};

/** The state a command asks for, or undefined when the pump does not understand it. */
export function parsePumpCommand(payload: Buffer): PumpState | undefined {
  const text = payload.toString('utf8').trim();
  const word = (value: unknown): PumpState | undefined =>
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? WORDS[String(value).trim().toLowerCase()]
      : undefined;
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      return word(json.state ?? json.command ?? json.cmd);
    } catch {
      return undefined;
    }
  }
  return word(text);
}

export class Pump {
  private changedAt = new Date();

  constructor(
    readonly line: string,
    private current: PumpState,
    private readonly nominalRpm: number,
  ) {}

  get state(): PumpState {
    return this.current;
  }

  get running(): boolean {
    return this.current === 'running';
  }

  /** Apply a state; true when it changed. */
  set(state: PumpState, now = new Date()): boolean {
    if (state === this.current) return false;
    this.current = state;
    this.changedAt = now;
    return true;
  }

  /** The retained state payload. */
  statePayload(): string {
    return JSON.stringify({
      state: this.current,
      rpm: this.running ? this.nominalRpm : 0,
      since: this.changedAt.toISOString(),
    });
  }
}
