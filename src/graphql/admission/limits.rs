//! Bounds on a document, checked by `DocumentStep` (`admission`) before async-graphql validates it.
//!
//! async-graphql's own limits (depth, complexity) act during validation, and parsing and
//! validation are synchronous: no timeout can stop them. Three kinds of small document would
//! cost far more than milliseconds before those limits reject them, so this module checks:
//! 1. the bracket nesting of the text, before parsing (`scan`): deeply nested list or object
//!    literals would exhaust the parser's stack and abort the process;
//! 2. the document's size once its fragments are expanded, counted once per fragment
//!    (memoised), before validation ([`DocumentLimits::check`]): fragments that spread each
//!    other twice, nested 30 deep, make 2^30 selections out of a few hundred bytes, and
//!    validation walks every one of them;
//! 3. aliases, root fields and directives per field.
//!
//! Every selection counts, `__typename` and introspection fields included.

use crate::code::Code;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned};

use crate::graphql::error::Refused;

/// The limits this module enforces (see `config::ServeArgs` for each one's meaning).
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Deepest bracket nesting in the text.
    pub max_nesting: usize,
    /// Most fields once fragments are expanded (the complexity limit: each field costs at
    /// least 1).
    pub max_fields: usize,
    /// Most aliased fields once fragments are expanded.
    pub max_aliases: usize,
    /// Most fields at an operation's root once fragments are expanded.
    pub max_root_fields: usize,
    /// Most directives on one selection.
    pub max_directives: usize,
    /// Whether `__schema` and `__type` may be asked for.
    pub introspection: bool,
}

/// How a request arrived: mutations are accepted only by POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// POST /graphql.
    Post,
    /// GET /graphql?query=….
    Get,
    /// An operation on /graphql/ws.
    WebSocket,
}

/// What the handler needs to know about the request once it is parsed; put in the request's
/// data by `Api::execute`.
#[derive(Debug)]
pub struct RequestInfo {
    /// How it arrived.
    pub transport: Transport,
    /// The operation name the client asked for.
    pub operation_name: Option<String>,
    /// The selected operation's type, once parsed.
    pub operation_type: OnceLock<OperationType>,
}

impl RequestInfo {
    /// Information for a request that arrived by `transport`.
    pub fn new(transport: Transport, operation_name: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            transport,
            operation_name,
            operation_type: OnceLock::new(),
        })
    }
}

/// The operation a request with `name` runs, when the document has it.
pub fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    }
}

/// A request error (the specification's CoerceVariableValues) when `operation` declares a
/// variable of a non-null type without a default and `variables` gives it no value, in
/// graphql-js's words, at the variable's definition.
pub fn provided_variables(
    operation: &OperationDefinition,
    variables: &async_graphql::Variables,
) -> Result<(), Refused> {
    for positioned in &operation.variable_definitions {
        let definition = &positioned.node;
        if !definition.var_type.node.nullable
            && definition.default_value.is_none()
            && !variables.contains_key(&definition.name.node)
        {
            return Err(Refused::invalid(
                format!(
                    "Variable \"${}\" of required type \"{}\" was not provided.",
                    definition.name.node, definition.var_type.node
                ),
                vec![positioned.pos],
            ));
        }
    }
    Ok(())
}

fn error(code: Code, message: String) -> Refused {
    Refused::new(code, message)
}

/// What a selection set amounts to once its fragments are expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    /// Fields, at every level.
    fields: u64,
    /// Aliased fields, at every level.
    aliases: u64,
    /// Fields at the set's own level.
    top: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.top = self.top.saturating_add(other.top);
    }
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a DocumentLimits,
    memo: HashMap<&'a Name, Size>,
    /// Fragments being expanded: a cycle counts as nothing here (validation rejects it).
    open: Vec<&'a Name>,
}

