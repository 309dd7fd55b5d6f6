/**
 * The ringkv dashboard. It loads the server's last minutes from GET /history, then listens to
 * GET /events (Server-Sent Events, one event every ~500 ms: see
 * src/server/monitor/dashboard-feed.ts for its shape; each carries the newest history sample and
 * the newest admin actions) and drives the admin routes with fetch. Charts are uPlot (served by
 * this server from the uplot package, /vendor/uPlot.min.js, as the global `uPlot`); no framework
 * and nothing loaded from elsewhere; text is written with textContent.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Node colours, by the node's position in /status (Tableau 10 and two more). */
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#17becf',
  '#bcbd22',
  '#8c564b',
];
/** How long one admin request may take before the page gives up on it. */
const ADMIN_TIMEOUT_MS = 15_000;
/** Activity rows kept on the page (the server keeps its own bounded list). */
const LOG_ENTRIES_MAX = 100;
/** The replica tracks fill the ring between these radii (the SVG spans -120..120). */
const TRACKS_INNER = 36;
const TRACKS_OUTER = 108;
/** The under-replicated marks sit on the rim, outside the tracks. */
const RIM_INNER = 110;
const RIM_OUTER = 118;
const DOWN_FILL = '#c3c9d2';
const UNDER_FILL = '#d62728';
/** How long to wait for GET /history. */
const HISTORY_TIMEOUT_MS = 5_000;

const view = {
  ringKey: '',
  ringStateKey: '',
  /** The last replication view (replica-sets.ts), for pointing at a partition. */
  replication: null,
  replicaSetsKey: '',
  /** @type {Map<string, SVGPathElement[]>} one path per replica track, by node */
  tracks: new Map(),
  /** @type {Map<string, { row: HTMLTableRowElement, cells: Record<string, HTMLElement>, kill: HTMLButtonElement, restart: HTMLButtonElement, remove: HTMLButtonElement, state: HTMLElement, transfer: HTMLElement }>} */
  rows: new Map(),
  /** A membership change started from this page is under way. */
  membershipBusy: false,
  /** History samples, oldest first, at most samplesMax (the server's span / sample interval). */
  samples: [],
  samplesMax: 300,
  /** Samples arrived since the charts were last drawn. */
  samplesDirty: false,
  /** The node ids the charts were built for, and the uPlot instances by chart name. */
  chartsKey: '',
  /** @type {Map<string, any>} */
  plots: new Map(),
  /** Activity rows shown, by the server's seq. @type {Map<number, HTMLLIElement>} */
  logRows: new Map(),
  /** @type {Map<string, string>} */
  colours: new Map(),
  /** Nodes with an admin request under way. */
  busy: new Set(),
  /** @type {Map<string, string>} */
  states: new Map(),
};

function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`dashboard: #${id} is missing`);
  return element;
}

function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

