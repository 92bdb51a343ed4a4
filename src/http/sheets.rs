//! Spreadsheet routes: `GET /export/coverage.xlsx`, `GET /export/coverage.csv`,
//! `GET /export/template.xlsx` (anonymous, public data; with a token of the city, its draft) and `POST /import/coverage` (a token; the
//! file as the body, or as a browser's `multipart/form-data` form: [`super::upload`]).
//!
//! - **Who before what**: an import's token is checked from its headers before a byte of the
//!   body is read; a declared length over `--import-max-bytes` is refused at once, and the
//!   body is read only up to that bound (413 in the import's report format either way).
//! - **One or two at a time**: reading an upload and building a file run on blocking threads,
//!   at most `--import-concurrency` imports and `--export-concurrency` exports per instance;
//!   more are answered 503 with `Retry-After` (the report's messages in both languages).
//! - **Exports kept ready** until the next commit ([`crate::sheets::ready`]), with an `ETag`
//!   and 304 for `If-None-Match`.
//! - Their own timeout (`--sheets-timeout-secs`): a workbook is slower than a GraphQL request.

use crate::code::Code;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, RETRY_AFTER, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;

use super::AppState;
use super::middleware::discard;
use super::upload::{self, Sent};
use crate::auth;
use crate::domain::Actor;
use crate::error::AppError;
use crate::service::import::{self, Ended, Upload};
use crate::service::writes::{Writer, may_write_city};
use crate::sheets::Lang;
use crate::sheets::export::{self, Selection};
use crate::sheets::ready::{ExportKey, ExportKind, Finished, ReadyExports};
use crate::sheets::report::{Problem, Report};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Seconds a client is asked to wait when every place is taken.
const RETRY_AFTER_SECS: &str = "5";

/// What the spreadsheet routes share (cheap to clone).
#[derive(Clone, Debug)]
pub struct Sheets {
    /// Places for imports being read and written.
    pub imports: Arc<Semaphore>,
    /// Places for exports being built.
    pub exports: Arc<Semaphore>,
    /// Finished exports, until the next commit.
    pub ready: ReadyExports,
}

impl Sheets {
    /// `imports` and `exports` places; finished exports kept up to `ready_bytes`.
    pub fn new(imports: usize, exports: usize, ready_bytes: u64) -> Self {
        Self {
            imports: Arc::new(Semaphore::new(imports)),
            exports: Arc::new(Semaphore::new(exports)),
            ready: ReadyExports::new(ready_bytes),
        }
    }
}

/// The spreadsheet routes, with their own timeout. No body limit layer: the import reads its
/// body itself, after the token, up to `--import-max-bytes`.
pub fn router(state: AppState) -> Router {
    let timeout = state.sheets_timeout;
    Router::new()
        .route("/export/coverage.xlsx", get(coverage_xlsx))
        .route("/export/coverage.csv", get(coverage_csv))
        .route("/export/template.xlsx", get(template_xlsx))
        .route("/import/coverage", post(import_coverage))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct ExportParams {
    period: Option<i32>,
    lang: Option<String>,
    city: Option<String>,
    publication: Option<i32>,
}

fn failure(err: &dyn std::fmt::Display) -> Response {
    tracing::error!(%err, "an export failed");
    problem_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        Code::Internal,
        "the file could not be made".into(),
        "文件生成失败".into(),
    )
}

fn problem_response(status: StatusCode, code: Code, en: String, zh: String) -> Response {
    let problem = Problem {
        row: None,
        column: None,
        code,
        message_zh: zh,
        message_en: en,
    };
    report_response(status, problem)
}

/// `problem` alone, in the report's format.
fn report_response(status: StatusCode, problem: Problem) -> Response {
    let report = Report {
        errors: vec![problem],
        ..Report::default()
    };
    (status, Json(report)).into_response()
}

/// A refusal of the caller or of what it names, in the report's format and both languages.
fn app_error(err: AppError) -> Response {
    let (status, code, zh) = match &err {
        AppError::NotFound(_) => (
            StatusCode::NOT_FOUND,
            Code::NotFound,
            "找不到所指的城市、年度或记录",
        ),
        AppError::Unauthenticated(_) => (
            StatusCode::UNAUTHORIZED,
            Code::Unauthenticated,
            "请先登录：令牌或登录状态缺失、无效、已过期或已撤销",
        ),
        AppError::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            Code::Forbidden,
            "本账号无权进行此操作（市级账号只能处理本市数据）",
        ),
        _ => return failure(&err),
    };
    problem_response(status, code, err.to_string(), zh.to_owned())
}

