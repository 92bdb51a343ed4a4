//! The ceiling of `scripts/bench.sh`: a server that answers every request with the same bytes,
//! read from a file (the dashboard's answer), on the same runtime, HTTP stack and allocator as
//! the API (tokio, hyper through axum, mimalloc) and nothing else: no routing, layers, parsing or
//! execution. What it serves per second on this machine is what the wire allows; the benchmark
//! reports the API's figures as fractions of it.
//!
//! `cargo run --release --example ceiling -- ADDR FILE` (not a route of the API: production
//! binaries should not carry a benchmark's answer).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

// The API's allocator (its library sets the global allocator).
use coverage_api as _;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8099".into())
        .parse()?;
    let file = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: ceiling ADDR FILE"))?;
    let body = Bytes::from(std::fs::read(file)?);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let answer = move || {
                let body = body.clone();
                async move { ([(CONTENT_TYPE, "application/json")], body).into_response() }
            };
            let app = Router::new().fallback(answer);
            let listener = tokio::net::TcpListener::bind(addr).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}
