//! Game-session placements as callers see them (`DescribeGameSessionPlacement`): the
//! placer's placement with the address, port and player sessions of its game session.

use rally_base::Seconds;
use rally_placement::model::PlacementStatus;

use crate::tickets::PlayerSession;

/// What `DescribeGameSessionPlacement` shows of a placement.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacementView {
    pub placement_id: String,
    pub game_session_queue_name: String,
    pub status: PlacementStatus,
    pub status_reason: Option<String>,
    pub game_session_name: Option<String>,
    pub game_session_arn: Option<String>,
    pub fleet_id: Option<String>,
    pub location: Option<String>,
    pub ip_address: Option<String>,
    pub dns_name: Option<String>,
    pub port: Option<u16>,
    pub placed_player_sessions: Vec<PlayerSession>,
    pub maximum_player_session_count: u32,
    pub start_time: Seconds,
    pub end_time: Option<Seconds>,
}
