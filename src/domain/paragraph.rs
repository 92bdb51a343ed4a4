//! The coverage paragraph of a yearly report, drafted from the published figures: the sentences
//! an office would otherwise write again by hand each year ("全省企业科协覆盖率为…，较上年提高…个
//! 百分点；…等…个市实现乡镇（街道）科协全覆盖"), in Chinese and English.
//!
//! It never claims more than the figures hold:
//! - a province rate is the ratio of sums over the cities that report both counts, and says how
//!   many of the cities those are; without such cities it says the rate cannot be computed;
//! - a stated rate keeps its scope ("濮阳高新技术企业科协覆盖率达95%"), and full coverage is claimed
//!   of that scope only;
//! - a rate is compared with the year before only when the same cities report both years; when
//!   they differ, it says so instead;
//! - a province total is the province's own statement, said to be so.

use std::collections::BTreeSet;

use super::{BRANCH_TYPES, BranchType, coverage_rate};

/// One city's published figures of one branch type in one year.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The city's code.
    pub city_code: String,
    /// Its Chinese name.
    pub name: String,
    /// Its English name.
    pub name_en: String,
    /// The branch type.
    pub branch_type: BranchType,
    /// Branches.
    pub branch_count: Option<i32>,
    /// Eligible organisations.
    pub eligible_count: Option<i32>,
    /// Branches newly established in the year.
    pub new_branches: Option<i32>,
    /// A rate stated without counts.
    pub stated_rate: Option<f64>,
    /// What a stated rate covers, as stored: `high-tech enterprises (高新技术企业)`.
    pub rate_scope: Option<String>,
}

/// A year's published figures and the province's own totals.
#[derive(Debug, Clone, Default)]
pub struct Year {
    /// The year.
    pub period: i32,
    /// How many cities the province has.
    pub cities: usize,
    /// The published figures, any order.
    pub figures: Vec<Figure>,
    /// The province's reported totals.
    pub totals: Vec<(BranchType, i32)>,
}

/// The paragraph in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
}

/// The most cities a sentence names before it says "等 N 个市" / "and N others".
const NAMED: usize = 5;

/// The paragraph for `year`, compared with `previous` (the year before) where that is honest.
pub fn paragraph(year: &Year, previous: Option<&Year>) -> Paragraph {
    let (mut zh, mut en) = (Vec::new(), Vec::new());
    for t in BRANCH_TYPES {
        let (z, e) = type_sentences(t, year, previous);
        zh.push(z);
        en.push(e);
    }
    Paragraph {
        zh: zh.concat(),
        en: en.join(" "),
    }
}

/// The ratio of sums over the cities that report both counts, with those cities' codes.
fn rate_of(year: &Year, t: BranchType) -> (Option<f64>, BTreeSet<&str>) {
    let reporting: Vec<&Figure> = of_type(year, t)
        .filter(|f| f.branch_count.is_some() && f.eligible_count.is_some())
        .collect();
    let branches: i64 = reporting
        .iter()
        .filter_map(|f| f.branch_count)
        .map(i64::from)
        .sum();
    let eligible: i64 = reporting
        .iter()
        .filter_map(|f| f.eligible_count)
        .map(i64::from)
        .sum();
    let rate = (!reporting.is_empty() && eligible > 0).then(|| branches as f64 / eligible as f64);
    (
        rate,
        reporting.iter().map(|f| f.city_code.as_str()).collect(),
    )
}

fn of_type(year: &Year, t: BranchType) -> impl Iterator<Item = &Figure> {
    year.figures.iter().filter(move |f| f.branch_type == t)
}

