/**
 * Latency distributions in milliseconds, as plain JSON-able data so scenarios can be read from
 * user files and printed in reports:
 *
 *   { "constant": 5 }                                   always 5 ms
 *   { "exp": { "rate": 0.1 } }                          exponential, mean 1 / rate = 10 ms
 *   { "pareto": { "xm": 2, "alpha": 1.5 } }             xm / U^(1/alpha): heavy tail, min xm
 *   { "lognormal": { "mu": 1.6, "sigma": 0.5 } }        e^(mu + sigma·Z), Z standard normal
 *   { "mix": [{ "weight": 9, "dist": … }, …] }          one component, chosen by weight
 *
 * Sampling draws only from the run's Prng, so a seed reproduces every latency.
 */
import { assert } from '../core/assert.js';
import type { Prng } from './prng.js';

export type Dist =
  | { readonly constant: number }
  | { readonly exp: { readonly rate: number } }
  | { readonly pareto: { readonly xm: number; readonly alpha: number } }
  | { readonly lognormal: { readonly mu: number; readonly sigma: number } }
  | { readonly mix: ReadonlyArray<{ readonly weight: number; readonly dist: Dist }> };

/** A distribution read from user input is malformed; the message names where. */
export class DistError extends Error {
  override name = 'DistError';
}

/** How deeply `mix` may nest; bounds parsing and sampling recursion. */
export const DIST_DEPTH_MAX = 8;
/** Most components one `mix` may have. */
export const MIX_COMPONENTS_MAX = 64;

const KINDS = ['constant', 'exp', 'pareto', 'lognormal', 'mix'] as const;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(x: unknown, path: string, check: (n: number) => boolean, rule: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new DistError(`${path} must be a finite number, got ${JSON.stringify(x) ?? 'undefined'}`);
  }
  if (!check(x)) throw new DistError(`${path} must be ${rule}, got ${x}`);
  return x;
}

function params(x: unknown, path: string, names: readonly string[]): Record<string, unknown> {
  if (!isObject(x)) throw new DistError(`${path} must be an object with ${names.join(', ')}`);
  const extra = Object.keys(x).filter((k) => !names.includes(k));
  if (extra.length > 0) throw new DistError(`${path} has unknown field ${extra[0]}`);
  return x;
}

const positive = (n: number) => n > 0;
const nonNegative = (n: number) => n >= 0;

function parseMix(x: unknown, path: string, depth: number): Dist {
  if (!Array.isArray(x) || x.length === 0) {
    throw new DistError(`${path} must be a non-empty array of { weight, dist }`);
  }
  if (x.length > MIX_COMPONENTS_MAX) {
    throw new DistError(`${path} has ${x.length} components, over ${MIX_COMPONENTS_MAX}`);
  }
  const mix = x.map((item: unknown, i) => {
    const p = params(item, `${path}[${i}]`, ['weight', 'dist']);
    const weight = num(p.weight, `${path}[${i}].weight`, nonNegative, 'at least 0');
    return { weight, dist: parseAt(p.dist, `${path}[${i}].dist`, depth + 1) };
  });
  if (!mix.some((c) => c.weight > 0)) throw new DistError(`${path} needs a positive weight`);
  return { mix };
}

