//! Spreadsheets in and out: a city's yearly return as an Excel (or WPS) workbook or a CSV file.
//!
//! - [`export`]: every city × branch type × period as XLSX (with the province summary) or CSV,
//!   and a city's return pre-filled as a template;
//! - [`import`]: a file as offices send it, read leniently, checked row by row, then written
//!   through the same write path as the mutations (permissions, versions, sources, revisions,
//!   events), all or nothing, or only tried (a dry run).
//!
//! The columns are defined once, here, for both directions.

pub mod export;
pub mod feed;
pub mod read;
pub mod ready;
pub mod report;
pub mod rows;

use entity::BranchType;
use rust_xlsxwriter::{DocProperties, Workbook, Worksheet, XlsxError};

/// What every workbook's sheet prints as: A4 landscape (the tables are wide), one page wide with
/// as many pages down as it takes, the header row repeated on every page, and page numbers in
/// the footer ("第 1 页 / 共 2 页").
pub fn print_setup(sheet: &mut Worksheet, lang: Lang) -> Result<(), XlsxError> {
    /// A4 in the paper sizes of the file format.
    const A4: u8 = 9;
    sheet
        .set_paper_size(A4)
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_margins(0.6, 0.6, 0.75, 0.75, 0.3, 0.3)
        .set_footer(match lang {
            Lang::Zh => "&C第 &P 页 / 共 &N 页",
            Lang::En => "&CPage &P of &N",
        });
    sheet.set_repeat_rows(0, 0)?;
    Ok(())
}

/// Gives the workbook its document title (what a file's properties and a printout show).
pub fn title(book: &mut Workbook, title: &str) {
    book.set_properties(&DocProperties::new().set_title(title));
}

/// The language of the headers and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 中文 (the default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `en` is English; anything else is Chinese.
    pub fn from_param(param: Option<&str>) -> Self {
        match param {
            Some(p) if p.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Zh,
        }
    }
}

/// The columns of the coverage sheet, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// The city's administrative code.
    CityCode,
    /// The city's name.
    City,
    /// The branch type.
    BranchType,
    /// The period (year).
    Period,
    /// Branches.
    BranchCount,
    /// Eligible units.
    EligibleCount,
    /// Newly established branches.
    NewBranches,
    /// The coverage rate (computed or stated): read-only.
    CoverageRate,
    /// A rate the source states without counts.
    RateStated,
    /// What a stated rate covers.
    RateScope,
    /// Where the figures come from.
    Source,
    /// The record's version when exported.
    Version,
    /// When the record last changed: read-only.
    UpdatedAt,
    /// Who last changed it: read-only.
    UpdatedBy,
}

impl Column {
    /// Every column, in order.
    pub const ALL: [Column; 14] = [
        Column::CityCode,
        Column::City,
        Column::BranchType,
        Column::Period,
        Column::BranchCount,
        Column::EligibleCount,
        Column::NewBranches,
        Column::CoverageRate,
        Column::RateStated,
        Column::RateScope,
        Column::Source,
        Column::Version,
        Column::UpdatedAt,
        Column::UpdatedBy,
    ];

