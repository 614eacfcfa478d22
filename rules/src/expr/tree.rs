//! The syntax trees of property expressions, compound statements and expansion targets, as
//! read and before any checking: names are still names, every part keeps its span.

use crate::span::{Span, Spanned};

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(f64),
    String(String),
    Call {
        function: Spanned<String>,
        args: Vec<Expr>,
    },
    Path(Path),
    /// A literal list, e.g. a reference collection `["ctf", "tdm"]`.
    List(Vec<Expr>),
}

/// `teams[…]`, optionally followed by `.players` and then `.attributes[x]` or `[playerId]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub teams: Spanned<TeamSelector>,
    pub field: PathField,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TeamSelector {
    /// `teams[*]`
    All,
    /// `teams[red]` or `teams[red, blue]`
    Names(Vec<Spanned<String>>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum PathField {
    /// The teams themselves.
    Teams,
    /// `.players`
    Players,
    /// `.players.attributes[name]`
    Attribute(Spanned<String>),
    /// `.players[playerId]`
    PlayerId,
}

/// A compound rule's `statement`: rule names combined with `and`, `or`, `xor` and `not`.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StatementKind {
    Rule(String),
    Call {
        operator: Spanned<String>,
        args: Vec<Statement>,
    },
}

/// `rules[name].property` or `teams[a, b].property`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub component: Spanned<TargetComponent>,
    pub names: Vec<Spanned<String>>,
    pub property: Spanned<String>,
}

keywords!(
    TargetComponent {
        Rules = "rules",
        Teams = "teams",
    }
);
