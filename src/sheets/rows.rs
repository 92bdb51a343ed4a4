//! A sheet as rows: the header found under any title, each cell read as people write it, and
//! each row compared with what is stored and turned into a write. No SQL and no permission rule:
//! the import's use case (`service::import`) brings the cities and the stored records.
//!
//! What a file means:
//! - The header row may sit under a title or merged cells; headers are Chinese or English, in
//!   any order; unknown columns are ignored with a warning; the computed columns (coverage
//!   rate, updated at, updated by) are not read.
//! - A total row (合计, 总计, 全省) is skipped with a warning. Cities by code or name (郑州,
//!   郑州市, Zhengzhou), branch types by label or enum name.
//! - Numbers may carry thousands separators and full-width digits; rates may be percentages.
//!   `—`, `-`, `/`, `无` or an empty cell is unknown: null, never 0.
//! - Rows absent from the file are left alone. A row equal to what is stored, or empty where
//!   nothing is stored, is no change. A city-staff writer may send back the whole export: other
//!   cities' rows left as they are are skipped with a warning; a change to one refuses the file.
//! - The version column carries the version that was exported; a stale one is a conflict on
//!   that row. New records have an empty version.

use std::collections::HashMap;

use entity::{BranchType, city, coverage_record};

use super::read::{Cell, Table};
use super::report::{ImportLimits, Problem, too_large, unreadable};
use super::{Column, branch_type_from, fold_width};
use crate::code::Code;
use crate::domain::write::{CoverageUpdate, Patch};

/// A data row as read: its key, and the values of the columns the file has.
#[derive(Debug, Clone)]
pub struct SheetRow {
    /// The row of the file (1 = its first line).
    pub line: usize,
    /// The city.
    pub city_code: String,
    /// The branch type.
    pub branch_type: BranchType,
    /// The period.
    pub period: i32,
    values: Vec<(Column, Value)>,
    /// The version the row was exported with; none for a new record.
    pub version: Option<i32>,
}

/// A cell's meaning.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Count(Option<i32>),
    Rate(Option<f64>),
    Text(Option<String>),
}

impl SheetRow {
    /// Whether writing the row would change what is stored.
    pub fn changes(&self, stored: Option<&coverage_record::Model>) -> bool {
        let Some(r) = stored else {
            return self.values.iter().any(|(column, value)| {
                *column != Column::Source
                    && !matches!(
                        value,
                        Value::Count(None) | Value::Rate(None) | Value::Text(None)
                    )
            });
        };
        self.values
            .iter()
            .any(|(column, value)| match (column, value) {
                (Column::BranchCount, Value::Count(v)) => *v != r.branch_count,
                (Column::EligibleCount, Value::Count(v)) => *v != r.eligible_count,
                (Column::NewBranches, Value::Count(v)) => *v != r.new_branches,
                (Column::RateStated, Value::Rate(v)) => match (v, r.stated_rate) {
                    (Some(a), Some(b)) => (a - b).abs() > 1e-9,
                    (a, b) => a.is_some() != b.is_some(),
                },
                (Column::RateScope, Value::Text(v)) => *v != r.rate_scope,
                (Column::Source, Value::Text(v)) => *v != r.source,
                _ => false,
            })
    }

    /// The write of the row, with `note` in its revision.
    pub fn update(&self, note: String) -> CoverageUpdate {
        let mut update =
            CoverageUpdate::keep_all(self.city_code.clone(), self.branch_type, self.period);
        update.expected_version = self.version;
        update.note = Some(note);
        fn patch<T: Clone>(v: &Option<T>) -> Patch<T> {
            v.clone().map_or(Patch::Clear, Patch::Set)
        }
        for (column, value) in &self.values {
            match (column, value) {
                (Column::BranchCount, Value::Count(v)) => update.branch_count = patch(v),
                (Column::EligibleCount, Value::Count(v)) => update.eligible_count = patch(v),
                (Column::NewBranches, Value::Count(v)) => update.new_branches = patch(v),
                (Column::RateStated, Value::Rate(v)) => update.stated_rate = patch(v),
                (Column::RateScope, Value::Text(v)) => update.rate_scope = patch(v),
                (Column::Source, Value::Text(v)) => update.source = patch(v),
                _ => {}
            }
        }
        update
    }
}

/// A sheet read as rows, with the problems found in its cells.
pub struct Sheet {
    /// The data rows that could be read.
    pub rows: Vec<SheetRow>,
    /// Problems that refuse the file.
    pub errors: Vec<Problem>,
    /// What was read but not used.
    pub warnings: Vec<Problem>,
    /// Each column's header as the file writes it.
    pub headers: HashMap<Column, String>,
}

