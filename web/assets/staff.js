// The city-staff page at /staff: sign in with a login and password or a token (signin.js; the
// secret kept in this tab's sessionStorage only, never a cookie or localStorage), see who you are, a city's records for a year with version and
// source, change the counts, a stated rate with its scope (口径) and the source, save with the
// version you read; what the server refuses is shown beside the field in the server's own words,
// and on VERSION_CONFLICT the stored figures beside yours, with a choice. In a round: the
// return's status, the province's comment, submit, the city's draft as a template and a filled
// sheet uploaded (upload.js). Below, the city's revisions. City staff may change their own city;
// others are read-only. Only the answer to the latest choice of city and year is drawn.

import * as Cov from './common.js';
import { $, el } from './common.js';
import * as SignIn from './signin.js';
import * as Upload from './upload.js';

const TOKEN_KEY = 'coverage-api.token';
const RECORD = 'branchType period branchCount eligibleCount newBranches coverageRate rateIsStated statedRate rateScope source version updatedAt updatedBy';
const START = `query StaffStart($first: Int) {
  viewer { id name role cityCode }
  periods
  rounds { period status }
  cities(first: $first) { pageInfo { hasNextPage endCursor } nodes { code name nameEn } }
  ${Cov.BRANCH_TYPES}
}`;
const MORE_CITIES = `query StaffCities($first: Int, $after: String) {
  cities(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { code name nameEn } }
}`;
const RECORDS = `query StaffRecords($code: ID!, $period: Int!, $mine: Boolean!) {
  city(code: $code) { code coverage(period: $period) { ${RECORD} } }
  round(period: $period) { period status dueAt }
  cityReturn(cityCode: $code, period: $period) @include(if: $mine) { status late comment version coverage { ${RECORD} } }
  revisions(cityCode: $code, first: 20) {
    nodes { number kind at note branchType period actor { name role cityCode } before after }
  }
}`;
const UPDATE = `mutation StaffUpdate($input: UpdateCoverageInput!) {
  updateCoverage(input: $input) {
    coverage { ${RECORD} }
    revision { number }
    userErrors { field message messageZh code }
  }
}`;
const SUBMIT = `mutation StaffSubmit($input: ReturnKeyInput!) {
  submitReturn(input: $input) { cityReturn { status late comment version } userErrors { field message messageZh code } }
}`;
const COUNTS = ['branchCount', 'eligibleCount', 'newBranches'];
const FIELDS = [...COUNTS, 'statedRate', 'rateScope', 'source', 'note'];

let token = sessionStorage.getItem(TOKEN_KEY);
let viewer = null;
let cities = [];
let periods = [];
let types = []; // the branch types, as the schema lists them
let stored = {}; // branch type → the record as read (null: none yet)
let revisions = [];
let round = null; // the chosen year's round of the yearly return (null: none opened)
let cityReturn = null; // the chosen city's return in it, when the viewer may read it
const state = {}; // branch type → { problems: field → the server's user error, result, conflict }
// Each load of a city's year takes the next number; an answer is drawn only while its number is
// the latest, so a slow answer for an earlier choice never replaces the one for the current.
let loads = 0;

/** Whether the viewer may read the chosen city's return: its own staff, administrators. */
function mayReadReturn() {
  return Boolean(viewer) && (viewer.role === 'ADMIN' || viewer.cityCode === $('city').value);
}

function editable() {
  const closed = round && round.status === 'CLOSED';
  const locked = cityReturn && (cityReturn.status === 'SUBMITTED' || cityReturn.status === 'APPROVED');
  // A city files only in an open round; the province may enter a year without one.
  const noRound = !round && !(viewer && viewer.role === 'ADMIN');
  return mayReadReturn() && !closed && !locked && !noRound;
}

/** The chosen year's round in words: none, open (with its due date) or closed. */
function drawRound() {
  const line = $('round');
  if (!round) {
    line.textContent = Cov.t('roundNone');
  } else if (round.status === 'CLOSED') {
    line.textContent = Cov.t('roundClosed');
  } else {
    const due = round.dueAt ? ` · ${Cov.t('roundDue')} ${Cov.when(round.dueAt)}` : '';
    line.textContent = `${Cov.t('roundOpen')}${due}`;
  }
  line.dataset.status = round ? round.status : 'NONE';
  drawReturn();
}

/** The city's return: where it stands (late, the province's comment) and, while it is a draft
 * or sent back in an open round, the button that submits it. */
