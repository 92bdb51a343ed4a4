//! Hostile documents, generated rather than hand-listed: every shape that makes a small request
//! cost a lot (deep literals, deep selections, fragment fan-out, fragment cycles, many aliases,
//! directives, arguments, variables, operations, long token streams), each at several sizes up
//! to the body limit and in combination, sent through every path (POST, GET, a batch, the
//! WebSocket, a persisted query's registration and its hash-only replay). Each is refused with a
//! code or answered, and the server answers a plain read after every one: a request that aborted
//! the process or wedged it would fail here. The costliest request's time is printed (run with
//! `--nocapture`); timings are for benchmarks, so nothing here asserts one.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, json_of};
use crate::validation::{PATHS, send};

/// The default body limit (`--body-limit`): the largest document any path accepts.
const BODY_LIMIT: usize = 256 * 1024;

/// One generated document: its shape, the size parameter, the text.
struct Case {
    shape: &'static str,
    n: usize,
    text: String,
}

fn repeat(unit: &str, n: usize) -> String {
    unit.repeat(n)
}

/// Fragment `F{i}` spreads `F{i+1}` `fan` times, `depth` deep: `fan^depth` selections expanded.
fn fan_out(fan: usize, depth: usize) -> String {
    let mut text = String::from("{ city(code: \"410100\") { ...F0 } }");
    for i in 0..depth {
        text.push_str(&format!(" fragment F{i} on City {{ code"));
        for _ in 0..fan {
            text.push_str(&format!(" ...F{}", i + 1));
        }
        text.push_str(" }");
    }
    text.push_str(&format!(" fragment F{depth} on City {{ code name }}"));
    text
}

/// A cycle through `len` fragments, each also fanning out to the next.
fn cycle(len: usize) -> String {
    let mut text = String::from("{ city(code: \"410100\") { ...C0 } }");
    for i in 0..len {
        let next = (i + 1) % len;
        text.push_str(&format!(
            " fragment C{i} on City {{ code ...C{next} ...C{next} }}"
        ));
    }
    text
}

