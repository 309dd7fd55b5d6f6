/** Comparing a secret someone sent with the one configured, without leaking it through timing. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether `given` is `token`, compared in constant time whatever the lengths; empty never matches. */
export function tokenMatches(given: string, token: string): boolean {
  // Digests of equal length make the comparison constant-time whatever the lengths given.
  const same = timingSafeEqual(digest(given), digest(token));
  return given.length > 0 && same;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