fn busy(what_en: &str, what_zh: &str) -> Response {
    let mut response = problem_response(
        StatusCode::SERVICE_UNAVAILABLE,
        Code::Busy,
        format!("every place for {what_en} on this server is taken; try again in a few seconds"),
        format!("服务器正在处理其他{what_zh}，请稍后几秒再试"),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    response
}

async fn coverage_xlsx(
    State(state): State<AppState>,
    Query(p): Query<ExportParams>,
    headers: HeaderMap,
) -> Response {
    whole_sheet(state, ExportKind::Xlsx, p, &headers).await
}

async fn coverage_csv(
    State(state): State<AppState>,
    Query(p): Query<ExportParams>,
    headers: HeaderMap,
) -> Response {
    whole_sheet(state, ExportKind::Csv, p, &headers).await
}

/// Every city's rows (of `?period`, or every period) as `kind`.
async fn whole_sheet(
    state: AppState,
    kind: ExportKind,
    p: ExportParams,
    headers: &HeaderMap,
) -> Response {
    if p.publication.is_some() && p.period.is_none() {
        return problem_response(
            StatusCode::BAD_REQUEST,
            Code::BadUserInput,
            "?publication=N reads one period as published: add ?period=YEAR".into(),
            "按发布号导出需要指定年度：请加上 ?period=年度".into(),
        );
    }
    let key = ExportKey {
        kind,
        period: p.period,
        city: None,
        publication: p.publication,
        lang: Lang::from_param(p.lang.as_deref()),
    };
    ready_export(state, key, headers).await
}

async fn template_xlsx(
    State(state): State<AppState>,
    Query(p): Query<ExportParams>,
    headers: HeaderMap,
) -> Response {
    let (Some(city), Some(period)) = (p.city, p.period) else {
        return problem_response(
            StatusCode::BAD_REQUEST,
            Code::BadUserInput,
            "a template needs ?city=CODE&period=YEAR".into(),
            "模板需要参数 ?city=城市代码&period=年度".into(),
        );
    };
    let lang = Lang::from_param(p.lang.as_deref());
    // With a token of the city (or the province's), the return as it stands: the draft and its
    // versions, which the import checks. Built for each ask, never kept or cached.
    if headers.contains_key(AUTHORIZATION) {
        let actor = match auth::actor(&state.db.conn, &headers).await {
            Ok(actor) => actor,
            Err(err) => return app_error(err),
        };
        let Actor::Token(token) = &actor else {
            return app_error(AppError::Unauthenticated(
                "a city's draft template needs a token: send `Authorization: Bearer <token>`"
                    .into(),
            ));
        };
        if let Err(err) = may_write_city(&Writer::from(token), &city) {
            return app_error(err);
        }
        let selection = Selection {
            period: Some(period),
            city: Some(city),
            publication: None,
            draft: true,
        };
        return match build(&state, ExportKind::Template, &selection, lang).await {
            Ok(finished) => download(&finished, ExportKind::Template, &selection, &headers),
            Err(response) => response,
        };
    }
    let key = ExportKey {
        kind: ExportKind::Template,
        period: Some(period),
        city: Some(city),
        publication: None,
        lang,
    };
    ready_export(state, key, &headers).await
}

/// The export `key`: kept ready, or built (see the module's notes).
async fn ready_export(state: AppState, key: ExportKey, headers: &HeaderMap) -> Response {
    // Read before the rows are: a commit from now on makes what is built here unfindable.
    let generation = state.events.generation();
    let keep = state.events.is_listening();
    let built = state
        .sheets
        .ready
        .get_or_build(
            key.clone(),
            generation,
            keep,
            build(&state, key.kind, &selection_of(&key), key.lang),
        )
        .await;
    match built {
        Ok(finished) => download(&finished, key.kind, &selection_of(&key), headers),
        Err(response) => response,
    }
}

/// Builds the export of `selection` as `kind` on a blocking thread, within the export places.
async fn build(
    state: &AppState,
    kind: ExportKind,
    selection: &Selection,
    lang: Lang,
) -> Result<Finished, Response> {
    let Ok(permit) = Arc::clone(&state.sheets.exports).try_acquire_owned() else {
        return Err(busy("exports", "导出"));
    };
    let db = &state.db.conn;
    let rows = crate::service::export::rows(db, selection)
        .await
        .map_err(app_error)?;
    // A file as published holds the figures of then only (today's summary would not agree).
    let summaries = match kind {
        ExportKind::Xlsx if selection.publication.is_none() => Some(
            crate::service::export::summaries(db, &rows)
                .await
                .map_err(app_error)?,
        ),
        ExportKind::Xlsx | ExportKind::Csv | ExportKind::Template => None,
    };
    let body = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match kind {
            ExportKind::Csv => export::csv(&rows, lang).map_err(|err| err.to_string()),
            ExportKind::Xlsx | ExportKind::Template => {
                export::xlsx(&rows, summaries.as_deref(), lang).map_err(|err| err.to_string())
            }
        }
    })
    .await
    .map_err(|err| failure(&err))?
    .map_err(|err| failure(&err))?;
    Ok(Finished::new(body))
}

fn selection_of(key: &ExportKey) -> Selection {
    Selection {
        period: key.period,
        city: key.city.clone(),
        publication: key.publication,
        draft: false,
    }
}

