//! The reference of `scripts/bench.sh` for reads that miss the response cache: async-graphql, the
//! API's own engine, serving the same schema shape (`cities` with `totalCount` and `nodes`,
//! `City` with `coverage`, `history` and `pilotPrograms`, `city(code)`, and `summary` with its
//! per-type sums and fully covered cities) from plain values in memory, written the way the
//! engine's own examples serve data: `SimpleObject`s, a `ComplexObject` for the arguments, the
//! data in the schema's context, async-graphql-axum's `GraphQL` service on axum, and nothing
//! else (no layers, no document store, no database, no cache). It reads the published figures of
//! a database once, at start, with the same runtime and allocator as the API (tokio,
//! hyper through axum, mimalloc).
//!
//! `cargo run --release --example reference -- ADDR DATABASE_URL` (a benchmark program, not a
//! route of the API).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Enum, ID, Object, Result, Schema,
    SimpleObject,
};
use async_graphql_axum::GraphQL;
use axum::Router;
use axum::routing::post_service;
use chrono::{DateTime, Utc};
use entity::{
    city, coverage_record, pilot_designation, pilot_program, province_total, public_record,
};
use sea_orm::{Database, EntityTrait};

// The API's allocator (its library sets the global allocator).
use coverage_api as _;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::BranchType")]
enum BranchType {
    Enterprise,
    University,
    Township,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::CityKind")]
enum CityKind {
    PrefectureCity,
    DemonstrationZone,
}

#[derive(SimpleObject, Clone)]
struct Coverage {
    branch_type: BranchType,
    period: i32,
    branch_count: Option<i32>,
    eligible_count: Option<i32>,
    new_branches: Option<i32>,
    coverage_rate: Option<f64>,
    rate_is_stated: bool,
    rate_scope: Option<String>,
    source: Option<String>,
    updated_at: DateTime<Utc>,
}

#[derive(SimpleObject, Clone)]
struct PilotProgram {
    code: ID,
    name: String,
    name_en: String,
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
struct City {
    code: ID,
    name: String,
    name_en: String,
    kind: CityKind,
    #[graphql(skip)]
    records: Arc<Vec<Coverage>>,
    pilot_programs: Vec<PilotProgram>,
}

#[ComplexObject]
impl City {
    async fn coverage(
        &self,
        ctx: &Context<'_>,
        period: Option<i32>,
        branch_type: Option<BranchType>,
    ) -> Result<Vec<Coverage>> {
        let period = period.or(ctx.data::<Data>()?.latest);
        Ok(self
            .records
            .iter()
            .filter(|r| Some(r.period) == period && branch_type.is_none_or(|t| t == r.branch_type))
            .cloned()
            .collect())
    }

    async fn history(&self, branch_type: Option<BranchType>) -> Vec<Coverage> {
        self.records
            .iter()
            .filter(|r| branch_type.is_none_or(|t| t == r.branch_type))
            .cloned()
            .collect()
    }
}

#[derive(SimpleObject)]
struct CityConnection {
    total_count: usize,
    nodes: Vec<City>,
}

#[derive(SimpleObject, Clone)]
struct TypeSummary {
    branch_type: BranchType,
    cities_reporting: i64,
    branch_count_sum: Option<i64>,
    eligible_count_sum: Option<i64>,
    coverage_rate: Option<f64>,
    new_branches_sum: Option<i64>,
    province_reported_total: Option<i32>,
    full_coverage_cities: Vec<City>,
}

#[derive(SimpleObject, Clone)]
struct CoverageSummary {
    period: i32,
    by_type: Vec<TypeSummary>,
}

struct Data {
    cities: Vec<City>,
    by_code: HashMap<String, usize>,
    latest: Option<i32>,
    summaries: BTreeMap<i32, CoverageSummary>,
}

struct Query;

#[Object]
impl Query {
    async fn cities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CityConnection> {
        let data = ctx.data::<Data>()?;
        let skip = after.and_then(|a| a.parse::<usize>().ok()).unwrap_or(0);
        let first = usize::try_from(first.unwrap_or(20)).unwrap_or(0);
        Ok(CityConnection {
            total_count: data.cities.len(),
            nodes: data.cities.iter().skip(skip).take(first).cloned().collect(),
        })
    }

    async fn city(&self, ctx: &Context<'_>, code: ID) -> Result<Option<City>> {
        let data = ctx.data::<Data>()?;
        Ok(data
            .by_code
            .get(code.as_str())
            .map(|&i| data.cities[i].clone()))
    }

