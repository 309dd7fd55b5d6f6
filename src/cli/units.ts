/**
 * Parsers for human-friendly option values (commander custom parsers; a bad value is a usage
 * error, exit 2): durations such as `5ms`, `1.5s` or `5` (milliseconds), and rates such as `1%`
 * or `0.01`.
 */
import { usageError } from './up-options.js';

const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s)?$/;
const RATE = /^([0-9]+(?:\.[0-9]+)?)(%)?$/;

/** A duration in milliseconds, 0..maxMs: `250`, `250ms`, `1.5s`. */
export function durationMs(maxMs: number): (value: string) => number {
  return (value: string): number => {
    const match = DURATION.exec(value.trim());
    const ms = match === null ? Number.NaN : Number(match[1]) * (match[2] === 's' ? 1000 : 1);
    if (!Number.isFinite(ms) || ms > maxMs) {
      throw usageError(`Must be a duration between 0 and ${maxMs} ms, such as 5ms or 1.5s.`);
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
