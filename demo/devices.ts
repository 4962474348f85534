/**
 * Signal models and payload encodings of the simulated devices. No timers, no I/O: the plant
 * decides when to step them and where to publish.
 */

/** A value that relaxes toward a target with some noise: temperatures, pressures, flows. */
export class Signal {
  constructor(
    private value: number,
    private readonly rate: number,
    private readonly noise: number,
    private readonly random: () => number = Math.random,
  ) {}

  step(target: number): number {
    this.value += (target - this.value) * this.rate + (this.random() - 0.5) * 2 * this.noise;
    return this.value;
  }

  get current(): number {
    return this.value;
  }
}

/** A number as a device would print it: fixed decimals, no unit. */
export function plain(value: number, decimals = 1): string {
  return value.toFixed(decimals);
}

/** A JSON reading with unit and device time. */
export function reading(value: number, unit: string, decimals = 2, now = new Date()): string {
  return JSON.stringify({ value: Number(value.toFixed(decimals)), unit, ts: now.toISOString() });
}

/**
 * A raw frame of the line 1 energy meter, as some field gateways forward it untouched:
 * sync bytes 0xAA 0x55, sequence (u8), energy counter in Wh (u32 BE), active power in W
 * (f32 BE), CRC-16/MODBUS (little endian). The leading 0xAA makes it invalid UTF-8 by design.
 */
export function energyFrame(sequence: number, energyWh: number, powerW: number): Buffer {
  const frame = Buffer.alloc(13);
  frame.writeUInt8(0xaa, 0);
  frame.writeUInt8(0x55, 1);
  frame.writeUInt8(sequence & 0xff, 2);
  frame.writeUInt32BE(Math.floor(energyWh) >>> 0, 3);
  frame.writeFloatBE(powerW, 7);
  frame.writeUInt16LE(crc16Modbus(frame.subarray(0, 11)), 11);
  return frame;
}

export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
