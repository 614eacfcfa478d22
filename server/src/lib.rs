//! rally's gRPC service (`rally serve`): the Matchmaking, Placement and Admin services over
//! one engine, the batch loop, health and reflection, and graceful shutdown.
//!
//! | module | what lives there |
//! | --- | --- |
//! | `config` | what a server starts with; the embedded defaults |
//! | `config_file` | `--config rally.toml` |
//! | `shared` | the engine behind its lock, the clock, the event broadcast |
//! | `record` | `--record`: the traffic commands as a trace |
//! | `batches` | the batch loop |
//! | `matchmaking`, `placement`, `admin` | the services |
//! | `convert` | wire types to the engine's and back |
//! | `status` | the one table from error kinds to status codes |
//! | `store` | where administered resources outlive a restart: `Store`, `MemoryStore` |
//! | `proto` | the generated API |
//! | `echo` | the trivial service load tests compare against |

pub mod admin;
pub mod batches;
pub mod config;
pub mod config_file;
mod convert;

pub use convert::matchmaking::wire_value;
pub mod echo;
mod event_stream;
#[cfg(feature = "test-support")]
pub mod grpcurl;
mod incoming;
pub mod matchmaking;
pub mod placement;
pub mod proto;
pub mod record;
pub mod shared;
pub mod status;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic_health::ServingStatus;

/// The largest request message any service decodes: 4 MiB. tonic's default is the same,
/// but it is a decision of rally's, so it is written here and applied to every service the
/// server adds (`.max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)` on each generated
/// server). The largest legitimate requests are a rule set (FlexMatch caps the body at
/// 65,535 characters) and a placement (game session data up to 262,144 characters, plus
/// its players); 4 MiB leaves them ample room while bounding what one request can make the
/// server allocate before a handler sees it. A larger message is refused with
/// RESOURCE_EXHAUSTED.
pub const MAX_DECODING_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("transport error: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("the configuration is refused: {0}")]
    Setup(#[from] rally_engine::EngineError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("cannot record to `{path}`: {error}")]
    Record { path: String, error: std::io::Error },
}

/// Serves on `listener` until `shutdown` resolves, then stops taking connections and
/// batches, lets the batch running and the calls in flight finish, ends the event streams,
/// and returns.
///
/// When `shutdown` resolves, health checks answer NOT_SERVING for the calls still in flight
/// and for `Watch` streams, as the gRPC health protocol asks of a server going away.
pub async fn run(
    listener: TcpListener,
    config: config::ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let store: Arc<dyn store::Store> = config
        .store
        .clone()
        .unwrap_or_else(|| Arc::new(store::MemoryStore::default()));
    let held = store.load()?;
    let engine = if held.is_empty() {
        for line in config.summary() {
            tracing::info!("loaded {line}");
        }
        config.build()?
    } else {
        tracing::info!(
            rule_sets = held.rule_sets.len(),
            configurations = held.configurations.len(),
            "loaded the stored resources"
        );
        config.build_from(&held)?
    };
    let recorder = match &config.record {
        Some(path) => Some(
            record::Recorder::open(path).map_err(|error| ServeError::Record {
                path: path.display().to_string(),
                error,
            })?,
        ),
        None => None,
    };
    let shared = shared::Shared::with(engine, recorder, store)?;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let batches = tokio::spawn(batches::run(shared.clone(), stopping.clone()));
    let (reporter, health) = tonic_health::server::health_reporter();
    // The server as a whole (""): serving as soon as it listens.
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "serving gRPC");
    }
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down");
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        // Streams and the batch loop end; the batch running finishes first.
        let _ = stop.send(true);
    };
    let served = Server::builder()
        .add_service(matchmaking::server(shared.clone(), stopping))
        .add_service(placement::server(shared.clone()))
        .add_service(admin::server(shared.clone()))
        .add_service(health.max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE))
        .add_service(reflection_v1.max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE))
        .add_service(reflection_v1alpha.max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE))
        .serve_with_incoming_shutdown(crate::incoming::connections(listener), shutdown)
        .await;
    let _ = batches.await;
    served?;
    Ok(())
}

/// The reflection service's descriptors: rally's API, health, and both versions of
/// reflection itself, so that v1 and v1alpha clients list the same services.
///
/// tonic-reflection lists every service of the descriptor sets it is given, served or not:
/// rally's three services are listed before the engine serves them (a call to one answers
/// UNIMPLEMENTED until then).
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .include_reflection_service(false)
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}
