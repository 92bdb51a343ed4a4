// The province's console at /admin (administrators): people's accounts (create with a
// one-time password shown once, disable), programs' API tokens (create with the secret shown
// once, rotate, revoke), pilot programmes (create, change their names, level and size) and
// designations (set, change the year, remove, each with its source), the province's reported totals, and the feed of every change across the cities:
// filtered by city, type, year and writer, paged, exported as XLSX, each revision in words,
// updated live. Every action is a GraphQL call any client could make (the export is
// GET /export/revisions.xlsx); refusals are the server's own words.

import * as Cov from './common.js';
import * as SignIn from './signin.js';
import { $, el } from './common.js';

const TOKEN_KEY = 'coverage-api.token';
const START = `query AdminStart($first: Int) {
  viewer { name role }
  cities(first: $first) { pageInfo { hasNextPage endCursor } nodes { code name nameEn } }
  ${Cov.BRANCH_TYPES}
}`;
const MORE_CITIES = `query AdminCities($first: Int, $after: String) {
  cities(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { code name nameEn } }
}`;
const PILOTS = `query AdminPilots($first: Int, $after: String) {
  pilotPrograms { code name nameEn level statedSize source version }
  cities(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { code pilotDesignations { program { code name nameEn } sinceYear source version } }
  }
}`;
const TOTAL = `query AdminTotal($period: Int!) {
  summary(period: $period) { byType { branchType provinceReport { total version } } }
}`;
const PEOPLE = `query AdminPeople {
  accounts { login displayName role cityCode mustChangePassword disabledAt }
  apiTokens { id name role cityCode expiresAt lastUsedAt revokedAt }
}`;
const FEED = `query AdminFeed($first: Int, $after: String, $cityCode: ID, $branchType: BranchType, $period: Int, $actor: String) {
  revisions(first: $first, after: $after, cityCode: $cityCode, branchType: $branchType, period: $period, actor: $actor) {
    pageInfo { hasNextPage endCursor }
    nodes { number kind at cityCode branchType period recordKey actor { name role } before after note }
  }
}`;
const LIVE = {
  coverage: 'subscription AdminCoverage { coverageChanged { coverage { id } } }',
  returns: 'subscription AdminReturns { returnStatusChanged { cityReturn { status } } }',
  pilots: 'subscription AdminPilots { pilotDesignationChanged { action } }',
};

let token = sessionStorage.getItem(TOKEN_KEY);
let cities = [];
let types = [];
let people = null; // the last answer to PEOPLE
let feed = []; // the revisions shown, newest first
let feedEnd = null; // the cursor after the last one shown, when there are more
let feedReads = 0;
let programs = [];
let designations = []; // { city, program, sinceYear, source, version }

function ask(query, variables) {
  return Cov.gql(query, variables, token);
}

function cityName(code) {
  const city = cities.find((c) => c.code === code);
  return city ? Cov.cityName(city) : (code || '—');
}

async function signIn(secret) {
  $('token-problem').textContent = '';
  let response;
  let all;
  try {
    ({ response, cities: all } = await SignIn.firstRead(START, MORE_CITIES, secret));
  } catch (err) {
    $('token-problem').textContent = err instanceof Cov.ServerError ? Cov.describeErrors(err.errors) : Cov.t('errNetwork');
    return;
  }
  const viewer = response.data && response.data.viewer;
  if (!viewer || viewer.role !== 'ADMIN') {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    $('token-problem').textContent = response.errors ? Cov.describeErrors(response.errors) : Cov.t('adminOnly');
    return;
  }
  token = secret;
  sessionStorage.setItem(TOKEN_KEY, token);
  cities = all;
  types = Cov.branchTypes(response.data);
  $('who').textContent = `${viewer.name} · ${Cov.t(viewer.role)}`;
  SignIn.showForm(false);
  $('sign-out').hidden = false;
  $('work').hidden = false;
  fillChoices();
  document.body.dataset.state = 'signed-in';
  await Promise.all([loadPeople(), loadFeed(), loadPilots()]);
  listen();
}

