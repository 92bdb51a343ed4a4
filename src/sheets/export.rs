//! Exports: one row per city × branch type × period, whether or not a record exists, as CSV
//! (UTF-8 with a byte-order mark, RFC 4180 quoting) or XLSX (numbers as numbers, rates as
//! percentages, unknown cells empty, a frozen header, a second sheet with the province
//! summary). Public data only: a token holder's name in `Updated by` is left out, as for
//! anonymous API readers.

use std::sync::Arc;

use entity::{BranchType, city, coverage_record};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::read::text::neutralise;
use super::{Column, Lang, branch_type_label};
use crate::domain::coverage_rate;
use crate::domain::summary::Summary;
use crate::domain::write::is_token_label;

/// One row of the sheet: a city's record of one type and period, or none.
#[derive(Debug, Clone)]
pub struct Row {
    /// The city (one per city, shared by its rows).
    pub city: Arc<city::Model>,
    /// The branch type.
    pub branch_type: BranchType,
    /// The period.
    pub period: i32,
    /// The record, if one is stored.
    pub record: Option<coverage_record::Model>,
}

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// One period; every period with data when `None`.
    pub period: Option<i32>,
    /// One city; every city when `None`.
    pub city: Option<String>,
    /// The figures of `period` as the public saw them after this publication; the published
    /// figures of now when `None`.
    pub publication: Option<i32>,
    /// The working copy (a city's draft in a round) instead of the published figures: for the
    /// city's own staff and administrators only, never kept ready or cached.
    pub draft: bool,
}

/// A cell's value.
enum Value<'a> {
    Empty,
    Text(&'a str),
    Owned(String),
    Count(i32),
    Rate(f64),
}

fn cells(row: &Row, lang: Lang) -> Vec<Value<'_>> {
    let r = row.record.as_ref();
    let count = |v: Option<i32>| v.map_or(Value::Empty, Value::Count);
    let rate = r.and_then(|r| coverage_rate(r.branch_count, r.eligible_count, r.stated_rate).value);
    Column::ALL
        .iter()
        .map(|column| match column {
            Column::CityCode => Value::Text(&row.city.code),
            Column::City => Value::Text(match lang {
                Lang::Zh => &row.city.name,
                Lang::En => &row.city.name_en,
            }),
            Column::BranchType => Value::Text(branch_type_label(row.branch_type, lang)),
            Column::Period => Value::Count(row.period),
            Column::BranchCount => count(r.and_then(|r| r.branch_count)),
            Column::EligibleCount => count(r.and_then(|r| r.eligible_count)),
            Column::NewBranches => count(r.and_then(|r| r.new_branches)),
            Column::CoverageRate => rate.map_or(Value::Empty, Value::Rate),
            Column::RateStated => r
                .and_then(|r| r.stated_rate)
                .map_or(Value::Empty, Value::Rate),
            Column::RateScope => text(r.and_then(|r| r.rate_scope.as_deref())),
            Column::Source => text(r.and_then(|r| r.source.as_deref())),
            Column::Version => count(r.map(|r| r.version)),
            Column::UpdatedAt => r.map_or(Value::Empty, |r| {
                Value::Owned(crate::domain::china_timestamp(r.updated_at))
            }),
            Column::UpdatedBy => text(
                r.and_then(|r| r.updated_by.as_deref())
                    .filter(|label| !is_token_label(label)),
            ),
        })
        .collect()
}

fn text(v: Option<&str>) -> Value<'_> {
    v.map_or(Value::Empty, Value::Text)
}

