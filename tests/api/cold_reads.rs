//! The published figures in memory (`service::memory`) answer exactly as the database does:
//! two servers on one database, one reading from memory and one from the database
//! (`database_reads`), asked every public read (the city list under every filter, order and
//! page; a city with its coverage, history and programmes; the summary of every period; the
//! periods; the refusals) over generated data and over the report's facts, after rounds of
//! random writes through the first server (figures, province totals, designations, drafts in an
//! open round and their publication). Every answer must be the same, whole; and the memory's
//! server must have answered them all without a statement.
//!
//! The writes are drawn from a fixed seed; `COLD_READS_SEED` picks another (a failure prints the
//! seed it ran with).

use coverage_api::config::ServeArgs;
use entity::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::{FreshDatabase, TestApp, database_reads, token};

const COVERAGE: &str = "id draft branchType period branchCount eligibleCount newBranches \
    coverageRate rateIsStated statedRate rateScope source version updatedAt updatedBy \
    city { code name }";

/// Everything a city shows, asked of every city a read returns.
fn city_fields(period: i32) -> String {
    format!(
        "id code name nameEn kind coverage {{ {COVERAGE} }} \
         older: coverage(period: {period}) {{ {COVERAGE} }} \
         township: coverage(branchType: TOWNSHIP) {{ id coverageRate }} \
         oneOfThem: coverage(period: {period}, branchType: UNIVERSITY) {{ id branchCount }} \
         history {{ {COVERAGE} }} enterprises: history(branchType: ENTERPRISE) {{ period branchCount }} \
         pilotPrograms {{ id code name nameEn level statedSize source version }} \
         pilotDesignations {{ id sinceYear source version program {{ code }} city {{ code }} }}"
    )
}

const SUMMARY: &str = "period byType { branchType citiesWithData citiesReporting branchCountSum \
    eligibleCountSum coverageRate newBranchesSum provinceReportedTotal \
    provinceReport { id branchType period total note source version } \
    fullCoverageCities { code name nameEn kind coverage { coverageRate } } }";

/// The list's filters, every kind alone and together.
fn filters(period: i32, program: &str) -> Vec<String> {
    vec![
        String::new(),
        "filter: { kind: DEMONSTRATION_ZONE }".into(),
        "filter: { kind: PREFECTURE_CITY }".into(),
        format!("filter: {{ programCode: \"{program}\" }}"),
        "filter: { minCoverage: { branchType: ENTERPRISE, rate: 0.5 } }".into(),
        "filter: { minCoverage: { branchType: TOWNSHIP, rate: 1 } }".into(),
        format!(
            "filter: {{ minCoverage: {{ branchType: UNIVERSITY, period: {period}, rate: 0 }} }}"
        ),
        format!(
            "filter: {{ kind: PREFECTURE_CITY, programCode: \"{program}\", \
             minCoverage: {{ branchType: ENTERPRISE, rate: 0.2 }} }}"
        ),
    ]
}

/// The list's orders: every field, both directions, the latest period and a given one.
fn orders(period: i32) -> Vec<String> {
    let mut orders = vec![String::new()];
    for direction in ["ASC", "DESC"] {
        for field in ["CODE", "NAME"] {
            orders.push(format!(
                "orderBy: {{ field: {field}, direction: {direction} }}"
            ));
        }
        for field in ["BRANCH_COUNT", "COVERAGE_RATE"] {
            for branch_type in ["ENTERPRISE", "TOWNSHIP"] {
                orders.push(format!(
                    "orderBy: {{ field: {field}, direction: {direction}, branchType: {branch_type} }}"
                ));
            }
            orders.push(format!(
                "orderBy: {{ field: {field}, direction: {direction}, branchType: UNIVERSITY, period: {period} }}"
            ));
        }
    }
    orders
}

fn page(arguments: &str, after: Option<&str>, period: i32) -> String {
    let after = after
        .map(|c| format!(", after: \"{c}\""))
        .unwrap_or_default();
    let comma = if arguments.is_empty() { "" } else { ", " };
    format!(
        "{{ cities({arguments}{comma}first: 5{after}) {{ totalCount \
         pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} \
         edges {{ cursor node {{ code }} }} nodes {{ {} }} }} }}",
        city_fields(period)
    )
}

