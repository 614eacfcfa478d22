//! The Admin service: rule sets, matchmaking configurations, game session queues and fleets,
//! each RPC one engine command or query (conversions in `convert::admin`).

use std::sync::Arc;

use rally_base::ErrorKind;
use rally_engine::rule_sets::validate;
use tonic::{Request, Response, Status};

use crate::convert::admin::{
    configuration, configuration_message, diagnostic, fleet_message, fleet_spec, queue,
    queue_message, rule_set, rule_set_status,
};
use crate::convert::engine_status;
use crate::proto::v1::admin_server::{Admin, AdminServer};
use crate::proto::v1::*;
use crate::shared::Shared;
use crate::status;

/// The Admin service over the shared engine.
#[derive(Debug)]
pub struct AdminService {
    shared: Arc<Shared>,
}

/// The Admin service, ready to add to a server.
pub fn server(shared: Arc<Shared>) -> AdminServer<AdminService> {
    AdminServer::new(AdminService { shared })
        .max_decoding_message_size(crate::MAX_DECODING_MESSAGE_SIZE)
}

type Answer<T> = Result<Response<T>, Status>;

fn no_queue(name: &str) -> Status {
    status::status(
        ErrorKind::NotFound,
        Some("name"),
        &format!("no game session queue `{name}`"),
    )
}

impl AdminService {
    /// Writes what the change did to the store; the change stands either way.
    fn persisted(&self) -> Result<(), Status> {
        self.shared.persist().map_err(|e| {
            Status::unavailable(format!("the change is made, but could not be stored: {e}"))
        })
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn create_matchmaking_rule_set(
        &self,
        request: Request<CreateMatchmakingRuleSetRequest>,
    ) -> Answer<CreateMatchmakingRuleSetResponse> {
        let request = request.into_inner();
        let rule_set = self.shared.act(|engine, now| {
            engine
                .create_rule_set(now, &request.name, &request.rule_set_body)
                .map(|stored| rule_set(stored, &self.shared))
                .map_err(|e| rule_set_status(&e))
        })?;
        self.persisted()?;
        Ok(Response::new(CreateMatchmakingRuleSetResponse {
            rule_set: Some(rule_set),
        }))
    }

    async fn describe_matchmaking_rule_set(
        &self,
        request: Request<DescribeMatchmakingRuleSetRequest>,
    ) -> Answer<DescribeMatchmakingRuleSetResponse> {
        let name = request.into_inner().name;
        let rule_set = self.shared.read(|engine| {
            engine
                .rule_set(&name)
                .map(|stored| rule_set(stored, &self.shared))
                .map_err(|e| engine_status(&e))
        })?;
        Ok(Response::new(DescribeMatchmakingRuleSetResponse {
            rule_set: Some(rule_set),
        }))
    }

    async fn list_matchmaking_rule_sets(
        &self,
        _request: Request<ListMatchmakingRuleSetsRequest>,
    ) -> Answer<ListMatchmakingRuleSetsResponse> {
        // The engine holds them by name.
        let rule_sets = self.shared.read(|engine| {
            engine
                .rule_sets()
                .map(|stored| rule_set(stored, &self.shared))
                .collect()
        });
        Ok(Response::new(ListMatchmakingRuleSetsResponse { rule_sets }))
    }

    async fn update_matchmaking_rule_set(
        &self,
        request: Request<UpdateMatchmakingRuleSetRequest>,
    ) -> Answer<UpdateMatchmakingRuleSetResponse> {
        let request = request.into_inner();
        let rule_set = self.shared.act(|engine, now| {
            engine
                .update_rule_set(now, &request.name, &request.rule_set_body)
                .map(|stored| rule_set(stored, &self.shared))
                .map_err(|e| rule_set_status(&e))
        })?;
        self.persisted()?;
        Ok(Response::new(UpdateMatchmakingRuleSetResponse {
            rule_set: Some(rule_set),
        }))
    }

    async fn delete_matchmaking_rule_set(
        &self,
        request: Request<DeleteMatchmakingRuleSetRequest>,
    ) -> Answer<DeleteMatchmakingRuleSetResponse> {
        let name = request.into_inner().name;
        self.shared
            .act(|engine, _| engine.delete_rule_set(&name))
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(DeleteMatchmakingRuleSetResponse {}))
    }

    async fn validate_matchmaking_rule_set(
        &self,
        request: Request<ValidateMatchmakingRuleSetRequest>,
    ) -> Answer<ValidateMatchmakingRuleSetResponse> {
        let validation = validate(&request.into_inner().rule_set_body);
        Ok(Response::new(ValidateMatchmakingRuleSetResponse {
            valid: validation.is_valid(),
            diagnostics: validation.diagnostics.iter().map(diagnostic).collect(),
        }))
    }

