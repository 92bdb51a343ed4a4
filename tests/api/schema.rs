//! The checked-in contract matches the binary.

use std::process::Command;

#[test]
fn schema_graphql_matches_what_the_binary_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_coverage-api"))
        .arg("schema")
        .output()
        .expect("run coverage-api schema");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
            .expect("read schema.graphql");
    assert!(
        printed == checked_in,
        "schema.graphql is stale: regenerate it with `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let app = crate::helpers::TestApp::spawn_empty().await;
    let response = app
        .query(
            "{ __schema { types { name description \
               fields { name description args { name description } } \
               inputFields { name description } enumValues { name description } } } }",
        )
        .await;
    let builtin = ["Int", "Float", "String", "Boolean", "ID"];
    let described = |v: &serde_json::Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for t in response["data"]["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(t) {
            missing.push(name.to_owned());
        }
        for kind in ["fields", "inputFields", "enumValues"] {
            for item in t[kind].as_array().into_iter().flatten() {
                if !described(item) {
                    missing.push(format!("{name}.{}", item["name"]));
                }
                for arg in item["args"].as_array().into_iter().flatten() {
                    if !described(arg) {
                        missing.push(format!("{name}.{}({})", item["name"], arg["name"]));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "without a description: {missing:#?}");
}
