// What the dashboard and the staff page share: the words in Chinese and English (Chinese first,
// the choice remembered in localStorage), number formats, small DOM helpers, GraphQL over HTTP
// (POST /graphql) with paged reads of connections, and a small graphql-transport-ws client for
// /graphql/ws. An ES module (no build step): the pages import what they use.
//
// The pages copy none of the server's rules or messages: what the server refuses, it says why,
// and the pages show its words (`describeErrors`, and each user error's own message).

const WORDS = {
  zh: {
    title: '河南省基层科协组织覆盖情况',
    staffTitle: '市科协填报',
    year: '年度',
    language: '语言',
    ENTERPRISE: '企业科协',
    UNIVERSITY: '高校科协',
    TOWNSHIP: '乡镇（街道）科协',
    ENTERPRISE_short: '企业',
    UNIVERSITY_short: '高校',
    TOWNSHIP_short: '乡镇',
    branchCount: '组织数',
    eligibleCount: '应建单位数',
    newBranches: '新建数',
    coverageRate: '覆盖率',
    stated: '报告所述',
    scope: '口径',
    source: '来源',
    note: '说明',
    exportXlsx: '导出 XLSX',
    exportCsv: '导出 CSV',
    template: '下载本市填报模板（Excel）',
    importHelp: '填好后在下方上传：先检查，核对无误再写入本市草稿',
    notStated: '报告未给出 / not stated',
    sumOfCities: '各市合计',
    citiesReporting: '填报城市数',
    fullCoverage: '全覆盖',
    pilot: '试点',
    pilots: '试点',
    city: '市',
    cityOrZone: '市 / 示范区',
    version: '版本',
    revisions: '修改记录',
    members: '成员城市',
    statedSize: '报告所述数量',
    citiesUnit: '市',
    reviewTitle: '年报审核',
    status: '状态',
    statedRate: '报告所述覆盖率',
    rateScope: '口径',
    adminOnly: '此页面仅供省科协管理员使用',
    fixMarked: '请修改标出的栏目',
    adminTitle: '管理控制台',
    exportFeed: '导出 XLSX',
    pilotsTitle: '试点与全省报告数',
    programme: '试点',
    sinceYear: '起始年份',
    saveDesignation: '保存试点',
    saveProgram: '保存试点项目',
    programCode: '代码',
    programSaved: '已保存试点项目 {code}（版本 {v}）',
    edit: '修改',
    saveTotal: '保存全省报告数',
    remove: '移除',
    designationSaved: '已保存试点（版本 {v}）',
    designationDropped: '已移除试点',
    totalSaved: '已保存全省报告数（版本 {v}）',
    branchType: '类型',
    reviewLink: '年报审核',
    accountsTitle: '账户',
    displayName: '姓名',
    role: '角色',
    accountState: '状态',
    createAccount: '新建账户',
    tokensTitle: 'API 令牌（程序用）',
    tokenName: '用途',
    expires: '有效期至',
    lastUsed: '最近使用',
    createToken: '新建令牌',
    feedTitle: '修改记录（全省）',
    filter: '筛选',
    more: '更多',
    allCities: '全部市',
    allTypes: '全部类型',
    disabled: '已停用',
    mustChange: '待首次登录',
    active: '正常',
    disable: '停用',
    rotate: '更换密钥',
    revoke: '撤销',
    revoked: '已撤销',
    noExpiry: '长期有效',
    accountMade: '已新建账户 {login}。一次性密码：{password}（只显示这一次，请交给本人；首次登录时须设置新密码）',
    accountDisabled: '已停用账户 {login}，结束登录 {n} 个',
    tokenMade: '已新建令牌 {id}。密钥：{secret}（只显示这一次）',
    tokenRotated: '令牌 {id} 已更换密钥：{secret}（只显示这一次；旧密钥已失效）',
    tokenRevoked: '令牌 {id} 已撤销',
    none: '无',
    OPEN: '进行中',
    CLOSED: '已关闭',
    ROUND: '年报轮次',
    CITY_RETURN: '年报',
    PILOT_DESIGNATION: '试点',
    PROVINCE_TOTAL: '全省报告数',
    PILOT_PROGRAM: '试点项目',
    programName: '名称',
    programNameEn: '英文名称',
    programLevel: '级别',
    NATIONAL: '国家级',
    PROVINCIAL: '省级',
    programCreated: '新建试点 {program}',
    designationSet: '{program}：自 {year} 年',
    designationRemoved: '{program}：已取消',
    provinceTotal: '全省报告数',
    roundClosedShort: '本年度年报已关闭',
    received: '已报',
    openRound: '开启年报',
    closeRound: '关闭年报',
    reopenRound: '重新开启',
    publishRound: '发布已审核年报',
    reason: '原因',
    submittedAt: '报送时间',
    submittedBy: '报送人',
    publishedCol: '已发布',
    actions: '操作',
    openReturn: '查看',
    publishedFigure: '已发布',
    draftFigure: '本次填报',
    comment: '意见',
    sendBack: '退回',
    approve: '审核通过',
    publishReturn: '发布本市',
    reopenReturn: '重新开启本市年报',
    done: '已完成',
    published: '已发布',
    publishedAll: '全部已发布',
    national: '国家级',
    provincial: '省级',
    noneNamed: '报告未点名',
    chartRates: '各市覆盖率（按类型）',
    chartTrend: '全省覆盖率（各市合计口径）历年变化',
    chartStated: '* 报告所述：报告直接给出的覆盖率，口径见下表',
    noTrend: '暂无可计算的全省覆盖率：没有城市同时报告组织数和应建单位数',
    loading: '正在加载…',
    noData: '所选年度没有数据',
    liveLost: '实时连接已断开，正在重连；恢复后会重新读取数据',
    liveStopped: '部分实时更新已停止',
    live: '实时更新中',
    lastRead: '最后读取',
    sortBy: '排序',
    footerSource: '每个数字的来源：鼠标悬停或键盘聚焦即可查看',
    footerStated: '标有“报告所述”的覆盖率由报告直接给出，未给出组织数和应建单位数',
    dashboardLink: '总览',
    reportLink: '年度报告',
    cityPage: '历年覆盖情况',
    cityTrend: '历年覆盖率',
    cityHistory: '历年数据',
    sources: '来源',
    points: '个百分点',
    yearChange: '较上年',
    noCity: '没有代码为 {code} 的城市',
    print: '打印',
    reportTitle: '河南省基层科协组织覆盖情况 · {year}年度',
    asOf: '数据截至 {at}',
    asOfPublication: '数据截至 {at}（第 {n} 次发布）',
    madeOn: '制表日期：{day}',
    reportParagraph: '覆盖情况综述',
    reportSummary: '全省汇总',
    reportCities: '各市覆盖情况',
    noteStated: '{city}{type}：报告所述覆盖率 {rate}，口径：{scope}。',
    noteNew: '{city}{type}：当年新建 {n} 个（新建数，非总数）。',
    staffLink: '市科协填报',
    graphiqlLink: 'GraphQL 调试',
    newShort: '新建',
    token: '令牌',
    tokenOr: '或 API 令牌',
    login: '登录名',
    password: '密码',
    newPassword: '新密码（首次登录须设置，至少 10 个字符）',
    tokenHelp: '用本人的登录名和密码登录（或粘贴 API 令牌）。登录只保存在此标签页中，关闭即清除。',
    signIn: '登录',
    signOut: '退出',
    signedInAs: '当前身份',
    CITY_STAFF: '市科协',
    ADMIN: '省科协管理员',
    readOnly: '只读：只能修改本市的数据',
    adminAny: '管理员可修改任何城市',
    roundNone: '本年度尚未开启年报',
    roundOpen: '本年度年报进行中',
    roundDue: '截止日期',
    roundClosed: '本年度年报已关闭：省科协重新开启前不能填报',
    ourReturn: '本市年报',
    NOT_STARTED: '未报',
    DRAFT: '草稿',
    SUBMITTED: '已报，等待省科协审核',
    RETURNED: '已退回',
    APPROVED: '已审核',
    late: '逾期',
    provinceComment: '省科协意见',
    submitReturn: '报送年报',
    save: '保存',
    saved: '已保存 · 版本',
    stored: '已存数据',
    noRecord: '尚无记录',
    yourFigures: '您的数字',
    theirFigures: '已存（他人）的数字',
    conflictBy: '此记录已被 {who} 于 {at} 修改（版本 {v}）',
    keepTheirs: '采用已存数字',
    sendMine: '以我的数字覆盖（基于版本 {v}）',
    errTokenEmpty: '请输入登录名和密码，或粘贴令牌',
    errNetwork: '无法连接服务器',
    when: '时间',
    who: '修改人',
    record: '记录',
    change: '修改前 → 修改后',
    noRevisions: '尚无修改记录',
    created: '新建',
    field: '项目',
    unknownEmpty: '留空表示未知',
    statedRatePercent: '报告所述覆盖率（%）',
    uploadFile: '上传填好的表格（Excel 或 CSV）',
    uploadCheck: '检查文件',
    uploadApply: '写入本市草稿',
    uploadChoose: '请先选择文件',
    uploadChecking: '正在检查…',
    uploadRow: '第 {n} 行',
    uploadRowHead: '行',
    uploadRefused: '文件有 {n} 处问题，未写入任何数据：',
    uploadApplied: '已写入本市草稿：{n} 条记录',
    uploadNothing: '文件与本市当前数据一致，无需写入',
    uploadReady: '检查通过，将修改 {n} 条记录（尚未写入）。核对后点击“写入本市草稿”。',
  },
  en: {
    title: 'Coverage of the grassroots science-association branches in Henan',
    staffTitle: 'City office returns',
    year: 'Year',
    language: 'Language',
    ENTERPRISE: 'Enterprise branches',
    UNIVERSITY: 'University branches',
    TOWNSHIP: 'Township branches',
    ENTERPRISE_short: 'Enterprise',
    UNIVERSITY_short: 'University',
    TOWNSHIP_short: 'Township',
    branchCount: 'Branch count',
    eligibleCount: 'Eligible units',
    newBranches: 'Newly established',
    coverageRate: 'Coverage rate',
    stated: 'stated',
    scope: 'scope',
    source: 'Source',
    note: 'Note',
    exportXlsx: 'Export XLSX',
    exportCsv: 'Export CSV',
    template: "Download the city's return (Excel)",
    importHelp: 'Upload it below when filled in: check it first, then write it to the draft',
    notStated: '报告未给出 / not stated',
    sumOfCities: 'Sum of cities',
    citiesReporting: 'Cities reporting',
    fullCoverage: 'Full coverage',
    pilot: 'Pilot programme',
    pilots: 'Pilot programmes',
    city: 'City',
    cityOrZone: 'City / demonstration zone',
    version: 'Version',
    revisions: 'Revision history',
    members: 'Member cities',
    statedSize: 'Size stated',
    citiesUnit: 'cities',
    reviewTitle: 'Review of the yearly return',
    status: 'Status',
    statedRate: 'Stated rate',
    rateScope: 'Scope',
    adminOnly: 'This page is for province administrators',
    fixMarked: 'Correct the fields marked',
    adminTitle: 'Console',
    exportFeed: 'Export XLSX',
    pilotsTitle: 'Pilots and province totals',
    programme: 'Programme',
    sinceYear: 'Since',
    saveDesignation: 'Save the designation',
    saveProgram: 'Save the programme',
    programCode: 'Code',
    programSaved: 'Programme {code} saved (version {v})',
    edit: 'Edit',
    saveTotal: 'Save the province total',
    remove: 'Remove',
    designationSaved: 'Designation saved (version {v})',
    designationDropped: 'Designation removed',
    totalSaved: 'Province total saved (version {v})',
    branchType: 'Branch type',
    reviewLink: 'Review',
    accountsTitle: 'Accounts',
    displayName: 'Name',
    role: 'Role',
    accountState: 'State',
    createAccount: 'Create the account',
    tokensTitle: 'API tokens (for programs)',
    tokenName: 'Purpose',
    expires: 'Expires',
    lastUsed: 'Last used',
    createToken: 'Create the token',
    feedTitle: 'Changes across the province',
    filter: 'Filter',
    more: 'More',
    allCities: 'All cities',
    allTypes: 'All types',
    disabled: 'disabled',
    mustChange: 'first sign-in pending',
    active: 'active',
    disable: 'Disable',
    rotate: 'Rotate',
    revoke: 'Revoke',
    revoked: 'revoked',
    noExpiry: 'no expiry',
    accountMade: 'Account {login} created. One-time password: {password} (shown once; give it to the person, who chooses a new one at first sign-in)',
    accountDisabled: 'Account {login} disabled; {n} sign-ins ended',
    tokenMade: 'Token {id} created. Secret: {secret} (shown once)',
    tokenRotated: 'Token {id} has a new secret: {secret} (shown once; the old one no longer works)',
    tokenRevoked: 'Token {id} revoked',
    none: 'none',
    OPEN: 'open',
    CLOSED: 'closed',
    ROUND: 'round',
    CITY_RETURN: 'return',
    PILOT_DESIGNATION: 'pilot',
    PROVINCE_TOTAL: 'province total',
    PILOT_PROGRAM: 'programme',
    programName: 'Name',
    programNameEn: 'English name',
    programLevel: 'Level',
    NATIONAL: 'national',
    PROVINCIAL: 'provincial',
    programCreated: 'new programme {program}',
    designationSet: '{program}: since {year}',
    designationRemoved: '{program}: removed',
    provinceTotal: 'Province total',
    roundClosedShort: "This year's return is closed",
    received: 'received',
    openRound: 'Open the round',
    closeRound: 'Close the round',
    reopenRound: 'Reopen',
    publishRound: 'Publish the approved returns',
    reason: 'Reason',
    submittedAt: 'Submitted',
    submittedBy: 'Submitted by',
    publishedCol: 'Published',
    actions: 'Actions',
    openReturn: 'Open',
    publishedFigure: 'Published',
    draftFigure: 'This return',
    comment: 'Comment',
    sendBack: 'Send back',
    approve: 'Approve',
    publishReturn: "Publish this city's",
    reopenReturn: "Reopen this city's return",
    done: 'Done',
    published: 'Published',
    publishedAll: 'all published',
    national: 'national',
    provincial: 'provincial',
    noneNamed: 'none named in the report',
    chartRates: 'Coverage rate per city and type',
    chartTrend: 'Province coverage rate (sum of cities) over the years',
    chartStated: '* stated: a rate the report gives directly; its scope is in the table below',
    noTrend: 'No province rate can be computed yet: no city reports both branch and eligible counts',
    loading: 'Loading…',
    noData: 'No data for the chosen year',
    liveLost: 'Live connection lost; reconnecting. The figures are read again once it is back',
    liveStopped: 'Some live updates stopped',
    live: 'Live',
    lastRead: 'Last read',
    sortBy: 'Sort',
    footerSource: 'Hover over or focus any figure to see its source',
    footerStated: 'Rates marked "stated" are given by the report without branch or eligible counts',
    dashboardLink: 'Dashboard',
    reportLink: 'Yearly report',
    cityPage: 'coverage over the years',
    cityTrend: 'Coverage rate over the years',
    cityHistory: 'Figures by year',
    sources: 'Sources',
    points: 'pp',
    yearChange: 'Change',
    noCity: 'There is no city with code {code}',
    print: 'Print',
    reportTitle: 'Coverage of grassroots science associations in Henan · {year}',
    asOf: 'Figures as of {at}',
    asOfPublication: 'Figures as of {at} (publication {n})',
    madeOn: 'Made on {day}',
    reportParagraph: 'Summary in words',
    reportSummary: 'Province summary',
    reportCities: 'Coverage by city',
    noteStated: '{city}, {type}: a rate the source states, {rate}, of {scope}.',
    noteNew: '{city}, {type}: {n} newly established in the year (a flow, not the total).',
    staffLink: 'City returns',
    graphiqlLink: 'GraphQL playground',
    newShort: 'new',
    token: 'Token',
    tokenOr: 'or an API token',
    login: 'Login',
    password: 'Password',
    newPassword: 'New password (needed at first sign-in, 10 characters or more)',
    tokenHelp: 'Sign in with your own login and password (or paste an API token). It is kept in this tab only and forgotten when the tab closes.',
    signIn: 'Sign in',
    signOut: 'Sign out',
    signedInAs: 'Signed in as',
    CITY_STAFF: 'city office',
    ADMIN: 'province administrator',
    readOnly: 'Read-only: you may change your own city only',
    adminAny: 'Administrators may change any city',
    roundNone: 'No yearly return has been opened for this year',
    roundOpen: "This year's return is open",
    roundDue: 'due',
    roundClosed: "This year's return is closed: no figures until the province reopens it",
    ourReturn: "The city's return",
    NOT_STARTED: 'not started',
    DRAFT: 'draft',
    SUBMITTED: "submitted, waiting for the province's review",
    RETURNED: 'sent back',
    APPROVED: 'approved',
    late: 'late',
    provinceComment: "Province's comment",
    submitReturn: 'Submit the return',
    save: 'Save',
    saved: 'Saved · version',
    stored: 'Stored',
    noRecord: 'no record yet',
    yourFigures: 'Your figures',
    theirFigures: 'Stored (theirs)',
    conflictBy: 'This record was changed by {who} at {at} (version {v})',
    keepTheirs: 'Keep the stored figures',
    sendMine: 'Send mine again on version {v}',
    errTokenEmpty: 'Enter your login and password, or paste a token',
    errNetwork: 'The server cannot be reached',
    when: 'When',
    who: 'Who',
    record: 'Record',
    change: 'Before → after',
    noRevisions: 'No revisions yet',
    created: 'created',
    field: 'Field',
    unknownEmpty: 'Leave empty when unknown',
    statedRatePercent: 'Stated rate (%)',
    uploadFile: 'Upload the filled-in sheet (Excel or CSV)',
    uploadCheck: 'Check the file',
    uploadApply: 'Write to the draft',
    uploadChoose: 'Choose a file first',
    uploadChecking: 'Checking…',
    uploadRow: 'row {n}',
    uploadRowHead: 'Row',
    uploadRefused: 'The file has {n} problem(s); nothing was written:',
    uploadApplied: 'Written to the draft: {n} record(s)',
    uploadNothing: "The file matches the city's figures: nothing to write",
    uploadReady: '{n} record(s) would change (nothing written yet). Look them over, then write them to the draft.',
  },
};