/// Every shape at sizes from small to the body limit.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let sizes = |unit_bytes: usize| {
        let most = BODY_LIMIT / unit_bytes.max(1);
        [8, 70, 1_000, most.saturating_sub(64)]
    };
    for n in sizes(2) {
        cases.push(Case {
            shape: "deep list literal",
            n,
            text: format!(
                "{{ city(code: {}\"410100\"{}) {{ code }} }}",
                repeat("[", n),
                repeat("]", n)
            ),
        });
        cases.push(Case {
            shape: "deep object literal",
            n,
            text: format!(
                "{{ cities(filter: {}) {{ totalCount }} }}",
                repeat("{a:", n) + &repeat("}", n)
            ),
        });
        cases.push(Case {
            shape: "deep parentheses",
            n,
            text: format!("{{ periods{} }}", repeat("(", n)),
        });
    }
    for n in sizes(40) {
        cases.push(Case {
            shape: "deep selections",
            n,
            text: format!(
                "{{ city(code: \"410100\") {} code {} }}",
                repeat("{ pilotPrograms { cities ", n),
                repeat("} }", n)
            ),
        });
        cases.push(Case {
            shape: "deep inline fragments",
            n,
            text: format!(
                "{{ {} periods {} }}",
                repeat("... on Query { ", n),
                repeat("}", n)
            ),
        });
    }
    for (fan, depth) in [(2, 10), (2, 30), (2, 60), (10, 20), (100, 100)] {
        cases.push(Case {
            shape: "fragment fan-out",
            n: fan * 1000 + depth,
            text: fan_out(fan, depth),
        });
    }
    for n in [1, 2, 3, 50, 2_000] {
        cases.push(Case {
            shape: "fragment cycle",
            n,
            text: cycle(n),
        });
    }
    for n in sizes(12) {
        cases.push(Case {
            shape: "many aliases",
            n,
            text: format!(
                "{{ {} }}",
                (0..n)
                    .map(|i| format!("a{i}: periods "))
                    .collect::<String>()
            ),
        });
        cases.push(Case {
            shape: "many directives",
            n,
            text: format!("{{ periods {} }}", repeat("@skip(if: false) ", n)),
        });
        cases.push(Case {
            shape: "many unknown arguments",
            n,
            text: format!(
                "{{ periods({}) }}",
                (0..n).map(|i| format!("a{i}: 1 ")).collect::<String>()
            ),
        });
        cases.push(Case {
            shape: "many variables",
            n,
            text: format!(
                "query Q({}) {{ periods }}",
                (0..n).map(|i| format!("$v{i}: Int ")).collect::<String>()
            ),
        });
        cases.push(Case {
            shape: "many operations",
            n,
            text: (0..n)
                .map(|i| format!("query Q{i} {{ periods }} "))
                .collect(),
        });
        cases.push(Case {
            shape: "many unused fragments",
            n,
            text: format!(
                "{{ periods }} {}",
                (0..n)
                    .map(|i| format!("fragment U{i} on City {{ code }} "))
                    .collect::<String>()
            ),
        });
        cases.push(Case {
            shape: "many repeated input fields",
            n,
            text: format!(
                "{{ cities(filter: {{ {} }}) {{ totalCount }} }}",
                repeat("kind: PREFECTURE_CITY ", n)
            ),
        });
    }
    for n in sizes(8) {
        cases.push(Case {
            shape: "long token stream",
            n,
            text: format!("{{ {} }}", repeat("periods ", n)),
        });
        cases.push(Case {
            shape: "long string of escapes",
            n,
            text: format!(
                "{{ city(code: \"{}\") {{ code }} }}",
                repeat("\\u0041\\n", n / 2)
            ),
        });
    }
    // Combinations: a fan-out under deep selections, a cycle behind aliases, directives on a
    // fan-out, a deep literal inside a fragment.
    cases.push(Case {
        shape: "fan-out under deep selections",
        n: 40,
        text: fan_out(2, 40).replacen(
            "{ city(code: \"410100\") { ...F0 } }",
            &format!(
                "{{ city(code: \"410100\") {} ...F0 {} }}",
                repeat("{ pilotPrograms { cities ", 6),
                repeat("} }", 6)
            ),
            1,
        ),
    });
    cases.push(Case {
        shape: "cycle behind aliases",
        n: 30,
        text: format!(
            "{{ {} }} {}",
            (0..30)
                .map(|i| format!("a{i}: city(code: \"410100\") {{ ...C0 }} "))
                .collect::<String>(),
            &cycle(5)["{ city(code: \"410100\") { ...C0 } }".len()..]
        ),
    });
    cases.push(Case {
        shape: "directives on a fan-out",
        n: 30,
        text: fan_out(2, 30).replace(" ...F", " @include(if: true) ...F"),
    });
    cases.push(Case {
        shape: "deep literal in a fragment",
        n: 1_000,
        text: format!(
            "{{ city(code: \"410100\") {{ ...F }} }} fragment F on City {{ coverage(period: {}1{}) {{ period }} }}",
            repeat("[", 1_000),
            repeat("]", 1_000)
        ),
    });
    cases
}

/// Codes a refusal of a hostile document may carry.
const REFUSALS: &[&str] = &[
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "NESTING_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "TOO_MANY_ROOT_FIELDS",
    "TOO_MANY_DIRECTIVES",
    "TOO_MANY_ERRORS",
    "PAYLOAD_TOO_LARGE",
    "BAD_USER_INPUT",
];

/// Whether `response` is an answer, or a refusal with known codes only.
fn answered_or_refused(response: &Value) -> bool {
    match response["errors"].as_array() {
        None => response["data"].is_object(),
        Some(errors) => errors.iter().all(|e| {
            e["extensions"]["code"]
                .as_str()
                .is_some_and(|code| REFUSALS.contains(&code))
        }),
    }
}

