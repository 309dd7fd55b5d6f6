/**
 * Parsers for human-friendly option values (commander custom parsers; a bad value is a usage
 * error, exit 2): durations such as `250ms`, `1.5s`, `5m` or `2h` (parsed by `ms`), and rates
 * such as `1%` or `0.01`. A duration needs its unit: a bare `5` could mean 5 ms or 5 s, and a
 * wrong guess turns a timeout into nothing, so only `0` may go without one.
 */
import parseDuration from 'ms';
import { usageError } from './up-options.js';

const RATE = /^([0-9]+(?:\.[0-9]+)?)(%)?$/;

/** A duration in milliseconds, 0..maxMs, with its unit: `250ms`, `1.5s`, `5m`, `0`. */
export function durationMs(maxMs: number): (value: string) => number {
  return (value: string): number => {
    const text = value.trim();
    if (/^[0-9.]+$/.test(text) && Number(text) !== 0) {
      throw usageError(`${text} has no unit: write ${text}ms or ${text}s.`);
    }
    const ms = text === '' ? Number.NaN : parseDuration(text as parseDuration.StringValue);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > maxMs) {
      throw usageError(
        `Must be a duration between 0 and ${parseDuration(maxMs, { long: true })} ` +
          '(e.g. 500ms, 1.5s, 5m).',
      );
    }
    return ms;
  };
}

/** A probability 0..1, written as a percentage (`1%`, `0.5%`) or a fraction (`0.01`). */
export function rate(value: string): number {
  const match = RATE.exec(value.trim());
  const parsed = match === null ? Number.NaN : Number(match[1]) / (match[2] === '%' ? 100 : 1);
  if (!Number.isFinite(parsed) || parsed > 1) {
    throw usageError('Must be a percentage (0%..100%) or a fraction (0..1), such as 1% or 0.01.');
  }
  return parsed;
}

/** Formats a probability as a percentage without float noise: 0.01 → `1%`. */
export function formatRate(value: number): string {
  return `${Number((value * 100).toPrecision(6))}%`;
}
