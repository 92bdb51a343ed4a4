//! The specification's rule 5.3.2 (field selection merging, graphql-js's
//! `OverlappingFieldsCanBeMergedRule`), which async-graphql checks only in part: fields of one
//! response name must be the same field with the same arguments (unless their parents are
//! different object types, which never both apply), must not return conflicting types, and
//! their selections must merge in turn. Run by the document step once the limits have bounded
//! the document, with graphql-js's messages.
//!
//! The rule compares fields pairwise, which grows with the square of a response name's fields:
//! the fields one document's check may expand and compare are bounded ([`MAX_COMPARISONS`]);
//! past it the document is refused as too complex.

use crate::code::Code;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet, Type};
use async_graphql::{Name, Pos, Positioned};

use super::types::{SchemaTypes, named};
use crate::graphql::error::Refused;

/// Most field comparisons one document may make: a thousand times what the dashboard's query
/// needs; past it the document is refused with `QUERY_TOO_COMPLEX`.
pub const MAX_COMPARISONS: usize = 200_000;

/// A field as a selection set holds it once fragments are expanded.
#[derive(Clone, Copy)]
struct Entry<'a> {
    /// The type the field is selected on, if known.
    parent: Option<&'a str>,
    field: &'a Positioned<Field>,
    /// The field's type, if known.
    ty: Option<&'a Type>,
}

impl<'a> Entry<'a> {
    fn key(&self) -> &'a str {
        let field = &self.field.node;
        field.alias.as_ref().unwrap_or(&field.name).node.as_str()
    }
}

/// Why two fields conflict: graphql-js's reason, nested for sub-selections.
enum Reason {
    Message(String),
    Subfields(Vec<(String, Reason)>),
}

impl Reason {
    fn text(&self) -> String {
        match self {
            Reason::Message(message) => message.clone(),
            Reason::Subfields(conflicts) => conflicts
                .iter()
                .map(|(key, reason)| {
                    format!("subfields \"{key}\" conflict because {}", reason.text())
                })
                .collect::<Vec<_>>()
                .join(" and "),
        }
    }
}

enum Stop {
    Conflict(Refused),
    TooMany,
}

struct Check<'a> {
    types: &'a SchemaTypes,
    doc: &'a ExecutableDocument,
    comparisons: usize,
}

