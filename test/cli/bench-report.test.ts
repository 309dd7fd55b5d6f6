/**
 * `ringkv bench report` writes the command line, the version and the machine into the report.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { packageVersion } from '../../src/cli/version.js';

describe('ringkv bench report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts its provenance at the top of the report', async () => {
    const input = join(dir, 'staleness.json');
    const output = join(dir, 'report.html');
    writeFileSync(
      input,
      JSON.stringify({
        n: 3,
        r: 1,
        w: 1,
        consistency: [
          { t: 0, p: 0.6 },
          { t: 1, p: 0.99 },
          { t: 1000, p: 1 },
        ],
      }),
    );
    let err = '';
    const program = buildProgram({
      io: { out: () => {}, err: (text) => (err += text), isTty: false },
      output: { writeOut: () => {}, writeErr: () => {} },
    });
    await program.parseAsync(['bench', 'report', '--staleness', input, '--html', output], {
      from: 'user',
    });
    expect(err).toContain(`HTML report written to ${output}`);
    const html = readFileSync(output, 'utf8');
    // In-process, the command line is this test runner's argv; the real binary prints its own.
    expect(html).toMatch(/<dt>command<\/dt><dd><code>ringkv[^<]*<\/code><\/dd>/);
    expect(html).toContain(`<dt>ringkv</dt><dd><code>${packageVersion()}</code></dd>`);
    expect(html).toMatch(/<dt>machine<\/dt><dd><code>[^<]+ cores, [^<]+Node v\d+/);
    expect(html).toContain('log scale'); // t from 1 to 1000 ms
  });
});
