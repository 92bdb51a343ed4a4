//! `City`, the paged city list (`cities`) and `city(code)`.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, InputType, Object, Result};
use entity::city;

use super::connection::CityConnection;
use super::coverage::{BranchType, Coverage};
use super::error::GqlResultExt;
use super::loaders::{CoverageKey, DesignatedProgram, HistoryKey};
use super::node::NodeKey;
use super::pilot::{PilotDesignation, PilotProgram};
use super::{Limits, db, loaders, memory};
use crate::domain::{BRANCH_TYPES, PageRequest};
use crate::service::cities as svc;

/// Administrative kind of a city.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::CityKind")]
pub enum CityKind {
    /// 省辖市: a prefecture-level city.
    PrefectureCity,
    /// 示范区: a demonstration zone (济源示范区), counted among the 18 cities.
    DemonstrationZone,
}

/// One of the province's 18 cities (省辖市及示范区).
#[derive(Clone)]
pub struct City {
    model: city::Model,
    /// What the page that returned this city has read for it already (see [`along`]).
    known: Option<Arc<Known>>,
}

impl From<city::Model> for City {
    fn from(model: city::Model) -> Self {
        Self { model, known: None }
    }
}

/// The children of one city of a page, read by the page's own statement.
struct Known {
    /// Coverage records per (period, branch type) argument pair the query uses, in the order
    /// the field returns them.
    coverage: Vec<(CoverageArgs, Vec<entity::coverage_record::Model>)>,
    /// The programmes, when the query asks for them.
    programs: Option<Vec<DesignatedProgram>>,
}

/// The arguments of `City.coverage`.
type CoverageArgs = (Option<i32>, Option<entity::BranchType>);

impl City {
    fn known_coverage(&self, args: CoverageArgs) -> Option<&[entity::coverage_record::Model]> {
        let known = self.known.as_deref()?;
        known
            .coverage
            .iter()
            .find(|(a, _)| *a == args)
            .map(|(_, records)| records.as_slice())
    }

    fn known_programs(&self) -> Option<&[DesignatedProgram]> {
        self.known.as_deref()?.programs.as_deref()
    }

    async fn programs(&self, ctx: &Context<'_>) -> Result<Vec<DesignatedProgram>> {
        if let Some(known) = self.known_programs() {
            return Ok(known.to_vec());
        }
        if let Some(memory) = memory(ctx) {
            return Ok(memory.programs(&self.model.code));
        }
        Ok(loaders(ctx)?
            .programs_by_city
            .load_one(self.model.code.clone())
            .await
            .gql()?
            .unwrap_or_default())
    }
}

/// One of the province's 18 cities (省辖市及示范区).
#[Object]
impl City {
    /// Opaque, stable global id (Relay's `Node`); the natural key is `code`.
    pub async fn id(&self) -> ID {
        NodeKey::City(self.model.code.clone()).id()
    }

    /// Administrative division code (行政区划代码, GB/T 2260), e.g. `410800` for Jiaozuo.
    async fn code(&self) -> ID {
        ID(self.model.code.clone())
    }

    /// Chinese name (中文名), e.g. 焦作.
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// Name in pinyin, e.g. Jiaozuo.
    async fn name_en(&self) -> &str {
        &self.model.name_en
    }

    /// Prefecture-level city or demonstration zone.
    async fn kind(&self) -> CityKind {
        self.model.kind.into()
    }

