/**
 * The body of a 300 reply, `{"siblings":[{"value":"<base64>","expiresAtMs":<ms>|null},…]}`, as
 * bytes. Built as text from its ASCII parts rather than JSON.stringify'd: a GET of a key with
 * siblings carries every value in base64 (kilobytes each), and stringify scanned all of it for
 * characters to escape and the UTF-8 encoding scanned it again, on the front's thread, per get.
 * base64 and integers need no escaping, so the text is the same JSON.stringify would give.
 */
export function siblingsBody(
  values: readonly Uint8Array[],
  expiresAtMs: readonly (number | null | undefined)[],
): Buffer {
  let text = '{"siblings":[';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const base64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    const deadline = expiresAtMs[i] ?? null;
    const at = deadline === null ? 'null' : JSON.stringify(deadline);
    text += `${i === 0 ? '' : ','}{"value":"${base64}","expiresAtMs":${at}}`;
  }
  return Buffer.from(`${text}]}`, 'latin1');
}
