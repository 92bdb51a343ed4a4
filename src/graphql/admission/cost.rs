//! The depth and the complexity of a document, checked by `DocumentStep` (`admission`) on every
//! request before async-graphql runs it, remembered documents included (a connection's cost
//! depends on the `first` each request sends).
//!
//! The limits are ours, not async-graphql's (`limit_depth`, `limit_complexity`): its errors
//! come as bare English sentences, and a code would then have to be chosen by reading them.
//! Here an outcome is a value ([`Refusal`]) that becomes a coded error where it is made.
//!
//! The measures are async-graphql's, so that the flags keep their meaning:
//! - depth: the deepest field, fragments expanded, a root field being at depth 1;
//! - complexity, summed over every operation of the document: each field costs 1 plus its
//!   selection's; a page of a connection at the root (`cities`, `revisions`) costs its
//!   selection once per item it can hold ([`page_cost`]), and `nodes(ids:)` once per id.

use crate::code::Code;
use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationType, Selection, SelectionSet, VariableDefinition,
};
use async_graphql::{Name, Positioned, Value, Variables};

use crate::graphql::error as codes;

/// The limits this module enforces (see `config::ServeArgs`).
#[derive(Debug, Clone, Copy)]
pub struct CostLimits {
    /// Deepest field (`--max-depth`).
    pub max_depth: usize,
    /// Largest complexity (`--max-complexity`).
    pub max_complexity: usize,
    /// Largest page (`--max-page-size`): what a connection's `first` is capped at.
    pub page_cap: u64,
}

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its complexity is over the limit.
    TooComplex {
        /// What it costs.
        complexity: usize,
        /// The limit.
        max: usize,
    },
    /// Its fields nest deeper than the limit.
    TooDeep {
        /// Its deepest field.
        depth: usize,
        /// The limit.
        max: usize,
    },
}

impl From<Refusal> for codes::Refused {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::TooComplex { complexity, max } => codes::Refused::new(
                Code::QueryTooComplex,
                format!("the query costs {complexity}; at most {max} is allowed"),
            ),
            Refusal::TooDeep { depth, max } => codes::Refused::new(
                Code::QueryTooDeep,
                format!("fields nest {depth} deep; at most {max} is allowed"),
            ),
        }
    }
}

/// What a document amounts to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Its complexity.
    pub complexity: usize,
    /// Its deepest field.
    pub depth: usize,
}

impl CostLimits {
    /// Measures `doc` with `variables` and holds it to the limits; complexity is checked first.
    pub fn check(&self, doc: &ExecutableDocument, variables: &Variables) -> Result<Cost, Refusal> {
        let cost = self.measure(doc, variables);
        if cost.complexity > self.max_complexity {
            return Err(Refusal::TooComplex {
                complexity: cost.complexity,
                max: self.max_complexity,
            });
        }
        if cost.depth > self.max_depth {
            return Err(Refusal::TooDeep {
                depth: cost.depth,
                max: self.max_depth,
            });
        }
        Ok(cost)
    }

    /// The cost of `doc` with `variables` (see the module's notes).
    pub fn measure(&self, doc: &ExecutableDocument, variables: &Variables) -> Cost {
        let mut total = Cost::default();
        for (_, operation) in doc.operations.iter() {
            let mut walk = Walk {
                doc,
                variables,
                definitions: &operation.node.variable_definitions,
                page_cap: self.page_cap,
                open: Vec::new(),
            };
            let root = (operation.node.ty == OperationType::Query).then_some(Root::Query);
            let cost = walk.set(&operation.node.selection_set.node, 0, root);
            total.complexity = total.complexity.saturating_add(cost.complexity);
            total.depth = total.depth.max(cost.depth);
        }
        total
    }
}

/// Which root a selection set is at, if any: only the query root has fields with costs of
/// their own.
#[derive(Clone, Copy)]
enum Root {
    Query,
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    definitions: &'a [Positioned<VariableDefinition>],
    page_cap: u64,
    /// Fragments being expanded: a cycle adds nothing (the document step refuses cycles before
    /// this runs; this only keeps the walk finite whatever it is given).
    open: Vec<&'a Name>,
}

