// The yearly report at /report?period=2023: a document an office files or attaches, drawn from the
// published figures through the public GraphQL API. Title, issuing unit, 数据截至 (the
// publication it shows, else the time of the newest figure), how complete the year is, the
// coverage paragraph the server drafts from the figures, the province summary (each rate saying
// how many cities it is over), the cities' table, the notes on stated rates and their scope, and
// the pilot programmes. Printed (A4 portrait), the header rows repeat on every page and the pages
// are numbered (report.css); nothing but the document prints.

import * as Cov from './common.js';
import { $, el } from './common.js';

const PERIODS = 'query ReportPeriods { periods }';

const QUERY = `query Report($period: Int!, $first: Int) {
  issuer { name nameEn }
  periods
  rounds { period publishedCities expectedCities }
  publications(period: $period) { number publishedAt cities }
  summary(period: $period) {
    period
    byType {
      branchType citiesReporting branchCountSum eligibleCountSum coverageRate newBranchesSum
      provinceReport { total source }
      fullCoverageCities { code }
    }
    paragraph { zh en }
  }
  cities(first: $first) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ReportCity }
  }
  pilotPrograms { code name nameEn level statedSize cities { code name nameEn } }
  ${Cov.BRANCH_TYPES}
}
fragment ReportCity on City {
  code name nameEn
  coverage(period: $period) {
    branchType branchCount eligibleCount newBranches coverageRate rateIsStated rateScope updatedAt
  }
}`;

const MORE_CITIES = `query ReportCities($period: Int!, $first: Int, $after: String) {
  cities(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ReportCity }
  }
}
fragment ReportCity on City {
  code name nameEn
  coverage(period: $period) {
    branchType branchCount eligibleCount newBranches coverageRate rateIsStated rateScope updatedAt
  }
}`;

let data = null;
let cities = [];
let types = [];

/** The year a link asked for (`/report?period=2023`), else null. */
function periodInUrl() {
  const asked = new URLSearchParams(window.location.search).get('period');
  return asked && /^[0-9]{4}$/.test(asked) ? Number(asked) : null;
}

async function load() {
  document.body.dataset.state = 'loading';
  let period = periodInUrl();
  try {
    if (period == null) {
      const periods = await Cov.gql(PERIODS, {});
      const all = (periods.data && periods.data.periods) || [];
      period = all.length ? all[all.length - 1] : null;
    }
    if (period == null) {
      $('status').textContent = Cov.t('noData');
      document.body.dataset.state = 'empty';
      return;
    }
    const response = await Cov.gql(QUERY, { period, first: Cov.PAGE });
    if (!response.data || !response.data.summary) throw new Cov.ServerError(response.errors);
    cities = await Cov.allNodes(
      response.data.cities,
      (after) => Cov.gql(MORE_CITIES, { period, first: Cov.PAGE, after }),
      (more) => more.cities,
    );
    data = response.data;
    types = Cov.branchTypes(data);
  } catch (err) {
    $('status').textContent = err instanceof Cov.ServerError ? Cov.describeErrors(err.errors) : Cov.t('errNetwork');
    document.body.dataset.state = 'error';
    return;
  }
  draw();
  document.body.dataset.state = 'ready';
}

function draw() {
  if (!data) return;
  const period = data.summary.period;
  $('status').hidden = true;
  const en = Cov.lang === 'en';
  document.title = `${Cov.t('reportTitle', { year: period })} · coverage-api`;
  $('report-title').textContent = Cov.t('reportTitle', { year: period });
  $('issuer').textContent = en ? data.issuer.nameEn : data.issuer.name;
  $('as-of').textContent = asOf();
  $('made-on').textContent = Cov.t('madeOn', { day: Cov.day(new Date()) });
  const round = (data.rounds || []).find((r) => r.period === period);
  $('completeness').textContent = round
    ? `${Cov.t('published')} ${round.publishedCities}/${round.expectedCities} ${Cov.t('citiesUnit')}`
    : '';
  $('paragraph').textContent = en ? data.summary.paragraph.en : data.summary.paragraph.zh;
  drawSummary();
  drawCities();
  drawPrograms();
  const select = $('period');
  select.replaceChildren(...[...data.periods].reverse().map((p) => new Option(String(p), String(p))));
  select.value = String(period);
}

/** 数据截至: the newest publication of the year, else the time of the newest figure shown. */
function asOf() {
  const newest = (data.publications || [])[0];
  if (newest) {
    return Cov.t('asOfPublication', { at: Cov.when(newest.publishedAt), n: newest.number });
  }
  const times = cities.flatMap((c) => c.coverage.map((r) => r.updatedAt)).filter(Boolean).sort();
  return times.length ? Cov.t('asOf', { at: Cov.when(times[times.length - 1]) }) : Cov.t('asOf', { at: '—' });
}

