/**
 * The ringkv dashboard. It listens to GET /events (Server-Sent Events, one event every ~500 ms:
 * see src/server/monitor/dashboard-feed.ts for its shape) and drives the admin routes with fetch. No
 * framework and nothing loaded from elsewhere; everything is written with textContent.
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
/** Partition group colours for the ring's outer band. */
const GROUP_PALETTE = ['#2b59c3', '#d69e2e', '#805ad5', '#38a169', '#dd6b20', '#319795'];
/** How long one admin request may take before the page gives up on it. */
const ADMIN_TIMEOUT_MS = 15_000;
const LOG_ENTRIES_MAX = 50;
/** The node tracks fill the ring between these radii (the SVG spans -120..120). */
const TRACKS_INNER = 46;
const TRACKS_OUTER = 112;
/** Above this many nodes the tracks are too thin for a name. */
const TRACK_LABELS_MAX = 16;

const view = {
  ringKey: '',
  ringStateKey: '',
  /** @type {Map<string, { ground: SVGCircleElement, ticks: SVGPathElement, track: SVGGElement }>} */
  tracks: new Map(),
  /** @type {Map<string, { row: HTMLTableRowElement, cells: Record<string, HTMLElement>, kill: HTMLButtonElement, restart: HTMLButtonElement, state: HTMLElement }>} */
  rows: new Map(),
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
  if (!event.fresh) {
    setConnection('error', event.error ? `stale: ${event.error}` : 'stale');
    return;
  }
  setConnection('live', 'live');
  assignColours(event.nodes);
  renderConfig(event);
  renderRing(event.ring, event.nodes);
  renderNodes(event.nodes);
  renderTotals(event.nodes);
  renderNetwork(event.network);
  renderAntiEntropy(event.antiEntropy);
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
  const { n, r, w, durable } = event.config;
  const storage = durable ? 'durable (lmdb)' : 'in memory';
  byId('config').textContent =
    `${event.nodes.length} nodes · N=${n} R=${r} W=${w} · ` +
    `${integer.format(event.ring.partitionCount)} partitions · ${storage}`;
}