impl Counter<'_> {
    fn size(&mut self, set: &SelectionSet, depth: usize) -> Result<Size, Refused> {
        if depth > self.limits.max_nesting {
            return Err(error(
                Code::NestingTooDeep,
                format!(
                    "selections and fragment spreads nest more than {} deep",
                    self.limits.max_nesting
                ),
            ));
        }
        let mut size = Size::default();
        for selection in &set.items {
            self.check_directives(&selection.node)?;
            match &selection.node {
                Selection::Field(field) => {
                    let inner = self.size(&field.node.selection_set.node, depth + 1)?;
                    size.add(Size {
                        fields: inner.fields.saturating_add(1),
                        aliases: inner
                            .aliases
                            .saturating_add(u64::from(field.node.alias.is_some())),
                        top: 1,
                    });
                }
                Selection::InlineFragment(inline) => {
                    size.add(self.size(&inline.node.selection_set.node, depth + 1)?);
                }
                Selection::FragmentSpread(spread) => {
                    size.add(self.fragment(&spread.node.fragment_name.node, depth + 1)?);
                }
            }
            if size.fields > self.limits.max_fields as u64 {
                return Err(too_many_fields(self.limits.max_fields));
            }
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &Name, depth: usize) -> Result<Size, Refused> {
        let doc = self.doc;
        let Some((name, fragment)) = doc.fragments.get_key_value(name) else {
            return Ok(Size::default());
        };
        if let Some(size) = self.memo.get(name) {
            return Ok(*size);
        }
        if self.open.contains(&name) {
            return Ok(Size::default());
        }
        self.open.push(name);
        let size = self.size(&fragment.node.selection_set.node, depth);
        self.open.pop();
        let size = size?;
        self.memo.insert(name, size);
        Ok(size)
    }

    fn check_directives(&self, selection: &Selection) -> Result<(), Refused> {
        let n = selection.directives().len();
        if n > self.limits.max_directives {
            return Err(error(
                Code::TooManyDirectives,
                format!(
                    "a selection carries {n} directives; at most {} are allowed",
                    self.limits.max_directives
                ),
            ));
        }
        Ok(())
    }
}

fn too_many_fields(max: usize) -> Refused {
    error(
        Code::QueryTooComplex,
        format!("the query selects more than {max} fields once its fragments are expanded"),
    )
}

impl DocumentLimits {
    /// Checks every operation of `doc` (see the module's notes).
    pub fn check(&self, doc: &ExecutableDocument) -> Result<(), Refused> {
        let mut counter = Counter {
            doc,
            limits: self,
            memo: HashMap::new(),
            open: Vec::new(),
        };
        let mut total = Size::default();
        for (_, operation) in doc.operations.iter() {
            let size = counter.size(&operation.node.selection_set.node, 1)?;
            if size.top > self.max_root_fields as u64 {
                return Err(error(
                    Code::TooManyRootFields,
                    format!(
                        "an operation selects {} root fields; at most {} are allowed",
                        size.top, self.max_root_fields
                    ),
                ));
            }
            total.add(size);
            if !self.introspection
                && asks_introspection(doc, &operation.node.selection_set.node, &mut Vec::new())
            {
                return Err(error(
                    Code::IntrospectionDisabled,
                    "introspection is switched off on this server".into(),
                ));
            }
        }
        if total.fields > self.max_fields as u64 {
            return Err(too_many_fields(self.max_fields));
        }
        if total.aliases > self.max_aliases as u64 {
            return Err(error(
                Code::TooManyAliases,
                format!(
                    "the document uses {} aliases once its fragments are expanded; at most {} \
                     are allowed",
                    total.aliases, self.max_aliases
                ),
            ));
        }
        // Fragments no operation uses are checked too: validation walks them as well.
        for (name, fragment) in &doc.fragments {
            if !counter.memo.contains_key(name) {
                counter.size(&fragment.node.selection_set.node, 1)?;
            }
        }
        Ok(())
    }
}

/// Whether a root selection set asks for `__schema` or `__type`, through fragments.
fn asks_introspection<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    seen: &mut Vec<&'a Name>,
) -> bool {
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => matches!(field.node.name.node.as_str(), "__schema" | "__type"),
        Selection::InlineFragment(inline) => {
            asks_introspection(doc, &inline.node.selection_set.node, seen)
        }
        Selection::FragmentSpread(spread) => {
            let name = &spread.node.fragment_name.node;
            match doc.fragments.get_key_value(name) {
                Some((name, fragment)) if !seen.contains(&name) => {
                    seen.push(name);
                    asks_introspection(doc, &fragment.node.selection_set.node, seen)
                }
                _ => false,
            }
        }
    })
}
