//! Why a placement ended without a game session: what ruled out each of its queue's
//! candidates, gathered by rule, so that an operator reads one line and a service can put the
//! parts on an event.

use std::fmt;
use std::sync::Arc;

use crate::model::LocationStatus;

/// The first rule a candidate (a destination fleet in one of its locations) broke, in the
/// order the placer applies them.
#[derive(Clone, Debug, PartialEq)]
pub enum Exclusion {
    /// Left out by the queue's `FilterConfiguration.AllowedLocations`.
    NotAllowed,
    /// Not in the request's `PriorityConfigurationOverride.LocationOrder`, whose fallback is
    /// NONE.
    NotInOverride,
    /// A game session there holds fewer players than the request asks for.
    TooFewPlayers { max_players: u32, requested: u32 },
    /// A player reports no latency there, and the queue assumes none.
    NoLatency { player: String },
    /// A player's latency there is over the cap in force.
    OverLatencyCap {
        player: String,
        latency_ms: f64,
        cap_ms: f64,
    },
    /// The location is not ACTIVE.
    NotActive(LocationStatus),
    /// A Spot location whose interruption risk is not acceptable.
    SpotNotViable,
    /// Every game session there is in use.
    Full,
}

impl Exclusion {
    /// The rule's place in the order rules apply: exclusions are gathered and listed by it.
    fn rule(&self) -> u8 {
        match self {
            Exclusion::NotAllowed => 0,
            Exclusion::NotInOverride => 1,
            Exclusion::TooFewPlayers { .. } => 2,
            Exclusion::NoLatency { .. } => 3,
            Exclusion::OverLatencyCap { .. } => 4,
            Exclusion::NotActive(_) => 5,
            Exclusion::SpotNotViable => 6,
            Exclusion::Full => 7,
        }
    }

    /// Whether this one names a better example than `other` of the same rule: for the
    /// latency cap, the candidate nearest under it; otherwise the first in the queue's order.
    fn nearer_than(&self, other: &Exclusion) -> bool {
        match (self, other) {
            (
                Exclusion::OverLatencyCap { latency_ms: a, .. },
                Exclusion::OverLatencyCap { latency_ms: b, .. },
            ) => a < b,
            _ => false,
        }
    }
}

/// The candidates one rule ruled out: how many, and one of them by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Excluded {
    /// The named candidate's exclusion (see `candidates` for how many share the rule).
    pub exclusion: Exclusion,
    pub candidates: u32,
    pub fleet_id: Arc<str>,
    pub location: Arc<str>,
}

/// Why a placement ended CANCELLED, TIMED_OUT or FAILED.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// `StopGameSessionPlacement` cancelled it.
    Cancelled,
    /// FAILED: its queue was deleted while it was PENDING (GameLift: "unfulfilled
    /// `StartGameSessionPlacement` requests that reference the queue will fail").
    QueueDeleted,
    /// TIMED_OUT: what ruled out each candidate at the request's last decision, with the
    /// capacity and status at the timeout. Empty when the queue has no destinations.
    TimedOut(Vec<Excluded>),
    /// FAILED at once, on a queue whose `Unplaceable` is FAIL: the rules that never change
    /// and rule out every candidate, under the loosest latency cap. Empty when the queue has
    /// no destinations.
    NeverPlaceable(Vec<Excluded>),
}

impl Reason {
    /// What ruled the candidates out, by rule in the order rules apply; empty for a
    /// cancellation.
    pub fn excluded(&self) -> &[Excluded] {
        match self {
            Reason::Cancelled | Reason::QueueDeleted => &[],
            Reason::TimedOut(excluded) | Reason::NeverPlaceable(excluded) => excluded,
        }
    }
}

