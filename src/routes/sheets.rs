//! Spreadsheet routes: `GET /export/coverage.xlsx`, `GET /export/coverage.csv`,
//! `GET /export/template.xlsx` (anonymous, public data) and `POST /import/coverage` (a token).
//! Their own body limit (`--import-max-bytes`) and timeout (`--sheets-timeout-secs`): a
//! workbook is larger, and slower to write, than a GraphQL request.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use serde::Deserialize;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::{AppState, RequestId};
use crate::auth::{self, Actor};
use crate::error::AppError;
use crate::service::writes::Writer;
use crate::sheets::Lang;
use crate::sheets::export::{self, Selection};
use crate::sheets::import::{self, Ended, Problem, Report, Upload};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The spreadsheet routes, with their own limits.
pub fn router(state: AppState) -> Router {
    let body_limit = state.import.max_bytes;
    let timeout = state.sheets_timeout;
    Router::new()
        .route("/export/coverage.xlsx", get(coverage_xlsx))
        .route("/export/coverage.csv", get(coverage_csv))
        .route("/export/template.xlsx", get(template_xlsx))
        .route("/import/coverage", post(import_coverage))
        .layer(RequestBodyLimitLayer::new(body_limit))
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
}

fn download(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn failure(err: &dyn std::fmt::Display) -> Response {
    tracing::error!(%err, "an export failed");
    problem_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "the file could not be made".into(),
        "文件生成失败".into(),
    )
}

fn problem_response(status: StatusCode, code: &'static str, en: String, zh: String) -> Response {
    let report = Report {
        errors: vec![Problem {
            row: None,
            column: None,
            code,
            message_zh: zh,
            message_en: en,
        }],
        ..Report::default()
    };
    (status, Json(report)).into_response()
}

fn app_error(err: AppError) -> Response {
    let (status, code) = match &err {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        AppError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
        _ => return failure(&err),
    };
    let message = err.to_string();
    problem_response(status, code, message.clone(), message)
}

async fn coverage_xlsx(State(state): State<AppState>, Query(p): Query<ExportParams>) -> Response {
    let selection = Selection {
        period: p.period,
        city: None,
    };
    let lang = Lang::from_param(p.lang.as_deref());
    let db = &state.db.conn;
    let rows = match export::rows(db, &selection).await {
        Ok(rows) => rows,
        Err(err) => return app_error(err),
    };
    let summaries = match export::summaries(db, &rows).await {
        Ok(s) => s,
        Err(err) => return app_error(err),
    };
    match export::xlsx(&rows, Some(&summaries), lang) {
        Ok(body) => download(
            body,
            XLSX,
            &export::file_name("coverage", &selection, "xlsx"),
        ),
        Err(err) => failure(&err),
    }
}

async fn coverage_csv(State(state): State<AppState>, Query(p): Query<ExportParams>) -> Response {
    let selection = Selection {
        period: p.period,
        city: None,
    };
    let rows = match export::rows(&state.db.conn, &selection).await {
        Ok(rows) => rows,
        Err(err) => return app_error(err),
    };
    match export::csv(&rows, Lang::from_param(p.lang.as_deref())) {
        Ok(body) => download(
            body,
            "text/csv; charset=utf-8",
            &export::file_name("coverage", &selection, "csv"),
        ),
        Err(err) => failure(&err),
    }
}

async fn template_xlsx(State(state): State<AppState>, Query(p): Query<ExportParams>) -> Response {
    let (Some(city), Some(period)) = (p.city, p.period) else {
        return problem_response(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "a template needs ?city=CODE&period=YEAR".into(),
            "模板需要参数 ?city=城市代码&period=年度".into(),
        );
    };
    let selection = Selection {
        period: Some(period),
        city: Some(city),
    };
    let rows = match export::rows(&state.db.conn, &selection).await {
        Ok(rows) => rows,
        Err(err) => return app_error(err),
    };
    match export::xlsx(&rows, None, Lang::from_param(p.lang.as_deref())) {
        Ok(body) => download(body, XLSX, &export::file_name("return", &selection, "xlsx")),
        Err(err) => failure(&err),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportParams {
    dry_run: Option<bool>,
    filename: Option<String>,
}

async fn import_coverage(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Query(p): Query<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let actor = match auth::actor(&state.db.conn, &headers).await {
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
    let name = p.filename.unwrap_or_else(|| "upload".into());
    let upload = Upload {
        bytes: &body,
        name: &name,
        dry_run: p.dry_run.unwrap_or(true),
    };
    let ended = import::import(
        &state.db.conn,
        &state.events,
        Some(request_id.0.as_str()),
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
                .iter()
                .any(|e| e.code == import::problem::TOO_LARGE)
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
