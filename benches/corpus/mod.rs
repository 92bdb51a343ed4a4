//! A hostile corpus of spreadsheets, generated: workbooks and texts that lie about their sizes
//! or are built to make a reader allocate, recurse or spin, and a few honest ones beside them.
//! Each case says what the import must answer under the default bounds (`ServeArgs::default()`:
//! 5 MiB, 10,000 rows, 32 columns, 2,000 characters a cell, 64 MiB inflated, 64 entries).
//!
//! Shared by the API tests (`tests/api/hostile_sheets.rs`: every case answered as it says, the
//! server answering throughout) and the bench (`benches/sheets.rs`: the memory and time each
//! costs a release server).

// Test and bench code: a corpus that cannot be built should stop with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{Cursor, Write};

/// What the import must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Read, and the dry run shows `changes` changes and no error (200).
    Read { changes: usize },
    /// Refused with this status and the first error's code.
    Refused { status: u16, code: &'static str },
}

/// One file of the corpus.
pub struct Case {
    /// What it is.
    pub name: &'static str,
    /// The file.
    pub bytes: Vec<u8>,
    /// What the import must answer.
    pub expect: Expect,
}

const UNREADABLE: Expect = Expect::Refused {
    status: 400,
    code: "UNREADABLE_FILE",
};
const TOO_LARGE: Expect = Expect::Refused {
    status: 413,
    code: "TOO_LARGE",
};

/// A zip of `entries`, deflated.
pub fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(entries.iter().any(|(_, b)| b.len() > u32::MAX as usize / 2));
    for (name, bytes) in entries {
        out.start_file(*name, options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

/// A workbook of `sheets` sheets (the first is `sheet`) and these shared strings, as a
/// spreadsheet program lays it out.
pub fn workbook(sheet: &str, shared_strings: Option<&str>, sheets: usize) -> Vec<u8> {
    let mut book = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
    );
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for i in 1..=sheets {
        book.push_str(&format!(
            r#"<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>"#
        ));
        rels.push_str(&format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#));
    }
    book.push_str("</sheets></workbook>");
    rels.push_str(r#"<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#);
    let mut entries: Vec<(String, Vec<u8>)> = vec![
        ("[Content_Types].xml".into(), CONTENT_TYPES.into()),
        ("_rels/.rels".into(), ROOT_RELS.into()),
        ("xl/workbook.xml".into(), book.into_bytes()),
        ("xl/_rels/workbook.xml.rels".into(), rels.into_bytes()),
        ("xl/worksheets/sheet1.xml".into(), sheet.as_bytes().to_vec()),
    ];
    for i in 2..=sheets {
        entries.push((format!("xl/worksheets/sheet{i}.xml"), sheet_xml("", "")));
    }
    if let Some(strings) = shared_strings {
        entries.push(("xl/sharedStrings.xml".into(), strings.as_bytes().to_vec()));
    }
    let named: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    zip_of(&named)
}

/// A worksheet part: `before` goes ahead of the data (a `dimension`, say), `rows` inside it.
pub fn sheet_xml(before: &str, rows: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{before}<sheetData>{rows}</sheetData></worksheet>"#
    )
    .into_bytes()
}

/// Shared strings: the header's words, then `extra`; `count` is what the part declares.
pub fn shared_strings(count: &str, extra: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{count}" uniqueCount="{count}"><si><t>城市代码</t></si><si><t>组织类型</t></si><si><t>年度</t></si><si><t>组织数</t></si><si><t>来源</t></si><si><t>企业科协</t></si><si><t>测试来源</t></si>{extra}</sst>"#
    )
}

/// The header (shared strings 0–4) and one valid data row for Jiaozuo, 2024: five enterprise
/// branches from source string 6.
pub const HEADER_AND_ROW: &str = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c></row><row r="2"><c r="A2"><v>410800</v></c><c r="B2" t="s"><v>5</v></c><c r="C2"><v>2024</v></c><c r="D2"><v>5</v></c><c r="E2" t="s"><v>6</v></c></row>"#;

/// A workbook with the header, the valid row, and `more` inside the sheet data after them.
fn honest_with(more: &str) -> Vec<u8> {
    workbook(
        &String::from_utf8(sheet_xml("", &format!("{HEADER_AND_ROW}{more}"))).unwrap(),
        Some(&shared_strings("7", "")),
        1,
    )
}

/// The CSV header and the valid row.
pub const CSV: &str = "城市代码,组织类型,年度,组织数,来源\r\n410800,企业科协,2024,5,测试来源\r\n";

/// A workbook of `rows` valid data rows (Jiaozuo's enterprise figures for years 1900 on), as
/// big as an honest file gets: the largest import the bounds allow.
pub fn largest_honest(rows: usize) -> Vec<u8> {
    let mut data = String::from(HEADER_AND_ROW.split("<row r=\"2\">").next().unwrap());
    for i in 0..rows {
        let r = i + 2;
        data.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}"><v>410800</v></c><c r="B{r}" t="s"><v>5</v></c><c r="C{r}"><v>{}</v></c><c r="D{r}"><v>{}</v></c><c r="E{r}" t="inlineStr"><is><t>来源第 {r} 行：河南省科协 2024 年度年报，附表一（企业科协）</t></is></c></row>"#,
            1900 + i % 8000,
            i % 1000
        ));
    }
    workbook(
        &String::from_utf8(sheet_xml("", &data)).unwrap(),
        Some(&shared_strings("7", "")),
        1,
    )
}

