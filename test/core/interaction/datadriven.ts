/**
 * The golden file format (after cockroachdb/datadriven, as etcd-io/raft uses it): lines starting
 * with `#` are comments, a command is one line, `----` ends it, and the expected output follows
 * up to the next blank line (output never contains a blank line). Comments and blank lines
 * between cases are kept as they are when a file is rewritten.
 */

export interface Case {
  /** Comment and blank lines before the command, verbatim. */
  readonly preamble: readonly string[];
  readonly command: string;
  /** 1-based line of the command in its file, for error messages. */
  readonly line: number;
  readonly expected: readonly string[];
}

export interface GoldenFile {
  readonly cases: readonly Case[];
  /** Comment and blank lines after the last case. */
  readonly trailer: readonly string[];
}

const SEPARATOR = '----';

export function parseGolden(text: string, file: string): GoldenFile {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const cases: Case[] = [];
  let preamble: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      continue;
    }
    if (lines[i + 1] !== SEPARATOR)
      throw new Error(`${file}:${i + 1}: expected ${SEPARATOR} after a command`);
    const expected: string[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j]!.trim() !== ''; j++) expected.push(lines[j]!);
    cases.push({ preamble, command: line, line: i + 1, expected });
    preamble = [];
    i = j - 1;
  }
  return { cases, trailer: preamble };
}

/** The file text with each case's expected block replaced by `outputs[i]`. */
export function formatGolden(
  golden: GoldenFile,
  outputs: ReadonlyArray<readonly string[]>,
): string {
  const lines: string[] = [];
  golden.cases.forEach((c, i) => {
    const output = outputs[i]!;
    if (output.some((line) => line.trim() === ''))
      throw new Error(`${c.command}: blank output line`);
    lines.push(...c.preamble, c.command, SEPARATOR, ...output);
    // Cases are separated by a blank line; keep one if the preamble of the next has none.
    const next = golden.cases[i + 1];
    if (next !== undefined && next.preamble[0]?.trim() !== '') lines.push('');
  });
  lines.push(...golden.trailer);
  return `${lines.join('\n')}\n`;
}
