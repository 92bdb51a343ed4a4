//! GraphQL over WebSocket at /graphql/ws, with the `graphql-transport-ws` protocol and the legacy
//! `graphql-ws` (subscriptions-transport-ws) one. async-graphql speaks the protocols; this module
//! adds what a public service needs around them:
//! - at most `--max-ws-connections` connections per instance (more get 503 before the upgrade)
//!   and `--max-subscriptions` operations open per connection (more get TOO_MANY_SUBSCRIPTIONS);
//! - a token in the `connection_init` payload (`{"authorization": "Bearer …"}`) becomes the
//!   connection's actor, as the header does for HTTP;
//! - a subscriber that falls behind is dropped with close code [`CLOSE_TOO_SLOW`] and a reason,
//!   and one that does not read at all is dropped after [`SEND_TIMEOUT`]; neither holds more
//!   memory than the event hub's fixed buffer and its socket's;
//! - a connection that sends no `connection_init` within `--ws-init-timeout` is closed with 4408;
//! - every `--ws-keepalive` seconds the server pings (a WebSocket ping frame, and the protocol's
//!   own `ping` or legacy `ka` message, which keeps proxies that watch messages from closing an
//!   idle connection: nginx closes idle upstream sockets after 60 s); a peer that has sent
//!   nothing, not even the pong every WebSocket client answers a ping frame with, by the next
//!   ping is gone and is closed with [`CLOSE_UNRESPONSIVE`], freeing its place.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql::futures_util::{SinkExt, StreamExt, future};
use async_graphql::http::{
    WebSocket as GraphQLWebSocket, WebSocketProtocols as Protocols, WsMessage,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::{Notify, OwnedSemaphorePermit};

use crate::auth;
use crate::domain::Actor;
use async_graphql::futures_util::stream::{self, BoxStream};
use async_graphql::{Request, Response};

use crate::code::Code;
use crate::graphql::subscription::Socket;
use crate::graphql::{self, Api, RequestInfo, Transport};

/// Close code for a subscriber that fell more than `--subscriber-buffer` events behind.
pub const CLOSE_TOO_SLOW: u16 = 4008;

/// Close code when the server shuts down (WebSocket's "going away"): reconnect elsewhere.
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// Close code for a connection that sent no `connection_init` in time (the protocol's).
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;

/// Close code for a peer that answered no keep-alive ping within an interval.
pub const CLOSE_UNRESPONSIVE: u16 = 4504;

/// Close code for a connection that holds no operation for `--ws-idle-secs` after
/// `connection_ack`: WebSocket places are for listeners.
pub const CLOSE_IDLE: u16 = 4410;

/// Close code for a connection whose token was revoked (graphql-ws's "Forbidden"): checked when
/// each operation starts and on every keep-alive tick.
pub const CLOSE_REVOKED: u16 = 4403;

/// How long one message may wait for the client to take it before the connection is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// One WebSocket connection's shared state: its open operations and a request to close it.
pub struct WsConnection {
    open: AtomicUsize,
    max: usize,
    close: Mutex<Option<(u16, String)>>,
    notify: Notify,
    /// The token `connection_init` named, if any: checked again while the connection lasts.
    token: Mutex<Option<i64>>,
}

impl Socket for WsConnection {
    fn too_slow(&self, reason: &str) {
        self.close(CLOSE_TOO_SLOW, reason);
    }
}

impl WsConnection {
    /// A connection that may run `max` operations at once.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            max,
            close: Mutex::new(None),
            notify: Notify::new(),
            token: Mutex::new(None),
        })
    }

    /// The id of the token the connection was opened with, if any.
    pub fn token(&self) -> Option<i64> {
        self.token.lock().ok().and_then(|t| *t)
    }

    /// Whether the connection's token (if any) is still live; if it is not, the connection is
    /// asked to close with [`CLOSE_REVOKED`]. A database error counts as live (the next check
    /// decides).
    pub async fn token_is_live(&self, db: &sea_orm::DatabaseConnection) -> bool {
        let Some(id) = self.token() else {
            return true;
        };
        match crate::service::tokens::is_live(db, id).await {
            Ok(true) => true,
            Ok(false) => {
                metrics::counter!("coverage_api_ws_dropped_total", "reason" => "revoked")
                    .increment(1);
                self.close(CLOSE_REVOKED, "the token was revoked");
                false
            }
            Err(err) => {
                tracing::warn!(%err, "could not check a WebSocket connection's token");
                true
            }
        }
    }

    /// The most operations it may run at once.
    pub fn max_operations(&self) -> usize {
        self.max
    }

    /// The operations open now.
    pub fn open_operations(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Counts one more open operation until the slot is dropped; `None` when `max` are open.
    pub fn open_operation(self: &Arc<Self>) -> Option<OperationSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()?;
        metrics::gauge!("coverage_api_ws_operations").increment(1.0);
        Some(OperationSlot(Arc::clone(self)))
    }

    /// Asks the connection to close with `code` and `reason` (the first request wins).
    pub fn close(&self, code: u16, reason: &str) {
        if let Ok(mut close) = self.close.lock()
            && close.is_none()
        {
            *close = Some((code, reason.to_owned()));
        }
        self.notify.notify_one();
    }

    async fn closed(&self) -> (u16, String) {
        loop {
            if let Some(close) = self.close.lock().ok().and_then(|c| c.clone()) {
                return close;
            }
            self.notify.notified().await;
        }
    }
}

