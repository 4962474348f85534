/**
 * A Sparkplug B edge node for the tests, built from the protobuf definitions with protobufjs'
 * own encoder (independent of the bridge's decoder and view): NBIRTH with bdSeq and its NDEATH as
 * the MQTT Will, DBIRTH, NDATA and DDATA by alias, seq 0..255, and it answers a "Node
 * Control/Rebirth" NCMD by sending its BIRTHs again. Every data type of Sparkplug 3.0 is among
 * its metrics.
 */
import mqtt, { type MqttClient } from 'mqtt';
import protobuf from 'protobufjs';
import { SPARKPLUG_SCHEMA } from '../../src/decode/sparkplug-schema.js';
import type { Broker } from './broker.js';
import type { Pki } from './pki.js';
import { readFileSync } from 'node:fs';

const Payload = protobuf.Root.fromJSON(SPARKPLUG_SCHEMA).lookupType('Payload');

export interface TestMetric {
  readonly name: string;
  readonly alias: number;
  readonly datatype: number;
  /** The protobuf oneof field and its value as the wire carries it. */
  readonly field: string;
  readonly wire: unknown;
}

const le = (size: number, write: (b: Buffer, v: never, o: number) => void, values: unknown[]) => {
  const b = Buffer.alloc(size * values.length);
  values.forEach((v, i) => write(b, v as never, i * size));
  return b;
};