/// Gathers candidates' exclusions, `(exclusion, fleet id, location)` in the queue's order,
/// by rule.
pub(crate) fn gather(
    exclusions: impl IntoIterator<Item = (Exclusion, Arc<str>, Arc<str>)>,
) -> Vec<Excluded> {
    let mut gathered: Vec<Excluded> = Vec::new();
    for (exclusion, fleet_id, location) in exclusions {
        match gathered
            .iter_mut()
            .find(|g| g.exclusion.rule() == exclusion.rule())
        {
            Some(group) => {
                group.candidates += 1;
                if exclusion.nearer_than(&group.exclusion) {
                    (group.exclusion, group.fleet_id, group.location) =
                        (exclusion, fleet_id, location);
                }
            }
            None => gathered.push(Excluded {
                exclusion,
                candidates: 1,
                fleet_id,
                location,
            }),
        }
    }
    gathered.sort_by_key(|g| g.exclusion.rule());
    gathered
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lead, excluded) = match self {
            Reason::Cancelled => return f.write_str("cancelled by `StopGameSessionPlacement`"),
            Reason::QueueDeleted => return f.write_str("its queue was deleted while it waited"),
            Reason::TimedOut(excluded) => (
                "no fleet location could host it before the timeout",
                excluded,
            ),
            Reason::NeverPlaceable(excluded) => ("no fleet location can ever host it", excluded),
        };
        if excluded.is_empty() {
            return f.write_str("its queue has no destinations");
        }
        write!(f, "{lead}: ")?;
        for (i, group) in excluded.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{group}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Excluded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.candidates;
        let at = format!("`{}` in `{}`", self.fleet_id, self.location);
        // The named candidate is an example only when the rule ruled out several.
        let eg = if n > 1 { "e.g. " } else { "" };
        match &self.exclusion {
            Exclusion::NotAllowed => write!(f, "{n} filtered out by `AllowedLocations` ({eg}{at})"),
            Exclusion::NotInOverride => {
                write!(f, "{n} not in the override's `LocationOrder` ({eg}{at})")
            }
            Exclusion::TooFewPlayers {
                max_players,
                requested,
            } => write!(
                f,
                "{n} too small for {requested} players ({eg}{at} holds {max_players})"
            ),
            Exclusion::NoLatency { player } => write!(
                f,
                "{n} without a latency from every player ({eg}none from player `{player}` for {at})"
            ),
            Exclusion::OverLatencyCap {
                player,
                latency_ms,
                cap_ms,
            } => write!(
                f,
                "{n} over the {cap_ms} ms latency cap (nearest: player `{player}` at {latency_ms} ms to {at})"
            ),
            Exclusion::NotActive(status) => {
                write!(f, "{n} not ACTIVE ({eg}{at} is {})", status.as_str())
            }
            Exclusion::SpotNotViable => write!(f, "{n} Spot and not viable ({eg}{at})"),
            Exclusion::Full => write!(f, "{n} full ({eg}{at})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(exclusion: Exclusion, fleet: &str, location: &str) -> (Exclusion, Arc<str>, Arc<str>) {
        (exclusion, fleet.into(), location.into())
    }

    fn over(player: &str, latency_ms: f64) -> Exclusion {
        Exclusion::OverLatencyCap {
            player: player.into(),
            latency_ms,
            cap_ms: 100.0,
        }
    }

    #[test]
    fn gathers_by_rule_in_the_order_rules_apply_naming_the_nearest_over_the_cap() {
        let gathered = gather([
            at(Exclusion::Full, "spot", "us-east-1"),
            at(over("a", 180.0), "spot", "eu-west-1"),
            at(Exclusion::NotAllowed, "demand", "ap-south-1"),
            at(over("b", 120.0), "demand", "eu-west-1"),
            at(Exclusion::Full, "demand", "us-east-1"),
        ]);
        let summary: Vec<(u8, u32, &str, &str)> = gathered
            .iter()
            .map(|g| (g.exclusion.rule(), g.candidates, &*g.fleet_id, &*g.location))
            .collect();
        assert_eq!(
            summary,
            [
                (0, 1, "demand", "ap-south-1"),
                (4, 2, "demand", "eu-west-1"),
                (7, 2, "spot", "us-east-1"),
            ]
        );
        assert_eq!(
            Reason::TimedOut(gathered).to_string(),
            "no fleet location could host it before the timeout: \
             1 filtered out by `AllowedLocations` (`demand` in `ap-south-1`); \
             2 over the 100 ms latency cap (nearest: player `b` at 120 ms to `demand` in `eu-west-1`); \
             2 full (e.g. `spot` in `us-east-1`)"
        );
    }

    #[test]
    fn says_each_rule_and_the_empty_queue_in_one_line() {
        let one = |exclusion| Reason::NeverPlaceable(gather([at(exclusion, "f", "x")]));
        let cases = [
            (
                one(Exclusion::NotInOverride),
                "1 not in the override's `LocationOrder` (`f` in `x`)",
            ),
            (
                one(Exclusion::TooFewPlayers {
                    max_players: 10,
                    requested: 12,
                }),
                "1 too small for 12 players (`f` in `x` holds 10)",
            ),
            (
                one(Exclusion::NoLatency { player: "b".into() }),
                "1 without a latency from every player (none from player `b` for `f` in `x`)",
            ),
            (
                one(Exclusion::NotActive(LocationStatus::Activating)),
                "1 not ACTIVE (`f` in `x` is ACTIVATING)",
            ),
            (
                one(Exclusion::SpotNotViable),
                "1 Spot and not viable (`f` in `x`)",
            ),
        ];
        for (reason, part) in cases {
            assert_eq!(
                reason.to_string(),
                format!("no fleet location can ever host it: {part}")
            );
        }
        assert_eq!(
            Reason::TimedOut(Vec::new()).to_string(),
            "its queue has no destinations"
        );
        assert_eq!(
            Reason::Cancelled.to_string(),
            "cancelled by `StopGameSessionPlacement`"
        );
        assert!(Reason::Cancelled.excluded().is_empty());
        assert_eq!(
            Reason::QueueDeleted.to_string(),
            "its queue was deleted while it waited"
        );
    }
}