/// Every public read, for data whose periods are `periods` and whose cities include `codes`.
fn reads(periods: &[i32], codes: &[&str], program: &str) -> Vec<String> {
    let older = periods.first().copied().unwrap_or(2020);
    let mut queries: Vec<String> = list_arguments(periods, program)
        .iter()
        .map(|a| page(a, None, older))
        .collect();
    // Refused alike: a rate out of range, an order by a figure without its type.
    queries.push(page(
        "filter: { minCoverage: { branchType: ENTERPRISE, rate: 1.5 } }",
        None,
        older,
    ));
    queries.push(page("orderBy: { field: COVERAGE_RATE }", None, older));
    for code in codes.iter().chain(&["999999"]) {
        queries.push(format!(
            "{{ city(code: \"{code}\") {{ {} }} }}",
            city_fields(older)
        ));
    }
    queries.push(format!("{{ summary {{ {SUMMARY} }} }}"));
    for period in periods.iter().chain(&[1999]) {
        queries.push(format!("{{ summary(period: {period}) {{ {SUMMARY} }} }}"));
    }
    queries.push("{ periods }".into());
    queries
}

/// The arguments of every list query, for the second pages.
fn list_arguments(periods: &[i32], program: &str) -> Vec<String> {
    let older = periods.first().copied().unwrap_or(2020);
    let mut all = Vec::new();
    for filter in filters(older, program) {
        for order in orders(older) {
            all.push(
                [filter.as_str(), order.as_str()]
                    .iter()
                    .filter(|a| !a.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
    }
    all
}

/// Asks both servers every read and requires the same answers, the memory's without a
/// statement; returns how many reads were compared.
async fn compare(
    memory: &TestApp,
    database: &TestApp,
    periods: &[i32],
    codes: &[&str],
    program: &str,
    seed: u64,
) -> usize {
    memory.until_memory_current().await;
    let mut queries = reads(periods, codes, program);
    // Second pages, after the cursor the database gave.
    let older = periods.first().copied().unwrap_or(2020);
    for arguments in list_arguments(periods, program).iter().step_by(3) {
        let first = database.query(&page(arguments, None, older)).await;
        if let Some(cursor) = first["data"]["cities"]["pageInfo"]["endCursor"].as_str() {
            queries.push(page(arguments, Some(cursor), older));
        }
    }
    let mut from_memory = Vec::with_capacity(queries.len());
    let (statements, ()) = memory
        .statements_during(async {
            for query in &queries {
                from_memory.push(memory.query(query).await);
            }
        })
        .await;
    assert!(
        memory.memory.current().is_some(),
        "seed {seed}: the memory went stale while read"
    );
    assert_eq!(
        statements, 0,
        "seed {seed}: the memory's server read the database"
    );
    for (query, answer) in queries.iter().zip(from_memory) {
        let expected = database.query(query).await;
        if answer != expected {
            panic!(
                "seed {seed}: {query}\nfirst difference: {}\nmemory: {answer}\ndatabase: {expected}",
                first_difference(&answer, &expected, "")
            );
        }
    }
    queries.len()
}

/// Where two answers first differ, as a path with both values there.
fn first_difference(a: &Value, b: &Value, path: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, value) in x {
                let there = y.get(key).unwrap_or(&Value::Null);
                if value != there {
                    return first_difference(value, there, &format!("{path}.{key}"));
                }
            }
            format!(
                "{path}: keys {:?} and {:?}",
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>()
            )
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if p != q {
                    return first_difference(p, q, &format!("{path}[{i}]"));
                }
            }
            path.to_owned()
        }
        _ => format!("{path}: {a} from memory, {b} from the database"),
    }
}

/// Sends `mutation` with `input`; on a version conflict sends it again with the stored version
/// (`version_at` finds it in the payload). Returns the payload.
async fn write(
    app: &TestApp,
    admin: &str,
    name: &str,
    input_type: &str,
    selection: &str,
    version_at: &str,
    mut input: Value,
) -> Value {
    for _ in 0..2 {
        let response = app
            .query_as(
                Some(admin),
                &format!("mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} userErrors {{ field code }} }} }}"),
                json!({ "input": input.clone() }),
            )
            .await;
        let payload = response["data"][name].clone();
        let errors = payload["userErrors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if errors.is_empty() {
            return payload;
        }
        assert_eq!(errors.len(), 1, "{name}: {response}");
        assert_eq!(errors[0]["code"], "VERSION_CONFLICT", "{name}: {response}");
        input["expectedVersion"] = payload[version_at]["version"].clone();
    }
    panic!("{name} conflicted twice");
}

