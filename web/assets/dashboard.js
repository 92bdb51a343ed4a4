// The dashboard at /: the province summary per branch type, a chart of the cities' rates and the
// province's trend, the table of the cities and the pilot programmes. One GraphQL read draws
// everything (the cities page after page, however many there are); a subscription on
// /graphql/ws says when a committed write changed something, and the page reads again (so
// cells, chart and summary always agree) and briefly highlights what moved. Unknown figures are
// "—", never 0. Every figure is a published one; a year whose round is not all published says
// how many cities it holds (已发布 12/18 市). The chosen year is kept in the URL (/?period=2024).

import * as Cov from './common.js';
import { $, el } from './common.js';

const CITY = `fragment DashboardCity on City {
  code name nameEn kind
  coverage(period: $period) {
    branchType branchCount eligibleCount newBranches coverageRate rateIsStated rateScope
    source version
  }
  pilotPrograms { code name nameEn }
}`;

const QUERY = `query Dashboard($period: Int, $first: Int) {
  periods
  rounds { period publishedCities expectedCities }
  summary(period: $period) {
    period
    byType {
      branchType citiesReporting branchCountSum eligibleCountSum coverageRate newBranchesSum
      provinceReport { total note source }
      fullCoverageCities { code name nameEn }
    }
  }
  cities(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ...DashboardCity }
  }
  pilotPrograms { code name nameEn level statedSize source cities { code name nameEn } }
  ${Cov.BRANCH_TYPES}
}
${CITY}`;

/** The pages of cities after the first, for the period the first answer is of. */
const MORE_CITIES = `query DashboardCities($period: Int, $first: Int, $after: String) {
  cities(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { ...DashboardCity }
  }
}
${CITY}`;

const LIVE = {
  coverage: 'subscription DashboardCoverage { coverageChanged { coverage { id } } }',
  pilots: 'subscription DashboardPilots { pilotDesignationChanged { action } }',
  totals: 'subscription DashboardTotals { provinceTotalChanged { provinceReport { total } } }',
};

const { COLORS } = Cov;

/** The year a link asked for (`/?period=2024`), else null: the latest period with data. */
function periodInUrl() {
  const asked = new URLSearchParams(window.location.search).get('period');
  return asked && /^[0-9]{4}$/.test(asked) ? Number(asked) : null;
}

let chosenPeriod = periodInUrl();
let data = null;
let trend = [];
let types = []; // the branch types, as the schema lists them
let sort = { key: 'code', type: null, dir: 1 };
let shown = null; // cell key → text of the last drawing, to highlight what changed
let reading = null;
let again = false;
let reads = 0;
let everConnected = false;
const stopped = new Map(); // subscription id → the server's words for why it stopped

const rateChart = echarts.init($('chart-rates'), null, { renderer: 'canvas' });
const trendChart = echarts.init($('chart-trend'), null, { renderer: 'canvas' });
// A city's bar opens its own page at the year shown.
let charted = []; // the cities of the rate chart, in its order
rateChart.on('click', (p) => {
  const city = charted[p.dataIndex];
  if (city) window.location.href = `/city/${city.code}?period=${data.summary.period}`;
});
window.addEventListener('resize', () => { rateChart.resize(); trendChart.resize(); });

/** Reads everything again; a read asked for during one runs right after it. */
function read() {
  if (reading) {
    again = true;
    return reading;
  }
  reading = (async () => {
    try {
      const response = await Cov.gql(QUERY, { period: chosenPeriod, first: Cov.PAGE });
      if (!response.data) {
        data = null;
        // NOT_FOUND: the database holds no data at all, a state the page has words for.
        showStatus(Cov.errorCode(response) === 'NOT_FOUND' ? 'noData' : null, response.errors);
      } else {
        const period = response.data.summary.period;
        const cities = await Cov.allNodes(
          response.data.cities,
          (after) => Cov.gql(MORE_CITIES, { period, first: Cov.PAGE, after }),
          (more) => more.cities,
        );
        data = { ...response.data, cities: { ...response.data.cities, nodes: cities } };
        types = Cov.branchTypes(data);
        trend = await readTrend(data.periods);
      }
      reads += 1;
      document.body.dataset.reads = String(reads);
      $('last-read').textContent = Cov.when(new Date().toISOString());
      draw();
    } catch (err) {
      if (err instanceof Cov.ServerError) {
        data = null;
        showStatus(null, err.errors);
        draw();
      } else {
        showStatus('errNetwork');
      }
    } finally {
      reading = null;
      if (again) {
        again = false;
        read();
      }
    }
  })();
  return reading;
}

