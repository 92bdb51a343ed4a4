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
