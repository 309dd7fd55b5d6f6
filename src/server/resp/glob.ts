/**
 * Redis glob patterns (what CONFIG GET, KEYS and SCAN MATCH mean by a pattern), matched
 * case-insensitively: `*` any run, `?` one character, `[abc]`, `[a-c]`, `[^a-c]` a class, `\x` a
 * literal x (in a class too); everything else, regex metacharacters included, is literal. The
 * first unescaped `]` closes a class (`[]` matches nothing, as in Redis); an unclosed `[` is a
 * literal `[` (Redis would read the rest of the pattern as the class).
 *
 * Not a RegExp: a client picks the pattern, and a backtracking regex of it is a denial of
 * service. `*` × 18 then `x` took 46 s to fail against one 16-character name as `^.*…x$`, and a
 * long enough pattern overflowed the regex stack. Here a run of `*` is one token, matching
 * backtracks only to the last `*` (O(pattern × text)), and a pattern needing more characters than
 * the text has fails before matching.
 */

type Token =
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'char'; readonly char: string }
  | { readonly kind: 'class'; readonly negated: boolean; readonly items: readonly ClassItem[] };

/** A class member: one character (`from` = `to`) or a range. */
interface ClassItem {
  readonly from: string;
  readonly to: string;
}

/** A predicate for `glob`, case-insensitive; build it once per pattern, call it per name. */
export function globMatcher(glob: string): (text: string) => boolean {
  const tokens = tokenize(glob.toLowerCase());
  let fixed = 0;
  for (const token of tokens) if (token.kind !== 'star') fixed++;
  return (text) => {
    const lower = text.toLowerCase();
    return fixed <= lower.length && matchTokens(tokens, lower);
  };
}

function tokenize(glob: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'one' });
    else if (c === '\\' && i + 1 < glob.length) tokens.push({ kind: 'char', char: glob[++i]! });
    else if (c === '[' && classEnd(glob, i) !== -1) {
      const end = classEnd(glob, i);
      tokens.push(classOf(glob.slice(i + 1, end)));
      i = end;
    } else tokens.push({ kind: 'char', char: c });
  }
  return tokens;
}

/** Index of the `]` closing the class opened at `open` (escapes skipped), or -1. */
function classEnd(glob: string, open: number): number {
  for (let j = open + 1; j < glob.length; j++) {
    if (glob[j] === '\\') j++;
    else if (glob[j] === ']') return j;
  }
  return -1;
}

/** The body of `[…]`: an optional leading `^`, then characters, `a-z` ranges and `\x` escapes. */
function classOf(body: string): Token {
  const negated = body.startsWith('^');
  const items: ClassItem[] = [];
  for (let i = negated ? 1 : 0; i < body.length; i++) {
    let from = body[i]!;
    if (from === '\\' && i + 1 < body.length) from = body[++i]!;
    if (body[i + 1] === '-' && i + 2 < body.length) {
      let to = body[i + 2]!;
      i += 2;
      if (to === '\\' && i + 1 < body.length) to = body[++i]!;
      items.push(from <= to ? { from, to } : { from: to, to: from });
    } else items.push({ from, to: from });
  }
  return { kind: 'class', negated, items };
}

function matchesOne(token: Token, c: string): boolean {
  switch (token.kind) {
    case 'one':
      return true;
    case 'char':
      return token.char === c;
    case 'class':
      return token.items.some(({ from, to }) => from <= c && c <= to) !== token.negated;
    case 'star':
      return false;
  }
}

/** Whole-text match; on a mismatch, the last `*` takes one more character (never further back). */
function matchTokens(tokens: readonly Token[], text: string): boolean {
  let t = 0;
  let s = 0;
  let starAt = -1; // the token index just after the last `*`
  let starText = 0; // where that `*`'s run currently ends in the text
  while (s < text.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      starAt = ++t;
      starText = s;
    } else if (token !== undefined && matchesOne(token, text[s]!)) {
      t++;
      s++;
    } else if (starAt !== -1) {
      t = starAt;
      s = ++starText;
    } else return false;
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}
