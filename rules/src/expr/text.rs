//! The canonical text of expressions, statements and targets, and of the numbers and strings
//! inside them: what both printers write and what messages quote.

use std::fmt;

use super::tree::{
    Expr, ExprKind, Path, PathField, Statement, StatementKind, Target, TeamSelector,
};

/// Numbers print without a fractional part when they have none, so `10` stays `10`.
pub(crate) fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

/// A JSON-style quoted string.
pub(crate) fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings always serialise")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(number) => f.write_str(&format_number(*number)),
            ExprKind::String(text) => f.write_str(&quote(text)),
            ExprKind::Call { function, args } => {
                write!(f, "{}(", function.value)?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
            ExprKind::Path(path) => write!(f, "{path}"),
            ExprKind::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.teams.value {
            TeamSelector::All => f.write_str("teams[*]")?,
            TeamSelector::Names(names) => {
                let names: Vec<&str> = names.iter().map(|name| name.value.as_str()).collect();
                write!(f, "teams[{}]", names.join(", "))?;
            }
        }
        match &self.field {
            PathField::Teams => Ok(()),
            PathField::Players => f.write_str(".players"),
            PathField::Attribute(name) => write!(f, ".players.attributes[{}]", name.value),
            PathField::PlayerId => f.write_str(".players[playerId]"),
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StatementKind::Rule(name) => f.write_str(name),
            StatementKind::Call { operator, args } => {
                write!(f, "{}(", operator.value)?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.names.iter().map(|name| name.value.as_str()).collect();
        write!(
            f,
            "{}[{}].{}",
            self.component.value,
            names.join(", "),
            self.property.value
        )
    }
}
