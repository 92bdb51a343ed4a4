//! The memory a parsed document holds, so that a store of documents fed by strangers is bounded
//! by what its entries really take, not by the length of their texts: a parsed selection is
//! hundreds of bytes (each `Selection` holds its field inline), so a document takes tens of
//! times its text.
//!
//! Every allocation is counted at its capacity, plus [`ALLOCATION`] for the allocator's own
//! rounding and bookkeeping; each name is its own `Arc<str>`. The walk recurses as deep as the
//! document nests, which the document step has bounded (`--max-nesting`) before any document is
//! weighed.

use std::collections::HashMap;
use std::mem::size_of;

use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, Selection, SelectionSet, Type,
};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value};

/// What one heap allocation costs besides its bytes.
const ALLOCATION: usize = 16;

fn vec<T>(items: &Vec<T>) -> usize {
    if items.capacity() == 0 {
        0
    } else {
        items.capacity() * size_of::<T>() + ALLOCATION
    }
}

fn map<K, V>(entries: &HashMap<K, V>) -> usize {
    // hashbrown: a slot and a control byte per bucket, buckets a power of two above the
    // capacity.
    let buckets = (entries.capacity() * 8 / 7).next_power_of_two();
    buckets * (size_of::<(K, V)>() + 1) + ALLOCATION
}

fn name(name: &Name) -> usize {
    // An `Arc<str>`: two counters and the text.
    name.len() + 2 * size_of::<usize>() + ALLOCATION
}

/// The bytes `doc` holds.
pub fn document(doc: &ExecutableDocument) -> usize {
    let operations = match &doc.operations {
        DocumentOperations::Single(operation) => operation_definition(&operation.node),
        DocumentOperations::Multiple(operations) => {
            map(operations)
                + operations
                    .iter()
                    .map(|(n, o)| name(n) + operation_definition(&o.node))
                    .sum::<usize>()
        }
    };
    let fragments = map(&doc.fragments)
        + doc
            .fragments
            .iter()
            .map(|(n, f)| {
                name(n)
                    + name(&f.node.type_condition.node.on.node)
                    + directives(&f.node.directives)
                    + selection_set(&f.node.selection_set.node)
            })
            .sum::<usize>();
    size_of::<ExecutableDocument>() + operations + fragments
}

fn operation_definition(o: &async_graphql::parser::types::OperationDefinition) -> usize {
    let variables = vec(&o.variable_definitions)
        + o.variable_definitions
            .iter()
            .map(|v| {
                let v = &v.node;
                name(&v.name.node)
                    + ty(&v.var_type.node)
                    + directives(&v.directives)
                    + v.default_value.as_ref().map_or(0, |d| const_value(&d.node))
            })
            .sum::<usize>();
    variables + directives(&o.directives) + selection_set(&o.selection_set.node)
}

fn ty(t: &Type) -> usize {
    match &t.base {
        BaseType::Named(n) => name(n),
        BaseType::List(inner) => size_of::<Type>() + ALLOCATION + ty(inner),
    }
}

fn directives(list: &Vec<Positioned<Directive>>) -> usize {
    vec(list)
        + list
            .iter()
            .map(|d| name(&d.node.name.node) + arguments(&d.node.arguments))
            .sum::<usize>()
}

fn arguments(list: &Vec<(Positioned<Name>, Positioned<Value>)>) -> usize {
    vec(list)
        + list
            .iter()
            .map(|(n, v)| name(&n.node) + value(&v.node))
            .sum::<usize>()
}

fn selection_set(set: &SelectionSet) -> usize {
    vec(&set.items)
        + set
            .items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    f.alias.as_ref().map_or(0, |a| name(&a.node))
                        + name(&f.name.node)
                        + arguments(&f.arguments)
                        + directives(&f.directives)
                        + selection_set(&f.selection_set.node)
                }
                Selection::FragmentSpread(s) => {
                    name(&s.node.fragment_name.node) + directives(&s.node.directives)
                }
                Selection::InlineFragment(i) => {
                    i.node
                        .type_condition
                        .as_ref()
                        .map_or(0, |t| name(&t.node.on.node))
                        + directives(&i.node.directives)
                        + selection_set(&i.node.selection_set.node)
                }
            })
            .sum::<usize>()
}

fn value(v: &Value) -> usize {
    match v {
        Value::Variable(n) | Value::Enum(n) => name(n),
        Value::String(s) => s.capacity() + ALLOCATION,
        Value::Binary(b) => b.len() + ALLOCATION,
        Value::List(items) => vec(items) + items.iter().map(value).sum::<usize>(),
        Value::Object(fields) => {
            fields.capacity() * (size_of::<(Name, Value)>() + 2 * size_of::<usize>())
                + 2 * ALLOCATION
                + fields
                    .iter()
                    .map(|(n, v)| name(n) + value(v))
                    .sum::<usize>()
        }
        Value::Null | Value::Number(_) | Value::Boolean(_) => 0,
    }
}

fn const_value(v: &ConstValue) -> usize {
    match v {
        ConstValue::Enum(n) => name(n),
        ConstValue::String(s) => s.capacity() + ALLOCATION,
        ConstValue::Binary(b) => b.len() + ALLOCATION,
        ConstValue::List(items) => vec(items) + items.iter().map(const_value).sum::<usize>(),
        ConstValue::Object(fields) => {
            fields.capacity() * (size_of::<(Name, ConstValue)>() + 2 * size_of::<usize>())
                + 2 * ALLOCATION
                + fields
                    .iter()
                    .map(|(n, v)| name(n) + const_value(v))
                    .sum::<usize>()
        }
        ConstValue::Null | ConstValue::Number(_) | ConstValue::Boolean(_) => 0,
    }
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_document_weighs_far_more_than_its_text_and_grows_with_it() {
        let small = "{ periods }";
        let fields: String = (0..200).map(|i| format!("a{i}: periods ")).collect();
        let large = format!("{{ {fields} }}");
        let weigh = |text: &str| document(&async_graphql::parser::parse_query(text).unwrap());
        assert!(weigh(small) > small.len() * 10, "{}", weigh(small));
        assert!(weigh(&large) > large.len() * 10, "{}", weigh(&large));
        assert!(weigh(&large) > weigh(small) * 50);
    }
}
