//! Batches and the matches they form: a batch takes a configuration's standing pool off the
//! engine, so that it can run on another thread while commands go on (tickets arriving
//! meanwhile wait for the next batch); its matches come back as proposals, which players
//! accept or not, and which then complete (STANDALONE, backfill) or go to placement.

use std::collections::BTreeMap;
use std::sync::Arc;

use rally_base::Seconds;
use rally_matchmaker::matches::Match;
use rally_matchmaker::standing::Matchmaker;
use rand::RngCore;

use super::Engine;
use super::lifecycle::{AcceptMatch, AcceptanceType, event_ticket};
use super::{GRID_SLACK, Timer};
use crate::error::EngineError;
use crate::events::{
    Acceptance, EventPlayer, GameSessionInfo, MatchmakingEvent, MatchmakingEventType, RuleMetric,
};
use crate::tickets::{ConnectionInfo, TicketStatus};

/// A match the engine proposed, from its creation until it completes or falls through.
#[derive(Debug)]
pub(crate) struct Proposal {
    pub(crate) configuration: Arc<str>,
    /// Its tickets, the backfill ticket (if any) first.
    pub(crate) tickets: Vec<Arc<str>>,
    pub(crate) backfill: Option<Arc<str>>,
    /// Where it can be played, nearest first.
    pub(crate) locations: Vec<String>,
    /// While awaiting acceptance: the deadline and each asked player's answer so far.
    pub(crate) acceptance: Option<AcceptanceState>,
}

#[derive(Debug)]
pub(crate) struct AcceptanceState {
    pub(crate) deadline: Seconds,
    pub(crate) answers: BTreeMap<String, Option<bool>>,
}

/// A batch of one configuration, taken off the engine to run anywhere (it is `Send`).
#[derive(Debug)]
pub struct BatchJob {
    configuration: String,
    matchmaker: Matchmaker,
    now: Seconds,
    seed: u64,
}

/// A batch that ran, to hand back with [`Engine::finish_batch`].
#[derive(Debug)]
pub struct BatchDone {
    configuration: String,
    matchmaker: Matchmaker,
    matches: Vec<Match>,
}

impl BatchJob {
    pub fn configuration(&self) -> &str {
        &self.configuration
    }

    /// Runs the batch: the standing pool's search around what changed.
    pub fn run(mut self) -> BatchDone {
        let matches = self.matchmaker.run_batch(self.now, self.seed);
        BatchDone {
            configuration: self.configuration,
            matchmaker: self.matchmaker,
            matches,
        }
    }
}

impl BatchDone {
    pub fn matches(&self) -> usize {
        self.matches.len()
    }
}

