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
              "note": "enterprise branches at all levels, more than 300 more than in 2022 (各级企业科协，较 2022 年新增 300 多家)" } },
            { "branchType": "UNIVERSITY", "provinceReport": { "total": null,
              "note": "no total stated: more than 50 university, medical and research-institute branches established in 2023, public undergraduate universities in the province basically all covered (未给出总数：全年建立高校、医疗卫生机构和科研院所科协 50 余个，基本实现公立省内本科院校科协组织全覆盖)" } },
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
    // Written beside the server: say so (see `TestApp::insert_coverage`).
    app.events.changed();
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

/// The sums the summary reads (`coverage_sums`) are kept by triggers on `public_records` (the
/// published figures); whatever changes the records (the API, several cities' records in one
/// write, an operator's UPDATE, DELETE or INSERT), they equal the sums of the records
/// themselves, and so does the summary.
#[tokio::test]
async fn the_kept_sums_equal_the_records_after_every_kind_of_change() {
    use sea_orm::{ConnectionTrait, Statement};
    // The database's path: its summary reads the kept sums (the memory counts its own).
    let app = TestApp::spawn_synthetic_with(40, 3, crate::helpers::database_reads()).await;
    let token = app.admin_token().await;
    let bulk = app
        .query_as(
            Some(&token),
            "mutation { bulkUpdateCoverage(input: [\
             { cityCode: \"900001\", branchType: ENTERPRISE, period: 2023, branchCount: 7, eligibleCount: 9, newBranches: null, source: \"test\", expectedVersion: 1 },\
             { cityCode: \"900002\", branchType: UNIVERSITY, period: 2023, branchCount: null, eligibleCount: null, statedRate: 0.5, source: \"test\", expectedVersion: 1 },\
             { cityCode: \"900003\", branchType: TOWNSHIP, period: 2022, eligibleCount: 10000, source: \"test\", expectedVersion: 1 }]) \
             { coverage { version } userErrors { message } } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(
        bulk["data"]["bulkUpdateCoverage"],
        serde_json::json!({ "coverage": [{ "version": 2 }, { "version": 2 }, { "version": 2 }], "userErrors": [] }),
        "{bulk}"
    );
    for sql in [
        "UPDATE public_records SET eligible_count = NULL WHERE city_code = '900004'",
        "UPDATE public_records SET new_branches = 3 WHERE city_code = '900005' AND new_branches IS NULL",
        "UPDATE public_records SET source = 'only the source' WHERE city_code = '900006'",
        "DELETE FROM public_records WHERE city_code = '900007'",
        "DELETE FROM public_records WHERE period = 2021 AND branch_type = 'UNIVERSITY'",
        // Public records carry the ids of the working records they were published from.
        "INSERT INTO public_records (id, city_code, branch_type, period, branch_count, \
         eligible_count, new_branches, version, updated_at) VALUES (1000000, '900007', \
         'ENTERPRISE', 2024, 1, 2, 1, 1, '2026-12-03T00:00:00+00:00')",
    ] {
        app.db.conn.execute_unprepared(sql).await.unwrap();
    }
    let backend = app.db.backend();
    let rows = |sql: &str| {
        let statement = Statement::from_string(backend, sql.to_owned());
        let conn = &app.db.conn;
        async move {
            conn.query_all_raw(statement)
                .await
                .unwrap()
                .iter()
                .map(|row| {
                    let period: i32 = row.try_get_by_index(0).unwrap();
                    let branch_type: String = row.try_get_by_index(1).unwrap();
                    let sums: Vec<i64> = (2..8).map(|i| row.try_get_by_index(i).unwrap()).collect();
                    (period, branch_type, sums)
                })
                .collect::<Vec<_>>()
        }
    };
    let kept = rows(
        "SELECT period, branch_type, cities_with_data, cities_reporting, branch_count_sum, \
         eligible_count_sum, new_branches_cities, new_branches_sum FROM coverage_sums \
         WHERE cities_with_data > 0 ORDER BY period, branch_type",
    )
    .await;
    let both = "branch_count IS NOT NULL AND eligible_count IS NOT NULL";
    let summed = rows(&format!(
        "SELECT period, branch_type, COUNT(*), \
         CAST(SUM(CASE WHEN {both} THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN {both} THEN branch_count ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN {both} THEN eligible_count ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN new_branches IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(COALESCE(SUM(new_branches), 0) AS BIGINT) \
         FROM public_records GROUP BY period, branch_type ORDER BY period, branch_type"
    ))
    .await;
    assert_eq!(kept, summed);
    // 2021 to 2023 by three types, less 2021's universities, and 2024's one record.
    assert_eq!(summed.len(), 3 * 3 - 1 + 1);
    assert!(
        !summed
            .iter()
            .any(|(p, t, _)| *p == 2021 && t == "UNIVERSITY")
    );

    // The summary of 2022 reads the kept sums.
    let summary = app
        .query("{ summary(period: 2022) { byType { branchType citiesWithData citiesReporting branchCountSum eligibleCountSum newBranchesSum } } }")
        .await;
    for entry in summary["data"]["summary"]["byType"].as_array().unwrap() {
        let t = entry["branchType"].as_str().unwrap();
        let (_, _, s) = summed
            .iter()
            .find(|(p, bt, _)| *p == 2022 && bt == t)
            .unwrap();
        let reported = (s[1] > 0).then_some((s[2], s[3]));
        assert_eq!(
            entry,
            &serde_json::json!({
                "branchType": t,
                "citiesWithData": s[0],
                "citiesReporting": s[1],
                "branchCountSum": reported.map(|r| r.0),
                "eligibleCountSum": reported.map(|r| r.1),
                "newBranchesSum": (s[4] > 0).then_some(s[5]),
            })
        );
    }
}

