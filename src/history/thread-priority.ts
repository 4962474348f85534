/**
 * The history writers' threads run at the lowest priority: under CPU contention (a flood on a
 * small machine or a container's CPU quota) the kernel then gives the CPU to ingest first, which
 * never blocks, and recording takes what is left; a writer that falls behind fills its bounded
 * queue, which drops the oldest records and counts them. With CPU to spare (an idle moment of the
 * ingest thread, another core) the priority changes nothing. Nice 19 rather than 10: at 10 the
 * kernel still gave the writer about a tenth of a contended core (CFS weights 110 against 1,024),
 * taken from ingest during a flood (docs/BENCHMARKS.md, History).
 *
 * Linux applies setpriority(PRIO_PROCESS, tid) to that one thread; its id is the last part of
 * /proc/thread-self (`{pid}/task/{tid}`). Raising the nice value needs no privilege (the image
 * drops every capability). Elsewhere, or if refused, the thread keeps the default priority.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value of a history writer thread (0 is the default, 19 the lowest: see above). */
export const WRITER_NICE = 19;

/** Lower the calling thread's priority to WRITER_NICE; whether it was applied. */
export function lowerThisThread(nice = WRITER_NICE): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
