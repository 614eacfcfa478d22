//! `rally serve`: the matchmaking service on embedded defaults, until SIGINT or SIGTERM.

use std::process::ExitCode;

use anyhow::Context as _;
use rally_server::config::ServerConfig;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen for gRPC.
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: String,
    /// Seeds ticket ids, match ids and batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Seconds finished tickets and placements stay describable.
    #[arg(long, default_value_t = 600.0, value_parser = crate::input::finite_seconds)]
    retention: f64,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = ServerConfig::embedded();
    config.engine.seed = args.seed;
    config.engine.retention = args.retention;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on `{}`", args.listen))?;
        rally_server::run(listener, config, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