/// Checks every selection set of `doc` (see the module's notes).
pub fn check(types: &SchemaTypes, doc: &ExecutableDocument) -> Result<(), Refused> {
    let mut check = Check {
        types,
        doc,
        comparisons: 0,
    };
    let result = (|| {
        for (_, operation) in doc.operations.iter() {
            let root = types.root(operation.node.ty);
            check.nested(&operation.node.selection_set.node, root)?;
        }
        for fragment in doc.fragments.values() {
            let on = fragment.node.type_condition.node.on.node.as_str();
            check.nested(&fragment.node.selection_set.node, Some(on))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(()),
        Err(Stop::Conflict(error)) => Err(error),
        Err(Stop::TooMany) => Err(Refused::new(
            Code::QueryTooComplex,
            format!(
                "checking that the document's fields merge takes more than {MAX_COMPARISONS} \
                 comparisons"
            ),
        )),
    }
}

impl<'a> Check<'a> {
    /// Checks `set` on `parent` and every field's selection within it (not through fragment
    /// spreads: each fragment definition is checked on its own).
    fn nested(&mut self, set: &'a SelectionSet, parent: Option<&'a str>) -> Result<(), Stop> {
        self.within(set, parent)?;
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let returns = parent
                        .and_then(|p| self.types.field(p, &field.node.name.node))
                        .map(|d| named(&d.ty).as_str());
                    self.nested(&field.node.selection_set.node, returns)?;
                }
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref();
                    let ty = on.map_or(parent, |c| Some(c.node.on.node.as_str()));
                    self.nested(&inline.node.selection_set.node, ty)?;
                }
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    /// The fields of `set` on `parent`, fragments expanded, by response name in order.
    fn fields(&self, set: &'a SelectionSet, parent: Option<&'a str>) -> Vec<Entry<'a>> {
        let mut out = Vec::new();
        self.collect(set, parent, &mut out, &mut Vec::new());
        out
    }

    fn collect(
        &self,
        set: &'a SelectionSet,
        parent: Option<&'a str>,
        out: &mut Vec<Entry<'a>>,
        open: &mut Vec<&'a Name>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let ty = if name == "__typename" {
                        Some(typename())
                    } else {
                        parent
                            .and_then(|p| self.types.field(p, name))
                            .map(|d| &d.ty)
                    };
                    out.push(Entry { parent, field, ty });
                }
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref();
                    let ty = on.map_or(parent, |c| Some(c.node.on.node.as_str()));
                    self.collect(&inline.node.selection_set.node, ty, out, open);
                }
                Selection::FragmentSpread(spread) => {
                    let doc = self.doc;
                    let name = &spread.node.fragment_name.node;
                    if let Some((name, fragment)) = doc.fragments.get_key_value(name)
                        && !open.contains(&name)
                    {
                        open.push(name);
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.collect(&fragment.node.selection_set.node, Some(on), out, open);
                        open.pop();
                    }
                }
            }
        }
    }

    /// Conflicts between the fields of one selection set.
    fn within(&mut self, set: &'a SelectionSet, parent: Option<&'a str>) -> Result<(), Stop> {
        let entries = self.fields(set, parent);
        self.spend(entries.len())?;
        for (key, group) in &by_key(entries) {
            let group = self.representatives(group)?;
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    if let Some(reason) = self.conflict(false, a, b)? {
                        return Err(Stop::Conflict(conflict_error(key, &reason, a, b)));
                    }
                }
            }
        }
        Ok(())
    }

    /// Why `a` and `b` (of one response name) cannot merge, if they cannot.
    fn conflict(
        &mut self,
        parents_exclusive: bool,
        a: &Entry<'a>,
        b: &Entry<'a>,
    ) -> Result<Option<Reason>, Stop> {
        self.spend(1)?;
        if std::ptr::eq(a.field, b.field) && a.parent == b.parent {
            return Ok(None);
        }
        let (fa, fb) = (&a.field.node, &b.field.node);
        let exclusive = parents_exclusive
            || (a.parent != b.parent
                && a.parent.is_some_and(|p| self.types.is_object(p))
                && b.parent.is_some_and(|p| self.types.is_object(p)));
        if !exclusive {
            if fa.name.node != fb.name.node {
                return Ok(Some(Reason::Message(format!(
                    "\"{}\" and \"{}\" are different fields",
                    fa.name.node, fb.name.node
                ))));
            }
            if !same_arguments(fa, fb) {
                return Ok(Some(Reason::Message(
                    "they have differing arguments".to_owned(),
                )));
            }
        }
        if let (Some(ta), Some(tb)) = (a.ty, b.ty)
            && self.types_conflict(ta, tb)
        {
            return Ok(Some(Reason::Message(format!(
                "they return conflicting types \"{ta}\" and \"{tb}\""
            ))));
        }
        let (sa, sb) = (&fa.selection_set.node, &fb.selection_set.node);
        if sa.items.is_empty() || sb.items.is_empty() {
            return Ok(None);
        }
        let below_a = self.fields(sa, a.ty.map(|t| named(t).as_str()));
        let below_b = self.fields(sb, b.ty.map(|t| named(t).as_str()));
        self.spend(below_a.len() + below_b.len())?;
        let below_b: std::collections::HashMap<&str, Vec<Entry<'a>>> =
            by_key(below_b).into_iter().collect();
        let mut conflicts = Vec::new();
        for x in &below_a {
            for y in below_b.get(x.key()).into_iter().flatten() {
                if let Some(reason) = self.conflict(exclusive, x, y)? {
                    conflicts.push((x.key().to_owned(), reason));
                }
            }
        }
        Ok((!conflicts.is_empty()).then_some(Reason::Subfields(conflicts)))
    }

    /// `group` without repeats of a leaf: a field without a selection on the same type, of the
    /// same name, arguments and type as one kept merges with it, and with whatever merges with
    /// it (`{ code code code … }` is one comparison, not a square).
    fn representatives(&mut self, group: &[Entry<'a>]) -> Result<Vec<Entry<'a>>, Stop> {
        let mut kept: Vec<Entry<'a>> = Vec::new();
        for entry in group {
            self.spend(1 + kept.len())?;
            let leaf = |e: &Entry| e.field.node.selection_set.node.items.is_empty();
            let repeat = leaf(entry)
                && kept.iter().any(|k| {
                    leaf(k)
                        && k.parent == entry.parent
                        && k.field.node.name.node == entry.field.node.name.node
                        && k.ty == entry.ty
                        && same_arguments(&k.field.node, &entry.field.node)
                });
            if !repeat {
                kept.push(*entry);
            }
        }
        Ok(kept)
    }

    /// Counts `work` (fields expanded or compared) against [`MAX_COMPARISONS`].
    fn spend(&mut self, work: usize) -> Result<(), Stop> {
        self.comparisons = self.comparisons.saturating_add(work);
        if self.comparisons > MAX_COMPARISONS {
            return Err(Stop::TooMany);
        }
        Ok(())
    }

    /// graphql-js's `doTypesConflict`: lists and non-null must match level by level, and leaf
    /// types must be the same.
    fn types_conflict(&self, a: &Type, b: &Type) -> bool {
        use async_graphql::parser::types::BaseType;
        if a.nullable != b.nullable {
            return true;
        }
        match (&a.base, &b.base) {
            (BaseType::List(x), BaseType::List(y)) => self.types_conflict(x, y),
            (BaseType::List(_), _) | (_, BaseType::List(_)) => true,
            (BaseType::Named(x), BaseType::Named(y)) => {
                (self.types.is_leaf(x) || self.types.is_leaf(y)) && x != y
            }
        }
    }
}

/// `entries` grouped by response name, in the order the names first appear.
fn by_key(entries: Vec<Entry<'_>>) -> Vec<(&str, Vec<Entry<'_>>)> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut groups: Vec<(&str, Vec<Entry>)> = Vec::new();
    for entry in entries {
        let key = entry.key();
        match index.get(key) {
            Some(&at) => groups[at].1.push(entry),
            None => {
                index.insert(key, groups.len());
                groups.push((key, vec![entry]));
            }
        }
    }
    groups
}