/// One random write through `app` as the administrator.
async fn random_write(
    app: &TestApp,
    admin: &str,
    rng: &mut StdRng,
    codes: &[&str],
    periods: &[i32],
    programs: &[&str],
) {
    let city = codes[rng.random_range(0..codes.len())];
    let period = periods[rng.random_range(0..periods.len())];
    let branch_type = ["ENTERPRISE", "UNIVERSITY", "TOWNSHIP"][rng.random_range(0..3)];
    match rng.random_range(0..10) {
        0..=5 => {
            let eligible: i32 = rng.random_range(0..60);
            let (branches, eligible, stated) = match rng.random_range(0..6) {
                0 => (Some(eligible), Some(eligible), None),
                1 => (Some(0), Some(0), Some([0.5, 1.0][rng.random_range(0..2)])),
                2 => (None, None, Some([0.25, 0.875, 1.0][rng.random_range(0..3)])),
                3 => (None, Some(eligible), None),
                _ => (Some(rng.random_range(0..=eligible)), Some(eligible), None),
            };
            let new = rng.random_bool(0.5).then(|| rng.random_range(0..5));
            let input = json!({
                "cityCode": city, "branchType": branch_type, "period": period,
                "branchCount": branches, "eligibleCount": eligible, "newBranches": new,
                "statedRate": stated,
                "rateScope": stated.map(|_| "high-tech enterprises (高新技术企业)"),
                "source": "cold reads test",
            });
            write(
                app,
                admin,
                "updateCoverage",
                "UpdateCoverageInput",
                "coverage { version }",
                "coverage",
                input,
            )
            .await;
        }
        6 | 7 => {
            let total = rng.random_bool(0.8).then(|| rng.random_range(0..2000));
            let input = json!({
                "branchType": branch_type, "period": period, "total": total, "source": "cold reads test",
            });
            write(
                app,
                admin,
                "setProvinceReportedTotal",
                "SetProvinceReportedTotalInput",
                "provinceReport { version }",
                "provinceReport",
                input,
            )
            .await;
        }
        _ => {
            let program = programs[rng.random_range(0..programs.len())];
            let held = app
                .query(&format!("{{ city(code: \"{city}\") {{ pilotDesignations {{ version program {{ code }} }} }} }}"))
                .await;
            let version = held["data"]["city"]["pilotDesignations"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| d["program"]["code"] == program)
                .map(|d| d["version"].clone());
            match version {
                Some(version) => {
                    let input = json!({ "cityCode": city, "programCode": program, "expectedVersion": version });
                    write(
                        app,
                        admin,
                        "removePilotDesignation",
                        "RemovePilotDesignationInput",
                        "designation { version }",
                        "designation",
                        input,
                    )
                    .await;
                }
                None => {
                    let since = rng.random_bool(0.5).then_some(2020);
                    let input = json!({ "cityCode": city, "programCode": program, "sinceYear": since, "source": "cold reads test" });
                    write(
                        app,
                        admin,
                        "setPilotDesignation",
                        "SetPilotDesignationInput",
                        "designation { version }",
                        "designation",
                        input,
                    )
                    .await;
                }
            }
        }
    }
}

