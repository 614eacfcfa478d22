//! A placement request coming in: GameLift's checks, and the players' latencies aggregated
//! per location as the queue ranks them, once, so that decisions read one value per candidate.

use super::{MAX_PLAYERS_PER_SESSION, Placement, PlacementKey, Placer, listing};
use crate::error::PlacementError;
use crate::model::{
    LatencyRanking, Locations, MissingLatency, PlacementRequest, PlacementStatus, PriorityType,
    QueueOptions, Seconds,
};

/// Where a request can use one of its queue's candidates, whatever the time, capacity and
/// status.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct LocationLatency {
    /// Every player has a latency here (reported or assumed).
    pub(crate) complete: bool,
    pub(crate) worst: f64,
    pub(crate) average: f64,
    /// The value the queue ranks by (average, worst or a percentile).
    pub(crate) rank: f64,
}

/// Reusable buffers for aggregating one request's latencies.
#[derive(Clone, Debug, Default)]
pub(crate) struct LatencyScratch {
    /// `values[location * players + player]`, NaN where the player reported nothing.
    values: Vec<f64>,
    column: Vec<f64>,
}

impl Placer {
    /// `StartGameSessionPlacement` at time `now`: decided at once, or left PENDING (FAILED at
    /// once only on a queue that fails unplaceable requests). What was due by `now` happens
    /// first (see [`Placer::advance`]), so an older request whose cap relaxes now is decided
    /// before this one.
    pub fn start(
        &mut self,
        request: PlacementRequest,
        now: Seconds,
    ) -> Result<PlacementKey, PlacementError> {
        self.advance(now);
        let queue = self.check(&request)?;
        // Taken while the decision borrows the placer; a refused request just leaves the
        // next one to allocate it again.
        let mut latency = std::mem::take(&mut self.scratch.latency);
        let options = self.queue_state(queue).queue.options;
        let has_latency = aggregate(
            &request,
            options,
            &self.locations,
            &mut self.scratch.aggregation,
            &mut latency,
        )?;
        let key = self.store.insert(Placement {
            request,
            start_time: now,
            status: PlacementStatus::Pending,
            end_time: None,
            session: None,
            reason: None,
            queue,
            latency: Box::default(),
            has_latency,
            order: self.next_order,
            waits_on: Vec::new(),
            queued: false,
            event_taken: false,
        })?;
        self.next_order += 1;
        if !self.try_place(key, &latency, now) {
            if let Some(reason) = self.fails_fast(key, &latency) {
                self.finish(key, PlacementStatus::Failed, Some(reason), now);
            } else {
                self.store[key].latency = latency.as_slice().into();
                self.wait(key, now);
            }
        }
        self.scratch.latency = latency;
        Ok(self.store.key(key))
    }

    /// Checks a request against GameLift's rules; returns its queue. Its latencies are
    /// checked as they are aggregated, and its id's uniqueness as it is recorded.
    fn check(&self, request: &PlacementRequest) -> Result<u32, PlacementError> {
        let id = &request.placement_id;
        if id.is_empty()
            || id.len() > 48
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(PlacementError::invalid(
                "PlacementId",
                format!("expected 1 to 48 letters, digits or `-`, found `{id}`"),
            ));
        }
        let Some(&queue) = self.queue_ids.get(&request.queue) else {
            return Err(PlacementError::not_found(
                "GameSessionQueueName",
                format!(
                    "no queue `{}`; the queues are {}",
                    request.queue,
                    listing(self.live_queues().map(|q| q.queue.name.as_str()))
                ),
            ));
        };
        if request.max_players > MAX_PLAYERS_PER_SESSION {
            return Err(PlacementError::invalid(
                "MaximumPlayerSessionCount",
                format!(
                    "expected at most {MAX_PLAYERS_PER_SESSION} players, found `{}`",
                    request.max_players
                ),
            ));
        }
        self.check_override(request, queue)?;
        Ok(queue)
    }

    /// Checks a request's `PriorityConfigurationOverride` against its queue.
    fn check_override(&self, request: &PlacementRequest, queue: u32) -> Result<(), PlacementError> {
        let Some(priority) = &request.priority_override else {
            return Ok(());
        };
        let state = self.queue_state(queue);
        if state.queue.priority_order[0] != PriorityType::Location {
            return Err(PlacementError::invalid(
                "PriorityConfigurationOverride",
                format!(
                    "queue `{}` does not rank by LOCATION first, so it takes no override",
                    state.queue.name
                ),
            ));
        }
        if !request.player_latencies.is_empty() {
            return Err(PlacementError::invalid(
                "PriorityConfigurationOverride",
                "a request with `PlayerLatencies` cannot override the location order".to_string(),
            ));
        }
        let order = &priority.location_order;
        if order.is_empty() || order.len() > 10 {
            return Err(PlacementError::invalid(
                "PriorityConfigurationOverride.LocationOrder",
                format!("expected 1 to 10 locations, found {}", order.len()),
            ));
        }
        for (i, location) in order.iter().enumerate() {
            if order[..i].contains(location) {
                return Err(PlacementError::invalid(
                    format!("PriorityConfigurationOverride.LocationOrder[{i}]"),
                    format!("location `{location}` is listed twice"),
                ));
            }
        }
        Ok(())
    }
}