/** One metric of every Sparkplug 3.0 data type, with the value a reader must see. */
export const ALL_TYPES: ReadonlyArray<TestMetric & { readonly expected: unknown }> = [
  { name: 'i8', alias: 1, datatype: 1, field: 'intValue', wire: 0xff, expected: -1 },
  { name: 'i16', alias: 2, datatype: 2, field: 'intValue', wire: 0x8000, expected: -32768 },
  { name: 'i32', alias: 3, datatype: 3, field: 'intValue', wire: 0xfffffffe, expected: -2 },
  { name: 'i64', alias: 4, datatype: 4, field: 'longValue', wire: '18446744073709551615', expected: -1 },
  { name: 'u8', alias: 5, datatype: 5, field: 'intValue', wire: 250, expected: 250 },
  { name: 'u16', alias: 6, datatype: 6, field: 'intValue', wire: 65535, expected: 65535 },
  { name: 'u32', alias: 7, datatype: 7, field: 'intValue', wire: 4294967295, expected: 4294967295 },
  {
    name: 'u64',
    alias: 8,
    datatype: 8,
    field: 'longValue',
    wire: '18446744073709551615',
    expected: '18446744073709551615',
  },
  { name: 'f32', alias: 9, datatype: 9, field: 'floatValue', wire: 1.5, expected: 1.5 },
  { name: 'f64', alias: 10, datatype: 10, field: 'doubleValue', wire: 21.25, expected: 21.25 },
  { name: 'bool', alias: 11, datatype: 11, field: 'booleanValue', wire: true, expected: true },
  { name: 'str', alias: 12, datatype: 12, field: 'stringValue', wire: 'running', expected: 'running' },
  {
    name: 'dt',
    alias: 13,
    datatype: 13,
    field: 'longValue',
    wire: 1700000000000,
    expected: '2023-11-14T22:13:20.000Z',
  },
  {
    name: 'text',
    alias: 14,
    datatype: 14,
    field: 'stringValue',
    wire: 'a longer text',
    expected: 'a longer text',
  },
  {
    name: 'uuid',
    alias: 15,
    datatype: 15,
    field: 'stringValue',
    wire: '1c8e4b2a-0000-4000-8000-000000000001',
    expected: '1c8e4b2a-0000-4000-8000-000000000001',
  },
  {
    name: 'ds',
    alias: 16,
    datatype: 16,
    field: 'datasetValue',
    wire: {
      numOfColumns: 2,
      columns: ['t', 'ok'],
      types: [3, 11],
      rows: [{ elements: [{ intValue: 0xffffffff }, { booleanValue: true }] }],
    },
    expected: { columns: ['t', 'ok'], types: ['Int32', 'Boolean'], rows: [[-1, true]] },
  },
  {
    name: 'bytes',
    alias: 17,
    datatype: 17,
    field: 'bytesValue',
    wire: Buffer.from([1, 2, 3]),
    expected: 'AQID',
  },
  { name: 'file', alias: 18, datatype: 18, field: 'bytesValue', wire: Buffer.from('hi'), expected: 'aGk=' },
  {
    name: 'tmpl',
    alias: 19,
    datatype: 19,
    field: 'templateValue',
    wire: { templateRef: 'Motor', metrics: [{ name: 'rpm', datatype: 7, intValue: 1480 }] },
    expected: { metrics: [{ name: 'rpm', datatype: 'UInt32', value: 1480 }], templateRef: 'Motor' },
  },
  {
    name: 'i8a',
    alias: 22,
    datatype: 22,
    field: 'bytesValue',
    wire: Buffer.from([0xef, 0x7b]),
    expected: [-17, 123],
  },
  {
    name: 'i16a',
    alias: 23,
    datatype: 23,
    field: 'bytesValue',
    wire: le(2, (b, v, o) => b.writeInt16LE(v, o), [-30000, 30000]),
    expected: [-30000, 30000],
  },
  {
    name: 'i32a',
    alias: 24,
    datatype: 24,
    field: 'bytesValue',
    wire: le(4, (b, v, o) => b.writeInt32LE(v, o), [-1, 315338746]),
    expected: [-1, 315338746],
  },
  {
    name: 'i64a',
    alias: 25,
    datatype: 25,
    field: 'bytesValue',
    wire: le(8, (b, v, o) => b.writeBigInt64LE(v, o), [-4270929666821191986n, 5n]),
    expected: ['-4270929666821191986', 5],
  },
  {
    name: 'u8a',
    alias: 26,
    datatype: 26,
    field: 'bytesValue',
    wire: Buffer.from([23, 250]),
    expected: [23, 250],
  },
  {
    name: 'u16a',
    alias: 27,
    datatype: 27,
    field: 'bytesValue',
    wire: le(2, (b, v, o) => b.writeUInt16LE(v, o), [30, 52360]),
    expected: [30, 52360],
  },
  {
    name: 'u32a',
    alias: 28,
    datatype: 28,
    field: 'bytesValue',
    wire: le(4, (b, v, o) => b.writeUInt32LE(v, o), [52, 3293969225]),
    expected: [52, 3293969225],
  },
  {
    name: 'u64a',
    alias: 29,
    datatype: 29,
    field: 'bytesValue',
    wire: le(8, (b, v, o) => b.writeBigUInt64LE(v, o), [52n, 16444743074749521625n]),
    expected: [52, '16444743074749521625'],
  },
  {
    name: 'f32a',
    alias: 30,
    datatype: 30,
    field: 'bytesValue',
    wire: le(4, (b, v, o) => b.writeFloatLE(v, o), [1.5, -2.25]),
    expected: [1.5, -2.25],
  },
  {
    name: 'f64a',
    alias: 31,
    datatype: 31,
    field: 'bytesValue',
    wire: le(8, (b, v, o) => b.writeDoubleLE(v, o), [12.354213, 1022.9123213]),
    expected: [12.354213, 1022.9123213],
  },
  {
    name: 'boola',
    alias: 32,
    datatype: 32,
    field: 'bytesValue',
    wire: Buffer.from([0x0c, 0x00, 0x00, 0x00, 0x34, 0xd0]),
    expected: [false, false, true, true, false, true, false, false, true, true, false, true],
  },
  {
    name: 'stra',
    alias: 33,
    datatype: 33,
    field: 'bytesValue',
    wire: Buffer.from('ABC\u0000hello\u0000'),
    expected: ['ABC', 'hello'],
  },
  {
    name: 'dta',
    alias: 34,
    datatype: 34,
    field: 'bytesValue',
    wire: le(8, (b, v, o) => b.writeBigInt64LE(v, o), [1256102875335n]),
    expected: ['2009-10-21T05:27:55.335Z'],
  },
];

export function encode(payload: Record<string, unknown>): Buffer {
  return Buffer.from(Payload.encode(Payload.fromObject(payload)).finish());
}

