//! Reading a sheet as offices send it into a table of cells, every bound met while reading:
//! nothing is sized from what a file declares about itself (a workbook's string counts, its
//! `dimension`, a cell's reference), and reading stops at the first bound crossed.
//!
//! - [`xlsx`]: a workbook's first sheet, read as a stream of XML events ([`guard`] keeps each
//!   event small before the XML reader buffers it);
//! - [`text`]: CSV or TSV, field by field.
//!
//! What a table may hold, whatever the file: at most `rows + TITLE_ROWS` rows of at most
//! `columns` cells, each of at most `cell_chars` characters, and at most [`TEXT_BUDGET`] bytes
//! of text in all. So an import holds at most (rows + 20) × columns cells of 24 bytes, plus the
//! text budget, plus the file itself, whatever the file says.

mod guard;
pub mod text;
pub mod xlsx;

use std::sync::Arc;

/// The header may sit under up to this many title rows; `import` counts the data rows exactly.
pub const TITLE_ROWS: usize = 20;

/// Most bytes of text (cells and a workbook's shared strings) one table may hold.
pub const TEXT_BUDGET: usize = 16 * 1024 * 1024;

/// The bounds a file meets while it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Largest file, in bytes.
    pub max_bytes: usize,
    /// Most data rows (besides the header and up to [`TITLE_ROWS`] title rows).
    pub max_rows: usize,
    /// Most columns.
    pub max_columns: usize,
    /// Longest cell, in characters.
    pub max_cell_chars: usize,
    /// Largest sum of a workbook's uncompressed entries, in bytes.
    pub max_uncompressed_bytes: u64,
    /// Most entries in a workbook.
    pub max_entries: usize,
}

impl Bounds {
    /// The bounds `--import-max-*` set.
    pub fn of(args: &crate::config::ServeArgs) -> Self {
        Self {
            max_bytes: args.import_max_bytes,
            max_rows: args.import_max_rows,
            max_columns: args.import_max_columns,
            max_cell_chars: args.import_max_cell_chars,
            max_uncompressed_bytes: args.import_max_uncompressed_bytes,
            max_entries: args.import_max_entries,
        }
    }

    /// Most rows a table may have, title rows and the header included.
    pub fn max_table_rows(&self) -> usize {
        self.max_rows.saturating_add(TITLE_ROWS + 1)
    }

    /// Most cells a table may have.
    pub fn max_cells(&self) -> usize {
        self.max_table_rows().saturating_mul(self.max_columns)
    }
}

/// A cell as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// A number (XLSX).
    Number(f64),
    /// Text (shared by every cell of a workbook that names the same string).
    Text(Arc<str>),
}

impl Cell {
    /// The cell as text, trimmed.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Number(n) => format!("{n}"),
            Cell::Text(t) => t.trim().to_owned(),
        }
    }
}

/// Rows of cells; a row is as long as its last cell.
pub type Table = Vec<Vec<Cell>>;

/// Which bound a file crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Its size in bytes.
    Bytes,
    /// Its rows.
    Rows,
    /// Its columns.
    Columns,
    /// A cell's length.
    CellChars,
    /// A workbook's entries.
    Entries,
    /// What a workbook inflates to.
    Uncompressed,
    /// The text it holds in all, or one XML element's size.
    Text,
}

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The file cannot be read as a table.
    Unreadable {
        /// English.
        en: String,
        /// 中文.
        zh: String,
    },
    /// The file crosses a bound (at `row`, 1-based, where one is known).
    TooLarge {
        /// Which bound.
        bound: Bound,
        /// The row, if the bound is a row's.
        row: Option<usize>,
        /// English.
        en: String,
        /// 中文.
        zh: String,
    },
}