fn type_sentences(t: BranchType, year: &Year, previous: Option<&Year>) -> (String, String) {
    let (tz, te) = type_names(t);
    let figures: Vec<&Figure> = of_type(year, t).collect();
    if figures.is_empty() && !year.totals.iter().any(|(bt, _)| *bt == t) {
        return (
            format!("各市尚未报送{tz}数据。"),
            format!("No city has reported {te} figures for {}.", year.period),
        );
    }
    let (mut zh, mut en) = (Vec::new(), Vec::new());

    // The province's rate, over the cities that report both counts.
    let (rate, reporting) = rate_of(year, t);
    match rate {
        Some(rate) => {
            let n = reporting.len();
            let (mut z, mut e) = if n == year.cities {
                (
                    format!("全省{tz}覆盖率为{}", percent(rate)),
                    format!("{te} coverage across the province was {}", percent(rate)),
                )
            } else {
                (
                    format!(
                        "全省{}个市中{n}个市报送了{tz}组织数和应建单位数，合计覆盖率为{}",
                        year.cities,
                        percent(rate)
                    ),
                    format!(
                        "in the {n} of {} cities that reported both counts, {te} coverage was {}",
                        year.cities,
                        percent(rate)
                    ),
                )
            };
            if let Some(previous) = previous {
                let (before, before_reporting) = rate_of(previous, t);
                match before {
                    Some(before) if before_reporting == reporting => {
                        let points = (rate - before) * 100.0;
                        let shown = one_decimal(points.abs());
                        if shown == "0" {
                            z.push_str("，与上年持平");
                            e.push_str(&format!(", unchanged from {}", previous.period));
                        } else if points > 0.0 {
                            z.push_str(&format!("，较上年提高{shown}个百分点"));
                            e.push_str(&format!(
                                ", up {shown} percentage points on {}",
                                previous.period
                            ));
                        } else {
                            z.push_str(&format!("，较上年下降{shown}个百分点"));
                            e.push_str(&format!(
                                ", down {shown} percentage points on {}",
                                previous.period
                            ));
                        }
                    }
                    Some(_) => {
                        z.push_str("（上年报送的市不同，不作比较）");
                        e.push_str(&format!(
                            " ({} figures came from a different set of cities and are not compared)",
                            previous.period
                        ));
                    }
                    None => {}
                }
            }
            zh.push(z);
            en.push(e);
        }
        None if !figures.is_empty() => {
            zh.push(format!(
                "各市均未报送{tz}组织数和应建单位数，全省覆盖率无法计算"
            ));
            en.push(format!(
                "no city reported both {te} counts, so the province's coverage cannot be computed"
            ));
        }
        None => {}
    }

    // The province's own total.
    if let Some(total) = total_of(year, t) {
        let mut z = format!("省科协统计全省{tz}共{total}个");
        let mut e = format!("the province reports {total} {te} in all");
        if let Some(before) = previous.and_then(|p| total_of(p, t)) {
            let d = total - before;
            if d > 0 {
                z.push_str(&format!("，比上年增加{d}个"));
                e.push_str(&format!(
                    ", {d} more than in {}",
                    year.period.saturating_sub(1)
                ));
            } else if d < 0 {
                z.push_str(&format!("，比上年减少{}个", -d));
                e.push_str(&format!(
                    ", {} fewer than in {}",
                    -d,
                    year.period.saturating_sub(1)
                ));
            } else {
                z.push_str("，与上年持平");
                e.push_str(&format!(
                    ", as many as in {}",
                    year.period.saturating_sub(1)
                ));
            }
        }
        zh.push(z);
        en.push(e);
    }

    // New branches, where cities state them.
    let new: Vec<&Figure> = figures
        .iter()
        .copied()
        .filter(|f| f.new_branches.is_some())
        .collect();
    if !new.is_empty() {
        let sum: i64 = new
            .iter()
            .filter_map(|f| f.new_branches)
            .map(i64::from)
            .sum();
        let (nz, ne) = names(&new);
        if new.len() == 1 {
            zh.push(format!("{nz}新建{tz}{sum}个"));
            en.push(format!("{ne} established {sum} new {te}"));
        } else {
            zh.push(format!("{nz}新建{tz}共{sum}个"));
            en.push(format!("{ne} established {sum} new {te} between them"));
        }
    }

    // Full coverage, of the type or of a stated rate's scope.
    let full: Vec<&Figure> = figures
        .iter()
        .copied()
        .filter(|f| rate_of_city(f) == Some(1.0))
        .collect();
    let mut scopes: Vec<Option<&str>> = full.iter().map(|f| scope_of(f, t)).collect();
    scopes.sort_unstable();
    scopes.dedup();
    for scope in scopes {
        let cities: Vec<&Figure> = full
            .iter()
            .copied()
            .filter(|f| scope_of(f, t) == scope)
            .collect();
        let (nz, ne) = names(&cities);
        let (sz, se) = scope.map_or((tz.to_owned(), te.to_owned()), |s| {
            let (en, zh) = split_scope(s);
            (format!("{zh}科协"), en.to_owned())
        });
        zh.push(format!("{nz}实现{sz}全覆盖"));
        en.push(format!("{ne} covered all {se}"));
    }

    // Stated rates below full, each with its scope.
    for f in &figures {
        let rate = coverage_rate(f.branch_count, f.eligible_count, f.stated_rate);
        let Some(rate) = rate.value.filter(|r| rate.is_stated && *r < 1.0) else {
            continue;
        };
        match f.rate_scope.as_deref() {
            Some(scope) => {
                let (scope_en, scope_zh) = split_scope(scope);
                zh.push(format!("{}{scope_zh}科协覆盖率达{}", f.name, percent(rate)));
                en.push(format!(
                    "{} stated {} coverage of {scope_en}",
                    f.name_en,
                    percent(rate)
                ));
            }
            None => {
                zh.push(format!("{}{tz}覆盖率达{}", f.name, percent(rate)));
                en.push(format!(
                    "{} stated {te} coverage of {}",
                    f.name_en,
                    percent(rate)
                ));
            }
        }
    }

    (
        format!("{}。", zh.join("；")),
        format!("{}.", capital(&en.join("; "))),
    )
}

