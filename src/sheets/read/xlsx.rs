//! A workbook's first sheet as a table, read from its XML parts as a stream of events (see the
//! parent module for the bounds).
//!
//! Order of checks, each before the work it guards:
//! 1. the archive's directory: the number of entries, encryption;
//! 2. every entry inflated once into nothing, cut off at what is left of the uncompressed bound
//!    (what entries declare may lie; what they inflate to does not);
//! 3. `xl/workbook.xml` and its relationships name the first sheet and the shared strings;
//! 4. the shared strings, each string as it ends: no more strings than the table may hold
//!    cells, none kept longer than a cell may be, all within the text budget (`count` and
//!    `uniqueCount` are never read);
//! 5. the sheet's cells, each checked by its place (`r`) before its value is read; the
//!    `dimension` is never read; empty cells cost nothing and are skipped wherever they are.
//!
//! Every part is read through [`Guard`], so no XML event is ever larger than
//! [`super::guard::MAX_EVENT`].

use std::io::{BufReader, Cursor, Read};
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::guard::{Guard, Refusal};
use super::{Bound, Bounds, Cell, Gather, ReadError, Table};

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;
type Xml<'a, 'b> =
    Reader<BufReader<Guard<std::io::Take<zip::read::ZipFile<'a, Cursor<&'b [u8]>>>>>>;

fn broken(err: &dyn std::fmt::Display) -> ReadError {
    ReadError::unreadable(
        format!("the workbook cannot be read: {err}"),
        format!("无法读取该工作簿（文件损坏或不是 Excel 文件）：{err}"),
    )
}

/// The first sheet of the workbook in `bytes`.
pub fn read(bytes: &[u8], bounds: &Bounds) -> Result<Table, ReadError> {
    let mut archive = open(bytes, bounds)?;
    let (sheet, strings) = locate(&mut archive, bounds)?;
    let mut gather = Gather::new(bounds);
    let strings = match strings.and_then(|path| find(&archive, &path)) {
        Some(index) => shared_strings(&mut archive, index, bounds, &mut gather)?,
        None => Vec::new(),
    };
    let index = find(&archive, &sheet)
        .ok_or_else(|| ReadError::unreadable("the workbook has no sheet", "工作簿中没有工作表"))?;
    cells(&mut archive, index, bounds, &strings, &mut gather)?;
    Ok(gather.into_table())
}

/// The archive, its directory and what it inflates to checked (steps 1 and 2).
fn open<'a>(bytes: &'a [u8], bounds: &Bounds) -> Result<Archive<'a>, ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| broken(&e))?;
    if archive.len() > bounds.max_entries {
        return Err(ReadError::too_large(
            Bound::Entries,
            format!(
                "the workbook has {} entries; at most {} are accepted",
                archive.len(),
                bounds.max_entries
            ),
            format!(
                "工作簿包含 {} 个部件，超过上限 {}",
                archive.len(),
                bounds.max_entries
            ),
        ));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        if archive.by_index_raw(i).map_err(|e| broken(&e))?.encrypted() {
            return Err(ReadError::unreadable(
                "the workbook is encrypted: save it without a password and send it again",
                "工作簿已加密：请取消密码后重新上传",
            ));
        }
        let entry = archive.by_index(i).map_err(|e| broken(&e))?;
        let left = bounds.max_uncompressed_bytes.saturating_sub(total) + 1;
        let inflated =
            std::io::copy(&mut entry.take(left), &mut std::io::sink()).map_err(|e| broken(&e))?;
        total = total.saturating_add(inflated);
        if total > bounds.max_uncompressed_bytes {
            return Err(ReadError::too_large(
                Bound::Uncompressed,
                format!(
                    "the workbook unpacks to more than {} bytes, the most accepted",
                    bounds.max_uncompressed_bytes
                ),
                format!(
                    "工作簿解压后超过上限 {} 字节",
                    bounds.max_uncompressed_bytes
                ),
            ));
        }
    }
    Ok(archive)
}

