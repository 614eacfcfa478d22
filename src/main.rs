//! The `rally` command line: a thin front end over the library crates.

fn main() {}
