/**
 * How `ringkv get` shows siblings: a count, then each value numbered. Text that is valid UTF-8
 * without control characters is printed as is; text with control characters (newlines, tabs)
 * is printed JSON-quoted so each sibling stays on one line; anything else as base64.
 */
const decoder = new TextDecoder('utf-8', { fatal: true });
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

export function formatSiblings(siblings: readonly { readonly value: string }[]): string {
  const lines = siblings.map((sibling, i) => `[${i + 1}] ${showValue(sibling.value)}`);
  const header = `${siblings.length} siblings (concurrent values; put with the context to resolve them):`;
  return `${[header, ...lines].join('\n')}\n`;
}

/** One base64-encoded value as a single printable line. */
export function showValue(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return `base64:${base64}`;
  }
  return CONTROL.test(text) ? JSON.stringify(text) : text;
}
