/**
 * The one order of keys that storage engines (`entries()`), the simulator's storage and the
 * core agree on: by code point, which is the order of their UTF-8 bytes (lmdb's order).
 * JavaScript's default string order compares UTF-16 code units instead, and puts astral
 * characters (surrogate pairs) below U+E000..U+FFFF.
 */

/**
 * Maps a UTF-16 code unit so that comparing mapped units orders well-formed strings by code
 * point: surrogates (astral characters) move above U+E000..U+FFFF (ICU's "fix-up" trick).
 */
function codePointOrderUnit(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Orders keys by code point, i.e. by UTF-8 bytes. Negative when a < b. */
export function compareStorageKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const unitA = a.charCodeAt(i);
    const unitB = b.charCodeAt(i);
    if (unitA !== unitB) return codePointOrderUnit(unitA) - codePointOrderUnit(unitB);
  }
  return a.length - b.length;
}
