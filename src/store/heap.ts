/**
 * Small ordering helpers for the store: a binary heap with a caller-given order, and selection
 * of the k smallest items without a full sort.
 */

export class MinHeap<T> {
  private items: T[];

  /** `less(a, b)`: a comes out before b. Takes ownership of `items` (heapified in place). */
  constructor(
    private readonly less: (a: T, b: T) => boolean,
    items: T[] = [],
  ) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i] as T, items[parent] as T)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Replace the top item (cheaper than pop + push). */
  replaceTop(item: T): void {
    this.items[0] = item;
    this.down(0);
  }

  /** Keep only the items for which `keep` is true. */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Replace each item by `to(item)`, which must keep the order (e.g. renumbered slots). */
  remap(to: (item: T) => T): void {
    const items = this.items;
    for (let i = 0; i < items.length; i++) items[i] = to(items[i] as T);
  }

  private down(start: number): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.less(items[l] as T, items[best] as T)) best = l;
      if (r < n && this.less(items[r] as T, items[best] as T)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private swap(i: number, j: number): void {
    const t = this.items[i] as T;
    this.items[i] = this.items[j] as T;
    this.items[j] = t;
  }
}

/** The k first items in `less` order, in that order. O(n + k log n); reorders `items`. */
export function firstK<T>(items: T[], k: number, less: (a: T, b: T) => boolean): T[] {
  const heap = new MinHeap(less, items);
  const out: T[] = [];
  while (out.length < k && heap.size > 0) out.push(heap.pop() as T);
  return out;
}