/// The index of the entry named `path` (compared without case, as part names are).
fn find(archive: &Archive<'_>, path: &str) -> Option<usize> {
    archive
        .file_names()
        .position(|name| name.is_ok_and(|n| n.eq_ignore_ascii_case(path)))
}

/// A reader of entry `index`'s XML, guarded and cut off at the uncompressed bound.
fn xml<'a, 'b>(
    archive: &'a mut Archive<'b>,
    index: usize,
    bounds: &Bounds,
) -> Result<Xml<'a, 'b>, ReadError> {
    let entry = archive.by_index(index).map_err(|e| broken(&e))?;
    let guarded = Guard::new(entry.take(bounds.max_uncompressed_bytes));
    let mut reader = Reader::from_reader(BufReader::new(guarded));
    reader.config_mut().trim_text(false);
    Ok(reader)
}

/// The error of a part that stopped reading: the guard's refusal, or malformed XML.
fn failed(reader: &Xml<'_, '_>, err: &quick_xml::Error) -> ReadError {
    match reader.get_ref().get_ref().refused() {
        Some(Refusal::LongEvent) => ReadError::too_large(
            Bound::Text,
            format!(
                "the workbook has an XML element or text longer than {} bytes",
                super::guard::MAX_EVENT
            ),
            format!(
                "工作簿中有超过 {} 字节的 XML 元素或文字",
                super::guard::MAX_EVENT
            ),
        ),
        Some(Refusal::Markup) => ReadError::unreadable(
            "the workbook's XML holds comments, CDATA, a document type or processing \
             instructions, which spreadsheet programs do not write",
            "工作簿的 XML 中含有注释、CDATA、文档类型声明或处理指令，不是电子表格程序生成的文件",
        ),
        None => broken(err),
    }
}

/// An attribute's value by its name (`r`, `t`; or a prefixed name's local part when `local`).
fn attribute(element: &BytesStart<'_>, name: &str, local: bool) -> Option<String> {
    element.attributes().flatten().find_map(|a| {
        let matches = if local {
            a.key.local_name().as_ref() == name && a.key.prefix().is_some()
        } else {
            a.key.as_ref() == name
        };
        matches.then(|| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.into_owned())
        })
    })
}

/// The paths of the first sheet and of the shared strings (step 3).
fn locate(
    archive: &mut Archive<'_>,
    bounds: &Bounds,
) -> Result<(String, Option<String>), ReadError> {
    let not_a_workbook = || {
        ReadError::unreadable(
            "the file is a zip archive but not an Excel workbook (no xl/workbook.xml)",
            "文件是压缩包，但不是 Excel 工作簿（缺少 xl/workbook.xml）",
        )
    };
    let book = find(archive, "xl/workbook.xml").ok_or_else(not_a_workbook)?;
    let mut first_sheet = None;
    {
        let mut reader = xml(archive, book, bounds)?;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_event_into(&mut buf) {
                Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sheet" => {
                    first_sheet = attribute(&e, "id", true);
                    break;
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(err) => return Err(failed(&reader, &err)),
            }
        }
    }
    let first_sheet = first_sheet
        .ok_or_else(|| ReadError::unreadable("the workbook has no sheet", "工作簿中没有工作表"))?;
    let rels = find(archive, "xl/_rels/workbook.xml.rels").ok_or_else(not_a_workbook)?;
    let mut reader = xml(archive, rels, bounds)?;
    let mut buf = Vec::new();
    let (mut sheet, mut strings) = (None, None);
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "Relationship" => {
                let target = attribute(&e, "Target", false).map(|t| part_path(&t));
                if attribute(&e, "Id", false).as_deref() == Some(first_sheet.as_str()) {
                    sheet = target;
                } else if attribute(&e, "Type", false)
                    .is_some_and(|t| t.ends_with("/sharedStrings"))
                {
                    strings = target;
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(err) => return Err(failed(&reader, &err)),
        }
    }
    let sheet = sheet
        .ok_or_else(|| ReadError::unreadable("the workbook has no sheet", "工作簿中没有工作表"))?;
    Ok((sheet, strings))
}