function cell(text, className) {
  return el('td', className || null, text == null ? '—' : String(text));
}

/** How many cities state new branches of `type`. */
function stating(type) {
  return cities.filter((c) => c.coverage.some((r) => r.branchType === type && r.newBranches != null)).length;
}

function drawSummary() {
  const total = cities.length;
  const head = el('tr');
  for (const key of ['branchType', 'branchCount', 'eligibleCount', 'coverageRate', 'newBranches', 'provinceTotal', 'fullCoverage']) {
    head.append(el('th', null, Cov.t(key)));
  }
  $('summary').querySelector('thead').replaceChildren(head);
  const rows = data.summary.byType.map((s) => {
    const tr = el('tr');
    const rate = Cov.rate(s.coverageRate);
    tr.append(
      cell(Cov.t(s.branchType), 'text'),
      cell(Cov.count(s.branchCountSum)),
      cell(Cov.count(s.eligibleCountSum)),
      // A province rate says how many cities it is over.
      cell(rate == null ? null : `${rate} (${s.citiesReporting}/${total} ${Cov.t('citiesUnit')})`),
      // So does a sum of new branches: over the cities that state them.
      cell(s.newBranchesSum == null ? null
        : `${Cov.count(s.newBranchesSum)} (${stating(s.branchType)}/${total} ${Cov.t('citiesUnit')})`),
      cell(s.provinceReport ? Cov.count(s.provinceReport.total) : null),
      cell(`${s.fullCoverageCities.length} ${Cov.t('citiesUnit')}`),
    );
    return tr;
  });
  $('summary').querySelector('tbody').replaceChildren(...rows);
}

function drawCities() {
  const groups = el('tr');
  const fields = el('tr');
  const city = el('th', null, Cov.t('cityOrZone'));
  city.rowSpan = 2;
  groups.append(city);
  for (const type of types) {
    const th = el('th', 'group', Cov.t(type));
    th.colSpan = 3;
    groups.append(th);
    for (const key of ['branchCount', 'eligibleCount', 'coverageRate']) fields.append(el('th', null, Cov.t(key)));
  }
  $('cities').querySelector('thead').replaceChildren(groups, fields);
  const notes = [];
  const rows = cities.map((c) => {
    const tr = el('tr');
    tr.dataset.city = c.code;
    tr.append(cell(Cov.cityName(c), 'text'));
    for (const type of types) {
      const r = c.coverage.find((x) => x.branchType === type);
      tr.append(cell(r ? Cov.count(r.branchCount) : null), cell(r ? Cov.count(r.eligibleCount) : null));
      const rate = cell(r ? Cov.rate(r.coverageRate) : null);
      if (r && r.rateIsStated) {
        // A stated rate keeps its scope: a numbered note says what it covers.
        notes.push(Cov.t('noteStated', {
          city: Cov.cityName(c), type: Cov.t(type), rate: Cov.rate(r.coverageRate), scope: Cov.scope(r.rateScope) ?? '—',
        }));
        rate.append(el('sup', null, String(notes.length)));
      }
      if (r && r.newBranches != null) {
        notes.push(Cov.t('noteNew', { city: Cov.cityName(c), type: Cov.t(type), n: Cov.count(r.newBranches) }));
        rate.append(el('sup', null, String(notes.length)));
      }
      tr.append(rate);
    }
    return tr;
  });
  $('cities').querySelector('tbody').replaceChildren(...rows);
  $('notes').replaceChildren(...notes.map((n) => el('li', null, n)));
}

function drawPrograms() {
  const head = el('tr');
  for (const key of ['programme', 'programLevel', 'statedSize', 'members']) head.append(el('th', null, Cov.t(key)));
  $('programs').querySelector('thead').replaceChildren(head);
  const en = Cov.lang === 'en';
  const rows = data.pilotPrograms.map((p) => {
    const tr = el('tr');
    const members = p.cities.map((c) => Cov.cityName(c)).join(en ? ', ' : '、');
    tr.append(cell(en ? p.nameEn : p.name, 'text'), cell(Cov.t(p.level), 'text'), cell(p.statedSize),
      cell(members || '—', 'text'));
    return tr;
  });
  $('programs').querySelector('tbody').replaceChildren(...rows);
}

$('period').addEventListener('change', () => {
  const url = new URL(window.location.href);
  url.searchParams.set('period', $('period').value);
  window.history.replaceState(null, '', url);
  load();
});
$('print').addEventListener('click', () => window.print());
Cov.initLang(draw);
load();
