//! Rules: each rule type's properties, operations and measurements, and compound statements.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn check_rule(&mut self, index: usize, rule: &RuleDecl) -> Option<Rule> {
        let label = rule_label(rule, index);
        let mut ok = true;
        self.misplaced_property = false;
        if rule.name.is_absent() {
            self.report(Diagnostic::new(
                Code::MissingProperty,
                head(rule.span),
                format!("{label} needs a `name`"),
            ));
            ok = false;
        }
        let kind = match &rule.kind {
            Field::Given(kind) => kind.value,
            Field::Absent => {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        rule.name.span().unwrap_or_else(|| head(rule.span)),
                        format!("{label} needs a `type`"),
                    )
                    .with_help(format!("one of {}", suggest::list(RuleType::NAMES))),
                );
                return None;
            }
            Field::Invalid => return None,
        };
        for (property, span) in rule.given_properties() {
            if !kind.allows(property) {
                let users: Vec<&str> = RuleType::users_of(property)
                    .into_iter()
                    .map(RuleType::as_str)
                    .collect();
                let belongs = format!("`{property}` belongs to {} rules", suggest::list(&users));
                let own: Vec<&str> = kind.properties().iter().map(|p| p.as_str()).collect();
                // `maxCount` on a distance rule most likely meant its `max…` bound.
                let same_bound = |prefix: &str| {
                    let matching: Vec<&str> = own
                        .iter()
                        .copied()
                        .filter(|p| p.starts_with(prefix))
                        .collect();
                    match matching.as_slice() {
                        [only] => Some(*only),
                        _ => None,
                    }
                };
                let meant =
                    suggest::closest(property.as_str(), own.iter().copied()).or_else(|| {
                        ["max", "min"]
                            .into_iter()
                            .find(|prefix| property.as_str().starts_with(prefix))
                            .and_then(same_bound)
                    });
                let help = match meant {
                    Some(meant) => format!("did you mean `{meant}`? {belongs}"),
                    None => belongs,
                };
                self.report(
                    Diagnostic::new(
                        Code::PropertyNotApplicable,
                        span,
                        format!("`{property}` does not apply to a `{kind}` rule"),
                    )
                    .with_help(help),
                );
                self.misplaced_property = true;
                ok = false;
            }
        }
        let rule_kind = match kind {
            RuleType::Comparison => self.comparison(rule, &label).map(RuleKind::Comparison),
            RuleType::Distance => self.distance(rule, &label).map(RuleKind::Distance),
            RuleType::Collection => self.collection(rule, &label).map(RuleKind::Collection),
            RuleType::Latency => self.latency(rule, &label).map(RuleKind::Latency),
            RuleType::AbsoluteSort => self.sort(rule, &label).map(RuleKind::AbsoluteSort),
            RuleType::DistanceSort => self.sort(rule, &label).map(RuleKind::DistanceSort),
            RuleType::BatchDistance => self
                .batch_distance(rule, &label)
                .map(RuleKind::BatchDistance),
            RuleType::Compound => self.compound(index, rule, &label).map(RuleKind::Compound),
        };
        let name = rule.name.value()?.clone();
        Some(Rule {
            name,
            description: rule.description.value().cloned(),
            kind: rule_kind.filter(|_| ok)?,
            in_compound: false,
        })
    }

    /// Reports a missing property, unless the rule gave a property of another rule type:
    /// that one was most likely meant, and is reported already.
    pub(super) fn missing(&mut self, rule: &RuleDecl, label: &str, what: &str, help: &str) {
        if self.misplaced_property {
            return;
        }
        // Point at the rule's name, which is how a designer finds it; else at its start.
        let span = rule.name.span().unwrap_or_else(|| head(rule.span));
        self.report(
            Diagnostic::new(Code::MissingProperty, span, format!("{label} needs {what}"))
                .with_help(help.to_string()),
        );
    }

    /// A required expression property: `None` (reported) when absent or unreadable.
    pub(super) fn required_expr(
        &mut self,
        field: &Field<Expr>,
        rule: &RuleDecl,
        label: &str,
        property: &str,
        help: &str,
    ) -> Option<TypedExpr> {
        match field {
            Field::Given(expr) => self.type_expr(&expr.value),
            Field::Absent => {
                self.missing(rule, label, &format!("`{property}`"), help);
                None
            }
            Field::Invalid => None,
        }
    }

    pub(super) fn party_aggregation(
        &mut self,
        rule: &RuleDecl,
        kind: RuleType,
    ) -> Option<PartyAggregation> {
        use ast::PartyAggregation as A;
        match rule.party_aggregation.given() {
            None => {
                (!matches!(rule.party_aggregation, Field::Invalid)).then_some(PartyAggregation::Avg)
            }
            Some(aggregation) => match aggregation.value {
                A::Min => Some(PartyAggregation::Min),
                A::Max => Some(PartyAggregation::Max),
                A::Avg => Some(PartyAggregation::Avg),
                A::Union | A::Intersection => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            aggregation.span,
                            format!("party aggregation `{}` is for collection rules, not `{kind}` rules", aggregation.value),
                        )
                        .with_help("use `min`, `max` or `avg`"),
                    );
                    None
                }
            },
        }
    }

    /// A non-negative bound such as `maxDistance`.
    pub(super) fn bound(&mut self, field: &Field<f64>, property: &str) -> Result<Option<f64>, ()> {
        match field {
            Field::Given(number) if number.value >= 0.0 => Ok(Some(number.value)),
            Field::Given(number) => {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    number.span,
                    format!(
                        "`{property}` cannot be negative, found `{}`",
                        crate::expr::format_number(number.value)
                    ),
                ));
                Err(())
            }
            Field::Absent => Ok(None),
            Field::Invalid => Err(()),
        }
    }

    pub(super) fn min_not_above_max(
        &mut self,
        min: Option<f64>,
        max: Option<f64>,
        min_span: Option<Span>,
        what: &str,
    ) -> bool {
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            self.report(Diagnostic::new(
                Code::MinExceedsMax,
                min_span.unwrap_or_default(),
                format!(
                    "the minimum {what} `{}` is greater than the maximum `{}`",
                    crate::expr::format_number(min),
                    crate::expr::format_number(max)
                ),
            ));
            return false;
        }
        true
    }

    pub(super) fn comparison(&mut self, rule: &RuleDecl, label: &str) -> Option<ComparisonRule> {
        let measurement = self.required_expr(
            &rule.measurements,
            rule,
            label,
            "measurements",
            "e.g. `avg(teams[red].players.attributes[skill])`",
        );
        let operation = self.comparison_operation(rule, label);
        let party_aggregation = self.party_aggregation(rule, RuleType::Comparison);
        let measurement = measurement?;
        let measured = rule.measurements.given()?;
        let (element, is_list) = self.compared_element(&measurement.ty, measured.span)?;
        let reference = match &rule.reference_value {
            Field::Given(reference) => {
                let typed = self.reference(
                    reference,
                    &element,
                    &format!("the measurement holds {element} values"),
                )?;
                Some(typed)
            }
            Field::Invalid => return None,
            Field::Absent => None,
        };
        let operation = operation?;
        if reference.is_none()
            && !self.compares_among_themselves(
                rule,
                label,
                operation,
                &element,
                is_list,
                measured.span,
            )
        {
            return None;
        }
        if !self.string_comparison_fits(rule, operation, &element) {
            return None;
        }
        Some(ComparisonRule {
            measurement,
            reference,
            operation,
            party_aggregation: party_aggregation?,
        })
    }

    /// A comparison rule's `operation`: `None` (reported) when absent or a collection one.
    fn comparison_operation(
        &mut self,
        rule: &RuleDecl,
        label: &str,
    ) -> Option<ComparisonOperation> {
        use ast::Operation as O;
        match rule.operation.given() {
            Some(operation) => match operation.value {
                O::Equal => Some(ComparisonOperation::Equal),
                O::NotEqual => Some(ComparisonOperation::NotEqual),
                O::Less => Some(ComparisonOperation::Less),
                O::LessOrEqual => Some(ComparisonOperation::LessOrEqual),
                O::Greater => Some(ComparisonOperation::Greater),
                O::GreaterOrEqual => Some(ComparisonOperation::GreaterOrEqual),
                O::Intersection | O::Contains | O::ReferenceIntersectionCount => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidOperation,
                            operation.span,
                            format!("`{}` is a collection operation; comparison rules compare values", operation.value),
                        )
                        .with_help("use `=`, `!=`, `<`, `<=`, `>` or `>=`, or make this a `collection` rule"),
                    );
                    None
                }
            },
            None => {
                if rule.operation.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "an `operation`",
                        "one of `=`, `!=`, `<`, `<=`, `>` or `>=`",
                    );
                }
                None
            }
        }
    }

    /// The type a comparison compares, and whether the measurement is a list of them: the
    /// measurement is a value, or a list of values each compared (or, without a reference,
    /// compared with each other). `None` (reported) for any other measurement.
    fn compared_element(&mut self, measured: &Type, span: Span) -> Option<(Type, bool)> {
        match measured {
            Type::Number | Type::String => Some((measured.clone(), false)),
            Type::List(inner) if matches!(**inner, Type::Number | Type::String) => {
                Some(((**inner).clone(), true))
            }
            other => {
                let help = if other.depth() >= 2 {
                    "wrap it in `flatten(...)` to compare all players' values, or aggregate each team with e.g. `avg(...)`"
                } else {
                    "comparison rules compare numbers or strings"
                };
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        span,
                        format!("a comparison measures a number, a string or a list of them, found {other}"),
                    )
                    .with_help(help),
                );
                None
            }
        }
    }

    /// Whether a comparison without a `referenceValue` makes sense: it measures a list and
    /// requires its values all equal or all different. `false` is reported.
    fn compares_among_themselves(
        &mut self,
        rule: &RuleDecl,
        label: &str,
        operation: ComparisonOperation,
        element: &Type,
        is_list: bool,
        measured_span: Span,
    ) -> bool {
        if !is_list {
            self.report(
                Diagnostic::new(
                    Code::MissingProperty,
                    measured_span,
                    format!("{label} compares one {element} with nothing"),
                )
                .with_help(self.spell(
                    "add a `referenceValue`, or measure a list such as `flatten(teams[*].players.attributes[x])` to require all values equal or all different",
                    "compare it with a value (`= 5`), or measure a list such as `flatten(teams[*].players.attributes[x])` with `all equal` or `all different`",
                )),
            );
            return false;
        }
        if !matches!(
            operation,
            ComparisonOperation::Equal | ComparisonOperation::NotEqual
        ) {
            self.report(
                Diagnostic::new(
                    Code::InvalidOperation,
                    rule.operation.span().unwrap_or_default(),
                    format!("without a `referenceValue`, a comparison checks that values are all equal (`=`) or all different (`!=`); `{}` needs a reference", rule.operation.value().map_or("", |o| o.as_str())),
                )
                .with_help("use `=` or `!=`, or add a `referenceValue`"),
            );
            return false;
        }
        true
    }

    /// Whether the operation suits the compared type: strings have no order. `false` is
    /// reported.
    fn string_comparison_fits(
        &mut self,
        rule: &RuleDecl,
        operation: ComparisonOperation,
        element: &Type,
    ) -> bool {
        if *element == Type::String
            && !matches!(
                operation,
                ComparisonOperation::Equal | ComparisonOperation::NotEqual
            )
        {
            self.report(
                Diagnostic::new(
                    Code::InvalidOperation,
                    rule.operation.span().unwrap_or_default(),
                    "strings compare only with `=` and `!=`",
                )
                .with_help("order comparisons need number measurements"),
            );
            return false;
        }
        true
    }

    /// Types a reference value that must be one `expected` value; `help` says why, for when
    /// it is not. A string holding a number counts as a number (with a warning), as
    /// FlexMatch's examples write them.
    pub(super) fn reference(
        &mut self,
        reference: &Spanned<Expr>,
        expected: &Type,
        help: &str,
    ) -> Option<TypedExpr> {
        if *expected == Type::Number
            && let ExprKind::String(text) = &reference.value.kind
            && let Some(number) = number_in_string(text)
        {
            self.report(number_as_string(reference.span, text));
            return Some(TypedExpr {
                node: ExprNode::Number(number),
                ty: Type::Number,
            });
        }
        let typed = self.type_expr(&reference.value)?;
        if typed.ty != *expected {
            let help = if typed.ty.depth() > 0 && *expected == Type::Number {
                "aggregate it to one number, e.g. with `max(...)` or `avg(...)`".to_string()
            } else {
                help.to_string()
            };
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    reference.span,
                    format!(
                        "the reference value must be a {expected}, found {}",
                        typed.ty
                    ),
                )
                .with_help(help),
            );
            return None;
        }
        Some(typed)
    }

    pub(super) fn distance(&mut self, rule: &RuleDecl, label: &str) -> Option<DistanceRule> {
        let measurement = self.required_expr(
            &rule.measurements,
            rule,
            label,
            "measurements",
            "e.g. `avg(teams[*].players.attributes[skill])`",
        );
        let reference = match &rule.reference_value {
            Field::Given(reference) => self.reference(
                reference,
                &Type::Number,
                "a distance is measured between numbers",
            ),
            Field::Absent => {
                self.missing(
                    rule,
                    label,
                    "a `referenceValue`",
                    "e.g. `avg(flatten(teams[*].players.attributes[skill]))`",
                );
                None
            }
            Field::Invalid => None,
        };
        let min = self.bound(&rule.min_distance, "minDistance");
        let max = self.bound(&rule.max_distance, "maxDistance");
        let party_aggregation = self.party_aggregation(rule, RuleType::Distance);
        let (Ok(min), Ok(max)) = (min, max) else {
            return None;
        };
        if min.is_none()
            && max.is_none()
            && rule.min_distance.is_absent()
            && rule.max_distance.is_absent()
        {
            self.missing(
                rule,
                label,
                self.spell(
                    "a `maxDistance`, a `minDistance` or both",
                    "a `max` or `min` bound",
                ),
                self.spell("e.g. `\"maxDistance\": 10`", "e.g. `max 10`"),
            );
            return None;
        }
        if !self.min_not_above_max(min, max, rule.min_distance.span(), "distance") {
            return None;
        }
        let measurement = measurement?;
        let numeric = matches!(&measurement.ty, Type::Number)
            || matches!(&measurement.ty, Type::List(inner) if **inner == Type::Number);
        if !numeric {
            let span = rule.measurements.span().unwrap_or_default();
            let help = if measurement.ty.depth() >= 2 {
                "aggregate each team with e.g. `avg(...)`, or flatten with `flatten(...)`"
            } else {
                "distance rules measure numbers"
            };
            self.report(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!(
                        "a distance measures a number or a list of numbers, found {}",
                        measurement.ty
                    ),
                )
                .with_help(help),
            );
            return None;
        }
        Some(DistanceRule {
            measurement,
            reference: reference?,
            min_distance: min,
            max_distance: max,
            party_aggregation: party_aggregation?,
        })
    }

    pub(super) fn collection(&mut self, rule: &RuleDecl, label: &str) -> Option<CollectionRule> {
        let measurement = self.required_expr(
            &rule.measurements,
            rule,
            label,
            "measurements",
            "e.g. `flatten(teams[*].players.attributes[modes])`",
        );
        let operation = self.collection_operation(rule, label);
        let min = self.bound(&rule.min_count, "minCount");
        let max = self.bound(&rule.max_count, "maxCount");
        let party_aggregation = self.collection_party_aggregation(rule);
        // Counts, measurement and reference are checked independently, so a mistake in one
        // does not hide a mistake in another.
        let counts = self.collection_counts(rule, label, min, max);
        let measurement =
            measurement.and_then(|measurement| self.collection_measurement(rule, measurement));
        let reference = self.collection_reference(rule, label, operation);
        let (min_count, max_count) = counts?;
        Some(CollectionRule {
            measurement: measurement?,
            reference: reference?,
            operation: operation?,
            min_count,
            max_count,
            party_aggregation: party_aggregation?,
        })
    }

    /// A collection rule's `operation`: `None` (reported) when absent or a comparison one.
    fn collection_operation(
        &mut self,
        rule: &RuleDecl,
        label: &str,
    ) -> Option<CollectionOperation> {
        use ast::Operation as O;
        match rule.operation.given() {
            Some(operation) => match operation.value {
                O::Intersection => Some(CollectionOperation::Intersection),
                O::Contains => Some(CollectionOperation::Contains),
                O::ReferenceIntersectionCount => {
                    Some(CollectionOperation::ReferenceIntersectionCount)
                }
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidOperation,
                            operation.span,
                            format!("`{}` compares values; collection rules count strings", operation.value),
                        )
                        .with_help("use `intersection`, `contains` or `reference_intersection_count`, or make this a `comparison` rule"),
                    );
                    None
                }
            },
            None => {
                if rule.operation.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "an `operation`",
                        "one of `intersection`, `contains` or `reference_intersection_count`",
                    );
                }
                None
            }
        }
    }

    /// A collection rule's party aggregation, which combines lists (`union`, the default, or
    /// `intersection`) where other rules combine numbers.
    fn collection_party_aggregation(
        &mut self,
        rule: &RuleDecl,
    ) -> Option<CollectionPartyAggregation> {
        match rule.party_aggregation.given() {
            None => (!matches!(rule.party_aggregation, Field::Invalid))
                .then_some(CollectionPartyAggregation::Union),
            Some(aggregation) => match aggregation.value {
                ast::PartyAggregation::Union => Some(CollectionPartyAggregation::Union),
                ast::PartyAggregation::Intersection => {
                    Some(CollectionPartyAggregation::Intersection)
                }
                other => {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidValue,
                            aggregation.span,
                            format!("party aggregation `{other}` is not for collection rules"),
                        )
                        .with_help("collection rules combine a party's lists with `union` or `intersection`"),
                    );
                    None
                }
            },
        }
    }

    /// The measurement, when it is one list of strings per player; else `None` (reported).
    fn collection_measurement(
        &mut self,
        rule: &RuleDecl,
        measurement: TypedExpr,
    ) -> Option<TypedExpr> {
        let collections = Type::list(Type::list(Type::String));
        if measurement.ty == collections {
            return Some(measurement);
        }
        let span = rule.measurements.span().unwrap_or_default();
        let help = if measurement.ty.depth() > 2 && *measurement.ty.innermost() == Type::String {
            "wrap it in `flatten(...)` to get one list per player"
        } else {
            "collection rules measure `string_list` attributes, one list per player"
        };
        self.report(
            Diagnostic::new(
                Code::TypeMismatch,
                span,
                format!(
                    "a collection rule measures List<List<string>>, found {}",
                    measurement.ty
                ),
            )
            .with_help(help),
        );
        None
    }

    /// The reference the operation takes: none for `intersection`, one string for
    /// `contains`, strings for `reference_intersection_count`. The outer `None` is a reported
    /// mistake; the inner one, no reference.
    fn collection_reference(
        &mut self,
        rule: &RuleDecl,
        label: &str,
        operation: Option<CollectionOperation>,
    ) -> Option<Option<TypedExpr>> {
        match (&rule.reference_value, operation) {
            (Field::Given(reference), None) => {
                // The operation is wrong; still check the reference's own expression.
                self.type_expr(&reference.value);
                None
            }
            (Field::Given(reference), Some(CollectionOperation::Intersection)) => {
                self.report(
                    Diagnostic::new(
                        Code::PropertyNotApplicable,
                        reference.span,
                        "`intersection` counts the strings all players share and takes no `referenceValue`",
                    )
                    .with_help("remove it, or use `reference_intersection_count` to compare with a reference"),
                );
                None
            }
            (Field::Given(reference), Some(CollectionOperation::Contains)) => self
                .reference(
                    reference,
                    &Type::String,
                    "`contains` looks for one string; to count matches with a list, use `reference_intersection_count`",
                )
                .map(Some),
            (Field::Given(reference), Some(CollectionOperation::ReferenceIntersectionCount)) => {
                self.intersection_count_reference(reference).map(Some)
            }
            (Field::Absent, Some(CollectionOperation::Intersection)) => Some(None),
            (Field::Absent, Some(_)) => {
                self.missing(
                    rule,
                    label,
                    self.spell("a `referenceValue`", "a reference after its operation"),
                    "the string or list of strings to look for",
                );
                None
            }
            (Field::Absent, None) | (Field::Invalid, _) => None,
        }
    }

    /// A `reference_intersection_count` reference: a string or a list of them; else `None`
    /// (reported unless its expression already was).
    fn intersection_count_reference(&mut self, reference: &Spanned<Expr>) -> Option<TypedExpr> {
        let typed = self.type_expr(&reference.value)?;
        if typed.ty == Type::list(Type::String) || typed.ty == Type::String {
            return Some(typed);
        }
        self.report(
            Diagnostic::new(
                Code::TypeMismatch,
                reference.span,
                format!(
                    "the reference value must be a List<string>, found {}",
                    typed.ty
                ),
            )
            .with_help("e.g. `flatten(teams[*].players[playerId])` or `set_intersection(...)`"),
        );
        None
    }

    /// A collection rule's `minCount` and `maxCount`: whole, non-negative, at least one given,
    /// and in order.
    fn collection_counts(
        &mut self,
        rule: &RuleDecl,
        label: &str,
        min: Result<Option<f64>, ()>,
        max: Result<Option<f64>, ()>,
    ) -> Option<(Option<u32>, Option<u32>)> {
        let (Ok(min), Ok(max)) = (min, max) else {
            return None;
        };
        let mut counts_ok = true;
        for (field, value) in [(&rule.min_count, min), (&rule.max_count, max)] {
            if let (Some(value), Some(span)) = (value, field.span())
                && value.fract() != 0.0
            {
                self.report(Diagnostic::new(
                    Code::InvalidValue,
                    span,
                    format!("counts are whole numbers, found `{}`", format_number(value)),
                ));
                counts_ok = false;
            }
        }
        if min.is_none()
            && max.is_none()
            && rule.min_count.is_absent()
            && rule.max_count.is_absent()
        {
            self.missing(
                rule,
                label,
                self.spell(
                    "a `minCount`, a `maxCount` or both",
                    "a `min` or `max` count",
                ),
                self.spell("e.g. `\"minCount\": 1`", "e.g. `min 1`"),
            );
            return None;
        }
        if !counts_ok || !self.min_not_above_max(min, max, rule.min_count.span(), "count") {
            return None;
        }
        Some((min.map(|count| count as u32), max.map(|count| count as u32)))
    }

    pub(super) fn latency(&mut self, rule: &RuleDecl, label: &str) -> Option<LatencyRule> {
        let max_latency = self.bound(&rule.max_latency, "maxLatency");
        let max_distance = self.bound(&rule.max_distance, "maxDistance");
        let party_aggregation = self.party_aggregation(rule, RuleType::Latency);
        let (Ok(max_latency), Ok(max_distance)) = (max_latency, max_distance) else {
            return None;
        };
        let distance_reference = rule.distance_reference.value().copied();
        if rule.max_latency.is_absent() && rule.max_distance.is_absent() {
            self.missing(
                rule,
                label,
                self.spell(
                    "a `maxLatency`, a `maxDistance` or both",
                    "`max` or `distance … from`",
                ),
                self.spell(
                    "e.g. `\"maxLatency\": 150` (milliseconds)",
                    "e.g. `max 150ms`",
                ),
            );
            return None;
        }
        match (max_distance.is_some(), &rule.distance_reference) {
            (true, Field::Absent) => {
                self.missing(
                    rule,
                    label,
                    "a `distanceReference` with its `maxDistance`",
                    "`min` or `avg`: what each player's latency is measured from",
                );
                return None;
            }
            // A reference waiting for an expansion to add its `maxDistance` is fine.
            (false, Field::Given(reference))
                if rule.max_distance.is_absent()
                    && !self.is_expanded(rule, RuleProperty::MaxDistance) =>
            {
                self.report(
                    Diagnostic::new(
                        Code::MissingProperty,
                        reference.span,
                        format!("{label} has a `distanceReference` but no `maxDistance`"),
                    )
                    .with_help("add a `maxDistance`, or remove the reference"),
                );
                return None;
            }
            (_, Field::Invalid) => return None,
            _ => {}
        }
        Some(LatencyRule {
            max_latency,
            max_distance,
            distance_reference,
            party_aggregation: party_aggregation?,
        })
    }

    pub(super) fn sort(&mut self, rule: &RuleDecl, label: &str) -> Option<SortRule> {
        let direction = match &rule.sort_direction {
            Field::Given(direction) => Some(direction.value),
            Field::Absent => {
                self.missing(
                    rule,
                    label,
                    "a `sortDirection`",
                    "`ascending` or `descending`",
                );
                None
            }
            Field::Invalid => None,
        };
        let party_aggregation = self.party_aggregation(rule, rule.kind.value().copied()?);
        let attribute = match rule.sort_attribute.given() {
            Some(name) => self.attribute_named(name),
            None => {
                if rule.sort_attribute.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "a `sortAttribute`",
                        "the number or string_number_map attribute to sort by",
                    );
                }
                None
            }
        }?;
        let ty = self.attributes[attribute.0].ty;
        let name = rule.sort_attribute.given()?;
        let map_key = match (ty, &rule.map_key) {
            (ast::AttributeType::Number, Field::Absent) => None,
            (ast::AttributeType::Number, Field::Given(key)) => {
                self.report(
                    Diagnostic::new(
                        Code::PropertyNotApplicable,
                        key.span,
                        format!(
                            "`mapKey` applies to string_number_map attributes; `{}` is a number",
                            name.value
                        ),
                    )
                    .with_help("remove `mapKey`"),
                );
                return None;
            }
            (ast::AttributeType::StringNumberMap, Field::Given(key)) => Some(key.value),
            (ast::AttributeType::StringNumberMap, Field::Absent) => {
                self.missing(
                    rule,
                    label,
                    self.spell(
                        "a `mapKey` to sort a string_number_map",
                        "a `key` to sort a string_number_map",
                    ),
                    "`minValue` or `maxValue`: which of the anchor's keys to sort by",
                );
                return None;
            }
            (_, Field::Invalid) => return None,
            (other, _) => {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        name.span,
                        format!("sort rules sort by number or string_number_map attributes; `{}` is a {other}", name.value),
                    ),
                );
                return None;
            }
        };
        Some(SortRule {
            attribute,
            direction: direction?,
            map_key,
            party_aggregation: party_aggregation?,
        })
    }

    pub(super) fn batch_distance(
        &mut self,
        rule: &RuleDecl,
        label: &str,
    ) -> Option<BatchDistanceRule> {
        let max_distance = self.bound(&rule.max_distance, "maxDistance");
        let party_aggregation = self.party_aggregation(rule, RuleType::BatchDistance);
        let attribute = match rule.batch_attribute.given() {
            Some(name) => self.attribute_named(name),
            None => {
                if rule.batch_attribute.is_absent() {
                    self.missing(
                        rule,
                        label,
                        "a `batchAttribute`",
                        "the number or string attribute players must share",
                    );
                }
                None
            }
        }?;
        let max_distance = max_distance.ok()?;
        let name = rule.batch_attribute.given()?;
        match self.attributes[attribute.0].ty {
            ast::AttributeType::Number => {}
            ast::AttributeType::String => {
                if let Some(span) = rule.max_distance.span() {
                    self.report(
                        Diagnostic::new(
                            Code::PropertyNotApplicable,
                            span,
                            format!("`{}` is a string attribute: players must share its value, so `maxDistance` does not apply", name.value),
                        )
                        .with_help("remove `maxDistance`"),
                    );
                    return None;
                }
            }
            other => {
                self.report(Diagnostic::new(
                    Code::TypeMismatch,
                    name.span,
                    format!("a batchDistance rule batches on a number or string attribute; `{}` is a {other}", name.value),
                ));
                return None;
            }
        }
        Some(BatchDistanceRule {
            attribute,
            max_distance,
            party_aggregation: party_aggregation?,
        })
    }

    pub(super) fn compound(
        &mut self,
        index: usize,
        rule: &RuleDecl,
        label: &str,
    ) -> Option<CompoundRule> {
        let statement = match &rule.statement {
            Field::Given(statement) => statement,
            Field::Absent => {
                self.missing(
                    rule,
                    label,
                    "a `statement`",
                    "e.g. `or(and(SameMap, SameMode), CloseSkill)`",
                );
                return None;
            }
            Field::Invalid => return None,
        };
        let condition = self.condition(&statement.value, index)?;
        Some(CompoundRule { condition })
    }

    pub(super) fn condition(
        &mut self,
        statement: &crate::expr::Statement,
        compound_index: usize,
    ) -> Option<Condition> {
        match &statement.kind {
            StatementKind::Rule(name) => {
                let position = self.combinable_rule(name, statement.span, compound_index)?;
                Some(Condition::Rule(RuleId(position)))
            }
            StatementKind::Call { operator, args } => {
                self.operator_condition(statement, operator, args, compound_index)
            }
        }
    }

    /// The position of the rule a compound statement names: a known rule, defined before the
    /// compound rule, that passes or fails on its own. `None` (reported) otherwise.
    fn combinable_rule(&mut self, name: &str, span: Span, compound_index: usize) -> Option<usize> {
        let Some(&position) = self.rule_positions.get(name) else {
            let earlier: Vec<&str> = self.ast.rules[..compound_index]
                .iter()
                .filter_map(|rule| rule.name.value().map(String::as_str))
                .collect();
            self.report(
                Diagnostic::new(Code::UnknownRule, span, format!("unknown rule `{name}`"))
                    .with_help_opt(self.name_help(name, &earlier)),
            );
            return None;
        };
        if position >= compound_index {
            let (message, help) = if position == compound_index {
                (
                    format!("compound rule `{name}` names itself"),
                    "a compound rule combines other rules, defined before it",
                )
            } else {
                (
                    format!("rule `{name}` is defined after the compound rule that names it"),
                    "a compound rule combines rules defined before it; move it below them",
                )
            };
            self.report(
                Diagnostic::new(Code::CompoundForwardReference, span, message).with_help(help),
            );
            return None;
        }
        if self.ast.rules[position].kind.value() == Some(&RuleType::BatchDistance) {
            self.report(
                Diagnostic::new(
                    Code::CompoundBatchDistance,
                    span,
                    format!("compound rules cannot use batchDistance rule `{name}`"),
                )
                .with_help("batchDistance rules form batches before any match is built; keep it as a rule of its own"),
            );
            return None;
        }
        if let Some(kind @ (RuleType::AbsoluteSort | RuleType::DistanceSort)) =
            self.ast.rules[position].kind.value()
        {
            self.report(
                Diagnostic::new(
                    Code::CompoundSortRule,
                    span,
                    format!("compound rules cannot use `{kind}` rule `{name}`"),
                )
                .with_help("sort rules only order candidates; they never pass or fail, so there is nothing to combine"),
            );
            return None;
        }
        Some(position)
    }

    /// `and`, `or`, `xor` or `not` over its arguments' conditions, each argument checked
    /// even when another fails.
    fn operator_condition(
        &mut self,
        statement: &crate::expr::Statement,
        operator: &Spanned<String>,
        args: &[crate::expr::Statement],
        compound_index: usize,
    ) -> Option<Condition> {
        let arity = self.operator_arity(operator)?;
        if !self.argument_count_fits(statement, operator, args, arity) {
            return None;
        }
        let mut conditions = Vec::new();
        let mut ok = true;
        for arg in args {
            match self.condition(arg, compound_index) {
                Some(condition) => conditions.push(condition),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let mut conditions = conditions.into_iter().map(Box::new);
        let mut next = || conditions.next().expect("arity was checked");
        Some(match operator.value.as_str() {
            "and" => Condition::And(next(), next()),
            "or" => Condition::Or(next(), next()),
            "xor" => Condition::Xor(next(), next()),
            _ => Condition::Not(next()),
        })
    }

    /// How many arguments a compound operator takes; `None` (reported) for an unknown one.
    fn operator_arity(&mut self, operator: &Spanned<String>) -> Option<usize> {
        match operator.value.as_str() {
            "and" | "or" | "xor" => Some(2),
            "not" => Some(1),
            other => {
                self.report(
                    Diagnostic::new(
                        Code::UnknownFunction,
                        operator.span,
                        format!("unknown operator `{other}` in a compound statement"),
                    )
                    .with_help(suggest::expected_one_of(
                        other,
                        &["and", "or", "xor", "not"],
                    )),
                );
                None
            }
        }
    }

    /// Whether an operator has its `arity` arguments; `false` is reported.
    fn argument_count_fits(
        &mut self,
        statement: &crate::expr::Statement,
        operator: &Spanned<String>,
        args: &[crate::expr::Statement],
        arity: usize,
    ) -> bool {
        if args.len() == arity {
            return true;
        }
        // `and(A B)` reads as one rule named `A B`: the comma is missing.
        let spaced = args.iter().any(|arg| {
            matches!(&arg.kind, StatementKind::Rule(name) if name.contains(char::is_whitespace))
        });
        let help = spaced.then_some("arguments are separated by commas");
        self.report(
            Diagnostic::new(
                Code::WrongArgumentCount,
                statement.span,
                format!(
                    "`{}` takes {arity} argument{}, found {}",
                    operator.value,
                    if arity == 1 { "" } else { "s" },
                    args.len()
                ),
            )
            .with_help_opt(help.map(str::to_string)),
        );
        false
    }
}