    /// The header in `lang`.
    pub fn header(self, lang: Lang) -> &'static str {
        let (zh, en) = self.names();
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// (Chinese, English) headers.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Column::CityCode => ("城市代码", "City code"),
            Column::City => ("城市", "City"),
            Column::BranchType => ("组织类型", "Branch type"),
            Column::Period => ("年度", "Year"),
            Column::BranchCount => ("组织数", "Branch count"),
            Column::EligibleCount => ("应建单位数", "Eligible count"),
            Column::NewBranches => ("新建数", "New branches"),
            Column::CoverageRate => ("覆盖率", "Coverage rate"),
            Column::RateStated => ("报告所述覆盖率", "Rate stated"),
            Column::RateScope => ("口径", "Rate scope"),
            Column::Source => ("来源", "Source"),
            Column::Version => ("版本", "Version"),
            Column::UpdatedAt => ("更新时间", "Updated at"),
            Column::UpdatedBy => ("更新人", "Updated by"),
        }
    }

    /// Other headers people write for the column (compared without spaces, case-insensitive).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::CityCode => &["代码", "行政区划代码", "code", "citycode"],
            Column::City => &["市", "城市名称", "地市", "省辖市", "name", "cityname"],
            Column::BranchType => &["类型", "类别", "type", "branchtype"],
            Column::Period => &["年份", "period", "year"],
            Column::BranchCount => &["科协组织数", "已建数", "branches", "branchcount"],
            Column::EligibleCount => &["应建数", "eligible", "eligibleunits"],
            Column::NewBranches => &["新成立", "新建", "newlyestablished"],
            Column::CoverageRate => &["rate", "coveragerate"],
            Column::RateStated => &["报告所述", "statedrate", "ratestated", "stated"],
            Column::RateScope => &["scope", "ratescope"],
            Column::Source => &["数据来源", "source"],
            Column::Version => &["version"],
            Column::UpdatedAt => &["updatedat"],
            Column::UpdatedBy => &["updatedby"],
        }
    }

    /// The column a header names, if any.
    pub fn from_header(header: &str) -> Option<Column> {
        let key = squash(header);
        if key.is_empty() {
            return None;
        }
        Column::ALL.into_iter().find(|c| {
            let (zh, en) = c.names();
            squash(zh) == key
                || squash(en) == key
                || c.aliases().iter().any(|alias| squash(alias) == key)
        })
    }

    /// Whether an import reads the column (the others are computed or kept by the server).
    pub fn is_input(self) -> bool {
        !matches!(
            self,
            Column::CoverageRate | Column::UpdatedAt | Column::UpdatedBy
        )
    }

    /// The API's name of the field a column sets, for mapping write errors to columns.
    pub fn field(self) -> &'static str {
        match self {
            Column::CityCode => "cityCode",
            Column::City => "city",
            Column::BranchType => "branchType",
            Column::Period => "period",
            Column::BranchCount => "branchCount",
            Column::EligibleCount => "eligibleCount",
            Column::NewBranches => "newBranches",
            Column::CoverageRate => "coverageRate",
            Column::RateStated => "statedRate",
            Column::RateScope => "rateScope",
            Column::Source => "source",
            Column::Version => "expectedVersion",
            Column::UpdatedAt => "updatedAt",
            Column::UpdatedBy => "updatedBy",
        }
    }
}

/// Lower case, without white space, full-width forms folded (so `Branch count`, `branchcount`
/// and `ＢｒａｎｃｈＣｏｕｎｔ` match).
fn squash(text: &str) -> String {
    text.chars()
        .map(fold_width)
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '*'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A full-width ASCII form (U+FF01–U+FF5E, and the ideographic space) as its ASCII character.
pub(crate) fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The branch type's label in `lang`: the report's terms.
pub fn branch_type_label(t: BranchType, lang: Lang) -> &'static str {
    match (t, lang) {
        (BranchType::Enterprise, Lang::Zh) => "企业科协",
        (BranchType::University, Lang::Zh) => "高校科协",
        (BranchType::Township, Lang::Zh) => "乡镇（街道）科协",
        (BranchType::Enterprise, Lang::En) => "enterprise branches",
        (BranchType::University, Lang::En) => "university branches",
        (BranchType::Township, Lang::En) => "township branches",
    }
}

/// The branch type a cell names: a label in either language, the API's enum name, or a short
/// form (企业, 高校, 乡镇).
pub fn branch_type_from(text: &str) -> Option<BranchType> {
    let key = squash(text).replace(['(', ')'], "");
    crate::domain::BRANCH_TYPES.into_iter().find(|t| {
        let name = crate::domain::branch_type_name(*t);
        let short = match t {
            BranchType::Enterprise => ["企业", "enterprise"],
            BranchType::University => ["高校", "university"],
            BranchType::Township => ["乡镇", "township"],
        };
        key == squash(name)
            || key == squash(branch_type_label(*t, Lang::En))
            || key == squash(branch_type_label(*t, Lang::Zh)).replace(['(', ')'], "")
            || short.iter().any(|s| key == *s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_labels_are_read_in_either_language() {
        for column in Column::ALL {
            for lang in [Lang::Zh, Lang::En] {
                assert_eq!(Column::from_header(column.header(lang)), Some(column));
            }
        }
        assert_eq!(
            Column::from_header(" ＢＲＡＮＣＨ count "),
            Some(Column::BranchCount)
        );
        for t in crate::domain::BRANCH_TYPES {
            assert_eq!(branch_type_from(branch_type_label(t, Lang::Zh)), Some(t));
            assert_eq!(branch_type_from(branch_type_label(t, Lang::En)), Some(t));
        }
        assert_eq!(
            branch_type_from("乡镇(街道)科协"),
            Some(BranchType::Township)
        );
        assert_eq!(branch_type_from("TOWNSHIP"), Some(BranchType::Township));
        assert_eq!(branch_type_from("科协"), None);
    }
}
