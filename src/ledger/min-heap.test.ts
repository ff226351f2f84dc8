// Proves the heap pops in key order and, for equal keys, in insertion order (deterministic expiry).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.ts';

describe('MinHeap', () => {
  it('pops entries sorted by key, ties in insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (keys) => {
        const heap = new MinHeap<number>();
        keys.forEach((key, index) => heap.push(key, index));
        const popped: number[] = [];
        for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value);
        const expected = keys.map((key, index) => ({ key, index })).sort((a, b) => a.key - b.key || a.index - b.index).map((e) => e.index);
        expect(popped).toEqual(expected);
        expect(heap.size).toBe(0);
      }),
    );
  });
});