function drawReturn() {
  const line = $('return');
  const submit = $('submit-return');
  line.replaceChildren();
  line.dataset.status = cityReturn ? cityReturn.status : 'NONE';
  submit.hidden = true;
  if (!cityReturn) return;
  const parts = [`${Cov.t('ourReturn')}: ${Cov.t(cityReturn.status)}`];
  if (cityReturn.late) parts.push(Cov.t('late'));
  line.append(el('span', null, parts.join(' · ')));
  if (cityReturn.comment) {
    line.append(el('span', 'comment', ` · ${Cov.t('provinceComment')}: ${cityReturn.comment}`));
  }
  const open = round && round.status === 'OPEN';
  submit.hidden = !(open && (cityReturn.status === 'DRAFT' || cityReturn.status === 'RETURNED'));
}

/** Submits the chosen city's return; the server's refusal, if any, is shown in its words. */
async function submitReturn() {
  const chosen = selection();
  const input = { cityCode: chosen.code, period: chosen.period, expectedVersion: cityReturn.version };
  let response;
  try {
    response = await Cov.gql(SUBMIT, { input }, token);
  } catch (err) {
    $('access').textContent = Cov.t('errNetwork');
    return;
  }
  const payload = response.data && response.data.submitReturn;
  if (response.errors || !payload) {
    $('access').textContent = Cov.describeErrors(response.errors || []);
    return;
  }
  if (payload.userErrors.length) {
    $('access').textContent = payload.userErrors.map((e) => `${Cov.refusalText(e)} (${e.code})`).join('; ');
    return;
  }
  await load();
}

/** The token problem line: the page's words for `key`, or the server's own for `errors`. */
function tokenProblem(key, errors) {
  const problem = $('token-problem');
  if (key) {
    problem.dataset.t = key;
    problem.textContent = Cov.t(key);
  } else {
    delete problem.dataset.t;
    problem.textContent = Cov.describeErrors(errors);
  }
}

async function signIn(secret) {
  tokenProblem(null, []);
  if (!secret) {
    tokenProblem('errTokenEmpty');
    return;
  }
  let response;
  let all;
  try {
    ({ response, cities: all } = await SignIn.firstRead(START, MORE_CITIES, secret));
  } catch (err) {
    if (err instanceof Cov.ServerError) tokenProblem(null, err.errors);
    else tokenProblem('errNetwork');
    return;
  }
  if (!response.data || !response.data.viewer) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    // The server says why (an unknown or revoked token is UNAUTHENTICATED, in its words); no
    // errors and no viewer means it saw no token.
    if (response.errors) tokenProblem(null, response.errors);
    else tokenProblem('errTokenEmpty');
    return;
  }
  token = secret;
  sessionStorage.setItem(TOKEN_KEY, token);
  viewer = response.data.viewer;
  cities = all;
  periods = response.data.periods;
  types = Cov.branchTypes(response.data);
  $('token').value = '';
  showSignedIn(true);
  $('work').hidden = false;
  document.body.dataset.state = 'signed-in';
  const city = $('city');
  city.replaceChildren(...cities.map((c) => new Option(`${Cov.cityName(c)} (${c.code})`, c.code)));
  city.value = viewer.cityCode || cities[0].code;
  // The years with figures, every round's and the next; the newest open round's year first.
  const rounds = response.data.rounds || [];
  const years = new Set([...periods, ...rounds.map((r) => r.period)]);
  const next = years.size ? Math.max(...years) + 1 : new Date().getFullYear();
  years.add(next);
  $('period').replaceChildren(...[...years].sort((a, b) => b - a).map((p) => new Option(String(p), String(p))));
  const open = rounds.filter((r) => r.status === 'OPEN').map((r) => r.period);
  $('period').value = String(open.length ? Math.max(...open) : (periods.length ? Math.max(...periods) : next));
  drawWho();
  await load();
}

async function signOut() {
  await SignIn.signOut(token); // the session ends on the server before the page says so
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  viewer = null;
  $('work').hidden = true;
  showSignedIn(false);
  document.body.dataset.state = 'signed-out';
  $('login').focus();
}

/** Signed in, the sign-in fields give way to a sign-out button. */
function showSignedIn(yes) {
  SignIn.showForm(!yes);
  $('token-help').hidden = yes;
  $('sign-out').hidden = !yes;
}