    async fn create_matchmaking_configuration(
        &self,
        request: Request<CreateMatchmakingConfigurationRequest>,
    ) -> Answer<CreateMatchmakingConfigurationResponse> {
        let config = configuration(create_configuration_message(request.into_inner()))?;
        let configuration = self
            .shared
            .act(|engine, now| {
                engine
                    .create_configuration(now, config)
                    .map(configuration_message)
            })
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(CreateMatchmakingConfigurationResponse {
            configuration: Some(configuration),
        }))
    }

    async fn describe_matchmaking_configuration(
        &self,
        request: Request<DescribeMatchmakingConfigurationRequest>,
    ) -> Answer<DescribeMatchmakingConfigurationResponse> {
        let name = request.into_inner().name;
        let configuration = self
            .shared
            .read(|engine| engine.configuration(&name).map(configuration_message))
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(DescribeMatchmakingConfigurationResponse {
            configuration: Some(configuration),
        }))
    }

    async fn list_matchmaking_configurations(
        &self,
        _request: Request<ListMatchmakingConfigurationsRequest>,
    ) -> Answer<ListMatchmakingConfigurationsResponse> {
        // The engine holds them by name.
        let configurations = self
            .shared
            .read(|engine| engine.configurations().map(configuration_message).collect());
        Ok(Response::new(ListMatchmakingConfigurationsResponse {
            configurations,
        }))
    }

    async fn update_matchmaking_configuration(
        &self,
        request: Request<UpdateMatchmakingConfigurationRequest>,
    ) -> Answer<UpdateMatchmakingConfigurationResponse> {
        let config = configuration(update_configuration_message(request.into_inner()))?;
        let configuration = self
            .shared
            .act(|engine, now| {
                engine
                    .update_configuration(now, config)
                    .map(configuration_message)
            })
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(UpdateMatchmakingConfigurationResponse {
            configuration: Some(configuration),
        }))
    }

    async fn delete_matchmaking_configuration(
        &self,
        request: Request<DeleteMatchmakingConfigurationRequest>,
    ) -> Answer<DeleteMatchmakingConfigurationResponse> {
        let name = request.into_inner().name;
        self.shared
            .act(|engine, _| engine.delete_configuration(&name))
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(DeleteMatchmakingConfigurationResponse {}))
    }

    async fn create_game_session_queue(
        &self,
        request: Request<CreateGameSessionQueueRequest>,
    ) -> Answer<CreateGameSessionQueueResponse> {
        let queue = queue(create_queue_message(request.into_inner()))?;
        let name = queue.name.clone();
        let game_session_queue = self
            .shared
            .act(|engine, now| {
                engine.create_queue(now, queue)?;
                Ok(queue_message(
                    engine.placer().queue(&name).expect("just created"),
                ))
            })
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(CreateGameSessionQueueResponse {
            game_session_queue: Some(game_session_queue),
        }))
    }

    async fn describe_game_session_queue(
        &self,
        request: Request<DescribeGameSessionQueueRequest>,
    ) -> Answer<DescribeGameSessionQueueResponse> {
        let name = request.into_inner().name;
        let game_session_queue = self
            .shared
            .read(|engine| engine.placer().queue(&name).map(queue_message))
            .ok_or_else(|| no_queue(&name))?;
        Ok(Response::new(DescribeGameSessionQueueResponse {
            game_session_queue: Some(game_session_queue),
        }))
    }

    async fn list_game_session_queues(
        &self,
        _request: Request<ListGameSessionQueuesRequest>,
    ) -> Answer<ListGameSessionQueuesResponse> {
        let mut game_session_queues: Vec<GameSessionQueue> = self
            .shared
            .read(|engine| engine.placer().queues().map(queue_message).collect());
        game_session_queues.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Response::new(ListGameSessionQueuesResponse {
            game_session_queues,
        }))
    }

    async fn update_game_session_queue(
        &self,
        request: Request<UpdateGameSessionQueueRequest>,
    ) -> Answer<UpdateGameSessionQueueResponse> {
        let queue = queue(update_queue_message(request.into_inner()))?;
        let name = queue.name.clone();
        let game_session_queue = self
            .shared
            .act(|engine, now| {
                engine.update_queue(now, queue)?;
                Ok(queue_message(
                    engine.placer().queue(&name).expect("just updated"),
                ))
            })
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(UpdateGameSessionQueueResponse {
            game_session_queue: Some(game_session_queue),
        }))
    }

    async fn delete_game_session_queue(
        &self,
        request: Request<DeleteGameSessionQueueRequest>,
    ) -> Answer<DeleteGameSessionQueueResponse> {
        let name = request.into_inner().name;
        self.shared
            .act(|engine, now| engine.delete_queue(now, &name))
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(DeleteGameSessionQueueResponse {}))
    }

    async fn create_fleet(
        &self,
        request: Request<CreateFleetRequest>,
    ) -> Answer<CreateFleetResponse> {
        let spec = fleet_spec(create_fleet_message(request.into_inner()))?;
        let id = spec.fleet.id.clone();
        let fleet = self
            .shared
            .act(|engine, now| {
                engine.create_fleet(now, spec)?;
                engine.fleet(&id).map(fleet_message)
            })
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(CreateFleetResponse { fleet: Some(fleet) }))
    }

    async fn describe_fleet(
        &self,
        request: Request<DescribeFleetRequest>,
    ) -> Answer<DescribeFleetResponse> {
        let id = request.into_inner().fleet_id;
        let fleet = self
            .shared
            .read(|engine| engine.fleet(&id).map(fleet_message))
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(DescribeFleetResponse { fleet: Some(fleet) }))
    }

    async fn list_fleets(
        &self,
        _request: Request<ListFleetsRequest>,
    ) -> Answer<ListFleetsResponse> {
        // The engine holds them by id.
        let fleets = self
            .shared
            .read(|engine| engine.fleet_specs().map(fleet_message).collect());
        Ok(Response::new(ListFleetsResponse { fleets }))
    }

    async fn update_fleet(
        &self,
        request: Request<UpdateFleetRequest>,
    ) -> Answer<UpdateFleetResponse> {
        let spec = fleet_spec(update_fleet_message(request.into_inner()))?;
        let id = spec.fleet.id.clone();
        let fleet = self
            .shared
            .act(|engine, now| {
                engine.update_fleet(now, spec)?;
                engine.fleet(&id).map(fleet_message)
            })
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(UpdateFleetResponse { fleet: Some(fleet) }))
    }

    async fn delete_fleet(
        &self,
        request: Request<DeleteFleetRequest>,
    ) -> Answer<DeleteFleetResponse> {
        let id = request.into_inner().fleet_id;
        self.shared
            .act(|engine, now| engine.delete_fleet(now, &id))
            .map_err(|e| engine_status(&e))?;
        self.persisted()?;
        Ok(Response::new(DeleteFleetResponse {}))
    }
}

