/**
 * A record read back from history, shaped as the store's messages are, so the views, the
 * Sparkplug tracker and the tools treat it like any collected message.
 */
import type { StoredMessage } from '../store/types.js';
import type { RecordedMessage } from './types.js';

class Recorded implements StoredMessage {
  constructor(private readonly r: RecordedMessage) {}
  get topic(): string {
    return this.r.topic;
  }
  get data(): string {
    return this.r.payload;
  }
  get payload(): Buffer {
    return Buffer.from(this.r.payload, 'latin1');
  }
  get storedBytes(): number {
    return this.r.payload.length;
  }
  get qos(): 0 | 1 | 2 {
    return this.r.qos;
  }
  get retain(): boolean {
    return this.r.retain;
  }
  get receivedAt(): number {
    return this.r.receivedAt;
  }
  get sizeBytes(): number {
    return this.r.sizeBytes;
  }
  /** Records of history carry no store sequence number. */
  get seq(): number {
    return 0;
  }
  get properties(): RecordedMessage['properties'] {
    return this.r.properties;
  }
}

export function fromRecord(r: RecordedMessage): StoredMessage {
  return new Recorded(r);
}
