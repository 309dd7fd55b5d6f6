/**
 * The staleness advisor panel: polls GET /advisor (the server caches each answer a few seconds)
 * and shows, for every (R, W), P(a read t ms after an acknowledged write sees it), the t where it
 * reaches 99.9 % and the expected read/write p99, with the configuration in use marked. Written
 * with textContent only; no framework, nothing loaded from elsewhere.
 */

/** How often the panel asks for a fresh answer. */
const ADVISOR_POLL_MS = 5_000;
/** How long one request may take before the panel gives up on it. */
const ADVISOR_TIMEOUT_MS = 10_000;

/** @param {number} p */
function percent(p) {
  if (p >= 1) return '100 %';
  return `${(100 * p).toFixed(p >= 0.999 ? 2 : 1)} %`;
}

/** @param {number} x */
function ms(x) {
  return x >= 100 ? `${x.toFixed(0)} ms` : `${Number(x.toPrecision(3))} ms`;
}

/** @param {string} tag @param {string} text @param {string} [className] */
function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

/** Renders one /advisor answer into the panel's table and status line. */
export function renderAdvice(answer) {
  const status = document.getElementById('advisor-status');
  const head = document.getElementById('advisor-head');
  const body = document.getElementById('advisor-rows');
  if (!status || !head || !body) return;
  const c = answer.classes;
  const lat = ['w', 'a', 'r', 's']
    .map((k) => `${k} ${c[k].p50Ms ?? '–'}/${c[k].p99Ms ?? '–'}`)
    .join(' · ');
  status.textContent =
    `N=${answer.n}, in use R=${answer.inUse.r} W=${answer.inUse.w} · measured p50/p99 ms: ${lat}` +
    ` · ${answer.nodesMeasured} node(s), ${answer.trials} trials`;
  const headRow = document.createElement('tr');
  for (const h of [
    'R',
    'W',
    ...answer.tMs.map((t) => `P(t=${t} ms)`),
    't @ 99.9 %',
    'read p99',
    'write p99',
  ]) {
    headRow.append(cell('th', h));
  }
  head.replaceChildren(headRow);
  if (answer.rows === null) {
    const row = document.createElement('tr');
    const td = cell('td', `no advice yet: ${answer.reason ?? 'unknown'}`, 'muted');
    td.colSpan = 5 + answer.tMs.length;
    row.append(td);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(
    ...answer.rows.map((r) => {
      const row = document.createElement('tr');
      if (r.inUse) {
        row.className = 'in-use';
        row.title = 'the configuration in use';
      }
      row.dataset.rw = `${r.r}/${r.w}`;
      row.append(cell('td', `${r.inUse ? '▶ ' : ''}${r.r}`), cell('td', String(r.w)));
      for (const [, p] of r.consistency) row.append(cell('td', percent(p), 'num'));
      row.append(
        cell('td', ms(r.tAtTargetMs), 'num'),
        cell('td', ms(r.readP99Ms), 'num'),
        cell('td', ms(r.writeP99Ms), 'num'),
      );
      return row;
    }),
  );
}

async function refresh() {
  const status = document.getElementById('advisor-status');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ADVISOR_TIMEOUT_MS);
  try {
    const reply = await fetch('/advisor', { signal: controller.signal });
    if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
    renderAdvice(await reply.json());
  } catch (error) {
    if (status)
      status.textContent = `advisor unavailable: ${error instanceof Error ? error.message : error}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts polling; the page calls it once. */
export function startAdvisorPanel() {
  void refresh();
  setInterval(() => void refresh(), ADVISOR_POLL_MS);
}

if (document.getElementById('advisor-panel')) startAdvisorPanel();
