/**
 * What the broker's Sparkplug B traffic says about edge nodes and devices: the BIRTH certificates
 * (which name and data type each alias stands for), online and offline (BIRTH, DEATH with a
 * matching bdSeq), seq gaps, and the current value of each metric.
 *
 * Off the ingest hot path: ingest only queues the stored message (a topic prefix check first);
 * decoding happens in batches on a later turn of the event loop. The queue, the nodes, the devices,
 * the metrics and the BIRTHs kept are all bounded, and what is dropped is counted. Reads pick the
 * BIRTH that was in effect when a message arrived, so an old DATA message keeps its old names even
 * after a rebirth with other aliases.
 *
 * A plain NDATA/DDATA costs a walk of its own fields (seq, for the gap count) when it is taken
 * from the queue; its metrics wait with the other DATA of the same node or device (at most
 * PENDING_PER_TARGET there, at most `queue` in all) until a reader asks or the bound is reached.
 * Then they are applied oldest first, as they arrived, except that a message is skipped when
 * newer ones set every metric it can set (all its metrics go by alias, and newer messages carry
 * every alias of the BIRTH): a device that reports all its metrics each time costs one walk of
 * its metrics per PENDING_PER_TARGET messages. A skipped message is not decoded, so a malformed
 * metric inside it is not counted in decodeErrors (reading the message itself shows the error).
 */
import {
  bdSeqOf,
  birthOf,
  decodeSparkplug,
  parseSparkplugTopic,
  seqOf,
  SparkplugDecodeError,
  viewSparkplug,
  type Birth,
  type PayloadView,
  type RawPayload,
  type SparkplugTopic,
  type ViewLimits,
} from '../decode/sparkplug.js';
import { scanData, walkData, type WalkedData } from '../decode/sparkplug-scan.js';
import type { StoredMessage } from '../store/types.js';
import { LazyMetric, type MetricValue } from './lazy-metric.js';

export type { MetricValue } from './lazy-metric.js';

export interface SparkplugLimits {
  readonly nodes: number;
  readonly devicesPerNode: number;
  /** Current metric values kept, in all. */
  readonly metrics: number;
  /** BIRTHs kept per node or device (the newest). */
  readonly births: number;
  /** Messages taken but not applied yet, queued or pending (see the module comment), each. */
  readonly queue: number;
  /** Payloads larger than this are not decoded. */
  readonly decodeBytes: number;
  readonly view: ViewLimits;
}

export const SPARKPLUG_LIMITS: SparkplugLimits = {
  nodes: 1000,
  devicesPerNode: 1000,
  metrics: 100_000,
  births: 4,
  queue: 10_000,
  decodeBytes: 1024 * 1024,
  view: { maxMetrics: 500, maxElements: 100, maxDepth: 8 },
};

interface Holder {
  /** Undefined until a BIRTH or a DEATH was seen. */
  online: boolean | undefined;
  birthAt: number | undefined;
  deathAt: number | undefined;
  /** Newest last. */
  readonly births: Array<{ readonly at: number; readonly birth: Birth }>;
  readonly metrics: Map<string, MetricValue>;
  updatedAt: number;
  /** Plain DATA whose metrics are not applied yet, oldest first (undefined: none so far). */
  pending?: Pending | undefined;
}

/** Plain DATA messages of one node or device, all under one BIRTH, by column. */
class Pending {
  readonly data: string[] = [];
  readonly at: number[] = [];
  readonly aliasLed: boolean[] = [];
  constructor(public birth: Birth | undefined) {}
}

/** Plain DATA kept per node or device before its metrics are applied. */
export const PENDING_PER_TARGET = 32;

export interface DeviceState extends Holder {
  readonly device: string;
}

export interface NodeState extends Holder {
  readonly group: string;
  readonly edge: string;
  bdSeq: string | undefined;
  lastSeq: number | undefined;
  seqGaps: number;
  readonly devices: Map<string, DeviceState>;
}