/** The export links follow the chosen year and language. */
function exportLinks(period) {
  for (const link of document.querySelectorAll('[data-export]')) {
    link.href = `/export/${link.dataset.export}?${Cov.linkQuery({ period: String(period) })}`;
  }
  $('report-link').href = `/report?period=${period}`;
}

/** The province rate per type over the last (at most ten) periods, in one request. */
async function readTrend(periods) {
  const last = periods.slice(-10);
  if (last.length === 0) return [];
  const fields = last.map((p) => `p${p}: summary(period: ${p}) { period byType { branchType coverageRate citiesReporting } }`);
  const response = await Cov.gql(`query Trend { ${fields.join(' ')} }`);
  return response.data ? last.map((p) => response.data[`p${p}`]) : [];
}

/** The status line: the page's words for `key`, or the server's own for `errors`. */
function showStatus(key, errors) {
  const status = $('status');
  status.hidden = false;
  if (!key) {
    delete status.dataset.t;
    status.textContent = Cov.describeErrors(errors);
    return;
  }
  status.dataset.t = key;
  status.textContent = Cov.t(key);
}

function draw() {
  if (!data) {
    document.body.dataset.state = 'empty';
    return;
  }
  const hasData = data.cities.nodes.some((c) => c.coverage.length > 0);
  const status = $('status');
  status.hidden = hasData;
  if (!hasData) showStatus('noData');
  const cells = new Map();
  drawPeriods();
  drawSummary(cells);
  drawTable(cells);
  drawPilots();
  drawCharts();
  highlight(cells);
  document.body.dataset.state = 'ready';
}

function drawPeriods() {
  const select = $('period');
  const periods = [...data.periods].reverse();
  const wanted = periods.map(String).join(',');
  if (select.dataset.periods !== wanted) {
    select.replaceChildren(...periods.map((p) => new Option(String(p), String(p))));
    select.dataset.periods = wanted;
  }
  select.value = String(data.summary.period);
  exportLinks(data.summary.period);
  drawCompleteness();
}

/** How complete the year's published figures are, when the year has a round of the return. */
function drawCompleteness() {
  const line = $('completeness');
  const round = (data.rounds || []).find((r) => r.period === data.summary.period);
  line.hidden = !round;
  if (!round) return;
  const all = round.publishedCities >= round.expectedCities;
  line.dataset.complete = String(all);
  line.textContent = `${Cov.t('published')} ${round.publishedCities}/${round.expectedCities} ${Cov.t('citiesUnit')}`
    + (all ? ` (${Cov.t('publishedAll')})` : '');
}

/** Remembers the text of a cell under `key`, for the highlight of changes. */
function mark(cells, key, el) {
  el.dataset.key = key;
  cells.set(key, el);
}