const LANG_KEY = 'coverage-api.lang';

/** The current language, 'zh' or 'en'; a live binding, so importers see every switch. */
export let lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
const listeners = [];

/** "报告未给出 / not stated": the words for an unknown figure, in both languages at once. */
export const NOT_STATED = WORDS.zh.notStated;

/** The word for `key` in the current language, with {name} placeholders filled. */
export function t(key, values) {
  let text = WORDS[lang][key] ?? WORDS.zh[key] ?? key;
  for (const [name, value] of Object.entries(values || {})) {
    text = text.replace(`{${name}}`, value);
  }
  return text;
}

/** Writes the words into every element marked with data-t (text) or data-t-label. */
export function applyWords(root) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const node of (root || document).querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
  for (const node of (root || document).querySelectorAll('[data-t-label]')) {
    node.setAttribute('aria-label', t(node.dataset.tLabel));
  }
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  }
  for (const node of (root || document).querySelectorAll('.field-problem')) {
    if (node.refusal) node.textContent = refusalText(node.refusal);
  }
}

/** A refusal's words (a userError) in the page's language: the server sends both. */
export function refusalText(e) {
  return lang === 'en' || !e.messageZh ? e.message : e.messageZh;
}

/**
 * Shows a mutation's userErrors: each beside the input of `form` marked data-field with the
 * last name of its path (the input marked aria-invalid and described by the words), the rest
 * in `line` with their codes. Clears what an earlier answer showed; focuses the first input
 * refused. `form` may be null (a step taken from a table's button).
 */
