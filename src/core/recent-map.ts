/**
 * A map that keeps only the entries set most recently: what a `Map` plus "delete
 * `keys().next()` once over capacity" does, at a constant cost per set.
 *
 * Why not that Map. V8 marks a deleted Map entry as a hole and only compacts at the next rehash,
 * so the first key is found by walking every hole left by earlier evictions. Evicting the oldest
 * on each set walks thousands of them: measured 6.7 µs per set at 10 000 string keys (0.13 µs
 * here), which was 6 % of a coordinator's CPU in the embedded put loop.
 *
 * How. A ring of the last `capacity` keys set, each with the sequence number of its set; the Map
 * holds a key's value and its latest sequence number. The ring slot a set reuses evicts its old
 * key unless that key was set again since (its Map entry carries a newer number). Every Map entry
 * has its latest set in the ring, so the Map never holds more than `capacity` entries.
 */
import { assert } from './assert.js';

export class RecentMap<K, V> {
  private readonly entries = new Map<K, { value: V; seq: number }>();
  private readonly ringKeys: (K | undefined)[];
  private readonly ringSeqs: Float64Array;
  private nextSeq = 0;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, 'a RecentMap holds at least one entry');
    this.ringKeys = new Array<K | undefined>(capacity).fill(undefined);
    this.ringSeqs = new Float64Array(capacity).fill(-1);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Sets `key`, forgetting the entry set longest ago if the map would exceed its capacity. */
  set(key: K, value: V): void {
    const seq = this.nextSeq++;
    const slot = seq % this.capacity;
    const old = this.ringKeys[slot];
    if (old !== undefined && this.entries.get(old)?.seq === this.ringSeqs[slot]) {
      this.entries.delete(old);
    }
    this.ringKeys[slot] = key;
    this.ringSeqs[slot] = seq;
    this.entries.set(key, { value, seq });
    assert(this.entries.size <= this.capacity, 'a RecentMap never exceeds its capacity');
  }
}
