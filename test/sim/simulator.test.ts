import { describe, expect, it } from 'vitest';
import { nodeId } from '../../src/core/types.js';
import { contextOf } from '../../src/core/version.js';
import { checkAll, finish, primaries, sim, values } from './helpers.js';

describe('Simulator', () => {
  it('writes and reads back on a healthy cluster, recording the history', () => {
    const s = sim();
    const c = s.client('c1');
    const put = c.put('k');
    expect(finish(s, put)?.ok).toBe(true);
    const get = c.get('k');
    expect(values(finish(s, get))).toEqual(['w1']);
    expect(s.history.dotsOf(put.op)).toHaveLength(1);
    expect(get.op.readDots).toEqual(s.history.dotsOf(put.op));
    s.runFor(1_000);
    expect(checkAll(s)).toEqual([]);
  });

  it('fails an attempt at once when its coordinator crashes, and retries elsewhere', () => {
    const s = sim({ diskLatency: { constant: 50 } });
    const c = s.client('c1');
    const put = c.put('k');
    s.runFor(10); // the request reached the coordinator; its persist is in flight
    s.crash(primaries(s, 'k')[0]!);
    finish(s, put);
    expect(put.op.outcome).toBe('ok');
    expect(put.op.attempts).toBe(2);
    expect(put.result?.ok && put.result.op === 'put' && put.result.coordinator).toBe(
      primaries(s, 'k')[1],
    );
    expect(s.faultCounts.get('crash')).toBe(1);
  });

  it('loses persists in flight at a crash and keeps completed ones', () => {
    const s = sim({ n: 1, w: 1, r: 1, diskLatency: { constant: 100 } });
    const c = s.client('c1');
    const [owner] = primaries(s, 'k');
    finish(s, c.put('k'));
    const storage = s.node(owner!).storage;
    expect(storage.get('k')?.siblings).toHaveLength(1);
    c.put('k', { context: contextOf(storage.get('k')!) });
    s.runFor(50);
    s.crash(owner!);
    s.runFor(500);
    expect(storage.get('k')?.siblings.map((x) => new TextDecoder().decode(x.value!))).toEqual([
      'w1',
    ]);
    s.restart(owner!);
    expect(s.node(owner!).actor).toBe(`${owner}.1`); // the durable actor survives
    s.node(owner!).crash();
    s.node(owner!).restart([], { wipe: true });
    expect(s.node(owner!).actor).toBe(`${owner}.3`);
  });

  it("holds a paused node's inputs and delivers them on resume", () => {
    const s = sim({ n: 1, w: 1, r: 1 });
    const [owner] = primaries(s, 'k');
    const c = s.client('c1');
    s.pause(owner!);
    const put = c.put('k');
    s.runFor(100);
    expect(put.op.outcome).toBe('pending');
    expect(s.node(owner!).storage.get('k')).toBeUndefined();
    s.resume(owner!);
    expect(finish(s, put)?.ok).toBe(true);
  });

  it('tells the other nodes about a crash after the detection delay: writes go to a stand-in', () => {
    const s = sim({ detectionDelay: { constant: 100 }, w: 3, r: 1 });
    const [first, second] = primaries(s, 'k');
    s.crash(second!);
    s.runFor(200);
    const put = s.client('c1').put('k');
    const result = finish(s, put);
    expect(result?.ok && result.op === 'put' && result.coordinator).toBe(first);
    expect(result?.ok && result.op === 'put' && result.sloppy).toBe(true);
  });

  it('shows a partition only as timeouts, and heals', () => {
    const s = sim({ w: 3, requestTimeoutMs: 300 });
    const prefs = primaries(s, 'k');
    s.partition([[prefs[0]!], s.ids.filter((id) => id !== prefs[0])]);
    const put = s.client('c1').put('k');
    finish(s, put, 60_000);
    expect(put.op.outcome).toBe('fail');
    expect(put.op.error).toBe('QUORUM');
    s.heal();
    s.runFor(1_000); // suspicion ends with the next probe round
    expect(finish(s, s.client('c1').put('k'))?.ok).toBe(true);
  });

  it("stretches timers by the node's timer rate (clock skew)", () => {
    const elapsed = (rate: number) => {
      const s = sim({
        w: 2,
        requestTimeoutMs: 1_000,
        retry: { attemptsMax: 1, delayBaseMs: 1, delayMaxMs: 1 },
      });
      const [first] = primaries(s, 'k');
      s.node(first!).timerRate = rate;
      s.network.isolate(first!);
      const put = s.client('c1').put('k');
      finish(s, put);
      return put.op.completeMs! - put.op.invokeMs;
    };
    expect(elapsed(1)).toBeCloseTo(1_000, 0);
    expect(elapsed(1.1)).toBeCloseTo(1_100, 0);
  });

  it('end to end: flags an acknowledged write lost with a wiped disk', () => {
    const s = sim({ n: 1, w: 1, r: 1 });
    const [owner] = primaries(s, 'k');
    finish(s, s.client('c1').put('k'));
    s.crash(owner!);
    s.restart(owner!, { wipe: true });
    s.runFor(1_000);
    const violations = checkAll(s);
    expect(violations.map((v) => v.rule)).toEqual(['lost-write']);
  });

  it('end to end: flags a deleted value brought back after its tombstone was reaped', () => {
    const s = sim({ n: 3, w: 3, r: 3 });
    const c = s.client('c1');
    finish(s, c.put('k'));
    const read = finish(s, c.get('k'));
    const stale = s.node(primaries(s, 'k')[2]!).storage.get('k')!;
    const context = read?.ok && read.op === 'get' && read.record ? contextOf(read.record) : [];
    expect(finish(s, c.delete('k', { context }))?.ok).toBe(true);
    finish(s, c.get('k')); // every replica holds the tombstone: the coordinator arms the reap
    s.runFor(s.options.tunables.limits.tombstoneGraceMs + 2_000);
    expect(s.dataSnapshot().get(primaries(s, 'k')[0]!)?.has('k')).toBe(false);
    expect(checkAll(s)).toEqual([]);
    s.node(primaries(s, 'k')[2]!).storage.apply([{ ns: 'data', key: 'k', record: stale }]);
    expect(checkAll(s).map((v) => v.rule)).toContain('resurrection');
  });

  it('routes a request to another live node when the whole preference list is down', () => {
    const s = sim({ n: 1, w: 1, r: 1 });
    const [owner] = primaries(s, 'k');
    s.crash(owner!);
    // The nodes learn of the crash (detection delay 50 ms) before the request: its one deadline
    // leaves no room for a retry after a coordinator that waits out its whole budget.
    s.runFor(100);
    const get = s.client('c1').get('k');
    const result = finish(s, get);
    expect(get.op.outcome).toBe('ok');
    expect(result?.ok && result.op === 'get' && result.coordinator).not.toBe(owner);
  });
});

describe('Simulator determinism', () => {
  it('replays the same events for the same seed', () => {
    const trace = (seed: number) => {
      const s = sim(
        { network: { lossRate: 0.1, duplicateRate: 0.1, latency: { exp: { rate: 0.2 } } } },
        seed,
      );
      const c = s.client('c1');
      for (let i = 0; i < 20; i++) c.put(`k${i % 3}`);
      s.crash(nodeId('n2'));
      s.runFor(5_000);
      return `${s.history.serialize()}${s.eventsRun} ${s.prng.draws}`;
    };
    expect(trace(5)).toBe(trace(5));
    expect(trace(5)).not.toBe(trace(6));
  });
});
