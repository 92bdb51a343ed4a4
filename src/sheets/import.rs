//! Imports: a coverage sheet as offices send it (XLSX; CSV or TSV in UTF-8 with or without a
//! byte-order mark, GB18030/GBK, or UTF-16 with a byte-order mark), checked cell by cell,
//! compared with what is stored, and written through the write path all or nothing, or only
//! tried (`dry_run`).
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

use crate::code::Code;
use std::collections::{HashMap, HashSet};

use entity::{BranchType, Role, city, coverage_record};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use sha2::Digest;

use super::read::{Bounds, Cell, ReadError, Table, read_table};
use super::{Column, branch_type_from, fold_width};
use crate::domain::write::{At, CoverageUpdate, Patch, version_conflict};
use crate::error::AppResult;
use crate::events::Events;
use crate::service::writes::coverage::{Batch, write_batch};
use crate::service::writes::{Outcome, Writer, snapshot::branch_type_name};

/// The bounds an import meets before any work that grows with the file.
pub type ImportLimits = Bounds;

/// What an import did or would do.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// Whether the changes were written.
    pub applied: bool,
    /// Every change, in file order.
    pub changes: Vec<Change>,
    /// Every problem; any error means nothing was (or would be) written.
    pub errors: Vec<Problem>,
    /// What was read but not used.
    pub warnings: Vec<Problem>,
}

/// A problem with the file, a row or a cell.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// The row (1 = the first line of the file), if the problem has one.
    pub row: Option<usize>,
    /// The column's header as the file writes it, if the problem has one.
    pub column: Option<String>,
    /// For programs.
    pub code: Code,
    /// 中文.
    pub message_zh: String,
    /// English.
    pub message_en: String,
}

/// The figures of a record, before or after.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    branch_count: Option<i32>,
    eligible_count: Option<i32>,
    new_branches: Option<i32>,
    stated_rate: Option<f64>,
    rate_scope: Option<String>,
    source: Option<String>,
    version: Option<i32>,
}

/// One record the import changes (or would change).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The row of the file.
    pub row: usize,
    /// The city.
    pub city_code: String,
    /// The branch type.
    pub branch_type: &'static str,
    /// The period.
    pub period: i32,
    /// As stored; null for a new record.
    pub before: Option<Figures>,
    /// As written.
    pub after: Figures,
}

/// How an import ended: the answer's status class and its report.
#[derive(Debug)]
pub enum Ended {
    /// The file was read; the report says what changed or would change, or why nothing did.
    Read(Report),
    /// The file could not be read, or is over a bound: nothing was looked at further.
    Unreadable(Report),
    /// The caller may not write a city whose row the file changes: nothing was written.
    Forbidden(Report),
}

/// A file, its name, and how to take it.
pub struct Upload<'a> {
    /// The bytes.
    pub bytes: bytes::Bytes,
    /// The name the sender gave it (kept in the revisions' note).
    pub name: &'a str,
    /// Only check: write nothing.
    pub dry_run: bool,
}

