//! The DataLoader budget: the dashboard query costs the same few statements whatever the number
//! of cities.

use crate::helpers::TestApp;

/// All cities (a page of up to 100) with their latest coverage and their programmes.
pub const DASHBOARD: &str = "{ cities(first: 100) { totalCount nodes { code name nameEn kind \
    coverage { branchType period branchCount eligibleCount newBranches coverageRate rateIsStated \
    rateScope source updatedAt } pilotPrograms { code name } } } }";

async fn dashboard_statements(app: &TestApp) -> (u64, usize) {
    let (statements, response) = app.statements_during(app.query(DASHBOARD)).await;
    assert!(response.get("errors").is_none(), "{response}");
    let nodes = response["data"]["cities"]["nodes"].as_array().unwrap();
    (statements, nodes.len())
}

#[tokio::test]
async fn the_dashboard_query_takes_at_most_four_statements_at_18_cities() {
    let app = TestApp::spawn().await;
    let (statements, cities) = dashboard_statements(&app).await;
    assert_eq!(cities, 18);
    assert!(statements <= 4, "{statements} statements");
}

#[tokio::test]
async fn the_dashboard_query_takes_at_most_four_statements_at_1800_cities() {
    let app = TestApp::spawn_synthetic(1800, 2).await;
    let (statements, cities) = dashboard_statements(&app).await;
    assert_eq!(cities, 100);
    assert!(statements <= 4, "{statements} statements");
    // Every city of the page got its three records: the batch really covered all of them.
    let response = app.query("{ cities(first: 100) { nodes { coverage { period } } } }").await;
    for node in response["data"]["cities"]["nodes"].as_array().unwrap() {
        assert_eq!(node["coverage"].as_array().unwrap().len(), 3);
    }
}

#[tokio::test]
async fn nested_programme_members_and_their_coverage_are_batched_too() {
    // About 50 members per programme: a realistic size for an unpaged list.
    let app = TestApp::spawn_synthetic(200, 2).await;
    let query = "{ pilotPrograms { code cities { code coverage { coverageRate city { code } } history { period } } } }";
    let (statements, response) = app.statements_during(app.query(query)).await;
    assert!(response.get("errors").is_none(), "{response}");
    // programmes, members, coverage, history, the cities of the coverage records: one each.
    assert!(statements <= 5, "{statements} statements");
}
