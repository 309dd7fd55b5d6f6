/**
 * One-line summaries of what crosses the simulated network and disk, for debugging a failing
 * seed (`npm run sim -- --seed N --trace KEY`). Generic over message types: it shows a
 * message's type, key, ids and the dots of any record it carries.
 */
import type { KeyRecord, Sibling } from '../core/types.js';

function dotsOf(record: KeyRecord | null | undefined): string {
  if (record === null || record === undefined) return 'none';
  const show = (s: Sibling) => `${s.dot[0]}:${s.dot[1]}${s.value === null ? '†' : ''}`;
  return `[${record.siblings.map(show).join(' ')}]`;
}

/** The key a message or request is about, if it names one. */
export function keyOf(x: unknown): string | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  if (typeof o.key === 'string') return o.key;
  if (typeof o.request === 'object') return keyOf(o.request);
  return null;
}

export function summarize(x: unknown): string {
  if (typeof x !== 'object' || x === null) return String(x);
  const o = x as Record<string, unknown>;
  const parts = [String(o.type ?? o.op ?? o.kind ?? '?')];
  const fields = [
    'key',
    'opId',
    'fwdId',
    'batchId',
    'hintFor',
    'error',
    'rid',
    'version',
    'claimant',
  ];
  for (const field of fields) {
    if (o[field] !== undefined) parts.push(`${field}=${String(o[field])}`);
  }
  if (o.record !== undefined) parts.push(`record=${dotsOf(o.record as KeyRecord | null)}`);
  if (Array.isArray(o.dots))
    parts.push(`dots=${o.dots.map((d: [string, number]) => `${d[0]}:${d[1]}`).join(',')}`);
  if (Array.isArray(o.entries)) {
    const entries = o.entries as Array<{ key: string; record: KeyRecord }>;
    parts.push(`entries=${entries.map((e) => `${e.key}${dotsOf(e.record)}`).join(',')}`);
  }
  if (typeof o.change === 'object' && o.change !== null) parts.push(changeSummary(o.change));
  if (typeof o.state === 'object' && o.state !== null) parts.push(stateSummary(o.state));
  if (typeof o.request === 'object') parts.push(`(${summarize(o.request)})`);
  if (typeof o.result === 'object') parts.push(`-> ${summarize(o.result)}`);
  if (Array.isArray(o.context))
    parts.push(`ctx=${o.context.map((d: [string, number]) => `${d[0]}:${d[1]}`).join(',')}`);
  return parts.join(' ');
}

function changeSummary(change: object): string {
  const c = change as Record<string, unknown>;
  return `${String(c.kind)} ${String(c.node)}`;
}

/** A ring state as `ring v3 by n2 (changing)`: its version, claimant and whether a change runs. */
function stateSummary(state: object): string {
  const s = state as Record<string, unknown>;
  const running = s.next === null ? 'committed' : 'changing';
  return `ring v${String(s.version)} by ${String(s.claimant)} (${running})`;
}

export function recordSummary(record: KeyRecord | null | undefined): string {
  return dotsOf(record);
}
