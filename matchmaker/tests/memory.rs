//! What a pooled ticket costs in memory: a global allocator tallies the live heap while a
//! pool of ten-attribute tickets (`fixtures/rulesets/profile_5v5.rules`) fills.
//!
//! Issue 3's target is at most 1 KiB per pooled ticket (`CEILING`), and issue 11's the same
//! for a standing pool's waiting ticket, its live index included.
//!
//! Counts are of requested bytes plus a malloc header per live allocation, so they do not
//! depend on timing or on the machine; the tests are the only ones in their binary and take
//! turns (`SERIAL`), so nothing else allocates while one counts.

mod support;

use rally_matchmaker::generate::{GenerateOptions, Population, tickets};
use rally_matchmaker::pool::Pool;
use rally_matchmaker::standing::Matchmaker;
use rally_matchmaker::ticket::NewTicket;
use rally_rules::model::{AttributeValue, RuleSet};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

/// glibc's per-chunk header and rounding, on average: what an allocation costs beyond the
/// bytes asked for.
const MALLOC_OVERHEAD: isize = 16;

/// What a pooled solo ticket of the fixture may cost; 933 B measured when this was set.
const CEILING: f64 = 1_024.0;

#[global_allocator]
static ALLOCATOR: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Held by each test while it counts.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Bytes the pool holds per ticket once `requests` are in it.
fn bytes_per_ticket(rule_set: &RuleSet, requests: &[NewTicket]) -> f64 {
    let region = Region::new(ALLOCATOR);
    let mut pool = Pool::new(std::sync::Arc::new(rule_set.clone()));
    for request in requests {
        pool.insert(request)
            .expect("generated tickets fit the rule set");
    }
    let change = region.change();
    // stats_alloc already counts a reallocation's growth in `bytes_allocated` (and its
    // shrinking in `bytes_deallocated`); `bytes_reallocated` repeats it.
    let bytes = change.bytes_allocated as isize - change.bytes_deallocated as isize;
    let allocations = change.allocations as isize - change.deallocations as isize;
    eprintln!(
        "{:.2} allocations and {:.0} bytes asked for per ticket",
        allocations as f64 / requests.len() as f64,
        bytes as f64 / requests.len() as f64
    );
    let held = bytes + MALLOC_OVERHEAD * allocations + std::mem::size_of::<Pool>() as isize;
    assert_eq!(pool.len(), requests.len());
    drop(pool);
    held as f64 / requests.len() as f64
}

/// Bytes a standing pool holds per waiting ticket once `requests` are in it and a batch has
/// built its live index: the pool's bytes per ticket, and what the batch left held (the live
/// index and the standing pool's bookkeeping) per ticket left waiting.
fn bytes_per_standing_ticket(rule_set: &RuleSet, requests: &[NewTicket]) -> f64 {
    let filling = Region::new(ALLOCATOR);
    let mut matchmaker = Matchmaker::new(std::sync::Arc::new(rule_set.clone()));
    for request in requests {
        matchmaker
            .insert(request)
            .expect("generated tickets fit the rule set");
    }
    let pooled = held(filling.change()) + std::mem::size_of::<Matchmaker>() as isize;
    let batching = Region::new(ALLOCATOR);
    let matches = matchmaker.run_batch(60.0, 0);
    let indexed = held(batching.change());
    let waiting = matchmaker.waiting();
    assert!(
        waiting > requests.len() / 2,
        "{waiting} of {} tickets wait ({} matches)",
        requests.len(),
        matches.len()
    );
    eprintln!(
        "standing pool: {:.0} B per ticket pooled, {:.0} B per waiting ticket indexed",
        pooled as f64 / requests.len() as f64,
        indexed as f64 / waiting as f64
    );
    drop(matchmaker);
    pooled as f64 / requests.len() as f64 + indexed as f64 / waiting as f64
}

/// The bytes, malloc headers included, that a region's allocations still hold.
fn held(change: stats_alloc::Stats) -> isize {
    let bytes = change.bytes_allocated as isize - change.bytes_deallocated as isize;
    let allocations = change.allocations as isize - change.deallocations as isize;
    bytes + MALLOC_OVERHEAD * allocations
}

fn profile_5v5() -> RuleSet {
    support::rule_set_from(&support::repo_root().join("fixtures/rulesets/profile_5v5.rules"))
}

#[test]
fn a_standing_ten_attribute_ticket_with_its_live_index_stays_under_the_ceiling() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rule_set = profile_5v5();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let requests: Vec<NewTicket> = tickets(
        &rule_set,
        &Population::embedded(),
        GenerateOptions::new(2_000, 60.0),
        &mut rng,
    )
    .map(|mut ticket| {
        ticket.players.truncate(1);
        // A queue at peak: about two tickets share each mode, so few can match.
        let mode = AttributeValue::StringList(vec![format!(
            "mode-{}",
            &ticket.id[1..].parse::<usize>().unwrap() / 2
        )]);
        ticket.players[0].attributes.insert("modes".into(), mode);
        ticket
    })
    .collect();
    let standing = bytes_per_standing_ticket(&rule_set, &requests);
    eprintln!("standing solo ticket, live index included: {standing:.0} B");
    assert!(
        standing <= CEILING,
        "a standing solo ticket holds {standing:.0} bytes"
    );
}

#[test]
fn a_pooled_ten_attribute_ticket_stays_under_the_ceiling() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rule_set = profile_5v5();
    assert_eq!(rule_set.attributes.len(), 10);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut requests: Vec<_> = tickets(
        &rule_set,
        &Population::embedded(),
        GenerateOptions::new(20_000, 60.0),
        &mut rng,
    )
    .collect();
    // The target is per ticket of one player; parties are measured per player below.
    let players: usize = requests.iter().map(|t| t.players.len()).sum();
    let party_bytes = bytes_per_ticket(&rule_set, &requests) * requests.len() as f64;
    for request in &mut requests {
        request.players.truncate(1);
    }
    let solo = bytes_per_ticket(&rule_set, &requests);
    let per_player = party_bytes / players as f64;
    eprintln!("solo ticket: {solo:.0} B; in parties: {per_player:.0} B per player");
    assert!(
        solo <= CEILING,
        "a pooled solo ticket holds {solo:.0} bytes"
    );
    // A party shares its ticket's bookkeeping, so a player costs less than a solo ticket.
    assert!(
        per_player < solo,
        "{per_player:.0} B per party player, {solo:.0} B solo"
    );
}