export function showRefusals(form, line, userErrors) {
  if (form) {
    for (const old of form.querySelectorAll('.field-problem')) old.remove();
    for (const input of form.querySelectorAll('[aria-invalid]')) {
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-describedby');
    }
  }
  const elsewhere = [];
  let first = null;
  for (const e of userErrors) {
    const name = e.field[e.field.length - 1];
    const input = form ? form.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
    if (!input || input.closest('[hidden]') || input.hasAttribute('aria-invalid')) {
      elsewhere.push(e);
      continue;
    }
    const problem = el('span', 'field-problem', refusalText(e));
    problem.id = `${input.id}-problem`;
    problem.dataset.code = e.code;
    problem.refusal = e;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', problem.id);
    input.after(problem);
    first = first || input;
  }
  line.classList.remove('ok', 'bad');
  line.textContent = elsewhere.map((e) => `${refusalText(e)} (${e.code})`).join('; ');
  if (userErrors.length > 0) {
    line.classList.add('bad');
    if (!line.textContent) line.textContent = t('fixMarked');
  }
  if (first) first.focus();
}

function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  localStorage.setItem(LANG_KEY, lang);
  applyWords();
  for (const f of listeners) f();
}

/** Wires the 中文 | EN buttons and calls `onChange` after every switch. */
export function initLang(onChange) {
  if (onChange) listeners.push(onChange);
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => setLang(button.dataset.lang));
  }
  applyWords();
}

