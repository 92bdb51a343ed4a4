//! `cities`: the list, its filters, orderings and pages.

use coverage_api::domain::encode_cursor;
use entity::BranchType;
use serde_json::json;

use crate::helpers::{CITIES, TestApp, codes, error_response};

fn all_codes() -> Vec<String> {
    CITIES.iter().map(|c| c.0.to_owned()).collect()
}

#[tokio::test]
async fn cities_lists_the_eighteen_cities_by_code_with_cursors() {
    let app = TestApp::spawn().await;
    let response = app
        .query(
            "{ cities(first: 100) { totalCount \
               edges { cursor node { code name nameEn kind } } \
               pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        )
        .await;
    let edges: Vec<_> = CITIES
        .iter()
        .enumerate()
        .map(|(i, (code, name, name_en, kind))| {
            json!({
                "cursor": encode_cursor(i as u64),
                "node": { "code": code, "name": name, "nameEn": name_en, "kind": kind }
            })
        })
        .collect();
    assert_eq!(
        response,
        json!({ "data": { "cities": {
            "totalCount": 18,
            "edges": edges,
            "pageInfo": {
                "hasNextPage": false,
                "hasPreviousPage": false,
                "startCursor": encode_cursor(0),
                "endCursor": encode_cursor(17)
            }
        }}})
    );
}

#[tokio::test]
async fn first_defaults_to_twenty_and_may_be_at_most_one_hundred() {
    let app = TestApp::spawn_synthetic(150, 1).await;
    let default = app
        .query("{ cities { totalCount nodes { code } pageInfo { hasNextPage } } }")
        .await;
    assert_eq!(codes(&default).len(), 20);
    assert_eq!(default["data"]["cities"]["totalCount"], 150);
    let full = app
        .query("{ cities(first: 100) { nodes { code } pageInfo { hasNextPage endCursor } } }")
        .await;
    assert_eq!(codes(&full).len(), 100);
    assert_eq!(
        full["data"]["cities"]["pageInfo"],
        json!({ "hasNextPage": true, "endCursor": encode_cursor(99) })
    );
    // Just over the cap: refused, naming the cap, rather than silently cut.
    for first in [101, 1000] {
        assert_eq!(
            app.query(&format!(
                "{{ cities(first: {first}) {{ nodes {{ code }} }} }}"
            ))
            .await,
            json!({ "data": null, "errors": [{
                "message": format!(
                    "`first` may be at most 100 (the page size cap), got {first}; page with `after`"
                ),
                "locations": [{ "line": 1, "column": 3 }], "path": ["cities"],
                "extensions": { "code": "BAD_USER_INPUT" } }] })
        );
    }
    assert_eq!(
        app.query("{ revisions(first: 101) { totalCount } }").await["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let response = app
            .query_with(
                "query($after: String) { cities(first: 5, after: $after) { \
                   nodes { code } pageInfo { hasNextPage hasPreviousPage endCursor } totalCount } }",
                json!({ "after": after }),
            )
            .await;
        let page = &response["data"]["cities"];
        assert_eq!(page["totalCount"], 18);
        assert_eq!(page["pageInfo"]["hasPreviousPage"], pages > 0);
        seen.extend(codes(&response));
        pages += 1;
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 4, "18 cities in pages of 5");
    assert_eq!(seen, all_codes());
}

#[tokio::test]
async fn first_zero_returns_no_cities_but_the_total() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ cities(first: 0) { totalCount nodes { code } pageInfo { hasNextPage startCursor endCursor } } }")
        .await;
    assert_eq!(
        response,
        json!({ "data": { "cities": {
            "totalCount": 18,
            "nodes": [],
            "pageInfo": { "hasNextPage": true, "startCursor": null, "endCursor": null }
        }}})
    );
}

#[tokio::test]
async fn after_the_last_cursor_the_page_is_empty() {
    let app = TestApp::spawn().await;
    let response = app
        .query_with(
            "query($after: String) { cities(after: $after) { totalCount nodes { code } \
               pageInfo { hasNextPage hasPreviousPage } } }",
            json!({ "after": encode_cursor(17) }),
        )
        .await;
    assert_eq!(
        response,
        json!({ "data": { "cities": {
            "totalCount": 18,
            "nodes": [],
            "pageInfo": { "hasNextPage": false, "hasPreviousPage": true }
        }}})
    );
}

#[tokio::test]
async fn a_cursor_that_is_not_ours_is_bad_user_input() {
    let app = TestApp::spawn().await;
    for bad in ["not-a-cursor", "b2Zmc2V0Oi0x", ""] {
        let response = app
            .query_with(
                "query($after: String) { cities(after: $after) { totalCount } }",
                json!({ "after": bad }),
            )
            .await;
        assert_eq!(
            response,
            error_response(
                &format!("`{bad}` is not a cursor of this API"),
                1,
                25,
                "cities",
                "BAD_USER_INPUT"
            ),
            "cursor {bad:?}"
        );
    }
}