function html(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// ---------------------------------------------------------------------------------------------
// formatting

const integer = new Intl.NumberFormat('en');

function count(value) {
  return value === null || value === undefined ? '–' : integer.format(value);
}

function rate(value) {
  if (value === null || value === undefined) return '–';
  return value >= 100 ? integer.format(Math.round(value)) : value.toFixed(1);
}

function millis(value) {
  if (value === null || value === undefined) return '–';
  if (value < 1) return `${value.toFixed(2)} ms`;
  if (value < 10) return `${value.toFixed(1)} ms`;
  return `${integer.format(Math.round(value))} ms`;
}

function sum(nodes, field) {
  let total = 0;
  let known = false;
  for (const node of nodes) {
    if (typeof node[field] === 'number') {
      total += node[field];
      known = true;
    }
  }
  return known ? total : null;
}

function stateText(node) {
  if (node.state === 'partitioned') return `partitioned · g${node.partitionGroup + 1}`;
  return node.state;
}

// ---------------------------------------------------------------------------------------------
// rendering

function render(event) {
  renderTraffic(event.traffic);
  renderActivity(event.activity ?? []);
  if (event.sample) addSample(event.sample);
  if (!event.fresh) {
    setConnection('error', event.error ? `stale: ${event.error}` : 'stale');
    return;
  }
  setConnection('live', 'live');
  assignColours(event.nodes);
  renderConfig(event);
  renderRing(event.ring, event.nodes, event.replication);
  renderNodes(event.nodes);
  renderTotals(event.nodes);
  renderNetwork(event.network);
  renderAntiEntropy(event.antiEntropy);
  renderCharts(event.nodes.map((node) => node.id));
}

function setConnection(kind, text) {
  const element = byId('conn');
  element.className = `pill pill-${kind}`;
  element.textContent = text;
}

function assignColours(nodes) {
  nodes.forEach((node, index) => {
    if (!view.colours.has(node.id)) view.colours.set(node.id, PALETTE[index % PALETTE.length]);
  });
}

function renderConfig(event) {
  const { n, r, w, durable, engine } = event.config;
  const storage = durable ? (engine ? `durable (${engine})` : 'durable') : 'in memory';
  byId('config').textContent =
    `${event.nodes.length} nodes · N=${n} R=${r} W=${w} · ` +
    `${integer.format(event.ring.partitionCount)} partitions · ${storage}`;
}

/**
 * The traffic tiles state the window their figures cover (at most 2 s). Right after an idle gap
 * the server has no reading inside the window yet (windowMs 0): the tiles show – rather than
 * an average over the gap.
 */
function renderTraffic(traffic) {
  const known = traffic.windowMs > 0;
  const pick = (value) => (known ? value : null);
  const { get, put, all } = traffic.ops;
  const del = traffic.ops.delete;
  byId('ops-all').textContent = rate(pick(all.perSec));
  byId('ops-split').textContent =
    `get ${rate(pick(get.perSec))} · put ${rate(pick(put.perSec))} · ` +
    `delete ${rate(pick(del.perSec))}`;
  byId('p99-all').textContent = millis(pick(all.p99Ms));
  byId('p99-split').textContent = `get ${millis(pick(get.p99Ms))} · put ${millis(pick(put.p99Ms))}`;
  byId('traffic-window').textContent = known
    ? `over the last ${(traffic.windowMs / 1000).toFixed(1)} s, via this server`
    : 'no figures yet: waiting for a second reading';
  byId('ops-all').dataset.windowMs = String(traffic.windowMs);
}

function renderTotals(nodes) {
  byId('keys-total').textContent = count(sum(nodes, 'keys'));
  byId('hints-total').textContent = count(sum(nodes, 'hintsPending'));
  byId('hints-delivered').textContent = `delivered ${count(sum(nodes, 'hintsDelivered'))}`;
  byId('repairs-total').textContent = count(sum(nodes, 'readRepairs'));
  byId('sloppy-total').textContent = `sloppy writes ${count(sum(nodes, 'sloppyWrites'))}`;
  byId('drops-total').textContent = count(sum(nodes, 'messagesDropped'));
  byId('quorum-total').textContent = `quorum failures ${count(sum(nodes, 'quorumFailures'))}`;
}

function renderAntiEntropy(ae) {
  byId('ae-keys').textContent = ae === null ? '–' : count(ae.keysRepaired);
  byId('anti-entropy').textContent =
    ae === null
      ? 'exchanges –'
      : `exchanges ${count(ae.exchanges)} · in sync ${count(ae.inSync)} · ` +
        `abandoned ${count(ae.abandoned)}`;
  byId('anti-entropy').title =
    ae === null ? '' : `partitions repaired ${count(ae.partitionsRepaired)}`;
}

function renderNetwork(network) {
  const parts = [
    `delay ${network.delayMs} ms`,
    `jitter ${network.jitterMs} ms`,
    `loss ${+(network.lossRate * 100).toFixed(2)} %`,
  ];
  const groups = network.groups
    ? network.groups.map((group, i) => `g${i + 1} {${group.join(', ')}}`).join('  |  ')
    : 'none (the network is whole)';
  byId('network-status').textContent = `network: ${parts.join(' · ')} · partition: ${groups}`;
}

// ---------------------------------------------------------------------------------------------
// ring: each partition is a spoke (clockwise from the top); its N tracks, outside in, are its
// replicas in preference order, filled with each replica's node colour — the colours of the
// legend and of the node table. The server sends the replica sets (replica-sets.ts): the page
// never re-implements placement.

/** The sector of partition `index` of `total` between two radii, as SVG path commands. */
function sector(index, total, inner, outer) {
  const a0 = (index / total) * 2 * Math.PI - Math.PI / 2;
  const a1 = Math.min(((index + 1) / total) * 2 * Math.PI - Math.PI / 2, a0 + 2 * Math.PI - 1e-4);
  const large = a1 - a0 > Math.PI ? 1 : 0;
  const at = (radius, angle) =>
    `${(radius * Math.cos(angle)).toFixed(2)} ${(radius * Math.sin(angle)).toFixed(2)}`;
  return (
    `M${at(outer, a0)}A${outer} ${outer} 0 ${large} 1 ${at(outer, a1)}` +
    `L${at(inner, a1)}A${inner} ${inner} 0 ${large} 0 ${at(inner, a0)}Z`
  );
}

/** Inner and outer radius of replica track `index` of `count` (0 = primary, outermost). */
function trackRadii(index, count) {
  const step = (TRACKS_OUTER - TRACKS_INNER) / count;
  const outer = TRACKS_OUTER - index * step;
  return [outer - step * 0.86, outer];
}

/** One path per (node, replica track): every partition where that node is that replica. */
function drawRing(replication, nodes) {
  const tracks = byId('ring-tracks');
  tracks.replaceChildren();
  view.tracks = new Map();
  const total = replication.partitionSet.length;
  const depth = Math.max(1, ...replication.sets.map((set) => set.length));
  const commands = new Map(nodes.map((node) => [node.id, Array.from({ length: depth }, () => [])]));
  const counts = new Map(nodes.map((node) => [node.id, Array(depth).fill(0)]));
  replication.partitionSet.forEach((setIndex, partition) => {
    const set = replication.sets[setIndex] ?? [];
    set.forEach((id, replica) => {
      const [inner, outer] = trackRadii(replica, depth);
      commands.get(id)?.[replica].push(sector(partition, total, inner, outer));
      const count = counts.get(id);
      if (count) count[replica] += 1;
    });
  });
  for (const node of nodes) {
    const paths = commands.get(node.id).map((parts, replica) => {
      const path = svg('path', {
        class: 'replica-track',
        d: parts.join(''),
        'data-replica-node': node.id,
        'data-replica': String(replica),
      });
      const title = svg('title');
      const which = replica === 0 ? 'primary' : `replica ${replica + 1}`;
      title.textContent = `${node.id}: ${which} of ${counts.get(node.id)[replica]} of ${total} partitions`;
      path.append(title);
      tracks.append(path);
      return path;
    });
    view.tracks.set(node.id, paths);
  }
  byId('ring-count').textContent = integer.format(total);
  byId('ring-caption').textContent = total === 1 ? 'partition' : 'partitions';
  view.ringStateKey = '';
}

function renderRing(ring, nodes, replication) {
  if (replication === null || replication === undefined) return;
  const ringKey = `${ring.owners.join(',')}|${replication.n}|${nodes.map((node) => node.id).join(',')}`;
  if (ringKey !== view.ringKey) {
    drawRing(replication, nodes);
    view.ringKey = ringKey;
  }
  const stateKey = nodes.map((node) => `${node.id}:${node.state}`).join();
  if (stateKey !== view.ringStateKey) {
    view.ringStateKey = stateKey;
    colourRing(nodes, replication);
  }
  renderLegend(ring.owners, nodes);
  view.replication = replication;
  renderReplicaSets(replication, nodes);
  const summary = byId('ring-summary');
  summary.textContent =
    `N=${replication.n} · ${integer.format(replication.sets.length)} distinct replica sets · ` +
    `${integer.format(replication.underReplicated)} under-replicated`;
  summary.classList.toggle('alarm', replication.underReplicated > 0);
}

function colourRing(nodes, replication) {
  for (const node of nodes) {
    const colour = node.state === 'down' ? DOWN_FILL : (view.colours.get(node.id) ?? '#999');
    for (const path of view.tracks.get(node.id) ?? []) {
      path.setAttribute('fill', colour);
      path.classList.toggle('down', node.state === 'down');
    }
  }
  const total = replication.partitionSet.length;
  const parts = [];
  replication.partitionSet.forEach((setIndex, partition) => {
    if ((replication.setLive[setIndex] ?? 0) < replication.n) {
      parts.push(sector(partition, total, RIM_INNER, RIM_OUTER));
    }
  });
  const under = byId('ring-under');
  under.setAttribute('d', parts.join(''));
  under.setAttribute('fill', UNDER_FILL);
  under.dataset.count = String(parts.length);
}

/** Distinct replica sets shown under the ring, most partitions first. */
const REPLICA_SETS_SHOWN_MAX = 8;

/** The replica sets with how many partitions each serves; under-replicated ones flagged. */
function renderReplicaSets(replication, nodes) {
  const down = new Set(nodes.filter((node) => node.state === 'down').map((node) => node.id));
  const key = `${view.ringKey}|${replication.setLive.join()}|${[...down]}`;
  if (key === view.replicaSetsKey) return;
  view.replicaSetsKey = key;
  const counts = replication.sets.map(() => 0);
  for (const index of replication.partitionSet) counts[index] += 1;
  const order = counts
    .map((partitions, index) => ({ partitions, index }))
    .sort((a, b) => b.partitions - a.partitions || a.index - b.index);
  const items = order.slice(0, REPLICA_SETS_SHOWN_MAX).map(({ partitions, index }) => {
    const set = replication.sets[index];
    const under = (replication.setLive[index] ?? 0) < replication.n;
    const item = html('li', under ? 'under' : '');
    item.dataset.replicaSet = set.join(',');
    for (const id of set) {
      const swatch = html('span', 'swatch');
      swatch.style.background = down.has(id) ? DOWN_FILL : (view.colours.get(id) ?? '#999');
      item.append(swatch);
    }
    item.append(` ${set.join(' ')} · ${integer.format(partitions)}`);
    return item;
  });
  if (order.length > REPLICA_SETS_SHOWN_MAX) {
    items.push(html('li', 'more', `+ ${order.length - REPLICA_SETS_SHOWN_MAX} more sets`));
  }
  byId('replica-sets').replaceChildren(...items);
}

/** The partition under the pointer (its angle from the top, clockwise), shown with its replicas. */
function pointAtPartition(event) {
  const replication = view.replication;
  const info = byId('ring-pointer');
  if (!replication) return;
  const box = event.currentTarget.getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * 240 - 120;
  const y = ((event.clientY - box.top) / box.height) * 240 - 120;
  const radius = Math.hypot(x, y);
  if (radius < TRACKS_INNER || radius > RIM_OUTER) {
    info.textContent = 'point at a partition to see its replicas';
    return;
  }
  const turn = (Math.atan2(y, x) + Math.PI / 2 + 2 * Math.PI) % (2 * Math.PI);
  const total = replication.partitionSet.length;
  const partition = Math.min(total - 1, Math.floor((turn / (2 * Math.PI)) * total));
  const index = replication.partitionSet[partition];
  const set = replication.sets[index] ?? [];
  const live = replication.setLive[index] ?? 0;
  const state = live < replication.n ? ` · ${live} of ${replication.n} up` : '';
  info.textContent = `partition ${partition}: ${set.join(' → ')}${state}`;
}

function renderLegend(owners, nodes) {
  const owned = new Map();
  for (const owner of owners) owned.set(owner, (owned.get(owner) ?? 0) + 1);
  const items = nodes.map((node) => {
    const item = html('li', node.state === 'down' ? 'down' : '');
    item.dataset.legendNode = node.id;
    const swatch = html('span', 'swatch');
    swatch.style.background =
      node.state === 'down' ? DOWN_FILL : (view.colours.get(node.id) ?? '#999');
    item.append(swatch, `${node.id} · ${owned.get(node.id) ?? 0} primary`);
    return item;
  });
  const under = html('li', 'legend-under');
  const mark = html('span', 'swatch');
  mark.style.background = UNDER_FILL;
  under.append(mark, 'under-replicated');
  items.push(under);
  byId('legend').replaceChildren(...items);
}

// ---------------------------------------------------------------------------------------------
// node table

const NUMBER_FIELDS = [
  ['keys', count],
  ['partitions', count],
  ['coordinatedPerSec', rate],
  ['hintsPending', count],
  ['suspected', count],
  ['readRepairs', count],
  ['sloppyWrites', count],
  ['messagesDropped', count],
  ['aeKeysRepaired', count],
];

function button(text, className, label, onClick) {
  const element = html('button', className, text);
  element.type = 'button';
  element.setAttribute('aria-label', label);
  element.addEventListener('click', onClick);
  return element;
}

function createRow(id) {
  const row = html('tr');
  row.dataset.row = id;
  const name = html('span', 'node-id');
  const swatch = html('span', 'swatch');
  swatch.style.background = view.colours.get(id) ?? '#999';
  name.append(swatch, id);
  const state = html('span', 'state', '…');
  state.dataset.node = id;
  const cells = {};
  const first = html('td');
  first.append(name);
  const second = html('td');
  second.append(state);
  row.append(first, second);
  for (const [field] of NUMBER_FIELDS) {
    cells[field] = html('td', 'num', '–');
    row.append(cells[field]);
  }
  const transfer = html('td', 'num transfer', '–');
  transfer.dataset.transfer = id;
  row.append(transfer);
  const kill = button('Kill', 'danger', `kill ${id}`, () => nodeAction(id, 'kill'));
  const restart = button('Restart', '', `restart ${id}`, () => nodeAction(id, 'restart'));
  const remove = button('Remove', 'danger', `remove ${id}`, () => removeNode(id));
  const actions = html('div', 'actions');
  actions.append(kill, restart, remove);
  const last = html('td');
  last.append(actions);
  row.append(last);
  return { row, cells, kill, restart, remove, state, transfer };
}

function renderNodes(nodes) {
  const body = byId('node-rows');
  const seen = new Set();
  for (const node of nodes) {
    seen.add(node.id);
    let entry = view.rows.get(node.id);
    if (entry === undefined) {
      entry = createRow(node.id);
      view.rows.set(node.id, entry);
      body.append(entry.row);
    }
    updateRow(entry, node);
  }
  for (const [id, entry] of view.rows) {
    if (seen.has(id)) continue;
    entry.row.remove();
    view.rows.delete(id);
  }
  byId('add-node').disabled = view.membershipBusy || nodes.some(changing);
}

function changing(node) {
  return node.membership === 'joining' || node.membership === 'leaving';
}

function stateOf(node) {
  return changing(node) && node.state !== 'down' ? node.membership : node.state;
}

function updateRow(entry, node) {
  view.states.set(node.id, node.state);
  const state = stateOf(node);
  entry.state.dataset.state = state;
  entry.state.dataset.membership = node.membership ?? 'member';
  entry.state.textContent = changing(node) ? `${node.membership}` : stateText(node);
  if (changing(node) && node.state === 'down')
    entry.state.textContent = `down · ${node.membership}`;
  entry.row.classList.toggle('is-down', node.state === 'down');
  for (const [field, format] of NUMBER_FIELDS) {
    entry.cells[field].textContent = format(node[field]);
  }
  entry.transfer.textContent =
    node.transferKeysSent === null || node.transferKeysSent === undefined
      ? '–'
      : `${count(node.transferKeysSent)} / ${count(node.transferKeysReceived)} / ` +
        `${count(node.keysToDrain)}`;
  entry.transfer.classList.toggle('moving', (node.keysToDrain ?? 0) > 0 || changing(node));
  updateButtons(node.id);
}

function updateButtons(id) {
  const entry = view.rows.get(id);
  if (entry === undefined) return;
  const busy = view.busy.has(id);
  const down = view.states.get(id) === 'down';
  entry.kill.disabled = busy || down;
  entry.restart.disabled = busy || !down;
  entry.remove.disabled = busy || view.membershipBusy;
}

// ---------------------------------------------------------------------------------------------
// history charts (uPlot): one chart per figure, a series for the total and one per node.

const CHARTS = [
  { name: 'ops', field: 'opsPerSec', format: rate },
  { name: 'errors', field: 'errorsPerSec', format: rate, client: true },
  { name: 'hints', field: 'hintsPending', format: count },
  { name: 'repairs', field: 'readRepairsPerSec', format: rate },
  { name: 'ae', field: 'aeKeysRepairedPerSec', format: rate },
];
const LATENCY_SERIES = [
  ['get', 'p50Ms', 'get p50', '#4e79a7', [4, 3]],
  ['get', 'p99Ms', 'get p99', '#4e79a7', null],
  ['put', 'p50Ms', 'put p50', '#f28e2b', [4, 3]],
  ['put', 'p99Ms', 'put p99', '#f28e2b', null],
  ['delete', 'p50Ms', 'delete p50', '#59a14f', [4, 3]],
  ['delete', 'p99Ms', 'delete p99', '#59a14f', null],
];
const TOTAL_COLOUR = '#1d2433';
const CHART_HEIGHT = 150;

/** Adds a sample unless the page has it already (events repeat the newest one). */
function addSample(sample) {
  const last = view.samples[view.samples.length - 1];
  if (last !== undefined && sample.atMs <= last.atMs) return;
  view.samples.push(sample);
  while (view.samples.length > view.samplesMax) view.samples.shift();
  view.samplesDirty = true;
}

function chartWidth(plot) {
  return Math.max(200, Math.floor(plot.getBoundingClientRect().width));
}

function seriesOf(chart, nodeIds) {
  const series = [{}];
  if (chart.name === 'latency') {
    for (const [, , label, stroke, dash] of LATENCY_SERIES) {
      series.push({ label, stroke, width: 1.5, dash: dash ?? undefined, spanGaps: false });
    }
    return series;
  }
  series.push({ label: 'total', stroke: TOTAL_COLOUR, width: 2 });
  if (chart.client)
    series.push({ label: 'client errors', stroke: '#d62728', width: 1.5, dash: [4, 3] });
  for (const id of nodeIds) {
    series.push({ label: id, stroke: view.colours.get(id) ?? '#999', width: 1.2 });
  }
  return series;
}

function dataOf(chart, nodeIds) {
  const samples = view.samples;
  const data = [samples.map((sample) => sample.atMs / 1000)];
  if (chart.name === 'latency') {
    for (const [op, field] of LATENCY_SERIES) data.push(samples.map((s) => s[field][op]));
    return data;
  }
  data.push(samples.map((sample) => sample.total[chart.field]));
  if (chart.client) data.push(samples.map((sample) => sample.clientErrorsPerSec));
  for (const id of nodeIds) {
    data.push(samples.map((sample) => sample.nodes[id]?.[chart.field] ?? null));
  }
  return data;
}

function buildCharts(nodeIds) {
  for (const plot of view.plots.values()) plot.destroy();
  view.plots = new Map();
  if (typeof window.uPlot !== 'function') {
    byId('history-note').textContent = 'charts unavailable: /vendor/uPlot.min.js did not load';
    return;
  }
  for (const chart of [...CHARTS, { name: 'latency' }]) {
    const figure = document.querySelector(`[data-chart="${chart.name}"] .plot`);
    if (figure === null) continue;
    figure.replaceChildren();
    const options = {
      width: chartWidth(figure),
      height: CHART_HEIGHT,
      series: seriesOf(chart, nodeIds),
      scales: { x: { time: true } },
      axes: [{ size: 28 }, { size: 44 }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    view.plots.set(chart.name, new window.uPlot(options, dataOf(chart, nodeIds), figure));
  }
}

function renderCharts(nodeIds) {
  byId('charts').dataset.samples = String(view.samples.length);
  const key = nodeIds.join(',');
  if (key !== view.chartsKey) {
    view.chartsKey = key;
    buildCharts(nodeIds);
    view.samplesDirty = false;
    return;
  }
  if (!view.samplesDirty) return;
  view.samplesDirty = false;
  for (const chart of [...CHARTS, { name: 'latency' }]) {
    view.plots.get(chart.name)?.setData(dataOf(chart, nodeIds));
  }
}

function resizeCharts() {
  for (const [name, plot] of view.plots) {
    const figure = document.querySelector(`[data-chart="${name}"] .plot`);
    if (figure !== null) plot.setSize({ width: chartWidth(figure), height: CHART_HEIGHT });
  }
}

async function loadHistory() {
  try {
    const response = await fetch('/history', { signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const history = await response.json();
    view.samplesMax = Math.max(1, Math.ceil(history.spanMs / history.sampleMs));
    const minutes = history.spanMs / 60_000;
    byId('history-note').textContent =
      `the last ${minutes >= 1 ? `${+minutes.toFixed(1)} min` : `${history.spanMs / 1000} s`}, ` +
      `one sample every ${history.sampleMs / 1000} s, kept by the server; rates per second`;
    for (const sample of history.samples) addSample(sample);
  } catch (error) {
    notice(`history: ${error.message}`, true);
  }
}

// ---------------------------------------------------------------------------------------------
// activity: the server's list of admin actions (whoever made them), newest first

function renderActivity(entries) {
  const list = byId('log');
  for (const entry of entries) {
    let item = view.logRows.get(entry.seq);
    if (item === undefined) {
      item = html('li');
      item.dataset.seq = String(entry.seq);
      view.logRows.set(entry.seq, item);
      list.prepend(item);
    }
    fillActivity(item, entry);
  }
  while (view.logRows.size > LOG_ENTRIES_MAX) {
    const oldest = Math.min(...view.logRows.keys());
    view.logRows.get(oldest)?.remove();
    view.logRows.delete(oldest);
  }
}

function fillActivity(item, entry) {
  const key = `${entry.outcome}|${entry.detail}`;
  if (item.dataset.key === key) return;
  item.dataset.key = key;
  item.className = `outcome-${entry.outcome}`;
  item.dataset.outcome = entry.outcome;
  const time = html('time', '', new Date(entry.atMs).toLocaleTimeString());
  time.dateTime = new Date(entry.atMs).toISOString();
  const action = html('span', 'log-action', entry.action);
  const outcome = html('span', 'log-outcome', entry.outcome);
  const origin = html('span', 'log-origin', entry.origin);
  const took = entry.ms === null ? '' : ` (${integer.format(entry.ms)} ms)`;
  const detail = html('span', 'log-detail', `${entry.detail}${took}`);
  item.replaceChildren(time, action, outcome, origin, detail);
}

/** A message about this page's own doings (bad input, no answer) that the server never saw. */
function notice(text, isError = false) {
  const element = byId('notice');
  element.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  element.classList.toggle('error', isError);
}

// ---------------------------------------------------------------------------------------------
// controls

const TOKEN_KEY = 'ringkv-admin-token';

/** Headers of every admin call: the no-form marker, and the admin token once one was given. */
function adminHeaders() {
  const headers = { 'x-ringkv-request': 'dashboard' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

/** A server with an admin token answered 401: ask for it once (kept for this tab only). */
function askForToken() {
  const token = window.prompt('This cluster requires its admin token (ringkv up --token):');
  if (!token) return false;
  sessionStorage.setItem(TOKEN_KEY, token);
  return true;
}

/**
 * Sends an admin request; resolves true on success. The server's activity log records the
 * outcome (every page shows it); only a request that got no answer is noted here alone.
 */
async function adminRequest(
  method,
  path,
  body,
  what,
  timeoutMs = ADMIN_TIMEOUT_MS,
  retried = false,
) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  // The header tells the server this is no cross-site form post (request-guard.ts).
  const init = { method, signal: controller.signal, headers: adminHeaders() };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(path, init);
    const json = await response.json().catch(() => ({}));
    if (response.status === 401 && !retried && askForToken()) {
      clearTimeout(timer);
      return adminRequest(method, path, body, what, timeoutMs, true);
    }
    if (!response.ok) throw new Error(json.error ?? `HTTP ${response.status}`);
    notice(`${what}: done`);
    return true;
  } catch (error) {
    const reason = error.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : error.message;
    notice(`${what} failed: ${reason}`, true);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function post(path, body, what) {
  return adminRequest('POST', path, body, what);
}

async function nodeAction(id, action) {
  view.busy.add(id);
  updateButtons(id);
  try {
    await post(`/admin/nodes/${encodeURIComponent(id)}/${action}`, undefined, `${action} ${id}`);
  } finally {
    view.busy.delete(id);
    updateButtons(id);
  }
}

/** Membership changes move data: they may take far longer than a kill (the server bounds them). */
const MEMBERSHIP_TIMEOUT_MS = 600_000;

async function membershipChange(run) {
  view.membershipBusy = true;
  byId('add-node').disabled = true;
  for (const id of view.rows.keys()) updateButtons(id);
  try {
    return await run();
  } finally {
    view.membershipBusy = false;
    byId('add-node').disabled = false;
    for (const id of view.rows.keys()) updateButtons(id);
  }
}

async function removeNode(id) {
  const down = view.states.get(id) === 'down';
  const how = down
    ? `${id} is down: it is removed and the others re-replicate its keys among themselves.`
    : `${id} hands its data over to the remaining nodes, then stops.`;
  if (!window.confirm(`Remove node ${id} from the cluster?\n\n${how}`)) return;
  await membershipChange(() =>
    adminRequest(
      'DELETE',
      `/admin/nodes/${encodeURIComponent(id)}`,
      undefined,
      `remove ${id}`,
      MEMBERSHIP_TIMEOUT_MS,
    ),
  );
}

async function addNode(event) {
  event.preventDefault();
  const input = byId('add-node-id');
  const id = input.value.trim();
  const name = id === '' ? 'a node with the next free id' : `node ${id}`;
  if (
    !window.confirm(
      `Add ${name} to the cluster?\n\nIt takes over about 1/n of the partitions; their keys move to it.`,
    )
  )
    return;
  const body = id === '' ? {} : { id };
  const done = await membershipChange(() =>
    adminRequest('POST', '/admin/nodes', body, `add ${id || 'node'}`, MEMBERSHIP_TIMEOUT_MS),
  );
  if (done) input.value = '';
}

/** "n1,n2 n3,n4,n5" → [["n1","n2"],["n3","n4","n5"]]. */
function parseGroups(text) {
  return text
    .trim()
    .split(/\s+/)
    .map((group) =>
      group
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    )
    .filter((group) => group.length > 0);
}

function numberField(id, scale = 1) {
  const input = byId(id);
  if (input.value.trim() === '') return undefined;
  const value = Number(input.value);
  return Number.isFinite(value) ? value * scale : undefined;
}

function wireControls() {
  byId('partition-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const groups = parseGroups(byId('partition-input').value);
    if (groups.length === 0) {
      notice('partition: enter groups such as "n1,n2 n3,n4,n5"', true);
      return;
    }
    const text = groups.map((group) => group.join(',')).join(' ');
    post('/admin/partition', { groups }, `partition ${text}`);
  });
  byId('heal').addEventListener('click', () => post('/admin/heal', undefined, 'heal'));
  byId('network-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {};
    const delay = numberField('delay-input');
    const jitter = numberField('jitter-input');
    const loss = numberField('loss-input', 0.01);
    if (delay !== undefined) body.delay_ms = delay;
    if (jitter !== undefined) body.jitter_ms = jitter;
    if (loss !== undefined) body.loss = loss;
    post('/admin/network', body, `network ${JSON.stringify(body)}`);
  });
  byId('add-node-form').addEventListener('submit', addNode);
  let resizing = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(resizeCharts);
  });
}

function connect() {
  const source = new EventSource('/events');
  source.addEventListener('open', () => setConnection('live', 'live'));
  source.addEventListener('error', () => setConnection('wait', 'reconnecting…'));
  source.addEventListener('message', (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    render(event);
  });
}

wireControls();
byId('ring').addEventListener('mousemove', pointAtPartition);
loadHistory().finally(connect);
