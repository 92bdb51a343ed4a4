//! Imports: a coverage sheet as offices send it (XLSX; CSV or TSV in UTF-8 with or without a
//! byte-order mark, GB18030/GBK, or UTF-16 with a byte-order mark), read into rows by
//! [`crate::sheets`], compared with what is stored, and written through the write path all or
//! nothing, or only tried (`dry_run`). Who may write which city is the write path's one rule
//! ([`may_write_city`]).

use std::collections::{HashMap, HashSet};

use entity::{BranchType, city, coverage_record, public_record};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::Digest;

use crate::code::Code;
use crate::domain::branch_type_name;
use crate::domain::write::{At, version_conflict};
use crate::error::AppResult;
use crate::events::Events;
use crate::service::writes::coverage::{Batch, write_batch};
use crate::service::writes::{Outcome, Writer, may_write_city};
use crate::sheets::Column;
use crate::sheets::read::{ReadError, read_table};
use crate::sheets::report::{
    Change, ImportLimits, Problem, Report, figures_of, read_problem, report_of,
};
use crate::sheets::rows::{self, Sheet, SheetRow};

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
    let cities = city::Entity::find().all(db).await?;
    let sheet = match rows::parse(table, &limits, &cities) {
        Ok(sheet) => sheet,
        Err(problem) => return Ok(Ended::Unreadable(report_of(vec![problem], Vec::new()))),
    };
    let Sheet {
        rows,
        mut errors,
        mut warnings,
        headers,
    } = sheet;
    let stored = stored(db, &rows, &writer).await?;
    let checksum = hex::encode(sha2::Sha256::digest(&upload.bytes));
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
        let writable = may_write_city(&writer, &row.city_code).is_ok();
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
                message_zh: format!("第 {} 行：{}；请重新导出后再填写", row.line, message.zh),
                message_en: format!("row {}: {}", row.line, message.en),
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
        Code::VersionConflict => format!("{at}：{}；请重新导出后再填写", e.message_zh),
        _ => format!("{at}：{}", e.message_zh),
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

/// The stored records the rows name: the working copy (drafts included) of the cities the
/// writer may change, the published figures of the others (another city's draft is not the
/// writer's to see, and its rows in a file are the export's, which holds published figures).
/// One statement each.
async fn stored(
    db: &DatabaseConnection,
    rows: &[SheetRow],
    writer: &Writer,
) -> AppResult<HashMap<Key, coverage_record::Model>> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let periods: HashSet<i32> = rows.iter().map(|r| r.period).collect();
    let (own, others): (HashSet<&str>, HashSet<&str>) = {
        let cities: HashSet<&str> = rows.iter().map(|r| r.city_code.as_str()).collect();
        cities
            .into_iter()
            .partition(|city| may_write_city(writer, city).is_ok())
    };
    let mut found = Vec::new();
    if !own.is_empty() {
        found.extend(
            coverage_record::Entity::find()
                .filter(coverage_record::Column::Period.is_in(periods.iter().copied()))
                .filter(coverage_record::Column::CityCode.is_in(own))
                .all(db)
                .await?,
        );
    }
    if !others.is_empty() {
        found.extend(
            public_record::Entity::find()
                .filter(public_record::Column::Period.is_in(periods.iter().copied()))
                .filter(public_record::Column::CityCode.is_in(others))
                .into_model::<coverage_record::Model>()
                .all(db)
                .await?,
        );
    }
    Ok(found
        .into_iter()
        .map(|r| ((r.city_code.clone(), r.branch_type, r.period), r))
        .collect())
}
