//! The document step: what every request goes through before async-graphql runs it, whichever
//! way it came (POST, GET, a batch, the WebSocket) and whether its text came with it or from the
//! persisted-query store. In this order, each before any work that grows with the input:
//! 1. automatic persisted queries (Apollo's protocol): a hash alone is looked up; a hash with
//!    its text is checked against the text, and the document is stored only once it has passed
//!    every check, async-graphql's validation included (see [`Registration`]);
//! 2. the text: bracket nesting and repeated input fields, before parsing (`scan`);
//! 3. parsing; the parser's findings that are validation rules are reported as such;
//! 4. the specification's rules that must hold before anything expands a fragment, above all
//!    that fragments form no cycle (`rules`);
//! 5. the size once fragments are expanded, aliases, root fields, directives, introspection
//!    (`limits`); then the rules that expand fragments or need the schema's types and that
//!    async-graphql does not check (`introspection`, `types`, `overlap`,
//!    `directives`);
//! 6. the variables the operation requires (`limits::provided_variables`), then depth and
//!    complexity with the request's variables (`cost`), on every request, remembered documents
//!    included: a page's cost depends on the `first` sent;
//! 7. the transport: mutations by POST only, subscriptions on the WebSocket only.
//!
//! async-graphql then validates the checked document against the schema and runs it. It gets
//! the document already parsed (`Request::set_parsed_query`), so it never parses the text
//! again. Its own recursion-depth check then walks the document with fragments expanded, which
//! step 5 has bounded (and step 4 made acyclic) before; its directive check expands without
//! bound and is not enabled. No async-graphql extension is installed for this: any extension
//! makes every field's resolution take async-graphql's slow path (a registry look-up and the
//! extension chain per field), which cost the dashboard a tenth of its time.
//!
//! A document sent as text that passes every check is remembered in the same store as persisted
//! queries, by the SHA-256 of its text (the key Apollo's protocol uses): the next request with
//! that text, or with its hash alone, skips steps 2 to 5, and, when it comes without variables,
//! async-graphql's strict validation too: it runs on a twin of the schema that validates in
//! `ValidationMode::Fast` (see `Api::schema_for` for why the answer is the same). The store is bounded by the memory its
//! parsed documents hold (`--persisted-query-bytes`, see `weight`), not by their texts: a
//! parsed document takes tens of times its text.

pub mod cost;
pub mod directives;
pub mod introspection;
pub mod limits;
pub mod overlap;
pub mod rules;
pub mod scan;
pub mod types;
pub mod weight;

use crate::code::Code;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, ServerError};
use sha2::Digest;

use crate::graphql::error::Refused;
use cost::CostLimits;
use limits::{DocumentLimits, RequestInfo, Transport};

/// A persisted document and the memory it holds (its weight in the store).
#[derive(Clone)]
struct Persisted {
    doc: Arc<ExecutableDocument>,
    bytes: u64,
}

impl Persisted {
    fn new(doc: &ExecutableDocument) -> Self {
        Self {
            bytes: weight::document(doc) as u64,
            doc: Arc::new(doc.clone()),
        }
    }
}

/// What an entry costs besides its document: the key (a 64-character hash), the `Arc`, the
/// store's slot.
const ENTRY_OVERHEAD: u64 = 160;

#[derive(Clone)]
struct MemoryBytes;

impl quick_cache::Weighter<String, Persisted> for MemoryBytes {
    fn weight(&self, key: &String, value: &Persisted) -> u64 {
        value.bytes + key.len() as u64 + ENTRY_OVERHEAD
    }
}

/// Runs the document step (see the module's notes); one per schema, shared by every request.
pub struct DocumentStep {
    limits: DocumentLimits,
    cost: CostLimits,
    types: types::SchemaTypes,
    /// Checked documents by the SHA-256 of their text (lowercase hex), bounded by the memory
    /// they hold (`weight`); least recently used go first.
    persisted: quick_cache::sync::Cache<String, Persisted, MemoryBytes>,
}

impl std::fmt::Debug for DocumentStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentStep")
            .field("limits", &self.limits)
            .field("persisted", &self.persisted.len())
            .finish()
    }
}

/// A document sent with its text, to be stored once the answer shows that it passed
/// validation too ([`Registration::complete`]). It holds the text, not the parsed document: a
/// subscription's first answer comes with its first event, and until then a parsed copy would
/// double what each new subscription holds (a parsed document takes tens of times its text).
#[must_use]
pub struct Registration {
    hash: String,
    text: String,
}

impl Registration {
    /// Stores the document in `step` if `response`, as async-graphql returned it (before
    /// `error::finish`), shows that it passed validation. Call it before `finish`. The text is
    /// checked again (it passed before; only a document's first answer stores it).
    pub fn complete(self, step: &DocumentStep, response: &async_graphql::Response) {
        if passed_validation(response)
            && let Ok(doc) = step.check(&self.text)
        {
            step.persisted.insert(self.hash, Persisted::new(&doc));
        }
    }
}

/// Whether `response` (as async-graphql returned it) comes from a document that passed
/// validation: every error in it was made by this service's resolvers, which give each its code
/// where they make it (`error::to_graphql`), or was raised while a field ran (it has a `path`).
/// async-graphql's validation errors come with neither: such a document is never remembered (a
/// valid one refused for its variables is then only checked again next time). No message is
/// read.
fn passed_validation(response: &async_graphql::Response) -> bool {
    response.errors.iter().all(|error| {
        !error.path.is_empty()
            || error
                .extensions
                .as_ref()
                .is_some_and(|extensions| extensions.get("code").is_some())
    })
}

