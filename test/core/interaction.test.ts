/**
 * Golden scenario tests for the protocol core (after etcd-io/raft's interaction tests): each
 * file in test/core/testdata/ is a script of commands against a small cluster of NodeCores, and
 * stores after each command the trace it produced — messages, replies, persists, timers. The
 * runner replays every script and compares the trace with the file, line for line; a changed
 * line is a changed behaviour. They are the safety net for refactoring the core: a pure-shape
 * change must leave every file as it is.
 *
 * Adding a scenario: write `test/core/testdata/<concept>.txt` starting with `#` comment lines
 * that say what it shows, then commands, each followed by a `----` line (the command language is
 * documented in test/core/interaction/commands.ts), e.g.
 *
 *     cluster nodes=3 n=3 partitions=8
 *     ----
 *
 *     put n1 a x w=2
 *     ----
 *
 * then generate the expected output and read it critically before committing it:
 *
 *     REWRITE=1 npx vitest run test/core/interaction.test.ts
 *
 * The same command rewrites every file after an intended behaviour change; review the diff.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scenario } from './interaction/commands.js';
import { formatGolden, parseGolden } from './interaction/datadriven.js';

const TESTDATA = join(import.meta.dirname, 'testdata');
const REWRITE = process.env.REWRITE === '1';

/** Runs a file's commands in order; a command that throws fails with its file and line. */
function replay(file: string, text: string): string {
  const golden = parseGolden(text, file);
  const scenario = new Scenario();
  const outputs = golden.cases.map((c) => {
    try {
      return scenario.run(c.command);
    } catch (error) {
      throw new Error(`${file}:${c.line}: ${c.command}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
  return formatGolden(golden, outputs);
}

const files = readdirSync(TESTDATA)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('golden scenarios (test/core/testdata)', () => {
  it('has scenarios', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s', (file) => {
    const path = join(TESTDATA, file);
    const text = readFileSync(path, 'utf8');
    const actual = replay(file, text);
    if (REWRITE) writeFileSync(path, actual);
    else expect(actual, `${file} differs; REWRITE=1 regenerates it`).toBe(text);
  });
});
