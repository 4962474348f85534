/**
 * The simulated plant: two production lines publishing telemetry through the embedded broker.
 *
 *   plant/<line>/status, plant/<line>/config   retained at start (device status and config)
 *   plant/<line>/pump/state                    retained JSON, republished when the pump changes
 *   plant/<line>/pump/cmd                      commands the pump obeys (on/off, JSON)
 *   plant/line1/temperature, line2/temperature plain numbers (degrees C), every tick
 *   plant/line1/pressure, plant/line2/flow     JSON readings with unit, every tick
 *   plant/line1/energy/raw                     binary meter frames (not UTF-8), every tick
 *   plant/line2/vibration                      JSON, retained; goes silent after silentAfter
 *   plant/<line>/alarm                         JSON alarms now and then, and on high temperature
 *
 * A stopped coolant pump lets its line's temperature climb until HIGH_TEMPERATURE fires, so a
 * command sent through the bridge has a visible effect on state, telemetry and alarms.
 */
import type { Bus } from './broker.js';
import { Signal, energyFrame, plain, reading } from './devices.js';
import { Pump, parsePumpCommand } from './pump.js';

export interface PlantOptions {
  readonly intervalMs: number;
  readonly silentAfterSeconds: number;
  readonly say: (line: string) => void;
  readonly random?: () => number;
}

interface Line {
  readonly name: string;
  readonly pump: Pump;
  readonly temperature: Signal;
  readonly coolC: number;
  readonly hotC: number;
  readonly alarmAboveC: number;
  alarmActive: boolean;
}

const RANDOM_ALARMS = [
  { severity: 'info', code: 'FILTER_MAINTENANCE_DUE', message: 'Coolant filter change due within 48 h' },
  { severity: 'warning', code: 'PRESSURE_SPIKE', message: 'Pressure transient above 4.5 bar for 300 ms' },
  { severity: 'info', code: 'GUARD_DOOR_OPENED', message: 'Safety guard door opened and closed' },
  { severity: 'warning', code: 'SENSOR_NOISE', message: 'Temperature probe noise above threshold' },
] as const;

/**
 * Every topic the plant publishes or obeys (alarms come now and then; the rest every tick or at
 * start). Tool descriptions take their example filters from these, and a test checks that.
 */
export const PLANT_TOPICS: readonly string[] = [
  ...['line1', 'line2'].flatMap((line) =>
    ['status', 'config', 'pump/state', 'pump/cmd', 'temperature', 'alarm'].map(
      (leaf) => `plant/${line}/${leaf}`,
    ),
  ),
  'plant/line1/pressure',
  'plant/line2/flow',
  'plant/line1/energy/raw',
  'plant/line2/vibration',
  'plant/line2/vibration/status',
];