impl Engine {
    /// Configurations whose batch is due by `now` and whose pool is not out in a batch.
    pub fn due_batches(&self, now: Seconds) -> Vec<String> {
        self.configs
            .iter()
            .filter(|(_, s)| {
                s.matchmaker.is_some() && s.has_work() && s.next_batch <= now + GRID_SLACK
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Runs every due batch here and now (the simulator's and the tests' driver).
    pub fn run_due_batches(&mut self, now: Seconds) {
        self.advance(now);
        for name in self.due_batches(now) {
            if let Some(job) = self.begin_batch(now, &name) {
                let done = job.run();
                self.finish_batch(now, done);
            }
        }
    }

    /// Starts a batch of `configuration` at `now`: the tickets queued go into its pool (and
    /// are SEARCHING from now), and the pool leaves with the job. `None` if the pool is out
    /// already or there is no such configuration.
    pub fn begin_batch(&mut self, now: Seconds, configuration: &str) -> Option<BatchJob> {
        self.advance(now);
        let seed = self.rng.next_u64();
        let state = self.configs.get_mut(configuration)?;
        let mut matchmaker = state.matchmaker.take()?;
        let queued = std::mem::take(&mut state.queued);
        let interval = state.config.batch_interval();
        state.next_batch = state.grid_at_or_after(now + interval * 0.5);
        let name = state.name.clone();
        self.insert_queued(now, &name, &mut matchmaker, queued);
        Some(BatchJob {
            configuration: configuration.to_string(),
            matchmaker,
            now,
            seed,
        })
    }

    /// Inserts queued tickets still waiting that are not in the pool yet (new ones went in
    /// on arrival unless a batch held it); new ones start SEARCHING, and say so.
    fn insert_queued(
        &mut self,
        now: Seconds,
        configuration: &Arc<str>,
        matchmaker: &mut Matchmaker,
        queued: Vec<Arc<str>>,
    ) {
        let mut searching = MatchmakingEvent::new(
            MatchmakingEventType::MatchmakingSearching,
            now,
            configuration,
        );
        for id in queued {
            let Some(record) = self.tickets.get_mut(&id) else {
                continue;
            };
            let waiting = matches!(
                record.status,
                TicketStatus::Queued | TicketStatus::Searching
            );
            if !waiting {
                continue;
            }
            if matchmaker.pool().key_of(&id).is_none()
                && let Err(rejected) = matchmaker.insert(&record.request.ticket(&record.id))
            {
                let message = format!("the pool refused the ticket: {}", rejected.0);
                self.finish_ticket(now, &id, TicketStatus::Failed, None, Some(&message));
                continue;
            }
            if record.status == TicketStatus::Queued {
                record.status = TicketStatus::Searching;
                searching.tickets.push(event_ticket(record, false));
            }
        }
        if !searching.tickets.is_empty() {
            self.emit(searching);
        }
    }

    /// Hands a batch back: tickets that ended meanwhile leave the pool, and each match
    /// whose tickets all still search is proposed (the others' tickets search on).
    pub fn finish_batch(&mut self, now: Seconds, done: BatchDone) {
        self.advance(now);
        let Some(state) = self.configs.get_mut(&done.configuration) else {
            return;
        };
        let mut matchmaker = done.matchmaker;
        let name = state.name.clone();
        let rule_set = state.rule_set.clone();
        // Matches first: one with a ticket that left meanwhile falls through, and takes
        // that ticket out of the pool with it.
        for found in &done.matches {
            self.take_match(now, &name, &rule_set, &mut matchmaker, found);
        }
        let state = self
            .configs
            .get_mut(&done.configuration)
            .expect("held above");
        for id in std::mem::take(&mut state.leaving) {
            if let Some(key) = matchmaker.pool().key_of(&id) {
                matchmaker.remove(key);
            }
        }
        state.matchmaker = Some(matchmaker);
        if std::mem::take(&mut state.rebuild) {
            self.rebuild_pool(now, &done.configuration);
        }
    }

    /// A match out of the pool: proposed if every ticket still searches, else its tickets
    /// that do search on.
    fn take_match(
        &mut self,
        now: Seconds,
        configuration: &Arc<str>,
        rule_set: &rally_rules::RuleSet,
        matchmaker: &mut Matchmaker,
        found: &Match,
    ) {
        let pool = matchmaker.pool();
        let id_of = |key| -> Arc<str> { Arc::from(&*pool.ticket(key).id) };
        let mut teams: Vec<(Arc<str>, Arc<str>)> = Vec::new();
        for (team, keys) in found.teams.iter().enumerate() {
            let name: Arc<str> = rule_set.teams[team].name.as_str().into();
            teams.extend(keys.iter().map(|key| (id_of(*key), name.clone())));
        }
        let backfill = found.backfill.map(id_of);
        let locations: Vec<String> = found
            .locations
            .iter()
            .map(|l| pool.location_name(*l).to_string())
            .collect();
        let keys = found.tickets();
        let ids: Vec<Arc<str>> = keys.iter().map(|k| id_of(*k)).collect();
        for key in keys {
            matchmaker.remove(key);
        }
        let searching =
            |engine: &Engine, id: &Arc<str>| engine.tickets[id].status == TicketStatus::Searching;
        if !ids.iter().all(|id| searching(self, id)) {
            let still: Vec<Arc<str>> = ids
                .iter()
                .filter(|id| searching(self, id))
                .cloned()
                .collect();
            for id in still {
                self.queue(configuration, id, now);
            }
            return;
        }
        let match_id: Arc<str> = found.id.to_string().into();
        self.propose(
            now,
            configuration,
            rule_set,
            match_id,
            teams,
            backfill,
            locations,
        );
    }

    /// Records a proposal, tells listeners (`PotentialMatchCreated`), and asks for
    /// acceptance or goes on at once.
    #[allow(clippy::too_many_arguments)]
    fn propose(
        &mut self,
        now: Seconds,
        configuration: &Arc<str>,
        rule_set: &rally_rules::RuleSet,
        match_id: Arc<str>,
        teams: Vec<(Arc<str>, Arc<str>)>,
        backfill: Option<Arc<str>>,
        locations: Vec<String>,
    ) {
        let config = self.configs[&**configuration].config.clone();
        let mut tickets: Vec<Arc<str>> = backfill.iter().cloned().collect();
        for (id, team) in &teams {
            if !tickets.contains(id) {
                tickets.push(id.clone());
            }
            let record = self.tickets.get_mut(id).expect("a ticket of the match");
            record.match_id = Some(match_id.clone());
            if Some(id) != backfill.as_ref() {
                record.teams = vec![Some(team.clone()); record.request.players.len()];
            }
        }
        let acceptance = config.acceptance_required.then(|| AcceptanceState {
            deadline: now + config.acceptance_timeout(),
            answers: tickets
                .iter()
                .filter(|id| Some(*id) != backfill.as_ref())
                .flat_map(|id| self.tickets[id].request.players.iter())
                .map(|p| (p.id.to_string(), None))
                .collect(),
        });
        let mut event = self.match_event(
            MatchmakingEventType::PotentialMatchCreated,
            now,
            configuration,
            &match_id,
            &tickets,
            &locations,
        );
        event.acceptance_required = Some(config.acceptance_required);
        if config.acceptance_required {
            event.acceptance_timeout = config.acceptance_timeout_seconds.or(Some(600));
        }
        event.rule_evaluation_metrics = rule_set
            .rules
            .iter()
            .map(|rule| RuleMetric {
                rule_name: rule.name.clone(),
                passed_count: 1,
                failed_count: 0,
            })
            .collect();
        self.emit(event);
        let awaiting = acceptance.is_some();
        if let Some(state) = &acceptance {
            self.set_timer(state.deadline, Timer::AcceptanceTimeout(match_id.clone()));
        }
        self.proposals.insert(
            match_id.clone(),
            Proposal {
                configuration: configuration.clone(),
                tickets: tickets.clone(),
                backfill,
                locations,
                acceptance,
            },
        );
        if awaiting {
            for id in &tickets {
                self.tickets.get_mut(id).expect("held").status = TicketStatus::RequiresAcceptance;
            }
        } else {
            self.proceed(now, &match_id);
        }
    }

    /// An event about a match, listing its tickets and players.
    pub(crate) fn match_event(
        &self,
        event_type: MatchmakingEventType,
        now: Seconds,
        configuration: &str,
        match_id: &str,
        tickets: &[Arc<str>],
        locations: &[String],
    ) -> MatchmakingEvent {
        let mut event = MatchmakingEvent::new(event_type, now, configuration);
        event.match_id = Some(match_id.to_string());
        let sessions = event_type == MatchmakingEventType::MatchmakingSucceeded;
        let listed: Vec<_> = tickets
            .iter()
            .map(|id| event_ticket(&self.tickets[id], sessions))
            .collect();
        let connection = tickets
            .first()
            .and_then(|id| self.tickets[id].connection.clone());
        let players: Vec<EventPlayer> = listed.iter().flat_map(|t| t.players.clone()).collect();
        event.game_session_info = Some(GameSessionInfo {
            game_session_arn: connection.as_ref().and_then(|c| c.game_session_arn.clone()),
            ip_address: connection.as_ref().and_then(|c| c.ip_address.clone()),
            dns_name: connection.as_ref().and_then(|c| c.dns_name.clone()),
            port: connection.as_ref().and_then(|c| c.port),
            players,
            locations: locations.to_vec(),
        });
        event.tickets = listed;
        event
    }

    /// `AcceptMatch`: records the players' answers; a rejection ends the acceptance at once,
    /// the last acceptance lets the match go on.
    pub fn accept_match(&mut self, now: Seconds, request: AcceptMatch) -> Result<(), EngineError> {
        self.advance(now);
        let match_id = self.awaiting_match(&request)?;
        let proposal = self.proposals.get_mut(&match_id).expect("checked");
        let answers = &mut proposal.acceptance.as_mut().expect("checked").answers;
        let accepted = request.acceptance_type == AcceptanceType::Accept;
        for player in &request.player_ids {
            answers.insert(player.clone(), Some(accepted));
        }
        let all_accepted = answers.values().all(|a| *a == Some(true));
        let mut event = self.acceptance_event(MatchmakingEventType::AcceptMatch, now, &match_id);
        event.acceptance = None;
        self.emit(event);
        if !accepted {
            self.end_acceptance(now, &match_id, Acceptance::Rejected);
        } else if all_accepted {
            self.end_acceptance(now, &match_id, Acceptance::Accepted);
        }
        Ok(())
    }

    /// The match a ticket awaits acceptance for, checking the players are the ticket's.
    fn awaiting_match(&self, request: &AcceptMatch) -> Result<Arc<str>, EngineError> {
        let record = self
            .tickets
            .get(request.ticket_id.as_str())
            .ok_or_else(|| {
                EngineError::not_found("TicketId", format!("no ticket `{}`", request.ticket_id))
            })?;
        if record.status != TicketStatus::RequiresAcceptance {
            return Err(EngineError::failed_precondition(
                "TicketId",
                format!(
                    "ticket `{}` is {}, not REQUIRES_ACCEPTANCE",
                    request.ticket_id, record.status
                ),
            ));
        }
        if request.player_ids.is_empty() {
            return Err(EngineError::invalid(
                "PlayerIds",
                "expected one or more player ids",
            ));
        }
        for (i, player) in request.player_ids.iter().enumerate() {
            if !record.request.players.iter().any(|p| *p.id == **player) {
                return Err(EngineError::invalid(
                    &format!("PlayerIds[{i}]"),
                    format!("player `{player}` is not in ticket `{}`", request.ticket_id),
                ));
            }
        }
        Ok(record
            .match_id
            .clone()
            .expect("a ticket awaiting acceptance is in a match"))
    }

    fn acceptance_event(
        &self,
        event_type: MatchmakingEventType,
        now: Seconds,
        match_id: &Arc<str>,
    ) -> MatchmakingEvent {
        let proposal = &self.proposals[match_id];
        let mut event = self.match_event(
            event_type,
            now,
            &proposal.configuration,
            match_id,
            &proposal.tickets,
            &proposal.locations,
        );
        let answers = &proposal
            .acceptance
            .as_ref()
            .expect("awaiting acceptance")
            .answers;
        for ticket in &mut event.tickets {
            for player in &mut ticket.players {
                player.accepted = answers.get(&player.player_id).copied().flatten();
            }
        }
        event
    }

    /// The acceptance deadline came with answers missing.
    pub(crate) fn acceptance_timed_out(&mut self, match_id: &Arc<str>, at: Seconds) {
        let due = self
            .proposals
            .get(match_id)
            .and_then(|p| p.acceptance.as_ref())
            .is_some_and(|a| a.deadline <= at);
        if due {
            self.end_acceptance(at, match_id, Acceptance::TimedOut);
        }
    }

    /// Ends an acceptance: all accepted, the match goes on; else tickets whose players all
    /// accepted go back to the pool with their start times, and the rest are CANCELLED.
    fn end_acceptance(&mut self, now: Seconds, match_id: &Arc<str>, outcome: Acceptance) {
        let mut event =
            self.acceptance_event(MatchmakingEventType::AcceptMatchCompleted, now, match_id);
        event.acceptance = Some(outcome);
        self.emit(event);
        let proposal = self
            .proposals
            .get_mut(match_id)
            .expect("awaiting acceptance");
        let answers = proposal
            .acceptance
            .take()
            .expect("awaiting acceptance")
            .answers;
        if outcome == Acceptance::Accepted {
            for id in proposal.tickets.clone() {
                self.tickets.get_mut(&id).expect("held").status = TicketStatus::Searching;
            }
            self.proceed(now, match_id);
            return;
        }
        let proposal = self
            .proposals
            .remove(match_id)
            .expect("awaiting acceptance");
        let (back, out): (Vec<Arc<str>>, Vec<Arc<str>>) =
            proposal.tickets.iter().cloned().partition(|id| {
                self.tickets[id]
                    .request
                    .players
                    .iter()
                    .all(|p| answers.get(&*p.id).is_none_or(|a| *a == Some(true)))
            });
        let (reason, message) = match outcome {
            Acceptance::Rejected => ("Rejected", "A player rejected the match."),
            _ => (
                "AcceptanceTimedOut",
                "A player did not accept the match in time.",
            ),
        };
        for id in &out {
            self.end_ticket(
                now,
                id,
                TicketStatus::Cancelled,
                reason,
                message,
                MatchmakingEventType::MatchmakingCancelled,
            );
        }
        self.return_to_pool(now, &back, reason);
    }

    /// An accepted (or acceptance-free) match goes on: a backfill or STANDALONE match
    /// completes, a WITH_QUEUE match is placed.
    fn proceed(&mut self, now: Seconds, match_id: &Arc<str>) {
        let proposal = &self.proposals[match_id];
        let config = &self.configs[&*proposal.configuration].config;
        if let Some(backfill) = proposal.backfill.clone() {
            let arn = self.tickets[&backfill]
                .request
                .game_session_arn
                .as_deref()
                .unwrap_or_default()
                .to_string();
            let connection = self.backfill_connection(&arn, match_id);
            self.complete(now, match_id, connection);
        } else if config.flex_match_mode == crate::config::FlexMatchMode::Standalone {
            let connection = ConnectionInfo {
                locations: proposal.locations.clone(),
                ..ConnectionInfo::default()
            };
            self.complete(now, match_id, connection);
        } else {
            self.place_match(now, match_id);
        }
    }

    /// Completes a match's tickets with where their players connect (`MatchmakingSucceeded`).
    pub(crate) fn complete(
        &mut self,
        now: Seconds,
        match_id: &Arc<str>,
        connection: ConnectionInfo,
    ) {
        let Some(proposal) = self.proposals.remove(match_id) else {
            return;
        };
        let connection = Arc::new(connection);
        for id in &proposal.tickets {
            self.tickets.get_mut(id).expect("held").connection = Some(connection.clone());
            self.finish_ticket(now, id, TicketStatus::Completed, None, None);
        }
        let event = self.match_event(
            MatchmakingEventType::MatchmakingSucceeded,
            now,
            &proposal.configuration,
            match_id,
            &proposal.tickets,
            &proposal.locations,
        );
        self.emit(event);
    }

    /// A match loses a ticket (stopped, timed out): the others go back to the pool, and a
    /// placement under way is stopped.
    pub(crate) fn dissolve(&mut self, now: Seconds, match_id: &Arc<str>, leaving: &Arc<str>) {
        let Some(proposal) = self.proposals.remove(match_id) else {
            return;
        };
        let placing = self.tickets[leaving].status == TicketStatus::Placing;
        let back: Vec<Arc<str>> = proposal
            .tickets
            .iter()
            .filter(|id| *id != leaving)
            .cloned()
            .collect();
        self.return_to_pool(now, &back, "MatchFellThrough");
        if placing {
            // Its placement is PENDING (a fulfilled one would have completed the match);
            // its cancellation event says so.
            let _ = self.placer.stop(match_id, now);
            self.drain_placer(now);
        }
    }

    /// Hands each player session a fresh id.
    pub(crate) fn player_session_id(&mut self) -> String {
        format!("psess-{}", self.uuid())
    }
}
