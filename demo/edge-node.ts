/**
 * A Sparkplug B edge node beside the plant: node E7 of group "plant" with one device, press1, a
 * hydraulic press. NBIRTH and DBIRTH name every metric and give it an alias; NDATA and DDATA then
 * carry aliases only, as real edge nodes do. It answers a "Node Control/Rebirth" NCMD by sending
 * its BIRTHs again, and sends its NDEATH when the demo stops.
 */
import protobuf from 'protobufjs';
import { SPARKPLUG_SCHEMA } from '../src/decode/sparkplug-schema.js';
import type { Bus } from './broker.js';

const Payload = protobuf.Root.fromJSON(SPARKPLUG_SCHEMA).lookupType('Payload');

export const GROUP = 'plant';
export const EDGE = 'E7';
export const DEVICE = 'press1';

const T = {
  Int32: 3,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
} as const;

/** The press's metrics: name, alias, data type and the oneof field that carries the value. */
const METRICS = [
  { name: 'Hydraulics/Pressure', alias: 1, datatype: T.Float, field: 'floatValue' },
  { name: 'Hydraulics/Oil Temperature', alias: 2, datatype: T.Double, field: 'doubleValue' },
  { name: 'Cycles', alias: 3, datatype: T.UInt64, field: 'longValue' },
  { name: 'Running', alias: 4, datatype: T.Boolean, field: 'booleanValue' },
  { name: 'Mode', alias: 5, datatype: T.String, field: 'stringValue' },
  { name: 'Fault Code', alias: 6, datatype: T.Int32, field: 'intValue' },
] as const;

/** The edge node's topics, for the list the tool examples are checked against. */
export const EDGE_TOPICS: readonly string[] = [
  `spBv1.0/${GROUP}/NBIRTH/${EDGE}`,
  `spBv1.0/${GROUP}/NDATA/${EDGE}`,
  `spBv1.0/${GROUP}/NDEATH/${EDGE}`,
  `spBv1.0/${GROUP}/NCMD/${EDGE}`,
  `spBv1.0/${GROUP}/DBIRTH/${EDGE}/${DEVICE}`,
  `spBv1.0/${GROUP}/DDATA/${EDGE}/${DEVICE}`,
];

export class EdgeNode {
  private seq = 0;
  private bdSeq = 0;
  private cycles = 1_204_311;
  private readonly started = Date.now();

  constructor(
    private readonly bus: Bus,
    private readonly random: () => number = Math.random,
  ) {}

  async start(): Promise<void> {
    await this.bus.subscribe(
      `spBv1.0/${GROUP}/NCMD/${EDGE}`,
      (_topic, payload) => void this.command(payload),
    );
    await this.birth();
  }

  async birth(): Promise<void> {
    this.seq = 0;
    this.bdSeq++;
    await this.publish(`spBv1.0/${GROUP}/NBIRTH/${EDGE}`, [
      { name: 'bdSeq', datatype: T.UInt64, longValue: this.bdSeq },
      { name: 'Node Control/Rebirth', datatype: T.Boolean, booleanValue: false },
      { name: 'Uptime', alias: 100, datatype: T.UInt32, intValue: this.uptime() },
    ]);
    await this.publish(
      `spBv1.0/${GROUP}/DBIRTH/${EDGE}/${DEVICE}`,
      METRICS.map((m) => ({
        name: m.name,
        alias: m.alias,
        datatype: m.datatype,
        [m.field]: this.value(m.alias),
      })),
    );
  }

  /** One tick: the press's readings by alias, and the node's uptime. */
  async tick(): Promise<void> {
    this.cycles += 1 + Math.floor(this.random() * 3);
    await this.publish(
      `spBv1.0/${GROUP}/DDATA/${EDGE}/${DEVICE}`,
      METRICS.filter((m) => m.alias <= 3).map((m) => ({ alias: m.alias, [m.field]: this.value(m.alias) })),
    );
    await this.publish(`spBv1.0/${GROUP}/NDATA/${EDGE}`, [{ alias: 100, intValue: this.uptime() }]);
  }

  async stop(): Promise<void> {
    await this.publish(
      `spBv1.0/${GROUP}/NDEATH/${EDGE}`,
      [{ name: 'bdSeq', datatype: T.UInt64, longValue: this.bdSeq }],
      false,
    );
  }

  private value(alias: number): unknown {
    switch (alias) {
      case 1:
        return 182.5 + this.random() * 4;
      case 2:
        return 48 + this.random() * 2;
      case 3:
        return this.cycles;
      case 4:
        return true;
      case 5:
        return 'AUTO';
      default:
        return 0;
    }
  }

  private uptime(): number {
    return Math.round((Date.now() - this.started) / 1000);
  }

  private async command(payload: Buffer): Promise<void> {
    let cmd: { metrics?: Array<{ name?: string; booleanValue?: boolean }> };
    try {
      cmd = Payload.toObject(Payload.decode(payload));
    } catch {
      return; // not a Sparkplug command: ignored, as an edge node would
    }
    if (cmd.metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.booleanValue === true))
      await this.birth();
  }

  private async publish(
    topic: string,
    metrics: Array<Record<string, unknown>>,
    withSeq = true,
  ): Promise<void> {
    const message = Payload.fromObject({
      timestamp: Date.now(),
      ...(withSeq ? { seq: this.nextSeq() } : {}),
      metrics: metrics.map((m) => ({ timestamp: Date.now(), ...m })),
    });
    await this.bus.publish(topic, Buffer.from(Payload.encode(message).finish())).catch(() => undefined);
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }
}