function drawSummary(cells) {
  const cityCount = data.cities.totalCount;
  const cards = data.summary.byType.map((s) => {
    const card = el('article', 'card');
    card.dataset.summary = s.branchType;
    card.style.setProperty('--accent', COLORS[s.branchType]);
    card.append(el('h2', null, Cov.t(s.branchType)));
    const dl = el('dl');
    const sumSource = `${Cov.t('sumOfCities')} (${s.citiesReporting}/${cityCount})`;
    const rate = el('dd');
    rate.append(Cov.figure(Cov.rate(s.coverageRate), `${Cov.t('branchCount')} ÷ ${Cov.t('eligibleCount')}, ${sumSource}`),
      el('small', null, ` (${s.citiesReporting}/${cityCount} ${Cov.t('citiesUnit')})`));
    mark(cells, `sum/${s.branchType}/coverageRate`, rate);
    const sums = el('dd');
    sums.append(Cov.figure(Cov.count(s.branchCountSum), sumSource), ' / ',
      Cov.figure(Cov.count(s.eligibleCountSum), sumSource));
    mark(cells, `sum/${s.branchType}/sums`, sums);
    const added = el('dd');
    added.append(Cov.figure(Cov.count(s.newBranchesSum), Cov.t('sumOfCities')));
    mark(cells, `sum/${s.branchType}/newBranches`, added);
    const total = el('dd');
    const report = s.provinceReport;
    const reportSource = report ? [report.source, Cov.scope(report.note)].filter(Boolean).join(' · ') : null;
    total.append(Cov.figure(Cov.count(report ? report.total : null), reportSource));
    if (report && report.total == null && report.note) {
      total.lastChild.dataset.tip = `${Cov.NOT_STATED} · ${reportSource}`;
    }
    mark(cells, `sum/${s.branchType}/provinceTotal`, total);
    const full = el('dd');
    if (s.fullCoverageCities.length === 0) full.append(Cov.figure(null));
    else full.append(s.fullCoverageCities.map(Cov.cityName).join(' '));
    mark(cells, `sum/${s.branchType}/full`, full);
    dl.append(
      el('dt', null, Cov.t('coverageRate')), rate,
      el('dt', null, `${Cov.t('sumOfCities')}: ${Cov.t('branchCount')} / ${Cov.t('eligibleCount')}`), sums,
      el('dt', null, `${Cov.t('sumOfCities')}: ${Cov.t('newBranches')}`), added,
      el('dt', null, Cov.t('provinceTotal')), total,
      el('dt', null, Cov.t('fullCoverage')), full,
    );
    card.append(dl);
    return card;
  });
  $('summary').replaceChildren(...cards);
}

function sortButton(label, key, type) {
  const button = el('button', 'sort', label);
  button.type = 'button';
  const active = sort.key === key && sort.type === type;
  button.setAttribute('aria-label', `${Cov.t('sortBy')}: ${label}`);
  if (active) button.append(sort.dir > 0 ? ' ▴' : ' ▾');
  button.addEventListener('click', () => {
    sort = { key, type, dir: active ? -sort.dir : 1 };
    draw();
    const again = document.querySelector(`button.sort[data-sort="${key}/${type}"]`);
    if (again) again.focus();
  });
  button.dataset.sort = `${key}/${type}`;
  return { button, active };
}

function header(label, key, type) {
  const th = el('th');
  th.scope = 'col';
  const { button, active } = sortButton(label, key, type);
  if (active) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
  th.append(button);
  return th;
}