fn seed() -> u64 {
    std::env::var("COLD_READS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261207)
}

/// The two servers on one fresh database: (memory, database).
async fn servers(label: &str) -> (FreshDatabase, TestApp, TestApp) {
    let db = FreshDatabase::new(label).await;
    // No response cache on either: each answer is computed, from memory or from the database
    // (and the second server, on SQLite, hears nothing of the first one's writes).
    let memory = TestApp::spawn_on_url(
        &db.url,
        ServeArgs {
            response_cache_bytes: 0,
            ..ServeArgs::default()
        },
    )
    .await;
    let database = TestApp::spawn_on_url(
        &db.url,
        ServeArgs {
            response_cache_bytes: 0,
            ..database_reads()
        },
    )
    .await;
    (db, memory, database)
}

#[tokio::test]
async fn every_public_read_from_memory_is_the_database_s_answer_over_generated_data_and_random_writes()
 {
    let _alone = crate::helpers::exclusive().await;
    let seed = seed();
    let (_db, memory, database) = servers("cold_reads_synthetic").await;
    coverage_api::seed::synthetic::generate(&memory.db, 40, 4)
        .await
        .expect("generate");
    memory.events.changed();
    let admin = token(&memory, "Province admin", Role::Admin, None).await;
    let codes: Vec<String> = (1..=40).map(|i| format!("{}", 900_000 + i)).collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let periods = [2020, 2021, 2022, 2023];
    let programs = [
        "KECHUANG_PILOT",
        "QUANYU_KEPU",
        "HUISHI_HEZUO",
        "INNOVATION_DEMO",
    ];
    let sample = [codes[0], codes[7], codes[39]];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut compared = 0;
    // The generated data as it is, then after each of three rounds of ten random writes.
    for round in 0..4 {
        for _ in 0..(if round == 0 { 0 } else { 10 }) {
            random_write(&memory, &admin, &mut rng, &codes, &periods, &programs).await;
        }
        compared += compare(
            &memory,
            &database,
            &periods,
            &sample,
            "KECHUANG_PILOT",
            seed,
        )
        .await;
    }
    assert!(compared > 600, "{compared} reads compared");
}

#[tokio::test]
async fn every_public_read_from_memory_is_the_database_s_answer_over_the_report_drafts_and_publication()
 {
    let _alone = crate::helpers::exclusive().await;
    let seed = seed().wrapping_add(1);
    let (_db, memory, database) = servers("cold_reads_report").await;
    coverage_api::seed::report::load_if_empty(&memory.db.conn)
        .await
        .expect("load the report");
    memory.events.changed();
    let admin = token(&memory, "Province admin", Role::Admin, None).await;
    let codes: Vec<&str> = crate::helpers::CITIES.iter().map(|c| c.0).collect();
    let sample = ["410100", "410800", "419001"];
    let programs = ["KECHUANG_PILOT", "QUANYU_KEPU", "HUISHI_HEZUO"];
    let mut rng = StdRng::seed_from_u64(seed);
    compare(&memory, &database, &[2023], &sample, "KECHUANG_PILOT", seed).await;
    for _ in 0..6 {
        random_write(&memory, &admin, &mut rng, &codes, &[2022, 2023], &programs).await;
    }
    compare(&memory, &database, &[2023], &sample, "KECHUANG_PILOT", seed).await;

    // A round of 2024: Jiaozuo's drafts are nobody's figures but its own until published.
    memory.open_rounds(&[2024]).await;
    memory.events.changed();
    let staff = token(&memory, "Jiaozuo staff", Role::CityStaff, Some("410800")).await;
    for branch_type in ["ENTERPRISE", "TOWNSHIP"] {
        let input = json!({
            "cityCode": "410800", "branchType": branch_type, "period": 2024,
            "branchCount": 30, "eligibleCount": 30, "source": "cold reads test",
        });
        write(
            &memory,
            &staff,
            "updateCoverage",
            "UpdateCoverageInput",
            "coverage { version }",
            "coverage",
            input,
        )
        .await;
    }
    compare(
        &memory,
        &database,
        &[2023, 2024],
        &sample,
        "KECHUANG_PILOT",
        seed,
    )
    .await;
    let periods = memory.query("{ periods }").await;
    let periods = periods["data"]["periods"].as_array().unwrap().clone();
    assert!(
        !periods.contains(&json!(2024)),
        "a draft is not public: {periods:?}"
    );

    memory.publish_return(&staff, &admin, "410800", 2024).await;
    compare(
        &memory,
        &database,
        &[2023, 2024],
        &sample,
        "KECHUANG_PILOT",
        seed,
    )
    .await;
    let summary = memory
        .query("{ summary { period byType { branchType fullCoverageCities { code } } } }")
        .await;
    assert_eq!(
        summary["data"]["summary"],
        json!({ "period": 2024, "byType": [
            { "branchType": "ENTERPRISE", "fullCoverageCities": [{ "code": "410800" }] },
            { "branchType": "UNIVERSITY", "fullCoverageCities": [] },
            { "branchType": "TOWNSHIP", "fullCoverageCities": [{ "code": "410800" }] },
        ] }),
        "the published year is the memory's latest"
    );
}

#[tokio::test]
async fn an_empty_database_and_a_year_of_province_totals_alone_answer_alike() {
    let seed = seed();
    let (_db, memory, database) = servers("cold_reads_empty").await;
    // Nothing at all: no period, no summary (NOT_FOUND), no city.
    compare(&memory, &database, &[], &["410800"], "KECHUANG_PILOT", seed).await;
    let none = memory.query("{ summary { period } }").await;
    assert_eq!(
        crate::helpers::error_codes(&none),
        [json!("NOT_FOUND")],
        "{none}"
    );
    // A year the province alone has reported: the latest period, with no city's records.
    let admin = token(&memory, "Province admin", Role::Admin, None).await;
    let input = json!({ "branchType": "TOWNSHIP", "period": 2025, "total": 1500, "source": "cold reads test" });
    write(
        &memory,
        &admin,
        "setProvinceReportedTotal",
        "SetProvinceReportedTotalInput",
        "provinceReport { version }",
        "provinceReport",
        input,
    )
    .await;
    compare(
        &memory,
        &database,
        &[2025],
        &["410800"],
        "KECHUANG_PILOT",
        seed,
    )
    .await;
    let latest = memory.query("{ summary { period } }").await;
    assert_eq!(latest["data"]["summary"]["period"], 2025, "{latest}");
    // Then the report's cities and figures: the cities' year leads.
    coverage_api::seed::report::load_if_empty(&memory.db.conn)
        .await
        .expect("load the report");
    memory.events.changed();
    compare(
        &memory,
        &database,
        &[2023, 2025],
        &["410800", "419001"],
        "KECHUANG_PILOT",
        seed,
    )
    .await;
}

#[tokio::test]
async fn once_the_figures_are_in_memory_the_dashboard_reads_no_statement() {
    let app = TestApp::spawn_with(ServeArgs {
        response_cache_bytes: 0,
        ..ServeArgs::default()
    })
    .await;
    app.until_memory_current().await;
    assert!(app.memory.bytes() > 0);
    let (statements, answer) = app
        .statements_during(app.query(crate::statements::DASHBOARD))
        .await;
    assert_eq!(answer["data"]["cities"]["totalCount"], 18, "{answer}");
    assert_eq!(statements, 0);
}

#[tokio::test]
async fn figures_larger_than_the_bound_are_not_kept_and_reads_go_to_the_database() {
    // The report's figures take about 12 KB in memory.
    let app = TestApp::spawn_with(ServeArgs {
        response_cache_bytes: 0,
        memory_reads_max_bytes: 4096,
        ..ServeArgs::default()
    })
    .await;
    for _ in 0..500 {
        if app.memory.over_bound() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(app.memory.over_bound(), "the figures were read and weighed");
    assert!(app.memory.current().is_none());
    assert_eq!(app.memory.bytes(), 0);
    // The database's one statement. A read of the figures still under way (the seed's, when the
    // follower began before it) can only add to a try's count: the fewest of a few is the read's.
    let mut fewest = u64::MAX;
    for _ in 0..5 {
        let (statements, answer) = app
            .statements_during(app.query(crate::statements::DASHBOARD))
            .await;
        assert_eq!(answer["data"]["cities"]["totalCount"], 18, "{answer}");
        fewest = fewest.min(statements);
    }
    assert_eq!(fewest, crate::statements::DASHBOARD_STATEMENTS);
}

/// Right after an acknowledged write (of a year outside the yearly return, public when saved),
/// the instance that wrote never answers from the memory of
/// before it (nor does it serve the database's answer only: it reads the new figures into memory
/// again); a second instance on the same PostgreSQL database comes to the new figures once their
/// event arrives and never goes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_right_after_an_acknowledged_write_never_answers_from_the_memory_before_it() {
    let serve = ServeArgs {
        response_cache_bytes: 0,
        ..ServeArgs::default()
    };
    let app = TestApp::spawn_with(serve.clone()).await;
    let admin = token(&app, "Province admin", Role::Admin, None).await;
    let second = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(app.second_instance_with(serve).await),
        _ => None,
    };
    let read = "{ city(code: \"410800\") { coverage(period: 2022, branchType: ENTERPRISE) { branchCount } } \
                summary(period: 2022) { byType { branchCountSum } } }";
    let figure = |answer: &Value| answer["data"]["city"]["coverage"][0]["branchCount"].clone();
    for version in 1..=5 {
        app.until_memory_current().await;
        let before = app.query(read).await;
        let input = json!({
            "cityCode": "410800", "branchType": "ENTERPRISE", "period": 2022,
            "branchCount": 100 + version, "eligibleCount": 1000, "source": "cold reads test",
        });
        write(
            &app,
            &admin,
            "updateCoverage",
            "UpdateCoverageInput",
            "coverage { version }",
            "coverage",
            input,
        )
        .await;
        let after = app.query(read).await;
        assert_eq!(figure(&after), json!(100 + version), "{after}");
        let sum = |a: &Value| a["data"]["summary"]["byType"][0]["branchCountSum"].as_i64();
        if version > 1 {
            assert_eq!(
                sum(&after).zip(sum(&before)).map(|(a, b)| a - b),
                Some(1),
                "{before} {after}"
            );
        }
        app.until_memory_current().await;
        assert_eq!(
            app.query(read).await,
            after,
            "the memory read again answers the same"
        );
        if let Some(b) = &second {
            let mut tries = 0;
            while figure(&b.query(read).await) != json!(100 + version) {
                tries += 1;
                assert!(tries < 500, "the second instance never heard the write");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            for _ in 0..20 {
                assert_eq!(b.query(read).await, after, "the second instance went back");
            }
        }
    }
}
