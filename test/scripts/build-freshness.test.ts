/**
 * scripts/build-freshness.mjs: `npm start` and the benchmarks run dist/ only while it was built
 * from the sources as they are; any input saved after the build started, or removed, makes it
 * stale, and so does a missing stamp.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBuilt, isBuildFresh, STAMP_FILE } from '../../scripts/build-freshness.mjs';

const roots: string[] = [];

/** A checkout's build inputs, all dated `at`, and a stamp dated `stampAt` (null: none). */
function checkout(at: Date, stampAt: Date | null): string {
  const root = mkdtempSync(join(tmpdir(), 'ringkv-freshness-'));
  roots.push(root);
  const files = [
    'package.json',
    'tsconfig.json',
    'src/a.ts',
    'src/cli/b.ts',
    'bench/profiles/p.json',
  ];
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '{}');
  }
  for (const path of [...files, 'src/cli', 'src', 'bench/profiles'])
    utimesSync(join(root, path), at, at);
  if (stampAt !== null) {
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, STAMP_FILE as string), '');
    utimesSync(join(root, STAMP_FILE as string), stampAt, stampAt);
  }
  return root;
}

const edited = new Date('2026-01-01T10:00:00Z');
const built = new Date('2026-01-01T11:00:00Z');
const later = new Date('2026-01-01T12:00:00Z');

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('isBuildFresh', () => {
  it('is fresh when the build started after every input changed', () => {
    expect(isBuildFresh(checkout(edited, built))).toBe(true);
  });

  it('is stale without a stamp (never built, or a build that did not finish)', () => {
    expect(isBuildFresh(checkout(edited, null))).toBe(false);
  });

  it('is stale once a source, a tsconfig or a copied profile changes after the build started', () => {
    for (const file of ['src/cli/b.ts', 'tsconfig.json', 'bench/profiles/p.json']) {
      const root = checkout(edited, built);
      utimesSync(join(root, file), later, later);
      expect(isBuildFresh(root), file).toBe(false);
    }
  });

  it('is stale once a source is removed (its directory changes)', () => {
    const root = checkout(edited, built);
    rmSync(join(root, 'src/cli/b.ts'));
    expect(isBuildFresh(root)).toBe(false);
  });
});

describe('ensureBuilt', () => {
  /** A checkout whose scripts/build.mjs runs `body` (it must stamp dist/ to count as built). */
  function withBuild(stampAt: Date | null, body: string): string {
    const root = checkout(edited, stampAt);
    mkdirSync(join(root, 'scripts'));
    writeFileSync(join(root, 'scripts/build.mjs'), body);
    return root;
  }
  const stamping = `import { mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('dist', { recursive: true });
writeFileSync('${STAMP_FILE as string}', '');\n`;

  it('runs no build when the build is fresh', () => {
    expect(ensureBuilt(withBuild(built, 'process.exit(9);\n'), 'ignore')).toBe(true);
  });

  it('builds a stale checkout and says whether the build left it fresh', () => {
    expect(ensureBuilt(withBuild(null, stamping), 'ignore')).toBe(true);
    expect(ensureBuilt(withBuild(null, 'process.exit(0);\n'), 'ignore')).toBe(false);
    expect(ensureBuilt(withBuild(null, 'process.exit(1);\n'), 'ignore')).toBe(false);
  });
});
