//! The specification's rules on directives in an executable document (October 2021: 5.7.1
//! directives are defined, 5.7.2 in valid locations, 5.7.3 unique per location; 5.4.1 and 5.4.2.1
//! their arguments known and the required ones given; 5.8.3 every variable they use defined by
//! each operation that reaches them), which async-graphql does not check everywhere: it
//! answered `{ __typename @nonexistent }` and `{ __typename @skip }` with data, and a fragment's
//! `@include(if: $nope)` with `data: null` and no error at all. Messages are graphql-js's.
//!
//! The executable directives are the schema's: `@skip` and `@include`, each with one required
//! `if: Boolean!`, on fields, fragment spreads and inline fragments.

use std::collections::HashSet;

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Pos, Positioned, ServerError};
use async_graphql_value::Value;

use super::rules::invalid;

/// Where a directive stands, as the specification names the location.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Location {
    Query,
    Mutation,
    Subscription,
    Field,
    FragmentDefinition,
    FragmentSpread,
    InlineFragment,
    VariableDefinition,
}

impl Location {
    fn name(self) -> &'static str {
        match self {
            Location::Query => "QUERY",
            Location::Mutation => "MUTATION",
            Location::Subscription => "SUBSCRIPTION",
            Location::Field => "FIELD",
            Location::FragmentDefinition => "FRAGMENT_DEFINITION",
            Location::FragmentSpread => "FRAGMENT_SPREAD",
            Location::InlineFragment => "INLINE_FRAGMENT",
            Location::VariableDefinition => "VARIABLE_DEFINITION",
        }
    }
}

/// The schema's executable directives: `@skip(if: Boolean!)` and `@include(if: Boolean!)`.
fn is_known(name: &str) -> bool {
    matches!(name, "skip" | "include")
}

/// Checks every directive of `doc` (see the module's notes).
pub fn check(doc: &ExecutableDocument) -> Result<(), ServerError> {
    let operations: Vec<(Option<&Name>, _)> = match &doc.operations {
        DocumentOperations::Single(op) => vec![(None, op)],
        DocumentOperations::Multiple(ops) => ops.iter().map(|(n, op)| (Some(n), op)).collect(),
    };
    for (name, operation) in &operations {
        let op = &operation.node;
        let location = match op.ty {
            OperationType::Query => Location::Query,
            OperationType::Mutation => Location::Mutation,
            OperationType::Subscription => Location::Subscription,
        };
        at(&op.directives, location)?;
        for variable in &op.variable_definitions {
            at(&variable.node.directives, Location::VariableDefinition)?;
        }
        // 5.8.3: the variables directives use, here and in every fragment this operation
        // reaches, are defined by it.
        let defined: HashSet<&str> = op
            .variable_definitions
            .iter()
            .map(|v| v.node.name.node.as_str())
            .collect();
        let mut used = Vec::new();
        let mut seen = Vec::new();
        directive_variables(doc, &op.selection_set.node, &mut used, &mut seen);
        if let Some((variable, pos)) = used.iter().find(|(v, _)| !defined.contains(v.as_str())) {
            let by = name.map_or(String::new(), |n| format!(" by operation \"{n}\""));
            return Err(invalid(
                format!("Variable \"${variable}\" is not defined{by}."),
                vec![*pos, operation.pos],
            ));
        }
        selections(&op.selection_set.node)?;
    }
    for fragment in doc.fragments.values() {
        at(&fragment.node.directives, Location::FragmentDefinition)?;
        selections(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

fn selections(set: &SelectionSet) -> Result<(), ServerError> {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                at(&field.node.directives, Location::Field)?;
                selections(&field.node.selection_set.node)?;
            }
            Selection::FragmentSpread(spread) => {
                at(&spread.node.directives, Location::FragmentSpread)?;
            }
            Selection::InlineFragment(inline) => {
                at(&inline.node.directives, Location::InlineFragment)?;
                selections(&inline.node.selection_set.node)?;
            }
        }
    }
    Ok(())
}

