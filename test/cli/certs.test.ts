import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram, exitCodeFor } from '../../src/cli/main.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ringkv-cli-certs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ out: string; code: number; error: string }> {
  let out = '';
  const program = buildProgram({
    io: {
      out: (data) => {
        out += String(data);
      },
      err: () => {},
      isTty: false,
    },
    output: { writeOut: () => {}, writeErr: () => {} },
  });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, code: 0, error: '' };
  } catch (error) {
    return { out, code: exitCodeFor(error), error: error instanceof Error ? error.message : '' };
  }
}

describe('ringkv certs', () => {
  it('writes the CA and node files, then refuses to overwrite them', async () => {
    const made = await run(['certs', '--dir', dir, '--nodes', 'n1,n2', '--hosts', 'n1=127.0.0.1']);
    expect(made.code).toBe(0);
    expect(made.out).toContain(`wrote ${join(dir, 'n2.key')}`);
    expect((await readdir(dir)).sort()).toEqual([
      'ca.crt',
      'ca.key',
      'n1.crt',
      'n1.key',
      'n2.crt',
      'n2.key',
    ]);
    const again = await run(['certs', '--dir', dir, '--nodes', 'n1']);
    expect(again).toMatchObject({ code: 2, error: expect.stringMatching(/--force/) });
  });

  it.each([
    [['certs', '--nodes', 'n1'], /--dir/],
    [['certs', '--dir', 'DIR', '--nodes', 'n 1'], /invalid node id/],
    [['certs', '--dir', 'DIR', '--nodes', 'n1', '--days', '0'], /between 1 and/],
    [['certs', '--dir', 'DIR', '--nodes', 'n1', '--hosts', 'n2=1.2.3.4'], /node in --nodes/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const result = await run(args.map((arg) => (arg === 'DIR' ? dir : arg)));
    expect(result.code).toBe(2);
    expect(result.error).toMatch(message);
  });
});