export class Plant {
  private readonly random: () => number;
  private readonly lines: Line[];
  private readonly pressure: Signal;
  private readonly flow: Signal;
  private readonly vibration: Signal;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private nextAlarmAt = 0;
  private silentAnnounced = false;
  private sequence = 0;
  private energyWh = 1_284_000;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly options: PlantOptions,
  ) {
    this.random = options.random ?? Math.random;
    const line = (name: string, coolC: number, hotC: number, alarmAboveC: number, rpm: number): Line => ({
      name,
      pump: new Pump(name, 'running', rpm),
      temperature: new Signal(coolC, 0.08, 0.25, this.random),
      coolC,
      hotC,
      alarmAboveC,
      alarmActive: false,
    });
    this.lines = [line('line1', 68, 96, 85, 1480), line('line2', 54, 90, 80, 2950)];
    this.pressure = new Signal(3.2, 0.3, 0.05, this.random);
    this.flow = new Signal(12.5, 0.3, 0.2, this.random);
    this.vibration = new Signal(2.2, 0.2, 0.15, this.random);
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.nextAlarmAt = this.startedAt + 8000;
    for (const line of this.lines) {
      await this.bus.publish(`plant/${line.name}/status`, 'online', { retain: true });
      await this.bus.publish(
        `plant/${line.name}/config`,
        JSON.stringify({
          device: `${line.name}-controller`,
          firmware: line.name === 'line1' ? '4.2.1' : '3.9.7',
          coolantSetpointC: line.coolC,
          alarmAboveC: line.alarmAboveC,
          telemetryIntervalMs: this.options.intervalMs,
        }),
        { retain: true },
      );
      await this.bus.publish(`plant/${line.name}/pump/state`, line.pump.statePayload(), { retain: true });
    }
    await this.bus.publish('plant/line2/vibration/status', 'online', { retain: true });
    await this.bus.subscribe('plant/+/pump/cmd', (topic, payload) => void this.command(topic, payload));
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    if (this.stopped) return;
    await this.bus.publish(topic, payload, { retain }).catch(() => undefined);
  }

  private async command(topic: string, payload: Buffer): Promise<void> {
    const line = this.lines.find((l) => topic === `plant/${l.name}/pump/cmd`);
    const text = JSON.stringify(payload.toString('utf8').slice(0, 60));
    if (line === undefined) {
      this.options.say(`plant   no pump answers on ${topic}; command ${text} ignored`);
      return;
    }
    const wanted = parsePumpCommand(payload);
    if (wanted === undefined) {
      this.options.say(`plant   ${line.name} pump refused command ${text} (use on/off)`);
      await this.alarm(
        line.name,
        'warning',
        'BAD_COMMAND',
        `Pump ignored command ${text}; expected on or off`,
      );
      return;
    }
    if (line.pump.set(wanted)) {
      this.options.say(`plant   ${line.name} pump is now ${wanted} (command ${text})`);
      await this.publish(`plant/${line.name}/pump/state`, line.pump.statePayload(), true);
    } else {
      this.options.say(`plant   ${line.name} pump already ${wanted} (command ${text})`);
    }
  }

  private async alarm(line: string, severity: string, code: string, message: string, value?: number) {
    const body = { severity, code, message, ...(value === undefined ? {} : { value }), ts: new Date() };
    await this.publish(`plant/${line}/alarm`, JSON.stringify(body));
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const line of this.lines) {
      const t = line.temperature.step(line.pump.running ? line.coolC : line.hotC);
      await this.publish(`plant/${line.name}/temperature`, plain(t));
      if (!line.alarmActive && t > line.alarmAboveC) {
        line.alarmActive = true;
        this.options.say(`plant   ${line.name} HIGH_TEMPERATURE alarm at ${plain(t)} C`);
        await this.alarm(
          line.name,
          'critical',
          'HIGH_TEMPERATURE',
          `Temperature above ${line.alarmAboveC} C`,
          t,
        );
      } else if (line.alarmActive && t < line.alarmAboveC - 5) {
        line.alarmActive = false;
        await this.alarm(line.name, 'cleared', 'HIGH_TEMPERATURE', 'Temperature back to normal', t);
      }
    }
    const [line1, line2] = this.lines as [Line, Line];
    await this.publish(
      'plant/line1/pressure',
      reading(this.pressure.step(line1.pump.running ? 3.2 : 0.4), 'bar'),
    );
    await this.publish(
      'plant/line2/flow',
      reading(Math.max(0, this.flow.step(line2.pump.running ? 12.5 : 0)), 'm3/h'),
    );
    const powerW = 5200 + this.random() * 600 + (line1.pump.running ? 3100 : 0);
    this.energyWh += (powerW * this.options.intervalMs) / 3_600_000;
    await this.publish('plant/line1/energy/raw', energyFrame(this.sequence++, this.energyWh, powerW));

    if (now - this.startedAt < this.options.silentAfterSeconds * 1000) {
      await this.publish('plant/line2/vibration', reading(this.vibration.step(2.2), 'mm/s'), true);
    } else if (!this.silentAnnounced) {
      this.silentAnnounced = true;
      this.options.say(
        'plant   line2 vibration sensor went silent (simulated fault; its status still says online)',
      );
    }

    if (now >= this.nextAlarmAt) {
      this.nextAlarmAt = now + 20_000 + this.random() * 40_000;
      const pick = RANDOM_ALARMS[Math.floor(this.random() * RANDOM_ALARMS.length)] ?? RANDOM_ALARMS[0];
      const line = this.random() < 0.5 ? 'line1' : 'line2';
      this.options.say(`plant   ${line} alarm ${pick.code}`);
      await this.alarm(line, pick.severity, pick.code, pick.message);
    }
  }
}
