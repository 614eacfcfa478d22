//! The store keeps what administration did across a restart: a server started on a store
//! that holds resources serves those, not its configuration's.

use std::sync::Arc;

use rally_server::config::ServerConfig;
use rally_server::proto::v1 as pb;
use rally_server::proto::v1::admin_client::AdminClient;
use rally_server::store::{MemoryStore, Store};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

async fn serve(
    store: Arc<MemoryStore>,
) -> (
    AdminClient<tonic::transport::Channel>,
    oneshot::Sender<()>,
    JoinHandle<()>,
) {
    let mut config = ServerConfig::embedded();
    config.store = Some(store);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        rally_server::run(listener, config, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let client = AdminClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    (client, stop, task)
}

#[tokio::test]
async fn administration_outlives_a_restart() {
    let store = Arc::new(MemoryStore::default());
    let (mut admin, stop, task) = serve(store.clone()).await;
    let body = include_str!("../../fixtures/rulesets/ranked_duel.rules");
    admin
        .update_matchmaking_rule_set(pb::UpdateMatchmakingRuleSetRequest {
            name: "ranked-duel".into(),
            rule_set_body: body.replace("max 100", "max 150"),
        })
        .await
        .unwrap();
    admin
        .delete_matchmaking_configuration(pb::DeleteMatchmakingConfigurationRequest {
            name: "team-5v5".into(),
        })
        .await
        .unwrap();
    drop(admin);
    stop.send(()).unwrap();
    task.await.unwrap();
    let held = store.load().unwrap();
    assert!(held.rule_sets["ranked-duel"].contains("max 150"));
    assert!(!held.configurations.contains_key("team-5v5"));

    let (mut admin, _stop, _task) = serve(store).await;
    let rule_set = admin
        .describe_matchmaking_rule_set(pb::DescribeMatchmakingRuleSetRequest {
            name: "ranked-duel".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .rule_set
        .unwrap();
    assert!(rule_set.rule_set_body.contains("max 150"));
    let names: Vec<String> = admin
        .list_matchmaking_configurations(pb::ListMatchmakingConfigurationsRequest {})
        .await
        .unwrap()
        .into_inner()
        .configurations
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["duel", "duel-placed"]);
}