function drawTable(cells) {
  const top = el('tr');
  const code = header(Cov.t('city'), 'name', null);
  code.rowSpan = 2;
  code.classList.add('name');
  const codeOnly = header('#', 'code', null);
  codeOnly.rowSpan = 2;
  codeOnly.classList.add('code');
  top.append(codeOnly, code);
  for (const type of types) {
    const th = el('th', 'group', Cov.t(type));
    th.colSpan = 3;
    th.scope = 'colgroup';
    th.style.setProperty('--accent', COLORS[type]);
    top.append(th);
  }
  const pilots = el('th', null, Cov.t('pilot'));
  pilots.rowSpan = 2;
  pilots.scope = 'col';
  top.append(pilots);
  const second = el('tr');
  for (const type of types) {
    const eligible = el('th', null, Cov.t('eligibleCount'));
    eligible.scope = 'col';
    second.append(header(Cov.t('branchCount'), 'branchCount', type), eligible,
      header(Cov.t('coverageRate'), 'coverageRate', type));
  }
  document.querySelector('#cities thead').replaceChildren(top, second);

  const rows = sorted(data.cities.nodes).map((city) => {
    const tr = el('tr');
    tr.dataset.city = city.code;
    tr.append(el('td', 'code', city.code));
    const name = el('th', 'name');
    name.scope = 'row';
    // Each city's own page, at the year shown.
    const link = el('a', null, Cov.cityName(city));
    link.href = `/city/${city.code}?period=${data.summary.period}`;
    name.append(link);
    tr.append(name);
    for (const type of types) {
      const r = record(city, type);
      const source = r ? r.source : null;
      const count = cell(type, 'branchCount');
      count.append(Cov.figure(Cov.count(r && r.branchCount), source));
      if (r && r.newBranches != null) {
        const small = el('small', 'new', ` (${Cov.t('newShort')} `);
        small.append(Cov.figure(Cov.count(r.newBranches), source), ')');
        count.append(small);
      }
      const eligible = cell(type, 'eligibleCount');
      eligible.append(Cov.figure(Cov.count(r && r.eligibleCount), source));
      const rate = cell(type, 'coverageRate');
      rate.append(Cov.figure(Cov.rate(r && r.coverageRate), source));
      if (r && r.rateIsStated) {
        const scope = Cov.scope(r.rateScope);
        const note = el('small', 'stated', scope ? `${Cov.t('stated')} · ${Cov.t('scope')}: ${scope}` : Cov.t('stated'));
        rate.append(note);
      }
      for (const td of [count, eligible, rate]) mark(cells, `${city.code}/${type}/${td.dataset.field}`, td);
      tr.append(count, eligible, rate);
    }
    const programs = el('td', 'programs', city.pilotPrograms.map((p) => (Cov.lang === 'zh' ? p.name : p.nameEn)).join('、'));
    programs.dataset.field = 'pilots';
    mark(cells, `${city.code}/pilots`, programs);
    tr.append(programs);
    return tr;
  });
  document.querySelector('#cities tbody').replaceChildren(...rows);
}

function cell(type, field) {
  const td = el('td', 'num');
  td.dataset.type = type;
  td.dataset.field = field;
  return td;
}

function record(city, type) {
  return city.coverage.find((c) => c.branchType === type) || null;
}

/** The cities in the chosen order; unknown figures last in either direction. */
function sorted(cities) {
  const value = (city) => {
    if (sort.key === 'code') return city.code;
    if (sort.key === 'name') return city.nameEn.toLowerCase();
    const r = record(city, sort.type);
    return r ? r[sort.key] : null;
  };
  return [...cities].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x == null && y == null) return a.code < b.code ? -1 : 1;
    if (x == null) return 1;
    if (y == null) return -1;
    if (x === y) return a.code < b.code ? -1 : 1;
    return (x < y ? -1 : 1) * sort.dir;
  });
}

function drawPilots() {
  const items = data.pilotPrograms.map((p) => {
    const li = el('li');
    li.dataset.program = p.code;
    const name = Cov.figure(Cov.lang === 'zh' ? p.name : p.nameEn, p.source);
    name.classList.add('program');
    li.append(name, el('small', null, ` · ${Cov.t(p.level.toLowerCase())}`));
    const size = el('div');
    size.append(`${Cov.t('statedSize')}: `, Cov.figure(p.statedSize == null ? null : `${p.statedSize} ${Cov.t('citiesUnit')}`, p.source));
    const members = el('div');
    members.append(`${Cov.t('members')}: `);
    if (p.cities.length === 0) {
      members.append(Cov.figure(null), el('small', null, ` (${Cov.t('noneNamed')})`));
    } else {
      members.append(p.cities.map(Cov.cityName).join('、'));
    }
    li.append(size, members);
    return li;
  });
  $('pilots').replaceChildren(...items);
}

