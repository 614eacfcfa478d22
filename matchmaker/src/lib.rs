//! The batch matcher: tickets, ticket pools, and forming matches from a pool under a compiled rule set.
