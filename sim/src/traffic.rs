//! Generated traffic: a trace a day of real players could have sent. Tickets arrive as a
//! Poisson process whose rate follows a diurnal curve of concurrent players (by UTC hour);
//! each is drawn by the matchmaker's generator (regions and latencies, skill, parties), and
//! its players give up after a modelled patience (a StopMatchmaking then, which the engine
//! refuses harmlessly when their match came first).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rally_base::{Seconds, Time};
use rally_engine::trace::TraceEntry;
use rally_engine::{Command, StartMatchmaking};
use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_rules::model::RuleSet;
use rand::Rng;

/// The shape of a day: relative concurrent players in each UTC hour (mean 1), from
/// `fixtures/data/diurnal_ccu.csv` (Dota 2 and Counter-Strike 2 on SteamDB).
pub const DIURNAL_CCU: &str = include_str!("../../fixtures/data/diurnal_ccu.csv");

#[derive(Clone, Debug, PartialEq)]
pub struct TrafficOptions {
    /// Seconds of traffic.
    pub duration: Seconds,
    /// Mean tickets per second over a whole day of the curve.
    pub rate: f64,
    /// Relative arrival rate by UTC hour (24 values), or one value for a flat rate.
    pub curve: Vec<f64>,
    /// The UTC hour the trace starts at.
    pub start_hour: f64,
    /// Seconds a ticket's players wait before they give up, drawn uniformly in this range
    /// (an assumption: no study of matchmaking patience is published).
    pub patience: (Seconds, Seconds),
    /// The configuration the tickets name.
    pub configuration_name: String,
}

impl TrafficOptions {
    pub fn new(duration: Seconds, rate: f64) -> TrafficOptions {
        TrafficOptions {
            duration,
            rate,
            curve: vec![1.0],
            start_hour: 0.0,
            patience: (30.0, 300.0),
            configuration_name: "default".into(),
        }
    }

    /// The arrival rate at `t` seconds into the trace.
    fn rate_at(&self, t: Seconds) -> f64 {
        if self.curve.len() < 24 {
            return self.rate * self.curve.first().copied().unwrap_or(1.0);
        }
        let hour = ((self.start_hour + t / 3600.0).rem_euclid(24.0)) as usize;
        self.rate * self.curve[hour.min(23)]
    }

    fn peak_rate(&self) -> f64 {
        self.rate * self.curve.iter().copied().fold(0.0, f64::max)
    }
}

/// A curve's mean and its shape (the values over their mean).
pub fn shape(values: &[f64]) -> (f64, Vec<f64>) {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    let shape = values.iter().map(|v| v / mean).collect();
    (mean, shape)
}

/// The 24 values of an `hour_utc,<value>` table (a header line, then one line per UTC
/// hour, any order); errors name the line.
pub fn parse_curve(text: &str) -> Result<Vec<f64>, String> {
    let mut curve = vec![f64::NAN; 24];
    for (i, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed = match fields[..] {
            [hour, value] => hour.parse::<usize>().ok().zip(value.parse::<f64>().ok()),
            _ => None,
        };
        match parsed {
            Some((hour, value)) if hour < 24 && value.is_finite() && value >= 0.0 => {
                curve[hour] = value;
            }
            _ => {
                return Err(format!(
                    "line {}: expected `hour_utc,relative_players` (an hour 0–23, a number ≥ 0), not `{line}`",
                    i + 1
                ));
            }
        }
    }
    if let Some(hour) = curve.iter().position(|v| v.is_nan()) {
        return Err(format!(
            "hour {hour} has no value: the table needs all 24 hours"
        ));
    }
    if curve.iter().all(|v| *v == 0.0) {
        return Err("every hour is 0: nobody would arrive".into());
    }
    Ok(curve)
}