function drawWho() {
  if (!viewer) return;
  const city = cities.find((c) => c.code === viewer.cityCode);
  $('who').textContent = `${viewer.name} · ${Cov.t(viewer.role)} (${viewer.role})${city ? ` · ${Cov.cityName(city)}` : ''}`;
  for (const option of $('city').options) {
    const c = cities.find((x) => x.code === option.value);
    option.textContent = `${Cov.cityName(c)} (${c.code})`;
  }
}

/** The template link follows the chosen city and year. */
function templateLink() {
  $('template').href = `/export/template.xlsx?${Cov.linkQuery({ city: $('city').value, period: $('period').value })}`;
}

/** The city's own staff (and administrators) get the return as it stands, their draft and its
 * versions, which the server answers only with the token: fetched, then saved from memory. */
async function downloadTemplate(event) {
  if (!token || !mayReadReturn()) return; // others follow the link to the published figures
  event.preventDefault();
  let response;
  try {
    response = await fetch($('template').href, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch (err) {
    $('access').textContent = Cov.t('errNetwork');
    return;
  }
  if (!response.ok) {
    const report = await response.json().catch(() => ({ errors: [] }));
    $('access').textContent = (report.errors || []).map((e) => (Cov.lang === 'en' ? e.message_en : e.message_zh)).join('; ');
    return;
  }
  const disposition = response.headers.get('content-disposition') || '';
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || 'return.xlsx';
  const link = el('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

/** The city and year chosen now. */
function selection() {
  return { code: $('city').value, period: Number($('period').value) };
}

/** Reads the chosen city's records of the chosen year and its revisions, and draws them. */
async function load() {
  const mine = ++loads;
  templateLink();
  document.body.dataset.state = 'loading';
  let response;
  try {
    response = await Cov.gql(RECORDS, { ...selection(), mine: mayReadReturn() }, token);
  } catch (err) {
    if (mine === loads) {
      $('access').textContent = Cov.t('errNetwork');
      document.body.dataset.state = 'ready';
    }
    return;
  }
  if (mine !== loads) return; // a later choice was made meanwhile; its answer will be drawn
  stored = {};
  for (const type of types) {
    stored[type] = null;
    state[type] = { problems: {}, result: null, conflict: null };
  }
  // In a round, the city's own figures are its return's (its drafts, public once published);
  // elsewhere, and for readers who may not see the return, the published figures.
  const own = response.data && response.data.cityReturn;
  const records = own ? own.coverage : (response.data && response.data.city ? response.data.city.coverage : []);
  for (const r of records) stored[r.branchType] = r;
  revisions = response.data && response.data.revisions ? response.data.revisions.nodes : [];
  round = response.data ? response.data.round : null;
  cityReturn = response.data && response.data.cityReturn ? response.data.cityReturn : null;
  drawRound();
  drawRecords();
  Upload.enable(editable());
  if (response.errors) $('access').textContent = Cov.describeErrors(response.errors);
  drawRevisions();
  document.body.dataset.state = 'ready';
}

function drawRecords() {
  const canEdit = editable();
  const closed = round && round.status === 'CLOSED';
  const waiting = !round && mayReadReturn();
  $('access').textContent = canEdit
    ? (viewer.role === 'ADMIN' ? Cov.t('adminAny') : '')
    : (closed || waiting ? '' : Cov.t('readOnly'));
  $('records').replaceChildren(...types.map((type) => recordForm(type, canEdit)));
}

function recordForm(type, canEdit, values) {
  const r = stored[type];
  const form = el('form');
  form.noValidate = true;
  form.dataset.type = type;
  const fieldset = el('fieldset');
  fieldset.disabled = !canEdit;
  fieldset.append(el('legend', null, Cov.t(type)));
  const meta = el('p', 'meta');
  meta.dataset.field = 'meta';
  if (r) {
    meta.textContent = `${Cov.t('version')} ${r.version} · ${Cov.t('coverageRate')} ${Cov.rate(r.coverageRate) ?? '—'}${r.rateIsStated ? ` (${Cov.t('stated')})` : ''} · ${r.updatedBy ?? ''} ${Cov.when(r.updatedAt)}`;
  } else {
    meta.textContent = `${Cov.t('version')} 0 · ${Cov.t('noRecord')}`;
  }
  fieldset.append(meta);
  const current = values || {
    branchCount: r && r.branchCount != null ? String(r.branchCount) : '',
    eligibleCount: r && r.eligibleCount != null ? String(r.eligibleCount) : '',
    newBranches: r && r.newBranches != null ? String(r.newBranches) : '',
    statedRate: r && r.statedRate != null ? percent(r.statedRate) : '',
    rateScope: r && r.rateScope ? r.rateScope : '',
    source: r && r.source ? r.source : '',
    note: '',
  };
  for (const name of FIELDS) {
    fieldset.append(field(type, name, current[name]));
  }
  const save = el('button', 'primary', Cov.t('save'));
  save.type = 'submit';
  save.hidden = !canEdit;
  fieldset.append(save);
  const result = el('p', 'result');
  result.setAttribute('role', 'status');
  const s = state[type];
  if (s.result) {
    result.textContent = s.result.ok ? `${Cov.t('saved')} ${s.result.version}` : s.result.message;
    result.classList.add(s.result.ok ? 'ok' : 'bad');
  }
  fieldset.append(result);
  if (s.conflict) fieldset.append(conflictBox(type, s.conflict));
  form.append(fieldset);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(type, form, r ? r.version : 0);
  });
  return form;
}

function field(type, name, value) {
  const id = `${type}-${name}`;
  const wrap = el('div', 'field');
  const label = el('label', null, Cov.t(name === 'statedRate' ? 'statedRatePercent' : name));
  label.htmlFor = id;
  // One line each (an <input>, not a <textarea>): a text is one line in a table cell.
  const input = el('input');
  input.id = id;
  input.name = name;
  input.value = value;
  if (COUNTS.includes(name) || name === 'statedRate') {
    input.inputMode = name === 'statedRate' ? 'decimal' : 'numeric';
    input.placeholder = Cov.t('unknownEmpty');
  }
  const problem = el('span', 'problem');
  problem.id = `${id}-problem`;
  problem.setAttribute('aria-live', 'polite');
  input.setAttribute('aria-describedby', problem.id);
  const refused = state[type].problems[name];
  if (refused) {
    problem.textContent = Cov.refusalText(refused);
    problem.dataset.code = refused.code;
    input.setAttribute('aria-invalid', 'true');
  }
  wrap.append(label, input, problem);
  return wrap;
}

/** What the form holds, as entered. */
function valuesOf(form) {
  const v = {};
  for (const name of FIELDS) v[name] = form.elements[name].value.trim();
  return v;
}

/**
 * A count as entered, for the input: empty is null (unknown); a number is sent as a number;
 * anything else is sent as it is, for the server to refuse in its own words.
 */
function countOf(text) {
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** A stated rate (0 to 1) as the percentage a person types: 0.95 → "95". */
function percent(rate) {
  return String(Math.round(rate * 100000) / 1000);
}

/** A percentage as entered, for the input's rate (0 to 1): empty is null (not stated). */
function rateOf(text) {
  if (text === '') return null;
  const n = Number(text.replace(/[%％]$/, ''));
  return Number.isFinite(n) ? Math.round(n * 1000) / 100000 : text;
}

/** Sends the form's figures with the version read and draws what the server answers. */
async function submit(type, form, version, values) {
  const v = values || valuesOf(form);
  const s = state[type];
  s.problems = {};
  s.result = null;
  s.conflict = null;
  const mine = loads;
  const chosen = selection();
  const input = {
    cityCode: chosen.code,
    branchType: type,
    period: chosen.period,
    expectedVersion: version,
    source: v.source,
  };
  for (const name of COUNTS) input[name] = countOf(v[name]);
  input.statedRate = rateOf(v.statedRate);
  input.rateScope = v.rateScope === '' ? null : v.rateScope;
  if (v.note) input.note = v.note;
  let response;
  try {
    response = await Cov.gql(UPDATE, { input }, token);
  } catch (err) {
    if (mine !== loads) return;
    s.result = { ok: false, message: Cov.t('errNetwork') };
    redraw(type, v);
    return;
  }
  // Another city or year was chosen meanwhile: its forms are not this answer's to change.
  if (mine !== loads) return;
  const payload = response.data && response.data.updateCoverage;
  if (!payload) {
    s.result = { ok: false, message: Cov.describeErrors(response.errors) };
    redraw(type, v);
    return;
  }
  if (payload.userErrors.some((e) => e.code === 'VERSION_CONFLICT')) {
    s.conflict = { theirs: payload.coverage, yours: v };
    redraw(type, v);
    return;
  }
  if (payload.userErrors.length > 0) {
    // Each refusal beside its field, in the server's words; those of no field on the form below.
    const elsewhere = [];
    for (const e of payload.userErrors) {
      const name = e.field[e.field.length - 1];
      if (FIELDS.includes(name) && !s.problems[name]) s.problems[name] = e;
      else elsewhere.push(Cov.refusalText(e));
    }
    if (elsewhere.length > 0) s.result = { ok: false, message: elsewhere.join('; ') };
    redraw(type, v);
    const first = document.querySelector(`form[data-type="${type}"] [aria-invalid="true"]`);
    if (first) first.focus();
    return;
  }
  stored[type] = payload.coverage;
  s.result = { ok: true, version: payload.coverage.version };
  redraw(type);
  const reread = await Cov.gql(RECORDS, { ...chosen, mine: mayReadReturn() }, token);
  if (mine === loads && reread.data && reread.data.revisions) {
    revisions = reread.data.revisions.nodes;
    drawRevisions();
  }
  // A first figure begins the return; one after it was sent back resumes it.
  if (mine === loads && reread.data && reread.data.cityReturn) {
    cityReturn = reread.data.cityReturn;
    drawReturn();
  }
}

function redraw(type, values) {
  const old = document.querySelector(`form[data-type="${type}"]`);
  const next = recordForm(type, editable(), values);
  old.replaceWith(next);
}

/** The stored record beside the user's figures, and the two ways out. */
function conflictBox(type, conflict) {
  const theirs = conflict.theirs;
  const box = el('div', 'conflict');
  box.setAttribute('role', 'alert');
  box.append(el('p', null, Cov.t('conflictBy', { who: theirs.updatedBy ?? '—', at: Cov.when(theirs.updatedAt), v: theirs.version })));
  const table = el('table');
  const head = el('tr');
  for (const text of [Cov.t('field'), Cov.t('theirFigures'), Cov.t('yourFigures')]) {
    const th = el('th', null, text);
    th.scope = 'col';
    head.append(th);
  }
  table.append(head);
  for (const name of [...COUNTS, 'statedRate', 'rateScope', 'source']) {
    const tr = el('tr');
    tr.dataset.field = name;
    const th = el('th', null, Cov.t(name === 'statedRate' ? 'statedRatePercent' : name));
    th.scope = 'row';
    const value = name === 'statedRate' && theirs[name] != null ? percent(theirs[name]) : theirs[name];
    const their = value == null ? '—' : String(value);
    const mine = conflict.yours[name] === '' ? '—' : conflict.yours[name];
    tr.append(th, el('td', 'theirs', their), el('td', 'yours', mine));
    table.append(tr);
  }
  box.append(table);
  const actions = el('div', 'actions');
  const keep = el('button', null, Cov.t('keepTheirs'));
  keep.type = 'button';
  keep.dataset.action = 'keep-theirs';
  keep.addEventListener('click', () => {
    stored[type] = theirs;
    state[type] = { problems: {}, result: null, conflict: null };
    redraw(type);
  });
  const send = el('button', 'primary', Cov.t('sendMine', { v: theirs.version }));
  send.type = 'button';
  send.dataset.action = 'send-mine';
  send.addEventListener('click', () => {
    stored[type] = theirs;
    const form = document.querySelector(`form[data-type="${type}"]`);
    submit(type, form, theirs.version, conflict.yours);
  });
  actions.append(keep, send);
  box.append(actions);
  return box;
}

function drawRevisions() {
  const rows = revisions.map((r) => {
    const tr = el('tr');
    tr.dataset.number = String(r.number);
    tr.append(
      el('td', null, Cov.when(r.at)),
      el('td', null, `${r.actor.name} (${r.actor.role})`),
      el('td', null, `${r.branchType ? Cov.t(r.branchType) : Cov.t(r.kind)} ${r.period ?? ''}`),
      el('td', 'change', Cov.describeRevision(r)),
      el('td', null, r.note ?? ''),
    );
    return tr;
  });
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', 'muted', Cov.t('noRevisions'));
    td.colSpan = 5;
    tr.append(td);
    rows.push(tr);
  }
  document.querySelector('#revisions tbody').replaceChildren(...rows);
}

SignIn.wire(signIn);
$('sign-out').addEventListener('click', signOut);
$('city').addEventListener('change', load);
$('period').addEventListener('change', load);
$('submit-return').addEventListener('click', submitReturn);
$('template').addEventListener('click', downloadTemplate);
Upload.setup(() => token, load);
Cov.initLang(() => {
  if (!viewer) return;
  drawWho();
  drawRound();
  Upload.redraw();
  for (const type of types) {
    const form = document.querySelector(`form[data-type="${type}"]`);
    if (form) redraw(type, valuesOf(form));
  }
  drawRevisions();
});
if (token) signIn(token);