function parseAt(x: unknown, path: string, depth: number): Dist {
  if (depth > DIST_DEPTH_MAX)
    throw new DistError(`${path}: mix nests deeper than ${DIST_DEPTH_MAX}`);
  if (!isObject(x))
    throw new DistError(`${path} must be an object like { "exp": { "rate": 0.1 } }`);
  const keys = Object.keys(x);
  const kind = keys[0] as (typeof KINDS)[number];
  if (keys.length !== 1 || !KINDS.includes(kind)) {
    throw new DistError(
      `${path} must have exactly one of ${KINDS.join(', ')}; got ${keys.join(', ') || 'none'}`,
    );
  }
  const at = `${path}.${kind}`;
  switch (kind) {
    case 'constant':
      return { constant: num(x.constant, at, nonNegative, 'at least 0') };
    case 'exp': {
      const p = params(x.exp, at, ['rate']);
      return { exp: { rate: num(p.rate, `${at}.rate`, positive, 'positive') } };
    }
    case 'pareto': {
      const p = params(x.pareto, at, ['xm', 'alpha']);
      const xm = num(p.xm, `${at}.xm`, positive, 'positive');
      return { pareto: { xm, alpha: num(p.alpha, `${at}.alpha`, positive, 'positive') } };
    }
    case 'lognormal': {
      const p = params(x.lognormal, at, ['mu', 'sigma']);
      const mu = num(p.mu, `${at}.mu`, () => true, 'finite');
      return { lognormal: { mu, sigma: num(p.sigma, `${at}.sigma`, nonNegative, 'at least 0') } };
    }
    case 'mix':
      return parseMix(x.mix, at, depth);
  }
}

/** Validates user data as a Dist; throws a DistError naming the first problem. */
export function parseDist(x: unknown): Dist {
  return parseAt(x, 'dist', 0);
}

/** A standard normal sample (Box–Muller, cosine branch). */
function normal(prng: Prng): number {
  const u1 = 1 - prng.next01(); // (0, 1]: the log is finite
  const u2 = prng.next01();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** One sample in ms (non-negative; Infinity never, though pareto tails get very large). */
export function sampleDist(dist: Dist, prng: Prng): number {
  let current = dist;
  for (let depth = 0; depth <= DIST_DEPTH_MAX; depth++) {
    if ('constant' in current) return current.constant;
    if ('exp' in current) return -Math.log(1 - prng.next01()) / current.exp.rate;
    if ('pareto' in current) {
      const { xm, alpha } = current.pareto;
      return xm / (1 - prng.next01()) ** (1 / alpha);
    }
    if ('lognormal' in current) {
      const { mu, sigma } = current.lognormal;
      return Math.exp(mu + sigma * normal(prng));
    }
    const mix = current.mix;
    current = mix[prng.pickWeighted(mix.map((c) => c.weight))]!.dist;
  }
  assert(false, 'a distribution nests at most DIST_DEPTH_MAX mixes');
}

/** The analytic mean in ms (Infinity for a pareto with alpha <= 1). */
export function meanOf(dist: Dist): number {
  if ('constant' in dist) return dist.constant;
  if ('exp' in dist) return 1 / dist.exp.rate;
  if ('pareto' in dist) {
    const { xm, alpha } = dist.pareto;
    return alpha <= 1 ? Number.POSITIVE_INFINITY : (alpha * xm) / (alpha - 1);
  }
  if ('lognormal' in dist) return Math.exp(dist.lognormal.mu + dist.lognormal.sigma ** 2 / 2);
  const total = dist.mix.reduce((sum, c) => sum + c.weight, 0);
  assert(total > 0, 'a mix has a positive weight');
  return dist.mix.reduce(
    (sum, c) => (c.weight === 0 ? sum : sum + (c.weight / total) * meanOf(c.dist)),
    0,
  );
}

/** A short human form, for reports: `exp(mean 10ms)`. */
export function describeDist(dist: Dist): string {
  const r = (x: number) => Number(x.toPrecision(3));
  if ('constant' in dist) return `constant(${r(dist.constant)}ms)`;
  if ('exp' in dist) return `exp(mean ${r(1 / dist.exp.rate)}ms)`;
  if ('pareto' in dist) return `pareto(xm ${r(dist.pareto.xm)}ms, alpha ${r(dist.pareto.alpha)})`;
  if ('lognormal' in dist)
    return `lognormal(mu ${r(dist.lognormal.mu)}, sigma ${r(dist.lognormal.sigma)})`;
  return `mix(${dist.mix.map((c) => `${r(c.weight)}:${describeDist(c.dist)}`).join(', ')})`;
}