#[tokio::test]
async fn a_negative_first_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let response = app.query("{ cities(first: -1) { totalCount } }").await;
    assert_eq!(
        response,
        error_response(
            "`first` must be zero or more, got -1",
            1,
            3,
            "cities",
            "BAD_USER_INPUT"
        )
    );
}

#[tokio::test]
async fn filter_by_programme_kind_and_both() {
    let app = TestApp::spawn().await;
    let by_program = app
        .query(r#"{ cities(filter: { programCode: "KECHUANG_PILOT" }) { totalCount nodes { code } } }"#)
        .await;
    assert_eq!(
        by_program,
        json!({ "data": { "cities": { "totalCount": 3,
            "nodes": [{ "code": "410700" }, { "code": "410800" }, { "code": "411100" }] } } })
    );
    let by_kind = app
        .query(
            "{ cities(filter: { kind: DEMONSTRATION_ZONE }) { totalCount nodes { code name } } }",
        )
        .await;
    assert_eq!(
        by_kind,
        json!({ "data": { "cities": { "totalCount": 1, "nodes": [{ "code": "419001", "name": "济源" }] } } })
    );
    let none = app
        .query(r#"{ cities(filter: { programCode: "INNOVATION_DEMO", kind: DEMONSTRATION_ZONE }) { totalCount nodes { code } } }"#)
        .await;
    assert_eq!(
        none,
        json!({ "data": { "cities": { "totalCount": 0, "nodes": [] } } })
    );
    let unknown = app
        .query(r#"{ cities(filter: { programCode: "NO_SUCH_PROGRAM" }) { totalCount nodes { code } } }"#)
        .await;
    assert_eq!(
        unknown,
        json!({ "data": { "cities": { "totalCount": 0, "nodes": [] } } })
    );
}

#[tokio::test]
async fn filter_by_minimum_coverage_uses_stated_and_computed_rates() {
    let app = TestApp::spawn().await;
    // Pingdingshan and Sanmenxia state 100 %, Xinyang 99 %.
    let full = app
        .query("{ cities(filter: { minCoverage: { branchType: TOWNSHIP, rate: 1.0 } }) { totalCount nodes { code } } }")
        .await;
    assert_eq!(
        full,
        json!({ "data": { "cities": { "totalCount": 2, "nodes": [{ "code": "410400" }, { "code": "411200" }] } } })
    );
    let high = app
        .query("{ cities(filter: { minCoverage: { branchType: TOWNSHIP, period: 2023, rate: 0.99 } }) { nodes { code } } }")
        .await;
    assert_eq!(codes(&high), ["410400", "411200", "411500"]);
    // A computed rate: 40 of 50 townships in Zhengzhou.
    app.insert_coverage(
        "410100",
        BranchType::Township,
        2023,
        Some(40),
        Some(50),
        None,
        None,
    )
    .await;
    let eighty = app
        .query("{ cities(filter: { minCoverage: { branchType: TOWNSHIP, rate: 0.8 } }) { nodes { code } } }")
        .await;
    assert_eq!(codes(&eighty), ["410100", "410400", "411200", "411500"]);
    let with_program = app
        .query(r#"{ cities(filter: { programCode: "HUISHI_HEZUO", minCoverage: { branchType: TOWNSHIP, rate: 0.5 } }) { nodes { code } } }"#)
        .await;
    assert_eq!(codes(&with_program), ["410400"]);
}

#[tokio::test]
async fn a_minimum_coverage_outside_zero_to_one_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ cities(filter: { minCoverage: { branchType: TOWNSHIP, rate: 1.5 } }) { totalCount } }")
        .await;
    assert_eq!(
        response,
        error_response(
            "minCoverage.rate must be between 0 and 1, got 1.5",
            1,
            3,
            "cities",
            "BAD_USER_INPUT"
        )
    );
}

#[tokio::test]
async fn order_by_name_is_pinyin_order_either_way() {
    let app = TestApp::spawn().await;
    let mut expected: Vec<(&str, &str)> = CITIES.iter().map(|c| (c.2, c.0)).collect();
    expected.sort();
    let asc: Vec<&str> = expected.iter().map(|e| e.1).collect();
    let response = app
        .query("{ cities(first: 100, orderBy: { field: NAME }) { nodes { code } } }")
        .await;
    assert_eq!(codes(&response), asc);
    let response = app
        .query(
            "{ cities(first: 100, orderBy: { field: NAME, direction: DESC }) { nodes { code } } }",
        )
        .await;
    let desc: Vec<&str> = asc.iter().rev().copied().collect();
    assert_eq!(codes(&response), desc);
}

#[tokio::test]
async fn order_by_code_descending() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ cities(first: 3, orderBy: { field: CODE, direction: DESC }) { nodes { code } } }")
        .await;
    assert_eq!(codes(&response), ["419001", "411700", "411600"]);
}

