//! Content negotiation for GraphQL over HTTP: which media type a response is written in, from
//! the request's `Accept` header, as the GraphQL over HTTP specification asks.
//!
//! - `application/graphql-response+json` when the client accepts it more than `application/json`
//!   (or as much, naming both); its status codes then tell request errors (400) from results.
//! - `application/json` (the legacy type: 200 with errors) when the client accepts it, `*/*` or
//!   `application/*` alone, or sends no `Accept` (or nothing readable in it).
//! - neither (`Accept: text/html` alone, or both refused with `q=0`): 406.
//!
//! `mediatype` parses the header's syntax (lists, parameters, quoted strings); the choice is
//! written here because no well-kept crate makes it as HTTP says (RFC 9110 §12.5.1): the most
//! specific range that matches a type gives that type its weight, `charset=utf-8` is the only
//! parameter our types satisfy, and parameters after `q` are extensions, not part of the range.

use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, HeaderValue};
use mediatype::{MediaType, MediaTypeList};

/// The media type a GraphQL response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: request errors are 4xx without `data`.
    GraphQLResponseJson,
    /// `application/json`: every well-formed request answers 200 (the legacy rules).
    Json,
}

impl Media {
    /// The `content-type` of a response in this media type.
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphQLResponseJson => "application/graphql-response+json",
            Self::Json => "application/json",
        })
    }

    /// `(type, subtype, suffix)`, as `mediatype` splits them.
    fn parts(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Self::GraphQLResponseJson => ("application", "graphql-response", Some("json")),
            Self::Json => ("application", "json", None),
        }
    }
}

/// The client accepts neither of our media types: answered 406.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAcceptable;

/// How well a client accepts one of our types: the specificity of the most specific range that
/// matched it (`*/*` 0, `application/*` 1, the type 2, plus one per parameter) and that range's
/// weight in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Match {
    specificity: u8,
    weight: u16,
}

/// The media type to answer a request with `headers` in.
pub fn negotiate(headers: &HeaderMap) -> Result<Media, NotAcceptable> {
    let mut readable = false;
    let mut graphql_response: Option<Match> = None;
    let mut json: Option<Match> = None;
    // Several Accept lines are one list (RFC 9110 §5.3); a line that is not visible ASCII is
    // ignored like a malformed range.
    let lines = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok());
    for line in lines {
        for range in MediaTypeList::new(line) {
            // A range that does not parse is ignored, as RFC 9110 lets a server do.
            let Some((range, weight)) = range.ok().and_then(|r| weighed(r)) else {
                continue;
            };
            readable = true;
            for (media, best) in [
                (Media::GraphQLResponseJson, &mut graphql_response),
                (Media::Json, &mut json),
            ] {
                let Some(specificity) = specificity(&range, media) else {
                    continue;
                };
                let better = best.is_none_or(|b| (specificity, weight) > (b.specificity, b.weight));
                if better {
                    *best = Some(Match {
                        specificity,
                        weight,
                    });
                }
            }
        }
    }
    if !readable {
        // No Accept, an empty one, or nothing in it we can read: the specification's default.
        return Ok(Media::Json);
    }
    let accepted = |m: Option<Match>| m.filter(|m| m.weight > 0);
    match (accepted(graphql_response), accepted(json)) {
        (None, None) => Err(NotAcceptable),
        (Some(_), None) => Ok(Media::GraphQLResponseJson),
        (None, Some(_)) => Ok(Media::Json),
        (Some(g), Some(j)) if g.weight != j.weight => Ok(if g.weight > j.weight {
            Media::GraphQLResponseJson
        } else {
            Media::Json
        }),
        // Equally welcome: the newer type when the client names it (`application/graphql-
        // response+json, application/json`), else the legacy one (`*/*`, `application/*`), as
        // the specification's watershed asks.
        (Some(g), Some(j)) if g.specificity >= 2 && g.specificity >= j.specificity => {
            Ok(Media::GraphQLResponseJson)
        }
        (Some(_), Some(_)) => Ok(Media::Json),
    }
}

