//! The Admin service in-process on a port of its own, through the generated client: rule
//! sets, configurations, queues and fleets, and how refusals come back.

use rally_engine::{Engine, EngineOptions};
use rally_server::proto::v1::admin_client::AdminClient;
use rally_server::proto::v1::*;
use rally_server::shared::Shared;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Code;
use tonic::transport::{Channel, Server};
use tonic_types::StatusExt;

const DUEL: &str = r#"
ruleset "duel"
attribute skill: number
team duelist players 1 quantity 2
rule SkillGap: distance max(flatten(teams[*].players.attributes[skill]))
    to min(flatten(teams[*].players.attributes[skill]))
    max 100
"#;

const DUEL_JSON: &str = r#"{"name": "duel", "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number"}],
  "teams": [{"name": "duelist", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}]}"#;

async fn start() -> AdminClient<Channel> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shared = Shared::new(Engine::new(EngineOptions::default()));
    tokio::spawn(
        Server::builder()
            .add_service(rally_server::admin::server(shared))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    AdminClient::connect(format!("http://{address}"))
        .await
        .unwrap()
}

/// The field a refusal's BadRequest names.
fn violated_field(status: &tonic::Status) -> String {
    let bad_request = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
    bad_request.field_violations[0].field.clone()
}

async fn create_rule_set(admin: &mut AdminClient<Channel>, name: &str, body: &str) {
    admin
        .create_matchmaking_rule_set(CreateMatchmakingRuleSetRequest {
            name: name.into(),
            rule_set_body: body.into(),
        })
        .await
        .unwrap();
}

fn standalone(name: &str, rule_set: &str) -> CreateMatchmakingConfigurationRequest {
    CreateMatchmakingConfigurationRequest {
        name: name.into(),
        rule_set_name: rule_set.into(),
        request_timeout_seconds: 60,
        flex_match_mode: matchmaking_configuration::FlexMatchMode::Standalone.into(),
        ..Default::default()
    }
}

fn fleet_request(id: &str) -> CreateFleetRequest {
    CreateFleetRequest {
        fleet_id: id.into(),
        fleet_type: fleet::FleetType::Spot.into(),
        instance_type: "c5.large".into(),
        locations: vec![FleetLocation {
            location: "us-east-1".into(),
            hourly_cost: 0.25,
            instances: 2,
            game_sessions_per_instance: 3,
            max_players: 10,
            status: fleet_location::Status::Active.into(),
            spot_viable: Some(false),
            dns_name: "game.example.com".into(),
            ip_address: "192.0.2.7".into(),
        }],
        ec2_inbound_permissions: vec![IpPermission {
            from_port: 7000,
            to_port: 7100,
            ip_range: "0.0.0.0/0".into(),
            protocol: ip_permission::Protocol::Udp.into(),
        }],
    }
}

fn queue_request(name: &str, fleet_id: &str) -> CreateGameSessionQueueRequest {
    use priority_configuration::PriorityType;
    CreateGameSessionQueueRequest {
        name: name.into(),
        timeout_in_seconds: Some(120),
        player_latency_policies: vec![
            PlayerLatencyPolicy {
                maximum_individual_player_latency_milliseconds: 50,
                policy_duration_seconds: Some(10),
            },
            PlayerLatencyPolicy {
                maximum_individual_player_latency_milliseconds: 150,
                policy_duration_seconds: None,
            },
        ],
        destinations: vec![GameSessionQueueDestination {
            destination_arn: format!("arn:aws:gamelift:us-east-1::fleet/{fleet_id}"),
        }],
        filter_configuration: Some(FilterConfiguration {
            allowed_locations: vec!["us-east-1".into()],
        }),
        priority_configuration: Some(PriorityConfiguration {
            priority_order: vec![
                PriorityType::Cost.into(),
                PriorityType::Location.into(),
                PriorityType::Latency.into(),
                PriorityType::Destination.into(),
            ],
            location_order: vec!["us-east-1".into()],
        }),
        custom_event_data: String::new(),
        rally_options: Some(RallyOptions {
            latency_ranking: rally_options::LatencyRanking::Percentile.into(),
            latency_percentile: Some(90.0),
            cost_basis: rally_options::CostBasis::GameSession.into(),
            latency_tolerance_ms: Some(15.0),
            missing_latency: rally_options::MissingLatency::Assume.into(),
            assumed_latency_ms: Some(250.0),
            spread: rally_options::Spread::Weighted.into(),
            unplaceable: rally_options::Unplaceable::Fail.into(),
        }),
    }
}