/// A relationship's target as a path in the archive (relative to `xl/`, or absolute).
fn part_path(target: &str) -> String {
    match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("xl/{}", target.trim_start_matches("./")),
    }
}

/// The text of the element just opened, up to its end: inside `<t>` elements only when
/// `runs` (a shared or inline string; phonetic runs left out), else all of it (a `<v>`). Kept
/// up to `keep_chars` characters; the rest is read and dropped.
fn text_until_end(
    reader: &mut Xml<'_, '_>,
    buf: &mut Vec<u8>,
    runs: bool,
    keep_chars: usize,
) -> Result<String, ReadError> {
    let mut out = String::new();
    let mut kept = 0usize;
    let mut depth = 0usize;
    let mut in_t = !runs;
    let mut phonetic = 0usize;
    let mut push = |out: &mut String, text: &str| {
        for c in text.chars() {
            if kept >= keep_chars {
                break;
            }
            out.push(c);
            kept += 1;
        }
    };
    loop {
        buf.clear();
        match reader.read_event_into(buf) {
            Ok(Event::Start(e)) => {
                depth += 1;
                match e.local_name().as_ref() {
                    "rPh" => phonetic += 1,
                    "t" if runs => in_t = true,
                    _ => {}
                }
            }
            Ok(Event::End(e)) => {
                if depth == 0 {
                    return Ok(out);
                }
                depth -= 1;
                match e.local_name().as_ref() {
                    "rPh" => phonetic = phonetic.saturating_sub(1),
                    "t" if runs => in_t = false,
                    _ => {}
                }
            }
            Ok(Event::Text(t)) if in_t && phonetic == 0 => push(&mut out, &t.xml10_content()),
            Ok(Event::GeneralRef(r)) if in_t && phonetic == 0 => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match r.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => {
                            return Err(ReadError::unreadable(
                                format!("the workbook uses an unknown entity &{other};"),
                                format!("工作簿使用了未知的实体 &{other};"),
                            ));
                        }
                    },
                    Err(err) => return Err(broken(&err)),
                };
                push(&mut out, c.encode_utf8(&mut [0; 4]));
            }
            Ok(Event::Eof) => return Err(broken(&"the XML ends inside an element")),
            Ok(_) => {}
            Err(err) => return Err(failed(reader, &err)),
        }
    }
}

/// The shared strings (step 4).
fn shared_strings(
    archive: &mut Archive<'_>,
    index: usize,
    bounds: &Bounds,
    gather: &mut Gather<'_>,
) -> Result<Vec<Arc<str>>, ReadError> {
    let mut reader = xml(archive, index, bounds)?;
    let mut buf = Vec::new();
    let mut strings: Vec<Arc<str>> = Vec::new();
    loop {
        buf.clear();
        let string = match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "si" => {
                // One more than a cell may hold: a cell that names it is then refused.
                text_until_end(&mut reader, &mut buf, true, bounds.max_cell_chars + 1)?
            }
            Ok(Event::Empty(e)) if e.local_name().as_ref() == "si" => String::new(),
            Ok(Event::Eof) => break,
            Ok(_) => continue,
            Err(err) => return Err(failed(&reader, &err)),
        };
        if strings.len() >= bounds.max_cells() {
            return Err(ReadError::too_large(
                Bound::Text,
                format!(
                    "the workbook has more than {} shared strings, more than a sheet within \
                     the bounds can use",
                    bounds.max_cells()
                ),
                format!("工作簿的共享字符串超过 {} 个，超出上限", bounds.max_cells()),
            ));
        }
        gather.spend(string.len())?;
        strings.push(Arc::from(string));
    }
    Ok(strings)
}

/// A cell reference (`B12`) as 1-based (row, column); saturating, so that a reference far out
/// is refused by the bounds, not wrapped into them.
fn place(reference: &str) -> Option<(usize, usize)> {
    let letters = reference
        .bytes()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    let (column, row) = reference.split_at(letters);
    if letters == 0 || row.is_empty() || !row.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let column = column.bytes().fold(0usize, |n, b| {
        n.saturating_mul(26)
            .saturating_add(usize::from(b.to_ascii_uppercase() - b'A' + 1))
    });
    let row = row.bytes().fold(0usize, |n, b| {
        n.saturating_mul(10).saturating_add(usize::from(b - b'0'))
    });
    Some((row, column))
}