// Create and Update requests carry the resource's fields flat; each is repacked into the
// resource's message, so that one conversion serves both.

fn create_configuration_message(
    r: CreateMatchmakingConfigurationRequest,
) -> MatchmakingConfiguration {
    MatchmakingConfiguration {
        name: r.name,
        rule_set_name: r.rule_set_name,
        request_timeout_seconds: r.request_timeout_seconds,
        acceptance_required: r.acceptance_required,
        acceptance_timeout_seconds: r.acceptance_timeout_seconds,
        additional_player_count: r.additional_player_count,
        backfill_mode: r.backfill_mode,
        flex_match_mode: r.flex_match_mode,
        game_session_queue_names: r.game_session_queue_names,
        custom_event_data: r.custom_event_data,
        game_properties: r.game_properties,
        game_session_data: r.game_session_data,
        batch_interval_ms: r.batch_interval_ms,
        creation_time: None,
    }
}

fn update_configuration_message(
    r: UpdateMatchmakingConfigurationRequest,
) -> MatchmakingConfiguration {
    MatchmakingConfiguration {
        name: r.name,
        rule_set_name: r.rule_set_name,
        request_timeout_seconds: r.request_timeout_seconds,
        acceptance_required: r.acceptance_required,
        acceptance_timeout_seconds: r.acceptance_timeout_seconds,
        additional_player_count: r.additional_player_count,
        backfill_mode: r.backfill_mode,
        flex_match_mode: r.flex_match_mode,
        game_session_queue_names: r.game_session_queue_names,
        custom_event_data: r.custom_event_data,
        game_properties: r.game_properties,
        game_session_data: r.game_session_data,
        batch_interval_ms: r.batch_interval_ms,
        creation_time: None,
    }
}

fn create_queue_message(r: CreateGameSessionQueueRequest) -> GameSessionQueue {
    GameSessionQueue {
        name: r.name,
        timeout_in_seconds: r.timeout_in_seconds,
        player_latency_policies: r.player_latency_policies,
        destinations: r.destinations,
        filter_configuration: r.filter_configuration,
        priority_configuration: r.priority_configuration,
        custom_event_data: r.custom_event_data,
        rally_options: r.rally_options,
    }
}

fn update_queue_message(r: UpdateGameSessionQueueRequest) -> GameSessionQueue {
    GameSessionQueue {
        name: r.name,
        timeout_in_seconds: r.timeout_in_seconds,
        player_latency_policies: r.player_latency_policies,
        destinations: r.destinations,
        filter_configuration: r.filter_configuration,
        priority_configuration: r.priority_configuration,
        custom_event_data: r.custom_event_data,
        rally_options: r.rally_options,
    }
}

fn create_fleet_message(r: CreateFleetRequest) -> Fleet {
    Fleet {
        fleet_id: r.fleet_id,
        fleet_type: r.fleet_type,
        instance_type: r.instance_type,
        locations: r.locations,
        ec2_inbound_permissions: r.ec2_inbound_permissions,
    }
}

fn update_fleet_message(r: UpdateFleetRequest) -> Fleet {
    Fleet {
        fleet_id: r.fleet_id,
        fleet_type: r.fleet_type,
        instance_type: r.instance_type,
        locations: r.locations,
        ec2_inbound_permissions: r.ec2_inbound_permissions,
    }
}
