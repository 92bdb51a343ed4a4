// The staff page's spreadsheet upload: a city's filled-in template (or any sheet the import
// reads) sent to POST /import/coverage as an ordinary multipart/form-data form. It is checked
// first (a dry run: nothing is written) and its findings are shown in the page's language, every
// change with its row, before and after, and every problem with its row and column, in the
// server's own words; only a file with changes and no errors can then be written to the draft,
// all or nothing, with the same file.

import * as Cov from './common.js';
import { $, el } from './common.js';

let token = () => null;
let applied = async () => {};
let file = null; // the chosen file, as checked
let shown = null; // { report, status, wrote }: the last answer, drawn again on a language switch

/** Wires the form: `getToken` gives the signed-in secret, `onApplied` reloads the figures. */
export function setup(getToken, onApplied) {
  token = getToken;
  applied = onApplied;
  $('upload').addEventListener('submit', (event) => {
    event.preventDefault();
    check();
  });
  $('upload-file').addEventListener('change', () => {
    file = null;
    shown = null;
    draw();
  });
  $('upload-apply').addEventListener('click', apply);
}

/** Whether the chosen city's draft may take a file now; a change of city or year clears it. */
export function enable(yes) {
  $('upload').hidden = !yes;
  $('upload-file').value = '';
  file = null;
  shown = null;
  draw();
}

/** Draws the last answer again (after a language switch). */
export function redraw() {
  draw();
}

/** Sends the chosen file as a form; resolves to [status, report], or null when unreachable. */
async function send(dryRun) {
  const form = new FormData();
  form.append('dryRun', String(dryRun));
  form.append('file', file, file.name);
  try {
    const response = await fetch('/import/coverage', {
      method: 'POST',
      headers: { authorization: `Bearer ${token()}` },
      body: form,
      cache: 'no-store',
    });
    return [response.status, await response.json()];
  } catch (err) {
    return null;
  }
}

async function check() {
  const chosen = $('upload-file').files[0];
  if (!chosen) {
    shown = { note: 'uploadChoose' };
    draw();
    return;
  }
  file = chosen;
  shown = { note: 'uploadChecking' };
  draw();
  const answer = await send(true);
  shown = answer ? { status: answer[0], report: answer[1] } : { note: 'errNetwork' };
  draw();
}

async function apply() {
  if (!file) return;
  $('upload-apply').disabled = true;
  const answer = await send(false);
  const result = answer ? { status: answer[0], report: answer[1], wrote: true } : { note: 'errNetwork' };
  if (answer && answer[1].applied) await applied(); // the figures read again, the form reset
  shown = result;
  draw();
}

/** A problem's or change's words in the page's language. */
function message(problem) {
  return Cov.lang === 'en' ? problem.message_en : problem.message_zh;
}

/** Where in the file: "第 3 行 · 组织数", or nothing for the file as a whole. */
function place(item) {
  const parts = [];
  if (item.row) parts.push(Cov.t('uploadRow', { n: item.row }));
  if (item.column) parts.push(item.column);
  return parts.join(' · ');
}

function figures(f) {
  if (!f) return Cov.t('created');
  const parts = [];
  for (const name of ['branchCount', 'eligibleCount', 'newBranches']) {
    if (f[name] != null) parts.push(`${Cov.t(name)} ${f[name]}`);
  }
  if (f.statedRate != null) parts.push(`${Cov.t('statedRate')} ${Cov.rate(f.statedRate)}`);
  if (f.rateScope) parts.push(`${Cov.t('rateScope')} ${f.rateScope}`);
  return parts.join(', ') || '—';
}

function draw() {
  const out = $('upload-report');
  const button = $('upload-apply');
  button.hidden = true;
  button.disabled = false;
  out.replaceChildren();
  delete out.dataset.outcome;
  if (!shown) return;
  if (shown.note) {
    out.append(el('p', 'muted', Cov.t(shown.note)));
    return;
  }
  const { report, status, wrote } = shown;
  const errors = report.errors || [];
  const changes = report.changes || [];
  let outcome;
  if (errors.length) outcome = 'refused';
  else if (report.applied) outcome = 'applied';
  else if (changes.length === 0) outcome = 'nothing';
  else outcome = wrote ? 'refused' : 'ready';
  out.dataset.outcome = outcome;
  out.dataset.status = String(status);
  const headline = {
    refused: Cov.t('uploadRefused', { n: errors.length }),
    applied: Cov.t('uploadApplied', { n: changes.length }),
    nothing: Cov.t('uploadNothing'),
    ready: Cov.t('uploadReady', { n: changes.length }),
  }[outcome];
  out.append(el('p', `result ${outcome === 'refused' ? 'bad' : 'ok'}`, headline));
  if (errors.length) out.append(list('errors', errors));
  if (changes.length && !errors.length) out.append(table(changes));
  if ((report.warnings || []).length) out.append(list('warnings', report.warnings));
  button.hidden = outcome !== 'ready';
}

function list(kind, problems) {
  const ul = el('ul', `upload-${kind}`);
  for (const p of problems) {
    // The place first, unless the server's words begin with the row already.
    const words = message(p);
    const where = p.row && words.startsWith(Cov.t('uploadRow', { n: p.row })) ? '' : place(p);
    const li = el('li', null, `${where ? `${where}: ` : ''}${words} (${p.code})`);
    li.dataset.code = p.code;
    ul.append(li);
  }
  return ul;
}

function table(changes) {
  const t = el('table', 'upload-changes');
  const head = el('tr');
  for (const key of ['uploadRowHead', 'record', 'change']) {
    const th = el('th', null, Cov.t(key));
    th.scope = 'col';
    head.append(th);
  }
  t.append(head);
  for (const c of changes) {
    const tr = el('tr');
    tr.dataset.city = c.cityCode;
    tr.dataset.type = c.branchType;
    tr.append(
      el('td', null, String(c.row)),
      el('td', null, `${c.cityCode} ${Cov.t(c.branchType)} ${c.period}`),
      el('td', 'change', `${figures(c.before)} → ${figures(c.after)}`),
    );
    t.append(tr);
  }
  return t;
}
