//! The tallies behind the report, fed by the engine's events as the simulation runs.

use std::collections::BTreeMap;

use hashbrown::HashMap;
use rally_base::Seconds;
use rally_engine::PlacementView;
use rally_engine::events::{EventTicket, MatchmakingEvent};

use crate::facts::TicketFacts;
use crate::report::{
    Curves, Distribution, FleetUse, Placements, PoolSample, Quality, Report, RuleCounts,
    TicketCounts, TimeToMatch, round,
};

/// A running game session: where, and since when.
#[derive(Clone, Debug)]
struct Session {
    fleet_id: String,
    location: String,
    start: Seconds,
}

/// What a fleet location costs and holds, for the report's fleet lines.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LocationPrice {
    pub(crate) hourly_cost: f64,
    pub(crate) sessions_per_instance: u32,
    pub(crate) capacity: u64,
}

#[derive(Debug, Default)]
struct Hosted {
    sessions: u64,
    seconds: f64,
}

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    counts: TicketCounts,
    /// Each live ticket's latest PotentialMatchCreated.
    proposed_at: HashMap<String, Seconds>,
    waits: Distribution,
    waits_by_location: BTreeMap<String, Distribution>,
    waits_by_party: BTreeMap<usize, Distribution>,
    attribute: Option<String>,
    spread: Distribution,
    imbalance: Distribution,
    average_latency: Distribution,
    worst_latency: Distribution,
    parties: u64,
    kept_together: u64,
    placements: Placements,
    sessions: HashMap<String, Session>,
    hosted: BTreeMap<(String, String), Hosted>,
    pool: Vec<PoolSample>,
    matches_since_sample: u64,
    rules: BTreeMap<String, RuleCounts>,
}

impl Metrics {
    pub(crate) fn new(attribute: Option<String>) -> Metrics {
        Metrics {
            attribute,
            ..Metrics::default()
        }
    }

    pub(crate) fn submitted(&mut self, players: usize) {
        self.counts.submitted += 1;
        self.counts.players += players as u64;
    }

    pub(crate) fn stop_after_end(&mut self) {
        self.counts.stops_after_end += 1;
    }

    pub(crate) fn refused(&mut self, kind: &str) {
        *self.counts.refused.entry(kind.to_string()).or_default() += 1;
    }

    pub(crate) fn proposed(&mut self, event: &MatchmakingEvent) {
        self.matches_since_sample += 1;
        for ticket in &event.tickets {
            self.proposed_at
                .insert(ticket.ticket_id.clone(), event.time);
        }
        for metric in &event.rule_evaluation_metrics {
            let counts = self.rules.entry(metric.rule_name.clone()).or_default();
            counts.passed += metric.passed_count;
            counts.failed += metric.failed_count;
        }
    }

    /// A match completed: its tickets' waits and the match's quality. `facts` has every
    /// ticket the simulation submitted and still holds.
    pub(crate) fn succeeded(
        &mut self,
        event: &MatchmakingEvent,
        facts: &HashMap<String, TicketFacts>,
    ) {
        let location = self.location_of(event);
        let mut players = Vec::new();
        for ticket in &event.tickets {
            self.counts.matched += 1;
            let proposed = self.proposed_at.remove(&ticket.ticket_id);
            let Some(facts) = facts.get(&ticket.ticket_id) else {
                continue;
            };
            let wait = proposed.unwrap_or(event.time) - facts.start;
            self.record_wait(facts, wait * 1000.0);
            self.party(ticket);
            for (i, player) in ticket.players.iter().enumerate() {
                let known = facts
                    .players
                    .get(i)
                    .filter(|p| p.id == player.player_id)
                    .or_else(|| facts.players.iter().find(|p| p.id == player.player_id));
                if let Some(known) = known {
                    let latency = location.as_deref().and_then(|l| known.latency(l));
                    players.push((player.team.clone(), known.skill, latency));
                }
            }
        }
        self.quality(&players);
    }

    fn record_wait(&mut self, facts: &TicketFacts, wait_ms: f64) {
        self.waits.record(wait_ms);
        if let Some(home) = facts.home() {
            self.waits_by_location
                .entry(home.to_string())
                .or_default()
                .record(wait_ms);
        }
        self.waits_by_party
            .entry(facts.party_size())
            .or_default()
            .record(wait_ms);
    }

    fn party(&mut self, ticket: &EventTicket) {
        if ticket.players.len() < 2 {
            return;
        }
        self.parties += 1;
        let first = &ticket.players[0].team;
        if ticket.players.iter().all(|p| &p.team == first) {
            self.kept_together += 1;
        }
    }

    /// Where a completed match plays: its game session's location, or (STANDALONE) the
    /// nearest of its locations.
    fn location_of(&self, event: &MatchmakingEvent) -> Option<String> {
        let info = event.game_session_info.as_ref()?;
        if let Some(arn) = &info.game_session_arn
            && let Some(session) = self.sessions.get(arn)
        {
            return Some(session.location.clone());
        }
        info.locations.first().cloned()
    }

