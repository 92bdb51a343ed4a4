//! GraphQL over HTTP at `/graphql`: POST (one operation or a batch) and GET (a read in the
//! query string, or GraphiQL), answered as the specification says: the media type from
//! `Accept` (see [`super::negotiation`]), and with `application/graphql-response+json` a request
//! that never executed is a 4xx without `data`.

use std::collections::BTreeMap;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse};
use async_graphql_axum::GraphQLBatchRequest;
use axum::Extension;
use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::answer::{cache_control, json_error, not_acceptable};
use super::negotiation::may_run;
use super::negotiation::{Media, negotiate};
use super::{AppState, cache, middleware};
use crate::auth;
use crate::code::Code;
use crate::connections::ClientAddress;
use crate::domain::Actor;
use crate::graphql::Transport;
use crate::graphql::account::ClientIp;
use crate::graphql::write::RequestId;

pub(super) async fn post(
    State(state): State<AppState>,
    Extension(request_id): Extension<tower_http::request_id::RequestId>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let Ok(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if !may_run(&headers) {
        return json_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "POST /graphql takes a JSON body (content-type: application/json)",
        );
    }
    let batch = match <GraphQLBatchRequest as FromRequest<()>>::from_request(request, &()).await {
        Ok(batch) => batch.into_inner(),
        Err(rejection) => {
            let response = rejection.into_response();
            if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                return response;
            }
            return json_error(
                media,
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                "the body is not a GraphQL request: send {\"query\": …} or an array of them",
            );
        }
    };
    let (requests, batch) = match batch {
        BatchRequest::Single(request) => (vec![request], false),
        BatchRequest::Batch(requests)
            if requests.is_empty() || requests.len() > state.max_batch =>
        {
            return json_error(
                media,
                StatusCode::BAD_REQUEST,
                Code::BatchTooLarge,
                &format!(
                    "a batch holds 1 to {} operations, this one {}",
                    state.max_batch,
                    requests.len()
                ),
            );
        }
        BatchRequest::Batch(requests) => (requests, true),
    };
    let call = Call {
        request_id: middleware::request_id(&request_id),
        client: client.map(|Extension(ClientAddress(ip))| ClientIp(ip)),
        transport: Transport::Post,
        media,
        batch,
    };
    run(&state, &headers, call, requests).await
}

/// GET /graphql: an operation in the query string (`query`, `operationName`, `variables`,
/// `extensions`, as JSON strings), which may be cached; otherwise GraphiQL, opened with the
/// dashboard query in the editor (hand-written: async-graphql's page takes no default query).
pub(super) async fn get(
    State(state): State<AppState>,
    Extension(request_id): Extension<tower_http::request_id::RequestId>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return super::pages::graphiql(headers).await;
    };
    let Ok(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    if query.len() > state.body_limit {
        return json_error(
            media,
            StatusCode::URI_TOO_LONG,
            Code::PayloadTooLarge,
            "the query string is longer than the server accepts",
        );
    }
    match super::get::request(&query) {
        Ok(request) => {
            let call = Call {
                request_id: middleware::request_id(&request_id),
                client: client.map(|Extension(ClientAddress(ip))| ClientIp(ip)),
                transport: Transport::Get,
                media,
                batch: false,
            };
            run(&state, &headers, call, vec![request]).await
        }
        Err(err) => json_error(
            media,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            &format!("the query string is not a GraphQL request: {err}"),
        ),
    }
}

/// How one HTTP request asks for its operations to be run and answered.
struct Call {
    request_id: RequestId,
    /// The client's address, when the connection layer knows it (sign-in waits).
    client: Option<ClientIp>,
    transport: Transport,
    /// The negotiated media type of the answer.
    media: Media,
    /// Whether the operations came as a JSON array (answered as one).
    batch: bool,
}

