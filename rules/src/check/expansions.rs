//! Expansions: targets, relaxable properties, step order and values, and the bounds that must
//! still make sense at every moment an expansion changes them.

use super::*;

/// An expansion as checked: compiled, with where its target and step values are written.
struct CheckedExpansion {
    expansion: Expansion,
    target_span: Span,
    value_spans: Vec<Span>,
}

/// What an expansion's step values must be.
enum StepKind {
    /// A bound such as `maxDistance`: at least 0.
    Number {
        whole: bool,
    },
    /// A number reference value, which may be negative.
    Reference,
    /// A team's `minPlayers` or `maxPlayers`: a whole number up to 200, at least `min`.
    Players {
        min: u32,
    },
    String,
    StringList,
}

impl<'a> Checker<'a> {
    /// Checks every expansion; `rules` are the compiled rules (`None` where a rule has errors),
    /// which say what type a relaxed reference value has.
    pub(super) fn check_expansions(&mut self, rules: &[Option<Rule>]) -> Option<Vec<Expansion>> {
        let mut checked = Vec::new();
        let mut ok = true;
        for declaration in &self.ast.expansions {
            match self.expansion(declaration, rules) {
                Some(expansion) => checked.push(expansion),
                None => ok = false,
            }
        }
        ok &= self.no_overlapping_expansions(&checked);
        ok &= self.rule_bounds_hold_over_time(&checked, rules);
        ok &= self.team_bounds_hold_over_time(&checked);
        ok.then(|| checked.into_iter().map(|c| c.expansion).collect())
    }

