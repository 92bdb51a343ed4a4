//! `summary` and `periods`: the arithmetic, checked against figures worked out by hand.

use entity::BranchType;
use serde_json::json;

use crate::helpers::{TestApp, error_response};

const SUMMARY: &str = "summary { period byType { branchType citiesReporting citiesWithData \
    branchCountSum eligibleCountSum coverageRate newBranchesSum provinceReportedTotal \
    fullCoverageCities { code } } }";

#[tokio::test]
async fn the_report_period_summary_matches_domain_md() {
    let app = TestApp::spawn().await;
    let response = app.query(&format!("{{ {SUMMARY} periods }}")).await;
    // DOMAIN.md: no city gives both counts, so no rate can be computed; Jiaozuo's 193 new
    // enterprise branches; 927 enterprise branches reported by the province; Pingdingshan and
    // Sanmenxia at full township coverage, Xinyang at 99 %.
    assert_eq!(
        response,
        json!({ "data": {
            "summary": { "period": 2023, "byType": [
                { "branchType": "ENTERPRISE", "citiesReporting": 0, "citiesWithData": 2,
                  "branchCountSum": null, "eligibleCountSum": null, "coverageRate": null,
                  "newBranchesSum": 193, "provinceReportedTotal": 927, "fullCoverageCities": [] },
                { "branchType": "UNIVERSITY", "citiesReporting": 0, "citiesWithData": 0,
                  "branchCountSum": null, "eligibleCountSum": null, "coverageRate": null,
                  "newBranchesSum": null, "provinceReportedTotal": null, "fullCoverageCities": [] },
                { "branchType": "TOWNSHIP", "citiesReporting": 0, "citiesWithData": 3,
                  "branchCountSum": null, "eligibleCountSum": null, "coverageRate": null,
                  "newBranchesSum": null, "provinceReportedTotal": null,
                  "fullCoverageCities": [{ "code": "410400" }, { "code": "411200" }] }
            ] },
            "periods": [2023]
        } })
    );
}

#[tokio::test]
async fn the_province_report_keeps_its_words() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ summary(period: 2023) { byType { branchType provinceReport { total note } } } }")
        .await;
    assert_eq!(
        response,
        json!({ "data": { "summary": { "byType": [
            { "branchType": "ENTERPRISE", "provinceReport": { "total": 927,
              "note": "enterprise branches at all levels; more than 300 more than in 2022 (较 2022 年新增 300 多家)" } },
            { "branchType": "UNIVERSITY", "provinceReport": { "total": null,
              "note": "no total stated: more than 50 university, medical and research-institute branches newly established in 2023 (50 余个); public undergraduate universities basically all covered" } },
            { "branchType": "TOWNSHIP", "provinceReport": null }
        ] } } })
    );
}

#[tokio::test]
async fn the_rate_is_a_ratio_of_sums_over_cities_reporting_both_counts() {
    let app = TestApp::spawn().await;
    // Enterprise 2024: 1 of 10 and 199 of 200 → 200 / 210 (the average of rates would be 0.5475).
    // A city with no denominator and a city with only a stated rate stay out of the base.
    app.insert_coverage(
        "410100",
        BranchType::Enterprise,
        2024,
        Some(1),
        Some(10),
        Some(1),
        None,
    )
    .await;
    app.insert_coverage(
        "410200",
        BranchType::Enterprise,
        2024,
        Some(199),
        Some(200),
        Some(20),
        None,
    )
    .await;
    app.insert_coverage(
        "410300",
        BranchType::Enterprise,
        2024,
        Some(5),
        None,
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "410400",
        BranchType::Enterprise,
        2024,
        None,
        None,
        None,
        Some(0.9),
    )
    .await;
    // Township 2024: 50 of 50 is full coverage; 0 of 0 is no rate at all.
    app.insert_coverage(
        "410500",
        BranchType::Township,
        2024,
        Some(50),
        Some(50),
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "410600",
        BranchType::Township,
        2024,
        Some(0),
        Some(0),
        None,
        None,
    )
    .await;
    let response = app.query(&format!("{{ {SUMMARY} periods }}")).await;
    assert_eq!(
        response,
        json!({ "data": {
            "summary": { "period": 2024, "byType": [
                { "branchType": "ENTERPRISE", "citiesReporting": 2, "citiesWithData": 4,
                  "branchCountSum": 200, "eligibleCountSum": 210, "coverageRate": 200.0 / 210.0,
                  "newBranchesSum": 21, "provinceReportedTotal": null, "fullCoverageCities": [] },
                { "branchType": "UNIVERSITY", "citiesReporting": 0, "citiesWithData": 0,
                  "branchCountSum": null, "eligibleCountSum": null, "coverageRate": null,
                  "newBranchesSum": null, "provinceReportedTotal": null, "fullCoverageCities": [] },
                { "branchType": "TOWNSHIP", "citiesReporting": 2, "citiesWithData": 2,
                  "branchCountSum": 50, "eligibleCountSum": 50, "coverageRate": 1.0,
                  "newBranchesSum": null, "provinceReportedTotal": null,
                  "fullCoverageCities": [{ "code": "410500" }] }
            ] },
            "periods": [2023, 2024]
        } })
    );
}

#[tokio::test]
async fn a_period_without_data_has_every_type_empty() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ summary(period: 2010) { period byType { branchType citiesWithData coverageRate provinceReportedTotal } } }")
        .await;
    let empty = |t: &str| json!({ "branchType": t, "citiesWithData": 0, "coverageRate": null, "provinceReportedTotal": null });
    assert_eq!(
        response,
        json!({ "data": { "summary": { "period": 2010,
            "byType": [empty("ENTERPRISE"), empty("UNIVERSITY"), empty("TOWNSHIP")] } } })
    );
}

#[tokio::test]
async fn a_database_without_data_has_no_summary_and_no_periods() {
    let app = TestApp::spawn_empty().await;
    let response = app.query("{ summary { period } }").await;
    assert_eq!(
        response,
        error_response(
            "there is no data for any period yet",
            1,
            3,
            "summary",
            "NOT_FOUND"
        )
    );
    assert_eq!(
        app.query("{ periods }").await,
        json!({ "data": { "periods": [] } })
    );
}

#[tokio::test]
async fn a_province_total_for_a_new_year_does_not_empty_the_cities_default_view() {
    use sea_orm::{EntityTrait, Set};
    let app = TestApp::spawn().await;
    entity::province_total::Entity::insert(entity::province_total::ActiveModel {
        branch_type: Set(BranchType::Enterprise),
        period: Set(2024),
        total: Set(Some(1000)),
        note: Set(None),
        source: Set(Some("test".into())),
        updated_at: Set(coverage_api::domain::now()),
        version: Set(1),
    })
    .exec(&app.db.conn)
    .await
    .unwrap();
    let response = app
        .query(r#"{ periods summary { period } city(code: "411500") { coverage { period } } later: summary(period: 2024) { byType { provinceReportedTotal } } }"#)
        .await;
    assert_eq!(
        response,
        json!({ "data": {
            "periods": [2023, 2024],
            "summary": { "period": 2023 },
            "city": { "coverage": [{ "period": 2023 }] },
            "later": { "byType": [
                { "provinceReportedTotal": 1000 },
                { "provinceReportedTotal": null },
                { "provinceReportedTotal": null }
            ] }
        } })
    );
}