/// Runs `requests` one after another for the request's actor and answers them in the
/// negotiated media type, as an array when a batch. Successful anonymous reads may be cached
/// for `--cache-max-age` seconds; everything else is `no-store`. A mutation by GET answers 405.
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    call: Call,
    requests: Vec<async_graphql::Request>,
) -> Response {
    // Without a query (or a persisted query's hash) there is nothing to parse: the request is
    // malformed, which the specification answers 400 in either media type ("invalid
    // parameters"), rather than a parse error about an empty document. A blank query counts as
    // none: async-graphql reads an absent one as "".
    let missing = requests
        .iter()
        .position(|r| r.query.trim().is_empty() && !r.extensions.contains_key("persistedQuery"));
    if let Some(at) = missing {
        let message = if call.batch {
            format!("operation {} of the batch has no query", at + 1)
        } else {
            "the request has no query: send {\"query\": …}".to_owned()
        };
        return json_error(
            call.media,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            &message,
        );
    }
    middleware::record_operations(requests.iter().filter_map(|r| r.operation_name.as_deref()));
    // The response cache (see `crate::cache`): a single anonymous operation, while change
    // events are heard. The generation is read before anything executes: an answer is stored
    // only if no commit came in between.
    let cached = cache::key(state, headers, call.batch, call.media, &requests);
    if let Some((key, _)) = &cached
        && let Some(entry) = state.response_cache.get(key)
    {
        return cache::respond(
            &state.response_cache,
            key,
            &entry,
            headers,
            call.media.content_type(),
            cache_control(state.cache_max_age, true),
        );
    }
    let actor = match auth::actor(&state.db.conn, headers).await {
        Ok(actor) => actor,
        Err(err) => {
            // The request as a whole failed: an error without a location in the document.
            let error = crate::graphql::error::to_graphql(&err);
            let mut server_error = async_graphql::ServerError::new(error.message, None);
            server_error.extensions = error.extensions;
            let response = async_graphql::Response::from_errors(vec![server_error]);
            let status = match err {
                crate::AppError::Database(_) | crate::AppError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::BAD_REQUEST,
            };
            let mut response =
                graphql_response(call.media, BatchResponse::Single(response), status);
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert(VARY, VARY_VALUE);
            return response;
        }
    };
    middleware::record_caller(&actor);
    let mut cacheable = actor == Actor::Anonymous;
    let mut not_allowed = false;
    let mut responses = Vec::with_capacity(requests.len());
    for request in requests {
        let mut request = request.data(call.request_id.clone());
        if let Some(client) = call.client {
            request = request.data(client);
        }
        let executed = state
            .api
            .execute(actor.clone(), call.transport, request)
            .await;
        cacheable &=
            executed.response.errors.is_empty() && executed.kind == Some(OperationType::Query);
        not_allowed |= executed.refused == Some(Code::MethodNotAllowed);
        responses.push(executed.response);
    }
    if cacheable
        && let Some((key, generation)) = cached
        && let [response] = responses.as_slice()
        && response.http_headers.is_empty()
    {
        match serde_json::to_vec(response) {
            Ok(body) => {
                let entry = state
                    .response_cache
                    .store(key.clone(), generation, body.into());
                return cache::respond(
                    &state.response_cache,
                    &key,
                    &entry,
                    headers,
                    call.media.content_type(),
                    cache_control(state.cache_max_age, true),
                );
            }
            Err(err) => tracing::error!(%err, "a GraphQL response did not serialize"),
        }
    }
    let body = if call.batch {
        BatchResponse::Batch(responses)
    } else {
        match responses.pop() {
            Some(response) => BatchResponse::Single(response),
            None => BatchResponse::Batch(Vec::new()),
        }
    };
    let mut response = graphql_response(call.media, body, StatusCode::BAD_REQUEST);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, cache_control(state.cache_max_age, cacheable));
    response.headers_mut().insert(VARY, VARY_VALUE);
    if not_allowed && call.transport == Transport::Get {
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        response
            .headers_mut()
            .insert(axum::http::header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// A GraphQL answer depends on who asks and on what they accept.
const VARY_VALUE: HeaderValue = HeaderValue::from_static("authorization, accept");

/// The HTTP response for `body` in `media`. With `application/graphql-response+json` a request
/// error (see [`never_executed`]) is `refused` (400, or 500 when our side failed) and has no `data` entry, as
/// the specification asks; with `application/json` everything is 200, the legacy rules. A
/// batch, which the specification does not cover, is 200 with every answer as it is.
fn graphql_response(media: Media, body: BatchResponse, refused: StatusCode) -> Response {
    let extra_headers = body.http_headers();
    let mut status = StatusCode::OK;
    let json = match &body {
        BatchResponse::Single(response)
            if media == Media::GraphQLResponseJson && never_executed(response) =>
        {
            status = refused;
            serde_json::to_vec(&WithoutData {
                errors: &response.errors,
                extensions: &response.extensions,
            })
        }
        body => serde_json::to_vec(body),
    };
    let json = match json {
        Ok(json) => json,
        Err(err) => {
            // Our values always serialize; should one not, the client gets a coded error.
            tracing::error!(%err, "a GraphQL response did not serialize");
            return json_error(
                media,
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::InternalServerError,
                "internal error; it has been logged",
            );
        }
    };
    let mut response = (status, json).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, media.content_type());
    response.headers_mut().extend(extra_headers);
    response
}

/// A GraphQL response without its `data` entry.
#[derive(serde::Serialize)]
struct WithoutData<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

/// Whether `response` answers a request that never executed: its document did not parse or
/// validate, a bound refused it, its variables could not be coerced, its persisted query is
/// unknown, or who asks could not be looked up. Such a response has no data and errors about no
/// field. A field error that reaches a non-null root field nulls `data` too, but it carries the
/// field's path: the operation ran, and that is a result (200).
fn never_executed(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}
