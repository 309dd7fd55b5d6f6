/** timers.ts: a fired timer goes to its owner once; cancelled or unknown ids are ignored. */
import { describe, expect, it } from 'vitest';
import { Effects } from '../../src/core/effects.js';
import { type TimerOwner, Timers } from '../../src/core/timers.js';

function owner(): TimerOwner & { fired: number[] } {
  const fired: number[] = [];
  return { fired, onTimer: (timerId) => fired.push(timerId) };
}

function setup() {
  let nextId = 1;
  return { timers: new Timers(() => nextId++), out: new Effects() };
}

describe('Timers', () => {
  it('sets a timer with an allocated id and routes its firing to that owner only, once', () => {
    const { timers, out } = setup();
    const a = owner();
    const b = owner();
    const idA = timers.set(a, 50, out);
    const idB = timers.set(b, 70, out);
    expect(out.list).toEqual([
      { kind: 'set-timer', timerId: idA, delayMs: 50 },
      { kind: 'set-timer', timerId: idB, delayMs: 70 },
    ]);
    expect(timers.armed).toBe(2);
    expect(timers.fire(idA, out)).toBe(true);
    expect(a.fired).toEqual([idA]);
    expect(b.fired).toEqual([]);
    expect(timers.fire(idA, out)).toBe(false);
    expect(a.fired).toEqual([idA]);
    expect(timers.armed).toBe(1);
  });

  it('ignores a cancelled timer and an id it never armed', () => {
    const { timers, out } = setup();
    const a = owner();
    const id = timers.set(a, 10, out);
    timers.cancel(id, out);
    expect(out.list.at(-1)).toEqual({ kind: 'cancel-timer', timerId: id });
    expect(timers.fire(id, out)).toBe(false);
    expect(timers.fire(999, out)).toBe(false);
    expect(a.fired).toEqual([]);
    expect(timers.armed).toBe(0);
  });

  it('arms an owner-allocated id once, with a delay that is not negative', () => {
    const { timers, out } = setup();
    const a = owner();
    timers.arm(42, a, 0, out);
    expect(() => timers.arm(42, owner(), 5, out)).toThrow(/armed once/);
    expect(() => timers.arm(43, a, -1, out)).toThrow(/not negative/);
    expect(timers.fire(42, out)).toBe(true);
    // Once fired, the id is free again (the owner may re-arm it).
    timers.arm(42, a, 5, out);
    expect(timers.armed).toBe(1);
  });
});