export interface TrackerStats {
  readonly nodes: number;
  readonly queued: number;
  /** Plain DATA taken from the queue whose metrics are not applied yet. */
  readonly pending: number;
  readonly decodeErrors: number;
  readonly staleDeaths: number;
  readonly dropped: {
    readonly queue: number;
    readonly nodes: number;
    readonly devices: number;
    readonly metrics: number;
  };
}

const holder = (): Holder => ({
  online: undefined,
  birthAt: undefined,
  deathAt: undefined,
  births: [],
  metrics: new Map(),
  updatedAt: 0,
});

/** A parsed Sparkplug topic with its node's key, made once per topic name (null: not Sparkplug). */
interface KnownTopic {
  readonly topic: SparkplugTopic;
  readonly key: string;
}

/** Topic names whose parse is kept (then the cache starts over): about 100 B each beside the name. */
const TOPIC_CACHE = 10_000;

export class SparkplugTracker {
  /** Least recently updated first (Map order; touched nodes are re-inserted). */
  private readonly nodeMap = new Map<string, NodeState>();
  /**
   * Parsed topics by name. The store hands every message of a topic the same name string, whose
   * hash V8 keeps, so a lookup here costs far less than splitting the name again; the node key
   * made once is the same string every time, which makes the node lookup cheap too.
   */
  private readonly known = new Map<string, KnownTopic | null>();
  private queue: StoredMessage[] = [];
  private scheduled = false;
  /** Nodes and devices with pending DATA, the one pending longest first. */
  private readonly dirty = new Set<Holder>();
  private pendingCount = 0;
  private metricCount = 0;
  private decodeErrors = 0;
  private staleDeaths = 0;
  private readonly dropped = { queue: 0, nodes: 0, devices: 0, metrics: 0 };

  constructor(readonly limits: SparkplugLimits = SPARKPLUG_LIMITS) {}