/** The city and type choices of the forms and the feed's filter. */
function fillChoices() {
  const cityOptions = (any) => [
    ...(any ? [new Option(Cov.t('allCities'), '')] : []),
    ...cities.map((c) => new Option(`${Cov.cityName(c)} (${c.code})`, c.code)),
  ];
  $('account-city').replaceChildren(...cityOptions(false));
  $('token-city').replaceChildren(...cityOptions(false));
  $('feed-city').replaceChildren(...cityOptions(true));
  $('feed-type').replaceChildren(new Option(Cov.t('allTypes'), ''), ...types.map((t) => new Option(Cov.t(t), t)));
  $('designation-city').replaceChildren(...cityOptions(false));
  $('total-type').replaceChildren(...types.map((t) => new Option(Cov.t(t), t)));
  fillPrograms();
}

/** Every city's designations (every page of cities) and the programmes. */
async function loadPilots() {
  const first = await ask(PILOTS, { first: Cov.PAGE });
  if (!first.data) {
    $('designation-result').textContent = Cov.describeErrors(first.errors);
    return;
  }
  const all = await Cov.allNodes(first.data.cities, (after) => ask(PILOTS, { first: Cov.PAGE, after }), (more) => more.cities);
  programs = first.data.pilotPrograms;
  designations = all.flatMap((c) => c.pilotDesignations.map((d) => ({ city: c.code, ...d })));
  fillPrograms();
  drawPilots();
}

/** The designation form's programmes, the one chosen kept. */
function fillPrograms() {
  const chosen = $('designation-program').value;
  const options = programs.map((p) => new Option(Cov.lang === 'en' ? p.nameEn : p.name, p.code));
  $('designation-program').replaceChildren(...options);
  if (programs.some((p) => p.code === chosen)) $('designation-program').value = chosen;
}

function drawPrograms() {
  const rows = programs.map((p) => {
    const tr = el('tr');
    tr.dataset.program = p.code;
    const edit = el('button', null, Cov.t('edit'));
    edit.type = 'button';
    edit.dataset.action = 'edit';
    edit.addEventListener('click', () => editProgram(p));
    const actions = el('td');
    actions.append(edit);
    tr.append(el('td', null, p.code), el('td', null, p.name), el('td', null, p.nameEn), el('td', null, Cov.t(p.level)),
      el('td', null, p.statedSize == null ? '—' : String(p.statedSize)), el('td', null, p.source ?? '—'),
      el('td', null, String(p.version)), actions);
    return tr;
  });
  $('programs').querySelector('tbody').replaceChildren(...rows);
}

/** Puts a programme into the form, to be changed. */
function editProgram(p) {
  $('program-code').value = p.code;
  $('program-name').value = p.name;
  $('program-name-en').value = p.nameEn;
  $('program-level').value = p.level;
  $('program-size').value = p.statedSize ?? '';
  $('program-source').value = p.source ?? '';
  $('program-name').focus();
}

/** Creates the form's programme, or changes it (a code listed already: its version is sent). */
async function setProgram(event) {
  event.preventDefault();
  const code = $('program-code').value.trim();
  const stored = programs.find((p) => p.code === code);
  const size = $('program-size').value;
  const text = (id) => $(id).value.trim();
  const input = {
    code,
    name: text('program-name'),
    nameEn: text('program-name-en'),
    level: $('program-level').value,
    statedSize: size === '' ? null : Number(size),
    source: text('program-source'),
    expectedVersion: stored ? stored.version : 0,
  };
  const response = await ask(`mutation AdminProgram($input: SetPilotProgramInput!) {
    setPilotProgram(input: $input) { program { code version } userErrors { field message messageZh code } } }`, { input });
  const saved = outcome('program-form', 'program-result', response, 'setPilotProgram',
    (p) => Cov.t('programSaved', { code: p.program.code, v: p.program.version }));
  if (saved) $('program-form').reset();
  await loadPilots();
  await loadFeed(); // a programme's change sends no event the console listens to
}

