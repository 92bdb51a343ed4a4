//! The DataLoader budget: the dashboard query costs the same few statements whatever the number
//! of cities. These are the database's path (`database_reads`): with the published figures in
//! memory, the reads they answer cost none (`cold_reads`), but the database serves every read
//! while the memory is not current, and every mutation.

use crate::helpers::{TestApp, database_reads};

/// All cities (a page of up to 100) with their latest coverage and their programmes.
pub const DASHBOARD: &str = "{ cities(first: 100) { totalCount nodes { code name nameEn kind \
    coverage { branchType period branchCount eligibleCount newBranches coverageRate rateIsStated \
    rateScope source updatedAt } pilotPrograms { code name } } } }";

/// What the dashboard query costs: one statement, the page with its total, and each city's
/// coverage and programmes as JSON beside it (`service::cities::list`).
pub const DASHBOARD_STATEMENTS: u64 = 1;

async fn dashboard_statements(app: &TestApp) -> (u64, usize) {
    let (statements, response) = app.statements_during(app.query(DASHBOARD)).await;
    assert!(response.get("errors").is_none(), "{response}");
    let nodes = response["data"]["cities"]["nodes"].as_array().unwrap();
    (statements, nodes.len())
}

#[tokio::test]
async fn the_dashboard_query_takes_one_statement_at_18_cities() {
    let app = TestApp::spawn_with(database_reads()).await;
    let (statements, cities) = dashboard_statements(&app).await;
    assert_eq!(cities, 18);
    assert_eq!(statements, DASHBOARD_STATEMENTS);
}

#[tokio::test]
async fn the_dashboard_query_takes_one_statement_at_1800_cities() {
    let app = TestApp::spawn_synthetic_with(1800, 2, database_reads()).await;
    let (statements, cities) = dashboard_statements(&app).await;
    assert_eq!(cities, 100);
    assert_eq!(statements, DASHBOARD_STATEMENTS);
    // Every city of the page got its three records: the batch really covered all of them.
    let response = app
        .query("{ cities(first: 100) { nodes { coverage { period } } } }")
        .await;
    for node in response["data"]["cities"]["nodes"].as_array().unwrap() {
        assert_eq!(node["coverage"].as_array().unwrap().len(), 3);
    }
}

#[tokio::test]
async fn nested_programme_members_and_their_coverage_are_batched_too() {
    let _alone = crate::helpers::exclusive().await;
    // About 50 members per programme: a realistic size for an unpaged list.
    let app = TestApp::spawn_synthetic_with(200, 2, database_reads()).await;
    let query = "{ pilotPrograms { code cities { code coverage { coverageRate city { code } } history { period } } } }";
    // Five loaders (programmes, members, coverage, history, the records' cities) would be five
    // statements; unbatched, about 600. async-graphql batches by time window, and keys that
    // arrive from an earlier batch's results can straddle two windows, so allow each loader a
    // second batch. (The dashboard's keys all arrive in one poll and never split.) A machine
    // busy with other tests stretches the windows further, and load only ever adds statements:
    // the fewest over a few tries is what the batching achieves.
    let mut fewest = u64::MAX;
    for _ in 0..5 {
        let (statements, response) = app.statements_during(app.query(query)).await;
        assert!(response.get("errors").is_none(), "{response}");
        fewest = fewest.min(statements);
        if fewest <= 10 {
            break;
        }
    }
    assert!(fewest <= 10, "{fewest} statements at the fewest");
}

#[tokio::test]
async fn aliased_coverage_fields_with_different_arguments_each_get_their_own_figures() {
    let app = TestApp::spawn_synthetic_with(30, 3, database_reads()).await;
    let query = "{ cities(first: 2) { nodes { code \
        latest: coverage(branchType: TOWNSHIP) { period branchType } \
        older: coverage(period: 2021) { period } } \
        edges { node { code coverage(period: 2022, branchType: ENTERPRISE) { period branchType } } } } }";
    let (statements, response) = app.statements_during(app.query(query)).await;
    assert!(response.get("errors").is_none(), "{response}");
    // The page brings every distinct set of coverage arguments along in its one statement.
    assert_eq!(statements, 1);
    let city = |i: usize| {
        let code = format!("{}", 900_001 + i);
        serde_json::json!({
            "code": code,
            "latest": [{ "period": 2023, "branchType": "TOWNSHIP" }],
            "older": [{ "period": 2021 }, { "period": 2021 }, { "period": 2021 }]
        })
    };
    assert_eq!(
        response["data"]["cities"]["nodes"],
        serde_json::json!([city(0), city(1)])
    );
    for edge in response["data"]["cities"]["edges"].as_array().unwrap() {
        assert_eq!(
            edge["node"]["coverage"],
            serde_json::json!([{ "period": 2022, "branchType": "ENTERPRISE" }])
        );
    }
}

#[tokio::test]
async fn a_records_revisions_are_found_through_an_index_not_a_scan_of_the_history() {
    use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, TransactionTrait};
    let app = TestApp::spawn_with(database_reads()).await;
    let backend = app.db.backend();
    let keys = vec![
        "410800/ENTERPRISE/2023".to_owned(),
        "410900/TOWNSHIP/2023".to_owned(),
    ];
    let sql = coverage_api::service::revisions::of_coverage_records_query(&keys)
        .build(backend)
        .to_string();
    let txn = app.db.conn.begin().await.unwrap();
    let explain = match backend {
        DbBackend::Postgres => {
            // A small table is cheapest to scan; what matters is that the index can serve it.
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
            format!("EXPLAIN {sql}")
        }
        _ => format!("EXPLAIN QUERY PLAN {sql}"),
    };
    let plan: Vec<String> = txn
        .query_all_raw(sea_orm::Statement::from_string(backend, explain))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            row.try_get_by_index::<String>(row_text_column(backend))
                .unwrap_or_default()
        })
        .collect();
    assert!(
        plan.iter()
            .any(|line| line.contains(migration::REVISIONS_BY_RECORD_INDEX)),
        "{plan:#?}"
    );
}