/// The header row: the first of the first 20 rows that names a city column, the branch type
/// and the year.
fn find_header(table: &[Vec<Cell>]) -> Option<(usize, Vec<Option<Column>>)> {
    table.iter().take(20).enumerate().find_map(|(i, row)| {
        let columns: Vec<Option<Column>> = row
            .iter()
            .map(|cell| Column::from_header(&cell.text()))
            .collect();
        let has = |c: Column| columns.contains(&Some(c));
        ((has(Column::CityCode) || has(Column::City))
            && has(Column::BranchType)
            && has(Column::Period))
        .then_some((i, columns))
    })
}

/// Reads `table` as rows of `cities`' figures, within `limits`; the problem when the sheet
/// cannot be read as such at all.
pub fn parse(
    table: Table,
    limits: &ImportLimits,
    cities: &[city::Model],
) -> Result<Sheet, Problem> {
    let Some((header_at, columns)) = find_header(&table) else {
        return Err(unreadable(
            "no header row found: the sheet needs columns for the city (code or name), the \
             branch type and the year, in Chinese or English (see the template)",
            "未找到表头：表格需要城市（代码或名称）、组织类型和年度三列，中文或英文均可（请参照模板）",
        ));
    };
    let data_rows = table.len() - header_at - 1;
    if data_rows > limits.max_rows {
        return Err(too_large(
            format!(
                "the sheet has {data_rows} rows; at most {} are accepted",
                limits.max_rows
            ),
            format!(
                "表格共有 {data_rows} 行数据，超过上限 {} 行",
                limits.max_rows
            ),
        ));
    }
    let mut headers = HashMap::new();
    let mut warnings = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let text = table[header_at].get(i).map(Cell::text).unwrap_or_default();
        match column {
            Some(c) => {
                headers.entry(*c).or_insert(text);
            }
            None if !text.is_empty() => warnings.push(Problem {
                row: Some(header_at + 1),
                column: Some(text.clone()),
                code: Code::IgnoredColumn,
                message_zh: format!("未识别的列「{text}」，已忽略"),
                message_en: format!("column \"{text}\" is not one the import reads; ignored"),
            }),
            None => {}
        }
    }
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen: HashMap<(String, BranchType, i32), usize> = HashMap::new();
    for (offset, cells) in table.iter().enumerate().skip(header_at + 1) {
        let line = offset + 1;
        let cell = |c: Column| {
            columns
                .iter()
                .position(|x| *x == Some(c))
                .and_then(|i| cells.get(i))
                .unwrap_or(&Cell::Empty)
        };
        if cells.iter().all(|c| c.text().is_empty()) {
            continue;
        }
        let name = cell(Column::City).text();
        let code = cell(Column::CityCode).text();
        if [&name, &code]
            .iter()
            .any(|t| ["合计", "总计", "全省", "total", "sum"].contains(&t.to_lowercase().trim()))
        {
            warnings.push(Problem {
                row: Some(line),
                column: None,
                code: Code::TotalRow,
                message_zh: format!("第 {line} 行是合计行，已跳过"),
                message_en: format!("row {line} is a total row; skipped"),
            });
            continue;
        }
        let mut row_errors = Vec::new();
        let mut bad = |column: Column, en: String, zh: String| {
            row_errors.push(Problem {
                row: Some(line),
                column: headers.get(&column).cloned(),
                code: Code::BadUserInput,
                message_zh: format!(
                    "第 {line} 行「{}」：{zh}",
                    headers.get(&column).map_or("", |h| h)
                ),
                message_en: format!("row {line}: {en}"),
            });
        };
        let city = find_city(cities, &code, &name);
        if city.is_none() {
            let shown = if code.is_empty() { &name } else { &code };
            bad(
                if code.is_empty() {
                    Column::City
                } else {
                    Column::CityCode
                },
                format!("there is no city {shown}"),
                format!("没有名为或代码为「{shown}」的城市"),
            );
        }
        let type_text = cell(Column::BranchType).text();
        let branch_type = branch_type_from(&type_text);
        if branch_type.is_none() {
            bad(
                Column::BranchType,
                format!(
                    "\"{type_text}\" is not a branch type (企业科协, 高校科协, 乡镇（街道）科协)"
                ),
                format!("「{type_text}」不是组织类型（企业科协、高校科协、乡镇（街道）科协）"),
            );
        }
        let period = match number(cell(Column::Period)) {
            Ok(Some(p)) if p.fract() == 0.0 && (1900.0..=9999.0).contains(&p) => Some(p as i32),
            _ => {
                bad(
                    Column::Period,
                    format!("the year \"{}\" is not a year", cell(Column::Period).text()),
                    format!("「{}」不是年度", cell(Column::Period).text()),
                );
                None
            }
        };
        let mut values = Vec::new();
        for column in [
            Column::BranchCount,
            Column::EligibleCount,
            Column::NewBranches,
        ] {
            if !headers.contains_key(&column) {
                continue;
            }
            match number(cell(column)) {
                Ok(None) => values.push((column, Value::Count(None))),
                Ok(Some(n)) if n.fract() == 0.0 && (0.0..=f64::from(i32::MAX)).contains(&n) => {
                    values.push((column, Value::Count(Some(n as i32))));
                }
                _ => bad(
                    column,
                    format!("\"{}\" is not a count", cell(column).text()),
                    format!("「{}」不是有效的数量", cell(column).text()),
                ),
            }
        }
        if headers.contains_key(&Column::RateStated) {
            match rate(cell(Column::RateStated)) {
                Ok(v) => values.push((Column::RateStated, Value::Rate(v))),
                Err(()) => bad(
                    Column::RateStated,
                    format!("\"{}\" is not a rate", cell(Column::RateStated).text()),
                    format!("「{}」不是有效的比率", cell(Column::RateStated).text()),
                ),
            }
        }
        for column in [Column::RateScope, Column::Source] {
            if headers.contains_key(&column) {
                let text = cell(column).text();
                let value = (!is_unknown(&text)).then_some(text);
                values.push((column, Value::Text(value)));
            }
        }
        let version = match number(cell(Column::Version)) {
            Ok(None) => None,
            Ok(Some(v)) if v.fract() == 0.0 && (0.0..=f64::from(i32::MAX)).contains(&v) => {
                Some(v as i32)
            }
            _ => {
                bad(
                    Column::Version,
                    format!("\"{}\" is not a version", cell(Column::Version).text()),
                    format!("「{}」不是有效的版本号", cell(Column::Version).text()),
                );
                None
            }
        };
        if let (Some(city), Some(branch_type), Some(period)) = (city, branch_type, period) {
            let key = (city.code.clone(), branch_type, period);
            if let Some(first) = seen.insert(key, line) {
                bad(
                    Column::CityCode,
                    format!("the same city, branch type and year as row {first}"),
                    format!("与第 {first} 行的城市、组织类型和年度重复"),
                );
            }
            if row_errors.is_empty() {
                rows.push(SheetRow {
                    line,
                    city_code: city.code.clone(),
                    branch_type,
                    period,
                    values,
                    version,
                });
            }
        }
        errors.extend(row_errors);
    }
    Ok(Sheet {
        rows,
        errors,
        warnings,
        headers,
    })
}