function renderTraffic(traffic) {
  const { get, put, all } = traffic.ops;
  const del = traffic.ops.delete;
  byId('ops-all').textContent = rate(all.perSec);
  byId('ops-split').textContent =
    `get ${rate(get.perSec)} · put ${rate(put.perSec)} · delete ${rate(del.perSec)}`;
  byId('p99-all').textContent = millis(all.p99Ms);
  byId('p99-split').textContent = `get ${millis(get.p99Ms)} · put ${millis(put.p99Ms)}`;
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
// ring: one concentric track per node; a tick for every partition it owns, at the partition's
// place on the hash ring (clockwise from the top). Tracks are tinted by partition group.

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

/** Inner and outer radius of track `index` of `count`. */
function trackRadii(index, count) {
  const step = (TRACKS_OUTER - TRACKS_INNER) / count;
  const inner = TRACKS_OUTER - (index + 1) * step + step * 0.12;
  return [inner, inner + step * 0.76];
}

function drawRing(owners, nodes) {
  const tracks = byId('ring-tracks');
  tracks.replaceChildren();
  view.tracks = new Map();
  nodes.forEach((node, index) => {
    const [inner, outer] = trackRadii(index, nodes.length);
    const commands = [];
    let owned = 0;
    owners.forEach((owner, partition) => {
      if (owner !== node.id) return;
      commands.push(sector(partition, owners.length, inner, outer));
      owned += 1;
    });
    const track = svg('g', { 'data-track': node.id });
    const ground = svg('circle', {
      class: 'track-ground',
      r: ((inner + outer) / 2).toFixed(2),
      'stroke-width': (outer - inner + 1.5).toFixed(2),
    });
    const ticks = svg('path', { class: 'track-ticks', d: commands.join('') });
    const title = svg('title');
    title.textContent = `${node.id}: ${owned} of ${owners.length} partitions`;
    track.append(ground, ticks, title);
    if (nodes.length <= TRACK_LABELS_MAX) {
      const label = svg('text', {
        class: 'track-label',
        x: '-2',
        y: (-(inner + outer) / 2 + 2).toFixed(2),
        'text-anchor': 'end',
      });
      label.textContent = node.id;
      track.append(label);
    }
    tracks.append(track);
    view.tracks.set(node.id, { ground, ticks, track });
  });
  byId('ring-count').textContent = integer.format(owners.length);
  byId('ring-caption').textContent = owners.length === 1 ? 'partition' : 'partitions';
  view.ringStateKey = '';
}

function renderRing(ring, nodes) {
  const ringKey = `${ring.owners.join(',')}|${nodes.map((node) => node.id).join(',')}`;
  if (ringKey !== view.ringKey) {
    drawRing(ring.owners, nodes);
    view.ringKey = ringKey;
  }
  const stateKey = nodes.map((node) => `${node.id}:${node.state}:${node.partitionGroup}`).join();
  if (stateKey !== view.ringStateKey) {
    view.ringStateKey = stateKey;
    colourRing(nodes);
  }
  renderLegend(ring.owners, nodes);
}

function colourRing(nodes) {
  for (const node of nodes) {
    const track = view.tracks.get(node.id);
    if (track === undefined) continue;
    const colour = view.colours.get(node.id) ?? '#999';
    track.ticks.setAttribute('fill', node.state === 'down' ? '#c3c9d2' : colour);
    track.track.classList.toggle('down', node.state === 'down');
    const group = node.partitionGroup;
    const tint = typeof group === 'number' ? GROUP_PALETTE[group % GROUP_PALETTE.length] : null;
    track.ground.setAttribute('stroke', tint ?? '#eef1f5');
    track.ground.setAttribute('stroke-opacity', tint === null ? '1' : '0.28');
  }
}

function renderLegend(owners, nodes) {
  const owned = new Map();
  for (const owner of owners) owned.set(owner, (owned.get(owner) ?? 0) + 1);
  const items = nodes.map((node) => {
    const item = html('li', node.state === 'down' ? 'down' : '');
    const swatch = html('span', 'swatch');
    swatch.style.background = view.colours.get(node.id) ?? '#999';
    item.append(swatch, `${node.id} · ${owned.get(node.id) ?? 0}`);
    return item;
  });
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
  const kill = html('button', 'danger', 'Kill');
  kill.type = 'button';
  kill.setAttribute('aria-label', `kill ${id}`);
  kill.addEventListener('click', () => nodeAction(id, 'kill'));
  const restart = html('button', '', 'Restart');
  restart.type = 'button';
  restart.setAttribute('aria-label', `restart ${id}`);
  restart.addEventListener('click', () => nodeAction(id, 'restart'));
  const actions = html('div', 'actions');
  actions.append(kill, restart);
  const last = html('td');
  last.append(actions);
  row.append(last);
  return { row, cells, kill, restart, state };
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
}

function updateRow(entry, node) {
  view.states.set(node.id, node.state);
  entry.state.dataset.state = node.state;
  entry.state.textContent = stateText(node);
  entry.row.classList.toggle('is-down', node.state === 'down');
  for (const [field, format] of NUMBER_FIELDS) {
    entry.cells[field].textContent = format(node[field]);
  }
  updateButtons(node.id);
}

function updateButtons(id) {
  const entry = view.rows.get(id);
  if (entry === undefined) return;
  const busy = view.busy.has(id);
  const down = view.states.get(id) === 'down';
  entry.kill.disabled = busy || down;
  entry.restart.disabled = busy || !down;
}

// ---------------------------------------------------------------------------------------------
// controls

function log(text, isError = false) {
  const item = html('li', isError ? 'error' : '');
  const time = html('time', '', new Date().toLocaleTimeString());
  item.append(time, text);
  const list = byId('log');
  list.prepend(item);
  while (list.children.length > LOG_ENTRIES_MAX) list.lastElementChild?.remove();
}

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

/** POSTs to an admin route; logs the outcome; resolves true on success. */
async function post(path, body, what, retried = false) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ADMIN_TIMEOUT_MS);
  // The header tells the server this is no cross-site form post (request-guard.ts).
  const init = { method: 'POST', signal: controller.signal, headers: adminHeaders() };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(path, init);
    const json = await response.json().catch(() => ({}));
    if (response.status === 401 && !retried && askForToken()) {
      clearTimeout(timer);
      return post(path, body, what, true);
    }
    if (!response.ok) throw new Error(json.error ?? `HTTP ${response.status}`);
    log(`${what}: done`);
    return true;
  } catch (error) {
    const reason =
      error.name === 'AbortError' ? `no answer within ${ADMIN_TIMEOUT_MS} ms` : error.message;
    log(`${what} failed: ${reason}`, true);
    return false;
  } finally {
    clearTimeout(timer);
  }
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
      log('partition: enter groups such as "n1,n2 n3,n4,n5"', true);
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
connect();
