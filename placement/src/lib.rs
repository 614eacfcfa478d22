//! Game-session placement: fleets, locations, queues, and choosing where each match runs.
