//! How the simulated players and game servers behave: whether and when players answer a
//! match that needs acceptance, and how long a game session lasts before its slot is free.

use rand::Rng;

use rally_base::Seconds;

/// The models, with defaults a studio would start from.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// The chance each ticket's players accept a match (a ticket answers as one).
    pub accept_probability: f64,
    /// Seconds before a ticket answers, drawn uniformly in this range.
    pub accept_delay: (Seconds, Seconds),
    /// Seconds a game session lasts, drawn uniformly in this range.
    pub session_duration: (Seconds, Seconds),
}

impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            accept_probability: 0.95,
            accept_delay: (2.0, 10.0),
            session_duration: (20.0 * 60.0, 40.0 * 60.0),
        }
    }
}

impl Behaviour {
    /// Whether a ticket accepts, and after how long.
    pub(crate) fn answer(&self, rng: &mut impl Rng) -> (bool, Seconds) {
        let accepts = rng.random_bool(self.accept_probability.clamp(0.0, 1.0));
        (accepts, uniform(rng, self.accept_delay))
    }

    /// How long a game session lasts.
    pub(crate) fn session(&self, rng: &mut impl Rng) -> Seconds {
        uniform(rng, self.session_duration)
    }
}

fn uniform(rng: &mut impl Rng, (low, high): (Seconds, Seconds)) -> Seconds {
    if high > low {
        rng.random_range(low..high)
    } else {
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn draws_stay_in_their_ranges_and_repeat_with_the_seed() {
        let behaviour = Behaviour::default();
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..200)
                .map(|_| (behaviour.answer(&mut rng), behaviour.session(&mut rng)))
                .collect::<Vec<_>>()
        };
        let draws = draw(3);
        assert_eq!(draws, draw(3));
        for ((_, delay), session) in &draws {
            assert!((2.0..10.0).contains(delay));
            assert!((1200.0..2400.0).contains(session));
        }
        let accepted = draws.iter().filter(|((a, _), _)| *a).count();
        assert!(
            (170..=200).contains(&accepted),
            "{accepted} of 200 accepted"
        );
    }

    #[test]
    fn certain_models_are_certain() {
        let behaviour = Behaviour {
            accept_probability: 0.0,
            accept_delay: (3.0, 3.0),
            session_duration: (60.0, 60.0),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(behaviour.answer(&mut rng), (false, 3.0));
        assert_eq!(behaviour.session(&mut rng), 60.0);
    }
}