function drawCharts() {
  const cities = [...data.cities.nodes].sort((a, b) => (a.code < b.code ? 1 : -1));
  charted = cities;
  const series = types.map((type) => ({
    name: Cov.t(type),
    type: 'bar',
    barGap: 0,
    itemStyle: { color: COLORS[type] },
    label: {
      show: true,
      position: 'right',
      fontSize: 11,
      formatter: (p) => (p.data && p.data.stated ? `${p.data.value}%*` : `${p.data.value}%`),
    },
    data: cities.map((city) => {
      const r = record(city, type);
      if (!r || r.coverageRate == null) return { value: '-' };
      return { value: Math.round(r.coverageRate * 1000) / 10, stated: r.rateIsStated };
    }),
  }));
  rateChart.setOption({
    aria: { enabled: true },
    animation: false,
    legend: { top: 0 },
    grid: { left: 8, right: 48, top: 32, bottom: 8, containLabel: true },
    tooltip: { trigger: 'item', renderMode: 'richText', formatter: (p) => `${p.name} · ${p.seriesName}: ${p.data.value}%${p.data.stated ? ` (${Cov.t('stated')})` : ''}` },
    xAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', data: cities.map(Cov.cityName) },
    series,
  }, true);

  const periods = trend.map((s) => s.period);
  const any = Cov.drawYears(trendChart, periods, types, (type, period) => {
    const year = trend.find((s) => s.period === period);
    const t = year && year.byType.find((b) => b.branchType === type);
    // Each point says how many cities its rate is over (a year's published cities only).
    return t && t.coverageRate != null
      ? { value: Math.round(t.coverageRate * 1000) / 10, cities: t.citiesReporting }
      : '-';
  }, { trigger: 'axis', formatter: trendTooltip });
  $('no-trend').hidden = any;
  $('chart-trend').hidden = !any;
  if (any) trendChart.resize();
}

/** A trend year's tooltip: how complete the year's publication is, and each rate with the
 * number of cities it is over (企业科协 73.2%（5/18 市）). */
function trendTooltip(points) {
  if (!points.length) return '';
  const period = Number(points[0].name);
  const cityCount = data.cities.totalCount;
  const round = (data.rounds || []).find((r) => r.period === period);
  const head = round
    ? `${period} · ${Cov.t('published')} ${round.publishedCities}/${round.expectedCities} ${Cov.t('citiesUnit')}`
    : String(period);
  const lines = points
    .filter((p) => p.data && p.data.value != null)
    .map((p) => `${p.seriesName}: ${p.data.value}% (${p.data.cities}/${cityCount} ${Cov.t('citiesUnit')})`);
  return [head, ...lines].join('\n');
}

/** Briefly highlights every cell whose text changed since the last drawing. */
function highlight(cells) {
  const texts = new Map([...cells].map(([key, td]) => [key, td.textContent]));
  if (shown) {
    for (const [key, td] of cells) {
      if (shown.has(key) && shown.get(key) !== texts.get(key)) td.classList.add('changed');
    }
  }
  shown = texts;
}

$('period').addEventListener('change', (event) => {
  chosenPeriod = Number(event.target.value);
  // The choice is kept in the URL: a link sent, or a reload, shows the same year.
  window.history.replaceState(null, '', `?${Cov.linkQuery({ period: String(chosenPeriod) })}`);
  shown = null;
  read();
});

Cov.initLang(() => {
  shown = null;
  if (data) draw();
});

read();
Cov.live(LIVE, {
  open() {
    stopped.clear();
    $('banner').hidden = true;
    document.body.dataset.live = 'open';
    $('live-state').textContent = Cov.t('live');
    // Back after a loss: what happened meanwhile was not heard.
    if (everConnected) read();
    everConnected = true;
  },
  next() {
    read();
  },
  resumed() {
    // The server had ended the subscription: what happened until it was renewed was not heard.
    read();
  },
  stopped(id, errors) {
    // The server refused the subscription or ended it with errors: its words, in the banner,
    // until the next connection asks again.
    stopped.set(id, Cov.describeErrors(errors));
    const banner = $('banner');
    // The same refusal of several subscriptions is said once.
    banner.textContent = `${Cov.t('liveStopped')}: ${[...new Set(stopped.values())].join('; ')}`;
    banner.hidden = false;
  },
  lost() {
    document.body.dataset.live = 'lost';
    const banner = $('banner');
    banner.textContent = Cov.t('liveLost');
    banner.hidden = false;
    $('live-state').textContent = '';
  },
});