/// Aggregates the players' latencies per location, as a queue with `options` ranks them, into
/// `aggregated` (one entry per location of `locations`); returns whether the request reports
/// any latency, or the first latency that is not one.
pub(crate) fn aggregate(
    request: &PlacementRequest,
    options: QueueOptions,
    locations: &Locations,
    scratch: &mut LatencyScratch,
    aggregated: &mut Vec<LocationLatency>,
) -> Result<bool, PlacementError> {
    let count = locations.len();
    aggregated.clear();
    aggregated.resize(count, LocationLatency::default());
    // A player who reports latencies only for locations no fleet has still counts.
    if request.players.is_empty() {
        return Ok(false);
    }
    let players = request.players.len();
    let LatencyScratch { values, column } = scratch;
    values.clear();
    values.resize(count * players, f64::NAN);
    for (i, latency) in request.player_latencies.iter().enumerate() {
        let (player, location) = (latency.player as usize, latency.location.0 as usize);
        let ms = latency.latency_ms;
        // Also false for NaN.
        if player >= players || location >= count || !(ms >= 0.0 && ms.is_finite()) {
            return Err(latency_error(request, i, count));
        }
        // A latency is never NaN, so a value there is an earlier report of the same pair:
        // which of the two the player meant is not for the placer to guess.
        let value = &mut values[location * players + player];
        if !value.is_nan() {
            return Err(repeated_latency(request, i, locations));
        }
        *value = ms;
    }
    for (location, entry) in aggregated.iter_mut().enumerate() {
        let row = &mut values[location * players..(location + 1) * players];
        match options.missing_latency {
            MissingLatency::Exclude => {
                if row.iter().any(|value| value.is_nan()) {
                    continue;
                }
            }
            MissingLatency::Assume(ms) => {
                for value in row.iter_mut().filter(|value| value.is_nan()) {
                    *value = ms;
                }
            }
        }
        let worst = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let average = row.iter().sum::<f64>() / players as f64;
        let rank = match options.latency_ranking {
            LatencyRanking::Average => average,
            LatencyRanking::Worst => worst,
            LatencyRanking::Percentile(p) => percentile(column, row, p),
        };
        *entry = LocationLatency {
            complete: true,
            worst,
            average,
            rank,
        };
    }
    Ok(true)
}

/// The `p`th percentile of `values`, nearest rank: the smallest value with at least p % of
/// them at or below it. Kept out of line: inlined, its arithmetic was hoisted into every
/// aggregation, percentile or not.
#[inline(never)]
fn percentile(sorted: &mut Vec<f64>, values: &[f64], p: f64) -> f64 {
    sorted.clear();
    sorted.extend_from_slice(values);
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, values.len()) - 1]
}

/// What is wrong with the request's latency `i`: a player or location out of range, or a
/// value that is not a latency.
#[cold]
fn latency_error(request: &PlacementRequest, i: usize, locations: usize) -> PlacementError {
    let latency = &request.player_latencies[i];
    let at = |field: &str| format!("PlayerLatencies[{i}].{field}");
    let players = request.players.len();
    if latency.player as usize >= players {
        PlacementError::invalid(
            at("PlayerId"),
            format!(
                "expected a player index below {players}, found `{}`",
                latency.player
            ),
        )
    } else if latency.location.0 as usize >= locations {
        PlacementError::invalid(
            at("RegionIdentifier"),
            format!(
                "expected a location id below {locations}, found `{}`",
                latency.location.0
            ),
        )
    } else {
        PlacementError::at_least_zero(latency.latency_ms, at("LatencyInMilliseconds"), "latency")
            .expect_err("only a bad latency is left")
    }
}

/// The error for latency `i`, which repeats an earlier one's player and location.
#[cold]
fn repeated_latency(request: &PlacementRequest, i: usize, locations: &Locations) -> PlacementError {
    let latency = &request.player_latencies[i];
    let first = request
        .player_latencies
        .iter()
        .position(|l| l.player == latency.player && l.location == latency.location)
        .unwrap_or(i);
    PlacementError::invalid(
        format!("PlayerLatencies[{i}]"),
        format!(
            "player `{}` reports location `{}` twice, here and at `PlayerLatencies[{first}]`",
            request.players[latency.player as usize],
            locations.name(latency.location)
        ),
    )
}
