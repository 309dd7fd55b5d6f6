import { describe, expect, it } from 'vitest';
import { DEFAULT_TRANSPORT_CONFIG, validateTransportConfig } from '../../src/config.js';
import { nodeId } from '../../src/core/types.js';
import {
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
