//! Bounds on a document, checked before async-graphql parses and validates it.
//!
//! async-graphql's own limits (depth, complexity) act during validation, and parsing and
//! validation are synchronous: no timeout can stop them. Three kinds of small document would
//! cost far more than milliseconds before those limits reject them, so this extension, which
//! replaces async-graphql's parse step, checks:
//! 1. the bracket nesting of the text, before parsing: deeply nested list or object literals
//!    would exhaust the parser's stack and abort the process;
//! 2. the document's size once its fragments are expanded, counted once per fragment
//!    (memoised), before validation: fragments that spread each other twice, nested 30 deep,
//!    make 2^30 selections out of a few hundred bytes, and validation (as well as
//!    async-graphql's own recursion and directive checks, which it runs right after parsing and
//!    which this extension therefore runs itself) walks every one of them;
//! 3. aliases, root fields and directives per field; and that a mutation arrives by POST.
//!
//! Every selection counts, `__typename` and introspection fields included.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, ServerError, ServerResult, Variables};

use super::error as codes;

/// The limits this extension enforces (see `config::ServeArgs` for each one's meaning).
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
/// data by `graphql::execute`.
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

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let parse_failed = |mut error: ServerError| {
            if error
                .extensions
                .as_ref()
                .is_none_or(|e| e.get("code").is_none())
            {
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", codes::GRAPHQL_PARSE_FAILED);
            }
            error
        };
        let doc = if query.is_empty() {
            // A persisted query's hit comes parsed (and was checked when it was registered):
            // async-graphql's step hands it over.
            next.run(ctx, query, variables)
                .await
                .map_err(parse_failed)?
        } else {
            check_nesting(query, self.max_nesting)?;
            async_graphql::parser::parse_query(query)
                .map_err(|err| parse_failed(ServerError::from(err)))?
        };
        self.check(&doc)?;
        if let Some(info) = ctx.data_opt::<Arc<RequestInfo>>()
            && let Some(ty) = operation_type(&doc, info.operation_name.as_deref())
        {
            if ty == OperationType::Mutation && info.transport != Transport::Post {
                return Err(error(
                    codes::METHOD_NOT_ALLOWED,
                    "mutations are accepted only by POST /graphql".into(),
                ));
            }
            if ty == OperationType::Subscription && info.transport != Transport::WebSocket {
                return Err(error(
                    codes::METHOD_NOT_ALLOWED,
                    "subscriptions are served over the WebSocket at /graphql/ws".into(),
                ));
            }
            let _ = info.operation_type.set(ty);
        }
        Ok(doc)
    }
}

/// The type of the operation a request with `name` runs, when the document has it.
fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

fn error(code: &'static str, message: String) -> ServerError {
    super::error::server_error(code, message)
}

/// Rejects text whose `{`, `[` and `(` nest deeper than `max`, skipping strings and comments.
fn check_nesting(query: &str, max: usize) -> ServerResult<()> {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return Err(error(
                        codes::NESTING_TOO_DEEP,
                        format!("the document nests brackets more than {max} deep"),
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
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
    fn size(&mut self, set: &SelectionSet, depth: usize) -> ServerResult<Size> {
        if depth > self.limits.max_nesting {
            return Err(error(
                codes::NESTING_TOO_DEEP,
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

    fn fragment(&mut self, name: &Name, depth: usize) -> ServerResult<Size> {
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

    fn check_directives(&self, selection: &Selection) -> ServerResult<()> {
        let n = selection.directives().len();
        if n > self.limits.max_directives {
            return Err(error(
                codes::TOO_MANY_DIRECTIVES,
                format!(
                    "a selection carries {n} directives; at most {} are allowed",
                    self.limits.max_directives
                ),
            ));
        }
        Ok(())
    }
}

fn too_many_fields(max: usize) -> ServerError {
    error(
        codes::QUERY_TOO_COMPLEX,
        format!("the query selects more than {max} fields once its fragments are expanded"),
    )
}

impl DocumentLimits {
    /// Checks every operation of `doc` (see the module's notes).
    fn check(&self, doc: &ExecutableDocument) -> ServerResult<()> {
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
                    codes::TOO_MANY_ROOT_FIELDS,
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
                    codes::INTROSPECTION_DISABLED,
                    "introspection is switched off on this server".into(),
                ));
            }
        }
        if total.fields > self.max_fields as u64 {
            return Err(too_many_fields(self.max_fields));
        }
        if total.aliases > self.max_aliases as u64 {
            return Err(error(
                codes::TOO_MANY_ALIASES,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn nesting(q: &str, max: usize) -> bool {
        check_nesting(q, max).is_ok()
    }

    #[test]
    fn nesting_skips_strings_and_comments() {
        assert!(nesting("{ a(x: \"[[[[\") }", 2));
        assert!(nesting("{ a(x: \"\"\"[[[[ \\\"\"\" [[\"\"\") } # [[[[", 2));
        assert!(nesting("{ a(x: [[1]]) }", 4));
        assert!(!nesting("{ a(x: [[1]]) }", 3));
    }
}