/// A city's rate: counts win over a stated rate.
fn rate_of_city(f: &Figure) -> Option<f64> {
    coverage_rate(f.branch_count, f.eligible_count, f.stated_rate).value
}

/// The scope a city's full coverage is of: none when its counts say it (the whole type), the
/// stated rate's scope otherwise.
fn scope_of(f: &Figure, t: BranchType) -> Option<&str> {
    if f.branch_count.is_some() && f.eligible_count.is_some() {
        return None;
    }
    f.rate_scope
        .as_deref()
        .filter(|s| split_scope(s).1 != type_scope(t))
}

/// What a branch type covers, as a scope names it in Chinese.
fn type_scope(t: BranchType) -> &'static str {
    match t {
        BranchType::Enterprise => "企业",
        BranchType::University => "高校",
        BranchType::Township => "乡镇（街道）",
    }
}

/// `high-tech enterprises (高新技术企业)` → (`high-tech enterprises`, `高新技术企业`); a scope in
/// one language only is both.
fn split_scope(scope: &str) -> (&str, &str) {
    match scope.strip_suffix(')').and_then(|s| s.split_once(" (")) {
        Some((en, zh)) => (en, zh),
        None => (scope, scope),
    }
}

fn total_of(year: &Year, t: BranchType) -> Option<i32> {
    year.totals.iter().find(|(bt, _)| *bt == t).map(|(_, v)| *v)
}

/// The type's name: `企业科协`, `enterprise branches`.
fn type_names(t: BranchType) -> (&'static str, &'static str) {
    match t {
        BranchType::Enterprise => ("企业科协", "enterprise branches"),
        BranchType::University => ("高校科协", "university branches"),
        BranchType::Township => ("乡镇（街道）科协", "township branches"),
    }
}

/// The cities named: `焦作`; `平顶山、三门峡2个市`; `A、B、C、D、E等7个市`.
fn names(cities: &[&Figure]) -> (String, String) {
    let n = cities.len();
    let zh: Vec<&str> = cities.iter().take(NAMED).map(|f| f.name.as_str()).collect();
    let en: Vec<&str> = cities
        .iter()
        .take(NAMED)
        .map(|f| f.name_en.as_str())
        .collect();
    match n {
        1 => (zh[0].to_owned(), en[0].to_owned()),
        _ if n <= NAMED => (
            format!("{}{n}个市", zh.join("、")),
            format!("{} and {}", en[..n - 1].join(", "), en[n - 1]),
        ),
        _ => (
            format!("{}等{n}个市", zh.join("、")),
            format!("{} and {} other cities", en.join(", "), n - NAMED),
        ),
    }
}

/// 95%, 99.5%: a percentage with at most one decimal, as the pages show it.
fn percent(rate: f64) -> String {
    format!("{}%", one_decimal(rate * 100.0))
}

fn one_decimal(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
