//! The `Placement` service: game session placements over the engine's placer.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::convert::engine_status;
use crate::convert::placement::{placement, placement_status, request};
use crate::proto::v1 as pb;
use crate::proto::v1::placement_server::{Placement, PlacementServer};
use crate::shared::Shared;

#[derive(Debug)]
pub struct PlacementService {
    shared: Arc<Shared>,
}

pub fn server(shared: Arc<Shared>) -> PlacementServer<PlacementService> {
    PlacementServer::new(PlacementService { shared })
        .max_decoding_message_size(crate::MAX_DECODING_MESSAGE_SIZE)
}

#[tonic::async_trait]
impl Placement for PlacementService {
    async fn start_game_session_placement(
        &self,
        wire: Request<pb::StartGameSessionPlacementRequest>,
    ) -> Result<Response<pb::StartGameSessionPlacementResponse>, Status> {
        let view = self.shared.act(|engine, now| {
            let placement_request = request(wire.into_inner(), engine.placer().locations())
                .map_err(|e| placement_status(&e))?;
            engine
                .start_placement(now, placement_request)
                .map_err(|e| engine_status(&e))
        })?;
        Ok(Response::new(pb::StartGameSessionPlacementResponse {
            game_session_placement: Some(placement(&self.shared, view)),
        }))
    }

    async fn describe_game_session_placement(
        &self,
        request: Request<pb::DescribeGameSessionPlacementRequest>,
    ) -> Result<Response<pb::DescribeGameSessionPlacementResponse>, Status> {
        let id = request.into_inner().placement_id;
        let view = self
            .shared
            .act(|engine, now| engine.describe_placement(now, &id))
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(pb::DescribeGameSessionPlacementResponse {
            game_session_placement: Some(placement(&self.shared, view)),
        }))
    }

    async fn stop_game_session_placement(
        &self,
        request: Request<pb::StopGameSessionPlacementRequest>,
    ) -> Result<Response<pb::StopGameSessionPlacementResponse>, Status> {
        let id = request.into_inner().placement_id;
        let view = self
            .shared
            .act(|engine, now| {
                engine.stop_placement(now, &id)?;
                engine.describe_placement(now, &id)
            })
            .map_err(|e| engine_status(&e))?;
        Ok(Response::new(pb::StopGameSessionPlacementResponse {
            game_session_placement: Some(placement(&self.shared, view)),
        }))
    }
}