  /** The ingest hot path: a prefix check, then a push; decoding comes later. */
  enqueue(message: StoredMessage): void {
    if (!message.topic.startsWith('spBv1.0/')) return;
    if (this.queue.length >= this.limits.queue) {
      this.queue.shift();
      this.dropped.queue++;
    }
    this.queue.push(message);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Process everything queued (also called by readers that need the newest state). */
  drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const message of batch) this.apply(message);
  }

  /** The BIRTH in effect for a node or device when a message arrived. */
  birthAt(topic: SparkplugTopic, at: number): Birth | undefined {
    const node = this.nodeMap.get(nodeKey(topic));
    if (node === undefined) return undefined;
    const target = topic.device === undefined ? node : node.devices.get(topic.device);
    return target === undefined ? undefined : birthIn(target, at);
  }

  /**
   * The view of a stored Sparkplug message for a model, with names from the BIRTH in effect when
   * it arrived; undefined when the topic is not in the Sparkplug namespace.
   */
  view(message: StoredMessage): { ok: PayloadView } | { error: string } | undefined {
    const topic = parseSparkplugTopic(message.topic);
    if (topic === undefined) return undefined;
    if (message.storedBytes < message.sizeBytes)
      return { error: 'the payload was cut by the store (STORE_MAX_PAYLOAD_BYTES) and cannot be decoded' };
    this.drain();
    try {
      const raw = decodeSparkplug(message.payload, this.limits.decodeBytes);
      // A BIRTH names its own metrics; anything else takes the BIRTH in effect when it arrived.
      const birth = topic.type.endsWith('BIRTH')
        ? birthOf(raw, this.limits.view.maxMetrics)
        : this.birthAt(topic, message.receivedAt);
      return { ok: viewSparkplug(raw, birth, this.limits.view) };
    } catch (error) {
      if (error instanceof SparkplugDecodeError) return { error: error.message };
      throw error;
    }
  }

  nodes(): IterableIterator<NodeState> {
    this.drain();
    this.resolveAll();
    return this.nodeMap.values();
  }

  /** The counts, with every message taken so far applied (so decodeErrors is up to date). */
  stats(): TrackerStats {
    const queued = this.queue.length;
    const pending = this.pendingCount;
    this.drain();
    this.resolveAll();
    return {
      nodes: this.nodeMap.size,
      queued,
      pending,
      decodeErrors: this.decodeErrors,
      staleDeaths: this.staleDeaths,
      dropped: { ...this.dropped },
    };
  }

  private parse(name: string): KnownTopic | null {
    let known = this.known.get(name);
    if (known === undefined) {
      const topic = parseSparkplugTopic(name);
      known = topic === undefined ? null : { topic, key: nodeKey(topic) };
      if (this.known.size >= TOPIC_CACHE) this.known.clear();
      this.known.set(name, known);
    }
    return known;
  }

  private apply(message: StoredMessage): void {
    const known = this.parse(message.topic);
    if (known === null) return;
    const { topic, key } = known;
    if (topic.type === 'NCMD' || topic.type === 'DCMD') return; // commands say nothing about state
    if (topic.type === 'NDATA' || topic.type === 'DDATA') {
      // The plain shape: seq now, metrics later, values when read; anything else is decoded in full.
      const walked = walkData(message.data, this.limits.decodeBytes);
      if (walked !== undefined) return this.defer(topic, key, walked, message.data, message.receivedAt);
    }
    let raw;
    try {
      raw = decodeSparkplug(message.payload, this.limits.decodeBytes);
    } catch (error) {
      if (!(error instanceof SparkplugDecodeError)) throw error;
      this.decodeErrors++;
      return;
    }
    const at = message.receivedAt;
    const node = this.node(topic, key, at);
    if (node === undefined) return;
    if (topic.type !== 'NDEATH') this.checkSeq(node, topic, seqOf(raw));
    if (topic.device !== undefined) {
      this.applyDevice(node, topic, raw, at);
    } else if (topic.type === 'NBIRTH') {
      const birth = birthOf(raw, this.limits.view.maxMetrics);
      node.bdSeq = birth.bdSeq;
      this.born(node, birth, at);
      this.values(node, viewSparkplug(raw, birth, this.limits.view), at);
    } else if (topic.type === 'NDEATH') {
      const bdSeq = bdSeqOf(raw);
      if (bdSeq !== undefined && node.bdSeq !== undefined && bdSeq !== node.bdSeq) {
        this.staleDeaths++; // the DEATH of an earlier session: the node is back already
        return;
      }
      node.online = false;
      node.deathAt = at;
      for (const device of node.devices.values()) {
        device.online = false;
        device.deathAt = at;
      }
    } else {
      this.resolve(node);
      this.values(node, viewSparkplug(raw, this.birthAt(topic, at), this.limits.view), at);
    }
  }

  private applyDevice(node: NodeState, topic: SparkplugTopic, raw: RawPayload, at: number): void {
    const device = this.device(node, topic.device as string);
    if (device === undefined) return;
    if (topic.type === 'DBIRTH') {
      const birth = birthOf(raw, this.limits.view.maxMetrics);
      this.born(device, birth, at);
      this.values(device, viewSparkplug(raw, birth, this.limits.view), at);
    } else if (topic.type === 'DDEATH') {
      device.online = false;
      device.deathAt = at;
    } else {
      this.resolve(device);
      this.values(device, viewSparkplug(raw, this.birthAt(topic, at), this.limits.view), at);
    }
  }

  /** A plain DATA: its seq counted now, its metrics pending. */
  private defer(topic: SparkplugTopic, key: string, walked: WalkedData, data: string, at: number): void {
    const node = this.node(topic, key, at);
    if (node === undefined) return;
    this.checkSeq(node, topic, walked.seq);
    const target = topic.device === undefined ? node : this.device(node, topic.device);
    if (target === undefined) return;
    target.updatedAt = at;
    const birth = birthIn(target, at);
    let pending = target.pending;
    if (pending === undefined) pending = target.pending = new Pending(birth);
    else if (pending.birth !== birth) {
      this.resolve(target);
      pending.birth = birth;
    }
    if (pending.data.length === 0) this.dirty.add(target);
    pending.data.push(data);
    pending.at.push(at);
    pending.aliasLed.push(walked.aliasLed);
    this.pendingCount++;
    if (pending.data.length >= PENDING_PER_TARGET) this.resolve(target);
    while (this.pendingCount > this.limits.queue) {
      const oldest = this.dirty.values().next().value as Holder;
      this.resolve(oldest);
    }
  }

  private resolveAll(): void {
    for (const target of this.dirty) this.resolve(target);
  }

  /**
   * Applies a node's or device's pending DATA, oldest first, skipping the messages whose every
   * metric newer ones set (see the module comment).
   */
  private resolve(target: Holder): void {
    const pending = target.pending;
    if (pending === undefined || pending.data.length === 0) return;
    this.dirty.delete(target);
    const { data, at, aliasLed, birth } = pending;
    this.pendingCount -= data.length;
    // Newest first: how far back newer messages set every alias of the BIRTH.
    const need = birth?.byAliasNumber.size ?? 0;
    let from = 0;
    if (need > 0) {
      const seen = new Set<string>();
      for (let k = data.length - 1; k > 0; k--) {
        const scanned = scanData(data[k] as string, this.limits.decodeBytes, this.limits.view.maxMetrics);
        if (scanned === undefined) continue;
        for (let i = 0; i < scanned.count; i++) {
          const alias = scanned.aliases[i] as number;
          if (scanned.names[i] !== undefined || alias < 0) continue;
          const name = birth?.byAliasNumber.get(alias)?.name;
          if (name !== undefined) seen.add(name);
        }
        if (seen.size >= need) {
          from = k;
          break;
        }
      }
    }
    for (let k = 0; k < data.length; k++) {
      if (k < from && aliasLed[k] === true) continue;
      this.applyData(target, data[k] as string, at[k] as number, birth);
    }
    data.length = 0;
    at.length = 0;
    aliasLed.length = 0;
  }

  /** Drops a node's or device's pending DATA (a BIRTH declares its metrics anew; an eviction). */
  private discard(target: Holder): void {
    const pending = target.pending;
    if (pending === undefined || pending.data.length === 0) return;
    this.dirty.delete(target);
    this.pendingCount -= pending.data.length;
    pending.data.length = 0;
    pending.at.length = 0;
    pending.aliasLed.length = 0;
  }

  /** One DATA message's metrics: by the walk and lazily, or, when not plain, decoded in full. */
  private applyData(target: Holder, data: string, at: number, birth: Birth | undefined): void {
    const scanned = scanData(data, this.limits.decodeBytes, this.limits.view.maxMetrics);
    if (scanned === undefined) {
      let raw;
      try {
        raw = decodeSparkplug(Buffer.from(data, 'latin1'), this.limits.decodeBytes);
      } catch (error) {
        if (!(error instanceof SparkplugDecodeError)) throw error;
        this.decodeErrors++;
        return;
      }
      this.values(target, viewSparkplug(raw, birth, this.limits.view), at);
      return;
    }
    const { names, aliases, starts, ends } = scanned;
    for (let i = 0; i < scanned.count; i++) {
      const alias = aliases[i] as number;
      const name = names[i] ?? (alias < 0 ? undefined : birth?.byAliasNumber.get(alias)?.name);
      if (name === undefined) continue;
      const start = starts[i] as number;
      const end = ends[i] as number;
      const kept = target.metrics.get(name);
      if (kept instanceof LazyMetric) kept.reset(data, start, end, birth, at);
      else this.set(target, name, new LazyMetric(data, start, end, birth, this.limits.view, at));
    }
  }

  /**
   * seq runs 0..255 across every message of a node but NDEATH; an NBIRTH starts it again (its seq
   * is 0, which protobuf encoders may leave out: absent is 0).
   */
  private checkSeq(node: NodeState, topic: SparkplugTopic, given: number | undefined): void {
    const seq = given ?? (topic.type === 'NBIRTH' ? 0 : undefined);
    if (seq === undefined) return;
    if (topic.type !== 'NBIRTH' && node.lastSeq !== undefined && seq !== (node.lastSeq + 1) % 256)
      node.seqGaps++;
    node.lastSeq = seq;
  }

  private born(target: Holder, birth: Birth, at: number): void {
    target.online = true;
    target.birthAt = at;
    target.births.push({ at, birth });
    if (target.births.length > this.limits.births) target.births.shift();
    // A BIRTH declares the metrics anew: the old values go, and DATA not applied yet with them.
    this.discard(target);
    this.metricCount -= target.metrics.size;
    target.metrics.clear();
  }

  private values(target: Holder, view: PayloadView, at: number): void {
    for (const metric of view.metrics) {
      if (metric.name === undefined) continue;
      this.set(target, metric.name, {
        datatype: metric.datatype,
        value: metric.isNull === true ? null : metric.value,
        at: metric.timestamp !== undefined ? Date.parse(metric.timestamp) : at,
      });
    }
    if (at > target.updatedAt) target.updatedAt = at; // a pending DATA applied late is older
  }

  /** A metric's current value, within the bound on metrics kept (beyond it: counted, not kept). */
  private set(target: Holder, name: string, value: MetricValue): void {
    if (!target.metrics.has(name)) {
      if (this.metricCount >= this.limits.metrics) {
        this.dropped.metrics++;
        return;
      }
      this.metricCount++;
    }
    target.metrics.set(name, value);
  }

  /** The newest node in nodeMap's order (touching it again changes nothing). */
  private newest: NodeState | undefined;

  private node(topic: SparkplugTopic, key: string, at: number): NodeState | undefined {
    let node = this.nodeMap.get(key);
    if (node !== undefined) {
      if (node !== this.newest) {
        this.nodeMap.delete(key);
        this.nodeMap.set(key, node);
        this.newest = node;
      }
      node.updatedAt = at;
      return node;
    }
    if (this.nodeMap.size >= this.limits.nodes) {
      const [oldestKey, oldest] = this.nodeMap.entries().next().value as [string, NodeState];
      this.nodeMap.delete(oldestKey);
      this.metricCount -= oldest.metrics.size;
      this.discard(oldest);
      for (const d of oldest.devices.values()) {
        this.metricCount -= d.metrics.size;
        this.discard(d);
      }
      this.dropped.nodes++;
    }
    node = {
      ...holder(),
      group: topic.group,
      edge: topic.edge,
      bdSeq: undefined,
      lastSeq: undefined,
      seqGaps: 0,
      devices: new Map(),
    };
    this.nodeMap.set(key, node);
    this.newest = node;
    return node;
  }

  private device(node: NodeState, id: string): DeviceState | undefined {
    let device = node.devices.get(id);
    if (device !== undefined) return device;
    if (node.devices.size >= this.limits.devicesPerNode) {
      this.dropped.devices++;
      return undefined;
    }
    device = { ...holder(), device: id };
    node.devices.set(id, device);
    return device;
  }
}

function nodeKey(topic: { group: string; edge: string }): string {
  return `${topic.group}\u0000${topic.edge}`;
}

/** The BIRTH of a node or device in effect at `at` (its newest one from before then). */
function birthIn(target: Holder, at: number): Birth | undefined {
  for (let i = target.births.length - 1; i >= 0; i--) {
    const entry = target.births[i];
    if (entry !== undefined && entry.at <= at) return entry.birth;
  }
  return undefined;
}
