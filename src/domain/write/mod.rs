//! The rules every write obeys that need no database: what a writer may send, checked before a
//! transaction begins, and the checks on a record once the stored values it keeps are known.
//!
//! The write rules, once for every writer (mutations, bulk, the spreadsheet import):
//! - **Left out keeps, null clears.** A field left out of the input keeps its stored value; an
//!   explicit null clears it. A figure may be cleared; a source may not while a figure stands.
//! - **Every figure names its source.** A write that sets a figure (a count, a stated rate or its
//!   scope, a province total, a designation or its year) carries `source` in the same input: a
//!   non-empty text of at most [`MAX_TEXT_CHARS`] characters.
//! - **Every write is versioned.** A record that exists is changed only with `expectedVersion`
//!   equal to its stored `version`; a new one is created with `expectedVersion` absent or 0.

use crate::code::Code;
use chrono::Datelike;

mod admin;

pub use admin::{DesignationInput, ProgramInput, ProvinceTotalInput, check_province_total};

/// Largest count accepted.
pub const MAX_COUNT: i32 = 10_000_000;
/// Longest note, source or scope, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Most rows in one bulk update.
pub const MAX_BULK_ROWS: usize = 500;
/// Earliest period accepted.
pub const MIN_PERIOD: i32 = 2000;
/// Earliest year a designation may date from.
pub const MIN_SINCE_YEAR: i32 = 1949;

/// A field of an update: leave it as stored, clear it, or set it.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<T> {
    /// Left out of the input: the stored value stays.
    Keep,
    /// An explicit null: the stored value is cleared.
    Clear,
    /// A new value.
    Set(T),
}

impl<T: Clone> Patch<T> {
    /// The value after the write, given the stored one.
    pub fn apply(&self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(v) => Some(v.clone()),
        }
    }

    /// The value sent, if one was.
    pub fn value(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the write sets a value.
    pub fn is_set(&self) -> bool {
        matches!(self, Patch::Set(_))
    }
}

/// A refused input: where, why, and a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// Path to the field, e.g. `["input", "branchCount"]`.
    pub field: Vec<String>,
    /// For people, in English.
    pub message: String,
    /// For people, in Chinese (the pages show the one of their language).
    pub message_zh: String,
    /// For programs.
    pub code: Code,
}

/// What a refusal tells people, in English and in Chinese: both are made where the refusal is,
/// so that no page keeps its own copy of the server's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// English.
    pub en: String,
    /// Chinese.
    pub zh: String,
}

/// [`Words`] from English and Chinese.
pub fn words(en: impl Into<String>, zh: impl Into<String>) -> Words {
    Words {
        en: en.into(),
        zh: zh.into(),
    }
}

impl From<&crate::domain::yearly::Refusal> for Words {
    fn from(refusal: &crate::domain::yearly::Refusal) -> Self {
        let (zh, en) = refusal.message();
        words(en, zh)
    }
}

/// Where an input sits in the request: `["input", field]`, or `["input", row, field]` in a bulk
/// write.
#[derive(Debug, Clone, Copy)]
pub struct At {
    row: Option<usize>,
}

impl At {
    /// The single input of a mutation.
    pub const INPUT: At = At { row: None };

    /// Row `row` of a bulk write.
    pub fn row(row: usize) -> Self {
        At { row: Some(row) }
    }

    /// The path of `field`.
    pub fn path(self, field: &str) -> Vec<String> {
        let mut path = vec!["input".to_owned()];
        path.extend(self.row.map(|row| row.to_string()));
        path.push(field.to_owned());
        path
    }

    /// A user error on `field`.
    pub fn error(self, field: &str, code: Code, words: Words) -> UserError {
        UserError {
            field: self.path(field),
            message: words.en,
            message_zh: words.zh,
            code,
        }
    }

    /// A BAD_USER_INPUT error on `field`.
    pub fn bad(self, field: &str, words: Words) -> UserError {
        self.error(field, Code::BadUserInput, words)
    }
}

/// One city's figures for one branch type and period, as a writer submits them.
#[derive(Debug, Clone)]
pub struct CoverageUpdate {
    /// The city.
    pub city_code: String,
    /// The branch type.
    pub branch_type: entity::BranchType,
    /// The period (year).
    pub period: i32,
    /// Branches.
    pub branch_count: Patch<i32>,
    /// Eligible organisations.
    pub eligible_count: Patch<i32>,
    /// Branches newly established in the period.
    pub new_branches: Patch<i32>,
    /// A rate stated without counts.
    pub stated_rate: Patch<f64>,
    /// What a stated rate covers.
    pub rate_scope: Patch<String>,
    /// Where the figures come from.
    pub source: Patch<String>,
    /// The version the writer last saw: absent or 0 to create.
    pub expected_version: Option<i32>,
    /// Why the change is made.
    pub note: Option<String>,
}