/// The range without its weight and accept-extensions, and its weight in thousandths; `None`
/// when the weight is not a valid `qvalue` (`0` to `1` with at most three decimals).
fn weighed(range: MediaType<'_>) -> Option<(MediaType<'_>, u16)> {
    let Some(at) = range
        .params
        .iter()
        .position(|(name, _)| name.as_str().eq_ignore_ascii_case("q"))
    else {
        return Some((range, 1000));
    };
    let weight = qvalue(range.params[at].1.as_str())?;
    let mut range = range;
    // What follows `q` are accept-extensions, which say nothing about the media type.
    range.params.to_mut().truncate(at);
    Some((range, weight))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths (also
/// the weights of `Accept-Encoding`, read by the response cache).
pub(crate) fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// How specifically `range` names `media`, or `None` when it does not match it.
fn specificity(range: &MediaType<'_>, media: Media) -> Option<u8> {
    let (ty, subty, suffix) = media.parts();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let base = match (range.ty.as_str(), range.subty.as_str()) {
        ("*", "*") if range.suffix.is_none() => 0,
        (t, "*") if same(t, ty) && range.suffix.is_none() => 1,
        (t, s)
            if same(t, ty)
                && same(s, subty)
                && range
                    .suffix
                    .map(|x| x.as_str())
                    .map(str::to_ascii_lowercase)
                    == suffix.map(str::to_owned) =>
        {
            2
        }
        _ => return None,
    };
    let mut specificity: u8 = base;
    for (name, value) in range.params.iter() {
        // We always write UTF-8; a range asking for any other charset, or for a parameter
        // our types do not have, does not match them.
        let utf8 = name.as_str().eq_ignore_ascii_case("charset")
            && value.unquoted_str().eq_ignore_ascii_case("utf-8");
        if !utf8 {
            return None;
        }
        specificity = specificity.saturating_add(1);
    }
    Some(specificity)
}

/// A POST that a browser would send cross-site without a CORS preflight (an HTML form,
/// `text/plain`) must not run an operation: the body must be JSON, or the request must carry a
/// header no simple cross-site request can (`apollo-require-preflight`, `x-apollo-operation-name`).
/// Answered 415 otherwise, before anything is parsed.
pub(crate) fn may_run(headers: &HeaderMap) -> bool {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.eq_ignore_ascii_case("application/graphql-response+json")
        });
    json || headers.contains_key("apollo-require-preflight")
        || headers.contains_key("x-apollo-operation-name")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_accept(values: &[&'static str]) -> Result<Media, NotAcceptable> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT, HeaderValue::from_static(value));
        }
        negotiate(&headers)
    }

    fn accept(value: &'static str) -> Result<Media, NotAcceptable> {
        with_accept(&[value])
    }

    use Media::{GraphQLResponseJson as Gql, Json};

    #[test]
    fn no_accept_or_nothing_readable_in_it_means_json() {
        assert_eq!(with_accept(&[]), Ok(Json));
        assert_eq!(accept(""), Ok(Json));
        assert_eq!(accept(" , "), Ok(Json));
        assert_eq!(accept("garbage"), Ok(Json));
        assert_eq!(
            accept("application/json;q=2"),
            Ok(Json),
            "an invalid weight"
        );
    }

    #[test]
    fn wildcards_alone_mean_json() {
        assert_eq!(accept("*/*"), Ok(Json));
        assert_eq!(accept("application/*"), Ok(Json));
        assert_eq!(
            accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Ok(Json),
            "a browser's navigation"
        );
    }

    #[test]
    fn each_type_named_alone_is_chosen() {
        assert_eq!(accept("application/json"), Ok(Json));
        assert_eq!(accept("application/graphql-response+json"), Ok(Gql));
        assert_eq!(accept("Application/GraphQL-Response+JSON"), Ok(Gql));
    }

    #[test]
    fn the_higher_weight_wins() {
        assert_eq!(
            accept("application/graphql-response+json,application/json;q=0.9"),
            Ok(Gql)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Ok(Json)
        );
        assert_eq!(
            accept("application/json;q=0.1, */*;q=0.9"),
            Ok(Gql),
            "the wildcard gives graphql-response+json 0.9, json keeps its own 0.1"
        );
    }

    #[test]
    fn both_named_equally_prefer_graphql_response_json() {
        assert_eq!(
            accept("application/graphql-response+json, application/json"),
            Ok(Gql)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Ok(Gql)
        );
        assert_eq!(accept("application/graphql-response+json, */*"), Ok(Gql));
        assert_eq!(accept("application/json, */*"), Ok(Json));
    }

    #[test]
    fn a_charset_of_utf_8_matches_and_any_other_does_not() {
        assert_eq!(accept("application/json; charset=utf-8"), Ok(Json));
        assert_eq!(accept("application/json;charset=\"UTF-8\""), Ok(Json));
        assert_eq!(
            accept("application/graphql-response+json; charset=utf-8; q=1.0"),
            Ok(Gql)
        );
        assert_eq!(
            accept("application/json; charset=latin1"),
            Err(NotAcceptable)
        );
        assert_eq!(accept("application/json; version=2"), Err(NotAcceptable));
    }

    #[test]
    fn the_most_specific_range_gives_the_weight() {
        assert_eq!(
            accept("*/*, application/graphql-response+json;q=0"),
            Ok(Json),
            "refused by name, though the wildcard admits it"
        );
        assert_eq!(
            accept("application/json;charset=utf-8;q=0, application/json"),
            Err(NotAcceptable),
            "the range with a parameter is more specific"
        );
        assert_eq!(
            accept("application/json;q=0.5;level=1"),
            Ok(Json),
            "parameters after q are extensions"
        );
    }

    #[test]
    fn neither_type_accepted_is_not_acceptable() {
        assert_eq!(accept("text/html"), Err(NotAcceptable));
        assert_eq!(accept("application/xml, text/*"), Err(NotAcceptable));
        assert_eq!(accept("application/json;q=0"), Err(NotAcceptable));
        assert_eq!(accept("*/*;q=0"), Err(NotAcceptable));
        assert_eq!(accept("application/*+json"), Err(NotAcceptable));
    }

    #[test]
    fn spaces_around_separators_are_allowed() {
        assert_eq!(
            accept("application/graphql-response+json ; q=0.5 , application/json\t"),
            Ok(Json)
        );
        assert_eq!(accept("  application/graphql-response+json  "), Ok(Gql));
    }

    #[test]
    fn several_accept_lines_are_one_list() {
        assert_eq!(
            with_accept(&["text/html", "application/json;q=0.5"]),
            Ok(Json)
        );
    }

    #[test]
    fn qvalues_follow_the_grammar() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0.9"), Some(900));
        assert_eq!(qvalue("0.125"), Some(125));
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0."), Some(0));
        assert_eq!(qvalue("1.5"), None);
        assert_eq!(qvalue("0.1234"), None);
        assert_eq!(qvalue("-0"), None);
        assert_eq!(qvalue("2"), None);
        assert_eq!(qvalue(""), None);
    }
}