    fn expansion(
        &mut self,
        declaration: &ast::ExpansionDecl,
        rules: &[Option<Rule>],
    ) -> Option<CheckedExpansion> {
        let target = match &declaration.target {
            Field::Given(target) => target,
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "an expansion needs a `target`",
                    )
                    .with_help("e.g. `rules[FairSkill].maxDistance` or `teams[red].minPlayers`"),
                );
                return None;
            }
            Field::Invalid => return None,
        };
        let steps = self.expansion_steps(declaration);
        let (resolved, kind) = match target.value.component.value {
            ast::TargetComponent::Rules => self.rule_target(&target.value, rules)?,
            ast::TargetComponent::Teams => self.teams_target(&target.value)?,
        };
        let property = target.value.property.value.as_str();
        let mut compiled = Vec::new();
        let mut value_spans = Vec::new();
        let mut ok = true;
        for (wait, value) in steps? {
            match self.step_value(value, &kind, property) {
                Some(step_value) => {
                    compiled.push(ExpansionStep {
                        wait_time_seconds: wait,
                        value: step_value,
                    });
                    value_spans.push(value.span);
                }
                None => ok = false,
            }
        }
        ok.then_some(CheckedExpansion {
            expansion: Expansion {
                target: resolved,
                steps: compiled,
            },
            target_span: target.span,
            value_spans,
        })
    }

    /// The steps' wait times (strictly increasing) and values, unchecked against the target.
    fn expansion_steps<'d>(
        &mut self,
        declaration: &'d ast::ExpansionDecl,
    ) -> Option<Vec<(f64, &'d Spanned<Value>)>> {
        let steps = self.declared_steps(declaration)?;
        let mut out = Vec::new();
        let mut ok = true;
        let mut previous: Option<(f64, Span)> = None;
        for step in steps {
            let Some((wait, value)) = self.step_parts(step) else {
                ok = false;
                continue;
            };
            if let Some((before, before_span)) = previous
                && wait.value <= before
            {
                self.report(
                    Diagnostic::new(
                        Code::ExpansionStepOrder,
                        wait.span,
                        format!(
                            "wait times must increase: {}s comes after {}s",
                            format_number(wait.value),
                            format_number(before)
                        ),
                    )
                    .with_note(before_span, "the previous step")
                    .with_help(
                        "wait times are seconds since the ticket started, not since the last step",
                    ),
                );
                ok = false;
            }
            previous = Some((wait.value, wait.span));
            out.push((wait.value, value));
        }
        ok.then_some(out)
    }

    /// An expansion's steps: `None` (reported) when it has none.
    fn declared_steps<'d>(
        &mut self,
        declaration: &'d ast::ExpansionDecl,
    ) -> Option<&'d [ast::StepDecl]> {
        match &declaration.steps {
            Field::Given(steps) if !steps.value.is_empty() => Some(&steps.value),
            Field::Given(steps) => {
                self.report(Diagnostic::new(
                    Code::MissingProperty,
                    steps.span,
                    "an expansion needs at least one step",
                ));
                None
            }
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "an expansion needs `steps`",
                    )
                    .with_help("e.g. `[{\"waitTimeSeconds\": 10, \"value\": 50}]`"),
                );
                None
            }
            Field::Invalid => None,
        }
    }

    /// A step's wait time (not negative) and value: `None` when either is missing or
    /// unreadable, with both reported.
    fn step_parts<'d>(
        &mut self,
        step: &'d ast::StepDecl,
    ) -> Option<(&'d Spanned<f64>, &'d Spanned<Value>)> {
        let wait = match &step.wait_time_seconds {
            Field::Given(wait) if wait.value >= 0.0 => Some(wait),
            Field::Given(wait) => {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    wait.span,
                    format!(
                        "a wait time cannot be negative, found `{}`",
                        format_number(wait.value)
                    ),
                ));
                None
            }
            Field::Absent => {
                self.report(Diagnostic::new(
                    Code::MissingProperty,
                    head(step.span),
                    "an expansion step needs `waitTimeSeconds`",
                ));
                None
            }
            Field::Invalid => None,
        };
        let value = match &step.value {
            Field::Given(value) => Some(value),
            Field::Absent => {
                self.report(Diagnostic::new(
                    Code::MissingProperty,
                    head(step.span),
                    "an expansion step needs a `value`",
                ));
                None
            }
            Field::Invalid => None,
        };
        Some((wait?, value?))
    }

    /// A rule's property as an expansion target: one rule, not compound, a property its type
    /// relaxes and that applies to it, and the kind of values its steps hold.
    fn rule_target(
        &mut self,
        target: &ast::Target,
        rules: &[Option<Rule>],
    ) -> Option<(ExpansionTarget, StepKind)> {
        let (name, position) = self.targeted_rule(target)?;
        let rule = &self.ast.rules[position];
        let kind = self.expandable_kind(rule, name)?;
        let property_name = &target.property;
        let property = self.relaxable_property(kind, property_name, name)?;
        let compiled = rules.get(position);
        if !self.relaxation_applies(rule, compiled, property, property_name) {
            return None;
        }
        let step_kind = if property == RuleProperty::ReferenceValue {
            self.reference_step_kind(rule, compiled, property_name)?
        } else {
            StepKind::Number {
                whole: matches!(property, RuleProperty::MinCount | RuleProperty::MaxCount),
            }
        };
        if !rule.is_present(property) {
            self.report(Diagnostic::new(
                Code::ExpansionUnsetProperty,
                property_name.span,
                format!(
                    "rule `{}` sets no `{property}`; this expansion adds one once its first step is reached",
                    name.value
                ),
            ));
        }
        Some((
            ExpansionTarget::Rule {
                rule: RuleId(position),
                property,
            },
            step_kind,
        ))
    }

    /// The one rule a target names, and its position in the rule set.
    fn targeted_rule<'t>(
        &mut self,
        target: &'t ast::Target,
    ) -> Option<(&'t Spanned<String>, usize)> {
        let [name] = target.names.as_slice() else {
            let span = target
                .names
                .first()
                .map_or(target.component.span, |n| n.span);
            self.report(Diagnostic::new(
                Code::InvalidTarget,
                span,
                "an expansion relaxes one rule at a time",
            ));
            return None;
        };
        let Some(&position) = self.rule_positions.get(name.value.as_str()) else {
            let mut names: Vec<&str> = self.rule_positions.keys().copied().collect();
            names.sort_unstable();
            self.report(
                Diagnostic::new(
                    Code::UnknownRule,
                    name.span,
                    format!("unknown rule `{}`", name.value),
                )
                .with_help_opt(suggest::did_you_mean(&name.value, names)),
            );
            return None;
        };
        Some((name, position))
    }

    /// The targeted rule's type, unless it is compound (or unreadable).
    fn expandable_kind(&mut self, rule: &RuleDecl, name: &Spanned<String>) -> Option<RuleType> {
        let kind = *rule.kind.value()?;
        if kind == RuleType::Compound {
            self.report(
                Diagnostic::new(
                    Code::ExpansionCompound,
                    name.span,
                    format!(
                        "`{}` is a compound rule, which cannot be expanded",
                        name.value
                    ),
                )
                .with_help("expand the rules it combines instead"),
            );
            return None;
        }
        Some(kind)
    }

    /// The targeted property, when it is one a rule of type `kind` has and may relax.
    fn relaxable_property(
        &mut self,
        kind: RuleType,
        property_name: &Spanned<String>,
        rule_name: &Spanned<String>,
    ) -> Option<RuleProperty> {
        let Some(property) = RuleProperty::parse(&property_name.value) else {
            self.report_unknown_rule_property(kind, property_name);
            return None;
        };
        if !kind.allows(property) {
            self.report(Diagnostic::new(
                Code::PropertyNotApplicable,
                property_name.span,
                format!(
                    "`{property}` does not apply to `{kind}` rule `{}`",
                    rule_name.value
                ),
            ));
            return None;
        }
        if !kind.relaxable().contains(&property) {
            self.report_not_relaxable(
                kind,
                property,
                property_name.span,
                format!("`{property}` cannot be expanded"),
            );
            return None;
        }
        Some(property)
    }

    fn report_unknown_rule_property(&mut self, kind: RuleType, property_name: &Spanned<String>) {
        let known: Vec<&str> = if kind.relaxable().is_empty() {
            kind.properties().iter().map(|p| p.as_str()).collect()
        } else {
            kind.relaxable().iter().map(|p| p.as_str()).collect()
        };
        let is_common = matches!(
            property_name.value.as_str(),
            "name" | "type" | "description"
        );
        let (code, message) = if is_common {
            (
                Code::ExpansionNotRelaxable,
                format!("`{}` of a rule cannot be expanded", property_name.value),
            )
        } else {
            (
                Code::UnknownProperty,
                format!("rules have no property `{}`", property_name.value),
            )
        };
        self.report(
            Diagnostic::new(code, property_name.span, message)
                .with_help(suggest::expected_one_of(&property_name.value, &known)),
        );
    }

    /// Reports that `property` of a `kind` rule cannot be relaxed, naming what can be.
    fn report_not_relaxable(
        &mut self,
        kind: RuleType,
        property: RuleProperty,
        span: Span,
        message: String,
    ) {
        let others: Vec<&str> = kind
            .relaxable()
            .iter()
            .filter(|p| **p != property)
            .map(|p| p.as_str())
            .collect();
        let help = if others.is_empty() {
            format!("a `{kind}` rule has nothing else an expansion can relax")
        } else {
            format!("a `{kind}` rule can relax {}", suggest::list(&others))
        };
        self.report(Diagnostic::new(Code::ExpansionNotRelaxable, span, message).with_help(help));
    }

    /// Whether relaxing `property` means anything for this rule: a latency distance needs its
    /// reference, and a string batch attribute takes no distance. `rule` is one an expansion
    /// targets by name, its type known; `compiled` its compiled slot (`Some(None)` when the
    /// rule has errors).
    fn relaxation_applies(
        &mut self,
        rule: &RuleDecl,
        compiled: Option<&Option<Rule>>,
        property: RuleProperty,
        property_name: &Spanned<String>,
    ) -> bool {
        let name = rule.name.value().map_or("", String::as_str);
        // In a large match the latency distance is out of place altogether, and reported so.
        if rule.kind.value() == Some(&RuleType::Latency)
            && property == RuleProperty::MaxDistance
            && rule.distance_reference.is_absent()
            && self.expanded_max_players().0 <= SMALL_MATCH_MAX_PLAYERS
        {
            self.report(
                Diagnostic::new(
                    Code::MissingProperty,
                    property_name.span,
                    format!(
                        "rule `{name}` has no `distanceReference`, which an expanded `maxDistance` needs"
                    ),
                )
                .with_help("give the rule a `distanceReference` (`min` or `avg`)"),
            );
            return false;
        }
        // A string batch attribute matches equal values only; a distance cannot apply later
        // any more than it can from the start.
        if let Some(Some(Rule {
            kind: RuleKind::BatchDistance(batch),
            ..
        })) = compiled
            && self.attributes[batch.attribute.0].ty == ast::AttributeType::String
        {
            let attribute = &self.attributes[batch.attribute.0].name;
            self.report(
                Diagnostic::new(
                    Code::PropertyNotApplicable,
                    property_name.span,
                    format!("`{attribute}` is a string attribute: players must share its value, so `maxDistance` does not apply"),
                )
                .with_help("batch on a number attribute to allow a distance"),
            );
            return false;
        }
        true
    }

    /// What a relaxed reference value's steps hold: only a literal reference can be relaxed,
    /// and its type is the compiled rule's. `rule` is one an expansion targets by name, its
    /// type known.
    fn reference_step_kind(
        &mut self,
        rule: &RuleDecl,
        compiled: Option<&Option<Rule>>,
        property_name: &Spanned<String>,
    ) -> Option<StepKind> {
        let kind = *rule.kind.value()?;
        let property = RuleProperty::ReferenceValue;
        let name = rule.name.value().map_or("", String::as_str);
        let literal = match rule.reference_value.value().map(|expr| &expr.kind) {
            Some(ExprKind::Number(_) | ExprKind::String(_)) => true,
            Some(ExprKind::List(items)) => items
                .iter()
                .all(|item| matches!(item.kind, ExprKind::String(_))),
            Some(_) => false,
            None => {
                self.report_not_relaxable(
                    kind,
                    property,
                    property_name.span,
                    format!("rule `{name}` has no reference value to relax"),
                );
                return None;
            }
        };
        if !literal {
            self.report_not_relaxable(
                kind,
                property,
                property_name.span,
                format!(
                    "the reference value of `{name}` is an expression; only a literal reference can be expanded"
                ),
            );
            return None;
        }
        // The compiled rule knows the reference's type (a string that reads as a number
        // is a number only where the rule compares numbers).
        match compiled?.as_ref().map(reference_type)? {
            Some(Type::Number) => Some(StepKind::Reference),
            Some(Type::String) => Some(StepKind::String),
            Some(_) => Some(StepKind::StringList),
            None => None,
        }
    }

    fn teams_target(&mut self, target: &ast::Target) -> Option<(ExpansionTarget, StepKind)> {
        let mut definitions = Vec::new();
        let mut ok = true;
        for name in &target.names {
            if let Some(position) = self
                .team_definitions
                .iter()
                .position(|d| d.name == name.value)
            {
                definitions.push(TeamDefinitionId(position));
                continue;
            }
            ok = false;
            let declared: Vec<&str> = self
                .ast
                .teams()
                .iter()
                .filter_map(|team| team.name.value().map(String::as_str))
                .collect();
            if declared.contains(&name.value.as_str()) {
                continue; // Declared but invalid: already reported.
            }
            let copy_of = self
                .teams
                .iter()
                .find(|team| team.name == name.value)
                .map(|team| &self.team_definitions[team.definition.0].name);
            let diagnostic = match copy_of {
                Some(definition) => Diagnostic::new(
                    Code::UnknownTeam,
                    name.span,
                    format!("`{}` is a copy of team `{definition}`; expansions change a team and all its copies", name.value),
                )
                .with_help(format!("write `teams[{definition}]`")),
                None => Diagnostic::new(
                    Code::UnknownTeam,
                    name.span,
                    format!("unknown team `{}`", name.value),
                )
                .with_help_opt(self.name_help(&name.value, &declared)),
            };
            self.report(diagnostic);
        }
        let property_name = &target.property;
        let (property, min) = match ast::TeamProperty::parse(&property_name.value) {
            Some(ast::TeamProperty::MinPlayers) => (TeamBound::MinPlayers, 0),
            Some(ast::TeamProperty::MaxPlayers) => (TeamBound::MaxPlayers, 1),
            Some(other) => {
                self.report(
                    Diagnostic::new(
                        Code::ExpansionNotRelaxable,
                        property_name.span,
                        format!("a team's `{other}` cannot be expanded"),
                    )
                    .with_help("expansions relax `minPlayers` or `maxPlayers`"),
                );
                return None;
            }
            None => {
                self.report(
                    Diagnostic::new(
                        Code::UnknownProperty,
                        property_name.span,
                        format!("teams have no property `{}`", property_name.value),
                    )
                    .with_help(suggest::expected_one_of(
                        &property_name.value,
                        &["minPlayers", "maxPlayers"],
                    )),
                );
                return None;
            }
        };
        ok.then_some((
            ExpansionTarget::Teams {
                definitions,
                property,
            },
            StepKind::Players { min },
        ))
    }

    fn step_value(
        &mut self,
        value: &Spanned<Value>,
        kind: &StepKind,
        property: &str,
    ) -> Option<StepValue> {
        let wrong_type = |checker: &mut Self, expected: &str| {
            checker.report(Diagnostic::new(
                Code::WrongValueType,
                value.span,
                format!(
                    "the expanded `{property}` must be {expected}, found {}",
                    value.value.describe()
                ),
            ));
        };
        let (whole, min, max) = match kind {
            StepKind::String => {
                return match &value.value {
                    Value::String(text) => Some(StepValue::String(text.clone())),
                    _ => {
                        wrong_type(self, "a string, like the rule's reference");
                        None
                    }
                };
            }
            StepKind::StringList => {
                let strings: Option<Vec<String>> = match &value.value {
                    Value::List(items) => items
                        .iter()
                        .map(|item| match &item.value {
                            Value::String(text) => Some(text.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                };
                if strings.is_none() {
                    wrong_type(self, "a list of strings, like the rule's reference");
                }
                return strings.map(StepValue::StringList);
            }
            StepKind::Number { whole } => (*whole, 0.0, f64::MAX),
            StepKind::Reference => (false, f64::MIN, f64::MAX),
            StepKind::Players { min } => (true, f64::from(*min), f64::from(MATCH_MAX_PLAYERS)),
        };
        let number = match &value.value {
            Value::Number(number) => *number,
            Value::String(text) if number_in_string(text).is_some() => {
                self.report(number_as_string(value.span, text));
                number_in_string(text).expect("checked above")
            }
            _ => {
                wrong_type(self, "a number");
                return None;
            }
        };
        if number < min || number > max || (whole && number.fract() != 0.0) {
            let expected = match (whole, max < f64::MAX) {
                (true, true) => format!(
                    "a whole number from {} to {}",
                    format_number(min),
                    format_number(max)
                ),
                (true, false) => format!("a whole number of at least {}", format_number(min)),
                _ => format!("a number of at least {}", format_number(min)),
            };
            self.report(Diagnostic::new(
                Code::InvalidValue,
                value.span,
                format!(
                    "the expanded `{property}` must be {expected}, found `{}`",
                    format_number(number)
                ),
            ));
            return None;
        }
        Some(StepValue::Number(number))
    }

    fn no_overlapping_expansions(&mut self, checked: &[CheckedExpansion]) -> bool {
        let mut ok = true;
        for (i, later) in checked.iter().enumerate() {
            let earlier = checked[..i]
                .iter()
                .find(|c| targets_overlap(&c.expansion.target, &later.expansion.target));
            if let Some(earlier) = earlier {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateExpansion,
                        later.target_span,
                        "two expansions relax the same property",
                    )
                    .with_note(earlier.target_span, "the other expansion")
                    .with_help("merge their steps into one expansion"),
                );
                ok = false;
            }
        }
        ok
    }

    /// A rule's minimum and maximum distance or count must not cross at any wait time.
    fn rule_bounds_hold_over_time(
        &mut self,
        checked: &[CheckedExpansion],
        rules: &[Option<Rule>],
    ) -> bool {
        let mut ok = true;
        for (position, rule) in rules.iter().enumerate() {
            let (base, pair, what) = match rule.as_ref().map(|rule| &rule.kind) {
                Some(RuleKind::Distance(distance)) => (
                    (distance.min_distance, distance.max_distance),
                    (RuleProperty::MinDistance, RuleProperty::MaxDistance),
                    "distance",
                ),
                Some(RuleKind::Collection(collection)) => (
                    (
                        collection.min_count.map(f64::from),
                        collection.max_count.map(f64::from),
                    ),
                    (RuleProperty::MinCount, RuleProperty::MaxCount),
                    "count",
                ),
                _ => continue,
            };
            let steps_for = |property: RuleProperty| {
                steps_matching(checked, |target| {
                    *target
                        == ExpansionTarget::Rule {
                            rule: RuleId(position),
                            property,
                        }
                })
            };
            let name = &rules[position].as_ref().expect("matched above").name;
            ok &= self.bounds_hold(
                &format!("rule `{name}`'s {what}"),
                base,
                steps_for(pair.0),
                steps_for(pair.1),
            );
        }
        ok
    }

    /// A team's `minPlayers` must not pass its `maxPlayers` at any wait time.
    fn team_bounds_hold_over_time(&mut self, checked: &[CheckedExpansion]) -> bool {
        let mut ok = true;
        for position in 0..self.team_definitions.len() {
            let definition = &self.team_definitions[position];
            let base = (
                Some(f64::from(definition.min_players)),
                Some(f64::from(definition.max_players)),
            );
            let what = format!("team `{}`'s player count", definition.name);
            let steps_for = |property: TeamBound| {
                steps_matching(checked, |target| match target {
                    ExpansionTarget::Teams {
                        definitions,
                        property: p,
                    } => *p == property && definitions.contains(&TeamDefinitionId(position)),
                    ExpansionTarget::Rule { .. } => false,
                })
            };
            let min_steps = steps_for(TeamBound::MinPlayers);
            let max_steps = steps_for(TeamBound::MaxPlayers);
            ok &= self.bounds_hold(&what, base, min_steps, max_steps);
        }
        ok
    }

    /// Replays the expansions of a minimum and a maximum in wait-time order and reports the
    /// first moment the minimum passes the maximum. The bounds before any step were checked
    /// with the rule or team itself.
    fn bounds_hold(
        &mut self,
        what: &str,
        base: (Option<f64>, Option<f64>),
        min_steps: Vec<(f64, f64, Span)>,
        max_steps: Vec<(f64, f64, Span)>,
    ) -> bool {
        let mut times: Vec<f64> = min_steps
            .iter()
            .chain(&max_steps)
            .map(|(wait, _, _)| *wait)
            .collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let in_force = |steps: &[(f64, f64, Span)], time: f64, base: Option<f64>| {
            steps
                .iter()
                .filter(|(wait, _, _)| *wait <= time)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(base, |(_, value, _)| Some(*value))
        };
        for time in times {
            let (Some(min), Some(max)) = (
                in_force(&min_steps, time, base.0),
                in_force(&max_steps, time, base.1),
            ) else {
                continue;
            };
            if min > max {
                let span = min_steps
                    .iter()
                    .chain(&max_steps)
                    .find(|(wait, _, _)| *wait == time)
                    .map(|(_, _, span)| *span)
                    .expect("a step happens at every time replayed");
                self.report(
                    Diagnostic::new(
                        Code::MinExceedsMax,
                        span,
                        format!(
                            "from {}s, {what} would need a minimum of {} but allow a maximum of {}",
                            format_number(time),
                            format_number(min),
                            format_number(max)
                        ),
                    )
                    .with_help("expansions apply together: check the steps of both the minimum and the maximum"),
                );
                return false;
            }
        }
        true
    }
}