    /// Coverage records (覆盖情况) of one period, one per branch type that has a record, in the
    /// order ENTERPRISE, UNIVERSITY, TOWNSHIP. `period` defaults to the latest period with data
    /// in the whole database (the same for every city, so a dashboard compares like with like).
    async fn coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period (year); default: the latest period with data.")]
        period: Option<i32>,
        #[graphql(desc = "Only this branch type; default: every type.")] branch_type: Option<
            BranchType,
        >,
    ) -> Result<Vec<Coverage>> {
        let branch_type = branch_type.map(Into::into);
        if let Some(known) = self.known_coverage((period, branch_type)) {
            return Ok(known.iter().cloned().map(Coverage::from).collect());
        }
        if let Some(memory) = memory(ctx) {
            let records = memory.coverage(&self.model.code, period, branch_type);
            return Ok(records.into_iter().map(Coverage::from).collect());
        }
        let key = CoverageKey {
            city_code: self.model.code.clone(),
            period,
            branch_type,
        };
        let mut records = loaders(ctx)?
            .coverage_by_city
            .load_one(key)
            .await
            .gql()?
            .unwrap_or_default();
        sort_by_type(&mut records);
        Ok(records.into_iter().map(Coverage::from).collect())
    }

    /// Every period's coverage records (历年覆盖情况), oldest first; within a period in the
    /// order ENTERPRISE, UNIVERSITY, TOWNSHIP.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this branch type; default: every type.")] branch_type: Option<
            BranchType,
        >,
    ) -> Result<Vec<Coverage>> {
        if let Some(memory) = memory(ctx) {
            let records = memory.history(&self.model.code, branch_type.map(Into::into));
            return Ok(records.into_iter().map(Coverage::from).collect());
        }
        let key = HistoryKey {
            city_code: self.model.code.clone(),
            branch_type: branch_type.map(Into::into),
        };
        let mut records = loaders(ctx)?
            .history_by_city
            .load_one(key)
            .await
            .gql()?
            .unwrap_or_default();
        records.sort_by_key(|r| {
            (
                r.period,
                BRANCH_TYPES.iter().position(|t| *t == r.branch_type),
            )
        });
        Ok(records.into_iter().map(Coverage::from).collect())
    }

    /// Pilot programmes (试点) this city holds, by programme code.
    async fn pilot_programs(&self, ctx: &Context<'_>) -> Result<Vec<PilotProgram>> {
        Ok(self
            .programs(ctx)
            .await?
            .into_iter()
            .map(|(_, p)| PilotProgram(p))
            .collect())
    }

    /// This city's designations: which programme, since when, on what source.
    async fn pilot_designations(&self, ctx: &Context<'_>) -> Result<Vec<PilotDesignation>> {
        Ok(self
            .programs(ctx)
            .await?
            .into_iter()
            .map(|(designation, program)| {
                PilotDesignation::new(designation).with(Some(self.model.clone()), Some(program))
            })
            .collect())
    }
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// What a city list is sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum CityOrderField {
    /// Administrative code.
    #[default]
    Code,
    /// Name, in pinyin order (音序, the order of Chinese dictionaries).
    Name,
    /// Branch count of `branchType` in `period`; cities without one last.
    BranchCount,
    /// Coverage rate of `branchType` in `period` (computed or stated); cities without one last.
    CoverageRate,
}

/// How to sort a city list. Unknown figures sort last in either direction; ties go by code.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct CityOrder {
    /// The key (default CODE).
    #[graphql(default)]
    pub field: CityOrderField,
    /// The direction (default ASC).
    #[graphql(default)]
    pub direction: OrderDirection,
    /// The branch type whose figure orders the list; required for BRANCH_COUNT and COVERAGE_RATE.
    pub branch_type: Option<BranchType>,
    /// The period whose figure orders the list (default: the latest period with data).
    pub period: Option<i32>,
}

/// A lower bound on a branch type's coverage rate in a period.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct CoverageThreshold {
    /// The branch type.
    pub branch_type: BranchType,
    /// The period (default: the latest period with data).
    pub period: Option<i32>,
    /// The least coverage rate, between 0 and 1; cities whose rate is unknown never pass.
    pub rate: f64,
}

/// Which cities a list holds; every condition given must hold.
#[derive(InputObject, Debug, Clone, Default)]
pub struct CityFilter {
    /// Only cities designated in this programme (e.g. `KECHUANG_PILOT`).
    pub program_code: Option<ID>,
    /// Only cities of this kind.
    pub kind: Option<CityKind>,
    /// Only cities whose coverage rate reaches a bound.
    pub min_coverage: Option<CoverageThreshold>,
}

/// City queries.
#[derive(Default)]
pub struct CityQuery;

