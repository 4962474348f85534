/**
 * A metric's current value as the tracker keeps it from a plain DATA message: where its bytes are
 * in the stored payload text and the BIRTH in effect, decoded the first time someone reads it (a
 * tool, a resource), not on the live path. Reads see exactly what the eager decode gives
 * (viewMetricBytes is the same view). A newer value of the same metric overwrites it in place
 * (no allocation on the live path).
 */
import { viewMetricBytes, type Birth, type JsonValue, type ViewLimits } from '../decode/sparkplug.js';

export interface MetricValue {
  readonly datatype: string | undefined;
  readonly value: JsonValue;
  readonly at: number;
}

export class LazyMetric implements MetricValue {
  private decoded: MetricValue | undefined;

  constructor(
    private data: string,
    private start: number,
    private end: number,
    private birth: Birth | undefined,
    private readonly limits: ViewLimits,
    private receivedAt: number,
  ) {}

  /** Take a newer value. */
  reset(data: string, start: number, end: number, birth: Birth | undefined, receivedAt: number): void {
    this.data = data;
    this.start = start;
    this.end = end;
    this.birth = birth;
    this.receivedAt = receivedAt;
    this.decoded = undefined;
  }

  get datatype(): string | undefined {
    return this.resolve().datatype;
  }

  get value(): JsonValue {
    return this.resolve().value;
  }

  get at(): number {
    return this.resolve().at;
  }

  private resolve(): MetricValue {
    if (this.decoded === undefined) {
      const bytes = Buffer.from(this.data.slice(this.start, this.end), 'latin1');
      const view = viewMetricBytes(bytes, this.birth, this.limits);
      this.decoded = {
        datatype: view.datatype,
        value: view.isNull === true ? null : view.value,
        at: view.timestamp !== undefined ? Date.parse(view.timestamp) : this.receivedAt,
      };
      this.data = '';
      this.birth = undefined;
    }
    return this.decoded;
  }
}
