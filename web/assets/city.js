// A city's own page at /city/410800: its published figures per branch type over every period
// (a chart of its rates and a table, newest year first), each year's change from the year before
// where the two are comparable, every figure's source, and its pilot designations. Linked from
// the dashboard's table and chart; `?period=2023` marks that year's row.

import * as Cov from './common.js';
import { $, el } from './common.js';

const QUERY = `query CityPage($code: ID!) {
  city(code: $code) {
    code name nameEn kind
    history {
      branchType period branchCount eligibleCount newBranches coverageRate rateIsStated rateScope source
    }
    pilotDesignations { sinceYear source program { code name nameEn level } }
  }
  ${Cov.BRANCH_TYPES}
}`;

let city = null;
let types = [];
const chart = echarts.init($('chart-history'), null, { renderer: 'canvas' });
window.addEventListener('resize', () => chart.resize());

/** The city's code, from the page's own address (`/city/410800`). */
function codeInUrl() {
  const m = /^\/city\/([0-9A-Za-z]{1,12})$/.exec(window.location.pathname);
  return m ? m[1] : null;
}

function periodInUrl() {
  const asked = new URLSearchParams(window.location.search).get('period');
  return asked && /^[0-9]{4}$/.test(asked) ? Number(asked) : null;
}

async function load() {
  const code = codeInUrl();
  let response;
  try {
    response = code ? await Cov.gql(QUERY, { code }) : { data: { city: null } };
  } catch (err) {
    $('status').textContent = Cov.t('errNetwork');
    document.body.dataset.state = 'error';
    return;
  }
  if (!response.data) {
    $('status').textContent = Cov.describeErrors(response.errors);
    document.body.dataset.state = 'error';
    return;
  }
  if (!response.data.city) {
    $('status').textContent = Cov.t('noCity', { code: code ?? '—' });
    document.body.dataset.state = 'empty';
    return;
  }
  city = response.data.city;
  types = Cov.branchTypes(response.data);
  draw();
  document.body.dataset.state = 'ready';
}

/**
 * The change of a record's rate from the year before, in percentage points, when the two rates
 * are alike: both computed from counts, or both stated of the same scope. Otherwise none (a
 * stated rate of high-tech enterprises is no base for a rate of all enterprises).
 */
function change(r, before) {
  if (!r || !before || r.coverageRate == null || before.coverageRate == null) return null;
  if (r.rateIsStated !== before.rateIsStated) return null;
  if (r.rateIsStated && r.rateScope !== before.rateScope) return null;
  const points = Math.round((r.coverageRate - before.coverageRate) * 1000) / 10;
  return points > 0 ? `+${points}` : String(points);
}

function draw() {
  if (!city) return;
  $('status').hidden = true;
  const name = Cov.cityName(city);
  $('city-title').textContent = `${name} · ${Cov.t('cityPage')}`;
  document.title = `${name} · coverage-api`;
  const periods = [...new Set(city.history.map((r) => r.period))].sort((a, b) => a - b);
  const marked = periodInUrl();
  const year = marked ?? periods[periods.length - 1];
  $('dashboard-link').href = year ? `/?period=${year}` : '/';
  $('report-link').href = year ? `/report?period=${year}` : '/report';
  const at = (type, period) => city.history.find((r) => r.branchType === type && r.period === period);

  // The designations.
  const items = city.pilotDesignations.map((d) => {
    const programme = Cov.lang === 'en' ? d.program.nameEn : d.program.name;
    const since = d.sinceYear ? ` · ${Cov.t('sinceYear')} ${d.sinceYear}` : '';
    return el('li', null, `${programme} (${Cov.t(d.program.level)})${since}`);
  });
  $('designations').replaceChildren(...(items.length ? items : [el('li', 'muted', '—')]));

  // The table: one row a year, newest first; per type the counts, the rate and its change.
  const top = el('tr');
  const yearHead = el('th', null, Cov.t('year'));
  yearHead.rowSpan = 2;
  top.append(yearHead);
  const second = el('tr');
  for (const type of types) {
    const th = el('th', 'group', Cov.t(type));
    th.colSpan = 5;
    top.append(th);
    for (const key of ['branchCount', 'eligibleCount', 'newBranches', 'coverageRate', 'yearChange']) {
      second.append(el('th', null, Cov.t(key)));
    }
  }
  $('history').querySelector('thead').replaceChildren(top, second);
  const sources = [];
  const rows = [...periods].reverse().map((period) => {
    const tr = el('tr');
    tr.dataset.period = String(period);
    if (period === marked) tr.classList.add('marked');
    tr.append(el('th', null, String(period)));
    for (const type of types) {
      const r = at(type, period);
      const source = r ? r.source : null;
      if (source && !sources.includes(source)) sources.push(source);
      const figure = (value) => {
        const td = el('td', 'num');
        td.append(Cov.figure(value, source));
        return td;
      };
      const shown = r ? Cov.rate(r.coverageRate) : null;
      const rate = figure(shown == null ? null : `${shown}${r.rateIsStated ? '*' : ''}`);
      if (r && r.rateIsStated && r.rateScope) rate.title = `${Cov.t('scope')}: ${Cov.scope(r.rateScope)}`;
      // The record's source, by its number in the list below.
      if (source) rate.append(el('sup', null, `[${sources.indexOf(source) + 1}]`));
      const delta = change(r, at(type, period - 1));
      tr.append(figure(Cov.count(r && r.branchCount)), figure(Cov.count(r && r.eligibleCount)),
        figure(Cov.count(r && r.newBranches)), rate,
        el('td', 'num', delta == null ? '—' : `${delta} ${Cov.t('points')}`));
    }
    return tr;
  });
  $('history').querySelector('tbody').replaceChildren(...rows);
  $('sources').replaceChildren(...sources.map((s) => el('li', null, s)));

  // The chart: the city's rate per type over the years (a stated rate marked *).
  const any = Cov.drawYears(chart, periods, types, (type, p) => {
    const r = at(type, p);
    return r && r.coverageRate != null
      ? { value: Math.round(r.coverageRate * 1000) / 10, stated: r.rateIsStated }
      : '-';
  }, {
    trigger: 'item',
    formatter: (p) => `${p.name} · ${p.seriesName}: ${p.data.value}%${p.data.stated ? ` (${Cov.t('stated')})` : ''}`,
  });
  $('no-history').hidden = any;
  $('chart-history').hidden = !any;
  if (any) chart.resize();
}

Cov.initLang(draw);
load();
