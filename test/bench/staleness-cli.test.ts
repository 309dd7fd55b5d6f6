/**
 * `ringkv bench staleness` in-process: option parsing, the table, the JSON shape the issue
 * specifies (the HTML report and the matrix read it), and usage errors (exit 2).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ringkv-staleness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  return runCli(['bench', 'staleness', ...args]);
}

describe('ringkv bench staleness', () => {
  it('prints the table and writes the JSON of the issue', async () => {
    const json = join(dir, 'out.json');
    const args = ['--n', '3', '--r', '1', '--w', '1', '--profile', 'wan', '--trials', '20000'];
    const { code, out } = await run([...args, '--t', '10,0,5', '--json', json]);
    expect(code).toBe(0);
    expect(out).toMatch(/^N=3 R=1 W=1 \(R\+W<=N\) {2}mode sim, topology pbs/);
    expect(out).toContain('k-staleness');
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result).toMatchObject({ n: 3, r: 1, w: 1, mode: 'sim', trials: 20_000 });
    expect(result.readSpeculateMs).toBe(20); // the config default: targeted reads
    expect(result.consistency.map((point: { t: number }) => point.t)).toEqual([0, 5, 10]);
    for (const point of result.consistency) expect(point.p).toBeGreaterThan(0);
    expect(result.t999).toBeGreaterThan(10);
    for (const kind of ['read', 'write']) {
      expect(Object.keys(result.latency[kind])).toEqual(
        expect.arrayContaining(['p50', 'p99', 'p999']),
      );
    }
    expect(result.kStaleness).toHaveLength(5);
    expect(result.kStaleness[0]).toEqual({ k: 1, p: expect.closeTo(1 / 3, 9) });
  });

  it('reads a profile file and runs the core mode', async () => {
    const file = join(dir, 'slow-writes.json');
    const one = { constant: 1 };
    writeFileSync(file, JSON.stringify({ w: { constant: 10 }, a: one, r: one, s: one }));
    const { code, out } = await run([
      ...['--profile', file, '--mode', 'core', '--trials', '20', '--t', '0,9', '--r', '2'],
    ]);
    expect(code).toBe(0);
    expect(out).toContain(
      'mode core, topology local-write, read speculate 20 ms, 4 nodes, 20 trials per t',
    );
    expect(out).toContain('profile slow-writes');
  });

  it('models and runs the read path --read-speculate-ms asks for', async () => {
    // local-write R=1 W=1 on the wan profile: a get asking the writer first is far fresher
    // than one answered by the fastest of all three.
    const args = ['--profile', 'wan', '--topology', 'local-write', '--trials', '20000', '--t', '0'];
    const p0 = async (speculate: string) => {
      const json = join(dir, `speculate-${speculate}.json`);
      const { code, out } = await run([...args, '--read-speculate-ms', speculate, '--json', json]);
      expect(code).toBe(0);
      expect(out).toContain(`read speculate ${speculate} ms`);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result.readSpeculateMs).toBe(Number(speculate));
      return result.consistency[0].p as number;
    };
    expect(await p0('1000')).toBeGreaterThan((await p0('0')) + 0.2);
  });

  it('rejects bad options with exit code 2', async () => {
    const bad = [
      ['--mode', 'fast'],
      ['--t', '1,x'],
      ['--r', '4'],
      ['--mode', 'real', '--topology', 'pbs'],
      ['--mode', 'core', '--nodes', '3'],
      ['--profile', join(dir, 'nope.json')],
      ['--read-speculate-ms', '-1'],
      ['--read-speculate-ms', '2.5'],
      ['--read-speculate-ms', '600001'],
      ['--mode', 'real', '--read-speculate-ms', '30000'],
    ];
    for (const args of bad) {
      const { code, err } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).not.toBe('');
    }
    const file = join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify({ w: { exp: { rate: 0 } }, a: {}, r: {}, s: {} }));
    const { code, err } = await run(['--profile', file]);
    expect(code).toBe(2);
    expect(err).toContain('w.exp.rate must be positive');
  });
});
