//! rally's rule-set language: FlexMatch JSON rule sets, property expressions and the rally DSL,
//! read into one model, checked with diagnostics a designer can act on, and compiled for the matcher.

pub mod ast;
pub mod diagnostic;
pub mod expr;
mod grammar;
pub mod json;
mod lex;
pub mod span;
pub mod suggest;