impl CoverageUpdate {
    /// A write to `city_code`'s record of `branch_type` in `period` that keeps every field, to
    /// which the writer adds what it changes.
    pub fn keep_all(city_code: String, branch_type: entity::BranchType, period: i32) -> Self {
        Self {
            city_code,
            branch_type,
            period,
            branch_count: Patch::Keep,
            eligible_count: Patch::Keep,
            new_branches: Patch::Keep,
            stated_rate: Patch::Keep,
            rate_scope: Patch::Keep,
            source: Patch::Keep,
            expected_version: None,
            note: None,
        }
    }

    /// Whether the write sets a figure (and so must name its source).
    pub fn sets_figure(&self) -> bool {
        self.branch_count.is_set()
            || self.eligible_count.is_set()
            || self.new_branches.is_set()
            || self.stated_rate.is_set()
            || self.rate_scope.is_set()
    }

    /// Every rule that needs no database.
    pub fn validate(&self, at: At) -> Vec<UserError> {
        let mut errors = Vec::new();
        for (field, value) in [
            ("branchCount", self.branch_count.value()),
            ("eligibleCount", self.eligible_count.value()),
            ("newBranches", self.new_branches.value()),
        ] {
            errors.extend(value.and_then(|&v| count_error(at, field, v)));
        }
        if let (Some(&b), Some(&e)) = (self.branch_count.value(), self.eligible_count.value())
            && b > e
            && e >= 0
        {
            errors.push(at.bad("branchCount", branches_over_eligible(b, e)));
        }
        if let Some(&rate) = self.stated_rate.value()
            && !(rate.is_finite() && (0.0..=1.0).contains(&rate))
        {
            errors.push(at.bad(
                "statedRate",
                words(
                    format!("statedRate must be between 0 and 1, got {rate}"),
                    format!("覆盖率须在 0 到 1 之间（即 0% 到 100%），收到 {rate}"),
                ),
            ));
        }
        errors.extend(period_error(at, self.period));
        errors.extend(version_error(at, self.expected_version));
        errors.extend(source_errors(at, &self.source, self.sets_figure()));
        errors.extend(text_errors(
            at,
            &[
                ("note", self.note.as_deref()),
                ("rateScope", self.rate_scope.value().map(String::as_str)),
            ],
        ));
        errors
    }
}

/// The rules on a coverage record as a write leaves it (the input merged with what is stored).
pub fn check_coverage(at: At, record: &entity::coverage_record::Model) -> Vec<UserError> {
    let mut errors = Vec::new();
    if let (Some(b), Some(e)) = (record.branch_count, record.eligible_count)
        && b > e
    {
        errors.push(at.bad("branchCount", branches_over_eligible(b, e)));
    }
    let holds_figure = record.branch_count.is_some()
        || record.eligible_count.is_some()
        || record.new_branches.is_some()
        || record.stated_rate.is_some()
        || record.rate_scope.is_some();
    if holds_figure && record.source.is_none() {
        errors.push(at.bad("source", source_stands()));
    }
    errors
}

/// Whether a write that found `stored` (the stored version, if the record exists) may proceed
/// with `expected`; the conflict's words when not.
pub fn version_conflict(stored: Option<i32>, expected: Option<i32>) -> Option<Words> {
    let sent = expected.unwrap_or(0);
    match stored {
        None if sent != 0 => Some(words(
            format!("there is no record yet, so expectedVersion must be absent or 0, not {sent}"),
            format!("这条记录还不存在，版本须为空或 0，而不是 {sent}"),
        )),
        Some(version) if expected.is_none() => Some(words(
            format!("the record exists at version {version}: send it as expectedVersion"),
            format!("这条记录已存在（第 {version} 版）：请带上当前版本号"),
        )),
        Some(version) if version != sent => Some(words(
            format!("the record is at version {version}, not {sent}: someone changed it meanwhile"),
            format!("记录已是第 {version} 版，不是第 {sent} 版：其间已有人修改"),
        )),
        _ => None,
    }
}

/// The words of an unknown city code.
pub fn no_such_city(code: &str) -> Words {
    words(
        format!("there is no city with code {code}"),
        format!("没有代码为 {code} 的城市"),
    )
}

pub(crate) fn source_stands() -> Words {
    words(
        "source cannot be cleared while the record holds a figure: every figure names its source",
        "记录中还有数字时不能清空来源：每个数字都须注明来源",
    )
}

fn branches_over_eligible(b: i32, e: i32) -> Words {
    words(
        format!("branchCount ({b}) cannot exceed eligibleCount ({e})"),
        format!("已建数（{b}）不能大于应建数（{e}）"),
    )
}

