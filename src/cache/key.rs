//! The key of a cached answer (see the module's notes).

use async_graphql::{Request, Value as ConstValue};
use sha2::Digest;

/// Which request an answer belongs to (see the module's notes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    document: [u8; 32],
    operation: Option<String>,
    variables: String,
    pub(super) media: u8,
}

impl Key {
    /// The key of `request` answered in media type number `media`, or `None` when the request
    /// must not be served from the cache: extensions other than a persisted query, or a
    /// persisted query whose hash is malformed or disagrees with its text (the document step
    /// answers those).
    pub fn of(request: &Request, media: u8) -> Option<Self> {
        let mut persisted = None;
        for (name, value) in request.extensions.iter() {
            if name != "persistedQuery" {
                return None;
            }
            persisted = Some(persisted_digest(value)?);
        }
        let document = if request.query.is_empty() {
            persisted?
        } else {
            let digest: [u8; 32] = sha2::Sha256::digest(request.query.as_bytes()).into();
            if persisted.is_some_and(|p| p != digest) {
                return None;
            }
            digest
        };
        // serde_json's maps keep their keys sorted (its `preserve_order` feature is off), so the
        // same variables always give the same text, in whatever order the client wrote them.
        let variables = serde_json::to_value(&request.variables)
            .map(|v| v.to_string())
            .unwrap_or_default();
        Some(Self {
            document,
            operation: request.operation_name.clone(),
            variables,
            media,
        })
    }

    pub(super) fn weight(&self) -> u64 {
        (32 + self.variables.len() + self.operation.as_ref().map_or(0, String::len)) as u64
    }
}

/// `extensions.persistedQuery.sha256Hash` as 32 bytes, when it is 64 hex digits.
fn persisted_digest(value: &ConstValue) -> Option<[u8; 32]> {
    let ConstValue::Object(fields) = value else {
        return None;
    };
    let Some(ConstValue::String(hex)) = fields.get("sha256Hash") else {
        return None;
    };
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex, &mut digest).ok()?;
    Some(digest)
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn request(query: &str, variables: serde_json::Value) -> Request {
        Request::new(query).variables(async_graphql::Variables::from_json(variables))
    }

    #[test]
    fn variables_in_any_order_give_one_key() {
        let a = request(
            "query($a: Int, $b: Int) { x }",
            serde_json::json!({ "a": 1, "b": { "y": 2, "x": [1, "z"] } }),
        );
        let b = request(
            "query($a: Int, $b: Int) { x }",
            serde_json::json!({ "b": { "x": [1, "z"], "y": 2 }, "a": 1 }),
        );
        assert_eq!(Key::of(&a, 0), Key::of(&b, 0));
        assert_ne!(
            Key::of(&a, 0),
            Key::of(&a, 1),
            "the media type is part of it"
        );
        let c = request(
            "query($a: Int, $b: Int) { x }",
            serde_json::json!({ "a": 2, "b": { "x": [1, "z"], "y": 2 } }),
        );
        assert_ne!(Key::of(&a, 0), Key::of(&c, 0));
    }

    #[test]
    fn a_persisted_hash_and_its_text_share_a_key_and_a_wrong_hash_has_none() {
        let text = "{ cities { totalCount } }";
        let hex = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        let mut by_hash = Request::new("");
        by_hash.extensions.insert(
            "persistedQuery".into(),
            ConstValue::from_json(serde_json::json!({ "version": 1, "sha256Hash": hex }))
                .unwrap_or_default(),
        );
        let by_text = Request::new(text);
        assert_eq!(Key::of(&by_hash, 0), Key::of(&by_text, 0));
        assert!(Key::of(&by_hash, 0).is_some());
        let mut wrong = Request::new("{ cities { nodes { code } } }");
        wrong.extensions = by_hash.extensions.clone();
        assert_eq!(Key::of(&wrong, 0), None);
    }
}
