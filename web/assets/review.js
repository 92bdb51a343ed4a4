// The province's review page at /review (administrators): the chosen year's round (open it with
// a due date, close it, reopen it with a reason, publish what is approved), its 18 returns with
// status, when and by whom submitted, late or not, published or not; a return opened beside the
// city's published figures with every changed figure marked, and the steps on it (send back with
// a comment, approve, publish, reopen with a reason). It updates live as cities submit
// (`returnStatusChanged`). What the server refuses is shown in its words.

import * as Cov from './common.js';
import * as SignIn from './signin.js';
import { $, el } from './common.js';

const TOKEN_KEY = 'coverage-api.token';
const FIGURES = ['branchCount', 'eligibleCount', 'newBranches', 'statedRate', 'rateScope', 'source'];
const RECORD = `branchType ${FIGURES.join(' ')} version`;
const START = `query ReviewStart { viewer { name role } periods rounds { period } ${Cov.BRANCH_TYPES} }`;
// One round trip: the round, its returns with their drafts, and the published figures.
const READ = `query Review($period: Int!) {
  round(period: $period) {
    period status dueAt version expectedCities receivedCities lateCities publishedCities
    returns {
      city { code name nameEn } status submittedAt submittedBy late comment published version
      coverage { ${RECORD} }
    }
  }
  cities(first: 100) { nodes { code coverage(period: $period) { ${RECORD} } } }
}`;
const LIVE = { returns: 'subscription ReviewReturns { returnStatusChanged { cityReturn { status } } }' };

let token = sessionStorage.getItem(TOKEN_KEY);
let types = [];
let data = null; // the last answer to READ
let chosenCity = null; // the city whose return is open beside its published figures
let reads = 0;

/** Sends `query` with the signed-in token; the answer's JSON. */
function ask(query, variables) {
  return Cov.gql(query, variables, token);
}

async function signIn(secret) {
  $('token-problem').textContent = '';
  let response;
  try {
    response = await Cov.gql(START, {}, secret);
  } catch (err) {
    $('token-problem').textContent = err instanceof Cov.ServerError
      ? Cov.describeErrors(err.errors) : Cov.t('errNetwork');
    return;
  }
  const viewer = response.data && response.data.viewer;
  if (!viewer || viewer.role !== 'ADMIN') {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    $('token-problem').textContent = response.errors
      ? Cov.describeErrors(response.errors) : Cov.t('adminOnly');
    return;
  }
  token = secret;
  sessionStorage.setItem(TOKEN_KEY, token);
  types = Cov.branchTypes(response.data);
  $('who').textContent = `${viewer.name} · ${Cov.t(viewer.role)}`;
  SignIn.showForm(false);
  $('sign-out').hidden = false;
  $('work').hidden = false;
  const years = new Set([...response.data.periods, ...response.data.rounds.map((r) => r.period)]);
  const newest = years.size ? Math.max(...years) : new Date().getFullYear() - 1;
  years.add(newest + 1);
  $('period').replaceChildren(...[...years].sort((a, b) => b - a).map((p) => new Option(String(p), String(p))));
  const rounds = response.data.rounds.map((r) => r.period);
  $('period').value = String(rounds.length ? Math.max(...rounds) : newest);
  document.body.dataset.state = 'signed-in';
  listen();
  await load();
}

/** Reads the chosen year and draws it; only the answer to the latest read is drawn. */
async function load() {
  const mine = ++reads;
  const response = await ask(READ, { period: Number($('period').value) });
  if (mine !== reads) return;
  data = response.data;
  draw();
  document.body.dataset.state = 'ready';
}

function draw() {
  if (!data) return;
  const round = data.round;
  const line = $('round');
  line.dataset.status = round ? round.status : 'NONE';
  if (!round) {
    line.textContent = Cov.t('roundNone');
  } else {
    const parts = [Cov.t(round.status === 'OPEN' ? 'roundOpen' : 'roundClosedShort')];
    if (round.dueAt) parts.push(`${Cov.t('roundDue')} ${Cov.when(round.dueAt)}`);
    parts.push(`${Cov.t('received')} ${round.receivedCities}/${round.expectedCities}`);
    parts.push(`${Cov.t('late')} ${round.lateCities}`);
    parts.push(`${Cov.t('published')} ${round.publishedCities}/${round.expectedCities} ${Cov.t('citiesUnit')}`);
    line.textContent = parts.join(' · ');
  }
  $('open-round').disabled = Boolean(round);
  $('close-round').disabled = !round || round.status !== 'OPEN';
  $('reopen-round').disabled = !round || round.status !== 'CLOSED';
  $('publish-round').disabled = !round;
  const returns = round ? round.returns : [];
  $('returns').querySelector('tbody').replaceChildren(...returns.map(returnRow));
  drawDetail();
}

