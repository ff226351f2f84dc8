/**
 * A binary min-heap keyed by a number, used to find the pending transfers whose timeout has
 * passed without scanning all of them. Ties pop in insertion order, which keeps expiry
 * deterministic across replays.
 */
interface Entry<T> {
  readonly key: number;
  readonly order: number;
  readonly value: T;
}

export class MinHeap<T> {
  private readonly entries: Entry<T>[] = [];
  private insertions = 0;

  get size(): number {
    return this.entries.length;
  }

  push(key: number, value: T): void {
    const entries = this.entries;
    entries.push({ key, order: this.insertions++, value });
    let index = entries.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(index, parent)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  peekKey(): number | undefined {
    return this.entries[0]?.key;
  }

  pop(): T | undefined {
    const entries = this.entries;
    const top = entries[0];
    if (top === undefined) return undefined;
    const last = entries.pop()!;
    if (entries.length > 0) {
      entries[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < entries.length && this.less(left, smallest)) smallest = left;
        if (right < entries.length && this.less(right, smallest)) smallest = right;
        if (smallest === index) break;
        this.swap(index, smallest);
        index = smallest;
      }
    }
    return top.value;
  }

  private less(a: number, b: number): boolean {
    const x = this.entries[a]!;
    const y = this.entries[b]!;
    return x.key < y.key || (x.key === y.key && x.order < y.order);
  }

  private swap(a: number, b: number): void {
    const entries = this.entries;
    const t = entries[a]!;
    entries[a] = entries[b]!;
    entries[b] = t;
  }
}
