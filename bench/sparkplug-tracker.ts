/**
 * The Sparkplug tracker's own cost per DDATA message, in process, with no broker: 1,000 devices
 * (one edge node each) born with 20 metrics by alias, then 100,000 DDATA carrying all 20 by alias
 * (the shape of the sparkplug ingest case), taken from a real MessageStore in batches of 500 as
 * ingest hands them over, until all are applied; microseconds per message over 5 repetitions.
 * Usage: node --import tsx bench/sparkplug-tracker.ts
 */
import { MessageStore } from '../src/store/message-store.js';
import { SparkplugTracker } from '../src/sparkplug/tracker.js';
import { BENCH_BIRTH, BENCH_DATA } from './lib/sparkplug-payloads.js';
const birth = BENCH_BIRTH;
const data = BENCH_DATA;
const store = new MessageStore({
  maxTopics: 100000,
  maxMessagesPerTopic: 100,
  maxBytes: 2 ** 30,
  maxAgeMs: 86400000,
  maxPayloadBytes: 65536,
});
const results: number[] = [];
for (let rep = 0; rep < 5; rep++) {
  const tracker = new SparkplugTracker();
  let t = Date.now();
  for (let d = 0; d < 1000; d++)
    tracker.enqueue(store.append(`spBv1.0/bench/DBIRTH/e${d}/d`, birth, 0, false, undefined, t++)!);
  tracker.drain();
  const msgs = [];
  for (let i = 0; i < 100000; i++) {
    const m = store.append(`spBv1.0/bench/DDATA/e${i % 1000}/d`, Buffer.from(data), 0, false, undefined, t++);
    if (m) msgs.push(m);
  }
  const s = performance.now();
  for (let i = 0; i < msgs.length; i += 500) {
    for (let j = i; j < i + 500 && j < msgs.length; j++) tracker.enqueue(msgs[j]!);
    tracker.drain();
  }
  tracker.stats(); // everything taken applied (pending DATA too)
  results.push(((performance.now() - s) * 1000) / msgs.length);
}
console.log('µs per DDATA:', results.map((x) => x.toFixed(2)).join(' '));