/// The directives standing at one `location`.
fn at(directives: &[Positioned<Directive>], location: Location) -> Result<(), ServerError> {
    let mut seen: Vec<&Positioned<Directive>> = Vec::new();
    for directive in directives {
        let name = directive.node.name.node.as_str();
        if !is_known(name) {
            return Err(invalid(
                format!("Unknown directive \"@{name}\"."),
                vec![directive.pos],
            ));
        }
        if !matches!(
            location,
            Location::Field | Location::FragmentSpread | Location::InlineFragment
        ) {
            return Err(invalid(
                format!(
                    "Directive \"@{name}\" may not be used on {}.",
                    location.name()
                ),
                vec![directive.pos],
            ));
        }
        if let Some(first) = seen.iter().find(|d| d.node.name.node.as_str() == name) {
            return Err(invalid(
                format!("The directive \"@{name}\" can only be used once at this location."),
                vec![first.pos, directive.pos],
            ));
        }
        seen.push(directive);
        for (argument, _) in &directive.node.arguments {
            if argument.node.as_str() != "if" {
                return Err(invalid(
                    format!(
                        "Unknown argument \"{}\" on directive \"@{name}\".",
                        argument.node
                    ),
                    vec![argument.pos],
                ));
            }
        }
        if !directive
            .node
            .arguments
            .iter()
            .any(|(argument, _)| argument.node.as_str() == "if")
        {
            return Err(invalid(
                format!(
                    "Directive \"@{name}\" argument \"if\" of type \"Boolean!\" is required, \
                     but it was not provided."
                ),
                vec![directive.pos],
            ));
        }
    }
    Ok(())
}

/// The variables that directives in `set` use, with where, through fragments (each once:
/// cycles were refused before).
fn directive_variables<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    used: &mut Vec<(Name, Pos)>,
    seen: &mut Vec<&'a Name>,
) {
    let from = |directives: &[Positioned<Directive>], used: &mut Vec<(Name, Pos)>| {
        for directive in directives {
            for (_, value) in &directive.node.arguments {
                variables_in(&value.node, value.pos, used);
            }
        }
    };
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                from(&field.node.directives, used);
                directive_variables(doc, &field.node.selection_set.node, used, seen);
            }
            Selection::InlineFragment(inline) => {
                from(&inline.node.directives, used);
                directive_variables(doc, &inline.node.selection_set.node, used, seen);
            }
            Selection::FragmentSpread(spread) => {
                from(&spread.node.directives, used);
                let name = &spread.node.fragment_name.node;
                if let Some((name, fragment)) = doc.fragments.get_key_value(name)
                    && !seen.contains(&name)
                {
                    seen.push(name);
                    from(&fragment.node.directives, used);
                    directive_variables(doc, &fragment.node.selection_set.node, used, seen);
                }
            }
        }
    }
}

fn variables_in(value: &Value, pos: Pos, used: &mut Vec<(Name, Pos)>) {
    match value {
        Value::Variable(name) => used.push((name.clone(), pos)),
        Value::List(items) => items.iter().for_each(|v| variables_in(v, pos, used)),
        Value::Object(fields) => fields.values().for_each(|v| variables_in(v, pos, used)),
        _ => {}
    }
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> Option<String> {
        let doc = async_graphql::parser::parse_query(text).unwrap();
        check(&doc).err().map(|e| e.message)
    }

    #[test]
    fn directives_are_checked_like_graphql_js_does() {
        let cases = [
            (
                "{ __typename @nonexistent }",
                Some("Unknown directive \"@nonexistent\"."),
            ),
            (
                "{ __typename @skip }",
                Some(
                    "Directive \"@skip\" argument \"if\" of type \"Boolean!\" is required, but it \
                     was not provided.",
                ),
            ),
            (
                "query { ...F } fragment F on Query { __typename @include(if: $nope) }",
                Some("Variable \"$nope\" is not defined."),
            ),
            (
                "query Q { ...F } fragment F on Query { __typename @include(if: $nope) }",
                Some("Variable \"$nope\" is not defined by operation \"Q\"."),
            ),
            (
                "query @skip(if: true) { __typename }",
                Some("Directive \"@skip\" may not be used on QUERY."),
            ),
            (
                "{ __typename @skip(if: true) @skip(if: false) }",
                Some("The directive \"@skip\" can only be used once at this location."),
            ),
            (
                "{ __typename @skip(if: true, unless: false) }",
                Some("Unknown argument \"unless\" on directive \"@skip\"."),
            ),
            (
                "query($x: Boolean!) { ...F } fragment F on Query { __typename @include(if: $x) }",
                None,
            ),
            (
                "{ __typename @skip(if: false) ... @include(if: true) { __typename } }",
                None,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(refusal(text).as_deref(), expected, "{text}");
        }
    }
}