function drawPilots() {
  drawPrograms();
  const rows = designations.map((d) => {
    const tr = el('tr');
    tr.dataset.city = d.city;
    tr.dataset.program = d.program.code;
    const remove = el('button', null, Cov.t('remove'));
    remove.type = 'button';
    remove.dataset.action = 'remove';
    remove.addEventListener('click', () => removeDesignation(d));
    const actions = el('td');
    actions.append(remove);
    tr.append(el('td', null, cityName(d.city)), el('td', null, Cov.lang === 'en' ? d.program.nameEn : d.program.name),
      el('td', null, d.sinceYear == null ? '—' : String(d.sinceYear)), el('td', null, d.source ?? '—'),
      el('td', null, String(d.version)), actions);
    return tr;
  });
  $('designations').querySelector('tbody').replaceChildren(...rows);
}

/** Sets (or changes: the stored version is sent) the form's designation. */
async function setDesignation(event) {
  event.preventDefault();
  const cityCode = $('designation-city').value;
  const programCode = $('designation-program').value;
  const stored = designations.find((d) => d.city === cityCode && d.program.code === programCode);
  const year = $('designation-year').value;
  const input = {
    cityCode,
    programCode,
    sinceYear: year ? Number(year) : null,
    source: $('designation-source').value.trim(),
    expectedVersion: stored ? stored.version : 0,
  };
  const response = await ask(`mutation AdminDesignate($input: SetPilotDesignationInput!) {
    setPilotDesignation(input: $input) { designation { version } userErrors { field message messageZh code } } }`, { input });
  outcome('new-designation', 'designation-result', response, 'setPilotDesignation', (p) => Cov.t('designationSaved', { v: p.designation.version }));
  await loadPilots();
}

async function removeDesignation(d) {
  const input = { cityCode: d.city, programCode: d.program.code, expectedVersion: d.version };
  const response = await ask(`mutation AdminUndesignate($input: RemovePilotDesignationInput!) {
    removePilotDesignation(input: $input) { userErrors { field message messageZh code } } }`, { input });
  outcome(null, 'designation-result', response, 'removePilotDesignation', () => Cov.t('designationDropped'));
  await loadPilots();
}

/** Sets the province's reported total of a type and year (the stored version read first). */
async function setTotal(event) {
  event.preventDefault();
  const period = Number($('total-period').value);
  const branchType = $('total-type').value;
  const read = await ask(TOTAL, { period });
  const summary = read.data && read.data.summary;
  const type = summary ? summary.byType.find((b) => b.branchType === branchType) : null;
  const value = $('total-value').value;
  const input = {
    branchType,
    period,
    total: value === '' ? null : Number(value),
    source: $('total-source').value.trim(),
    expectedVersion: type && type.provinceReport ? type.provinceReport.version : 0,
  };
  const response = await ask(`mutation AdminTotal($input: SetProvinceReportedTotalInput!) {
    setProvinceReportedTotal(input: $input) { provinceReport { version } userErrors { field message messageZh code } } }`, { input });
  outcome('province-total', 'total-result', response, 'setProvinceReportedTotal', (p) => Cov.t('totalSaved', { v: p.provinceReport ? p.provinceReport.version : '—' }));
  await loadFeed(); // a province total sends no change event: the console reads its own step
}

async function loadPeople() {
  const response = await ask(PEOPLE, {});
  if (!response.data) {
    $('account-result').textContent = Cov.describeErrors(response.errors);
    return;
  }
  people = response.data;
  drawPeople();
}

