//! A GraphQL request in a GET query string, read as the GraphQL over HTTP specification names
//! its parameters: `query`, `operationName`, and `variables` and `extensions` as JSON.
//! (async-graphql's `parse_query_string` looks for `operation_name`, so a GET that named its
//! operation ran none.)

use async_graphql::{Request, Variables};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    query: String,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// The request in `query_string`, or why it is not one.
pub(super) fn request(query_string: &str) -> Result<Request, String> {
    let params: Params = serde_urlencoded::from_str(query_string).map_err(|e| e.to_string())?;
    let variables: Variables = params
        .variables
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| format!("invalid variables: {e}"))?
        .unwrap_or_default();
    let extensions = params
        .extensions
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| format!("invalid extensions: {e}"))?
        .unwrap_or_default();
    let mut request = Request::new(params.query).variables(variables);
    request.operation_name = params.operation_name;
    request.extensions = extensions;
    Ok(request)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[test]
    fn the_operation_is_named_as_the_specification_says() {
        let request =
            super::request("query=query%20A%7Ba%7D&operationName=A&variables=%7B%22x%22%3A1%7D")
                .unwrap();
        assert_eq!(request.query, "query A{a}");
        assert_eq!(request.operation_name.as_deref(), Some("A"));
        assert_eq!(request.variables.to_string(), "{x: 1}");
        assert!(super::request("variables=%5B").is_err());
    }
}