/// An open operation on a connection (see [`WsConnection::open_operation`]).
pub struct OperationSlot(Arc<WsConnection>);

impl Drop for OperationSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!("coverage_api_ws_operations").decrement(1.0);
    }
}

/// The protocol for a selected `Sec-WebSocket-Protocol` (none: `graphql-transport-ws`).
pub fn protocol(selected: Option<&str>) -> Option<Protocols> {
    match selected {
        None => Some(Protocols::GraphQLWS),
        Some(name) => name.parse().ok(),
    }
}

/// How connections behave.
pub struct Settings {
    /// Time to send `connection_init`.
    pub init_timeout: Duration,
    /// Becomes true when the server shuts down.
    pub going_away: tokio::sync::watch::Receiver<bool>,
    /// Time between keep-alive pings, which is also the time the peer has to answer one;
    /// `None`: no pings.
    pub keepalive: Option<Duration>,
    /// Time an acknowledged connection may hold no operation before it is closed.
    pub idle: Duration,
}

/// Serves one upgraded connection until either side ends it. `_places` holds the connection's
/// places in the instance's and the client address's limits.
pub async fn serve(
    socket: WebSocket,
    protocol: Protocols,
    executor: WsExecutor,
    settings: Settings,
    _places: (OwnedSemaphorePermit, Option<crate::connections::ClientSlot>),
) {
    metrics::gauge!("coverage_api_ws_connections").increment(1.0);
    let connection = Arc::clone(&executor.connection);
    let db = executor.api.db.clone();
    let db_for_checks = db.conn.clone();
    let init_connection = Arc::clone(&connection);
    let (mut sink, source) = socket.split();
    // When the peer last sent anything (a pong frame included): the keep-alive's evidence.
    let heard = Arc::new(Mutex::new(Instant::now()));
    let heard_in = Arc::clone(&heard);
    let input = source
        .take_while(|message| future::ready(message.is_ok()))
        .inspect(move |_| {
            if let Ok(mut at) = heard_in.lock() {
                *at = Instant::now();
            }
        })
        .filter_map(|message| {
            future::ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let messages = GraphQLWebSocket::new(executor, input, protocol).on_connection_init(
        move |payload: serde_json::Value| async move {
            let header = ["authorization", "Authorization"]
                .iter()
                .find_map(|key| payload.get(*key).and_then(serde_json::Value::as_str));
            let actor = match header {
                Some(value) => auth::actor_from_authorization(&db.conn, value)
                    .await
                    .map_err(|err| crate::graphql::error::to_graphql(&err))?,
                None => Actor::Anonymous,
            };
            if let (Actor::Token(token), Ok(mut slot)) = (&actor, init_connection.token.lock()) {
                *slot = Some(token.id);
            }
            let mut data = Data::default();
            data.insert(actor);
            Ok(data)
        },
    );
    pump(
        messages,
        &mut sink,
        &connection,
        &db_for_checks,
        settings,
        protocol,
        &heard,
    )
    .await;
    metrics::gauge!("coverage_api_ws_connections").decrement(1.0);
}

async fn pump<S>(
    messages: impl async_graphql::futures_util::Stream<Item = WsMessage>,
    sink: &mut S,
    connection: &WsConnection,
    db: &sea_orm::DatabaseConnection,
    settings: Settings,
    protocol: Protocols,
    heard: &Mutex<Instant>,
) where
    S: async_graphql::futures_util::Sink<Message> + Unpin,
{
    let mut messages = std::pin::pin!(messages);
    let init_deadline = tokio::time::sleep(settings.init_timeout);
    let mut going_away = settings.going_away;
    let going_away = async move {
        // Done either way: shutting down (Ok), or the server that would say so is gone (Err).
        let _ = going_away.wait_for(|gone| *gone).await;
    };
    let mut going_away = std::pin::pin!(going_away);
    let mut init_deadline = std::pin::pin!(init_deadline);
    let mut acknowledged = false;
    // An interval that never fires when keep-alive is off.
    let period = settings
        .keepalive
        .unwrap_or(Duration::from_secs(86_400 * 365));
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pinged: Option<Instant> = None;
    // Whether the connection holds an operation is looked at every second (or every idle
    // period, if shorter).
    let look = settings.idle.min(Duration::from_secs(1));
    let mut idle_check = tokio::time::interval_at(tokio::time::Instant::now() + look, look);
    idle_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut idle_since: Option<Instant> = None;
    loop {
        let message = tokio::select! {
            biased;
            () = &mut going_away => {
                send(sink, close(CLOSE_GOING_AWAY, "the server is shutting down".into())).await;
                return;
            }
            () = &mut init_deadline, if !acknowledged => {
                send(sink, close(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout".into()))
                    .await;
                return;
            }
            (code, reason) = connection.closed() => {
                tracing::info!(code, %reason, "closing a WebSocket connection");
                if code == CLOSE_TOO_SLOW {
                    metrics::counter!("coverage_api_ws_dropped_total", "reason" => "too_slow")
                        .increment(1);
                }
                send(sink, close(code, reason)).await;
                return;
            }
            _ = idle_check.tick(), if acknowledged => {
                if connection.open_operations() > 0 {
                    idle_since = None;
                } else if idle_since.is_some_and(|since| since.elapsed() >= settings.idle) {
                    metrics::counter!("coverage_api_ws_dropped_total", "reason" => "idle")
                        .increment(1);
                    send(sink, close(CLOSE_IDLE, "no operation: WebSocket places are for listeners".into()))
                        .await;
                    return;
                } else if idle_since.is_none() {
                    idle_since = Some(Instant::now());
                }
                continue;
            }
            _ = keepalive.tick(), if settings.keepalive.is_some() => {
                // A revoked token asks the connection to close (the branch above sends it).
                if !connection.token_is_live(db).await {
                    continue;
                }
                let last_heard = heard.lock().map_or_else(|_| Instant::now(), |at| *at);
                if pinged.is_some_and(|sent| last_heard < sent) {
                    tracing::info!("closing a WebSocket connection whose peer stopped answering");
                    metrics::counter!("coverage_api_ws_dropped_total", "reason" => "unresponsive")
                        .increment(1);
                    send(sink, close(CLOSE_UNRESPONSIVE, "no answer to keep-alive pings".into()))
                        .await;
                    return;
                }
                pinged = Some(Instant::now());
                let ping = match protocol {
                    Protocols::GraphQLWS => r#"{"type":"ping"}"#,
                    Protocols::SubscriptionsTransportWS => r#"{"type":"ka"}"#,
                };
                // The protocol's own ping only once the connection is acknowledged: before, a
                // client may take any other message as a protocol error.
                if !send(sink, Message::Ping(Default::default())).await
                    || (acknowledged && !send(sink, Message::Text(ping.into())).await)
                {
                    return;
                }
                continue;
            }
            message = messages.next() => message,
        };
        let (message, last) = match message {
            None => return,
            Some(WsMessage::Text(text)) => {
                acknowledged |= text.contains(r#""type":"connection_ack""#);
                (Message::Text(text.into()), false)
            }
            Some(WsMessage::Close(code, reason)) => (close(code, reason), true),
        };
        if !send(sink, message).await || last {
            return;
        }
    }
}

fn close(code: u16, reason: String) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Sends `message`; false when the connection is gone or the client did not take the message
/// within [`SEND_TIMEOUT`].
async fn send<S: async_graphql::futures_util::Sink<Message> + Unpin>(
    sink: &mut S,
    message: Message,
) -> bool {
    match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::warn!("dropping a WebSocket client that does not read");
            metrics::counter!("coverage_api_ws_dropped_total", "reason" => "send_timeout")
                .increment(1);
            false
        }
    }
}

/// The executor of one WebSocket connection: each operation counts against the connection's
/// limit while it runs, reads through the instance's loaders that keep nothing between events
/// (`Loaders::uncached`), and has its errors completed and bounded like any response.
#[derive(Clone)]
pub struct WsExecutor {
    /// The schema and database.
    pub api: Api,
    /// The connection.
    pub connection: Arc<WsConnection>,
}

impl async_graphql::Executor for WsExecutor {
    async fn execute(&self, request: Request) -> Response {
        self.execute_stream(request, None)
            .next()
            .await
            .unwrap_or_default()
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let Some(slot) = self.connection.open_operation() else {
            let response = graphql::error::error_response(
                Code::TooManySubscriptions,
                format!(
                    "this connection has {} operations open already; complete one first",
                    self.connection.max_operations()
                ),
            );
            return stream::once(async move { response }).boxed();
        };
        let info = RequestInfo::new(Transport::WebSocket, request.operation_name.clone());
        let mut registration = match self.api.documents.prepare(&mut request, &info) {
            Ok(registration) => registration,
            Err(refused) => {
                let mut response = refused.into_response();
                graphql::error::finish(&mut response);
                return stream::once(async move { response }).boxed();
            }
        };
        let documents = Arc::clone(&self.api.documents);
        let request = request
            .data(Arc::clone(&self.api.ws_loaders))
            .data(info)
            .data(Arc::clone(&self.connection) as Arc<dyn Socket>);
        let answers = self
            .api
            .schema_for(&request, registration.as_ref())
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |mut response| {
                let _open = &slot;
                // The first answer tells whether the document passed validation (read before
                // `finish` codes async-graphql's own errors).
                if let Some(registration) = registration.take() {
                    registration.complete(&documents, &response);
                }
                graphql::error::finish(&mut response);
                response
            });
        // The connection's token is checked again as each operation starts: a revoked one
        // closes the connection (`ws::CLOSE_REVOKED`) and runs nothing.
        let (connection, db) = (Arc::clone(&self.connection), self.api.db.conn.clone());
        let mut answers = Some(answers);
        // Boxed on its own: the check's future (1.8 KiB) is freed once it has run, instead of
        // staying inline in a subscription's stream for as long as the subscription lives.
        stream::once(Box::pin(async move { connection.token_is_live(&db).await }))
            .flat_map(move |live| {
                if let (true, Some(answers)) = (live, answers.take()) {
                    answers.boxed()
                } else {
                    let mut response = graphql::error::error_response(
                        Code::Unauthenticated,
                        "this connection's token was revoked; the connection is closed",
                    );
                    graphql::error::finish(&mut response);
                    stream::once(async move { response }).boxed()
                }
            })
            .boxed()
    }
}