/// The column of an EXPLAIN row that holds the plan's text.
fn row_text_column(backend: sea_orm::DbBackend) -> usize {
    match backend {
        sea_orm::DbBackend::Postgres => 0,
        // SQLite: id, parent, notused, detail.
        _ => 3,
    }
}

/// The page's one statement carries each city's coverage and programmes as JSON (see
/// `service::cities::list`); `city(code)` reads them through the loaders, which batch its
/// children into the same statement over the cities they were asked for
/// (`service::cities::with_children`): every coverage field of the batch, whatever its
/// arguments, in one statement. Both must give every city the same answer, to the last bit of a
/// rate and the last character of a text that JSON has to escape, on both databases.
#[tokio::test]
async fn a_page_gives_each_city_the_children_its_own_query_gives() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_synthetic_with(40, 3, database_reads()).await;
    // Rates whose shortest decimal needs 16 or 17 digits, and texts that JSON escapes.
    for sql in [
        "UPDATE public_records SET branch_count = NULL, eligible_count = NULL, \
         stated_rate = 1.0 / 3, rate_scope = '引号 \"quoted\" \\ back\\slash' \
         WHERE city_code = '900002'",
        "UPDATE public_records SET branch_count = NULL, \
         stated_rate = CAST(0.1 AS DOUBLE PRECISION) + CAST(0.2 AS DOUBLE PRECISION), \
         source = 'line one\nline two\ttab 🎉' WHERE city_code = '900003'",
        "UPDATE pilot_designations SET source = 'a \"designation\" \\ note\n' \
         WHERE city_code IN (SELECT city_code FROM pilot_designations ORDER BY city_code LIMIT 3)",
    ] {
        app.db.conn.execute_unprepared(sql).await.unwrap();
    }
    let fields = "code coverage { id branchType period branchCount eligibleCount newBranches \
        coverageRate statedRate rateIsStated rateScope source version updatedAt updatedBy } \
        aliased: coverage(period: 2022, branchType: TOWNSHIP) { id coverageRate source } \
        pilotPrograms { code name nameEn level statedSize source } \
        pilotDesignations { sinceYear source version program { code } city { code } }";
    let page = app
        .query(&format!(
            "{{ cities(first: 100) {{ nodes {{ {fields} }} }} }}"
        ))
        .await;
    assert!(page.get("errors").is_none(), "{page}");
    let nodes = page["data"]["cities"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 40);
    let mut with_programmes = 0;
    for node in nodes {
        let code = node["code"].as_str().unwrap();
        let (statements, alone) = app
            .statements_during(app.query(&format!("{{ city(code: \"{code}\") {{ {fields} }} }}")))
            .await;
        assert_eq!(node, &alone["data"]["city"], "city {code}");
        // The city, its coverage (both fields, two sets of arguments), its programmes.
        assert!(statements <= 3, "city {code}: {statements} statements");
        with_programmes += usize::from(!node["pilotPrograms"].as_array().unwrap().is_empty());
    }
    assert!(with_programmes > 0, "the synthetic cities hold programmes");
    let rate = |code: &str| {
        nodes.iter().find(|n| n["code"] == code).unwrap()["coverage"][0]["coverageRate"].clone()
    };
    assert_eq!(rate("900002"), serde_json::json!(1.0 / 3.0));
    assert_eq!(rate("900003"), serde_json::json!(0.1 + 0.2));
}

/// The review page's one read (`web/assets/review.js`): the round, every city's return with its
/// draft, and a page of published figures beside them.
const REVIEW: &str = "query Review($period: Int!) {
  round(period: $period) {
    period status dueAt version expectedCities receivedCities lateCities publishedCities
    returns {
      city { code name nameEn } status submittedAt submittedBy late comment published version
      coverage { branchType branchCount eligibleCount newBranches statedRate rateScope source version }
    }
  }
  cities(first: 100) { nodes { code coverage(period: $period) { branchType branchCount eligibleCount
    newBranches statedRate rateScope source version } } }
}";

/// The statements of the review page's read as an administrator, and the returns it gave.
async fn review_statements(app: &TestApp) -> (u64, usize) {
    app.open_rounds(&[2030]).await;
    let admin = app.admin_token().await;
    let read = app.query_as(Some(&admin), REVIEW, serde_json::json!({ "period": 2030 }));
    let (statements, response) = app.statements_during(read).await;
    assert!(response.get("errors").is_none(), "{response}");
    let returns = response["data"]["round"]["returns"]
        .as_array()
        .map_or(0, Vec::len);
    (statements, returns)
}

#[tokio::test]
async fn the_review_page_reads_a_round_in_the_same_few_statements_at_18_or_1200_cities() {
    let small = TestApp::spawn_with(database_reads()).await;
    let (at_18, returns) = review_statements(&small).await;
    assert_eq!(returns, 18);
    let large = TestApp::spawn_synthetic_with(1200, 1, database_reads()).await;
    let (at_1200, returns) = review_statements(&large).await;
    assert_eq!(returns, 1200);
    assert_eq!(at_1200, at_18, "the statements do not grow with the cities");
    assert!(at_18 <= 8, "a few statements, not one per city: {at_18}");
}
