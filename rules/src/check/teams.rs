//! Teams: sizes, quantity copies (`<name>_<n>`), and resolving team names in expressions.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn define_teams(&mut self) {
        if !self.has_teams() {
            return;
        }
        let mut names: HashMap<String, Span> = HashMap::new();
        for declaration in self.ast.teams() {
            let Some(name) = declaration.name.given() else {
                if declaration.name.is_absent() {
                    self.report(Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "a team needs a `name`",
                    ));
                }
                continue;
            };
            if let Some(first) = names.get(&name.value) {
                self.report(
                    Diagnostic::new(
                        Code::DuplicateTeam,
                        name.span,
                        format!("team `{}` is defined twice", name.value),
                    )
                    .with_note(*first, "first defined here")
                    .with_help("give each team its own name; `quantity` makes several alike"),
                );
                continue;
            }
            names.insert(name.value.clone(), name.span);
            self.define_team(declaration, name);
        }
        self.no_copy_takes_a_name(&names);
    }

    /// Whether the rule set lists teams; reports when it lists none.
    fn has_teams(&mut self) -> bool {
        match &self.ast.teams {
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        head(self.ast.span),
                        "a rule set needs `teams`",
                    )
                    .with_help(
                        "define at least one team with `name`, `minPlayers` and `maxPlayers`",
                    ),
                );
                false
            }
            Field::Invalid => false,
            Field::Given(teams) if teams.value.is_empty() => {
                // A DSL file has no `teams` list to point at: point at its first declaration.
                let span = if self.json() {
                    teams.span
                } else {
                    self.first_declaration()
                };
                self.report(
                    Diagnostic::new(Code::NoTeams, span, "a rule set needs at least one team")
                        .with_help(self.spell(
                            "add a team such as `{\"name\": \"red\", \"minPlayers\": 5, \"maxPlayers\": 5}`",
                            "add a team such as `team red players 5`",
                        )),
                );
                false
            }
            Field::Given(_) => true,
        }
    }

    /// A team's sizes, checked, and its copies (`quantity`) as teams.
    fn define_team(&mut self, declaration: &ast::TeamDecl, name: &Spanned<String>) {
        let label = format!("team `{}`", name.value);
        let min = self.team_count(&declaration.min_players, "minPlayers", &label, name.span, 0);
        let max = self.team_count(&declaration.max_players, "maxPlayers", &label, name.span, 1);
        let quantity = match &declaration.quantity {
            Field::Absent => Some(1),
            _ => self.team_count(&declaration.quantity, "quantity", &label, name.span, 1),
        };
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            let span = declaration.min_players.span().unwrap_or(declaration.span);
            self.report(
                Diagnostic::new(
                    Code::MinExceedsMax,
                    span,
                    format!("{label} needs at least {min} players but holds at most {max}"),
                )
                .with_help("make the minimum no greater than the maximum"),
            );
        }
        let (Some(min), Some(max), Some(quantity)) = (min, max, quantity) else {
            return;
        };
        let definition = TeamDefinitionId(self.team_definitions.len());
        let first_team = self.teams.len();
        for copy in 1..=quantity {
            let team_name = if quantity > 1 {
                format!("{}_{copy}", name.value)
            } else {
                name.value.clone()
            };
            self.teams.push(Team {
                name: team_name,
                definition,
                min_players: min,
                max_players: max,
            });
        }
        self.team_definitions.push(TeamDefinition {
            name: name.value.clone(),
            min_players: min,
            max_players: max,
            quantity,
            teams: first_team..self.teams.len(),
        });
    }

    /// FlexMatch names copies `<name>_<n>`; a copy must not take another team's name.
    fn no_copy_takes_a_name(&mut self, names: &HashMap<String, Span>) {
        for team in &self.teams {
            let definition = &self.team_definitions[team.definition.0];
            if definition.quantity > 1
                && let Some(other_span) = names.get(&team.name)
            {
                let span = self.ast.teams()[..]
                    .iter()
                    .filter_map(|t| t.name.given())
                    .find(|n| n.value == definition.name)
                    .map_or(head(self.ast.span), |n| n.span);
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::TeamNameCollision,
                        span,
                        format!(
                            "copy `{}` of team `{}` has the name of another team",
                            team.name, definition.name
                        ),
                    )
                    .with_note(*other_span, "the other team")
                    .with_help("rename one of the teams"),
                );
            }
        }
    }

    /// A team's player count or quantity: a whole number from `min` to 200. The upper bound
    /// comes first so that a `quantity` of four billion is an error, not four billion teams.
    pub(super) fn team_count(
        &mut self,
        field: &Field<f64>,
        property: &str,
        label: &str,
        name_span: Span,
        min: u32,
    ) -> Option<u32> {
        match field {
            Field::Given(number)
                if is_count(number.value)
                    && number.value >= f64::from(min)
                    && number.value <= f64::from(MATCH_MAX_PLAYERS) =>
            {
                Some(number.value as u32)
            }
            Field::Given(number) => {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    number.span,
                    format!(
                        "`{property}` of {label} must be a whole number from {min} to {MATCH_MAX_PLAYERS}, found `{}`",
                        crate::expr::format_number(number.value)
                    ),
                ));
                None
            }
            Field::Absent => {
                self.report(Diagnostic::new(
                    Code::MissingProperty,
                    name_span,
                    format!("{label} needs `{property}`"),
                ));
                None
            }
            Field::Invalid => None,
        }
    }

    /// Where a DSL rule set's first declaration is, or its start when it has none.
    fn first_declaration(&self) -> Span {
        let ast = self.ast;
        let spans = ast
            .name
            .span()
            .into_iter()
            .chain(ast.attributes.iter().map(|a| a.span))
            .chain(ast.algorithm.span)
            .chain(ast.rules.iter().map(|r| r.span))
            .chain(ast.expansions.iter().map(|e| e.span));
        spans
            .min_by_key(|span| span.start)
            .map_or(head(ast.span), head)
    }

    pub(super) fn max_players(&self) -> u32 {
        self.teams.iter().map(|team| team.max_players).sum()
    }

    /// The most players the match can grow to once expansions raise `maxPlayers`, and the step
    /// value that raises it furthest beyond the teams as defined.
    pub(super) fn expanded_max_players(&self) -> (u32, Option<Span>) {
        let mut largest: Vec<(u32, Option<Span>)> = self
            .team_definitions
            .iter()
            .map(|definition| (definition.max_players, None))
            .collect();
        for expansion in &self.ast.expansions {
            let Some(target) = expansion.target.value() else {
                continue;
            };
            if target.component.value != ast::TargetComponent::Teams
                || target.property.value != ast::TeamProperty::MaxPlayers.as_str()
            {
                continue;
            }
            let steps = expansion.steps.value().map_or(&[][..], Vec::as_slice);
            for step in steps {
                let Some(Value::Number(value)) = step.value.value() else {
                    continue;
                };
                for name in &target.names {
                    let Some(index) = self
                        .team_definitions
                        .iter()
                        .position(|definition| definition.name == name.value)
                    else {
                        continue;
                    };
                    let value = value.clamp(0.0, f64::from(u32::MAX)) as u32;
                    if value > largest[index].0 {
                        largest[index] = (value, step.value.span());
                    }
                }
            }
        }
        let mut total = 0u64;
        let mut span = None;
        for (definition, (max, grown_by)) in self.team_definitions.iter().zip(largest) {
            total += u64::from(definition.quantity) * u64::from(max);
            span = span.or(grown_by);
        }
        (total.min(u64::from(u32::MAX)) as u32, span)
    }

    pub(super) fn teams_span(&self) -> Span {
        match (&self.ast.teams, self.json()) {
            (Field::Given(teams), true) => teams.span,
            _ => self
                .ast
                .teams()
                .first()
                .map_or(head(self.ast.span), |team| team.span),
        }
    }

    /// Resolves a team name in an expression: a definition (all its copies) or one copy.
    /// Returns the teams and whether the name stands for a group.
    pub(super) fn teams_named(&mut self, name: &Spanned<String>) -> Option<(Vec<TeamId>, bool)> {
        if let Some(definition) = self
            .team_definitions
            .iter()
            .find(|definition| definition.name == name.value)
        {
            let grouped = definition.quantity > 1;
            return Some((definition.teams.clone().map(TeamId).collect(), grouped));
        }
        if let Some(position) = self.teams.iter().position(|team| team.name == name.value) {
            return Some((vec![TeamId(position)], false));
        }
        let mut known: Vec<&str> = self
            .team_definitions
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        known.extend(self.teams.iter().map(|team| team.name.as_str()));
        let help = self.name_help(&name.value, &known).unwrap_or_else(|| {
            let defined: Vec<&str> = self
                .team_definitions
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            format!("defined teams: {}", suggest::list_all(&defined))
        });
        self.report(
            Diagnostic::new(
                Code::UnknownTeam,
                name.span,
                format!("unknown team `{}`", name.value),
            )
            .with_help(help),
        );
        None
    }
}
