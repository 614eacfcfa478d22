//! `rally serve`: the matchmaking service, on embedded defaults or a configuration file,
//! until SIGINT or SIGTERM.

use std::process::ExitCode;

use anyhow::Context as _;
use rally_server::config::ServerConfig;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start from this configuration file instead of the embedded defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Where to listen for gRPC [default: the file's `listen`, else 127.0.0.1:50051].
    #[arg(long)]
    listen: Option<String>,
    /// Append every StartMatchmaking, StopMatchmaking, AcceptMatch and StartMatchBackfill
    /// to this trace (JSON Lines).
    #[arg(long, value_name = "FILE")]
    record: Option<std::path::PathBuf>,
    /// Seeds ticket ids, match ids and batches [default: the file's `seed`, else 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds finished tickets and placements stay describable [default: 600].
    #[arg(long, value_parser = crate::input::finite_seconds)]
    retention: Option<f64>,
}

/// The starting state and the address: the file's or the embedded defaults, then the
/// command line's overrides.
fn configure(args: &Args) -> anyhow::Result<(ServerConfig, String)> {
    let (mut config, listen) = match &args.config {
        Some(path) => {
            let loaded = rally_server::config_file::load(path)?;
            (loaded.server, loaded.listen)
        }
        None => (ServerConfig::embedded(), None),
    };
    if let Some(seed) = args.seed {
        config.engine.seed = seed;
    }
    if let Some(retention) = args.retention {
        config.engine.retention = retention;
    }
    if args.record.is_some() {
        config.record = args.record.clone();
    }
    let listen = args
        .listen
        .clone()
        .or(listen)
        .unwrap_or_else(|| "127.0.0.1:50051".to_string());
    Ok((config, listen))
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let (config, listen) = configure(args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on `{listen}`"))?;
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