impl<'a> Walk<'a> {
    /// The cost of `set`, whose fields are at `depth + 1`.
    fn set(&mut self, set: &'a SelectionSet, depth: usize, root: Option<Root>) -> Cost {
        let mut cost = Cost {
            complexity: 0,
            depth,
        };
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let children = self.set(&field.node.selection_set.node, depth + 1, None);
                    Cost {
                        complexity: self.field(&field.node, root, children.complexity),
                        depth: children.depth,
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.set(&inline.node.selection_set.node, depth, root)
                }
                Selection::FragmentSpread(spread) => {
                    let doc = self.doc;
                    match doc.fragments.get_key_value(&spread.node.fragment_name.node) {
                        Some((name, fragment)) if !self.open.contains(&name) => {
                            self.open.push(name);
                            let inner = self.set(&fragment.node.selection_set.node, depth, root);
                            self.open.pop();
                            inner
                        }
                        _ => Cost::default(),
                    }
                }
            };
            cost.complexity = cost.complexity.saturating_add(inner.complexity);
            cost.depth = cost.depth.max(inner.depth);
        }
        cost
    }

    /// What `field` costs with a selection costing `children`.
    fn field(&self, field: &Field, root: Option<Root>, children: usize) -> usize {
        match (root, field.name.node.as_str()) {
            (Some(Root::Query), "cities" | "revisions") => match self.argument(field, "first") {
                Ok(Some(Value::Number(n))) => {
                    let first = n.as_i64().and_then(|n| i32::try_from(n).ok());
                    first.map_or(0, |first| page_cost(Some(first), children, self.page_cap))
                }
                Ok(None | Some(Value::Null)) => page_cost(None, children, self.page_cap),
                // A value async-graphql will refuse: it adds nothing, as there.
                Ok(Some(_)) | Err(()) => 0,
            },
            (Some(Root::Query), "nodes") => match self.argument(field, "ids") {
                Ok(Some(Value::List(ids))) => list_cost(ids.len(), children),
                Ok(Some(Value::Null)) | Err(()) => 0,
                // One id where a list is expected is a list of one (input coercion).
                Ok(Some(_)) => list_cost(1, children),
                Ok(None) => 0,
            },
            _ => children.saturating_add(1),
        }
    }

    /// The value of `field`'s argument `name` with variables replaced by the request's values
    /// (or their defaults); `Err` when a variable has neither.
    fn argument(&self, field: &Field, name: &str) -> Result<Option<Value>, ()> {
        let Some(value) = field.get_argument(name) else {
            return Ok(None);
        };
        value
            .node
            .clone()
            .into_const_with(|variable| {
                self.definitions
                    .iter()
                    .find(|definition| definition.node.name.node == variable)
                    .and_then(|definition| {
                        self.variables
                            .get(&definition.node.name.node)
                            .or_else(|| definition.node.default_value())
                    })
                    .cloned()
                    .ok_or(())
            })
            .map(Some)
    }
}

/// A connection's cost: its selection counts once per item the page can hold (`first`, default
/// [`crate::domain::DEFAULT_PAGE_SIZE`], at least 1, at most `cap`), plus 1 for the field.
pub fn page_cost(first: Option<i32>, children: usize, cap: u64) -> usize {
    let first = first.map_or(crate::domain::DEFAULT_PAGE_SIZE, |f| {
        u64::try_from(f.max(1)).unwrap_or(1)
    });
    let items = usize::try_from(first.min(cap.max(1))).unwrap_or(usize::MAX);
    items.saturating_mul(children).saturating_add(1)
}

/// The cost of a list of `items` objects asked for by argument: its selection counts once per
/// item, plus 1 for the field.
fn list_cost(items: usize, children: usize) -> usize {
    items.saturating_mul(children).saturating_add(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const LIMITS: CostLimits = CostLimits {
        max_depth: 4,
        max_complexity: 100,
        page_cap: 50,
    };

    fn cost(query: &str, variables: serde_json::Value) -> Cost {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        LIMITS.measure(&doc, &Variables::from_json(variables))
    }

    #[test]
    fn fields_cost_one_each_and_depth_counts_fields_only() {
        assert_eq!(
            cost(
                "{ a { b c { ... on X { d } } } ...F } fragment F on Query { e { f } }",
                serde_json::json!({})
            ),
            Cost {
                complexity: 6,
                depth: 3
            }
        );
    }

    #[test]
    fn pages_cost_their_selection_per_item_with_variables_and_defaults() {
        let q = "query($n: Int = 3) { cities(first: $n) { edges { node { name } } } }";
        // edges { node { name } } costs 3: 3 items × 3 + 1.
        assert_eq!(cost(q, serde_json::json!({})).complexity, 10);
        assert_eq!(cost(q, serde_json::json!({ "n": 10 })).complexity, 31);
        assert_eq!(cost(q, serde_json::json!({ "n": 1000 })).complexity, 151);
        assert_eq!(cost(q, serde_json::json!({ "n": null })).complexity, 61);
        assert_eq!(cost(q, serde_json::json!({ "n": "x" })).complexity, 0);
        assert_eq!(
            cost(
                "{ nodes(ids: [\"a\", \"b\"]) { id } }",
                serde_json::json!({})
            )
            .complexity,
            3
        );
        assert_eq!(
            cost("{ nodes(ids: \"a\") { id } }", serde_json::json!({})).complexity,
            2
        );
        // Only at the query's root: elsewhere a field of that name costs 1 plus its selection.
        assert_eq!(
            cost(
                "query Q { x { cities(first: 10) { a } } } subscription S { revisions(first: 9) { a } }",
                serde_json::json!({})
            )
            .complexity,
            5
        );
    }

    #[test]
    fn refusals_are_values_complexity_first() {
        let doc = async_graphql::parser::parse_query(
            "{ a { b { c { d { e } } } } cities(first: 50) { a b } }",
        )
        .unwrap();
        assert_eq!(
            LIMITS.check(&doc, &Variables::default()),
            Err(Refusal::TooComplex {
                complexity: 106,
                max: 100
            })
        );
        let doc = async_graphql::parser::parse_query("{ a { b { c { d { e } } } } }").unwrap();
        assert_eq!(
            LIMITS.check(&doc, &Variables::default()),
            Err(Refusal::TooDeep { depth: 5, max: 4 })
        );
    }
}
