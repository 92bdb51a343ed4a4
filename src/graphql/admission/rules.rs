//! The GraphQL specification's validation rules (October 2021, section 5) that must hold before
//! async-graphql's validator may see a document, or that it does not check:
//! - fragments must not form cycles (5.5.2.2): async-graphql's depth and complexity visitors
//!   follow fragment spreads without a memory of where they have been, so a cycle of a few dozen
//!   bytes overflows the stack and aborts the process; checked here on the fragment graph, before
//!   anything expands a fragment;
//! - operation and fragment name uniqueness and the lone anonymous operation (5.2.1.1, 5.2.2.1,
//!   5.5.1.1) and executable definitions (5.1.1), which async-graphql's parser reports as parse
//!   errors: reported here as the validation failures they are;
//! - a subscription selects one root field, and not an introspection one (5.2.3.1);
//! - input object field uniqueness (5.6.3), which the parser loses by keeping the last value of
//!   a repeated field: see `scan`, which finds it on the text;
//!
//! The rules that need the schema's types are `types`'.
//!
//! The rules on directives are `directives`', run once the limits have bounded the document.
//!
//! The other rules are async-graphql's, run after these (its messages are graphql-js's).

use crate::code::Code;
use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, FragmentSpread, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Pos, Positioned};

use crate::graphql::error::Refused;

/// A validation failure at `locations`.
pub fn invalid(message: String, locations: Vec<Pos>) -> Refused {
    Refused::invalid(message, locations)
}

/// A fragment may not be named `on` (a syntax rule: `... on` opens an inline fragment, and
/// `fragment on` lacks a name), which async-graphql's parser lets through.
fn fragments_not_named_on(doc: &ExecutableDocument) -> Result<(), Refused> {
    let syntax = |pos: Pos| {
        Refused::at(
            Code::GraphqlParseFailed,
            "Syntax Error: Unexpected Name \"on\".",
            vec![pos],
        )
    };
    if let Some((_, fragment)) = doc.fragments.iter().find(|(name, _)| name.as_str() == "on") {
        return Err(syntax(fragment.pos));
    }
    let mut spreads = Vec::new();
    for (_, operation) in doc.operations.iter() {
        direct_spreads(&operation.node.selection_set.node, &mut spreads);
    }
    for fragment in doc.fragments.values() {
        direct_spreads(&fragment.node.selection_set.node, &mut spreads);
    }
    match spreads.iter().find(|s| s.node.fragment_name.node == "on") {
        Some(spread) => Err(syntax(spread.pos)),
        None => Ok(()),
    }
}

/// Runs the rules of this module over a parsed document.
pub fn check(doc: &ExecutableDocument) -> Result<(), Refused> {
    fragments_not_named_on(doc)?;
    no_fragment_cycles(doc)?;
    subscriptions_select_one_root_field(doc)
}

/// The validation failure a parse error really is (5.1.1, 5.2.1.1, 5.2.2.1, 5.5.1.1), if any.
pub fn from_parse_error(query: &str, error: &async_graphql::parser::Error) -> Option<Refused> {
    use async_graphql::parser::Error;
    Some(match error {
        Error::OperationDuplicated {
            operation,
            first,
            second,
        } => invalid(
            format!("There can be only one operation named \"{operation}\"."),
            vec![*first, *second],
        ),
        Error::FragmentDuplicated {
            fragment,
            first,
            second,
        } => invalid(
            format!("There can be only one fragment named \"{fragment}\"."),
            vec![*first, *second],
        ),
        Error::MultipleOperations { anonymous, .. } => invalid(
            "This anonymous operation must be the only defined operation.".into(),
            vec![*anonymous],
        ),
        Error::Syntax { start, .. } => {
            let (what, pos) = non_executable_definition(query, *start)?;
            invalid(format!("{what} is not executable."), vec![pos])
        }
        _ => return None,
    })
}

/// Type-system keywords that open a definition no executable document may hold.
const TYPE_SYSTEM: &[&str] = &[
    "type",
    "interface",
    "union",
    "enum",
    "input",
    "scalar",
    "schema",
    "extend",
    "directive",
];

/// When the parser stopped at `at` on a type-system definition: what it defines (graphql-js's
/// wording) and where.
fn non_executable_definition(query: &str, at: Pos) -> Option<(String, Pos)> {
    let line = query.lines().nth(at.line.checked_sub(1)?)?;
    let rest: String = line.chars().skip(at.column.checked_sub(1)?).collect();
    let mut words = rest
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    let keyword = words.next()?;
    if !TYPE_SYSTEM.contains(&keyword) || !rest.starts_with(keyword) {
        return None;
    }
    let name = match keyword {
        "schema" => return Some(("The schema definition".into(), at)),
        "extend" => words.nth(1),
        "directive" => words.next(),
        _ => words.next(),
    };
    Some(match name {
        Some(name) => (format!("The \"{name}\" definition"), at),
        None => (format!("The \"{keyword}\" definition"), at),
    })
}