/** A link's query string with `values`, and lang=en while English is chosen. */
export function linkQuery(values) {
  const query = new URLSearchParams(values);
  if (lang === 'en') query.set('lang', 'en');
  return query;
}

/** 1,234; null stays null. */
export function count(n) {
  return n == null ? null : n.toLocaleString('en-US');
}

/** 95%, 99.5%: a percentage with at most one decimal; null stays null. */
export function rate(r) {
  return r == null ? null : `${Math.round(r * 1000) / 10}%`;
}

/** A city's name in the current language. */
export function cityName(city) {
  return lang === 'zh' ? city.name : city.nameEn;
}

/**
 * A stored text written in both languages, "English (中文)" (a stated rate's scope, a note on
 * the province's total), in the current language; a text in another form (no Chinese in the
 * brackets, or Chinese before them) is shown as it is.
 */
export function scope(text) {
  if (!text) return null;
  const m = /^(.*?)\s*\((.*)\)\s*$/.exec(text);
  // Only English with its Chinese in brackets: "… (2024)" or a Chinese text stays whole.
  if (!m || !CJK.test(m[2]) || CJK.test(m[1])) return text;
  return lang === 'zh' ? m[2] : m[1];
}

const CJK = /[\u3400-\u9fff]/;

/** The element with this id. */
export function $(id) {
  return document.getElementById(id);
}

