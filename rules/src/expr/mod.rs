//! Property expressions (`avg(teams[*].players.attributes[skill])`), compound statements
//! (`or(and(A, B), C)`) and expansion targets, shared by both formats: their syntax trees
//! (`tree`), how they are read (`read`), and their canonical text (`text`).

mod read;
mod text;
mod tree;

pub(crate) use read::{
    expression_from_pair, number_in_string, parse_number, starts_like_expression,
    statement_from_pair, string_reads_as_expression, string_value, target_from_pair,
};
pub use read::{parse_expression, parse_statement, parse_target};
pub(crate) use text::{format_number, quote};
pub use tree::{
    Expr, ExprKind, Path, PathField, Statement, StatementKind, Target, TargetComponent,
    TeamSelector,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Code, Diagnostic};
    use crate::span::Span;

    fn expr(text: &str) -> Expr {
        parse_expression(text, &|span| span).unwrap_or_else(|d| panic!("{text}: {}", d.message))
    }

    fn expr_error(text: &str) -> Diagnostic {
        parse_expression(text, &|span| span).expect_err(text)
    }

    #[test]
    fn reads_and_prints_canonically() {
        for (text, canonical) in [
            (
                "avg(teams[*].players.attributes[skill])",
                "avg(teams[*].players.attributes[skill])",
            ),
            (
                "count (team[red,blue].players)",
                "count(teams[red, blue].players)",
            ),
            (
                "flatten(teams[*].players[playerid])",
                "flatten(teams[*].players[playerId])",
            ),
            (
                "max(count(teams[*].players))",
                "max(count(teams[*].players))",
            ),
            (
                "teams[monster-team].players.attributes[monster-kills]",
                "teams[monster-team].players.attributes[monster-kills]",
            ),
            ("10", "10"),
            ("-2.5", "-2.5"),
            ("\"medic\"", "\"medic\""),
            ("teams[red]", "teams[red]"),
            ("[\"a\",\"b\"]", "[\"a\", \"b\"]"),
        ] {
            assert_eq!(expr(text).to_string(), canonical);
        }
    }

    #[test]
    fn spans_point_at_the_parts() {
        let parsed = expr("avg(teams[*].players.attributes[skill])");
        let ExprKind::Call { function, args } = &parsed.kind else {
            panic!("not a call")
        };
        assert_eq!(function.span, Span::new(0, 3));
        let ExprKind::Path(path) = &args[0].kind else {
            panic!("not a path")
        };
        assert_eq!(path.teams.span, Span::new(4, 12));
        let PathField::Attribute(name) = &path.field else {
            panic!("not an attribute")
        };
        assert_eq!(name.span, Span::new(32, 37));
    }

    #[test]
    fn misshapen_paths_get_help() {
        let error = expr_error("avg(teams[*].player.attributes[skill])");
        assert_eq!(error.code, Code::ExpressionSyntax);
        assert_eq!(error.span, Span::new(12, 19));
        assert_eq!(error.help.as_deref(), Some("did you mean `players`?"));

        let error = expr_error("avg(tems[*].players)");
        assert_eq!(error.help.as_deref(), Some("did you mean `teams`?"));

        let error = expr_error("teams[*].players[skill]");
        assert!(error.message.contains("playerId"), "{}", error.message);

        let error = expr_error("teams[*].players.attributes");
        assert!(
            error.message.contains("needs an attribute name"),
            "{}",
            error.message
        );

        let error = expr_error("avg(teams[*].players.attributes[skill]");
        assert!(
            error.message.starts_with("invalid expression: expected"),
            "{}",
            error.message
        );
    }

    #[test]
    fn statements_and_targets() {
        let statement = parse_statement("or(and(a, b) , not(low-latency))", &|s| s).unwrap();
        assert_eq!(statement.to_string(), "or(and(a, b), not(low-latency))");
        let target = parse_target("teams[Red, Yellow].minPlayers", &|s| s).unwrap();
        assert_eq!(target.to_string(), "teams[Red, Yellow].minPlayers");
        assert_eq!(target.names[1].span, Span::new(11, 17));
        let error = parse_target("rule[x].maxDistance", &|s| s).unwrap_err();
        assert_eq!(error.help.as_deref(), Some("did you mean `rules`?"));
        assert!(parse_target("rules[*].maxDistance", &|s| s).is_err());
    }

    #[test]
    fn strings_with_brackets_are_expressions_only_when_they_look_like_one() {
        assert!(string_reads_as_expression(
            "avg(teams[*].players.attributes[x])"
        ));
        assert!(string_reads_as_expression("count (teams[*].players)"));
        assert!(
            string_reads_as_expression("averge(teams[x"),
            "a broken call is still a call"
        );
        assert!(!string_reads_as_expression("medic (field)"));
        assert!(!string_reads_as_expression("[beta] tester"));
        assert!(!string_reads_as_expression("medic"));
    }

    #[test]
    fn only_json_numbers_count_as_numbers_in_strings() {
        assert_eq!(number_in_string("500"), Some(500.0));
        assert_eq!(number_in_string(" -2.5e1 "), Some(-25.0));
        for text in [
            "NaN",
            "inf",
            "-infinity",
            "1e999",
            "",
            "-",
            "0x10",
            "5 ms",
            "+5",
        ] {
            assert_eq!(number_in_string(text), None, "{text}");
        }
    }

    #[test]
    fn numbers_print_without_needless_fractions() {
        assert_eq!(format_number(10.0), "10");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }
}
