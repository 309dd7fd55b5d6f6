/**
 * The import graph of src/ and the rules of DESIGN.md §2 over it, as pure functions so a test
 * can feed them a made-up graph. Files are paths relative to src/ (`core/node.ts`); a file's
 * folder is its first path segment (`server/monitor/metrics.ts` is in `server`), `.` for the
 * top-level leaves (index.ts, config.ts, errors.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/** file -> the src/ files it imports (static, dynamic, type-only and re-exports alike). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)|import\s+['"](\.[^'"]+)['"]/g;
const SOURCE = /\.(ts|mts|mjs)$/;

/** Reads every source file below `srcDir` and resolves its relative imports. */
export function readImportGraph(srcDir: string): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(join(srcDir, file), 'utf8');
    const targets = new Set<string>();
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (spec === undefined) continue;
      const target = resolveSpecifier(srcDir, file, spec);
      if (target !== null) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

function sourceFiles(srcDir: string, dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(srcDir, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(srcDir, path));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** `./x.js` in `a/b.ts` -> `a/x.ts` (a .js specifier names a .ts file); null outside src/. */
function resolveSpecifier(srcDir: string, from: string, spec: string): string | null {
  const path = posix.normalize(posix.join(posix.dirname(from), spec));
  if (path.startsWith('..')) return null;
  const candidates = [path, path.replace(/\.js$/, '.ts'), path.replace(/\.mjs$/, '.mts')];
  return candidates.find((c) => SOURCE.test(c) && existsSync(join(srcDir, c))) ?? path;
}

export function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? '.' : file.slice(0, slash);
}

/** DESIGN.md §2 as ranks: a folder may import its own rank or lower, with the exceptions below. */
const RANK: Readonly<Record<string, number>> = {
  core: 0,
  util: 0,
  storage: 1,
  transport: 1,
  runtime: 2,
  sim: 2,
  client: 3,
  server: 4,
  bench: 4,
  cli: 5,
  '.': 6,
};

/** Why the import `from -> to` (folders) breaks the downward rule, or null when it is allowed. */
export function folderRuleBroken(from: string, to: string): string | null {
  if (from === to) return null;
  if (from === 'core') return 'core imports nothing outside core';
  if (to === 'cli' && from !== '.') return 'nothing imports cli';
  if (from === 'client' && (to === 'runtime' || to === 'sim')) {
    return 'client talks to nodes through an interface';
  }
  if ((from === 'runtime' || from === 'client' || from === 'server') && to === 'sim') {
    return 'the simulator is not a production dependency';
  }
  if (from === 'runtime' && (to === 'client' || to === 'server')) {
    return 'runtime sits below client/server';
  }
  if (to === '.' || from === '.') return null; // config/errors are shared leaves; index composes
  const rankFrom = RANK[from];
  const rankTo = RANK[to];
  if (rankFrom === undefined || rankTo === undefined) return `unknown folder (${from} or ${to})`;
  if (rankTo > rankFrom && !(from === 'sim' && to === 'client')) return 'upward';
  return null;
}

/** The top-level leaves other than index.ts may import no layer at all. */
function leafRuleBroken(file: string, target: string): string | null {
  if (folderOf(file) !== '.' || file === 'index.ts') return null;
  const to = folderOf(target);
  return to === '.' || to === 'core' || to === 'util' ? null : 'a shared leaf importing a layer';
}

/** A subfolder (`server/monitor/`) sits below its parent folder's own files. */
function subfolderRuleBroken(file: string, target: string): string | null {
  const fromDir = posix.dirname(file);
  const toDir = posix.dirname(target);
  return fromDir !== toDir && fromDir.startsWith(`${toDir}/`)
    ? 'a subfolder imports its parent'
    : null;
}

/** Every import that breaks a layering rule, as `from -> to (why)`. */
export function layerViolations(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const why =
        folderRuleBroken(folderOf(file), folderOf(target)) ??
        leafRuleBroken(file, target) ??
        subfolderRuleBroken(file, target);
      if (why !== null) out.push(`${file} -> ${target} (${why})`);
    }
  }
  return out;
}

/** The folder graph: `from` -> the other folders it imports, leaving out the shared leaves. */
export function folderGraph(graph: ImportGraph): ImportGraph {
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    if (from === '.') continue;
    const set = folders.get(from) ?? new Set<string>();
    for (const target of targets) {
      const to = folderOf(target);
      if (to !== from && to !== '.') set.add(to);
    }
    folders.set(from, set);
  }
  return new Map([...folders].map(([folder, set]) => [folder, [...set].sort()]));
}

/**
 * The cycles of a graph (of files or of folders): its strongly connected components with more
 * than one node, or a node importing itself. Each is sorted; so is the list.
 */
export function cycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

export const SRC_DIR = fileURLToPath(new URL('../../src/', import.meta.url));
