/**
 * "Explain this key": a key box on the dashboard. It asks GET /explain/:key and shows the
 * verdict first, then the partition, preference list, stand-ins and what every node holds
 * (siblings with their dots, tombstones, expiry, hints, pending work, anti-entropy). Written
 * with textContent only.
 */

/** How long one explanation may take before the box gives up on it. */
const EXPLAIN_TIMEOUT_MS = 10_000;

/** @param {string} tag @param {string} text @param {string} [className] */
function el(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function siblingsText(siblings) {
  return siblings
    .map((s) => {
      const what = s.tombstone
        ? 'tombstone'
        : s.text === null
          ? `${s.bytes} bytes`
          : JSON.stringify(s.text);
      const expiry =
        s.expiresAtMs === undefined ? '' : `, expires ${new Date(s.expiresAtMs).toISOString()}`;
      return `${what} (dot ${s.dot[0]}:${s.dot[1]}${expiry})`;
    })
    .join('; ');
}

/** Renders one /explain answer into the box. */
export function renderExplanation(e) {
  const out = document.getElementById('explain-out');
  if (!out) return;
  const verdict = el('ul', '', 'verdict');
  for (const line of e.verdict) verdict.append(el('li', line));
  const where = el(
    'p',
    `partition ${e.partition} · preference list ${e.preferenceList.join(', ')}` +
      (e.fallbacks.length > 0
        ? ` · stand-ins: ${e.fallbacks.map((f) => `${f.node} for ${f.for}`).join(', ')}`
        : ''),
    'muted',
  );
  const table = document.createElement('table');
  table.className = 'explain-nodes';
  const head = document.createElement('tr');
  for (const h of ['node', 'role', 'state', 'holds', 'hints', 'pending', 'anti-entropy'])
    head.append(el('th', h));
  table.append(head);
  for (const n of e.nodes) {
    const row = document.createElement('tr');
    row.dataset.node = n.node;
    const pending = [
      n.writePending ? 'write' : '',
      n.coordinating ? 'operation' : '',
      n.reapPending ? 'reap' : '',
    ]
      .filter(Boolean)
      .join(', ');
    const ae = n.antiEntropy
      .map((c) => `${c.peer} ${c.msAgo} ms ago${c.differed ? ' (differed)' : ''}`)
      .join(', ');
    row.append(
      el('td', n.node),
      el('td', n.primary ? 'replica' : 'other'),
      el('td', n.state),
      el('td', n.siblings === null ? '–' : siblingsText(n.siblings)),
      el('td', n.hints.map((h) => `for ${h.for}: ${siblingsText(h.siblings)}`).join('; ') || '–'),
      el('td', pending || '–'),
      el('td', ae || '–'),
    );
    table.append(row);
  }
  out.replaceChildren(verdict, where, table);
}

async function explain(key) {
  const out = document.getElementById('explain-out');
  if (!out) return;
  out.replaceChildren(el('p', `explaining ${JSON.stringify(key)}…`, 'muted'));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), EXPLAIN_TIMEOUT_MS);
  try {
    const reply = await fetch(`/explain/${encodeURIComponent(key)}`, { signal: controller.signal });
    const body = await reply.json();
    if (!reply.ok) throw new Error(body.error ?? `HTTP ${reply.status}`);
    renderExplanation(body);
  } catch (error) {
    out.replaceChildren(
      el('p', `could not explain: ${error instanceof Error ? error.message : error}`, 'error'),
    );
  } finally {
    clearTimeout(timer);
  }
}

const form = document.getElementById('explain-form');
if (form) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('explain-key');
    const key = input instanceof HTMLInputElement ? input.value : '';
    if (key !== '') void explain(key);
  });
}
