//! An import's file as it arrives: the body itself (`curl --data-binary`), or one `file` part of
//! a `multipart/form-data` body, as a browser's form (or `FormData`) sends it.
//!
//! The body is read whole, up to `--import-max-bytes`, before it is parsed: the bound counts
//! every byte sent, the parts' headers and boundaries included, so nothing a part declares about
//! itself can make the parser hold more. The form may hold one `file` part and, optionally, a
//! `dryRun` part (`true` or `false`); any other part, a second file or a part's headers over a
//! few kilobytes are refused with a clear message in both languages.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use bytes::Bytes;

use crate::sheets::report::{Problem, unreadable};

/// What the sender sent: the file's bytes, the name it gave the file, and the form's `dryRun`.
#[derive(Debug)]
pub struct Sent {
    /// The file.
    pub bytes: Bytes,
    /// The part's file name, when the form gave one.
    pub name: Option<String>,
    /// The form's `dryRun` part, when it had one.
    pub dry_run: Option<bool>,
}

/// The most bytes a form's non-file part (`dryRun`) may hold.
const FIELD_MAX: u64 = 16;

/// The boundary of a `multipart/form-data` body; `None` for any other body (the file itself).
pub fn boundary(headers: &HeaderMap) -> Option<Result<String, Problem>> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let is_form = value
        .split(';')
        .next()
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("multipart/form-data"));
    if !is_form {
        return None;
    }
    Some(multer::parse_boundary(value).map_err(|_| {
        unreadable(
            "a multipart/form-data body needs its boundary in Content-Type",
            "multipart/form-data 请求缺少 boundary，无法读取",
        )
    }))
}

/// The one `file` part (and `dryRun`) of a form `body` with `boundary`, read in memory.
pub async fn file_of_form(body: Bytes, boundary: String) -> Result<Sent, Problem> {
    let total = body.len() as u64;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let constraints = multer::Constraints::new()
        .allowed_fields(vec!["file", "dryRun"])
        .size_limit(
            multer::SizeLimit::new()
                .whole_stream(total)
                .for_field("dryRun", FIELD_MAX),
        );
    let mut form = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut file: Option<(Bytes, Option<String>)> = None;
    let mut dry_run = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(form_problem(&err)),
        };
        match field.name() {
            Some("file") if file.is_some() => {
                return Err(unreadable(
                    "the form holds more than one file: send one workbook or table at a time",
                    "表单中有多个文件：每次只能上传一个文件",
                ));
            }
            Some("file") => {
                let name = field.file_name().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|err| form_problem(&err))?;
                file = Some((bytes, name));
            }
            _ => {
                let text = field.text().await.map_err(|err| form_problem(&err))?;
                dry_run = Some(match text.trim() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(unreadable(
                            "the form's dryRun is `true` or `false`",
                            "表单中的 dryRun 只能是 true 或 false",
                        ));
                    }
                });
            }
        }
    }
    let Some((bytes, name)) = file else {
        return Err(unreadable(
            "the form holds no `file` part: send the workbook as the form's `file`",
            "表单中没有文件：请把文件放在名为 file 的字段中上传",
        ));
    };
    Ok(Sent {
        bytes,
        name,
        dry_run,
    })
}

/// A form that could not be read, in the report's words.
fn form_problem(err: &multer::Error) -> Problem {
    match err {
        multer::Error::UnknownField { field_name } => unreadable(
            format!(
                "the form may hold only `file` and `dryRun`, not `{}`",
                field_name.as_deref().unwrap_or("a part without a name")
            ),
            "表单只能包含 file 和 dryRun 两个字段",
        ),
        _ => unreadable(
            format!("the multipart/form-data body could not be read: {err}"),
            "上传的表单无法读取，请重新上传",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part: its name, its file name, its bytes.
    type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

    fn form(parts: &[Part]) -> Bytes {
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(b"--XyZ\r\n");
            let disposition = match file {
                Some(f) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        Bytes::from(body)
    }

    #[tokio::test]
    async fn the_file_part_its_name_and_dry_run_are_read() {
        let body = form(&[
            ("dryRun", None, b"false"),
            ("file", Some("a.csv"), b"x,y\n1,2\n"),
        ]);
        let sent = file_of_form(body, "XyZ".into())
            .await
            .map_err(|p| p.message_en);
        let sent = sent
            .as_ref()
            .map(|s| (&s.bytes[..], s.name.as_deref(), s.dry_run));
        assert_eq!(sent, Ok((&b"x,y\n1,2\n"[..], Some("a.csv"), Some(false))));
    }

    #[tokio::test]
    async fn a_second_file_an_unknown_part_or_no_file_is_refused() {
        let cases: [&[Part]; 4] = [
            &[("file", Some("a.csv"), b"a"), ("file", Some("b.csv"), b"b")],
            &[("file", Some("a.csv"), b"a"), ("other", None, b"b")],
            &[("dryRun", None, b"true")],
            &[("dryRun", None, b"maybe"), ("file", Some("a.csv"), b"a")],
        ];
        for parts in cases {
            let refused = file_of_form(form(parts), "XyZ".into()).await;
            let code = refused.err().map(|p| p.code);
            assert_eq!(code, Some(crate::code::Code::UnreadableFile), "{parts:?}");
        }
    }

    #[test]
    fn only_a_form_has_a_boundary() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, axum::http::HeaderValue::from_static(value));
            boundary(&headers).map(|b| b.map_err(|p| p.code))
        };
        assert_eq!(boundary(&HeaderMap::new()).map(|b| b.is_ok()), None);
        assert_eq!(with("text/csv"), None);
        assert_eq!(
            with("multipart/form-data"),
            Some(Err(crate::code::Code::UnreadableFile))
        );
        assert_eq!(
            with("multipart/form-data; boundary=XyZ"),
            Some(Ok("XyZ".to_owned()))
        );
    }
}