/** A new element, with a class and a text when given. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/**
 * A figure for a table or card: the formatted value with its source on hover (CSS tooltip
 * from data-tip) and, when known, on keyboard focus; "—" with "报告未给出 / not stated" when
 * unknown, never 0.
 */
export function figure(text, source) {
  const span = el('span', 'fig');
  if (text == null) {
    span.textContent = '—';
    span.classList.add('unknown');
    span.dataset.tip = NOT_STATED;
    span.setAttribute('aria-label', `— ${NOT_STATED}`);
  } else {
    span.textContent = text;
    span.tabIndex = 0;
    const tip = source ? `${t('source')}: ${source}` : `${t('source')}: —`;
    span.dataset.tip = tip;
    span.setAttribute('aria-label', `${text}. ${tip}`);
  }
  return span;
}

/** The colour of each branch type in the charts. */
export const COLORS = { ENTERPRISE: '#1f5fa8', UNIVERSITY: '#a34a00', TOWNSHIP: '#2e7d32' };

/**
 * Draws rates (0–100 %) over the years on `chart`: one line per branch type of `types`, each point
 * `point(type, period)` ({ value, … } or '-'), with `tooltip` (ECharts' trigger and formatter).
 * Returns whether any point was drawn; with none the chart is left as it was.
 */