/// Every case.
pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            name: "an honest workbook",
            bytes: honest_with(""),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "shared strings that declare a count of 10^15",
            bytes: workbook(
                &String::from_utf8(sheet_xml("", HEADER_AND_ROW)).unwrap(),
                Some(&shared_strings("1000000000000000", "")),
                1,
            ),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "a dimension of A1:XFD1048576",
            bytes: workbook(
                &String::from_utf8(sheet_xml(
                    r#"<dimension ref="A1:XFD1048576"/>"#,
                    HEADER_AND_ROW,
                ))
                .unwrap(),
                Some(&shared_strings("7", "")),
                1,
            ),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "a cell at XFD10010",
            bytes: honest_with(r#"<row r="10010"><c r="XFD10010"><v>1</v></c></row>"#),
            expect: TOO_LARGE,
        },
        Case {
            name: "a cell at BXX10010",
            bytes: honest_with(r#"<row r="10010"><c r="BXX10010"><v>1</v></c></row>"#),
            expect: TOO_LARGE,
        },
        Case {
            name: "a cell at A1048576",
            bytes: honest_with(r#"<row r="1048576"><c r="A1048576"><v>1</v></c></row>"#),
            expect: TOO_LARGE,
        },
        Case {
            name: "a reference past any sheet (ZZZZZZZZ99999999999999999999)",
            bytes: honest_with(r#"<row><c r="ZZZZZZZZ99999999999999999999"><v>1</v></c></row>"#),
            expect: TOO_LARGE,
        },
        Case {
            name: "cells without references, 40 in a row",
            bytes: honest_with(&format!("<row>{}</row>", "<c><v>1</v></c>".repeat(40))),
            expect: TOO_LARGE,
        },
        Case {
            name: "empty styled cells far out (as formatting leaves them)",
            bytes: honest_with(
                r#"<row r="5000"><c r="XFD5000" s="1"/></row><row r="1048576" s="1"/>"#,
            ),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "a zip bomb: 80 MB of zeros in the sheet",
            bytes: zip_of(&[("xl/worksheets/sheet1.xml", vec![b'0'; 80 * 1024 * 1024])]),
            expect: TOO_LARGE,
        },
        Case {
            name: "too many entries",
            bytes: zip_of(
                &(0..65)
                    .map(|i| (["e", &i.to_string()].concat().leak() as &str, vec![1u8]))
                    .collect::<Vec<_>>(),
            ),
            expect: TOO_LARGE,
        },
        Case {
            name: "many sheets within the entry bound, the first honest",
            bytes: workbook(
                &String::from_utf8(sheet_xml("", HEADER_AND_ROW)).unwrap(),
                Some(&shared_strings("7", "")),
                50,
            ),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "a shared string of 3 MB in one element",
            bytes: workbook(
                &String::from_utf8(sheet_xml("", HEADER_AND_ROW)).unwrap(),
                Some(&shared_strings(
                    "8",
                    &format!("<si><t>{}</t></si>", "长".repeat(1 << 20)),
                )),
                1,
            ),
            expect: TOO_LARGE,
        },
        Case {
            name: "a tag of 3 MB (an attribute value full of '>')",
            bytes: honest_with(&format!(r#"<row r="3" x="{}"/>"#, ">".repeat(3 << 20))),
            expect: TOO_LARGE,
        },
        Case {
            name: "400,000 shared strings",
            bytes: workbook(
                &String::from_utf8(sheet_xml("", HEADER_AND_ROW)).unwrap(),
                Some(&shared_strings(
                    "400007",
                    &"<si><t>x</t></si>".repeat(400_000),
                )),
                1,
            ),
            expect: TOO_LARGE,
        },
        Case {
            name: "a cell naming a shared string that is not there",
            bytes: honest_with(r#"<row r="3"><c r="A3" t="s"><v>99999999999</v></c></row>"#),
            expect: UNREADABLE,
        },
        Case {
            name: "a billion laughs in the shared strings",
            bytes: workbook(
                &String::from_utf8(sheet_xml("", HEADER_AND_ROW)).unwrap(),
                Some(&format!(
                    "<?xml version=\"1.0\"?><!DOCTYPE sst [<!ENTITY a \"aaaaaaaaaa\">{}]>{}",
                    (b'b'..=b'j')
                        .map(|c| {
                            let prev = (c - 1) as char;
                            format!(
                                "<!ENTITY {} \"{}\">",
                                c as char,
                                format!("&{prev};").repeat(10)
                            )
                        })
                        .collect::<String>(),
                    shared_strings("7", "<si><t>&j;</t></si>").trim_start_matches(
                        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
                    )
                )),
                1,
            ),
            expect: UNREADABLE,
        },
        Case {
            name: "an external entity in the sheet",
            bytes: workbook(
                &format!(
                    "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
                    String::from_utf8(sheet_xml("", HEADER_AND_ROW))
                        .unwrap()
                        .trim_start_matches(
                            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
                        )
                ),
                Some(&shared_strings("7", "")),
                1,
            ),
            expect: UNREADABLE,
        },
        Case {
            name: "an undeclared entity in a cell",
            bytes: honest_with(
                r#"<row r="3"><c r="A3" t="inlineStr"><is><t>&e;</t></is></c></row>"#,
            ),
            expect: UNREADABLE,
        },
        Case {
            name: "a comment in the sheet",
            bytes: honest_with("<!-- a comment -->"),
            expect: UNREADABLE,
        },
        Case {
            name: "XML nested 500,000 deep",
            bytes: honest_with(&format!(
                "{}{}",
                "<x>".repeat(500_000),
                "</x>".repeat(500_000)
            )),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "XML nested 500,000 deep, never closed",
            bytes: honest_with(&"<x>".repeat(500_000)),
            expect: UNREADABLE,
        },
        Case {
            name: "a zip that is not a workbook",
            bytes: zip_of(&[("hello.txt", b"hello".to_vec())]),
            expect: UNREADABLE,
        },
        Case {
            name: "CSV: 2 MiB of commas",
            bytes: vec![b','; 2 << 20],
            expect: UNREADABLE,
        },
        Case {
            name: "CSV: a million short lines",
            bytes: format!("{CSV}{}", "1\n".repeat(1_000_000)).into_bytes(),
            expect: TOO_LARGE,
        },
        Case {
            // Empty lines cost nothing and are skipped, as spreadsheet programs do.
            name: "CSV: a million empty lines, then a row",
            bytes: format!(
                "{CSV}{}410800,企业科协,2025,5,测试来源\n",
                "\n".repeat(1_000_000)
            )
            .into_bytes(),
            expect: Expect::Read { changes: 2 },
        },
        Case {
            name: "CSV: 40 columns",
            bytes: format!("{}\n", ["1"; 40].join(",")).into_bytes(),
            expect: TOO_LARGE,
        },
        Case {
            name: "CSV: a quoted field of 3 MB never closed",
            bytes: format!("{CSV}410800,\"{}", "x".repeat(3 << 20)).into_bytes(),
            expect: TOO_LARGE,
        },
        Case {
            name: "CSV: UTF-8 with a byte-order mark",
            bytes: [b"\xEF\xBB\xBF".as_slice(), CSV.as_bytes()].concat(),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "CSV: UTF-16LE with a byte-order mark",
            bytes: [
                vec![0xFF, 0xFE],
                CSV.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            ]
            .concat(),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "CSV: UTF-16BE with a byte-order mark",
            bytes: [
                vec![0xFE, 0xFF],
                CSV.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            ]
            .concat(),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "CSV: UTF-16LE without a byte-order mark",
            bytes: CSV.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            expect: UNREADABLE,
        },
        Case {
            name: "CSV: GB18030",
            bytes: encoding_rs::GB18030.encode(CSV).0.into_owned(),
            expect: Expect::Read { changes: 1 },
        },
        Case {
            name: "CSV: a UTF-8 header over a GBK row",
            bytes: [
                "城市代码,组织类型,年度,组织数,来源\r\n".as_bytes(),
                &encoding_rs::GBK
                    .encode("410800,企业科协,2024,5,测试来源\r\n")
                    .0,
            ]
            .concat(),
            expect: UNREADABLE,
        },
    ];
    // A workbook whose entry declares it inflates to 1 byte and whose sheet inflates to 80 MB.
    let mut lying = zip_of(&[("xl/worksheets/sheet1.xml", vec![b'0'; 80 * 1024 * 1024])]);
    lie_about_sizes(&mut lying);
    // A workbook whose end-of-directory record declares 65,535 entries.
    let mut many = honest_with("");
    if let Some(at) = many.windows(4).rposition(|w| w == b"PK\x05\x06") {
        many[at + 8..at + 12].copy_from_slice(&[0xFF; 4]);
    }
    cases.push(Case {
        name: "a zip directory that declares 65,535 entries",
        bytes: many,
        expect: UNREADABLE,
    });
    cases.push(Case {
        name: "a zip bomb whose directory declares 1 byte",
        bytes: lying,
        // zip notices the lie while inflating.
        expect: UNREADABLE,
    });
    cases
}

/// Rewrites every uncompressed size the archive declares (local headers and the central
/// directory) to 1.
fn lie_about_sizes(zip: &mut [u8]) {
    let mut i = 0;
    while i + 30 <= zip.len() {
        match &zip[i..i + 4] {
            b"PK\x03\x04" => {
                zip[i + 22..i + 26].copy_from_slice(&1u32.to_le_bytes());
                i += 30;
            }
            b"PK\x01\x02" => {
                zip[i + 24..i + 28].copy_from_slice(&1u32.to_le_bytes());
                i += 46;
            }
            _ => i += 1,
        }
    }
}
