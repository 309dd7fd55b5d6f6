/**
 * DESIGN.md §2 as a test: dependencies point downward only, and there are no import cycles,
 * between folders or between files. Reads src/ in well under a second.
 */
import { describe, expect, it } from 'vitest';
import {
  cycles,
  folderGraph,
  type ImportGraph,
  layerViolations,
  readImportGraph,
  SRC_DIR,
  unexpectedCycles,
} from './import-graph.js';

/**
 * Cycles that exist today and are being removed; delete an entry once its cycle is gone. A cycle
 * that shrinks stays allowed; a new file joining one, or any other cycle, fails the test.
 * - core: effects.ts takes the Origin type from coordinator.ts, which takes Effects from it
 *   (the lead's split of core/node.ts removes it).
 * - client/runtime: runtime/control.ts and client/types.ts share types both ways (the NodeLink
 *   interface removes it).
 */
const CYCLES_BEING_REMOVED: readonly (readonly string[])[] = [
  ['core/coordinator.ts', 'core/effects.ts'],
  ['client/types.ts', 'runtime/control.ts'],
];
/** The folder-level cycle the same client/runtime imports make. */
const FOLDER_CYCLES_BEING_REMOVED: readonly (readonly string[])[] = [['client', 'runtime']];
/** Imports across layers that exist today and are being removed (the NodeLink interface). */
const LAYER_VIOLATIONS_BEING_REMOVED: readonly string[] = [
  'client/cluster-client.ts -> runtime/launcher.ts (client talks to nodes through an interface)',
  'client/cluster-client.ts -> runtime/network-state.ts (client talks to nodes through an interface)',
  'client/ring-watch.ts -> runtime/launcher.ts (client talks to nodes through an interface)',
  'client/types.ts -> runtime/control.ts (client talks to nodes through an interface)',
  'runtime/control.ts -> client/types.ts (runtime sits below client/server)',
  'runtime/network-state.ts -> client/types.ts (runtime sits below client/server)',
];

function problems(graph: ImportGraph): string[] {
  return [
    ...layerViolations(graph).filter((v) => !LAYER_VIOLATIONS_BEING_REMOVED.includes(v)),
    ...unexpectedCycles(cycles(graph), CYCLES_BEING_REMOVED).map((c) => `file cycle ${c}`),
    ...unexpectedCycles(cycles(folderGraph(graph)), FOLDER_CYCLES_BEING_REMOVED).map(
      (c) => `folder cycle ${c}`,
    ),
  ];
}

const fake = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('architecture of src/', () => {
  it('reads the real import graph', () => {
    const graph = readImportGraph(SRC_DIR);
    expect(graph.get('index.ts')).toContain('config.ts');
    expect(graph.get('cli/bench-matrix.ts')).toContain('cli/bench-matrix-command.ts'); // import()
    expect(graph.get('server/http.ts')).toContain('server/monitor/metrics.ts');
  });

  it('points downward only and has no cycles beyond those being removed', () => {
    expect(problems(readImportGraph(SRC_DIR))).toEqual([]);
  });
});

describe('the checks themselves, on made-up graphs', () => {
  const clean = {
    'index.ts': ['config.ts', 'client/a.ts'],
    'config.ts': ['errors.ts', 'util/prng.ts'],
    'errors.ts': [],
    'util/prng.ts': ['core/assert.ts'],
    'core/assert.ts': [],
    'client/a.ts': ['core/assert.ts', 'config.ts'],
    'server/http.ts': ['server/monitor/metrics.ts', 'client/a.ts'],
    'server/monitor/metrics.ts': ['client/a.ts'],
  };

  it('finds nothing wrong in a clean graph', () => {
    expect(problems(fake(clean))).toEqual([]);
  });

  it.each([
    ['storage/memory.ts', 'client/a.ts', 'upward'],
    ['core/assert.ts', 'util/prng.ts', 'core imports nothing outside core'],
    ['bench/matrix.ts', 'cli/main.ts', 'nothing imports cli'],
    ['client/a.ts', 'sim/simulator.ts', 'client talks to nodes through an interface'],
    ['server/http.ts', 'sim/simulator.ts', 'the simulator is not a production dependency'],
    ['config.ts', 'runtime/log.ts', 'a shared leaf importing a layer'],
    ['server/monitor/metrics.ts', 'server/http.ts', 'a subfolder imports its parent'],
  ])('fails on a new arrow %s -> %s (%s)', (from, to, why) => {
    const graph = fake({ ...clean, [from]: [...(clean[from as keyof typeof clean] ?? []), to] });
    expect(problems(graph)).toContain(`${from} -> ${to} (${why})`);
  });

  it('fails on a file cycle inside one folder, and on a new file joining an allowed one', () => {
    const inFolder = fake({ ...clean, 'util/a.ts': ['util/b.ts'], 'util/b.ts': ['util/a.ts'] });
    expect(problems(inFolder)).toEqual(['file cycle util/a.ts <-> util/b.ts']);
    const grown = fake({
      'core/coordinator.ts': ['core/effects.ts'],
      'core/effects.ts': ['core/node.ts'],
      'core/node.ts': ['core/coordinator.ts'],
    });
    expect(problems(grown)).toEqual([
      'file cycle core/coordinator.ts <-> core/effects.ts <-> core/node.ts',
    ]);
    const allowed = fake({
      'core/coordinator.ts': ['core/effects.ts'],
      'core/effects.ts': ['core/coordinator.ts'],
    });
    expect(problems(allowed)).toEqual([]);
  });

  it('fails on a folder cycle the ranks allow file by file', () => {
    const graph = fake({ 'storage/a.ts': ['transport/b.ts'], 'transport/c.ts': ['storage/d.ts'] });
    expect(problems(graph)).toEqual(['folder cycle storage <-> transport']);
  });
});