/// Reads `upload` and writes its changes as `writer`.
pub async fn import(
    db: &DatabaseConnection,
    events: &Events,
    request_id: Option<&str>,
    writer: Writer,
    upload: Upload<'_>,
    limits: ImportLimits,
) -> AppResult<Ended> {
    // Reading is the costly part and never awaits: a blocking thread, so that the runtime's
    // workers go on answering other requests meanwhile.
    let bytes = upload.bytes.clone();
    let read = tokio::task::spawn_blocking(move || read_table(&bytes, &limits))
        .await
        .unwrap_or_else(|err| {
            // Only a bug (a panic in the reader) or a runtime shutting down gets here.
            tracing::error!(%err, "reading an uploaded file failed");
            Err(ReadError::unreadable(
                "the file could not be read",
                "文件无法读取",
            ))
        });
    let table = match read {
        Ok(table) => table,
        Err(err) => {
            return Ok(Ended::Unreadable(report_of(
                vec![read_problem(err)],
                Vec::new(),
            )));
        }
    };
    let sheet = match parse(table, &limits, db).await? {
        Ok(sheet) => sheet,
        Err(problem) => return Ok(Ended::Unreadable(report_of(vec![problem], Vec::new()))),
    };
    let Sheet {
        rows,
        mut errors,
        mut warnings,
        headers,
    } = sheet;
    let stored = stored(db, &rows).await?;
    let checksum = hex(&sha2::Sha256::digest(&upload.bytes));
    // The name goes into the revisions' note, which holds no control characters.
    let name: String = upload
        .name
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let note = format!("import: {name} (sha256 {checksum})");
    let mut batch = Vec::new();
    let mut befores = HashMap::new();
    let mut left_alone = std::collections::BTreeSet::new();
    for row in rows {
        let key = (row.city_code.clone(), row.branch_type, row.period);
        let current = stored.get(&key);
        let writable = writer.role == Role::Admin
            || writer.city_code.as_deref() == Some(row.city_code.as_str());
        if !row.changes(current) {
            if !writable {
                left_alone.insert(row.city_code);
            }
            continue;
        }
        if !writable {
            errors.push(Problem {
                row: Some(row.line),
                column: None,
                code: Code::Forbidden,
                message_zh: format!(
                    "第 {} 行修改了 {} 的数据，本账号只能修改本市数据：整个文件未导入",
                    row.line, row.city_code
                ),
                message_en: format!(
                    "row {} changes {}'s figures; this token may change only its own city's: \
                     the whole file is refused",
                    row.line, row.city_code
                ),
            });
            continue;
        }
        // Seen here too, not only by the write path, so that a dry run shows every stale row
        // beside the other problems of the file.
        if let Some(message) = version_conflict(current.map(|r| r.version), row.version) {
            let column = headers.get(&Column::Version).cloned();
            errors.push(Problem {
                row: Some(row.line),
                message_zh: format!(
                    "第 {} 行：版本已不是当前版本（{message}），数据已被他人修改；请重新导出后再填写",
                    row.line
                ),
                message_en: format!("row {}: {message}", row.line),
                column,
                code: Code::VersionConflict,
            });
            continue;
        }
        befores.insert(row.line, current.map(figures_of));
        batch.push((At::row(row.line), row.update(note.clone())));
    }
    warnings.extend(left_alone.into_iter().map(|city| Problem {
        row: None,
        column: None,
        code: Code::OtherCity,
        message_zh: format!("{city} 的行与现有数据一致，已跳过"),
        message_en: format!("the rows of {city}, another city, are as stored; left as they are"),
    }));
    if errors.iter().any(|e| e.code == Code::Forbidden) {
        let forbidden = errors
            .into_iter()
            .filter(|e| e.code == Code::Forbidden)
            .collect();
        return Ok(Ended::Forbidden(report_of(forbidden, warnings)));
    }
    if batch.is_empty() {
        return Ok(Ended::Read(report_of(errors, warnings)));
    }
    // With problems found already, the other rows are still tried (and rolled back), so that
    // one answer lists every problem of the file.
    let dry_run = upload.dry_run || !errors.is_empty();
    let lines: Vec<usize> = batch.iter().map(|(at, _)| row_of(*at)).collect();
    let outcome = write_batch(
        db,
        Batch {
            writer,
            events,
            request_id,
            rows: batch,
            max_rows: limits.max_rows,
            dry_run,
        },
    )
    .await?;
    let mut report = report_of(errors, warnings);
    match outcome {
        Outcome::Accepted(_) if !report.errors.is_empty() => {}
        Outcome::Accepted(written) => {
            report.applied = !dry_run;
            for (line, w) in lines.into_iter().zip(written) {
                let r = &w.record;
                report.changes.push(Change {
                    row: line,
                    city_code: r.city_code.clone(),
                    branch_type: branch_type_name(r.branch_type),
                    period: r.period,
                    before: befores.remove(&line).flatten(),
                    after: figures_of(r),
                });
            }
        }
        Outcome::Refused(refusal) => {
            report.errors.extend(
                refusal
                    .errors
                    .into_iter()
                    .map(|e| write_problem(e, &headers)),
            );
            report.errors.sort_by_key(|e| e.row);
        }
    }
    Ok(Ended::Read(report))
}

