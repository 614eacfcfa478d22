//! Property expressions: names resolved, types worked out, functions lifted over nested lists.

use super::*;
use crate::expr::Path;

impl<'a> Checker<'a> {
    pub(super) fn type_expr(&mut self, expr: &Expr) -> Option<TypedExpr> {
        match &expr.kind {
            ExprKind::Number(number) => Some(TypedExpr {
                node: ExprNode::Number(*number),
                ty: Type::Number,
            }),
            ExprKind::String(text) => Some(TypedExpr {
                node: ExprNode::String(text.clone()),
                ty: Type::String,
            }),
            ExprKind::List(items) => self.type_list(items),
            ExprKind::Path(path) => self.type_path(path),
            ExprKind::Call { function, args } => self.type_call(expr.span, function, args),
        }
    }

    /// A literal list: its items share one type.
    fn type_list(&mut self, items: &[Expr]) -> Option<TypedExpr> {
        let mut typed = Vec::new();
        for item in items {
            typed.push(self.type_expr(item)?);
        }
        let element = typed.first().map_or(Type::String, |first| first.ty.clone());
        if let Some((bad, item)) = typed.iter().zip(items).find(|(t, _)| t.ty != element) {
            self.report(Diagnostic::new(
                Code::TypeMismatch,
                item.span,
                format!(
                    "a list's items share one type: expected {element}, found {}",
                    bad.ty
                ),
            ));
            return None;
        }
        Some(TypedExpr {
            node: ExprNode::List(typed),
            ty: Type::list(element),
        })
    }

    /// `teams[…]` and what it selects of them.
    fn type_path(&mut self, path: &Path) -> Option<TypedExpr> {
        let (teams, grouped) = match &path.teams.value {
            TeamSelector::All => ((0..self.teams.len()).map(TeamId).collect(), true),
            TeamSelector::Names(names) => self.selected_teams(names)?,
        };
        let (field, element) = match &path.field {
            PathField::Teams => {
                let ty = if grouped {
                    Type::list(Type::Team)
                } else {
                    Type::Team
                };
                return Some(TypedExpr {
                    node: ExprNode::Select {
                        teams,
                        grouped,
                        field: SelectField::Teams,
                    },
                    ty,
                });
            }
            PathField::Players => (SelectField::Players, Type::Player),
            PathField::PlayerId => (SelectField::PlayerId, Type::String),
            PathField::Attribute(name) => {
                let id = self.attribute_named(name)?;
                (
                    SelectField::Attribute(id),
                    Type::of_attribute(self.attributes[id.0].ty),
                )
            }
        };
        let per_team = Type::list(element);
        let ty = if grouped {
            Type::list(per_team)
        } else {
            per_team
        };
        Some(TypedExpr {
            node: ExprNode::Select {
                teams,
                grouped,
                field,
            },
            ty,
        })
    }

    /// The teams `teams[a, b]` names, each once, and whether they are grouped (several, or a
    /// team with copies).
    fn selected_teams(&mut self, names: &[Spanned<String>]) -> Option<(Vec<TeamId>, bool)> {
        let mut teams = Vec::new();
        let mut grouped = names.len() > 1;
        let mut ok = true;
        for (i, name) in names.iter().enumerate() {
            match self.teams_named(name) {
                // `teams[a, a]` would count team `a`'s players twice.
                Some((ids, _)) if ids.iter().any(|id| teams.contains(id)) => {
                    let earlier = names[..i]
                        .iter()
                        .find(|n| n.value == name.value)
                        .or(names.first())
                        .map(|n| n.span);
                    let mut diagnostic = Diagnostic::new(
                        Code::DuplicateTeam,
                        name.span,
                        format!("team `{}` is selected twice", name.value),
                    )
                    .with_help("name each team once");
                    if let Some(earlier) = earlier {
                        diagnostic = diagnostic.with_note(earlier, "selected first here");
                    }
                    self.report(diagnostic);
                    ok = false;
                }
                Some((ids, group)) => {
                    grouped |= group;
                    teams.extend(ids);
                }
                None => ok = false,
            }
        }
        ok.then_some((teams, grouped))
    }

    /// A call of a known function on its one argument, of a type the function takes.
    fn type_call(
        &mut self,
        span: Span,
        function: &Spanned<String>,
        args: &[Expr],
    ) -> Option<TypedExpr> {
        let Some(resolved) = Function::parse(&function.value) else {
            self.report(
                Diagnostic::new(
                    Code::UnknownFunction,
                    function.span,
                    format!("unknown function `{}`", function.value),
                )
                .with_help(suggest::expected_one_of(&function.value, Function::NAMES)),
            );
            return None;
        };
        if args.len() != 1 {
            self.report(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    span,
                    format!(
                        "`{}` takes 1 argument, found {}",
                        function.value,
                        args.len()
                    ),
                )
                .with_help("functions take one list; select several teams with `teams[a, b]` and join lists with `flatten(...)`"),
            );
            return None;
        }
        let arg = self.type_expr(&args[0])?;
        let Some(ty) = apply(resolved, &arg.ty) else {
            let expected = match resolved {
                Function::Count => "a list",
                Function::Flatten => "a list of lists",
                Function::SetIntersection => "a list of string lists (List<List<string>>)",
                _ => "a list of numbers",
            };
            self.report(Diagnostic::new(
                Code::TypeMismatch,
                args[0].span,
                format!("`{}` takes {expected}, found {}", function.value, arg.ty),
            ));
            return None;
        };
        Some(TypedExpr {
            node: ExprNode::Call {
                function: resolved,
                arg: Box::new(arg),
            },
            ty,
        })
    }
}

/// The result type of `function` applied to `arg`, lifting over nested lists as FlexMatch's
/// guide describes ("operations on a nested list operate on each sublist individually"):
/// each function works on the innermost list it accepts and maps over the lists around it.
fn apply(function: Function, arg: &Type) -> Option<Type> {
    let Type::List(element) = arg else {
        return None;
    };
    match function {
        Function::Flatten => element.element().map(|inner| Type::list(inner.clone())),
        Function::Count => Some(match &**element {
            Type::List(_) => Type::list(apply(function, element)?),
            _ => Type::Number,
        }),
        Function::SetIntersection => {
            if **element == Type::list(Type::String) {
                Some(Type::list(Type::String))
            } else if element.depth() >= 2 {
                Some(Type::list(apply(function, element)?))
            } else {
                None
            }
        }
        _ => match &**element {
            Type::Number => Some(Type::Number),
            Type::List(_) => Some(Type::list(apply(function, element)?)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn functions_lift_over_nested_lists() {
        let numbers = Type::list(Type::Number);
        let grouped = Type::list(numbers.clone());
        assert_eq!(apply(Function::Avg, &numbers), Some(Type::Number));
        assert_eq!(apply(Function::Avg, &grouped), Some(numbers.clone()));
        assert_eq!(apply(Function::Flatten, &grouped), Some(numbers.clone()));
        assert_eq!(apply(Function::Flatten, &numbers), None);
        assert_eq!(
            apply(Function::Count, &Type::list(Type::list(Type::Player))),
            Some(numbers.clone())
        );
        let string_lists = Type::list(Type::list(Type::String));
        assert_eq!(
            apply(Function::SetIntersection, &string_lists),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            apply(Function::SetIntersection, &Type::list(string_lists.clone())),
            Some(string_lists.clone())
        );
        assert_eq!(apply(Function::Max, &string_lists), None);
        assert_eq!(apply(Function::Sum, &Type::Number), None);
    }
}
