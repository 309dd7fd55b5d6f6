import { describe, expect, it } from 'vitest';
import {
  type Dist,
  DistError,
  describeDist,
  meanOf,
  parseDist,
  sampleDist,
} from '../../src/util/distributions.js';
import { Prng } from '../../src/util/prng.js';

const SAMPLES = 40_000;

function samples(dist: Dist, seed = 11): number[] {
  const prng = new Prng(seed);
  return Array.from({ length: SAMPLES }, () => sampleDist(dist, prng)).sort((a, b) => a - b);
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((sum, x) => sum + x, 0) / xs.length;
}

/** Relative error of an estimate against the analytic value. */
function rel(estimate: number, exact: number): number {
  return Math.abs(estimate - exact) / exact;
}

describe('distributions', () => {
  it('constant always gives its value', () => {
    const xs = samples({ constant: 7 });
    expect(xs[0]).toBe(7);
    expect(xs.at(-1)).toBe(7);
    expect(meanOf({ constant: 7 })).toBe(7);
  });

  it('exp matches its mean 1/rate and median ln2/rate', () => {
    const dist: Dist = { exp: { rate: 0.1 } };
    const xs = samples(dist);
    expect(meanOf(dist)).toBeCloseTo(10);
    expect(rel(mean(xs), 10)).toBeLessThan(0.03);
    expect(rel(quantile(xs, 0.5), 10 * Math.LN2)).toBeLessThan(0.03);
    expect(rel(quantile(xs, 0.9), 10 * Math.log(10))).toBeLessThan(0.03);
  });

  it('pareto matches its minimum, quantiles xm(1-q)^(-1/alpha) and mean', () => {
    const dist: Dist = { pareto: { xm: 2, alpha: 3 } };
    const xs = samples(dist);
    const q = (p: number) => 2 * (1 - p) ** (-1 / 3);
    expect(xs[0]).toBeGreaterThanOrEqual(2);
    expect(rel(quantile(xs, 0.5), q(0.5))).toBeLessThan(0.03);
    expect(rel(quantile(xs, 0.9), q(0.9))).toBeLessThan(0.04);
    expect(meanOf(dist)).toBeCloseTo(3);
    expect(rel(mean(xs), 3)).toBeLessThan(0.05);
  });

  it('pareto with alpha <= 1 has an infinite mean', () => {
    expect(meanOf({ pareto: { xm: 1, alpha: 1 } })).toBe(Number.POSITIVE_INFINITY);
    expect(meanOf({ pareto: { xm: 1, alpha: 0.5 } })).toBe(Number.POSITIVE_INFINITY);
  });

  it('lognormal matches its median e^mu, quartiles and mean e^(mu + sigma²/2)', () => {
    const dist: Dist = { lognormal: { mu: 1.5, sigma: 0.5 } };
    const xs = samples(dist);
    const z75 = 0.6744897501960817;
    expect(rel(quantile(xs, 0.5), Math.exp(1.5))).toBeLessThan(0.03);
    expect(rel(quantile(xs, 0.25), Math.exp(1.5 - 0.5 * z75))).toBeLessThan(0.03);
    expect(rel(quantile(xs, 0.75), Math.exp(1.5 + 0.5 * z75))).toBeLessThan(0.03);
    expect(meanOf(dist)).toBeCloseTo(Math.exp(1.5 + 0.125));
    expect(rel(mean(xs), meanOf(dist))).toBeLessThan(0.03);
  });

  it('mix picks components by weight', () => {
    const dist: Dist = {
      mix: [
        { weight: 3, dist: { constant: 1 } },
        { weight: 1, dist: { constant: 100 } },
      ],
    };
    const xs = samples(dist);
    const slow = xs.filter((x) => x === 100).length / xs.length;
    expect(Math.abs(slow - 0.25)).toBeLessThan(0.01);
    expect(meanOf(dist)).toBeCloseTo(25.75);
    expect(rel(mean(xs), 25.75)).toBeLessThan(0.03);
  });

  it('parses valid JSON and round-trips it', () => {
    const text =
      '{"mix":[{"weight":9,"dist":{"exp":{"rate":0.5}}},{"weight":1,"dist":{"pareto":{"xm":1,"alpha":1.5}}}]}';
    const dist = parseDist(JSON.parse(text));
    expect(JSON.stringify(dist)).toBe(text);
    expect(describeDist(dist)).toContain('pareto');
  });

  it.each([
    [null, 'must be an object'],
    [{}, 'exactly one of'],
    [{ exp: { rate: 1 }, constant: 1 }, 'exactly one of'],
    [{ gamma: 1 }, 'exactly one of'],
    [{ constant: -1 }, 'dist.constant must be at least 0'],
    [{ exp: { rate: 0 } }, 'dist.exp.rate must be positive'],
    [{ exp: { rate: '1' } }, 'dist.exp.rate must be a finite number'],
    [{ exp: { rate: 1, extra: 2 } }, 'unknown field extra'],
    [{ pareto: { xm: 1 } }, 'dist.pareto.alpha must be a finite number'],
    [{ lognormal: { mu: 1, sigma: -1 } }, 'dist.lognormal.sigma must be at least 0'],
    [{ mix: [] }, 'non-empty array'],
    [{ mix: [{ weight: 0, dist: { constant: 1 } }] }, 'needs a positive weight'],
    [{ mix: [{ weight: 1, dist: { exp: {} } }] }, 'dist.mix[0].dist.exp.rate'],
  ])('rejects %j with a clear error', (input, message) => {
    expect(() => parseDist(input)).toThrow(DistError);
    expect(() => parseDist(input)).toThrow(message);
  });

  it('bounds mix nesting', () => {
    let dist: unknown = { constant: 1 };
    for (let i = 0; i < 10; i++) dist = { mix: [{ weight: 1, dist }] };
    expect(() => parseDist(dist)).toThrow('nests deeper');
  });
});