    fn quality(&mut self, players: &[(Option<String>, Option<f64>, Option<u32>)]) {
        let skills: Vec<f64> = players.iter().filter_map(|p| p.1).collect();
        if skills.len() >= 2 {
            let (low, high) = bounds(&skills);
            self.spread.record(high - low);
        }
        let mut teams: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
        for (team, skill, _) in players {
            if let (Some(team), Some(skill)) = (team, skill) {
                let entry = teams.entry(team.as_str()).or_default();
                entry.0 += skill;
                entry.1 += 1;
            }
        }
        if teams.len() >= 2 {
            let means: Vec<f64> = teams.values().map(|(sum, n)| sum / *n as f64).collect();
            let (low, high) = bounds(&means);
            self.imbalance.record(high - low);
        }
        let latencies: Vec<f64> = players.iter().filter_map(|p| p.2).map(f64::from).collect();
        if !latencies.is_empty() {
            let sum: f64 = latencies.iter().sum();
            self.average_latency.record(sum / latencies.len() as f64);
            self.worst_latency.record(bounds(&latencies).1);
        }
    }

    /// A ticket ended without a match.
    pub(crate) fn ended(&mut self, ticket_id: &str, status: Ended) {
        self.proposed_at.remove(ticket_id);
        match status {
            Ended::TimedOut => self.counts.timed_out += 1,
            Ended::Cancelled => self.counts.cancelled += 1,
            Ended::Failed => self.counts.failed += 1,
        }
    }

    /// A placement found its game session, which runs from `at`.
    pub(crate) fn placed(&mut self, placement: &PlacementView, at: Seconds) {
        let (Some(arn), Some(fleet_id), Some(location)) = (
            &placement.game_session_arn,
            &placement.fleet_id,
            &placement.location,
        ) else {
            return;
        };
        *self
            .placements
            .by_location
            .entry(location.clone())
            .or_default() += 1;
        *self
            .placements
            .by_fleet
            .entry(fleet_id.clone())
            .or_default() += 1;
        let session = Session {
            fleet_id: fleet_id.clone(),
            location: location.clone(),
            start: at,
        };
        self.sessions.insert(arn.clone(), session);
    }

    /// A game session ended at `at`.
    pub(crate) fn session_ended(&mut self, game_session_arn: &str, at: Seconds) {
        let Some(session) = self.sessions.remove(game_session_arn) else {
            return;
        };
        let hosted = self
            .hosted
            .entry((session.fleet_id, session.location))
            .or_default();
        hosted.sessions += 1;
        hosted.seconds += at - session.start;
    }

    pub(crate) fn sample(&mut self, t: Seconds, waiting: usize) {
        self.pool.push(PoolSample {
            t: round(t),
            waiting: waiting as u64,
            matches: std::mem::take(&mut self.matches_since_sample),
        });
    }

    /// The report, over `span` simulated seconds, pricing fleet locations with `price`.
    pub(crate) fn report(
        mut self,
        span: Seconds,
        price: impl Fn(&str, &str) -> Option<LocationPrice>,
    ) -> Report {
        // Sessions still running count up to the end.
        let running: Vec<String> = {
            let mut arns: Vec<String> = self.sessions.keys().cloned().collect();
            arns.sort();
            arns
        };
        for arn in running {
            self.session_ended(&arn, span);
        }
        let fleets: Vec<FleetUse> = self
            .hosted
            .iter()
            .map(|((fleet_id, location), hosted)| {
                fleet_use(fleet_id, location, hosted, span, &price)
            })
            .collect();
        // Folded from 0.0: an empty `sum` of floats is -0.0.
        let hosting_cost_usd = round(fleets.iter().fold(0.0, |total, f| total + f.cost_usd));
        let summaries = |m: &BTreeMap<String, Distribution>| {
            m.iter().map(|(k, d)| (k.clone(), d.summary())).collect()
        };
        let curves = Curves {
            time_to_match_ms: self.waits.curve(),
            average_latency_ms: self.average_latency.curve(),
            worst_latency_ms: self.worst_latency.curve(),
            team_imbalance: self.imbalance.curve(),
            skill_spread: self.spread.curve(),
        };
        Report {
            curves,
            simulated_seconds: round(span),
            tickets: self.counts,
            time_to_match_ms: TimeToMatch {
                overall: self.waits.summary(),
                by_location: summaries(&self.waits_by_location),
                by_party_size: self
                    .waits_by_party
                    .iter()
                    .map(|(k, d)| (*k, d.summary()))
                    .collect(),
            },
            quality: Quality {
                attribute: self.attribute,
                skill_spread: self.spread.summary(),
                team_imbalance: self.imbalance.summary(),
                average_latency_ms: self.average_latency.summary(),
                worst_latency_ms: self.worst_latency.summary(),
                parties: self.parties,
                parties_kept_together: self.kept_together,
            },
            placements: self.placements,
            fleets,
            hosting_cost_usd,
            pool: self.pool,
            rules: self.rules,
        }
    }
}

/// How a ticket ended without a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    TimedOut,
    Cancelled,
    Failed,
}

fn fleet_use(
    fleet_id: &str,
    location: &str,
    hosted: &Hosted,
    span: Seconds,
    price: &impl Fn(&str, &str) -> Option<LocationPrice>,
) -> FleetUse {
    let price = price(fleet_id, location);
    let hours = hosted.seconds / 3600.0;
    let capacity = price.as_ref().map_or(0, |p| p.capacity);
    let capacity_hours = capacity as f64 * span / 3600.0;
    let cost = price.as_ref().map_or(0.0, |p| {
        hours * p.hourly_cost / f64::from(p.sessions_per_instance.max(1))
    });
    FleetUse {
        fleet_id: fleet_id.to_string(),
        location: location.to_string(),
        game_sessions: hosted.sessions,
        session_hours: round(hours),
        capacity,
        utilisation: if capacity_hours > 0.0 {
            round(hours / capacity_hours)
        } else {
            0.0
        },
        cost_usd: round(cost),
    }
}

fn bounds(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(*v), high.max(*v))
        })
}