impl DocumentStep {
    /// A step enforcing `limits` whose persisted-query store holds documents taking up to
    /// `persisted_bytes` of memory (0: no store; every hash alone is then a miss).
    pub fn new(
        limits: DocumentLimits,
        cost: CostLimits,
        types: types::SchemaTypes,
        persisted_bytes: u64,
    ) -> Self {
        // The item estimate only sizes the store's tables: a parsed dashboard query holds
        // tens of KiB.
        let items = usize::try_from(persisted_bytes / 32_768)
            .unwrap_or(1)
            .max(1);
        Self {
            limits,
            cost,
            types,
            persisted: quick_cache::sync::Cache::with_weighter(items, persisted_bytes, MemoryBytes),
        }
    }

    /// The memory the remembered documents hold, as the store counts it.
    pub fn persisted_bytes(&self) -> u64 {
        self.persisted.weight()
    }

    /// Checks `request` for `info`'s transport and puts the checked document in its data;
    /// records the operation's type in `info`. The error is the whole request's answer. A
    /// document checked now (a text, or a persisted query sent with its text) comes back with a
    /// [`Registration`] to complete with the answer; `None` means the store had it, so it passed
    /// every check before, async-graphql's validation included.
    pub fn prepare(
        &self,
        request: &mut Request,
        info: &RequestInfo,
    ) -> Result<Option<Registration>, Refused> {
        let mut registration = None;
        let doc = match persisted_hash(&request.extensions)? {
            Some(hash) if request.query.is_empty() => match self.persisted.get(&hash) {
                Some(hit) => ExecutableDocument::clone(&hit.doc),
                None => {
                    return Err(Refused::new(
                        Code::PersistedQueryNotFound,
                        "PersistedQueryNotFound",
                    ));
                }
            },
            Some(hash) => {
                if hex_sha256(&request.query) != hash {
                    return Err(Refused::new(
                        Code::BadUserInput,
                        "provided sha does not match query",
                    ));
                }
                let doc = self.check(&request.query)?;
                registration = Some(Registration {
                    hash,
                    text: request.query.clone(),
                });
                doc
            }
            // A text: remembered by its hash once it has passed every check.
            None => {
                let hash = hex_sha256(&request.query);
                match self.persisted.get(&hash) {
                    Some(hit) => ExecutableDocument::clone(&hit.doc),
                    None => {
                        let doc = self.check(&request.query)?;
                        registration = Some(Registration {
                            hash,
                            text: request.query.clone(),
                        });
                        doc
                    }
                }
            }
        };
        let operation = limits::operation(&doc, request.operation_name.as_deref());
        if let Some(operation) = operation {
            limits::provided_variables(&operation.node, &request.variables)?;
        }
        // Every time, remembered or not: a page's cost depends on the `first` each request sends.
        self.cost.check(&doc, &request.variables)?;
        if let Some(operation) = operation {
            let ty = operation.node.ty;
            if ty == OperationType::Mutation && info.transport != Transport::Post {
                return Err(Refused::new(
                    Code::MethodNotAllowed,
                    "mutations are accepted only by POST /graphql",
                ));
            }
            if ty == OperationType::Subscription && info.transport != Transport::WebSocket {
                return Err(Refused::new(
                    Code::MethodNotAllowed,
                    "subscriptions are served over the WebSocket at /graphql/ws",
                ));
            }
            let _ = info.operation_type.set(ty);
        }
        request.set_parsed_query(doc);
        Ok(registration)
    }

    /// Steps 2 to 5 of the module's notes on a text.
    fn check(&self, query: &str) -> Result<ExecutableDocument, Refused> {
        let negative_zeros = scan::scan(query, self.limits.max_nesting)?;
        let blanked;
        let parsed = if negative_zeros.is_empty() {
            query
        } else {
            let mut text = query.as_bytes().to_vec();
            negative_zeros.into_iter().for_each(|at| text[at] = b' ');
            blanked = String::from_utf8(text).unwrap_or_default();
            &blanked
        };
        let mut doc = async_graphql::parser::parse_query(parsed).map_err(|err| {
            rules::from_parse_error(query, &err).unwrap_or_else(|| {
                let mut error = ServerError::from(err);
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", Code::GraphqlParseFailed);
                Refused {
                    code: Code::GraphqlParseFailed,
                    error: Box::new(error),
                }
            })
        })?;
        rules::check(&doc)?;
        // Then the rules that expand fragments, once the limits have bounded what that costs.
        self.limits.check(&doc)?;
        introspection::check(&doc)?;
        self.types.check(&doc)?;
        overlap::check(&self.types, &doc)?;
        directives::check(&doc)?;
        directives::lift_typename_directives(&mut doc);
        Ok(doc)
    }

    /// Documents in the persisted-query store.
    pub fn persisted_count(&self) -> usize {
        self.persisted.len()
    }
}

/// The hash of an automatic persisted query (`extensions.persistedQuery`), lowercase, if the
/// request names one.
fn persisted_hash(extensions: &async_graphql::Extensions) -> Result<Option<String>, Refused> {
    use async_graphql::Value;
    let Some(value) = extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let invalid = || {
        Refused::new(
            Code::BadUserInput,
            "Invalid \"PersistedQuery\" extension configuration.",
        )
    };
    let Value::Object(fields) = value else {
        return Err(invalid());
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_i64() == Some(1) => {}
        Some(Value::Number(n)) => {
            return Err(Refused::new(
                Code::BadUserInput,
                format!(
                    "Only the \"PersistedQuery\" extension of version \"1\" is supported, and \
                     the current version is \"{n}\"."
                ),
            ));
        }
        _ => return Err(invalid()),
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash)) => Ok(Some(hash.to_ascii_lowercase())),
        _ => Err(invalid()),
    }
}

fn hex_sha256(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in sha2::Sha256::digest(text.as_bytes()) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 15)]));
    }
    hex
}