fn report_of(errors: Vec<Problem>, warnings: Vec<Problem>) -> Report {
    Report {
        applied: false,
        changes: Vec::new(),
        errors,
        warnings,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn row_of(at: At) -> usize {
    at.path("x")
        .get(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or_default()
}

/// A write-path refusal as a problem on the cell of the file it concerns.
fn write_problem(e: crate::domain::write::UserError, headers: &HashMap<Column, String>) -> Problem {
    let row = e.field.get(1).and_then(|r| r.parse().ok());
    let field = e.field.last().map(String::as_str).unwrap_or_default();
    let column = Column::ALL
        .into_iter()
        .find(|c| c.field() == field)
        .and_then(|c| headers.get(&c).cloned());
    let at = match (row, &column) {
        (Some(r), Some(c)) => format!("第 {r} 行「{c}」"),
        (Some(r), None) => format!("第 {r} 行"),
        _ => "文件".to_owned(),
    };
    let message_zh = match e.code {
        Code::VersionConflict => {
            format!("{at}：版本已不是当前版本，数据已被他人修改；请重新导出后再填写")
        }
        Code::NotFound => format!("{at}：找不到对应的城市或记录"),
        _ if field == "source" => format!("{at}：填写了数字就必须注明来源"),
        _ => format!("{at}：数值不符合规则（{}）", e.message),
    };
    Problem {
        row,
        column,
        code: e.code,
        message_zh,
        message_en: e.message,
    }
}

type Key = (String, BranchType, i32);

fn figures_of(r: &coverage_record::Model) -> Figures {
    Figures {
        branch_count: r.branch_count,
        eligible_count: r.eligible_count,
        new_branches: r.new_branches,
        stated_rate: r.stated_rate,
        rate_scope: r.rate_scope.clone(),
        source: r.source.clone(),
        version: Some(r.version),
    }
}

/// The stored records the rows name. One statement.
async fn stored(
    db: &DatabaseConnection,
    rows: &[SheetRow],
) -> AppResult<HashMap<Key, coverage_record::Model>> {
    let periods: HashSet<i32> = rows.iter().map(|r| r.period).collect();
    let cities: HashSet<&str> = rows.iter().map(|r| r.city_code.as_str()).collect();
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(coverage_record::Entity::find()
        .filter(coverage_record::Column::Period.is_in(periods))
        .filter(coverage_record::Column::CityCode.is_in(cities))
        .all(db)
        .await?
        .into_iter()
        .map(|r| ((r.city_code.clone(), r.branch_type, r.period), r))
        .collect())
}

fn unreadable(en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem {
        row: None,
        column: None,
        code: Code::UnreadableFile,
        message_zh: zh.into(),
        message_en: en.into(),
    }
}

fn too_large(en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem {
        code: Code::TooLarge,
        ..unreadable(en, zh)
    }
}

/// A file that could not be read as the problem the report shows.
fn read_problem(err: ReadError) -> Problem {
    match err {
        ReadError::Unreadable { en, zh } => unreadable(en, zh),
        ReadError::TooLarge { row, en, zh, .. } => Problem {
            row,
            ..too_large(en, zh)
        },
    }
}

/// A data row as read: its key, and the values of the columns the file has.
#[derive(Debug, Clone)]
struct SheetRow {
    line: usize,
    city_code: String,
    branch_type: BranchType,
    period: i32,
    values: Vec<(Column, Value)>,
    version: Option<i32>,
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
    fn changes(&self, stored: Option<&coverage_record::Model>) -> bool {
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

    fn update(&self, note: String) -> CoverageUpdate {
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

struct Sheet {
    rows: Vec<SheetRow>,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    /// Each column's header as the file writes it.
    headers: HashMap<Column, String>,
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

async fn parse(
    table: Table,
    limits: &ImportLimits,
    db: &DatabaseConnection,
) -> AppResult<Result<Sheet, Problem>> {
    let Some((header_at, columns)) = find_header(&table) else {
        return Ok(Err(unreadable(
            "no header row found: the sheet needs columns for the city (code or name), the \
             branch type and the year, in Chinese or English (see the template)",
            "未找到表头：表格需要城市（代码或名称）、组织类型和年度三列，中文或英文均可（请参照模板）",
        )));
    };
    let data_rows = table.len() - header_at - 1;
    if data_rows > limits.max_rows {
        return Ok(Err(too_large(
            format!(
                "the sheet has {data_rows} rows; at most {} are accepted",
                limits.max_rows
            ),
            format!(
                "表格共有 {data_rows} 行数据，超过上限 {} 行",
                limits.max_rows
            ),
        )));
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
    let cities = city::Entity::find().all(db).await?;
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen: HashMap<Key, usize> = HashMap::new();
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
        let city = find_city(&cities, &code, &name);
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
    Ok(Ok(Sheet {
        rows,
        errors,
        warnings,
        headers,
    }))
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
