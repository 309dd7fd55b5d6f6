import { describe, expect, it } from 'vitest';
import { DEFAULT_TRANSPORT_CONFIG, validateTransportConfig } from '../../src/config.js';
import { nodeId } from '../../src/core/types.js';
import {
  ANY_NODE,
  ASK_LANE,
  checkAnswer,
  checkHello,
  type Expected,
  type Hello,
} from '../../src/transport/handshake.js';
import { backoffDelayMs } from '../../src/transport/peer-connection.js';

const expected: Expected = { version: 1, cluster: 'c1', self: nodeId('b') };
const hello: Hello = {
  ringkv: 'hello',
  version: 1,
  cluster: 'c1',
  from: 'a',
  to: 'b',
  lane: 'quorum',
  incarnation: '0123456789abcdef',
};

describe('checkHello', () => {
  it('accepts a matching hello', () => {
    expect(checkHello(hello, expected)).toEqual({ ok: true, value: hello });
  });

  it('accepts an ask to any node, and to this one, only on the ask lane', () => {
    const ask = { ...hello, lane: ASK_LANE, to: ANY_NODE };
    expect(checkHello(ask, expected)).toEqual({ ok: true, value: ask });
    expect(checkHello({ ...ask, to: 'b' }, expected).ok).toBe(true);
    expect(checkHello({ ...ask, to: 'c' }, expected)).toEqual({
      ok: false,
      reason: 'dialed c, reached b',
    });
    expect(checkHello({ ...hello, to: ANY_NODE }, expected)).toEqual({
      ok: false,
      reason: 'dialed *, reached b',
    });
  });

  it('an asker takes the welcome of whichever valid node answers', () => {
    const welcome = { ringkv: 'welcome', version: 1, node: 'n9', incarnation: '0123456789abcdef' };
    expect(checkAnswer(welcome, expected, ANY_NODE)).toEqual({
      ok: true,
      value: '0123456789abcdef',
    });
    expect(checkAnswer({ ...welcome, node: '../x' }, expected, ANY_NODE).ok).toBe(false);
  });

  it.each([
    [null, 'the first frame is not a hello'],
    [[hello], 'the first frame is not a hello'],
    [{ ...hello, ringkv: 'welcome' }, 'the first frame is not a hello'],
    [{ ...hello, version: 2 }, 'protocol version 2 is not 1'],
    [{ ...hello, cluster: 'c2' }, 'cluster name does not match'],
    [{ ...hello, from: '../x' }, 'the sender id is not a valid node id'],
    [{ ...hello, from: 'b' }, 'a node does not dial itself'],
    [{ ...hello, to: 'c' }, 'dialed c, reached b'],
    [{ ...hello, lane: 'fast' }, 'unknown lane'],
    [{ ...hello, incarnation: undefined }, 'the hello names no incarnation'],
    [{ ...hello, incarnation: 'NOT-HEX!' }, 'the hello names no incarnation'],
  ])('refuses %j', (value, reason) => {
    expect(checkHello(value, expected)).toEqual({ ok: false, reason });
  });
});

describe('checkAnswer', () => {
  const peer = nodeId('b');
  const incarnation = 'fedcba9876543210';
  it('accepts the welcome of the node dialed, and returns its incarnation', () => {
    expect(
      checkAnswer({ ringkv: 'welcome', version: 1, node: 'b', incarnation }, expected, peer),
    ).toEqual({ ok: true, value: incarnation });
  });

  it.each([
    [{ ringkv: 'welcome', version: 1, node: 'c', incarnation }, 'dialed b, reached c'],
    [{ ringkv: 'welcome', version: 3, node: 'b', incarnation }, 'protocol version 3 is not 1'],
    [{ ringkv: 'welcome', version: 1, node: 'b' }, 'the welcome names no incarnation'],
    [{ ringkv: 'refused', reason: 'x'.repeat(1000) }, `refused by the peer: ${'x'.repeat(200)}`],
    ['welcome', 'the answer is not a handshake frame'],
  ])('refuses %j', (value, reason) => {
    expect(checkAnswer(value, expected, peer)).toEqual({ ok: false, reason });
  });
});

describe('backoffDelayMs', () => {
  const config = {
    ...DEFAULT_TRANSPORT_CONFIG,
    reconnectDelayBaseMs: 100,
    reconnectDelayMaxMs: 5000,
  };
  it.each([
    [0, 0, 50],
    [0, 0.999_999, 100],
    [3, 0, 400],
    [3, 1, 800],
    [6, 1, 5000], // 6400 capped
    [1000, 0.5, 3750], // the exponent is capped too
  ])('attempt %d with draw %d waits %d ms', (attempt, draw, ms) => {
    expect(backoffDelayMs(config, attempt, () => draw)).toBeCloseTo(ms, 0);
  });
});

describe('validateTransportConfig', () => {
  it('accepts the defaults and refuses out-of-range fields, naming them', () => {
    expect(() => validateTransportConfig(DEFAULT_TRANSPORT_CONFIG)).not.toThrow();
    expect(() =>
      validateTransportConfig({ ...DEFAULT_TRANSPORT_CONFIG, sendQueueBytesMax: 1024 }),
    ).toThrow(/sendQueueBytesMax must be an integer between 33554432/);
    expect(() =>
      validateTransportConfig({ ...DEFAULT_TRANSPORT_CONFIG, reconnectDelayMaxMs: 1 }),
    ).toThrow(/reconnectDelayMaxMs/);
    expect(() =>
      validateTransportConfig({ ...DEFAULT_TRANSPORT_CONFIG, handshakeTimeoutMs: 0.5 }),
    ).toThrow(/handshakeTimeoutMs/);
  });
});
