//! The audit trail as a workbook: the console's change feed, exported with its filters. One row
//! per revision, newest first: its number, time (China Standard Time), writer, kind, record and the record as it
//! was before and after (as the revision keeps them, JSON), and its note.

use entity::revision;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::Lang;
use crate::domain::branch_type_name;

/// The headers, in both languages.
const HEADERS: [(&str, &str); 11] = [
    ("编号", "Number"),
    ("时间（北京时间）", "Time (UTC+8)"),
    ("修改人", "Writer"),
    ("角色", "Role"),
    ("记录类别", "Kind"),
    ("城市代码", "City code"),
    ("组织类型", "Branch type"),
    ("年度", "Year"),
    ("修改前", "Before"),
    ("修改后", "After"),
    ("说明", "Note"),
];

/// The revisions as a workbook with a frozen header.
pub fn xlsx(revisions: &[revision::Model], lang: Lang) -> Result<Vec<u8>, XlsxError> {
    use sea_orm::ActiveEnum;
    let mut book = Workbook::new();
    let header = Format::new().set_bold();
    super::title(
        &mut book,
        match lang {
            Lang::Zh => "河南省基层科协组织覆盖情况 修改记录",
            Lang::En => "Coverage of grassroots science associations, Henan: changes",
        },
    );
    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name(match lang {
        Lang::Zh => "修改记录",
        Lang::En => "Changes",
    })?;
    super::print_setup(sheet, lang)?;
    for (c, (zh, en)) in (0u16..).zip(HEADERS) {
        let text = match lang {
            Lang::Zh => zh,
            Lang::En => en,
        };
        sheet.write_string_with_format(0, c, text, &header)?;
        let width = match c {
            8 | 9 => 60.0,
            1..=2 => 24.0,
            _ => 12.0,
        };
        sheet.set_column_width(c, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (row, r) in (1u32..).zip(revisions) {
        sheet.write_number(row, 0, r.id as f64)?;
        sheet.write_string(row, 1, crate::domain::china_timestamp(r.at))?;
        sheet.write_string(row, 2, &r.actor_name)?;
        sheet.write_string(row, 3, r.actor_role.to_value())?;
        sheet.write_string(row, 4, r.kind.to_value())?;
        if let Some(city) = &r.city_code {
            sheet.write_string(row, 5, city)?;
        }
        if let Some(t) = r.branch_type {
            sheet.write_string(row, 6, branch_type_name(t))?;
        }
        if let Some(period) = r.period {
            sheet.write_number(row, 7, f64::from(period))?;
        }
        for (c, text) in [(8u16, &r.before), (9, &r.after), (10, &r.note)] {
            if let Some(text) = text {
                sheet.write_string(row, c, text)?;
            }
        }
    }
    book.save_to_buffer()
}