function returnRow(r) {
  const tr = el('tr');
  tr.dataset.city = r.city.code;
  tr.dataset.status = r.status;
  const name = el('th', null, `${Cov.cityName(r.city)} (${r.city.code})`);
  name.scope = 'row';
  const status = el('td', 'status', Cov.t(r.status) + (r.late ? ` · ${Cov.t('late')}` : ''));
  const open = el('button', null, Cov.t('openReturn'));
  open.type = 'button';
  open.addEventListener('click', () => { chosenCity = r.city.code; drawDetail(); });
  const actions = el('td');
  actions.append(open);
  tr.append(name, status,
    el('td', null, r.submittedAt ? Cov.when(r.submittedAt) : '—'),
    el('td', null, r.submittedBy || '—'),
    el('td', 'published', r.published ? '✓' : ''),
    actions);
  return tr;
}

/** Shown in the table's figures: a dash for unknown. */
function shown(v) {
  if (v == null || v === '') return '—';
  return typeof v === 'number' ? Cov.count(v) : String(v);
}

/** The chosen return beside the city's published figures, every changed figure marked. */
function drawDetail() {
  const round = data && data.round;
  const r = round && chosenCity ? round.returns.find((x) => x.city.code === chosenCity) : null;
  $('detail').hidden = !r;
  if (!r) return;
  $('detail').dataset.city = r.city.code;
  $('detail-title').textContent = `${Cov.cityName(r.city)} · ${Cov.t(r.status)}`;
  $('detail-comment').textContent = r.comment ? `${Cov.t('provinceComment')}: ${r.comment}` : '';
  const city = data.cities.nodes.find((c) => c.code === r.city.code);
  const rows = [];
  for (const type of types) {
    const published = (city ? city.coverage : []).find((c) => c.branchType === type) || {};
    const draft = r.coverage.find((c) => c.branchType === type) || {};
    for (const field of FIGURES) {
      const tr = el('tr');
      const changed = shown(published[field]) !== shown(draft[field]);
      if (changed) tr.classList.add('changed');
      tr.dataset.key = `${type}/${field}`;
      tr.append(el('td', null, Cov.t(type)), el('td', null, Cov.t(field)),
        el('td', null, shown(published[field])), el('td', null, shown(draft[field])));
      rows.push(tr);
    }
  }
  $('detail-figures').querySelector('tbody').replaceChildren(...rows);
  $('send-back').disabled = r.status !== 'SUBMITTED';
  $('approve').disabled = r.status !== 'SUBMITTED';
  $('publish-return').disabled = !(r.status === 'APPROVED' && !r.published);
  $('reopen-return').disabled = r.status !== 'APPROVED';
}

/** Takes a step; the server's refusals in its words, then the year read again. */
async function step(mutation, inputType, input) {
  const result = $('step-result');
  result.textContent = '';
  result.classList.remove('bad');
  const query = `mutation($input: ${inputType}!) { ${mutation}(input: $input) { userErrors { field message messageZh code } } }`;
  const response = await ask(query, { input });
  const payload = response.data && response.data[mutation];
  if (!payload) {
    result.textContent = Cov.describeErrors(response.errors || []);
    result.classList.add('bad');
  } else if (payload.userErrors.length > 0) {
    result.textContent = payload.userErrors.map((e) => Cov.refusalText(e)).join('; ');
    result.classList.add('bad');
  } else {
    result.textContent = Cov.t('done');
  }
  await load();
}

function period() {
  return Number($('period').value);
}

function key() {
  return { cityCode: chosenCity, period: period() };
}

function listen() {
  Cov.live(LIVE, {
    open() { $('live-state').textContent = Cov.t('live'); },
    next() { load(); },
    resumed() { load(); },
    stopped(_id, errors) { $('live-state').textContent = Cov.describeErrors(errors); },
    lost() { $('live-state').textContent = Cov.t('liveLost'); },
  }, { Authorization: `Bearer ${token}` });
}

SignIn.wire(signIn);
$('sign-out').addEventListener('click', async () => {
  await SignIn.signOut(token);
  sessionStorage.removeItem(TOKEN_KEY);
  window.location.reload();
});
$('period').addEventListener('change', () => { chosenCity = null; load(); });
$('open-round').addEventListener('click', () => {
  const due = $('due').value;
  step('openRound', 'OpenRoundInput', { period: period(), dueAt: due ? `${due}T16:00:00Z` : null });
});
$('close-round').addEventListener('click', () => step('closeRound', 'CloseRoundInput', { period: period() }));
$('reopen-round').addEventListener('click', () => step('reopenRound', 'ReopenRoundInput', { period: period(), reason: $('round-reason').value }));
$('publish-round').addEventListener('click', () => step('publishRound', 'PublishRoundInput', { period: period() }));
$('send-back').addEventListener('click', () => step('sendBackReturn', 'SendBackReturnInput', { ...key(), comment: $('comment').value }));
$('approve').addEventListener('click', () => step('approveReturn', 'ReturnKeyInput', key()));
$('publish-return').addEventListener('click', () => step('publishReturn', 'PublishReturnInput', key()));
$('reopen-return').addEventListener('click', () => step('reopenReturn', 'ReopenReturnInput', { ...key(), reason: $('return-reason').value }));

Cov.initLang(() => draw());
if (token) signIn(token);