/// 5.5.2.2: no fragment spreads itself, directly or through others. Walks the graph of
/// fragments (each visited once), so the cost follows the document's size whatever its shape.
fn no_fragment_cycles(doc: &ExecutableDocument) -> Result<(), Refused> {
    // Each fragment's direct spreads, in document order.
    let spreads: HashMap<&Name, Vec<&Positioned<FragmentSpread>>> = doc
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut found = Vec::new();
            direct_spreads(&fragment.node.selection_set.node, &mut found);
            (name, found)
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: HashMap<&Name, Mark> = HashMap::new();
    // In document order, so that the same document always gets the same message.
    let mut starts: Vec<(&Name, Pos)> = doc
        .fragments
        .iter()
        .map(|(name, fragment)| (name, fragment.pos))
        .collect();
    starts.sort_unstable_by_key(|(_, pos)| (pos.line, pos.column));
    for (start, _) in starts {
        if marks.contains_key(start) {
            continue;
        }
        // An explicit stack of (fragment, next spread to follow), and the spreads taken to get
        // here, for the message: no recursion, however long the chain.
        let mut stack: Vec<(&Name, usize)> = vec![(start, 0)];
        let mut path: Vec<&Positioned<FragmentSpread>> = Vec::new();
        marks.insert(start, Mark::Open);
        while let Some((fragment, next)) = stack.last_mut() {
            let Some(spread) = spreads.get(fragment).and_then(|s| s.get(*next)).copied() else {
                marks.insert(*fragment, Mark::Done);
                stack.pop();
                path.pop();
                continue;
            };
            *next += 1;
            let target = &spread.node.fragment_name.node;
            match marks.get(target) {
                Some(Mark::Done) => {}
                Some(Mark::Open) => {
                    let from = stack
                        .iter()
                        .position(|(name, _)| *name == target)
                        .unwrap_or(0);
                    let mut cycle: Vec<&Positioned<FragmentSpread>> = path[from..].to_vec();
                    cycle.push(spread);
                    return Err(cycle_error(target, &cycle));
                }
                // Spreads of fragments the document does not define are 5.5.2.1's concern.
                None if !doc.fragments.contains_key(target) => {}
                None => {
                    marks.insert(target, Mark::Open);
                    path.push(spread);
                    stack.push((target, 0));
                }
            }
        }
    }
    Ok(())
}

fn cycle_error(name: &Name, cycle: &[&Positioned<FragmentSpread>]) -> Refused {
    let via: Vec<String> = cycle[..cycle.len() - 1]
        .iter()
        .map(|spread| format!("\"{}\"", spread.node.fragment_name.node))
        .collect();
    let message = if via.is_empty() {
        format!("Cannot spread fragment \"{name}\" within itself.")
    } else {
        format!(
            "Cannot spread fragment \"{name}\" within itself via {}.",
            via.join(", ")
        )
    };
    invalid(message, cycle.iter().map(|spread| spread.pos).collect())
}

/// The fragment spreads of `set` itself and of its fields and inline fragments, without
/// following spreads. Recursion here follows the selections' nesting, which the text scan has
/// bounded.
fn direct_spreads<'a>(set: &'a SelectionSet, found: &mut Vec<&'a Positioned<FragmentSpread>>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => direct_spreads(&field.node.selection_set.node, found),
            Selection::InlineFragment(inline) => {
                direct_spreads(&inline.node.selection_set.node, found);
            }
            Selection::FragmentSpread(spread) => found.push(spread),
        }
    }
}

/// 5.2.3.1: a subscription's root selection (fragments included) has exactly one response key,
/// which is not an introspection field.
fn subscriptions_select_one_root_field(doc: &ExecutableDocument) -> Result<(), Refused> {
    let operations: Vec<(Option<&Name>, _)> = match &doc.operations {
        DocumentOperations::Single(op) => vec![(None, op)],
        DocumentOperations::Multiple(ops) => ops.iter().map(|(n, op)| (Some(n), op)).collect(),
    };
    for (name, operation) in operations {
        if operation.node.ty != OperationType::Subscription {
            continue;
        }
        let mut keys: Vec<(&str, &str, Pos)> = Vec::new();
        root_fields(
            doc,
            &operation.node.selection_set.node,
            &mut keys,
            &mut Vec::new(),
        );
        let label = match name {
            Some(name) => format!("Subscription \"{name}\""),
            None => "Anonymous Subscription".to_owned(),
        };
        let mut distinct: Vec<&str> = keys.iter().map(|(key, _, _)| *key).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > 1 {
            return Err(invalid(
                format!("{label} must select only one top level field."),
                keys.iter().skip(1).map(|(_, _, pos)| *pos).collect(),
            ));
        }
        if let Some((_, _, pos)) = keys.iter().find(|(_, field, _)| field.starts_with("__")) {
            return Err(invalid(
                format!("{label} must not select an introspection top level field."),
                vec![*pos],
            ));
        }
    }
    Ok(())
}

