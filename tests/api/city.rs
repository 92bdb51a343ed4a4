//! `city(code)`: figures, the null rules, history and programmes.

use entity::BranchType;
use serde_json::json;

use crate::helpers::TestApp;

const REPORT: &str = "河南省科协九届七次全委会议工作报告（2024-03-22）";

const COVERAGE_FIELDS: &str = "branchType period branchCount eligibleCount newBranches \
    coverageRate rateIsStated statedRate rateScope source version updatedBy";

#[tokio::test]
async fn jiaozuo_has_its_new_branches_and_nothing_invented() {
    let app = TestApp::spawn().await;
    let response = app
        .query(&format!(
            r#"{{ city(code: "410800") {{ code name nameEn kind coverage {{ {COVERAGE_FIELDS} }}
                 pilotPrograms {{ code }} pilotDesignations {{ program {{ code }} sinceYear source }} }} }}"#
        ))
        .await;
    assert_eq!(
        response,
        json!({ "data": { "city": {
            "code": "410800", "name": "焦作", "nameEn": "Jiaozuo", "kind": "PREFECTURE_CITY",
            "coverage": [{
                "branchType": "ENTERPRISE", "period": 2023,
                "branchCount": null, "eligibleCount": null, "newBranches": 193,
                "coverageRate": null, "rateIsStated": false, "statedRate": null, "rateScope": null,
                "source": format!("{REPORT}: “其中焦作市新成立企业科协 193 家”"),
                "version": 1, "updatedBy": "seed:report"
            }],
            "pilotPrograms": [{ "code": "KECHUANG_PILOT" }],
            "pilotDesignations": [{
                "program": { "code": "KECHUANG_PILOT" },
                "sinceYear": 2023,
                "source": format!("{REPORT}: “启动漯河、新乡、焦作 3 家省辖市“科创中原”试点城市建设”")
            }]
        }}})
    );
}

#[tokio::test]
async fn puyang_rate_is_stated_with_its_scope() {
    let app = TestApp::spawn().await;
    let response = app
        .query(&format!(r#"{{ city(code: "410900") {{ coverage {{ {COVERAGE_FIELDS} }} pilotPrograms {{ code }} }} }}"#))
        .await;
    assert_eq!(
        response,
        json!({ "data": { "city": {
            "coverage": [{
                "branchType": "ENTERPRISE", "period": 2023,
                "branchCount": null, "eligibleCount": null, "newBranches": null,
                "coverageRate": 0.95, "rateIsStated": true, "statedRate": 0.95,
                "rateScope": "high-tech enterprises (高新技术企业)",
                "source": format!("{REPORT}: “濮阳市高新技术企业科协覆盖率达到 95%”"),
                "version": 1, "updatedBy": "seed:report"
            }],
            "pilotPrograms": [{ "code": "INNOVATION_DEMO" }]
        }}})
    );
}

#[tokio::test]
async fn a_city_the_report_gives_no_figure_for_has_none() {
    let app = TestApp::spawn().await;
    let response = app
        .query(r#"{ city(code: "410100") { name coverage { period } history { period } pilotPrograms { code } } }"#)
        .await;
    assert_eq!(
        response,
        json!({ "data": { "city": { "name": "郑州", "coverage": [], "history": [], "pilotPrograms": [] } } })
    );
}

#[tokio::test]
async fn an_unknown_city_is_null() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.query(r#"{ city(code: "999999") { name } }"#).await,
        json!({ "data": { "city": null } })
    );
}

#[tokio::test]
async fn counts_win_over_a_stated_rate_and_zero_eligible_gives_no_rate() {
    let app = TestApp::spawn().await;
    app.insert_coverage(
        "410100",
        BranchType::Enterprise,
        2023,
        Some(3),
        Some(4),
        Some(1),
        Some(0.9),
    )
    .await;
    app.insert_coverage(
        "410100",
        BranchType::University,
        2023,
        Some(0),
        Some(0),
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "410100",
        BranchType::Township,
        2023,
        Some(7),
        None,
        None,
        None,
    )
    .await;
    let response = app
        .query(r#"{ city(code: "410100") { coverage { branchType branchCount eligibleCount coverageRate rateIsStated statedRate } } }"#)
        .await;
    assert_eq!(
        response,
        json!({ "data": { "city": { "coverage": [
            { "branchType": "ENTERPRISE", "branchCount": 3, "eligibleCount": 4, "coverageRate": 0.75, "rateIsStated": false, "statedRate": 0.9 },
            { "branchType": "UNIVERSITY", "branchCount": 0, "eligibleCount": 0, "coverageRate": null, "rateIsStated": false, "statedRate": null },
            { "branchType": "TOWNSHIP", "branchCount": 7, "eligibleCount": null, "coverageRate": null, "rateIsStated": false, "statedRate": null }
        ] } } })
    );
}

#[tokio::test]
async fn coverage_defaults_to_the_latest_period_and_history_is_oldest_first() {
    let app = TestApp::spawn().await;
    app.insert_coverage(
        "410800",
        BranchType::Enterprise,
        2022,
        Some(100),
        Some(400),
        None,
        None,
    )
    .await;
    app.insert_coverage(
        "410800",
        BranchType::Enterprise,
        2024,
        Some(310),
        Some(400),
        Some(17),
        None,
    )
    .await;
    app.insert_coverage(
        "410800",
        BranchType::Township,
        2022,
        Some(90),
        Some(100),
        None,
        None,
    )
    .await;
    let response = app
        .query(
            r#"{ city(code: "410800") {
                 latest: coverage { period branchType branchCount }
                 of2022: coverage(period: 2022) { period branchType branchCount }
                 townships2022: coverage(period: 2022, branchType: TOWNSHIP) { period branchType }
                 history { period branchType }
                 enterprises: history(branchType: ENTERPRISE) { period newBranches }
               } }"#,
        )
        .await;
    assert_eq!(
        response,
        json!({ "data": { "city": {
            "latest": [{ "period": 2024, "branchType": "ENTERPRISE", "branchCount": 310 }],
            "of2022": [
                { "period": 2022, "branchType": "ENTERPRISE", "branchCount": 100 },
                { "period": 2022, "branchType": "TOWNSHIP", "branchCount": 90 }
            ],
            "townships2022": [{ "period": 2022, "branchType": "TOWNSHIP" }],
            "history": [
                { "period": 2022, "branchType": "ENTERPRISE" },
                { "period": 2022, "branchType": "TOWNSHIP" },
                { "period": 2023, "branchType": "ENTERPRISE" },
                { "period": 2024, "branchType": "ENTERPRISE" }
            ],
            "enterprises": [
                { "period": 2022, "newBranches": null },
                { "period": 2023, "newBranches": 193 },
                { "period": 2024, "newBranches": 17 }
            ]
        }}})
    );
}

#[tokio::test]
async fn a_coverage_record_leads_back_to_its_city() {
    let app = TestApp::spawn().await;
    let response = app
        .query(r#"{ city(code: "411500") { coverage { branchType coverageRate city { code nameEn } } } }"#)
        .await;
    assert_eq!(
        response,
        json!({ "data": { "city": { "coverage": [
            { "branchType": "TOWNSHIP", "coverageRate": 0.99, "city": { "code": "411500", "nameEn": "Xinyang" } }
        ] } } })
    );
}

#[tokio::test]
async fn updated_at_is_an_rfc3339_timestamp() {
    let app = TestApp::spawn().await;
    let response = app
        .query(r#"{ city(code: "410800") { coverage { updatedAt } } }"#)
        .await;
    let at = response["data"]["city"]["coverage"][0]["updatedAt"]
        .as_str()
        .unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
}