impl ReadError {
    pub(crate) fn unreadable(en: impl Into<String>, zh: impl Into<String>) -> Self {
        ReadError::Unreadable {
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub(crate) fn too_large(bound: Bound, en: impl Into<String>, zh: impl Into<String>) -> Self {
        ReadError::TooLarge {
            bound,
            row: None,
            en: en.into(),
            zh: zh.into(),
        }
    }

    fn rows(bounds: &Bounds, row: usize) -> Self {
        ReadError::TooLarge {
            bound: Bound::Rows,
            row: Some(row),
            en: format!(
                "the file has rows beyond row {row}; at most {} data rows are accepted",
                bounds.max_rows
            ),
            zh: format!(
                "文件第 {row} 行已超出上限：最多接受 {} 行数据",
                bounds.max_rows
            ),
        }
    }

    fn columns(bounds: &Bounds, row: usize, column: usize) -> Self {
        ReadError::TooLarge {
            bound: Bound::Columns,
            row: Some(row),
            en: format!(
                "row {row} has a cell in column {column}; at most {} columns are accepted",
                bounds.max_columns
            ),
            zh: format!(
                "第 {row} 行在第 {column} 列有单元格，超过上限 {} 列",
                bounds.max_columns
            ),
        }
    }

    fn cell_chars(bounds: &Bounds, row: usize) -> Self {
        ReadError::TooLarge {
            bound: Bound::CellChars,
            row: Some(row),
            en: format!(
                "a cell of row {row} has more than {} characters",
                bounds.max_cell_chars
            ),
            zh: format!("第 {row} 行有单元格超过 {} 个字符", bounds.max_cell_chars),
        }
    }

    fn text_budget() -> Self {
        Self::too_large(
            Bound::Text,
            format!("the file holds more than {TEXT_BUDGET} bytes of text"),
            format!("文件中的文字超过 {TEXT_BUDGET} 字节"),
        )
    }
}

/// The file as rows of cells, within `bounds` (see the module's notes).
pub fn read_table(bytes: &[u8], bounds: &Bounds) -> Result<Table, ReadError> {
    if bytes.len() > bounds.max_bytes {
        return Err(ReadError::too_large(
            Bound::Bytes,
            format!(
                "the file has {} bytes; at most {} are accepted",
                bytes.len(),
                bounds.max_bytes
            ),
            format!(
                "文件大小为 {} 字节，超过上限 {} 字节",
                bytes.len(),
                bounds.max_bytes
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(ReadError::unreadable("the file is empty", "文件是空的"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        xlsx::read(bytes, bounds)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Err(ReadError::unreadable(
            "this is a password-protected workbook or an old .xls file: save it as an \
             unprotected .xlsx (or CSV) and send it again",
            "这是设置了密码的工作簿或旧版 .xls 文件：请另存为无密码的 .xlsx（或 CSV）后重新上传",
        ))
    } else {
        text::read(bytes, bounds)
    }
}

/// Cells gathered one by one, each checked against the bounds as it comes; then laid out as
/// rows.
struct Gather<'a> {
    bounds: &'a Bounds,
    cells: Vec<(u32, u16, Cell)>,
    text_bytes: usize,
}

impl<'a> Gather<'a> {
    fn new(bounds: &'a Bounds) -> Self {
        Self {
            bounds,
            cells: Vec::new(),
            text_bytes: 0,
        }
    }

    /// Whether a cell at `row`, `column` (1-based) is within the bounds, before its value is
    /// read.
    fn check_place(&self, row: usize, column: usize) -> Result<(), ReadError> {
        if row == 0 || row > self.bounds.max_table_rows() {
            return Err(ReadError::rows(self.bounds, row));
        }
        if column == 0 || column > self.bounds.max_columns {
            return Err(ReadError::columns(self.bounds, row, column));
        }
        Ok(())
    }

    /// Counts `bytes` of text read (kept or about to be).
    fn spend(&mut self, bytes: usize) -> Result<(), ReadError> {
        self.text_bytes = self.text_bytes.saturating_add(bytes);
        if self.text_bytes > TEXT_BUDGET {
            return Err(ReadError::text_budget());
        }
        Ok(())
    }

    /// Adds the cell at `row`, `column` (1-based).
    fn push(&mut self, row: usize, column: usize, cell: Cell) -> Result<(), ReadError> {
        self.check_place(row, column)?;
        if let Cell::Text(t) = &cell
            && t.chars().count() > self.bounds.max_cell_chars
        {
            return Err(ReadError::cell_chars(self.bounds, row));
        }
        if matches!(cell, Cell::Empty) {
            return Ok(());
        }
        if self.cells.len() >= self.bounds.max_cells() {
            return Err(ReadError::too_large(
                Bound::Rows,
                format!(
                    "the file has more than {} cells; at most {} rows of {} columns are accepted",
                    self.bounds.max_cells(),
                    self.bounds.max_rows,
                    self.bounds.max_columns
                ),
                format!(
                    "文件的单元格超过 {} 个：最多接受 {} 行 {} 列",
                    self.bounds.max_cells(),
                    self.bounds.max_rows,
                    self.bounds.max_columns
                ),
            ));
        }
        // Both fit: checked against the bounds just above (rows and columns are far below
        // u32 and u16 in any configuration that fits in memory).
        let (r, c) = (
            u32::try_from(row).unwrap_or(u32::MAX),
            u16::try_from(column).unwrap_or(u16::MAX),
        );
        self.cells.push((r, c, cell));
        Ok(())
    }

    /// The rows, in order; a cell given twice keeps its last value.
    fn into_table(mut self) -> Table {
        self.cells.sort_by_key(|(r, c, _)| (*r, *c));
        let rows = self.cells.last().map_or(0, |(r, _, _)| *r as usize);
        let mut table: Table = Vec::with_capacity(rows);
        table.resize_with(rows, Vec::new);
        for (r, c, cell) in self.cells {
            // Rows and columns are 1-based (checked in `check_place`) and within the table.
            let Some(row) = table.get_mut((r as usize).wrapping_sub(1)) else {
                continue;
            };
            let at = (c as usize).saturating_sub(1);
            if row.len() <= at {
                row.resize(at + 1, Cell::Empty);
            }
            row[at] = cell;
        }
        table
    }
}
