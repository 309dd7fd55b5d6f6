/**
 * A latency profile: one distribution per WARS message class (Bailis et al., "Probabilistically
 * Bounded Staleness for Practical Partial Quorums", VLDB 2012), in milliseconds:
 *
 *   { "w": DIST, "a": DIST, "r": DIST, "s": DIST }
 *
 *   w  write request, coordinator → replica          (ringkv message `replica-put`)
 *   a  its acknowledgement, replica → coordinator    (`replica-put-ack`)
 *   r  read request, coordinator → replica           (`replica-get`)
 *   s  read response, replica → coordinator          (`replica-get-reply`)
 *
 * DIST is the JSON of src/util/distributions.ts (`{"constant": 5}`, `{"exp": {"rate": 0.2}}`,
 * `{"pareto": {"xm": 1, "alpha": 2}}`, `{"lognormal": {"mu": 0, "sigma": 0.5}}`,
 * `{"mix": [{"weight": 9, "dist": …}, …]}`). A top-level `"description"` string is allowed and
 * kept; any other field is an error, so a typo never silently falls back to a default.
 */
import { readFileSync } from 'node:fs';
import type { PeerMessage } from '../core/messages.js';
import { type Dist, DistError, describeDist, parseDist } from '../util/distributions.js';

export type WarsClass = 'w' | 'a' | 'r' | 's';

export const WARS_CLASSES: readonly WarsClass[] = ['w', 'a', 'r', 's'];

/** The ringkv peer message each WARS class is. */
export const MESSAGE_OF_CLASS: Readonly<Record<WarsClass, PeerMessage['type']>> = {
  w: 'replica-put',
  a: 'replica-put-ack',
  r: 'replica-get',
  s: 'replica-get-reply',
};

export interface LatencyProfile {
  readonly w: Dist;
  readonly a: Dist;
  readonly r: Dist;
  readonly s: Dist;
  readonly description?: string;
}

/** A profile (file or JSON) is malformed; the message names the file and the field. */
export class ProfileError extends Error {
  override name = 'ProfileError';
}

/** Largest profile file read, in bytes: a profile is a few lines of JSON. */
export const PROFILE_BYTES_MAX = 1024 * 1024;

/** Validates user data as a profile; `source` (a file name) prefixes every message. */
export function parseProfile(raw: unknown, source = 'profile'): LatencyProfile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProfileError(`${source}: must be a JSON object with fields w, a, r, s`);
  }
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).filter(
    (name) => name !== 'description' && !(WARS_CLASSES as readonly string[]).includes(name),
  );
  if (unknown.length > 0) {
    throw new ProfileError(
      `${source}: unknown field ${JSON.stringify(unknown[0])} (fields are w, a, r, s, description)`,
    );
  }
  const description = fields.description;
  if (description !== undefined && typeof description !== 'string') {
    throw new ProfileError(`${source}: description must be a string`);
  }
  const dists = {} as Record<WarsClass, Dist>;
  for (const name of WARS_CLASSES) {
    if (!(name in fields)) {
      throw new ProfileError(
        `${source}: missing field ${JSON.stringify(name)} (the ${MESSAGE_OF_CLASS[name]} latency)`,
      );
    }
    dists[name] = parseClass(fields[name], name, source);
  }
  return description === undefined ? dists : { ...dists, description };
}

function parseClass(raw: unknown, name: WarsClass, source: string): Dist {
  try {
    return parseDist(raw);
  } catch (error) {
    if (!(error instanceof DistError)) throw error;
    // DistError paths start at `dist`; name the profile field instead.
    throw new ProfileError(`${source}: ${error.message.replace(/^dist/, name)}`);
  }
}

/** Reads and validates a profile file. */
export function loadProfile(path: string): LatencyProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ProfileError(`cannot read profile ${path}: ${why}`);
  }
  if (text.length > PROFILE_BYTES_MAX) {
    throw new ProfileError(`${path}: larger than ${PROFILE_BYTES_MAX} bytes; not a profile`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ProfileError(`${path}: not valid JSON (${why})`);
  }
  return parseProfile(raw, path);
}

/** One line per class, for reports: `w replica-put exp(mean 2ms)`. */
export function describeProfile(profile: LatencyProfile): string[] {
  return WARS_CLASSES.map(
    (name) => `${name}  ${MESSAGE_OF_CLASS[name].padEnd(17)} ${describeDist(profile[name])}`,
  );
}

/** The profile as per-message-type delays, the shape the worker runtime injects. */
export function messageDelaysOf(
  profile: LatencyProfile,
): Readonly<Partial<Record<PeerMessage['type'], Dist>>> {
  return Object.fromEntries(WARS_CLASSES.map((name) => [MESSAGE_OF_CLASS[name], profile[name]]));
}
