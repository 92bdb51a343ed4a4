//! The `coverage-api` binary: a shim over the library's command line.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    coverage_api::cli::run(<coverage_api::cli::Cli as clap::Parser>::parse()).await
}