function drawPeople() {
  if (!people) return;
  const accounts = people.accounts.map((a) => {
    const tr = el('tr');
    tr.dataset.login = a.login;
    const state = a.disabledAt ? `${Cov.t('disabled')} ${Cov.when(a.disabledAt)}`
      : (a.mustChangePassword ? Cov.t('mustChange') : Cov.t('active'));
    const actions = el('td');
    if (!a.disabledAt) {
      const disable = el('button', null, Cov.t('disable'));
      disable.type = 'button';
      disable.dataset.action = 'disable';
      disable.addEventListener('click', () => disableAccount(a.login));
      actions.append(disable);
    }
    tr.append(el('td', null, a.login), el('td', null, a.displayName), el('td', null, Cov.t(a.role)),
      el('td', null, a.cityCode ? cityName(a.cityCode) : '—'), el('td', null, state), actions);
    return tr;
  });
  $('accounts').querySelector('tbody').replaceChildren(...accounts);
  const tokens = people.apiTokens.map((t) => {
    const tr = el('tr');
    tr.dataset.id = t.id;
    const actions = el('td');
    if (!t.revokedAt) {
      for (const [action, label] of [['rotate', 'rotate'], ['revoke', 'revoke']]) {
        const button = el('button', null, Cov.t(label));
        button.type = 'button';
        button.dataset.action = action;
        button.addEventListener('click', () => tokenStep(action, t.id));
        actions.append(button);
      }
    }
    const expires = t.revokedAt ? `${Cov.t('revoked')} ${Cov.when(t.revokedAt)}`
      : (t.expiresAt ? Cov.when(t.expiresAt) : Cov.t('noExpiry'));
    tr.append(el('td', null, t.id), el('td', null, t.name), el('td', null, Cov.t(t.role)),
      el('td', null, t.cityCode ? cityName(t.cityCode) : '—'), el('td', null, expires),
      el('td', null, t.lastUsedAt ? Cov.when(t.lastUsedAt) : '—'), actions);
    return tr;
  });
  $('tokens').querySelector('tbody').replaceChildren(...tokens);
}

/**
 * Shows a mutation's outcome: its user errors beside the fields of `form` (the id of a form,
 * or null for a table's button) in the server's words, the rest in `line`; or `ok` in `line`.
 */
function outcome(form, line, response, field, ok) {
  const target = $(line);
  const payload = response.data && response.data[field];
  if (!payload) {
    Cov.showRefusals(form && $(form), target, []);
    target.textContent = Cov.describeErrors(response.errors);
    target.classList.add('bad');
    return null;
  }
  Cov.showRefusals(form && $(form), target, payload.userErrors);
  if (payload.userErrors.length) return null;
  target.textContent = ok(payload);
  target.classList.add('ok');
  return payload;
}

async function createAccount(event) {
  event.preventDefault();
  const role = $('account-role').value;
  const input = {
    login: $('account-login').value.trim(),
    displayName: $('account-name').value.trim(),
    role,
    cityCode: role === 'CITY_STAFF' ? $('account-city').value : null,
  };
  const response = await ask(`mutation AdminCreateAccount($input: CreateAccountInput!) {
    createAccount(input: $input) { account { login } initialPassword userErrors { field message messageZh code } } }`, { input });
  const made = outcome('new-account', 'account-result', response, 'createAccount',
    (p) => Cov.t('accountMade', { login: p.account.login, password: p.initialPassword }));
  if (made) {
    $('account-result').dataset.password = made.initialPassword;
    $('new-account').reset();
    await loadPeople();
  }
}

async function disableAccount(login) {
  const response = await ask(`mutation AdminDisable($input: AccountKeyInput!) {
    disableAccount(input: $input) { endedSessions userErrors { field message messageZh code } } }`, { input: { login } });
  outcome(null, 'account-result', response, 'disableAccount', (p) => Cov.t('accountDisabled', { login, n: p.endedSessions }));
  await loadPeople();
}

async function createToken(event) {
  event.preventDefault();
  const role = $('token-role').value;
  const date = $('token-expires').value;
  const input = {
    name: $('token-name').value.trim(),
    role,
    cityCode: role === 'CITY_STAFF' ? $('token-city').value : null,
    expiresAt: date ? `${date}T16:00:00Z` : null,
  };
  const response = await ask(`mutation AdminCreateToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { apiToken { id } secret userErrors { field message messageZh code } } }`, { input });
  const made = outcome('new-token', 'token-result', response, 'createApiToken', (p) => Cov.t('tokenMade', { id: p.apiToken.id, secret: p.secret }));
  if (made) {
    $('new-token').reset();
    await loadPeople();
  }
}