/// A finished export as a download, or 304 when the client holds it already.
fn download(
    finished: &Finished,
    kind: ExportKind,
    selection: &Selection,
    headers: &HeaderMap,
) -> Response {
    let (content_type, stem, extension) = match kind {
        ExportKind::Xlsx => (XLSX, "coverage", "xlsx"),
        ExportKind::Csv => ("text/csv; charset=utf-8", "coverage", "csv"),
        ExportKind::Template => (XLSX, "return", "xlsx"),
    };
    let etag = HeaderValue::from_str(&finished.etag).ok();
    let fresh = etag
        .as_ref()
        .is_some_and(|etag| super::answer::if_none_match(headers, etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(finished.body.clone()));
        let out = response.headers_mut();
        out.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        let name = export::file_name(stem, selection, extension);
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            out.insert(CONTENT_DISPOSITION, value);
        }
        response
    };
    let out = response.headers_mut();
    if let Some(etag) = etag {
        out.insert(ETAG, etag);
    }
    // Kept by browsers, asked again each time: a commit changes the file. A draft is the
    // city's own: kept by no shared cache.
    let caching = if selection.draft {
        "private, no-cache"
    } else {
        "no-cache"
    };
    out.insert(CACHE_CONTROL, HeaderValue::from_static(caching));
    if kind == ExportKind::Template {
        // The same address answers the draft to its city and the published figures to others.
        out.insert(VARY, HeaderValue::from_static("authorization"));
    }
    response
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportParams {
    dry_run: Option<bool>,
    filename: Option<String>,
}

async fn import_coverage(
    State(state): State<AppState>,
    Extension(request_id): Extension<tower_http::request_id::RequestId>,
    Query(p): Query<ImportParams>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // Who, from the headers alone: nothing of the body is read for a stranger.
    let actor = match auth::actor(&state.db.conn, &parts.headers).await {
        Ok(actor) => actor,
        Err(err) => return app_error(err),
    };
    let token = match &actor {
        Actor::Token(token) => token,
        _ => {
            return app_error(AppError::Unauthenticated(
                "importing needs a token: send `Authorization: Bearer <token>`".into(),
            ));
        }
    };
    let max = state.import.max_bytes;
    if let Some(declared) = super::middleware::lingers(&parts.headers, max as u64) {
        discard(body, declared).await;
        return too_large(max);
    }
    if super::middleware::declared_length(&parts.headers).is_some_and(|n| n > max as u64) {
        return too_large(max);
    }
    let Ok(_permit) = Arc::clone(&state.sheets.imports).try_acquire_owned() else {
        // The sender is known and within the byte bound: its body is read into nothing (for a
        // few seconds at most), so that its client reads the 503 rather than a broken pipe.
        discard(body, max as u64).await;
        return busy("imports", "导入");
    };
    let body = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => return too_large(max),
        Err(err) => {
            return problem_response(
                StatusCode::BAD_REQUEST,
                Code::UnreadableFile,
                format!("the file did not arrive whole: {err}"),
                "文件未完整上传，请重新上传".into(),
            );
        }
    };
    // The file itself, or a browser's form holding it (read whole within the bound above).
    let sent = match upload::boundary(&parts.headers) {
        None => Sent {
            bytes: body,
            name: None,
            dry_run: None,
        },
        Some(Ok(boundary)) => match upload::file_of_form(body, boundary).await {
            Ok(sent) => sent,
            Err(problem) => return report_response(StatusCode::BAD_REQUEST, problem),
        },
        Some(Err(problem)) => return report_response(StatusCode::BAD_REQUEST, problem),
    };
    // The query string's words win over the form's: a link says what it does.
    let name = p.filename.or(sent.name).unwrap_or_else(|| "upload".into());
    let upload = Upload {
        bytes: sent.bytes,
        name: &name,
        dry_run: p.dry_run.or(sent.dry_run).unwrap_or(true),
    };
    let ended = import::import(
        &state.db.conn,
        &state.events,
        request_id.header_value().to_str().ok(),
        Writer::from(token),
        upload,
        state.import,
    )
    .await;
    match ended {
        Ok(Ended::Read(report)) if report.errors.is_empty() => {
            (StatusCode::OK, Json(report)).into_response()
        }
        Ok(Ended::Read(report)) => (StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response(),
        Ok(Ended::Unreadable(report)) => {
            let status = if report
                .errors
                .first()
                .is_some_and(|e| e.code == Code::TooLarge)
            {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            (status, Json(report)).into_response()
        }
        Ok(Ended::Forbidden(report)) => (StatusCode::FORBIDDEN, Json(report)).into_response(),
        Err(err) => app_error(err),
    }
}

/// 413 in the import's report format.
fn too_large(max: usize) -> Response {
    problem_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::TooLarge,
        format!("the file is larger than {max} bytes, the most accepted"),
        format!("文件超过上限 {max} 字节"),
    )
}
