/**
 * After a restart the tracker knows nothing, and edge nodes do not send their BIRTHs again until
 * asked. What history recorded gives them back: the last BIRTH and DEATH of every node and device
 * (the read policy applies), replayed into the tracker in receive order before the bridge
 * connects, so metric names resolve for DATA that arrives next and for DATA read from history.
 * DATA itself is not replayed: it would count a seq gap between a BIRTH and the last DATA.
 */
import { fromRecord } from '../history/recorded.js';
import type { HistoryBackend, RecordedMessage } from '../history/types.js';
import type { SparkplugTracker } from './tracker.js';

const LIFE_CYCLE = [
  'spBv1.0/+/NBIRTH/+',
  'spBv1.0/+/DBIRTH/+/+',
  'spBv1.0/+/NDEATH/+',
  'spBv1.0/+/DDEATH/+/+',
];

/** Replays the recorded BIRTH and DEATH certificates; returns how many. */
export async function restoreFromHistory(
  backend: HistoryBackend,
  tracker: SparkplugTracker,
): Promise<number> {
  const limit = tracker.limits.nodes * Math.min(tracker.limits.devicesPerNode, 100);
  const found: RecordedMessage[] = [];
  for (const filter of LIFE_CYCLE) found.push(...(await backend.latest(filter, limit)).messages);
  found.sort((a, b) => a.receivedAt - b.receivedAt);
  for (const r of found) tracker.enqueue(fromRecord(r));
  tracker.drain();
  return found.length;
}