/// Two bulk writes that reach two branch types in opposite orders, at the same time, round after
/// round. The triggers that keep `coverage_sums` lock a (period, type) row as a write reaches
/// it; without the batch taking those locks in one order first, PostgreSQL would end one of the
/// two with a deadlock error. Both are written every round.
#[tokio::test]
async fn bulk_writes_reaching_types_in_opposite_orders_both_succeed() {
    let app = TestApp::spawn_synthetic(4, 2).await;
    let token = app.admin_token().await;
    let bulk = "mutation($input: [UpdateCoverageInput!]!) { bulkUpdateCoverage(input: $input) \
        { coverage { version } userErrors { message } } }";
    let row = |city: &str, branch_type: &str, branches: i32, version: i32| {
        json!({ "cityCode": city, "branchType": branch_type, "period": 2023,
                "branchCount": branches, "eligibleCount": 1000, "statedRate": null, "source": "test",
                "expectedVersion": version })
    };
    for round in 0..12 {
        let version = round + 1;
        let one = json!({ "input": [row("900001", "ENTERPRISE", round, version),
                                    row("900001", "UNIVERSITY", round, version)] });
        let two = json!({ "input": [row("900002", "UNIVERSITY", round, version),
                                    row("900002", "ENTERPRISE", round, version)] });
        let (one, two) = tokio::join!(
            app.query_as(Some(&token), bulk, one),
            app.query_as(Some(&token), bulk, two),
        );
        let written = json!({ "bulkUpdateCoverage": {
            "coverage": [{ "version": version + 1 }, { "version": version + 1 }],
            "userErrors": [] } });
        assert_eq!(one, json!({ "data": written }), "round {round}");
        assert_eq!(two, json!({ "data": written }), "round {round}");
    }
}

/// The report's own figures of 2023, in the words an office would write, and nothing more.
#[tokio::test]
async fn the_paragraph_of_2023_says_what_the_report_states_in_both_languages() {
    let app = TestApp::spawn().await;
    let answer = app
        .query("{ summary(period: 2023) { paragraph { zh en } } }")
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "summary": { "paragraph": {
            "zh": "各市均未报送企业科协组织数和应建单位数，全省覆盖率无法计算；\
                   省科协统计全省企业科协共927个；焦作新建企业科协193个；\
                   濮阳高新技术企业科协覆盖率达95%。\
                   各市尚未报送高校科协数据。\
                   各市均未报送乡镇（街道）科协组织数和应建单位数，全省覆盖率无法计算；\
                   平顶山、三门峡2个市实现乡镇（街道）科协全覆盖；信阳乡镇（街道）科协覆盖率达99%。",
            "en": "No city reported both enterprise branches counts, so the province's coverage \
                   cannot be computed; the province reports 927 enterprise branches in all; \
                   Jiaozuo established 193 new enterprise branches; Puyang stated 95% coverage of \
                   high-tech enterprises. No city has reported university branches figures for \
                   2023. No city reported both township branches counts, so the province's \
                   coverage cannot be computed; Pingdingshan and Sanmenxia covered all township \
                   branches; Xinyang stated 99% coverage of townships and sub-districts."
        } } } })
    );
}

/// The paragraph of the earliest year an `Int` can name says there is nothing: no year before it
/// is reckoned (which would overflow).
#[tokio::test]
async fn the_paragraph_of_any_year_is_an_answer() {
    let app = TestApp::spawn().await;
    let answer = app
        .query("{ summary(period: -2147483648) { paragraph { zh } } }")
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "summary": { "paragraph": {
            "zh": "各市尚未报送企业科协数据。各市尚未报送高校科协数据。各市尚未报送乡镇（街道）科协数据。"
        } } } })
    );
}