pub(crate) fn count_error(at: At, field: &str, value: i32) -> Option<UserError> {
    (!(0..=MAX_COUNT).contains(&value)).then(|| {
        at.bad(
            field,
            words(
                format!("{field} must be between 0 and {MAX_COUNT}, got {value}"),
                format!("须为 0 到 {MAX_COUNT} 之间的整数，收到 {value}"),
            ),
        )
    })
}

pub(crate) fn version_error(at: At, expected: Option<i32>) -> Option<UserError> {
    expected.filter(|v| *v < 0).map(|v| {
        at.bad(
            "expectedVersion",
            words(
                format!("expectedVersion must be 0 or more, got {v}"),
                format!("版本号须为 0 或更大，收到 {v}"),
            ),
        )
    })
}

pub(crate) fn next_year() -> i32 {
    crate::domain::now().year() + 1
}

/// A user error when `period` is not between [`MIN_PERIOD`] and next year.
pub fn period_error(at: At, period: i32) -> Option<UserError> {
    let next_year = next_year();
    (!(MIN_PERIOD..=next_year).contains(&period)).then(|| {
        at.bad(
            "period",
            words(
                format!("period must be between {MIN_PERIOD} and {next_year}, got {period}"),
                format!("年份须在 {MIN_PERIOD} 到 {next_year} 之间，收到 {period}"),
            ),
        )
    })
}

/// The source rules: required when the write sets a figure, never empty, a valid text.
pub(crate) fn source_errors(at: At, source: &Patch<String>, required: bool) -> Vec<UserError> {
    match source {
        Patch::Set(text) if text.trim().is_empty() => {
            vec![at.bad(
                "source",
                words(
                    "source must not be empty: name where the figures come from",
                    "来源不能为空：请写明数字从何而来",
                ),
            )]
        }
        Patch::Set(text) => text_errors(at, &[("source", Some(text))]),
        Patch::Keep | Patch::Clear if required => vec![at.bad(
            "source",
            words(
                "source is required: a write that sets a figure names where it comes from",
                "请填写来源：填写数字时须写明数字从何而来",
            ),
        )],
        Patch::Keep | Patch::Clear => Vec::new(),
    }
}

/// User errors for the texts (field, value) that break [`check_text`].
pub(crate) fn text_errors(at: At, texts: &[(&str, Option<&str>)]) -> Vec<UserError> {
    texts
        .iter()
        .filter_map(|&(field, text)| {
            let problem = check_text(field, text?).err()?;
            Some(at.bad(field, problem))
        })
        .collect()
}

/// At most [`MAX_TEXT_CHARS`] characters and no control characters, tab and line breaks
/// included: a text is one line, shown in a table cell, written to CSV (where a leading tab or
/// carriage return is a formula injection's way in) and stored in PostgreSQL (which cannot
/// store NUL).
pub fn check_text(field: &str, text: &str) -> Result<(), Words> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(words(
            format!("{field} must have at most {MAX_TEXT_CHARS} characters, got {chars}"),
            format!("最多 {MAX_TEXT_CHARS} 个字符，收到 {chars} 个"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(words(
            format!("{field} must not contain control characters (tabs and line breaks included)"),
            "不能含控制字符（包括制表符和换行）",
        ));
    }
    Ok(())
}

/// Whether an `updatedBy` label names a token's holder (see `service::writes::Writer::label`), and so a
/// person. Records the server writes itself carry a label of their own (`seed:report`, `cli`).
pub fn is_token_label(label: &str) -> bool {
    label
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once(" (token "))
        .is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update() -> CoverageUpdate {
        CoverageUpdate::keep_all("410800".into(), entity::BranchType::Enterprise, 2024)
    }

    fn fields(errors: &[UserError]) -> Vec<String> {
        errors.iter().map(|e| e.field.join(".")).collect()
    }

    #[test]
    fn a_figure_needs_its_source_in_the_same_input() {
        let mut u = update();
        u.branch_count = Patch::Set(3);
        assert_eq!(fields(&u.validate(At::INPUT)), ["input.source"]);
        u.source = Patch::Set("  ".into());
        assert_eq!(fields(&u.validate(At::row(2))), ["input.2.source"]);
        u.source = Patch::Set("2024 return".into());
        assert!(u.validate(At::INPUT).is_empty());
    }

    #[test]
    fn clearing_a_figure_or_writing_a_note_needs_no_source() {
        let mut u = update();
        u.branch_count = Patch::Clear;
        u.note = Some("withdrawn".into());
        assert!(u.validate(At::INPUT).is_empty());
    }

    #[test]
    fn versions_follow_one_rule() {
        assert_eq!(version_conflict(None, None), None);
        assert_eq!(version_conflict(None, Some(0)), None);
        assert!(version_conflict(None, Some(2)).is_some());
        assert!(version_conflict(Some(2), None).is_some());
        assert!(version_conflict(Some(2), Some(1)).is_some());
        assert_eq!(version_conflict(Some(2), Some(2)), None);
    }
}