export function drawYears(chart, periods, types, point, tooltip) {
  const lines = types.map((type) => ({
    name: t(type),
    type: 'line',
    connectNulls: false,
    itemStyle: { color: COLORS[type] },
    data: periods.map((p) => point(type, p)),
  }));
  const any = lines.some((l) => l.data.some((v) => v !== '-'));
  if (!any) return false;
  chart.setOption({
    aria: { enabled: true },
    animation: false,
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    tooltip: { renderMode: 'richText', ...tooltip },
    xAxis: { type: 'category', data: periods.map(String) },
    yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    series: lines,
  }, true);
  return true;
}

const CHINA_TIME = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/**
 * A time as the province reads it, whatever the reader's own zone: China Standard Time (UTC+8),
 * "2024-03-22 09:30" (the server stores UTC).
 */
export function when(iso) {
  const parts = Object.fromEntries(CHINA_TIME.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/**
 * A day in China Standard Time as running text says it: 2024年3月22日, or 22 March 2024 in
 * English.
 */
export function day(date) {
  const parts = Object.fromEntries(CHINA_TIME.formatToParts(date).map((p) => [p.type, p.value]));
  const [y, m, d] = [parts.year, Number(parts.month), Number(parts.day)];
  return lang === 'zh' ? `${y}年${m}月${d}日` : `${d} ${MONTHS[m - 1]} ${y}`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];

/** POST /graphql; resolves to the JSON response (data and errors), rejects on network failure. */
export async function gql(query, variables, token) {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables: variables || {} }),
    cache: 'no-store',
  });
  return response.json();
}