/// Whether `directives` leave their selection out whatever the variables: `@skip(if: true)` or
/// `@include(if: false)`, as graphql-js collects a subscription's root fields.
pub(super) fn skipped(directives: &[Positioned<Directive>]) -> bool {
    directives.iter().any(|directive| {
        let literal = |wanted: bool| {
            directive.node.arguments.iter().any(|(name, value)| {
                name.node == "if" && value.node == async_graphql_value::Value::Boolean(wanted)
            })
        };
        match directive.node.name.node.as_str() {
            "skip" => literal(true),
            "include" => literal(false),
            _ => false,
        }
    })
}

/// The root fields of `set` as (response key, field name, position), through fragments (each
/// fragment once: cycles were refused before), without those a literal `@skip` or `@include`
/// leaves out.
fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    keys: &mut Vec<(&'a str, &'a str, Pos)>,
    seen: &mut Vec<&'a Name>,
) {
    for selection in &set.items {
        if skipped(selection.node.directives()) {
            continue;
        }
        match &selection.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                let key = field.node.alias.as_ref().map_or(name, |a| a.node.as_str());
                keys.push((key, name, field.pos));
            }
            Selection::InlineFragment(inline) => {
                root_fields(doc, &inline.node.selection_set.node, keys, seen);
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if let Some((name, fragment)) = doc.fragments.get_key_value(name)
                    && !seen.contains(&name)
                {
                    seen.push(name);
                    root_fields(doc, &fragment.node.selection_set.node, keys, seen);
                }
            }
        }
    }
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn message(query: &str) -> Option<String> {
        let doc = async_graphql::parser::parse_query(query).ok()?;
        check(&doc).err().map(|e| e.error.message)
    }

    #[test]
    fn cycles_are_named_with_their_path() {
        assert_eq!(
            message("{ a { ...A } } fragment A on T { ...A }").as_deref(),
            Some("Cannot spread fragment \"A\" within itself.")
        );
        assert_eq!(
            message(
                "{ a { ...A } } fragment A on T { x ...B } fragment B on T { ... on T { ...C } } \
                 fragment C on T { ...A }"
            )
            .as_deref(),
            Some("Cannot spread fragment \"A\" within itself via \"B\", \"C\".")
        );
        assert_eq!(
            message("{ a { ...A ...A } } fragment A on T { ...B ...B } fragment B on T { x }"),
            None
        );
    }

    #[test]
    fn a_subscription_counts_the_root_fields_a_literal_directive_leaves_in() {
        assert_eq!(
            message(
                "subscription { a b @skip(if: true) ...F } fragment F on S { c @include(if: false) }"
            ),
            None
        );
        assert_eq!(
            message("subscription S { a b @skip(if: false) }").as_deref(),
            Some("Subscription \"S\" must select only one top level field.")
        );
    }

    #[test]
    fn no_fragment_is_named_on() {
        assert_eq!(
            message("{ a { ... on } }").as_deref(),
            Some("Syntax Error: Unexpected Name \"on\".")
        );
        assert_eq!(
            message("{ a { ...F } } fragment on on T { x }").as_deref(),
            Some("Syntax Error: Unexpected Name \"on\".")
        );
        assert_eq!(message("{ a { ... on T { x } } }"), None);
    }

    #[test]
    fn a_long_chain_of_fragments_needs_no_deep_recursion() {
        let mut query = String::from("{ a { ...F0 } }");
        for i in 0..20_000 {
            query.push_str(&format!(" fragment F{i} on T {{ ...F{} }}", i + 1));
        }
        query.push_str(" fragment F20000 on T { ...F0 }");
        let doc = async_graphql::parser::parse_query(&query).unwrap();
        let error = check(&doc).unwrap_err().error;
        assert!(
            error
                .message
                .starts_with("Cannot spread fragment \"F0\" within itself via \"F1\", \"F2\""),
            "{}",
            &error.message[..100]
        );
    }

    #[test]
    fn type_definitions_are_named() {
        let query = "{ a }\n  type Extra { a: Int }";
        let Err(async_graphql::parser::Error::Syntax { start, .. }) =
            async_graphql::parser::parse_query(query)
        else {
            panic!("a syntax error");
        };
        assert_eq!(
            non_executable_definition(query, start).map(|(what, _)| what),
            Some("The \"Extra\" definition".to_owned())
        );
    }
}
