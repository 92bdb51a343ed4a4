//! A small GraphQL-over-WebSocket client for the tests: both protocols, whole messages as JSON.

use std::time::Duration;

use async_graphql::futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a message that should come.
pub const WAIT: Duration = Duration::from_secs(10);

/// The two protocols.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Protocol {
    /// `graphql-transport-ws`: subscribe / next / complete.
    TransportWs,
    /// Legacy `graphql-ws`: start / data / stop.
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }
}

/// One connection.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    protocol: Protocol,
}

/// What `upgrade` got instead of a connection.
#[derive(Debug)]
pub struct Refused {
    /// HTTP status.
    pub status: u16,
    /// Body, as JSON.
    pub body: Value,
}

impl WsClient {
    /// Opens `ws://{addr}/graphql/ws`, sends `connection_init` with `payload` and waits for the
    /// acknowledgement.
    pub async fn connect(addr: &str, protocol: Protocol, payload: Value) -> Self {
        let mut client = Self::upgrade(addr, protocol).await.expect("upgrade");
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = client.next().await;
        assert_eq!(ack, json!({ "type": "connection_ack" }));
        client
    }

    /// Only the HTTP upgrade.
    pub async fn upgrade(addr: &str, protocol: Protocol) -> Result<Self, Refused> {
        let mut request = format!("ws://{addr}/graphql/ws")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(protocol.name()),
        );
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, response)) => {
                assert_eq!(
                    response.headers()["sec-websocket-protocol"],
                    protocol.name(),
                    "the server agrees on the protocol"
                );
                Ok(Self { socket, protocol })
            }
            Err(Error::Http(response)) => Err(Refused {
                status: response.status().as_u16(),
                body: serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .unwrap_or(Value::Null),
            }),
            Err(err) => panic!("cannot connect: {err}"),
        }
    }

    /// Sends one JSON message.
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        };
        self.send(json!({ "type": kind, "id": id,
                          "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// Stops operation `id`.
    pub async fn complete(&mut self, id: &str) {
        let kind = match self.protocol {
            Protocol::TransportWs => "complete",
            Protocol::Legacy => "stop",
        };
        self.send(json!({ "type": kind, "id": id })).await;
    }

    /// The next JSON message (pings and pongs skipped); panics on a close or after [`WAIT`].
    pub async fn next(&mut self) -> Value {
        match self.next_or_close().await {
            Ok(message) => message,
            Err(close) => panic!("the connection closed: {close:?}"),
        }
    }

    /// The next JSON message, or the close frame that ended the connection.
    pub async fn next_or_close(&mut self) -> Result<Value, Option<CloseFrame>> {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Ok(serde_json::from_str(&text).expect("JSON"));
                }
                Some(Ok(Message::Close(frame))) => return Err(frame),
                Some(Ok(_)) => {}
                Some(Err(err)) => panic!("WebSocket error: {err}"),
                None => return Err(None),
            }
        }
    }

    /// The next message's payload, after checking it is `next`/`data` for `id`.
    pub async fn payload(&mut self, id: &str) -> Value {
        let message = self.next().await;
        let kind = match self.protocol {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        };
        assert_eq!(message["type"], kind, "{message}");
        assert_eq!(message["id"], id, "{message}");
        message["payload"].clone()
    }

    /// True when nothing arrives within `wait`.
    pub async fn silent_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.socket.next())
            .await
            .is_err()
    }
}