async function tokenStep(action, id) {
  const field = action === 'rotate' ? 'rotateApiToken' : 'revokeApiToken';
  const response = await ask(`mutation AdminToken($input: ApiTokenKeyInput!) {
    ${field}(input: $input) { ${action === 'rotate' ? 'secret' : ''} userErrors { field message messageZh code } } }`, { input: { id } });
  outcome(null, 'token-result', response, field,
    (p) => (action === 'rotate' ? Cov.t('tokenRotated', { id, secret: p.secret }) : Cov.t('tokenRevoked', { id })));
  await loadPeople();
}

/** The feed's filter as the form holds it. */
function filter() {
  const period = $('feed-period').value;
  return {
    cityCode: $('feed-city').value || null,
    branchType: $('feed-type').value || null,
    period: period ? Number(period) : null,
    actor: $('feed-actor').value.trim() || null,
  };
}

/** The feed as filtered, as a workbook (fetched with the token, then saved from memory). */
async function exportFeed() {
  const f = filter();
  const query = Cov.linkQuery(Object.fromEntries([
    ['city', f.cityCode], ['branchType', f.branchType], ['period', f.period], ['actor', f.actor],
  ].filter(([, v]) => v != null).map(([k, v]) => [k, String(v)])));
  let response;
  try {
    response = await fetch(`/export/revisions.xlsx?${query}`, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch (err) {
    $('live-state').textContent = Cov.t('errNetwork');
    return;
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({ errors: [] }));
    $('live-state').textContent = (body.errors || []).map((e) => `${Cov.lang === 'en' ? e.message_en : e.message_zh} (${e.code})`).join('; ');
    return;
  }
  const link = el('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = 'revisions.xlsx';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

/** Reads the feed's first page again (`more`: the next page after what is shown). */
async function loadFeed(more) {
  const mine = ++feedReads;
  const variables = { first: 20, ...filter(), after: more ? feedEnd : null };
  const response = await ask(FEED, variables);
  if (mine !== feedReads || !response.data) return;
  const page = response.data.revisions;
  feed = more ? [...feed, ...page.nodes] : page.nodes;
  feedEnd = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  drawFeed();
}

function drawFeed() {
  const rows = feed.map((r) => {
    const tr = el('tr');
    tr.dataset.number = String(r.number);
    tr.dataset.kind = r.kind;
    const record = [cityName(r.cityCode), r.branchType ? Cov.t(r.branchType) : Cov.t(r.kind), r.period ?? ''].join(' ');
    tr.append(el('td', null, Cov.when(r.at)), el('td', 'who', r.actor.name ?? Cov.t(r.actor.role)),
      el('td', null, record), el('td', 'change', Cov.describeRevision(r)), el('td', null, r.note ?? ''));
    return tr;
  });
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', 'muted', Cov.t('noRevisions'));
    td.colSpan = 5;
    tr.append(td);
    rows.push(tr);
  }
  $('feed').querySelector('tbody').replaceChildren(...rows);
  $('feed-more').hidden = !feedEnd;
}

function listen() {
  Cov.live(LIVE, {
    open() { $('live-state').textContent = Cov.t('live'); },
    next(id) { loadFeed(); loadPeople(); if (id === 'pilots') loadPilots(); },
    resumed() { loadFeed(); },
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
$('new-account').addEventListener('submit', createAccount);
$('new-token').addEventListener('submit', createToken);
$('new-designation').addEventListener('submit', setDesignation);
$('program-form').addEventListener('submit', setProgram);
$('province-total').addEventListener('submit', setTotal);
$('feed-filter').addEventListener('submit', (event) => { event.preventDefault(); loadFeed(); });
$('feed-more').addEventListener('click', () => loadFeed(true));
$('feed-export').addEventListener('click', exportFeed);
Cov.initLang(() => { if (token && cities.length) { fillChoices(); drawPeople(); drawPilots(); drawFeed(); } });
if (token) signIn(token);
