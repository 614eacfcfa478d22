//! The algorithm block, and FlexMatch's match-size rules (200 players; over 40 is a large match).

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn check_algorithm(&mut self) -> Option<Algorithm> {
        use ast::Strategy as S;
        let declared = &self.ast.algorithm;
        let strategy = declared
            .strategy
            .value()
            .copied()
            .unwrap_or(S::ExhaustiveSearch);
        let mut ok = !matches!(declared.strategy, Field::Invalid);
        let batching = self.batching_preference(strategy, &mut ok);
        let sort_by_attributes = self.sort_by_attributes(batching, &mut ok);
        let balanced_attribute = self.balanced_attribute(strategy, &mut ok);
        self.warn_backfill_priority_balanced(strategy);
        ok &= !matches!(declared.backfill_priority, Field::Invalid)
            && !matches!(declared.expansion_age_selection, Field::Invalid);

        ok.then(|| Algorithm {
            strategy,
            batching_preference: batching,
            sort_by_attributes,
            balanced_attribute,
            backfill_priority: declared
                .backfill_priority
                .value()
                .copied()
                .unwrap_or(ast::BackfillPriority::Normal),
            expansion_age_selection: declared
                .expansion_age_selection
                .value()
                .copied()
                .unwrap_or(ast::ExpansionAgeSelection::Newest),
        })
    }

    /// The batching preference, which must belong to the strategy; by default the strategy's
    /// first. Clears `ok` on an error.
    fn batching_preference(
        &mut self,
        strategy: ast::Strategy,
        ok: &mut bool,
    ) -> ast::BatchingPreference {
        use ast::{BatchingPreference as B, Strategy as S};
        let declared = &self.ast.algorithm;
        match declared.batching_preference.given() {
            Some(batching) => {
                let fits = match strategy {
                    S::ExhaustiveSearch => matches!(batching.value, B::Random | B::Sorted),
                    S::Balanced => {
                        matches!(batching.value, B::LargestPopulation | B::FastestRegion)
                    }
                };
                if !fits {
                    let (needs, allowed) = match strategy {
                        S::ExhaustiveSearch => ("balanced", "`random` or `sorted`"),
                        S::Balanced => {
                            ("exhaustiveSearch", "`largestPopulation` or `fastestRegion`")
                        }
                    };
                    self.report(
                        Diagnostic::new(
                            Code::StrategyMismatch,
                            batching.span,
                            format!(
                                "batching preference `{}` belongs to the `{needs}` strategy, but the strategy is `{strategy}`",
                                batching.value
                            ),
                        )
                        .with_help(format!("with `{strategy}` use {allowed}")),
                    );
                    *ok = false;
                }
                batching.value
            }
            None => {
                *ok &= !matches!(declared.batching_preference, Field::Invalid);
                match strategy {
                    S::ExhaustiveSearch => B::Random,
                    S::Balanced => B::LargestPopulation,
                }
            }
        }
    }

    /// The attributes batches sort by: number or string attributes, for the `sorted` batching
    /// preference, which needs them. Clears `ok` on an error; checks for the missing list only
    /// when nothing before was wrong.
    fn sort_by_attributes(
        &mut self,
        batching: ast::BatchingPreference,
        ok: &mut bool,
    ) -> Vec<AttributeId> {
        use ast::BatchingPreference as B;
        let declared = &self.ast.algorithm;
        let mut sort_by_attributes = Vec::new();
        match &declared.sort_by_attributes {
            Field::Given(names) => {
                if batching != B::Sorted {
                    self.report(
                        Diagnostic::new(
                            Code::UnusedSortAttributes,
                            names.span,
                            "`sortByAttributes` has no effect unless the batching preference is `sorted`",
                        )
                        .with_help("set the batching preference to `sorted`, or remove the list"),
                    );
                }
                for name in &names.value {
                    let Some(id) = self.attribute_named(name) else {
                        *ok = false;
                        continue;
                    };
                    let ty = self.attributes[id.0].ty;
                    if !matches!(ty, ast::AttributeType::Number | ast::AttributeType::String) {
                        self.report(Diagnostic::new(
                            Code::TypeMismatch,
                            name.span,
                            format!(
                                "batches sort by string or number attributes; `{}` is a {ty}",
                                name.value
                            ),
                        ));
                        *ok = false;
                    }
                    sort_by_attributes.push(id);
                }
            }
            Field::Invalid => *ok = false,
            Field::Absent => {}
        }
        if batching == B::Sorted && sort_by_attributes.is_empty() && *ok {
            let span = declared.batching_preference.span().unwrap_or_default();
            self.report(
                Diagnostic::new(
                    Code::MissingSortAttributes,
                    span,
                    "batching preference `sorted` needs `sortByAttributes`",
                )
                .with_help("list the attributes to sort batches by, most important first"),
            );
            *ok = false;
        }
        sort_by_attributes
    }

    /// The number attribute the `balanced` strategy balances teams on, which it needs. Clears
    /// `ok` on an error.
    fn balanced_attribute(
        &mut self,
        strategy: ast::Strategy,
        ok: &mut bool,
    ) -> Option<AttributeId> {
        use ast::Strategy as S;
        let declared = &self.ast.algorithm;
        match declared.balanced_attribute.given() {
            Some(name) => match self.attribute_named(name) {
                Some(id) if self.attributes[id.0].ty == ast::AttributeType::Number => Some(id),
                Some(id) => {
                    let ty = self.attributes[id.0].ty;
                    self.report(Diagnostic::new(
                        Code::TypeMismatch,
                        name.span,
                        format!(
                            "the balanced attribute must be a number attribute; `{}` is a {ty}",
                            name.value
                        ),
                    ));
                    *ok = false;
                    None
                }
                None => {
                    *ok = false;
                    None
                }
            },
            None => {
                *ok &= !matches!(declared.balanced_attribute, Field::Invalid);
                if strategy == S::Balanced && declared.balanced_attribute.is_absent() {
                    let span = declared
                        .strategy
                        .span()
                        .or(declared.span)
                        .unwrap_or_default();
                    self.report(
                        Diagnostic::new(
                            Code::MissingProperty,
                            span,
                            "the `balanced` strategy needs a `balancedAttribute`",
                        )
                        .with_help("name the number attribute to balance teams on, e.g. `skill`"),
                    );
                    *ok = false;
                }
                None
            }
        }
    }

    fn warn_backfill_priority_balanced(&mut self, strategy: ast::Strategy) {
        use ast::Strategy as S;
        let declared = &self.ast.algorithm;
        // Only where rally really runs balanced: a small "balanced" match runs exhaustiveSearch,
        // where backfillPriority is documented (see `Code::BalancedSmallMatch`).
        if strategy == S::Balanced
            && self.expanded_max_players().0 > SMALL_MATCH_MAX_PLAYERS
            && let Some(priority) = declared.backfill_priority.given()
        {
            self.report(Diagnostic::new(
                Code::BackfillPriorityBalanced,
                priority.span,
                "FlexMatch documents `backfillPriority` for exhaustiveSearch only; rally applies it to balanced batches too",
            ));
        }
    }

    /// FlexMatch's match-size rules: at most 200 players; more than 40 needs the balanced
    /// strategy and only latency and batchDistance rules. An expansion that raises
    /// `maxPlayers` counts: the rules apply to the largest match the rule set can form.
    pub(super) fn check_match_size(&mut self, algorithm: &Option<Algorithm>) {
        let defined = self.max_players();
        let (total, grown_by) = self.expanded_max_players();
        let declared = &self.ast.algorithm;
        let balanced = declared.strategy.value() == Some(&ast::Strategy::Balanced);
        // The expansion's step is to blame only when the teams as defined were within `limit`.
        let growth = |limit: u32| grown_by.filter(|_| defined <= limit);
        if total > MATCH_MAX_PLAYERS {
            let (span, message) = match growth(MATCH_MAX_PLAYERS) {
                Some(span) => (
                    span,
                    format!(
                        "this expansion grows the match to {total} players; a match holds at most {MATCH_MAX_PLAYERS}"
                    ),
                ),
                None => (
                    self.teams_span(),
                    format!(
                        "the teams hold up to {total} players; a match holds at most {MATCH_MAX_PLAYERS}"
                    ),
                ),
            };
            self.report(
                Diagnostic::new(Code::TooManyPlayers, span, message)
                    .with_help("lower `maxPlayers` or `quantity`"),
            );
        }
        if total > SMALL_MATCH_MAX_PLAYERS {
            if !balanced {
                let (span, message) = match growth(SMALL_MATCH_MAX_PLAYERS) {
                    Some(span) => (
                        span,
                        format!(
                            "this expansion grows the match to {total} players, which needs the `balanced` strategy"
                        ),
                    ),
                    None => (
                        declared
                            .strategy
                            .span()
                            .or(declared.span)
                            .unwrap_or_else(|| self.teams_span()),
                        format!("a match of up to {total} players needs the `balanced` strategy"),
                    ),
                };
                self.report(
                    Diagnostic::new(Code::LargeMatchStrategy, span, message)
                        .with_help("exhaustiveSearch handles 40 players or fewer; set the strategy to `balanced` with a number `balancedAttribute`"),
                );
            }
            self.large_match_rules();
            self.large_match_expansions();
        } else if balanced && algorithm.is_some() {
            let span = declared.strategy.span().unwrap_or_default();
            self.report(
                Diagnostic::new(
                    Code::BalancedSmallMatch,
                    span,
                    format!(
                        "the `balanced` strategy is for matches of 41 to 200 players; this one holds at most {total}, so rally runs exhaustiveSearch"
                    ),
                )
                .with_help("rally still balances teams on the `balancedAttribute` once a match forms; set the strategy to `exhaustiveSearch` to silence this"),
            );
        }
    }

    /// In a large match only `latency` rules (with `maxLatency` alone) and `batchDistance`
    /// rules apply.
    fn large_match_rules(&mut self) {
        for rule in &self.ast.rules {
            let Some(kind) = rule.kind.given() else {
                continue;
            };
            let allowed = matches!(kind.value, RuleType::Latency | RuleType::BatchDistance);
            if !allowed {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::LargeMatchRule,
                        kind.span,
                        format!("a match of more than {SMALL_MATCH_MAX_PLAYERS} players cannot use `{}` rules", kind.value),
                    )
                    .with_help("large matches allow `latency` (with `maxLatency`) and `batchDistance` rules; teams are balanced on the `balancedAttribute` instead"),
                );
            } else if kind.value == RuleType::Latency
                && let Some(span) = rule.max_distance.span().or(rule.distance_reference.span())
            {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::LargeMatchRule,
                        span,
                        format!("a latency rule in a match of more than {SMALL_MATCH_MAX_PLAYERS} players takes only `maxLatency`"),
                    )
                    .with_help("remove `maxDistance` and `distanceReference`"),
                );
            }
        }
    }

    /// An expansion that gives a latency rule a `maxDistance` is as out of place in a large
    /// match as the rule's own.
    fn large_match_expansions(&mut self) {
        for expansion in &self.ast.expansions {
            let Some(target) = expansion.target.value() else {
                continue;
            };
            let relaxes_latency_distance = target.component.value == ast::TargetComponent::Rules
                && target.property.value == RuleProperty::MaxDistance.as_str()
                && target.names.iter().any(|name| {
                    self.rule_positions
                        .get(name.value.as_str())
                        .is_some_and(|&i| {
                            self.ast.rules[i].kind.value() == Some(&RuleType::Latency)
                        })
                });
            if relaxes_latency_distance {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::LargeMatchRule,
                        target.property.span,
                        format!("a latency rule in a match of more than {SMALL_MATCH_MAX_PLAYERS} players takes only `maxLatency`"),
                    )
                    .with_help("expand `maxLatency` instead"),
                );
            }
        }
    }
}
