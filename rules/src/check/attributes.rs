//! Player attributes: declarations, defaults, and resolving names in expressions.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn declare_attributes(&mut self) {
        let mut first_spans: HashMap<&str, Span> = HashMap::new();
        for declaration in &self.ast.attributes {
            let Some(name) = declaration.name.given() else {
                if declaration.name.is_absent() {
                    self.report(Diagnostic::new(
                        Code::MissingProperty,
                        head(declaration.span),
                        "a player attribute needs a `name`",
                    ));
                }
                continue;
            };
            let ty = match &declaration.ty {
                Field::Given(ty) => Some(ty.value),
                Field::Absent => {
                    self.report(
                        Diagnostic::new(
                            Code::MissingProperty,
                            head(declaration.span),
                            format!("player attribute `{}` needs a `type`", name.value),
                        )
                        .with_help(format!(
                            "one of {}",
                            suggest::list(ast::AttributeType::NAMES)
                        )),
                    );
                    None
                }
                Field::Invalid => None,
            };
            if let Some(first) = first_spans.get(name.value.as_str()) {
                self.report(
                    Diagnostic::new(
                        Code::DuplicateAttribute,
                        name.span,
                        format!("player attribute `{}` is declared twice", name.value),
                    )
                    .with_note(*first, "first declared here")
                    .with_help("remove one of the declarations"),
                );
                continue;
            }
            first_spans.insert(&name.value, name.span);
            let default = match (&declaration.default, ty) {
                (Field::Given(default), Some(ty)) => {
                    self.attribute_default(&name.value, ty, default)
                }
                _ => None,
            };
            // An attribute whose type is unreadable still gets an id, so expressions naming it
            // are not also reported as unknown; the error above keeps it from compiling.
            let id = AttributeId(self.attributes.len());
            self.attributes.push(Attribute {
                name: name.value.clone(),
                ty: ty.unwrap_or(ast::AttributeType::Number),
                default,
            });
            self.attribute_ids.insert(&name.value, id);
        }
    }

    pub(super) fn attribute_default(
        &mut self,
        name: &str,
        ty: ast::AttributeType,
        default: &Spanned<Value>,
    ) -> Option<AttributeValue> {
        use ast::AttributeType as T;
        let mismatch = |expected: &str| {
            Diagnostic::new(
                Code::InvalidDefault,
                default.span,
                format!(
                    "the default of `{name}` must be {expected}, found {}",
                    default.value.describe()
                ),
            )
        };
        match (ty, &default.value) {
            (T::String, Value::String(text)) if text.is_empty() => {
                self.report(
                    Diagnostic::new(
                        Code::EmptyDefault,
                        default.span,
                        format!("an empty default counts as no default, so players without `{name}` never match"),
                    )
                    .with_help("remove the default, or give a non-empty one"),
                );
                None
            }
            (T::String, Value::String(text)) => Some(AttributeValue::String(text.clone())),
            (T::Number, Value::Number(number)) => Some(AttributeValue::Number(*number)),
            (T::StringList, Value::List(items)) => {
                self.string_list_default(name, default.span, items)
            }
            (T::StringNumberMap, Value::Map(entries)) => {
                self.string_number_map_default(name, default.span, entries)
            }
            (T::String, _) => {
                self.report(mismatch("a string"));
                None
            }
            (T::Number, Value::String(text)) if number_in_string(text).is_some() => {
                self.report(number_as_string(default.span, text));
                number_in_string(text).map(AttributeValue::Number)
            }
            (T::Number, _) => {
                self.report(mismatch("a number"));
                None
            }
            (T::StringList, _) => {
                self.report(mismatch("a list of strings"));
                None
            }
            (T::StringNumberMap, _) => {
                self.report(mismatch("a map from strings to numbers"));
                None
            }
        }
    }

    /// A `string_list` default: strings only (repeats after the first ignored), at most
    /// GameLift's number of them.
    fn string_list_default(
        &mut self,
        name: &str,
        span: Span,
        items: &[Spanned<Value>],
    ) -> Option<AttributeValue> {
        let mut strings: Vec<String> = Vec::new();
        for item in items {
            match &item.value {
                Value::String(text) => {
                    // FlexMatch ignores repeats after the first.
                    if !strings.contains(text) {
                        strings.push(text.clone());
                    }
                }
                other => {
                    self.report(Diagnostic::new(
                        Code::InvalidDefault,
                        item.span,
                        format!(
                            "the default of `{name}` is a list of strings, found {}",
                            other.describe()
                        ),
                    ));
                    return None;
                }
            }
        }
        if strings.len() > MAX_STRING_LIST_ITEMS {
            self.report(Diagnostic::new(
                Code::InvalidDefault,
                span,
                format!("the default of `{name}` has {} strings; a string list holds at most {MAX_STRING_LIST_ITEMS}", strings.len()),
            ));
            return None;
        }
        Some(AttributeValue::StringList(strings))
    }

    /// A `string_number_map` default: numbers only, at most GameLift's number of entries.
    fn string_number_map_default(
        &mut self,
        name: &str,
        span: Span,
        entries: &[(Spanned<String>, Spanned<Value>)],
    ) -> Option<AttributeValue> {
        let mut map: BTreeMap<String, f64> = BTreeMap::new();
        for (key, value) in entries {
            let Value::Number(number) = value.value else {
                self.report(Diagnostic::new(
                    Code::InvalidDefault,
                    value.span,
                    format!(
                        "the default of `{name}` maps strings to numbers, found {}",
                        value.value.describe()
                    ),
                ));
                return None;
            };
            map.insert(key.value.clone(), number);
        }
        if map.len() > MAX_MAP_ENTRIES {
            self.report(Diagnostic::new(
                Code::InvalidDefault,
                span,
                format!("the default of `{name}` has {} entries; a string_number_map holds at most {MAX_MAP_ENTRIES}", map.len()),
            ));
            return None;
        }
        Some(AttributeValue::StringNumberMap(map.into_iter().collect()))
    }

    pub(super) fn attribute_named(&mut self, name: &Spanned<String>) -> Option<AttributeId> {
        if let Some(&id) = self.attribute_ids.get(name.value.as_str()) {
            return Some(id);
        }
        let mut declared: Vec<&str> = self.attribute_ids.keys().copied().collect();
        declared.sort_unstable();
        let help = self.name_help(&name.value, &declared).unwrap_or_else(|| {
            if declared.is_empty() {
                self.spell(
                    "declare it in `playerAttributes`",
                    "declare it with `attribute name: type`",
                )
                .to_string()
            } else {
                format!("declared attributes: {}", suggest::list_all(&declared))
            }
        });
        self.report(
            Diagnostic::new(
                Code::UnknownAttribute,
                name.span,
                format!("unknown player attribute `{}`", name.value),
            )
            .with_help(help),
        );
        None
    }
}