#[tokio::test]
async fn rule_sets_are_created_in_either_format_updated_in_place_and_listed() {
    let mut admin = start().await;
    create_rule_set(&mut admin, "duel", DUEL).await;
    let json = admin
        .create_matchmaking_rule_set(CreateMatchmakingRuleSetRequest {
            name: "duel-json".into(),
            rule_set_body: DUEL_JSON.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .rule_set
        .unwrap();
    assert_eq!(json.version, 1);
    assert_eq!(json.rule_set_body, DUEL_JSON);
    assert!(json.creation_time.is_some());

    let updated = admin
        .update_matchmaking_rule_set(UpdateMatchmakingRuleSetRequest {
            name: "duel".into(),
            rule_set_body: DUEL_JSON.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .rule_set
        .unwrap();
    assert_eq!(updated.version, 2);
    let described = admin
        .describe_matchmaking_rule_set(DescribeMatchmakingRuleSetRequest {
            name: "duel".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .rule_set
        .unwrap();
    assert_eq!(described, updated);

    let names: Vec<String> = admin
        .list_matchmaking_rule_sets(ListMatchmakingRuleSetsRequest {})
        .await
        .unwrap()
        .into_inner()
        .rule_sets
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["duel", "duel-json"]);

    admin
        .delete_matchmaking_rule_set(DeleteMatchmakingRuleSetRequest {
            name: "duel-json".into(),
        })
        .await
        .unwrap();
    let gone = admin
        .describe_matchmaking_rule_set(DescribeMatchmakingRuleSetRequest {
            name: "duel-json".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn an_invalid_body_has_positioned_diagnostics_and_is_refused() {
    let mut admin = start().await;
    let broken = "ruleset \"duel\"\nattribute skill: number\nteam duelist players 1 quantity 2\nrule Gap: distance skil max 100\n";
    let answer = admin
        .validate_matchmaking_rule_set(ValidateMatchmakingRuleSetRequest {
            rule_set_body: broken.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.valid);
    let error = answer
        .diagnostics
        .iter()
        .find(|d| d.severity == i32::from(diagnostic::Severity::Error))
        .expect("an error");
    assert!(!error.code.is_empty());
    assert_eq!(error.line, 4, "{error:?}");
    assert!(error.column > 0, "{error:?}");

    let valid = admin
        .validate_matchmaking_rule_set(ValidateMatchmakingRuleSetRequest {
            rule_set_body: DUEL.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(valid.valid, "{:?}", valid.diagnostics);

    let refused = admin
        .create_matchmaking_rule_set(CreateMatchmakingRuleSetRequest {
            name: "broken".into(),
            rule_set_body: broken.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&refused), "rule_set_body");
    assert!(
        refused.message().contains(&format!("4:{}:", error.column)),
        "{}",
        refused.message()
    );

    create_rule_set(&mut admin, "duel", DUEL).await;
    let refused = admin
        .update_matchmaking_rule_set(UpdateMatchmakingRuleSetRequest {
            name: "duel".into(),
            rule_set_body: broken.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&refused), "rule_set_body");
}

#[tokio::test]
async fn configurations_round_trip_and_hold_their_rule_set() {
    let mut admin = start().await;
    create_rule_set(&mut admin, "duel", DUEL).await;
    create_rule_set(&mut admin, "duel-json", DUEL_JSON).await;
    let mut request = standalone("ranked", "duel");
    request.game_properties = vec![GameProperty {
        key: "mode".into(),
        value: "ranked".into(),
    }];
    request.custom_event_data = "season-3".into();
    let created = admin
        .create_matchmaking_configuration(request.clone())
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(created.batch_interval_ms, 100, "0 is the default");
    assert_eq!(created.game_properties, request.game_properties);
    assert_eq!(created.custom_event_data, "season-3");
    let described = admin
        .describe_matchmaking_configuration(DescribeMatchmakingConfigurationRequest {
            name: "ranked".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(described, created);

    let again = admin
        .create_matchmaking_configuration(request)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);

    let in_use = admin
        .delete_matchmaking_rule_set(DeleteMatchmakingRuleSetRequest {
            name: "duel".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(in_use.code(), Code::FailedPrecondition);

    let updated = admin
        .update_matchmaking_configuration(UpdateMatchmakingConfigurationRequest {
            name: "ranked".into(),
            rule_set_name: "duel-json".into(),
            request_timeout_seconds: 30,
            batch_interval_ms: 250,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(updated.rule_set_name, "duel-json");
    assert_eq!(updated.request_timeout_seconds, 30);
    assert_eq!(updated.batch_interval_ms, 250);
    assert_eq!(
        updated.flex_match_mode,
        i32::from(matchmaking_configuration::FlexMatchMode::Standalone),
        "no mode and no queue: STANDALONE"
    );

    let list = admin
        .list_matchmaking_configurations(ListMatchmakingConfigurationsRequest {})
        .await
        .unwrap()
        .into_inner()
        .configurations;
    assert_eq!(list, [updated]);

    admin
        .delete_matchmaking_rule_set(DeleteMatchmakingRuleSetRequest {
            name: "duel".into(),
        })
        .await
        .expect("no configuration uses it any more");
    admin
        .delete_matchmaking_configuration(DeleteMatchmakingConfigurationRequest {
            name: "ranked".into(),
        })
        .await
        .unwrap();
    let gone = admin
        .delete_matchmaking_configuration(DeleteMatchmakingConfigurationRequest {
            name: "ranked".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn configurations_refuse_bad_fields_and_missing_references() {
    let mut admin = start().await;
    create_rule_set(&mut admin, "duel", DUEL).await;

    let missing_rule_set = admin
        .create_matchmaking_configuration(standalone("c", "nope"))
        .await
        .unwrap_err();
    assert_eq!(missing_rule_set.code(), Code::NotFound);

    let mut with_queue = standalone("c", "duel");
    with_queue.flex_match_mode = matchmaking_configuration::FlexMatchMode::WithQueue.into();
    with_queue.game_session_queue_names = vec!["nowhere".into()];
    let missing_queue = admin
        .create_matchmaking_configuration(with_queue)
        .await
        .unwrap_err();
    assert_eq!(missing_queue.code(), Code::NotFound);
    assert!(missing_queue.message().contains("`nowhere`"));

    let mut bad_property = standalone("c", "duel");
    bad_property.game_properties = vec![
        GameProperty {
            key: "a".into(),
            value: "b".into(),
        },
        GameProperty {
            key: String::new(),
            value: "b".into(),
        },
    ];
    let refused = admin
        .create_matchmaking_configuration(bad_property)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&refused), "game_properties[1].key");

    let mut negative = standalone("c", "duel");
    negative.additional_player_count = -1;
    let refused = admin
        .create_matchmaking_configuration(negative)
        .await
        .unwrap_err();
    assert_eq!(violated_field(&refused), "additional_player_count");

    let mut standalone_with_queue = standalone("c", "duel");
    standalone_with_queue.game_session_queue_names = vec!["q".into()];
    let refused = admin
        .create_matchmaking_configuration(standalone_with_queue)
        .await
        .unwrap_err();
    assert_eq!(violated_field(&refused), "game_session_queue_names");
}

#[tokio::test]
async fn fleets_and_queues_round_trip() {
    let mut admin = start().await;
    let sent = fleet_request("fleet-a");
    let created = admin
        .create_fleet(sent.clone())
        .await
        .unwrap()
        .into_inner()
        .fleet
        .unwrap();
    let expected = Fleet {
        fleet_id: sent.fleet_id.clone(),
        fleet_type: sent.fleet_type,
        instance_type: sent.instance_type.clone(),
        locations: sent.locations.clone(),
        ec2_inbound_permissions: sent.ec2_inbound_permissions.clone(),
    };
    assert_eq!(created, expected);
    let described = admin
        .describe_fleet(DescribeFleetRequest {
            fleet_id: "fleet-a".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .fleet
        .unwrap();
    assert_eq!(described, expected);
    let duplicate = admin.create_fleet(sent).await.unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);

    let sent = queue_request("main", "fleet-a");
    let created = admin
        .create_game_session_queue(sent.clone())
        .await
        .unwrap()
        .into_inner()
        .game_session_queue
        .unwrap();
    let described = admin
        .describe_game_session_queue(DescribeGameSessionQueueRequest {
            name: "main".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .game_session_queue
        .unwrap();
    assert_eq!(described, created);
    assert_eq!(described.timeout_in_seconds, sent.timeout_in_seconds);
    assert_eq!(
        described.player_latency_policies,
        sent.player_latency_policies
    );
    assert_eq!(described.destinations[0].destination_arn, "fleet-a");
    assert_eq!(described.filter_configuration, sent.filter_configuration);
    assert_eq!(
        described.priority_configuration,
        sent.priority_configuration
    );
    assert_eq!(described.rally_options, sent.rally_options);

    let duplicate = admin
        .create_game_session_queue(sent.clone())
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);

    // Partial priority orders are completed in GameLift's default order.
    let mut update = sent;
    update.priority_configuration = Some(PriorityConfiguration {
        priority_order: vec![priority_configuration::PriorityType::Destination.into()],
        location_order: Vec::new(),
    });
    update.rally_options = None;
    let updated = admin
        .update_game_session_queue(UpdateGameSessionQueueRequest {
            name: update.name,
            timeout_in_seconds: None,
            player_latency_policies: update.player_latency_policies,
            destinations: update.destinations,
            filter_configuration: None,
            priority_configuration: update.priority_configuration,
            custom_event_data: String::new(),
            rally_options: None,
        })
        .await
        .unwrap()
        .into_inner()
        .game_session_queue
        .unwrap();
    use priority_configuration::PriorityType;
    let order: Vec<i32> = [
        PriorityType::Destination,
        PriorityType::Latency,
        PriorityType::Cost,
        PriorityType::Location,
    ]
    .map(i32::from)
    .to_vec();
    assert_eq!(
        updated.priority_configuration.unwrap().priority_order,
        order
    );
    assert_eq!(updated.timeout_in_seconds, Some(600), "GameLift's default");
    assert_eq!(updated.filter_configuration, None);
    assert_eq!(updated.rally_options, None);

    let names: Vec<String> = admin
        .list_game_session_queues(ListGameSessionQueuesRequest {})
        .await
        .unwrap()
        .into_inner()
        .game_session_queues
        .into_iter()
        .map(|q| q.name)
        .collect();
    assert_eq!(names, ["main"]);
    let in_use = admin
        .delete_fleet(DeleteFleetRequest {
            fleet_id: "fleet-a".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(in_use.code(), Code::FailedPrecondition);
    admin
        .delete_game_session_queue(DeleteGameSessionQueueRequest {
            name: "main".into(),
        })
        .await
        .unwrap();
    admin
        .delete_fleet(DeleteFleetRequest {
            fleet_id: "fleet-a".into(),
        })
        .await
        .unwrap();
    let fleets = admin
        .list_fleets(ListFleetsRequest {})
        .await
        .unwrap()
        .into_inner()
        .fleets;
    assert!(fleets.is_empty());
}

#[tokio::test]
async fn queues_and_fleets_refuse_bad_fields_and_unknown_names() {
    let mut admin = start().await;
    admin.create_fleet(fleet_request("fleet-a")).await.unwrap();

    let mut bad = queue_request("q", "fleet-a");
    bad.player_latency_policies[1].policy_duration_seconds = Some(-5);
    let refused = admin.create_game_session_queue(bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_field(&refused),
        "player_latency_policies[1].policy_duration_seconds"
    );

    let mut bad = queue_request("q", "fleet-a");
    bad.rally_options.as_mut().unwrap().latency_percentile = None;
    let refused = admin.create_game_session_queue(bad).await.unwrap_err();
    assert_eq!(violated_field(&refused), "rally_options.latency_percentile");

    let unknown_fleet = admin
        .create_game_session_queue(queue_request("q", "fleet-z"))
        .await
        .unwrap_err();
    assert_eq!(unknown_fleet.code(), Code::NotFound);

    let unknown_queue = admin
        .describe_game_session_queue(DescribeGameSessionQueueRequest { name: "q".into() })
        .await
        .unwrap_err();
    assert_eq!(unknown_queue.code(), Code::NotFound);

    let mut bad = fleet_request("fleet-b");
    bad.locations[0].hourly_cost = -1.0;
    let refused = admin.create_fleet(bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&refused), "locations[0].hourly_cost");

    let mut bad = fleet_request("fleet-b");
    bad.ec2_inbound_permissions[0].from_port = 80;
    let refused = admin.create_fleet(bad).await.unwrap_err();
    assert_eq!(violated_field(&refused), "ec2_inbound_permissions[0]");

    let unknown = admin
        .update_fleet(UpdateFleetRequest {
            fleet_id: "fleet-z".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let unknown = admin
        .describe_fleet(DescribeFleetRequest {
            fleet_id: "fleet-z".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}
