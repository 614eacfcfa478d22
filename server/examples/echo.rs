//! The smallest unary gRPC service, `echo.v1.Echo/Ping`, on the same tonic stack as
//! `rally serve`: the baseline the load generator compares rally's StartMatchmaking rate
//! against. Serves reflection too, so grpcurl can call it:
//!
//! ```text
//! cargo run -p rally-server --example echo -- --listen 127.0.0.1:50052
//! grpcurl -plaintext -d '{"message": "hi"}' 127.0.0.1:50052 echo.v1.Echo/Ping
//! ```

use std::net::SocketAddr;

use clap::Parser;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(about = "A trivial gRPC service: the baseline for rally's load tests")]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:50052")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(args.listen).await?;
    println!("echo listening on {}", listener.local_addr()?);
    // Without a handler, Ctrl-C would kill the process mid-call.
    rally_server::echo::run(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