/// The trace, in time order: arrivals (thinned from the peak rate, so the curve is followed
/// exactly) and the give-ups they cause.
pub fn traffic<'a, R: Rng>(
    rule_set: &'a RuleSet,
    population: &'a Population,
    options: &'a TrafficOptions,
    rng: &'a mut R,
) -> impl Iterator<Item = TraceEntry> + 'a {
    Traffic {
        rule_set,
        population,
        options,
        rng,
        next_arrival: 0.0,
        count: 0,
        give_ups: BinaryHeap::new(),
        pending: None,
        exhausted: false,
    }
}

struct Traffic<'a, R> {
    rule_set: &'a RuleSet,
    population: &'a Population,
    options: &'a TrafficOptions,
    rng: &'a mut R,
    next_arrival: Seconds,
    count: u64,
    /// StopMatchmaking due, by time then ticket number.
    give_ups: BinaryHeap<Reverse<(Time, u64)>>,
    /// The next arrival, drawn and not yet emitted.
    pending: Option<(Seconds, u64)>,
    /// No arrival is left before the end.
    exhausted: bool,
}

impl<R: Rng> Traffic<'_, R> {
    /// The next arrival time at or after `from`, by thinning: candidates at the peak rate,
    /// each kept with the curve's share of the peak.
    fn arrival_after(&mut self, mut from: Seconds) -> Option<Seconds> {
        let peak = self.options.peak_rate();
        if peak <= 0.0 {
            return None;
        }
        loop {
            let gap: f64 = -(1.0 - self.rng.random::<f64>()).ln() / peak;
            from += gap;
            if from >= self.options.duration {
                return None;
            }
            if self.rng.random::<f64>() * peak < self.options.rate_at(from) {
                return Some(from);
            }
        }
    }

    fn start(&mut self, t: Seconds, n: u64) -> TraceEntry {
        let options = GenerateOptions {
            // Lobby codes shared by about four tickets at a time, as the generator does.
            codes: Some(((self.options.rate * 60.0) as usize / 4).max(1)),
            ..GenerateOptions::new(1, 0.0)
        };
        let mut ticket = tickets(self.rule_set, self.population, options, self.rng)
            .next()
            .expect("one ticket asked for");
        for (i, player) in ticket.players.iter_mut().enumerate() {
            player.id = format!("player-{n}-{i}");
        }
        let (low, high) = self.options.patience;
        let patience = if high > low {
            self.rng.random_range(low..high)
        } else {
            low
        };
        self.give_ups.push(Reverse((Time(t + patience), n)));
        TraceEntry {
            t,
            command: Command::StartMatchmaking(StartMatchmaking {
                ticket_id: Some(format!("ticket-{n}")),
                configuration_name: self.options.configuration_name.clone(),
                players: ticket.players,
            }),
        }
    }
}

impl<R: Rng> Iterator for Traffic<'_, R> {
    type Item = TraceEntry;

    fn next(&mut self) -> Option<TraceEntry> {
        if self.pending.is_none() && !self.exhausted {
            match self.arrival_after(self.next_arrival) {
                Some(t) => {
                    self.pending = Some((t, self.count));
                    self.count += 1;
                }
                // Drawn once: drawing again could find an arrival before a give-up
                // already emitted.
                None => self.exhausted = true,
            }
        }
        let give_up = self.give_ups.peek().map(|Reverse((t, n))| (t.0, *n));
        match (self.pending, give_up) {
            (Some((t, n)), Some((stop, _))) if t <= stop => self.arrive(t, n),
            (Some((t, n)), None) => self.arrive(t, n),
            (_, Some((stop, n))) if stop < self.options.duration => {
                self.give_ups.pop();
                Some(TraceEntry {
                    t: stop,
                    command: Command::StopMatchmaking {
                        ticket_id: format!("ticket-{n}"),
                    },
                })
            }
            _ => None,
        }
    }
}

