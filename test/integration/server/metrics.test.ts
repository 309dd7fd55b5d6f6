import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QuorumError } from '../../../src/errors.js';
import { createHttpServer } from '../../../src/server/http.js';
import { httpOp, replyOutcome } from '../../../src/server/metric-labels.js';
import { FakeCluster, listen, stop, workerStats } from './monitor-fakes.js';

/** The value of the one sample line `name{labels}` (labels exactly as exposed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  const cluster = new FakeCluster();
  const server = createHttpServer(cluster, {
    bodySizeMaxBytes: 1024,
    requestTimeoutMs: 5_000,
    log: () => {},
    stats: cluster,
    statsTimeoutMs: 300,
  });
  let base = '';
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));
  beforeEach(() => {
    cluster.down.clear();
    cluster.stats.clear();
    cluster.groups = null;
    cluster.hangStats = false;
  });

  it('answers in the Prometheus text format with HELP and TYPE lines', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const [name, type] of [
      ['ringkv_http_requests_total', 'counter'],
      ['ringkv_http_request_duration_seconds', 'histogram'],
      ['ringkv_client_requests_total', 'counter'],
      ['ringkv_client_request_duration_seconds', 'histogram'],
      ['ringkv_client_sloppy_writes_total', 'counter'],
      ['ringkv_node_quorum_failures_total', 'counter'],
      ['ringkv_node_sloppy_writes_total', 'counter'],
      ['ringkv_node_hints_pending', 'gauge'],
      ['ringkv_node_hints_delivered_total', 'counter'],
      ['ringkv_node_read_repairs_total', 'counter'],
      ['ringkv_node_messages_dropped_total', 'counter'],
      ['ringkv_node_storage_syncs_total', 'counter'],
      ['ringkv_node_storage_compactions_total', 'counter'],
      ['ringkv_node_up', 'gauge'],
      ['ringkv_node_anti_entropy_keys_repaired_total', 'counter'],
      ['ringkv_node_anti_entropy_exchanges_total', 'counter'],
      ['ringkv_gossip_rounds_total', 'counter'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}`);
      expect(text).toMatch(new RegExp(`# HELP ${name} \\S`));
    }
  });

  it('has no RESP series when the process serves no RESP', async () => {
    expect(await scrape()).not.toContain('ringkv_resp_');
  });

  it('has no lane series when the nodes are not processes', async () => {
    expect(await scrape()).not.toContain('ringkv_lane_');
  });

  it('counts requests by op and outcome and fills the latency histograms', async () => {
    for (let i = 0; i < 3; i++) await fetch(`${base}/kv/k${i}`, { method: 'PUT', body: 'v' });
    await fetch(`${base}/kv/k0`);
    await fetch(`${base}/kv/missing`);
    await fetch(`${base}/kv/k0`, { method: 'DELETE' });
    const text = await scrape();
    expect(
      sample(text, 'ringkv_http_requests_total{op="put",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'ringkv_http_requests_total{op="get",outcome="not_found"}')).toBe(1);
    expect(
      sample(text, 'ringkv_client_requests_total{op="get",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ringkv_client_requests_total{op="get",outcome="not_found"}')).toBe(1);
    expect(sample(text, 'ringkv_client_requests_total{op="delete",outcome="ok"}')).toBe(1);
    const puts = sample(text, 'ringkv_client_request_duration_seconds_count{op="put"}')!;
    expect(puts).toBeGreaterThanOrEqual(3);
    const bounds = ['0.0005', '0.001', '0.005', '0.1', '1', '5', '+Inf'];
    for (const le of bounds) {
      expect(text).toContain(`ringkv_http_request_duration_seconds_bucket{le="${le}",op="put"}`);
    }
    expect(sample(text, 'ringkv_client_request_duration_seconds_bucket{le="+Inf",op="put"}')).toBe(
      puts,
    );
    expect(sample(text, 'ringkv_http_request_duration_seconds_sum{op="put"}')).toBeGreaterThan(0);
  });

  it('labels quorum failures and sloppy writes', async () => {
    cluster.nextError = new QuorumError('only 1 of 2', 2, 1);
    expect((await fetch(`${base}/kv/q`, { method: 'PUT', body: 'v' })).status).toBe(503);
    cluster.nextPutSloppy = true;
    await fetch(`${base}/kv/s`, { method: 'PUT', body: 'v' });
    const text = await scrape();
    expect(sample(text, 'ringkv_http_requests_total{op="put",outcome="quorum"}')).toBe(1);
    expect(sample(text, 'ringkv_client_requests_total{op="put",outcome="quorum"}')).toBe(1);
    expect(sample(text, 'ringkv_client_sloppy_writes_total{op="put"}')).toBe(1);
  });

  it('exposes every node counter from the nodes, and none for a down node', async () => {
    cluster.stats.set(
      'n1',
      workerStats(12, { readRepairs: 7, quorumFailures: 2, sloppyPuts: 3, putsOk: 40, getsOk: 9 }),
    );
    cluster.stats.set(
      'n2',
      workerStats(5, { hintsPending: 4, hintsDelivered: 6, suspected: 1, aeKeysRepaired: 11 }),
    );
    cluster.down.add('n3');
    cluster.groups = [['n1'], ['n2', 'n3']];
    const text = await scrape();
    expect(sample(text, 'ringkv_node_keys{node="n1"}')).toBe(12);
    expect(sample(text, 'ringkv_node_read_repairs_total{node="n1"}')).toBe(7);
    expect(sample(text, 'ringkv_node_quorum_failures_total{node="n1"}')).toBe(2);
    expect(sample(text, 'ringkv_node_sloppy_writes_total{node="n1"}')).toBe(3);
    expect(sample(text, 'ringkv_node_requests_succeeded_total{node="n1",op="put"}')).toBe(40);
    expect(sample(text, 'ringkv_node_hints_pending{node="n2"}')).toBe(4);
    expect(sample(text, 'ringkv_node_hints_delivered_total{node="n2"}')).toBe(6);
    expect(sample(text, 'ringkv_node_suspected_peers{node="n2"}')).toBe(1);
    expect(sample(text, 'ringkv_node_anti_entropy_keys_repaired_total{node="n2"}')).toBe(11);
    expect(sample(text, 'ringkv_node_messages_dropped_total{node="n2"}')).toBe(2);
    expect(sample(text, 'ringkv_node_storage_syncs_total{node="n1"}')).toBe(4);
    expect(sample(text, 'ringkv_node_storage_appended_bytes_total{node="n1"}')).toBe(4096);
    expect(sample(text, 'ringkv_node_storage_compactions_total{node="n2"}')).toBe(1);
    expect(sample(text, 'ringkv_node_storage_file_bytes{node="n1"}')).toBe(3000);
    expect(sample(text, 'ringkv_node_record_bytes{node="n1"}')).toBe(2500);
    expect(sample(text, 'ringkv_node_fault_drops_total{node="n2",reason="lost"}')).toBe(1);
    expect(sample(text, 'ringkv_node_up{node="n3"}')).toBe(0);
    expect(sample(text, 'ringkv_node_up{node="n1"}')).toBe(1);
    expect(sample(text, 'ringkv_node_stats_available{node="n3"}')).toBe(0);
    expect(sample(text, 'ringkv_node_read_repairs_total{node="n3"}')).toBeUndefined();
    expect(sample(text, 'ringkv_node_partitioned{node="n2"}')).toBe(1);
    expect(sample(text, 'ringkv_network_partition_groups')).toBe(2);
    expect(sample(text, 'ringkv_network_delay_seconds')).toBe(0.005);
    expect(sample(text, 'ringkv_network_loss_ratio')).toBe(0.01);
    expect(sample(text, 'ringkv_cluster_stats_up')).toBe(1);
  });

  it('says in HELP that gossip is not built, and reports 0', async () => {
    const text = await scrape();
    expect(text).toMatch(/# HELP ringkv_gossip_rounds_total .*NOT BUILT YET/);
    expect(sample(text, 'ringkv_gossip_rounds_total')).toBe(0);
  });

  it('still answers, without node series, when the nodes do not answer in time', async () => {
    cluster.hangStats = true;
    const started = Date.now();
    const text = await scrape();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(sample(text, 'ringkv_cluster_stats_up')).toBe(0);
    expect(sample(text, 'ringkv_node_up{node="n1"}')).toBeUndefined();
    expect(text).toContain('ringkv_http_requests_total');
  });

  it('keeps label values bounded whatever the path', async () => {
    const random = `r${Math.random().toString(36).slice(2)}`;
    await fetch(`${base}/${random}/x`);
    await fetch(`${base}/kv/x`, { method: 'PATCH' });
    const text = await scrape();
    expect(sample(text, 'ringkv_http_requests_total{op="unknown",outcome="no_route"}')).toBe(1);
    expect(sample(text, 'ringkv_http_requests_total{op="kv",outcome="method_not_allowed"}')).toBe(
      1,
    );
    expect(text).not.toContain(random);
  });

  it('answers 405 to a POST', async () => {
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('metric labels', () => {
  it.each([
    ['GET', '/kv/a?r=1', 'get'],
    ['PUT', '/kv/a', 'put'],
    ['DELETE', '/kv/a%2Fb', 'delete'],
    ['POST', '/kv/a', 'kv'],
    ['GET', '/metrics', 'metrics'],
    ['GET', '/', 'dashboard'],
    ['GET', '/dashboard.js', 'dashboard'],
    ['POST', '/admin/heal', 'admin'],
    ['GET', '/whatever/else', 'unknown'],
  ])('%s %s → op %s', (method, url, op) => {
    expect(httpOp(method, url)).toBe(op);
  });

  it.each([
    [200, {}, 'ok'],
    [300, { siblings: [] }, 'siblings'],
    [404, { code: 'NOT_FOUND' }, 'not_found'],
    [413, { code: 'VALIDATION', tooLarge: true }, 'too_large'],
    [503, { code: 'QUORUM' }, 'quorum'],
    [500, { code: 'not a code!' }, 'http_500'],
  ])('status %i %j → outcome %s', (status, body, outcome) => {
    expect(replyOutcome({ status, headers: {}, body })).toBe(outcome);
  });
});