/// The sheet's cells (step 5).
fn cells(
    archive: &mut Archive<'_>,
    index: usize,
    bounds: &Bounds,
    strings: &[Arc<str>],
    gather: &mut Gather<'_>,
) -> Result<(), ReadError> {
    let mut reader = xml(archive, index, bounds)?;
    let mut buf = Vec::new();
    let (mut row, mut column) = (0usize, 0usize);
    loop {
        buf.clear();
        let (element, has_content) = match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => (e.into_owned(), true),
            Ok(Event::Empty(e)) => (e.into_owned(), false),
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => continue,
            Err(err) => return Err(failed(&reader, &err)),
        };
        match element.local_name().as_ref() {
            "row" => {
                row = match attribute(&element, "r", false) {
                    Some(r) => r.parse().unwrap_or(usize::MAX),
                    None => row.saturating_add(1),
                };
                column = 0;
            }
            "c" => {
                (row, column) = match attribute(&element, "r", false) {
                    Some(r) => place(&r)
                        .ok_or_else(|| broken(&format!("\"{r}\" is not a cell reference")))?,
                    None => (row, column.saturating_add(1)),
                };
                if !has_content {
                    continue;
                }
                let kind = attribute(&element, "t", false);
                let value = cell_value(&mut reader, &mut buf, kind.as_deref(), bounds, strings)?;
                if let Some(cell) = value {
                    if let Cell::Text(t) = &cell
                        && !matches!(kind.as_deref(), Some("s"))
                    {
                        gather.spend(t.len())?;
                    }
                    gather.push(row, column, cell)?;
                }
            }
            _ => {}
        }
    }
}

/// The value of the `<c>` element just opened, up to its end; `None` when it has none.
fn cell_value(
    reader: &mut Xml<'_, '_>,
    buf: &mut Vec<u8>,
    kind: Option<&str>,
    bounds: &Bounds,
    strings: &[Arc<str>],
) -> Result<Option<Cell>, ReadError> {
    let keep = bounds.max_cell_chars + 1;
    let mut value = None;
    loop {
        buf.clear();
        match reader.read_event_into(buf) {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "v" => value = Some(text_until_end(reader, buf, false, keep)?),
                "is" => value = Some(text_until_end(reader, buf, true, keep)?),
                // A formula and anything else: skipped, with what it holds.
                _ => {
                    text_until_end(reader, buf, true, 0)?;
                }
            },
            Ok(Event::End(_)) => break,
            Ok(Event::Eof) => return Err(broken(&"the XML ends inside a cell")),
            Ok(_) => {}
            Err(err) => return Err(failed(reader, &err)),
        }
    }
    let Some(value) = value else {
        return Ok(None);
    };
    Ok(Some(match kind {
        Some("s") => {
            let string = value
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|i| strings.get(i))
                .ok_or_else(|| broken(&format!("no shared string {value}")))?;
            Cell::Text(Arc::clone(string))
        }
        Some("b") => Cell::Text(Arc::from(if value.trim() == "1" {
            "TRUE"
        } else {
            "FALSE"
        })),
        Some("inlineStr" | "str" | "e" | "d") => Cell::Text(Arc::from(value)),
        _ => match value.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Cell::Number(n),
            _ => Cell::Text(Arc::from(value)),
        },
    }))
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::place;

    #[test]
    fn references_are_read_and_far_ones_stay_far() {
        assert_eq!(place("A1"), Some((1, 1)));
        assert_eq!(place("xfd10010"), Some((10_010, 16_384)));
        assert_eq!(place("AB12"), Some((12, 28)));
        assert_eq!(place("1A"), None);
        assert_eq!(place("A"), None);
        let (row, column) = place(&format!("{}99999999999999999999999", "Z".repeat(40))).unwrap();
        assert_eq!((row, column), (usize::MAX, usize::MAX));
    }
}
