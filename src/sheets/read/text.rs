//! CSV or TSV as a table: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order
//! mark, or GB18030 (GBK); commas or tabs. Read field by field (csv-core), each field, row and
//! column checked against the bounds as it ends, so reading stops at the first bound crossed.
//!
//! A text cell that the CSV export neutralised (a leading apostrophe before `=`, `+`, `-`, `@`,
//! a tab, a carriage return or another apostrophe, see `export`) has that apostrophe removed
//! again, so that an export read back is what was stored.

use std::borrow::Cow;
use std::sync::Arc;

use csv_core::{ReadFieldResult, ReaderBuilder};

use super::{Bounds, Cell, Gather, ReadError, Table};

/// The first characters a spreadsheet program may take for a formula (OWASP's list), and the
/// apostrophe that the export puts before them.
pub const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// `text` as the CSV export writes it: with an apostrophe before a first character that a
/// spreadsheet program could take for a formula (or before an apostrophe, so that reading it
/// back removes exactly what was added).
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `field` as it was before [`neutralise`].
pub fn restore(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => field,
    }
}

/// The table in `bytes`.
pub fn read(bytes: &[u8], bounds: &Bounds) -> Result<Table, ReadError> {
    let text = decode(bytes).ok_or_else(|| {
        ReadError::unreadable(
            "the file is neither a workbook nor text in UTF-8, UTF-16 (with a byte-order mark) \
             or GB18030/GBK",
            "文件既不是 Excel 工作簿，也不是 UTF-8、UTF-16（带 BOM）或 GB18030/GBK 编码的文本",
        )
    })?;
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ReadError::unreadable(
            "the file holds control characters: it is not a text table",
            "文件中含有控制字符，不是文本表格",
        ));
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first.matches('\t').count() > first.matches(',').count() {
        b'\t'
    } else {
        b','
    };
    let mut reader = ReaderBuilder::new().delimiter(delimiter).build();
    let mut gather = Gather::new(bounds);
    // A field longer than this is over the cell bound whatever its characters.
    let mut field = vec![0u8; bounds.max_cell_chars.saturating_mul(4).saturating_add(4)];
    let mut input = text.as_bytes();
    let (mut row, mut column, mut written) = (1usize, 1usize, 0usize);
    loop {
        let (result, read, wrote) = reader.read_field(input, &mut field[written..]);
        input = &input[read..];
        written += wrote;
        match result {
            ReadFieldResult::InputEmpty => {}
            ReadFieldResult::OutputFull => {
                return Err(ReadError::cell_chars(bounds, row));
            }
            ReadFieldResult::Field { record_end } => {
                let value = std::str::from_utf8(&field[..written])
                    .map_err(|e| ReadError::unreadable(e.to_string(), e.to_string()))?;
                if !value.trim().is_empty() {
                    gather.spend(value.len())?;
                    gather.push(row, column, Cell::Text(Arc::from(restore(value))))?;
                }
                written = 0;
                if record_end {
                    row += 1;
                    column = 1;
                } else {
                    column += 1;
                }
            }
            ReadFieldResult::End => break,
        }
    }
    Ok(gather.into_table())
}

fn decode(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, malformed) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (!malformed).then_some(text);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(text));
    }
    encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_neutralised_text_reads_back_as_it_was() {
        for text in [
            "=1+1", "+86", "-", "@x", "\tx", "\rx", "'=x", "''", "'", "plain", "",
        ] {
            let written = neutralise(text);
            assert!(
                !written.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{text:?}"
            );
            assert_eq!(restore(&written), text, "{text:?}");
        }
    }
}