/// The (wait time, number, value span) of every numeric step of the expansions whose target
/// passes `matches`.
fn steps_matching(
    checked: &[CheckedExpansion],
    matches: impl Fn(&ExpansionTarget) -> bool,
) -> Vec<(f64, f64, Span)> {
    checked
        .iter()
        .filter(|c| matches(&c.expansion.target))
        .flat_map(|c| c.expansion.steps.iter().zip(&c.value_spans))
        .filter_map(|(step, span)| Some((step.wait_time_seconds, step.value.as_number()?, *span)))
        .collect()
}

/// The type of a compiled rule's reference value, for relaxing it with an expansion.
fn reference_type(rule: &Rule) -> Option<Type> {
    match &rule.kind {
        RuleKind::Comparison(comparison) => comparison.reference.as_ref().map(|r| r.ty.clone()),
        RuleKind::Distance(distance) => Some(distance.reference.ty.clone()),
        RuleKind::Collection(collection) => collection.reference.as_ref().map(|r| r.ty.clone()),
        _ => None,
    }
}

fn targets_overlap(a: &ExpansionTarget, b: &ExpansionTarget) -> bool {
    match (a, b) {
        (
            ExpansionTarget::Rule {
                rule: ra,
                property: pa,
            },
            ExpansionTarget::Rule {
                rule: rb,
                property: pb,
            },
        ) => ra == rb && pa == pb,
        (
            ExpansionTarget::Teams {
                definitions: da,
                property: pa,
            },
            ExpansionTarget::Teams {
                definitions: db,
                property: pb,
            },
        ) => pa == pb && da.iter().any(|d| db.contains(d)),
        _ => false,
    }
}
