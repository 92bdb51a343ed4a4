//! The specification's rules on directives in an executable document (October 2021: 5.7.1
//! directives are defined, 5.7.2 in valid locations, 5.7.3 unique per location; 5.4.1 and 5.4.2.1
//! their arguments known, unique, of the right type and the required ones given; 5.8.3 every
//! variable they use defined by each operation that reaches them, 5.8.5 in an allowed position),
//! and on `__typename`, which async-graphql does not check everywhere: it
//! answered `{ __typename @nonexistent }` and `{ __typename @skip }` with data, and a fragment's
//! `@include(if: $nope)` with `data: null` and no error at all. Messages are graphql-js's.
//!
//! The executable directives are the schema's: `@skip` and `@include`, each with one required
//! `if: Boolean!`, on fields, fragment spreads and inline fragments.

use std::collections::HashSet;

use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, Field, InlineFragment,
    OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Pos, Positioned};
use async_graphql_value::{ConstValue, Value};

use super::rules::invalid;
use crate::graphql::error::Refused;

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
pub fn check(doc: &ExecutableDocument) -> Result<(), Refused> {
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
        // 5.8.5: every `if` expects a `Boolean!`; a variable may stand there if it is one, or a
        // `Boolean` with a default that is not null.
        for (variable, pos) in &used {
            let Some(definition) = op
                .variable_definitions
                .iter()
                .find(|v| v.node.name.node == *variable)
            else {
                continue;
            };
            let definition = &definition.node;
            let ty = &definition.var_type.node;
            let boolean = matches!(&ty.base, BaseType::Named(n) if n.as_str() == "Boolean");
            let defaulted = definition
                .default_value
                .as_ref()
                .is_some_and(|d| d.node != ConstValue::Null);
            if !boolean || (ty.nullable && !defaulted) {
                return Err(invalid(
                    format!(
                        "Variable \"${variable}\" of type \"{ty}\" used in position expecting \
                         type \"Boolean!\"."
                    ),
                    vec![definition.name.pos, *pos],
                ));
            }
        }
        selections(&op.selection_set.node)?;
    }
    for fragment in doc.fragments.values() {
        at(&fragment.node.directives, Location::FragmentDefinition)?;
        selections(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

fn selections(set: &SelectionSet) -> Result<(), Refused> {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                at(&field.node.directives, Location::Field)?;
                if field.node.name.node == "__typename" {
                    typename(&field.node)?;
                }
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

/// `__typename`, which async-graphql's validator skips: it takes no argument (5.4.1) and has
/// no selection (5.3.3).
fn typename(field: &Field) -> Result<(), Refused> {
    if let Some((argument, _)) = field.arguments.first() {
        return Err(invalid(
            format!(
                "Unknown argument \"{}\" on field \"__typename\".",
                argument.node
            ),
            vec![argument.pos],
        ));
    }
    if !field.selection_set.node.items.is_empty() {
        return Err(invalid(
            "Field \"__typename\" must not have a selection since type \"String!\" has no \
             subfields."
                .to_owned(),
            vec![field.selection_set.pos],
        ));
    }
    Ok(())
}

/// Moves the directives of every `__typename` to an inline fragment around it, which means the
/// same (`__typename @skip(if: $s)` and `... @skip(if: $s) { __typename }` answer alike):
/// async-graphql's validator skips `__typename`, so a variable used only there was reported as
/// unused. A `__typename` a literal directive leaves out is taken out. Run on a document that
/// passed [`check`].
pub fn lift_typename_directives(doc: &mut ExecutableDocument) {
    /// Whether `item` is only `__typename` that a literal `@skip` or `@include` leaves out
    /// whatever the variables: the response never holds it, and async-graphql refuses
    /// `__typename` on the subscription type wherever it stands, where graphql-js leaves a left-out
    /// one alone.
    fn left_out_typename(item: &Selection) -> bool {
        let directives = item.directives();
        let literal = directives.iter().all(|d| {
            d.node
                .arguments
                .iter()
                .all(|(_, v)| !matches!(v.node, Value::Variable(_)))
        });
        if !literal || !super::rules::skipped(directives) {
            return false;
        }
        match item {
            Selection::Field(field) => field.node.name.node == "__typename",
            Selection::InlineFragment(inline) => {
                inline.node.type_condition.is_none()
                    && inline.node.selection_set.node.items.iter().all(|i| {
                        matches!(&i.node, Selection::Field(f) if f.node.name.node == "__typename"
                            && f.node.directives.is_empty())
                    })
            }
            Selection::FragmentSpread(_) => false,
        }
    }
    fn lift(set: &mut SelectionSet) {
        // Not the last selection: a selection set is never left empty.
        if set.items.iter().any(|item| !left_out_typename(&item.node)) {
            set.items.retain(|item| !left_out_typename(&item.node));
        }
        for item in &mut set.items {
            let pos = item.pos;
            match &mut item.node {
                Selection::Field(field) if field.node.name.node == "__typename" => {
                    if field.node.directives.is_empty() {
                        continue;
                    }
                    let directives = std::mem::take(&mut field.node.directives);
                    let inner = Positioned::new(Selection::Field(field.clone()), pos);
                    item.node = Selection::InlineFragment(Positioned::new(
                        InlineFragment {
                            type_condition: None,
                            directives,
                            selection_set: Positioned::new(
                                SelectionSet { items: vec![inner] },
                                pos,
                            ),
                        },
                        pos,
                    ));
                }
                Selection::Field(field) => lift(&mut field.node.selection_set.node),
                Selection::InlineFragment(inline) => lift(&mut inline.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    match &mut doc.operations {
        DocumentOperations::Single(op) => lift(&mut op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => {
            ops.values_mut()
                .for_each(|op| lift(&mut op.node.selection_set.node));
        }
    }
    for fragment in doc.fragments.values_mut() {
        lift(&mut fragment.node.selection_set.node);
    }
}

/// The directives standing at one `location`.
fn at(directives: &[Positioned<Directive>], location: Location) -> Result<(), Refused> {
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
        let arguments = &directive.node.arguments;
        for (i, (argument, value)) in arguments.iter().enumerate() {
            if let Some((first, _)) = arguments[..i].iter().find(|(a, _)| a.node == argument.node) {
                return Err(invalid(
                    format!(
                        "There can be only one argument named \"{}\".",
                        argument.node
                    ),
                    vec![first.pos, argument.pos],
                ));
            }
            match &value.node {
                Value::Boolean(_) | Value::Variable(_) => {}
                Value::Null => {
                    return Err(invalid(
                        "Expected value of type \"Boolean!\", found null.".to_owned(),
                        vec![value.pos],
                    ));
                }
                other => {
                    return Err(invalid(
                        format!("Boolean cannot represent a non boolean value: {other}"),
                        vec![value.pos],
                    ));
                }
            }
        }
        for (argument, _) in arguments {
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

    #[test]
    fn a_left_out_typename_is_taken_out_and_directives_move_off_the_others() {
        let mut doc = async_graphql::parser::parse_query(
            "subscription($s: Boolean!) { a __typename @skip(if: true) \
             ... @include(if: false) { x: __typename } t: __typename @skip(if: $s) }",
        )
        .unwrap();
        lift_typename_directives(&mut doc);
        let DocumentOperations::Single(op) = &doc.operations else {
            panic!("one operation");
        };
        let items = &op.node.selection_set.node.items;
        assert_eq!(items.len(), 2, "a and the lifted t remain");
        assert!(matches!(&items[1].node, Selection::InlineFragment(i)
            if i.node.directives.len() == 1 && i.node.selection_set.node.items.len() == 1));
    }

    fn refusal(text: &str) -> Option<String> {
        let doc = async_graphql::parser::parse_query(text).unwrap();
        check(&doc).err().map(|e| e.error.message)
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
