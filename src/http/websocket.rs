//! `GET /graphql/ws`: the WebSocket upgrade, with its places (`--max-ws-connections` per
//! instance, `--max-ws-connections-per-client` per client address), buffers and settings; the
//! connection itself is `crate::ws`'s.

use crate::code::Code;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::answer::json_error;
use super::negotiation::Media;
use crate::connections::{ClientAddress, PerClient};
use crate::ws::{self, WsConnection, WsExecutor};

/// GET /graphql/ws: upgrades to a GraphQL WebSocket (see [`ws`]).
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let upgrade = upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .max_message_size(state.body_limit)
        // tungstenite's defaults (128 KiB each, the read buffer allocated and zeroed up front)
        // cost about 160 KiB a connection; subscriptions carry messages of a few hundred bytes.
        // The write buffer's ceiling stays unlimited: every message is flushed as it is sent, so
        // it never holds more than the message being sent, and a client that does not take it is
        // dropped after `ws::SEND_TIMEOUT`.
        .read_buffer_size(state.ws_read_buffer_size)
        .write_buffer_size(state.ws_write_buffer_size);
    let selected = upgrade.selected_protocol().and_then(|p| p.to_str().ok());
    // A handshake negotiates a subprotocol, not a media type: its refusals are plain JSON.
    let media = Media::Json;
    let Some(protocol) = ws::protocol(selected) else {
        return json_error(
            media,
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            "Sec-WebSocket-Protocol must be graphql-transport-ws or graphql-ws",
        );
    };
    let Ok(permit) = Arc::clone(&state.ws_connections).try_acquire_owned() else {
        return json_error(
            media,
            StatusCode::SERVICE_UNAVAILABLE,
            Code::TooManyConnections,
            "this instance holds as many WebSocket connections as it may; try again later",
        );
    };
    let address = client.map(|Extension(ClientAddress(ip))| ip);
    let slot = match address {
        Some(_) => {
            let taken = PerClient::take(&state.ws_clients, address, state.max_ws_per_client);
            let Some(slot) = taken else {
                metrics::counter!("coverage_api_ws_dropped_total", "reason" => "client_cap")
                    .increment(1);
                return json_error(
                    media,
                    StatusCode::SERVICE_UNAVAILABLE,
                    Code::TooManyConnections,
                    "your address holds as many WebSocket connections as it may; close one first",
                );
            };
            Some(slot)
        }
        None => None,
    };
    let executor = WsExecutor {
        api: state.api.clone(),
        connection: WsConnection::new(state.max_subscriptions),
    };
    let settings = ws::Settings {
        init_timeout: state.ws_init_timeout,
        going_away: state.going_away.subscribe(),
        keepalive: state.ws_keepalive,
        idle: state.ws_idle,
    };
    // The socket's life is a task of its own: it keeps the upgrade request's span (its id).
    let span = tracing::Span::current();
    upgrade.on_upgrade(move |socket| {
        tracing::Instrument::instrument(
            ws::serve(socket, protocol, executor, settings, (permit, slot)),
            span,
        )
    })
}
