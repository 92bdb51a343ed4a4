//! graphql-js's limit on nested introspection lists (`MaxIntrospectionDepthRule`, among its
//! specified rules since 16.9), which async-graphql does not have.

use async_graphql::Name;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use super::rules::invalid;
use crate::graphql::error::Refused;

/// graphql-js's `MaxIntrospectionDepthRule` (among its specified rules since 16.9): under
/// `__schema` or `__type`, the introspection lists `fields`, `interfaces`, `possibleTypes` and
/// `inputFields` nest less than 3 deep, fragments followed. Run once the limits have bounded
/// what expanding fragments costs.
pub fn check(doc: &ExecutableDocument) -> Result<(), Refused> {
    const LISTS: [&str; 4] = ["fields", "interfaces", "possibleTypes", "inputFields"];
    const MAX_LISTS_DEPTH: usize = 3;

    fn too_deep<'a>(
        doc: &'a ExecutableDocument,
        set: &'a SelectionSet,
        open: &mut Vec<&'a Name>,
        depth: usize,
    ) -> bool {
        set.items.iter().any(|selection| match &selection.node {
            Selection::Field(field) => {
                let depth = depth + usize::from(LISTS.contains(&field.node.name.node.as_str()));
                depth >= MAX_LISTS_DEPTH
                    || too_deep(doc, &field.node.selection_set.node, open, depth)
            }
            Selection::InlineFragment(inline) => {
                too_deep(doc, &inline.node.selection_set.node, open, depth)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match doc.fragments.get_key_value(name) {
                    Some((name, fragment)) if !open.contains(&name) => {
                        open.push(name);
                        let deep = too_deep(doc, &fragment.node.selection_set.node, open, depth);
                        open.pop();
                        deep
                    }
                    _ => false,
                }
            }
        })
    }

    fn walk(doc: &ExecutableDocument, set: &SelectionSet) -> Result<(), Refused> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if matches!(name, "__schema" | "__type")
                        && too_deep(doc, &field.node.selection_set.node, &mut Vec::new(), 0)
                    {
                        return Err(invalid(
                            "Maximum introspection depth exceeded".to_owned(),
                            vec![field.pos],
                        ));
                    }
                    walk(doc, &field.node.selection_set.node)?;
                }
                Selection::InlineFragment(inline) => walk(doc, &inline.node.selection_set.node)?,
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    for (_, operation) in doc.operations.iter() {
        walk(doc, &operation.node.selection_set.node)?;
    }
    for fragment in doc.fragments.values() {
        walk(doc, &fragment.node.selection_set.node)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn introspection_lists_nest_less_than_three_deep() {
        let depth = |q: &str| {
            let doc = async_graphql::parser::parse_query(q).unwrap();
            check(&doc).err().map(|e| e.error.message)
        };
        assert_eq!(
            depth("{ __schema { types { fields { type { fields { name } } } } } }"),
            None
        );
        assert_eq!(
            depth(
                "{ __type(name: \"A\") { ...F } } fragment F on __Type { fields { type { \
                 interfaces { possibleTypes { name } } } } }"
            )
            .as_deref(),
            Some("Maximum introspection depth exceeded")
        );
    }
}