export function metric(
  m: TestMetric,
  options: { withName: boolean; wire?: unknown },
): Record<string, unknown> {
  return {
    ...(options.withName ? { name: m.name, datatype: m.datatype } : {}),
    alias: m.alias,
    [m.field]: options.wire ?? m.wire,
  };
}

export class EdgeNode {
  private client: MqttClient | undefined;
  private seq = 0;
  bdSeq = 0;
  rebirths = 0;

  constructor(
    private readonly broker: Broker,
    private readonly pki: Pki,
    readonly group: string,
    readonly edge: string,
    readonly device: string,
    readonly metrics: readonly TestMetric[] = ALL_TYPES,
  ) {}

  get nodeTopic(): string {
    return `spBv1.0/${this.group}/NBIRTH/${this.edge}`;
  }

  topic(type: string, device = false): string {
    return `spBv1.0/${this.group}/${type}/${this.edge}${device ? `/${this.device}` : ''}`;
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  /** Connect with the NDEATH of this session as the Will; optionally send the BIRTHs. */
  async connect(options: { birth: boolean } = { birth: true }): Promise<void> {
    this.bdSeq++;
    const id = this.pki.issueClient('spy');
    const death = encode({
      timestamp: Date.now(),
      metrics: [{ name: 'bdSeq', datatype: 8, longValue: this.bdSeq }],
    });
    this.client = await mqtt.connectAsync({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port: this.broker.port,
      ca: readFileSync(this.pki.ca),
      cert: readFileSync(id.cert),
      key: readFileSync(id.key),
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      will: { topic: this.topic('NDEATH'), payload: death, qos: 1, retain: false },
      log: () => undefined,
    });
    await this.client.subscribeAsync(this.topic('NCMD'));
    this.client.on('message', (topic, payload) => {
      if (topic !== this.topic('NCMD')) return;
      const cmd = Payload.toObject(Payload.decode(payload)) as {
        metrics?: Array<{ name?: string; booleanValue?: boolean }>;
      };
      if (cmd.metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.booleanValue === true)) {
        this.rebirths++;
        void this.birth();
      }
    });
    if (options.birth) await this.birth();
  }

  /** NBIRTH (seq 0, bdSeq) and DBIRTH with every metric named and aliased. */
  async birth(): Promise<void> {
    this.seq = 0;
    await this.publish(this.topic('NBIRTH'), {
      timestamp: Date.now(),
      seq: this.nextSeq(),
      metrics: [
        { name: 'bdSeq', datatype: 8, longValue: this.bdSeq },
        { name: 'Node Control/Rebirth', datatype: 11, booleanValue: false },
        { name: 'uptime', alias: 100, datatype: 7, intValue: 1 },
      ],
    });
    await this.publish(this.topic('DBIRTH', true), {
      timestamp: Date.now(),
      seq: this.nextSeq(),
      metrics: this.metrics.map((m) => metric(m, { withName: true })),
    });
  }

  /** DDATA by alias only (no names). */
  async data(
    metrics: readonly TestMetric[] = this.metrics,
    overrides: Record<string, unknown> = {},
  ): Promise<void> {
    await this.publish(this.topic('DDATA', true), {
      timestamp: Date.now(),
      seq: this.nextSeq(),
      metrics: metrics.map((m) => metric(m, { withName: false, wire: overrides[m.name] })),
    });
  }

  async nodeData(uptime: number): Promise<void> {
    await this.publish(this.topic('NDATA'), {
      timestamp: Date.now(),
      seq: this.nextSeq(),
      metrics: [{ alias: 100, intValue: uptime }],
    });
  }

  /** Skip seq numbers, as a lost message would. */
  skip(n: number): void {
    this.seq = (this.seq + n) % 256;
  }

  private async publish(topic: string, payload: Record<string, unknown>): Promise<void> {
    await this.client?.publishAsync(topic, encode(payload), { qos: 0 });
  }

  /** Publish bytes as they are (a payload that is not Sparkplug, say). */
  async raw(topic: string, payload: Buffer): Promise<void> {
    await this.client?.publishAsync(topic, payload, { qos: 0 });
  }

  /** Drop the connection without DISCONNECT: the broker sends the Will (NDEATH). */
  kill(): void {
    this.client?.stream.destroy();
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
  }
}
