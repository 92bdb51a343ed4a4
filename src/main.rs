//! The `coverage-api` binary: a shim over the library's command line.

fn main() -> anyhow::Result<()> {
    let cli = <coverage_api::cli::Cli as clap::Parser>::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = cli.worker_threads() {
        runtime.worker_threads(threads);
    }
    runtime
        .enable_all()
        .build()?
        .block_on(coverage_api::cli::run(cli))
}