#[Object]
impl CityQuery {
    /// Cities, filtered, sorted and paged (Relay connection). `first` defaults to 20 and may
    /// be at most 100 (more is a BAD_USER_INPUT error); `after` takes a cursor from a previous
    /// page.
    async fn cities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which cities; default: all.")] filter: Option<CityFilter>,
        #[graphql(desc = "Sort order; default: by code, ascending.")] order_by: Option<CityOrder>,
        #[graphql(desc = "Page size: default 20, at most 100 (more is a BAD_USER_INPUT error).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor (an edge's `cursor` or `pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> Result<CityConnection> {
        let page =
            PageRequest::new(first, after.as_deref(), ctx.data::<Limits>()?.max_page_size).gql()?;
        let filter = filter.unwrap_or_default();
        let filter = svc::CityFilter {
            program_code: filter.program_code.map(|id| id.0),
            kind: filter.kind.map(Into::into),
            min_coverage: filter.min_coverage.map(|t| svc::CoverageThreshold {
                branch_type: t.branch_type.into(),
                period: t.period,
                min_rate: t.rate,
            }),
        };
        let order = order_by.map_or_else(svc::CityOrder::default, |o| svc::CityOrder {
            field: match o.field {
                CityOrderField::Code => svc::CityOrderField::Code,
                CityOrderField::Name => svc::CityOrderField::Name,
                CityOrderField::BranchCount => svc::CityOrderField::BranchCount,
                CityOrderField::CoverageRate => svc::CityOrderField::CoverageRate,
            },
            descending: o.direction == OrderDirection::Desc,
            branch_type: o.branch_type.map(Into::into),
            period: o.period,
        });
        let along = along(ctx)?;
        let page = match memory(ctx) {
            Some(memory) => memory.list(&filter, &order, page, &along),
            None => svc::list(&db(ctx)?.conn, &filter, &order, page, &along).await,
        }
        .gql()?;
        Ok(CityConnection::from_page(page, |item| {
            City::with(item, &along)
        }))
    }

    /// One city by its administrative code; null when there is none.
    async fn city(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Administrative code, e.g. 410800.")] code: ID,
    ) -> Result<Option<City>> {
        if let Some(memory) = memory(ctx) {
            return Ok(memory.city(&code).cloned().map(City::from));
        }
        Ok(svc::get(&db(ctx)?.conn, &code).await.gql()?.map(City::from))
    }
}

/// What the page's cities will ask for, read from the query: their coverage, for each set of
/// arguments the query uses, and their programmes. The page's statement brings it along (see
/// `service::cities::list`), and the children's resolvers read it from their city rather than
/// through a loader: one statement for the page, whatever it asks of its cities, and no
/// loader's locking, hashing and cloning per city.
fn along(ctx: &Context<'_>) -> Result<svc::Along> {
    let look = ctx.look_ahead();
    let nodes = [look.field("nodes"), look.field("edges").field("node")];
    let mut along = svc::Along::default();
    for field in nodes
        .iter()
        .flat_map(|n| n.field("coverage").selection_fields())
    {
        let mut period = None;
        let mut branch_type = None;
        for (name, value) in field.arguments()? {
            match name.as_str() {
                "period" => period = <Option<i32>>::parse(Some(value)).ok().flatten(),
                "branchType" => {
                    branch_type = <Option<BranchType>>::parse(Some(value))
                        .ok()
                        .flatten()
                        .map(Into::into)
                }
                _ => {}
            }
        }
        if !along.coverage.contains(&(period, branch_type)) {
            along.coverage.push((period, branch_type));
        }
    }
    along.programs = nodes
        .iter()
        .any(|n| n.field("pilotPrograms").exists() || n.field("pilotDesignations").exists());
    Ok(along)
}

impl City {
    /// A city of a page, with what the page's statement brought along for it.
    fn with(item: svc::CityWith, along: &svc::Along) -> Self {
        let svc::CityWith {
            city,
            coverage,
            programs,
        } = item;
        if along.coverage.is_empty() && programs.is_none() {
            return Self::from(city);
        }
        let coverage = along
            .coverage
            .iter()
            .copied()
            .zip(coverage)
            .map(|(args, mut records)| {
                sort_by_type(&mut records);
                (args, records)
            })
            .collect();
        Self {
            model: city,
            known: Some(Arc::new(Known { coverage, programs })),
        }
    }
}

/// Coverage records in the API's order of branch types (ENTERPRISE, UNIVERSITY, TOWNSHIP).
fn sort_by_type(records: &mut [entity::coverage_record::Model]) {
    records.sort_by_key(|r| BRANCH_TYPES.iter().position(|t| *t == r.branch_type));
}
