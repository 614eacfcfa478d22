//! The server in-process on a port of its own: health, reflection (through the grpcurl
//! work-alike, as the README's commands run) and graceful shutdown.

use std::net::SocketAddr;

use rally_server::grpcurl;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// A running server: its address, the trigger of its shutdown, and its task.
struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), rally_server::ServeError>>,
}

async fn start() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let config = rally_server::config::ServerConfig::embedded();
    let task = tokio::spawn(rally_server::run(listener, config, async {
        let _ = stopped.await;
    }));
    Running {
        address,
        stop,
        task,
    }
}

async fn channel(address: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
}

async fn grpcurl(args: &[&str]) -> String {
    match grpcurl::run(args, "").await {
        Ok(out) => out,
        Err(e) => panic!("grpcurl {}: {e}", args.join(" ")),
    }
}

#[tokio::test]
async fn health_answers_serving_for_the_server() {
    let server = start().await;
    let mut health = HealthClient::new(channel(server.address).await.unwrap());
    let answer = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answer,
        HealthCheckResponse {
            status: ServingStatus::Serving.into()
        }
    );
}

#[tokio::test]
async fn grpcurl_checks_health_as_the_readme_does() {
    let server = start().await;
    let address = server.address.to_string();
    let out = grpcurl(&["-plaintext", &address, "grpc.health.v1.Health/Check"]).await;
    assert_eq!(out, "{\n  \"status\": \"SERVING\"\n}\n");
    let out = grpcurl(&[
        "-plaintext",
        "-d",
        r#"{"service": ""}"#,
        &address,
        "grpc.health.v1.Health/Check",
    ])
    .await;
    assert_eq!(out, "{\n  \"status\": \"SERVING\"\n}\n");
}

#[tokio::test]
async fn grpcurl_reports_an_unknown_health_service_as_grpcurl_does() {
    let server = start().await;
    let address = server.address.to_string();
    let error = grpcurl::run(
        &[
            "-plaintext",
            "-d",
            "@",
            &address,
            "grpc.health.v1.Health/Check",
        ],
        r#"{"service": "rally.v1.Nothing"}"#,
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "ERROR:\n  Code: NotFound\n  Message: service not registered"
    );
}

/// tonic-reflection lists every service of the descriptor sets registered with it, whether
/// or not the server serves it yet.
#[tokio::test]
async fn reflection_lists_health_reflection_and_rallys_services() {
    let server = start().await;
    let out = grpcurl(&["-plaintext", &server.address.to_string(), "list"]).await;
    assert_eq!(
        out,
        "grpc.health.v1.Health\n\
         grpc.reflection.v1.ServerReflection\n\
         grpc.reflection.v1alpha.ServerReflection\n\
         rally.v1.Admin\n\
         rally.v1.Matchmaking\n\
         rally.v1.Placement\n"
    );
}

#[tokio::test]
async fn reflection_v1alpha_lists_the_same_services() {
    use tokio_stream::StreamExt as _;
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

    let server = start().await;
    let mut client = ServerReflectionClient::new(channel(server.address).await.unwrap());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("no list in {answer:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "rally.v1.Admin",
            "rally.v1.Matchmaking",
            "rally.v1.Placement",
        ]
    );
}

/// Reflection serves rally's files with their imports, so a client can build any request,
/// and the call reaches the engine: an unknown ticket is simply not listed.
#[tokio::test]
async fn a_call_built_from_reflection_reaches_the_engine() {
    let server = start().await;
    let out = grpcurl(&[
        "-plaintext",
        "-d",
        r#"{"ticketIds": ["t1"], "explain": true}"#,
        &server.address.to_string(),
        "rally.v1.Matchmaking/DescribeMatchmaking",
    ])
    .await;
    assert_eq!(out, "{}\n");
}

#[tokio::test]
async fn run_returns_once_shutdown_resolves() {
    let server = start().await;
    // A call first, so that shutdown has a connection to close.
    let out = grpcurl(&[
        "-plaintext",
        &server.address.to_string(),
        "grpc.health.v1.Health/Check",
    ])
    .await;
    assert!(out.contains("SERVING"));
    server.stop.send(()).unwrap();
    server.task.await.unwrap().unwrap();
    assert!(
        channel(server.address).await.is_err(),
        "the listener is closed after run returns"
    );
}
