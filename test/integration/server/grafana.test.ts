/**
 * deploy/grafana/ringkv.json against what the server really exports: start `ringkv up`'s wiring
 * (threads, in memory, port 0), scrape GET /metrics, and require every metric named in every
 * panel query to be declared there (histograms through their _bucket series). A metric renamed
 * in the server without the dashboard following fails here.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningUp, startUp } from '../../../src/cli/up.js';

/** Grafana's syntax for the data source variable (a literal, not a template string). */
const DATASOURCE_VARIABLE = ['$', '{datasource}'].join('');
const DASHBOARD = new URL('../../../deploy/grafana/ringkv.json', import.meta.url);

interface Target {
  readonly expr: string;
}
interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly Target[];
  readonly datasource?: { readonly uid: string };
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: ReadonlyArray<{ name: string; definition?: string }> };
}

/** Every name the exposition declares, with _bucket/_sum/_count for histograms. */
function declaredNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match === null) continue;
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

/** The ringkv metric names a PromQL expression uses (label names and values are not metrics). */
function metricsIn(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '');
  return [...withoutLabels.matchAll(/\bringkv_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  let running: RunningUp | null = null;
  let exposition = '';

  beforeAll(async () => {
    running = await startUp(
      { config: { nodes: 3, n: 3, r: 2, w: 2, dataDir: null }, host: '127.0.0.1', port: 0 },
      { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} },
    );
    const put = await fetch(`${running.url}/kv/grafana`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(200);
    const res = await fetch(`${running.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    exposition = await res.text();
  });

  afterAll(async () => {
    await running?.shutdown();
  });

  it('has panels with queries on one templated Prometheus data source', () => {
    const queried = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(queried.length).toBeGreaterThanOrEqual(20);
    for (const panel of queried) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource?.uid, panel.title).toBe(DATASOURCE_VARIABLE);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'node']);
  });

  it('queries only metrics that a real /metrics scrape declares', () => {
    const declared = declaredNames(exposition);
    expect(declared.size).toBeGreaterThan(40);
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        const names = metricsIn(target.expr);
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) used.add(name);
      }
    }
    for (const variable of dashboard.templating.list) {
      for (const name of metricsIn(variable.definition ?? '')) used.add(name);
    }
    const missing = [...used].filter((name) => !declared.has(name));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(25);
  });

  it('the node variable is fed by a series that has a node label for every node', () => {
    const nodes = [...exposition.matchAll(/^ringkv_node_up\{node="([^"]+)"\} 1$/gm)].map(
      (m) => m[1],
    );
    expect(nodes).toEqual(['n1', 'n2', 'n3']);
  });

  it('finds a renamed metric (the check can fail)', () => {
    const declared = declaredNames(exposition);
    expect(metricsIn('rate(ringkv_node_read_repair_total{node=~"$node"}[5m])')).toEqual([
      'ringkv_node_read_repair_total',
    ]);
    expect(declared.has('ringkv_node_read_repair_total')).toBe(false);
  });
});