/// Sends `text` by `path`, leaving out what the transport itself refuses before any parser sees
/// it (a body over the limit: 413; a WebSocket message over it: closed) and URLs longer than the
/// HTTP client can build (64 KiB).
async fn send_bounded(app: &TestApp, path: &str, text: &str) -> Option<Value> {
    let oversized = match path {
        "GET" => text.len() * 3 > 60_000,
        _ => text.len() + 200 > BODY_LIMIT,
    };
    if oversized {
        return None;
    }
    Some(send(app, path, text).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_hostile_document_takes_the_server_down_on_any_path() {
    let _alone = crate::helpers::exclusive().await;
    let app = TestApp::spawn().await;
    let cases = cases();
    let mut slowest = (Duration::ZERO, String::new());
    let mut sent = 0;
    let guard = tokio::time::timeout(Duration::from_secs(600), async {
        for case in &cases {
            for path in PATHS {
                let started = Instant::now();
                let Some(response) = send_bounded(&app, path, &case.text).await else {
                    continue;
                };
                let took = started.elapsed();
                sent += 1;
                if took > slowest.0 {
                    slowest = (took, format!("{} n={} via {path}", case.shape, case.n));
                }
                assert!(
                    answered_or_refused(&response),
                    "{} (n = {}, {} bytes) through {path}: {}",
                    case.shape,
                    case.n,
                    case.text.len(),
                    &response.to_string().chars().take(400).collect::<String>()
                );
                assert_eq!(
                    app.query("{ periods }").await,
                    json!({ "data": { "periods": [2023] } }),
                    "the server answers after {} through {path}",
                    case.shape
                );
            }
        }
    })
    .await;
    assert!(guard.is_ok(), "the suite hung (a request never finished)");
    eprintln!(
        "{} hostile requests over {} documents; slowest {:?}: {}",
        sent,
        cases.len(),
        slowest.0,
        slowest.1
    );
}

#[tokio::test]
async fn a_persisted_hostile_document_is_never_stored_and_its_hash_never_replays() {
    let app = TestApp::spawn().await;
    for text in [
        fan_out(2, 60),
        cycle(3),
        format!(
            "{{ periods(x: {}1{}) }}",
            repeat("[", 5_000),
            repeat("]", 5_000)
        ),
    ] {
        let response = send(&app, "persisted", &text).await;
        assert!(response["data"].is_null(), "{response}");
        // A GET of the hash alone, as a CDN would replay it: still unknown.
        let hash = crate::validation::sha256_hex(&text);
        let url = reqwest::Url::parse_with_params(
            &app.url("/graphql"),
            [(
                "extensions",
                json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string(),
            )],
        )
        .unwrap();
        let replay = json_of(app.client.get(url)).await;
        assert_eq!(
            replay,
            json!({ "data": null, "errors": [{ "message": "PersistedQueryNotFound",
                "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" } }] })
        );
    }
}

/// Twenty `nodes` fields of 100 ids each (the document limits allow it) make a DataLoader batch of
/// 2,000 keys. Looked up as one OR of 2,000 conditions, SQLite's parser overflowed the thread's
/// stack and aborted the server; the keys are now looked up 100 to a statement, and the answer
/// is whole.
#[tokio::test]
async fn two_thousand_ids_in_one_document_are_answered_and_stop_nothing() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let id = |raw: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let mut roots = Vec::new();
    for alias in 0..20 {
        let mut ids: Vec<String> = (0..100)
            .map(|i| {
                let n = alias * 100 + i;
                let city = ["410100", "410200", "410300", "410800"][n % 4];
                let branch = ["ENTERPRISE", "UNIVERSITY", "TOWNSHIP"][(n / 4) % 3];
                format!(
                    "\"{}\"",
                    id(format!("Coverage:{city}/{branch}/{}", 1900 + n / 12))
                )
            })
            .collect();
        if alias == 0 {
            // The report's Jiaozuo enterprise record, first.
            ids[0] = format!("\"{}\"", id("Coverage:410800/ENTERPRISE/2023".into()));
        }
        roots.push(format!(
            "a{alias}: nodes(ids: [{}]) {{ id }}",
            ids.join(",")
        ));
    }
    let known = id("Coverage:410800/ENTERPRISE/2023".into());
    let response = app.query(&format!("{{ {} }}", roots.join(" "))).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(response["data"]["a0"][0]["id"], known.as_str());
    assert_eq!(response["data"]["a19"].as_array().map(Vec::len), Some(100));
    // The server still answers.
    assert_eq!(
        app.query("{ periods }").await["data"]["periods"],
        json!([2023])
    );
}