/// A rate as a percentage with the digits it needs (95%, 99.5%, 33.333333%).
pub fn percent(rate: f64) -> String {
    let text = format!("{:.6}", rate * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// The rows as CSV: UTF-8 with a byte-order mark (so Excel reads Chinese), RFC 4180 quoting,
/// a text cell that begins with `=`, `+`, `-`, `@`, a tab, a carriage return or an apostrophe
/// with an apostrophe before it (OWASP's advice on CSV injection; the import takes exactly that
/// apostrophe away again).
pub fn csv(rows: &[Row], lang: Lang) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(Column::ALL.iter().map(|c| c.header(lang)))?;
    for row in rows {
        let record: Vec<String> = cells(row, lang)
            .into_iter()
            .map(|cell| match cell {
                Value::Empty => String::new(),
                // A text a spreadsheet program could take for a formula is neutralised.
                Value::Text(t) => neutralise(t).into_owned(),
                Value::Owned(t) => neutralise(&t).into_owned(),
                Value::Count(n) => n.to_string(),
                Value::Rate(r) => percent(r),
            })
            .collect();
        out.write_record(&record)?;
    }
    out.into_inner()
        .map_err(|err| csv::Error::from(err.into_error()))
}

/// The rows as a workbook: the coverage sheet, then (unless `summaries` is `None`, as for a
/// city's template) the province summary of each period.
pub fn xlsx(rows: &[Row], summaries: Option<&[Summary]>, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_text_wrap();
    let rate_format = Format::new().set_num_format("0.0%");
    // Constant memory: each finished row goes to a temporary file, texts inline, so that a
    // province-wide export holds one row of cells at a time, not every cell of the sheet.
    let years = (
        rows.iter().map(|r| r.period).min(),
        rows.iter().map(|r| r.period).max(),
    );
    let years = match years {
        (Some(a), Some(b)) if a == b => format!(" {a}"),
        (Some(a), Some(b)) => format!(" {a}–{b}"),
        _ => String::new(),
    };
    super::title(
        &mut book,
        &match lang {
            Lang::Zh => format!("河南省基层科协组织覆盖情况{years}"),
            Lang::En => format!("Coverage of grassroots science associations, Henan{years}"),
        },
    );
    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name(match lang {
        Lang::Zh => "覆盖情况",
        Lang::En => "Coverage",
    })?;
    super::print_setup(sheet, lang)?;
    write_header(sheet, &header, Column::ALL.iter().map(|c| c.header(lang)))?;
    for (i, column) in Column::ALL.iter().enumerate() {
        let width = match column {
            Column::Source => 60.0,
            Column::RateScope | Column::BranchType | Column::UpdatedBy => 24.0,
            Column::UpdatedAt => 22.0,
            _ => 13.0,
        };
        sheet.set_column_width(col(i)?, width)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let line = u32::try_from(r + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (c, cell) in cells(row, lang).into_iter().enumerate() {
            let c = col(c)?;
            match cell {
                Value::Empty => {}
                Value::Text(t) => {
                    sheet.write_string(line, c, t)?;
                }
                Value::Owned(t) => {
                    sheet.write_string(line, c, t)?;
                }
                Value::Count(n) => {
                    sheet.write_number(line, c, f64::from(n))?;
                }
                Value::Rate(v) => {
                    sheet.write_number_with_format(line, c, v, &rate_format)?;
                }
            }
        }
    }
    if let Some(summaries) = summaries {
        let summary_sheet = book.add_worksheet();
        summary_sheet.set_name(match lang {
            Lang::Zh => "全省汇总",
            Lang::En => "Province summary",
        })?;
        super::print_setup(summary_sheet, lang)?;
        summary_sheet_rows(summary_sheet, &header, &rate_format, summaries, lang)?;
    }
    book.save_to_buffer()
}

fn col(i: usize) -> Result<u16, XlsxError> {
    u16::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)
}

fn write_header<'a>(
    sheet: &mut Worksheet,
    format: &Format,
    headers: impl Iterator<Item = &'a str>,
) -> Result<(), XlsxError> {
    for (i, text) in headers.enumerate() {
        sheet.write_string_with_format(0, col(i)?, text, format)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn summary_sheet_rows(
    sheet: &mut Worksheet,
    header: &Format,
    rate_format: &Format,
    summaries: &[Summary],
    lang: Lang,
) -> Result<(), XlsxError> {
    let headers: [(&str, &str); 9] = [
        ("年度", "Year"),
        ("组织类型", "Branch type"),
        ("填报城市数", "Cities reporting"),
        ("各市组织数合计", "Sum of branch counts"),
        ("各市应建单位数合计", "Sum of eligible counts"),
        ("覆盖率（合计之比）", "Coverage rate (ratio of sums)"),
        ("全省报告总数", "Province-reported total"),
        ("各市新建数合计", "Sum of new branches"),
        ("全覆盖城市", "Cities at full coverage"),
    ];
    write_header(
        sheet,
        header,
        headers
            .iter()
            .map(|(zh, en)| if lang == Lang::Zh { *zh } else { *en }),
    )?;
    for (i, width) in [8.0, 18.0, 12.0, 16.0, 18.0, 18.0, 16.0, 16.0, 40.0]
        .into_iter()
        .enumerate()
    {
        sheet.set_column_width(col(i)?, width)?;
    }
    let mut line = 1u32;
    for summary in summaries {
        for t in &summary.by_type {
            let number = |sheet: &mut Worksheet, c: u16, v: Option<f64>| -> Result<(), XlsxError> {
                if let Some(v) = v {
                    sheet.write_number(line, c, v)?;
                }
                Ok(())
            };
            number(sheet, 0, Some(f64::from(summary.period)))?;
            sheet.write_string(line, 1, branch_type_label(t.branch_type, lang))?;
            number(sheet, 2, Some(t.cities_reporting as f64))?;
            number(sheet, 3, t.branch_count_sum.map(|v| v as f64))?;
            number(sheet, 4, t.eligible_count_sum.map(|v| v as f64))?;
            if let Some(rate) = t.coverage_rate {
                sheet.write_number_with_format(line, 5, rate, rate_format)?;
            }
            let total = t.province_total.as_ref().and_then(|p| p.total);
            number(sheet, 6, total.map(f64::from))?;
            number(sheet, 7, t.new_branches_sum.map(|v| v as f64))?;
            let full: Vec<&str> = t
                .full_coverage_cities
                .iter()
                .map(|c| {
                    if lang == Lang::Zh {
                        c.name.as_str()
                    } else {
                        c.name_en.as_str()
                    }
                })
                .collect();
            sheet.write_string(line, 8, full.join(", "))?;
            line += 1;
        }
    }
    Ok(())
}

/// The file name for a download: `coverage-2023.xlsx`, `coverage-all.csv`,
/// `return-410800-2024.xlsx`.
pub fn file_name(stem: &str, selection: &Selection, extension: &str) -> String {
    let mut name = stem.to_owned();
    if let Some(city) = &selection.city {
        name.push('-');
        name.push_str(city);
    }
    match selection.period {
        Some(p) => name.push_str(&format!("-{p}")),
        None => name.push_str("-all"),
    }
    if let Some(n) = selection.publication {
        name.push_str(&format!("-publication-{n}"));
    }
    if selection.draft {
        name.push_str("-draft");
    }
    format!("{name}.{extension}")
}
