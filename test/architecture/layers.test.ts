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
} from './import-graph.js';

function problems(graph: ImportGraph): string[] {
  const named = (prefix: string) => (cycle: readonly string[]) =>
    `${prefix} ${cycle.join(' <-> ')}`;
  return [
    ...layerViolations(graph),
    ...cycles(graph).map(named('file cycle')),
    ...cycles(folderGraph(graph)).map(named('folder cycle')),
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

  it('points downward only and has no cycles', () => {
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

  it('fails on a file cycle inside one folder', () => {
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
  });

  it('fails on a folder cycle the ranks allow file by file', () => {
    const graph = fake({ 'storage/a.ts': ['transport/b.ts'], 'transport/c.ts': ['storage/d.ts'] });
    expect(problems(graph)).toEqual(['folder cycle storage <-> transport']);
  });
});
