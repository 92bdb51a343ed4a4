//! `GET /export/revisions.xlsx`: the console's change feed as a workbook, for administrators
//! (a token or a session): the newest [`MAX_ROWS`] revisions matching `?city=`, `?branchType=`,
//! `?period=` and `?actor=` (as the `revisions` query filters them), `?lang=en` for English
//! headers. Built within the export places, on a blocking thread; never kept or cached.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::auth;
use crate::domain::{Actor, BRANCH_TYPES, PageRequest, branch_type_name};
use crate::service::revisions::{self, ReturnReader, RevisionFilter};
use crate::sheets::{Lang, feed};

/// The most revisions one file holds (the newest first).
pub const MAX_ROWS: u64 = 10_000;

/// The route.
pub fn router(state: AppState) -> Router {
    let timeout = state.sheets_timeout;
    Router::new()
        .route("/export/revisions.xlsx", get(revisions_xlsx))
        // A workbook's own timeout, as the other spreadsheets have (`--sheets-timeout-secs`).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedParams {
    city: Option<String>,
    branch_type: Option<String>,
    period: Option<i32>,
    actor: Option<String>,
    lang: Option<String>,
}

fn refuse(status: StatusCode, code: crate::code::Code, message: &str) -> Response {
    let body = json!({ "errors": [{ "code": code.as_str(), "message_en": message }] });
    (status, axum::Json(body)).into_response()
}

async fn revisions_xlsx(
    State(state): State<AppState>,
    Query(p): Query<FeedParams>,
    headers: HeaderMap,
) -> Response {
    use crate::code::Code;
    match auth::actor(&state.db.conn, &headers).await {
        Ok(Actor::Token(t)) if t.role == entity::Role::Admin => {}
        Ok(Actor::Token(_)) => {
            return refuse(
                StatusCode::FORBIDDEN,
                Code::Forbidden,
                "the change feed is for province administrators",
            );
        }
        Ok(_) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                Code::Unauthenticated,
                "send an administrator's `Authorization: Bearer <token>`",
            );
        }
        Err(err) => {
            tracing::error!(%err, "reading the caller failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::InternalServerError,
                "the caller could not be read",
            );
        }
    }
    let branch_type = match p.branch_type.as_deref() {
        None | Some("") => None,
        Some(name) => match BRANCH_TYPES
            .into_iter()
            .find(|t| branch_type_name(*t) == name)
        {
            Some(t) => Some(t),
            None => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    Code::BadUserInput,
                    "branchType is ENTERPRISE, UNIVERSITY or TOWNSHIP",
                );
            }
        },
    };
    let Ok(permit) = Arc::clone(&state.sheets.exports).try_acquire_owned() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::Busy,
            "every place for exports is taken; try again shortly",
        );
    };
    let filter = RevisionFilter {
        city_code: p.city.filter(|c| !c.is_empty()),
        branch_type,
        period: p.period,
        actor: p.actor.filter(|a| !a.is_empty()),
        reader: ReturnReader::All,
    };
    let page = PageRequest {
        offset: 0,
        limit: MAX_ROWS,
    };
    let rows = match revisions::list(&state.db.conn, &filter, page).await {
        Ok(page) => page.items,
        Err(err) => {
            tracing::error!(%err, "reading the change feed failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::InternalServerError,
                "the change feed could not be read",
            );
        }
    };
    let lang = Lang::from_param(p.lang.as_deref());
    let built = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        feed::xlsx(&rows, lang)
    })
    .await;
    let Ok(Ok(body)) = built else {
        tracing::error!("the change feed's workbook could not be made");
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::InternalServerError,
            "the file could not be made",
        );
    };
    let mut response = body.into_response();
    let out = response.headers_mut();
    out.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    out.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"revisions.xlsx\""),
    );
    out.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}