impl<R: Rng> Traffic<'_, R> {
    fn arrive(&mut self, t: Seconds, n: u64) -> Option<TraceEntry> {
        self.pending = None;
        self.next_arrival = t;
        Some(self.start(t, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rally_rules::{SourceFormat, check_source};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rule_set() -> RuleSet {
        let source = "attribute skill: number\nteam red players 5\nteam blue players 5\n";
        check_source(source, SourceFormat::Dsl).rule_set.unwrap()
    }

    fn generate(options: &TrafficOptions, seed: u64) -> Vec<TraceEntry> {
        let rule_set = rule_set();
        let population = Population::embedded();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        traffic(&rule_set, &population, options, &mut rng).collect()
    }

    #[test]
    fn entries_come_in_time_order_at_about_the_rate_and_repeat_with_the_seed() {
        let options = TrafficOptions::new(600.0, 20.0);
        let entries = generate(&options, 5);
        assert_eq!(entries, generate(&options, 5));
        assert!(entries.windows(2).all(|w| w[0].t <= w[1].t));
        let starts = entries
            .iter()
            .filter(|e| matches!(e.command, Command::StartMatchmaking(_)))
            .count();
        // 12,000 expected; a Poisson count's deviation is about 110.
        assert!((11_500..12_500).contains(&starts), "{starts}");
        assert!(entries.iter().all(|e| e.t < 600.0));
    }

    #[test]
    fn each_ticket_gives_up_after_its_patience_if_the_trace_lasts() {
        let mut options = TrafficOptions::new(100.0, 5.0);
        options.patience = (40.0, 40.0);
        let entries = generate(&options, 2);
        let start_of = |id: &str| {
            entries.iter().find_map(|e| match &e.command {
                Command::StartMatchmaking(s) if s.ticket_id.as_deref() == Some(id) => Some(e.t),
                _ => None,
            })
        };
        let stops: Vec<(f64, &str)> = entries
            .iter()
            .filter_map(|e| match &e.command {
                Command::StopMatchmaking { ticket_id } => Some((e.t, ticket_id.as_str())),
                _ => None,
            })
            .collect();
        assert!(!stops.is_empty());
        for (t, id) in &stops {
            let start = start_of(id).expect("a stop follows its start");
            assert!((t - start - 40.0).abs() < 1e-9, "{id}: {start} → {t}");
        }
        // Tickets arriving in the last 40 s end with the trace, not with a stop.
        let late = entries
            .iter()
            .filter(|e| e.t >= 60.0 && matches!(e.command, Command::StartMatchmaking(_)))
            .count();
        let starts = entries.len() - stops.len();
        assert_eq!(stops.len(), starts - late);
    }

    #[test]
    fn arrivals_follow_the_curve() {
        // Quiet for the first hour, busy for the second.
        let mut curve = vec![1.0; 24];
        curve[0] = 0.2;
        curve[1] = 1.8;
        let mut options = TrafficOptions::new(7200.0, 2.0);
        options.curve = curve;
        options.patience = (1e9, 1e9);
        let entries = generate(&options, 8);
        let first = entries.iter().filter(|e| e.t < 3600.0).count() as f64;
        let second = entries.len() as f64 - first;
        // 1,440 and 12,960 expected.
        assert!((1_300.0..1_600.0).contains(&first), "{first}");
        assert!((12_500.0..13_400.0).contains(&second), "{second}");
    }

    #[test]
    fn the_bundled_curve_reads_and_a_bad_table_names_its_line() {
        let (mean, curve) = shape(&parse_curve(DIURNAL_CCU).unwrap());
        assert_eq!(curve.len(), 24);
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert!((curve.iter().sum::<f64>() / 24.0 - 1.0).abs() < 1e-9);
        // Busiest in the European afternoon, quietest in its night.
        assert!(curve[14] > 1.3 && curve[2] < 0.75, "{curve:?}");
        let error = parse_curve("hour_utc,relative_players\n0,1\n1,x\n").unwrap_err();
        assert!(error.starts_with("line 3:"), "{error}");
        let error = parse_curve("hour_utc,relative_players\n0,1\n").unwrap_err();
        assert_eq!(error, "hour 1 has no value: the table needs all 24 hours");
    }
}
