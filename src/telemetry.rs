//! Logging through `tracing`, set up once per process. `RUST_LOG` overrides the default filter.
//! Text lines are for a terminal; JSON lines (`--log-format json`) for a collector, each with
//! the span of the request it belongs to (its id, operation names, the caller's kind and city)
//! and, per answer, an `access` line with its status and latency.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The default filter: the per-answer `access` lines only in JSON (a terminal would scroll).
fn default_filter(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Text => "info,access=warn,sqlx=warn,sea_orm=warn,memory_serve=warn",
        LogFormat::Json => "info,sqlx=warn,sea_orm=warn,memory_serve=warn",
    }
}

/// Installs the global subscriber. Safe to call twice: the second call is a no-op.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(format)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            // Colour only for people: logs piped to a file or a collector stay plain text.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            // Every span the line is in, outermost first: the request's among them even when a
            // span of its own (a library's) is the current one.
            .with_span_list(true)
            .try_init(),
    };
}
