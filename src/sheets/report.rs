//! What an import did or would do, as the import's answer and the command line show it: the
//! changes, and the problems of the file, its rows and its cells, in Chinese and English.

use entity::coverage_record;
use serde::Serialize;

use super::read::{Bounds, ReadError};
use crate::code::Code;

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

/// A report of `errors` and `warnings` that changed nothing.
pub fn report_of(errors: Vec<Problem>, warnings: Vec<Problem>) -> Report {
    Report {
        applied: false,
        changes: Vec::new(),
        errors,
        warnings,
    }
}

/// A record's figures as the report shows them.
pub fn figures_of(r: &coverage_record::Model) -> Figures {
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

pub fn unreadable(en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem {
        row: None,
        column: None,
        code: Code::UnreadableFile,
        message_zh: zh.into(),
        message_en: en.into(),
    }
}

pub fn too_large(en: impl Into<String>, zh: impl Into<String>) -> Problem {
    Problem {
        code: Code::TooLarge,
        ..unreadable(en, zh)
    }
}

/// A file that could not be read as the problem the report shows.
pub fn read_problem(err: ReadError) -> Problem {
    match err {
        ReadError::Unreadable { en, zh } => unreadable(en, zh),
        ReadError::TooLarge { row, en, zh, .. } => Problem {
            row,
            ..too_large(en, zh)
        },
    }
}
