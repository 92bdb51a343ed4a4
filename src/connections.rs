//! The connection layer: every TCP connection accepted, counted, served through hyper with a
//! timer, and let go. Below the router, so that what it bounds (connections, the time to send a
//! request's headers, idle keep-alives) holds before any request exists.
//!
//! - **A deadline for every connection**: hyper with Tokio's timer and
//!   `--header-read-timeout-secs`: a request's headers must arrive within it, and a kept-alive
//!   connection that sends no next request within it is closed (hyper arms the same timer while
//!   it waits for the next request's head). Bodies have the routes' own deadlines
//!   (`--request-timeout-secs`, `--sheets-timeout-secs`), the response cache's fast path
//!   included.
//! - **Caps**: at most `--max-connections` open connections per instance and
//!   `--max-connections-per-client` per client address (peers listed in `--trusted-proxies`,
//!   which carry many clients, are held to the instance's cap only). A connection over a cap is
//!   closed at once, before hyper reads a byte, and counted in
//!   `coverage_api_connections_refused_total{reason}`; `coverage_api_connections_open` is the
//!   gauge of those open.
//! - **Accept errors** (out of file descriptors, say) are logged and retried after a pause,
//!   never the end of the server.
//! - **Graceful shutdown**: once `shutdown` completes no connection is accepted; each open one
//!   finishes its request in flight and closes; upgraded WebSockets are told to go by the
//!   routes (`going_away`).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// The bounds of the connection layer (see the module's notes).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections per instance.
    pub max_connections: usize,
    /// Open connections per client address.
    pub max_per_client: usize,
    /// Time to send a request's headers, and to send the next request on a kept-alive
    /// connection.
    pub header_read_timeout: Duration,
    /// Peers that carry many clients (a reverse proxy): held to the instance's cap only.
    pub trusted_proxies: Vec<IpAddr>,
}

impl ConnectionLimits {
    /// The bounds `--max-connections`, `--max-connections-per-client`,
    /// `--header-read-timeout` and `--trusted-proxies` set.
    pub fn of(args: &crate::config::ServeArgs) -> Self {
        Self {
            max_connections: args.max_connections,
            max_per_client: args.max_connections_per_client,
            header_read_timeout: Duration::from_secs(args.header_read_timeout_secs),
            trusted_proxies: args.trusted_proxies.clone(),
        }
    }
}

/// The address of the client a request comes from: the peer's, or, when the peer is a trusted
/// proxy, the last address its `X-Forwarded-For` names (set on every request by [`serve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// Open connections (or sockets) by client address (an entry goes when its last one closes).
#[derive(Default)]
pub struct PerClient(Mutex<HashMap<IpAddr, usize>>);

impl std::fmt::Debug for PerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clients = self.0.lock().map_or(0, |open| open.len());
        f.debug_struct("PerClient")
            .field("clients", &clients)
            .finish()
    }
}

/// One connection of a client, released when dropped.
pub struct ClientSlot {
    clients: Arc<PerClient>,
    address: Option<IpAddr>,
}

impl PerClient {
    /// A slot for `address`, or `None` when it holds `max` already.
    pub fn take(
        clients: &Arc<PerClient>,
        address: Option<IpAddr>,
        max: usize,
    ) -> Option<ClientSlot> {
        if let Some(address) = address {
            let mut open = clients.0.lock().unwrap_or_else(|e| e.into_inner());
            let count = open.entry(address).or_default();
            if *count >= max {
                return None;
            }
            *count += 1;
        }
        Some(ClientSlot {
            clients: Arc::clone(clients),
            address,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Some(address) = self.address {
            let mut open = self.clients.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = open.get_mut(&address) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&address);
                }
            }
        }
    }
}

/// What an accepted connection holds until it closes.
struct Held {
    _instance: OwnedSemaphorePermit,
    _client: ClientSlot,
}

impl Drop for Held {
    fn drop(&mut self) {
        metrics::gauge!("coverage_api_connections_open").decrement(1.0);
    }
}

/// Whether an accept error concerns only the connection being accepted (go on at once), not
/// the listener or the process (pause first).
fn is_connection_error(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets every open
/// connection finish its request in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let instance = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(PerClient::default());
    // Dropped to tell every connection to finish; each holds a receiver until it is closed.
    let (stop_tx, stop_rx) = watch::channel(());
    let (closed_tx, closed_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) if is_connection_error(&err) => continue,
                Err(err) => {
                    tracing::error!(%err, "accepting a connection failed; trying again in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(held) = admit(&instance, &clients, &limits, peer) else {
            drop(stream);
            continue;
        };
        let trusted = limits.trusted_proxies.contains(&peer.ip());
        let service =
            TowerToHyperService::new(app.clone().map_request(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                let client = if trusted {
                    forwarded_for(request.headers()).unwrap_or(peer.ip())
                } else {
                    peer.ip()
                };
                request.extensions_mut().insert(ClientAddress(client));
                request
            }));
        let connection = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stop = stop_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(err) = result {
                            tracing::trace!(%err, "a connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(held);
            drop(closed);
        });
    }
    drop(listener);
    drop(stop_rx);
    drop(stop_tx);
    drop(closed_rx);
    closed_tx.closed().await;
    Ok(())
}

/// The last address of `X-Forwarded-For` (the one the trusted proxy itself added).
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|last| last.trim().parse().ok())
}

/// What a connection from `peer` holds while it is open, or `None` (counted) when a cap is
/// reached.
fn admit(
    instance: &Arc<Semaphore>,
    clients: &Arc<PerClient>,
    limits: &ConnectionLimits,
    peer: SocketAddr,
) -> Option<Held> {
    let refuse = |reason: &'static str| {
        metrics::counter!("coverage_api_connections_refused_total", "reason" => reason)
            .increment(1);
        tracing::debug!(%peer, reason, "connection refused");
    };
    let Ok(permit) = Arc::clone(instance).try_acquire_owned() else {
        refuse("instance");
        return None;
    };
    let address = (!limits.trusted_proxies.contains(&peer.ip())).then_some(peer.ip());
    let Some(slot) = PerClient::take(clients, address, limits.max_per_client) else {
        refuse("client");
        return None;
    };
    metrics::gauge!("coverage_api_connections_open").increment(1.0);
    Some(Held {
        _instance: permit,
        _client: slot,
    })
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_at_most_its_cap_and_gets_places_back_as_connections_close() {
        let clients = Arc::new(PerClient::default());
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let first = PerClient::take(&clients, a, 2).unwrap();
        let second = PerClient::take(&clients, a, 2).unwrap();
        assert!(
            PerClient::take(&clients, a, 2).is_none(),
            "a third is over the cap"
        );
        assert!(
            PerClient::take(&clients, Some(IpAddr::from([10, 0, 0, 2])), 2).is_some(),
            "another client is not held to the first one's count"
        );
        drop(first);
        assert!(
            PerClient::take(&clients, a, 2).is_some(),
            "a place came back"
        );
        drop(second);
        assert!(
            PerClient::take(&clients, None, 0).is_some(),
            "a trusted proxy has no cap"
        );
    }
}