#[tokio::test]
async fn order_by_coverage_rate_puts_unknown_rates_last_in_both_directions() {
    let app = TestApp::spawn().await;
    let rest: Vec<String> = all_codes()
        .into_iter()
        .filter(|c| !["410400", "411200", "411500"].contains(&c.as_str()))
        .collect();
    let desc = app
        .query("{ cities(first: 100, orderBy: { field: COVERAGE_RATE, branchType: TOWNSHIP, direction: DESC }) { nodes { code } } }")
        .await;
    let mut expected = vec![
        "410400".to_owned(),
        "411200".to_owned(),
        "411500".to_owned(),
    ];
    expected.extend(rest.clone());
    assert_eq!(codes(&desc), expected, "ties by code, unknown last");
    let asc = app
        .query("{ cities(first: 100, orderBy: { field: COVERAGE_RATE, branchType: TOWNSHIP }) { nodes { code } } }")
        .await;
    let mut expected = vec![
        "411500".to_owned(),
        "410400".to_owned(),
        "411200".to_owned(),
    ];
    expected.extend(rest);
    assert_eq!(codes(&asc), expected);
}

#[tokio::test]
async fn order_by_branch_count_of_a_period_puts_unknown_counts_last() {
    let app = TestApp::spawn().await;
    app.insert_coverage(
        "410100",
        BranchType::Enterprise,
        2024,
        Some(120),
        Some(300),
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "410200",
        BranchType::Enterprise,
        2024,
        Some(15),
        Some(90),
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "410300",
        BranchType::Enterprise,
        2024,
        Some(80),
        None,
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "410500",
        BranchType::Enterprise,
        2024,
        None,
        Some(70),
        None,
        None,
    )
    .await;
    let desc = app
        .query("{ cities(first: 4, orderBy: { field: BRANCH_COUNT, branchType: ENTERPRISE, period: 2024, direction: DESC }) { nodes { code } } }")
        .await;
    assert_eq!(codes(&desc), ["410100", "410300", "410200", "410400"]);
    // 2024 is now the latest period, so leaving `period` out means 2024.
    let asc = app
        .query("{ cities(first: 4, orderBy: { field: BRANCH_COUNT, branchType: ENTERPRISE }) { nodes { code } } }")
        .await;
    assert_eq!(codes(&asc), ["410200", "410300", "410100", "410400"]);
}

#[tokio::test]
async fn ordering_by_a_figure_without_a_branch_type_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ cities(orderBy: { field: COVERAGE_RATE }) { totalCount } }")
        .await;
    assert_eq!(
        response,
        error_response(
            "ordering by BRANCH_COUNT or COVERAGE_RATE needs orderBy.branchType",
            1,
            3,
            "cities",
            "BAD_USER_INPUT"
        )
    );
}

#[tokio::test]
async fn a_sorted_filtered_page_carries_each_citys_own_records() {
    let app = TestApp::spawn().await;
    app.insert_coverage(
        "410400",
        BranchType::Enterprise,
        2023,
        Some(30),
        Some(60),
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "411500",
        BranchType::University,
        2023,
        Some(2),
        Some(4),
        None,
        None,
    )
    .await;
    let response = app
        .query(
            "{ cities(first: 2, after: \"b2Zmc2V0OjA\", \
               filter: { minCoverage: { branchType: TOWNSHIP, rate: 0.5 } }, \
               orderBy: { field: COVERAGE_RATE, branchType: TOWNSHIP, direction: ASC }) { \
               totalCount nodes { code coverage { branchType coverageRate } } } }",
        )
        .await;
    // Ascending rate: Xinyang (0.99), then Pingdingshan and Sanmenxia (1.0, by code); the cursor
    // skips Xinyang.
    assert_eq!(
        response,
        json!({ "data": { "cities": { "totalCount": 3, "nodes": [
            { "code": "410400", "coverage": [
                { "branchType": "ENTERPRISE", "coverageRate": 0.5 },
                { "branchType": "TOWNSHIP", "coverageRate": 1.0 }
            ] },
            { "code": "411200", "coverage": [{ "branchType": "TOWNSHIP", "coverageRate": 1.0 }] }
        ] } } })
    );
    let first = app
        .query("{ cities(first: 1, orderBy: { field: COVERAGE_RATE, branchType: TOWNSHIP }) { nodes { code coverage(branchType: UNIVERSITY) { coverageRate } } } }")
        .await;
    assert_eq!(
        first,
        json!({ "data": { "cities": { "nodes": [{ "code": "411500", "coverage": [{ "coverageRate": 0.5 }] }] } } })
    );
}