/** The first error's extensions.code, if any. */
export function errorCode(response) {
  return response && response.errors && response.errors[0] && response.errors[0].extensions
    ? response.errors[0].extensions.code : null;
}

/** The server's own words for GraphQL errors: each message, with its extensions.code. */
export function describeErrors(errors) {
  return (errors || [])
    .map((e) => (e.extensions && e.extensions.code ? `${e.message} (${e.extensions.code})` : e.message))
    .join('; ');
}

/** A read the server answered with errors instead of data; `errors` are the server's. */
export class ServerError extends Error {
  constructor(errors) {
    super(describeErrors(errors));
    this.errors = errors;
  }
}

/** Items per page of a paged read: the most `first` the server's connections accept. */
export const PAGE = 100;

/**
 * Every node of a connection, page after page. `connection` is its first page as an answer
 * holds it; `after(cursor)` reads the page that follows `cursor` and resolves to the answer's
 * data. Both ask for `pageInfo { hasNextPage endCursor }`; `pick(data)` finds the connection in
 * an answer. Throws a ServerError when a page is refused.
 */
export async function allNodes(connection, after, pick) {
  const nodes = [...connection.nodes];
  let page = connection;
  while (page.pageInfo.hasNextPage) {
    const response = await after(page.pageInfo.endCursor);
    if (!response.data) throw new ServerError(response.errors);
    page = pick(response.data);
    nodes.push(...page.nodes);
  }
  return nodes;
}

/**
 * The branch types as the schema lists them (introspection), for a page's query; read them
 * with `branchTypes(data)`.
 */
export const BRANCH_TYPES = 'branchTypes: __type(name: "BranchType") { enumValues { name } }';

/** The branch types an answer to a query with BRANCH_TYPES holds, in the schema's order. */
export function branchTypes(data) {
  return data.branchTypes.enumValues.map((v) => v.name);
}

/**
 * Subscribes to `operations` ({id: query}) over /graphql/ws with the graphql-transport-ws
 * protocol, reconnecting with a growing delay. Calls
 * - `on.open()` after every (re)connection, once every operation is asked for;
 * - `on.next(id, payload)` per event (an event may hold errors, e.g. EVENTS_MISSED, after which
 *   the operation goes on);
 * - `on.resumed(id)` when an operation the server completed has been subscribed again: what
 *   happened in between was not heard;
 * - `on.stopped(id, errors)` when the server ends an operation with errors: an `error` message,
 *   or `complete` right after an event that held errors and no data (how this server refuses a
 *   subscription, e.g. TOO_MANY_SUBSCRIPTIONS). It is not asked for again on this connection;
 * - `on.lost()` when the connection drops.
 */