/// The type of `__typename`: `String!`.
fn typename() -> &'static Type {
    static TYPENAME: std::sync::OnceLock<Type> = std::sync::OnceLock::new();
    TYPENAME.get_or_init(|| Type {
        base: async_graphql::parser::types::BaseType::Named(Name::new("String")),
        nullable: false,
    })
}

/// graphql-js's `sameArguments`: the same names with the same values, in any order.
fn same_arguments(a: &Field, b: &Field) -> bool {
    a.arguments.len() == b.arguments.len()
        && a.arguments.iter().all(|(name, value)| {
            b.arguments
                .iter()
                .find(|(other, _)| other.node == name.node)
                .is_some_and(|(_, other)| other.node == value.node)
        })
}

fn conflict_error(key: &str, reason: &Reason, a: &Entry, b: &Entry) -> Refused {
    let positions: Vec<Pos> = vec![a.field.pos, b.field.pos];
    super::rules::invalid(
        format!(
            "Fields \"{key}\" conflict because {}. Use different aliases on the fields to fetch \
             both if this was intentional.",
            reason.text()
        ),
        positions,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { a: A b: B node(id: ID!): Node list: [A!]! }
        interface Node { id: ID! }
        type A implements Node { id: ID! x: String y: String n: Int a: A }
        type B implements Node { id: ID! x: String n: Float a: A }";

    fn refusal(text: &str) -> Option<String> {
        let doc = async_graphql::parser::parse_query(text).unwrap();
        check(&SchemaTypes::from_sdl(SDL), &doc)
            .err()
            .map(|e| e.error.message)
    }

    #[test]
    fn fields_merge_as_graphql_js_says() {
        assert_eq!(refusal("{ a { x x } a { x } }"), None);
        assert_eq!(
            refusal("{ a { v: x v: y } }").as_deref(),
            Some(
                "Fields \"v\" conflict because \"x\" and \"y\" are different fields. Use \
                 different aliases on the fields to fetch both if this was intentional."
            )
        );
        assert_eq!(
            refusal("{ a { v: x } a { v: y } }").as_deref(),
            Some(
                "Fields \"a\" conflict because subfields \"v\" conflict because \"x\" and \"y\" \
                 are different fields. Use different aliases on the fields to fetch both if this \
                 was intentional."
            )
        );
        // Different object types never both apply: different fields may share a name, but not
        // conflicting types.
        assert_eq!(
            refusal("{ node(id: \"1\") { ... on A { v: x } ... on B { v: x } } }"),
            None
        );
        assert_eq!(
            refusal("{ node(id: \"1\") { ... on A { v: n } ... on B { v: n } } }").as_deref(),
            Some(
                "Fields \"v\" conflict because they return conflicting types \"Int\" and \
                 \"Float\". Use different aliases on the fields to fetch both if this was \
                 intentional."
            )
        );
        assert_eq!(
            refusal("{ node(id: \"1\") { ... on A { a { v: x } } ... on B { a { v: y } } } }"),
            None
        );
        assert_eq!(
            refusal("{ a { x } ...F } fragment F on Query { a: b { x } }").as_deref(),
            Some(
                "Fields \"a\" conflict because \"a\" and \"b\" are different fields. Use \
                 different aliases on the fields to fetch both if this was intentional."
            )
        );
        assert_eq!(
            refusal("{ node(id: \"1\") { id } node(id: \"2\") { id } }").as_deref(),
            Some(
                "Fields \"node\" conflict because they have differing arguments. Use different \
                 aliases on the fields to fetch both if this was intentional."
            )
        );
    }

    #[test]
    fn repeated_leaves_are_compared_once() {
        let many = "x ".repeat(4_000);
        assert_eq!(refusal(&format!("{{ a {{ {many} }} }}")), None);
    }

    #[test]
    fn the_comparisons_are_bounded() {
        let many = "a { x } ".repeat(700);
        let doc = async_graphql::parser::parse_query(format!("{{ {many} }}")).unwrap();
        let error = check(&SchemaTypes::from_sdl(SDL), &doc).unwrap_err();
        assert_eq!(error.code, super::Code::QueryTooComplex);
    }
}