    async fn summary(&self, ctx: &Context<'_>, period: Option<i32>) -> Result<CoverageSummary> {
        let data = ctx.data::<Data>()?;
        period
            .or(data.latest)
            .and_then(|p| data.summaries.get(&p))
            .cloned()
            .ok_or_else(|| "no data".into())
    }
}

fn rate(r: &coverage_record::Model) -> (Option<f64>, bool) {
    match (r.branch_count, r.eligible_count) {
        (Some(b), Some(e)) if e > 0 => (Some(f64::from(b) / f64::from(e)), false),
        _ => (r.stated_rate, r.stated_rate.is_some()),
    }
}

async fn load(url: &str) -> anyhow::Result<Data> {
    let db = Database::connect(url).await?;
    let mut cities = city::Entity::find().all(&db).await?;
    cities.sort_by(|a, b| a.code.cmp(&b.code));
    let records = public_record::Entity::find()
        .into_model::<coverage_record::Model>()
        .all(&db)
        .await?;
    let programs: HashMap<String, pilot_program::Model> = pilot_program::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .map(|p| (p.code.clone(), p))
        .collect();
    let designations = pilot_designation::Entity::find().all(&db).await?;
    let totals = province_total::Entity::find().all(&db).await?;
    let types = [
        entity::BranchType::Enterprise,
        entity::BranchType::University,
        entity::BranchType::Township,
    ];
    let order = |t: entity::BranchType| types.iter().position(|x| *x == t);

    let mut by_city: HashMap<String, Vec<&coverage_record::Model>> = HashMap::new();
    for r in &records {
        by_city.entry(r.city_code.clone()).or_default().push(r);
    }
    let cities: Vec<City> = cities
        .into_iter()
        .map(|c| {
            let mut own = by_city.remove(&c.code).unwrap_or_default();
            own.sort_by_key(|r| (r.period, order(r.branch_type)));
            let mut held: Vec<&pilot_designation::Model> = designations
                .iter()
                .filter(|d| d.city_code == c.code)
                .collect();
            held.sort_by(|a, b| a.program_code.cmp(&b.program_code));
            City {
                code: ID(c.code.clone()),
                name: c.name,
                name_en: c.name_en,
                kind: c.kind.into(),
                records: Arc::new(
                    own.into_iter()
                        .map(|r| {
                            let (coverage_rate, rate_is_stated) = rate(r);
                            Coverage {
                                branch_type: r.branch_type.into(),
                                period: r.period,
                                branch_count: r.branch_count,
                                eligible_count: r.eligible_count,
                                new_branches: r.new_branches,
                                coverage_rate,
                                rate_is_stated,
                                rate_scope: r.rate_scope.clone(),
                                source: r.source.clone(),
                                updated_at: r.updated_at,
                            }
                        })
                        .collect(),
                ),
                pilot_programs: held
                    .into_iter()
                    .filter_map(|d| programs.get(&d.program_code))
                    .map(|p| PilotProgram {
                        code: ID(p.code.clone()),
                        name: p.name.clone(),
                        name_en: p.name_en.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    let latest = records
        .iter()
        .map(|r| r.period)
        .max()
        .or_else(|| totals.iter().map(|t| t.period).max());
    let mut summaries = BTreeMap::new();
    for period in records.iter().map(|r| r.period) {
        if summaries.contains_key(&period) {
            continue;
        }
        let by_type = types
            .iter()
            .map(|&t| {
                let mut reporting = 0;
                let (mut branches, mut eligible) = (0i64, 0i64);
                let (mut new_cities, mut new) = (0, 0i64);
                let mut full = Vec::new();
                for city in &cities {
                    for r in city.records.iter() {
                        if r.period != period || entity::BranchType::from(r.branch_type) != t {
                            continue;
                        }
                        if let (Some(b), Some(e)) = (r.branch_count, r.eligible_count) {
                            reporting += 1;
                            branches += i64::from(b);
                            eligible += i64::from(e);
                        }
                        if let Some(n) = r.new_branches {
                            new_cities += 1;
                            new += i64::from(n);
                        }
                        if r.coverage_rate.is_some_and(|x| x >= 1.0) {
                            full.push(city.clone());
                        }
                    }
                }
                TypeSummary {
                    branch_type: t.into(),
                    cities_reporting: reporting,
                    branch_count_sum: (reporting > 0).then_some(branches),
                    eligible_count_sum: (reporting > 0).then_some(eligible),
                    coverage_rate: (reporting > 0 && eligible > 0)
                        .then(|| branches as f64 / eligible as f64),
                    new_branches_sum: (new_cities > 0).then_some(new),
                    province_reported_total: totals
                        .iter()
                        .find(|x| x.period == period && x.branch_type == t)
                        .and_then(|x| x.total),
                    full_coverage_cities: full,
                }
            })
            .collect();
        summaries.insert(period, CoverageSummary { period, by_type });
    }
    let by_code = cities
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.to_string(), i))
        .collect();
    Ok(Data {
        cities,
        by_code,
        latest,
        summaries,
    })
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || anyhow::anyhow!("usage: reference ADDR DATABASE_URL");
    let addr: SocketAddr = args.next().ok_or_else(usage)?.parse()?;
    let url = args.next().ok_or_else(usage)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let data = load(&url).await?;
            let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
                .data(data)
                .finish();
            let app = Router::new().route("/graphql", post_service(GraphQL::new(schema)));
            let listener = tokio::net::TcpListener::bind(addr).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}