fn find_city<'a>(cities: &'a [city::Model], code: &str, name: &str) -> Option<&'a city::Model> {
    let bare = |n: &str| {
        n.trim()
            .trim_end_matches("示范区")
            .trim_end_matches('市')
            .to_lowercase()
    };
    if !code.is_empty() {
        let code = code.trim_end_matches(".0");
        return cities.iter().find(|c| c.code == code);
    }
    let name = bare(name);
    (!name.is_empty())
        .then(|| {
            cities
                .iter()
                .find(|c| bare(&c.name) == name || c.name_en.to_lowercase() == name)
        })
        .flatten()
}

/// "—", "-", "/", "无" and nothing: unknown.
fn is_unknown(text: &str) -> bool {
    let t: String = text.chars().map(fold_width).collect();
    matches!(
        t.trim(),
        "" | "—" | "–" | "-" | "/" | "无" | "——" | "N/A" | "n/a"
    )
}

/// A number, with thousands separators and full-width digits; `None` for unknown.
fn number(cell: &Cell) -> Result<Option<f64>, ()> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) => Ok(Some(*n)),
        Cell::Text(t) => {
            if is_unknown(t) {
                return Ok(None);
            }
            let folded: String = t
                .chars()
                .map(fold_width)
                .filter(|c| !matches!(c, ',' | '，' | ' ' | '\u{a0}'))
                .collect();
            folded.parse::<f64>().map(Some).map_err(|_| ())
        }
    }
}

/// A rate: a fraction (0.95) or a percentage (95%, 95 %).
fn rate(cell: &Cell) -> Result<Option<f64>, ()> {
    if let Cell::Text(t) = cell {
        let folded: String = t.chars().map(fold_width).collect();
        if let Some(percent) = folded.trim().strip_suffix('%') {
            return number(&Cell::Text(percent.into())).map(|v| v.map(|p| p / 100.0));
        }
    }
    number(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_people_write_them() {
        let text = |t: &str| Cell::Text(t.into());
        assert_eq!(number(&text("1,234")), Ok(Some(1234.0)));
        assert_eq!(number(&text("１２３")), Ok(Some(123.0)));
        assert_eq!(number(&text("—")), Ok(None));
        assert_eq!(number(&text("无")), Ok(None));
        assert_eq!(number(&text("/")), Ok(None));
        assert_eq!(number(&text("abc")), Err(()));
        assert_eq!(rate(&text("95%")), Ok(Some(0.95)));
        assert_eq!(rate(&text("９５％")), Ok(Some(0.95)));
        assert_eq!(rate(&Cell::Number(0.95)), Ok(Some(0.95)));
    }
}
