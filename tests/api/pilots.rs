//! `pilotPrograms`: the programmes, their stated sizes and their named members.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn pilot_programs_are_the_reports_with_their_named_members() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ pilotPrograms { code name nameEn level statedSize cities { code name } } }")
        .await;
    assert_eq!(
        response,
        json!({ "data": { "pilotPrograms": [
            { "code": "HUISHI_HEZUO", "name": "“会市合作”战略合作协议",
              "nameEn": "Association–city cooperation agreements", "level": "PROVINCIAL",
              "statedSize": 7, "cities": [{ "code": "410400", "name": "平顶山" }] },
            { "code": "INNOVATION_DEMO", "name": "全国创新驱动示范市",
              "nameEn": "National innovation-driven demonstration cities", "level": "NATIONAL",
              "statedSize": null,
              "cities": [{ "code": "410600", "name": "鹤壁" }, { "code": "410900", "name": "濮阳" }] },
            { "code": "KECHUANG_PILOT", "name": "“科创中原”试点城市",
              "nameEn": "Kechuang Zhongyuan pilot cities", "level": "PROVINCIAL", "statedSize": 3,
              "cities": [
                  { "code": "410700", "name": "新乡" },
                  { "code": "410800", "name": "焦作" },
                  { "code": "411100", "name": "漯河" }
              ] },
            { "code": "QUANYU_KEPU", "name": "全域科普试点",
              "nameEn": "All-area science popularisation pilots", "level": "PROVINCIAL",
              "statedSize": 7, "cities": [] }
        ] } })
    );
}

#[tokio::test]
async fn every_programme_and_designation_names_its_source() {
    let app = TestApp::spawn().await;
    let response = app
        .query("{ pilotPrograms { source } cities(first: 100) { nodes { pilotDesignations { source } } } }")
        .await;
    for program in response["data"]["pilotPrograms"].as_array().unwrap() {
        assert!(
            program["source"]
                .as_str()
                .unwrap()
                .starts_with("河南省科协九届七次全委会议工作报告")
        );
    }
    let designations: Vec<_> = response["data"]["cities"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["pilotDesignations"].as_array().unwrap().clone())
        .collect();
    assert_eq!(designations.len(), 6);
    for d in designations {
        assert!(
            d["source"]
                .as_str()
                .unwrap()
                .starts_with("河南省科协九届七次全委会议工作报告")
        );
    }
}

const SET_PROGRAM: &str =
    "mutation($input: SetPilotProgramInput!) { setPilotProgram(input: $input) {
    program { code name nameEn level statedSize source version }
    revision { kind recordKey before after actor { name } }
    userErrors { field code messageZh } } }";

#[tokio::test]
async fn an_administrator_creates_and_changes_a_programme_on_its_version_and_the_trail_keeps_both()
{
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let staff = crate::helpers::token(
        &app,
        "Jiaozuo office",
        entity::Role::CityStaff,
        Some("410800"),
    )
    .await;
    let set = |token: &str, input: serde_json::Value| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.query_as(Some(&token), SET_PROGRAM, json!({ "input": input }))
                .await
        }
    };
    let new = json!({ "code": "KEPU_2025", "name": "科普示范县（2025）", "nameEn": "Science popularisation counties (2025)",
        "level": "NATIONAL", "statedSize": 4, "source": "中国科协〔2025〕5号" });
    // City staff may not; nothing is written.
    let refused = set(&staff, new.clone()).await;
    assert_eq!(crate::helpers::error_codes(&refused), [json!("FORBIDDEN")]);
    // A new programme needs its names and level, and a source for its facts.
    let missing = set(
        &admin,
        json!({ "code": "KEPU_2025", "name": "科普示范县（2025）", "source": "x" }),
    )
    .await;
    assert_eq!(
        missing["data"]["setPilotProgram"]["userErrors"],
        json!([
            { "field": ["input", "nameEn"], "code": "BAD_USER_INPUT", "messageZh": "新建试点须填写中英文名称和级别" },
            { "field": ["input", "level"], "code": "BAD_USER_INPUT", "messageZh": "新建试点须填写中英文名称和级别" },
        ])
    );
    // Read once before (an anonymous read the response cache keeps), to be read again after.
    let programs = "{ pilotPrograms { code version } }";
    let before = app.query(programs).await;
    assert_eq!(
        before["data"]["pilotPrograms"].as_array().map(Vec::len),
        Some(4)
    );
    let created = set(&admin, new).await;
    assert_eq!(
        created["data"]["setPilotProgram"],
        json!({
            "program": { "code": "KEPU_2025", "name": "科普示范县（2025）",
                "nameEn": "Science popularisation counties (2025)", "level": "NATIONAL",
                "statedSize": 4, "source": "中国科协〔2025〕5号", "version": 1 },
            "revision": { "kind": "PILOT_PROGRAM", "recordKey": "KEPU_2025", "before": null,
                "after": { "code": "KEPU_2025", "name": "科普示范县（2025）",
                    "nameEn": "Science popularisation counties (2025)", "level": "NATIONAL",
                    "statedSize": 4, "source": "中国科协〔2025〕5号", "version": 1 },
                "actor": { "name": "Province admin" } },
            "userErrors": []
        })
    );
    // A change sent without the version read is a conflict showing the stored programme.
    let stale = set(
        &admin,
        json!({ "code": "KEPU_2025", "statedSize": 5, "source": "中国科协〔2025〕9号" }),
    )
    .await;
    assert_eq!(
        stale["data"]["setPilotProgram"]["userErrors"][0]["code"],
        "VERSION_CONFLICT"
    );
    assert_eq!(stale["data"]["setPilotProgram"]["program"]["version"], 1);
    let changed = set(
        &admin,
        json!({ "code": "KEPU_2025", "statedSize": 5, "source": "中国科协〔2025〕9号", "expectedVersion": 1 }),
    )
    .await;
    let payload = &changed["data"]["setPilotProgram"];
    assert_eq!(payload["userErrors"], json!([]), "{changed}");
    assert_eq!(
        (
            &payload["program"]["statedSize"],
            &payload["program"]["version"]
        ),
        (&json!(5), &json!(2))
    );
    assert_eq!(payload["revision"]["before"]["statedSize"], 4);
    // Everyone reads it (the cached answer is gone), and a city is designated in it like in any other.
    let read = app.query(programs).await;
    assert!(
        read["data"]["pilotPrograms"]
            .as_array()
            .unwrap()
            .contains(&json!({ "code": "KEPU_2025", "version": 2 })),
        "{read}"
    );
    let designated = app
        .query_as(
            Some(&admin),
            "mutation { setPilotDesignation(input: { cityCode: \"410800\", programCode: \"KEPU_2025\",
                sinceYear: 2025, source: \"中国科协〔2025〕5号\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        designated["data"]["setPilotDesignation"]["userErrors"],
        json!([])
    );
    let trail = app
        .query_as(
            Some(&admin),
            "{ revisions(first: 5) { nodes { kind recordKey } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        trail["data"]["revisions"]["nodes"],
        json!([
            { "kind": "PILOT_DESIGNATION", "recordKey": "410800/KEPU_2025" },
            { "kind": "PILOT_PROGRAM", "recordKey": "KEPU_2025" },
            { "kind": "PILOT_PROGRAM", "recordKey": "KEPU_2025" },
        ])
    );
}