export function live(operations, on, init = {}) {
  let retry = 0;
  function connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    const ws = new WebSocket(`${scheme}${window.location.host}/graphql/ws`, 'graphql-transport-ws');
    // The operations running on this connection: id → { failed: the errors of its last event
    // when that held no data, retry: its resubscriptions in a row, timer }.
    const running = {};
    const subscribe = (id) => ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: operations[id] } }));
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: init })));
    ws.addEventListener('message', (event) => {
      const message = JSON.parse(event.data);
      const op = running[message.id];
      if (message.type === 'connection_ack') {
        retry = 0;
        for (const id of Object.keys(operations)) {
          running[id] = { failed: null, retry: 0, timer: null };
          subscribe(id);
        }
        on.open();
      } else if (message.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong' }));
      } else if (message.type === 'next' && op) {
        const { data, errors } = message.payload;
        op.failed = errors && errors.length > 0 && data == null ? errors : null;
        if (!op.failed) op.retry = 0;
        on.next(message.id, message.payload);
      } else if (message.type === 'error' && op) {
        delete running[message.id];
        on.stopped(message.id, Array.isArray(message.payload) ? message.payload : [message.payload]);
      } else if (message.type === 'complete' && op) {
        if (op.failed) {
          delete running[message.id];
          on.stopped(message.id, op.failed);
          return;
        }
        // The server ended an operation the page still listens for: ask again, after a delay
        // that grows while it keeps ending them.
        op.retry += 1;
        op.timer = setTimeout(() => {
          op.timer = null;
          if (ws.readyState !== WebSocket.OPEN) return; // the next connection asks for it
          subscribe(message.id);
          on.resumed(message.id);
        }, Math.min(30000, 250 * 2 ** op.retry));
      }
    });
    ws.addEventListener('close', () => {
      for (const op of Object.values(running)) clearTimeout(op.timer);
      on.lost();
      retry += 1;
      setTimeout(connect, Math.min(30000, 500 * 2 ** retry));
    });
  }
  connect();
}

/** A revision's change in words, whatever its kind (a figure's before → after, a return's or
 * round's step, a designation, a province total), in the page's language. */
export function describeRevision(r) {
  const before = r.before || {};
  const after = r.after || {};
  if (r.kind === 'CITY_RETURN' || r.kind === 'ROUND') {
    const was = r.before ? t(before.status) : t('none');
    return `${was} → ${r.after ? t(after.status) : t('none')}${after.comment ? ` · ${after.comment}` : ''}`;
  }
  if (r.kind === 'PILOT_DESIGNATION') {
    if (!r.after) return t('designationRemoved', { program: before.programCode });
    return t('designationSet', { program: after.programCode, year: after.sinceYear ?? '—' });
  }
  if (r.kind === 'PILOT_PROGRAM') {
    const fields = { name: 'programName', nameEn: 'programNameEn', level: 'programLevel', statedSize: 'statedSize', source: 'source' };
    const shown = (name, value) => (name === 'level' && value ? t(value) : value ?? '—');
    const changes = Object.entries(fields)
      .filter(([name]) => r.before && before[name] !== after[name])
      .map(([name, key]) => `${t(key)}: ${shown(name, before[name])} → ${shown(name, after[name])}`);
    const title = lang === 'en' ? after.nameEn : after.name;
    return r.before ? changes.join('; ') : t('programCreated', { program: `${title} (${after.code}, ${t(after.level)})` });
  }
  if (r.kind === 'PROVINCE_TOTAL') {
    return `${t('provinceTotal')}: ${before.total ?? '—'} → ${after.total ?? '—'}`;
  }
  const parts = [];
  for (const name of ['branchCount', 'eligibleCount', 'newBranches', 'statedRate', 'rateScope', 'source']) {
    const was = r.before ? before[name] : null;
    const is = r.after ? after[name] : null;
    if (JSON.stringify(was) === JSON.stringify(is)) continue;
    parts.push(`${t(name)}: ${was ?? '—'} → ${is ?? '—'}`);
  }
  return parts.join('; ') || (r.before ? '' : t('created'));
}
