//! Pilot programmes (试点) and designations.

use async_graphql::{Context, Enum, ID, Object, Result};
use entity::{city, pilot_designation, pilot_program};

use super::city::City;
use super::error::GqlResultExt;
use super::node::NodeKey;
use super::{db, loaders};
use crate::service::pilots as svc;

/// Level of a programme.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ProgramLevel")]
pub enum ProgramLevel {
    /// 国家级: national.
    National,
    /// 省级: provincial.
    Provincial,
}

/// A pilot programme or demonstration status that cities hold.
pub struct PilotProgram(pub pilot_program::Model);

/// A pilot programme or demonstration status that cities hold.
#[Object]
impl PilotProgram {
    /// Opaque, stable global id (Relay's `Node`); the natural key is `code`.
    pub async fn id(&self) -> ID {
        NodeKey::PilotProgram(self.0.code.clone()).id()
    }

    /// Stable code: KECHUANG_PILOT, INNOVATION_DEMO, QUANYU_KEPU, HUISHI_HEZUO.
    async fn code(&self) -> ID {
        ID(self.0.code.clone())
    }

    /// Chinese name, e.g. “科创中原”试点城市.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// English name.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }

    /// National or provincial.
    async fn level(&self) -> ProgramLevel {
        self.0.level.into()
    }

    /// Number of member cities a source states; it may exceed the members recorded in
    /// `cities` when the source does not name them all. Null when no size is stated.
    async fn stated_size(&self) -> Option<i32> {
        self.0.stated_size
    }

    /// Where the programme's facts come from.
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    /// Version of the programme: 1 when created, one more on every accepted change; send it as
    /// `expectedVersion` to change it.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// Member cities on record, by code.
    async fn cities(&self, ctx: &Context<'_>) -> Result<Vec<City>> {
        let rows = loaders(ctx)?
            .cities_by_program
            .load_one(self.0.code.clone())
            .await
            .gql()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|(_, c)| City::from(c))
            .collect())
    }
}

/// A city's designation in a programme. Its city and programme come with it when the list that
/// holds it read them already; otherwise they are loaded (batched) when asked for.
pub struct PilotDesignation {
    designation: pilot_designation::Model,
    program: Option<pilot_program::Model>,
    city: Option<city::Model>,
}

impl PilotDesignation {
    /// The designation alone: its city and programme are loaded when asked for.
    pub fn new(designation: pilot_designation::Model) -> Self {
        Self {
            designation,
            program: None,
            city: None,
        }
    }

    /// The designation with its city and programme, when they are at hand already.
    pub fn with(
        mut self,
        city: Option<city::Model>,
        program: Option<pilot_program::Model>,
    ) -> Self {
        self.city = city;
        self.program = program;
        self
    }
}

/// A city's designation in a programme.
#[Object]
impl PilotDesignation {
    /// Opaque, stable global id (Relay's `Node`); the natural key is the city's code and the
    /// programme's code.
    pub async fn id(&self) -> ID {
        NodeKey::PilotDesignation(
            self.designation.city_code.clone(),
            self.designation.program_code.clone(),
        )
        .id()
    }

    /// The programme.
    async fn program(&self, ctx: &Context<'_>) -> Result<Option<PilotProgram>> {
        if let Some(program) = &self.program {
            return Ok(Some(PilotProgram(program.clone())));
        }
        Ok(loaders(ctx)?
            .program_by_code
            .load_one(self.designation.program_code.clone())
            .await
            .gql()?
            .map(PilotProgram))
    }

    /// The city.
    async fn city(&self, ctx: &Context<'_>) -> Result<Option<City>> {
        if let Some(city) = &self.city {
            return Ok(Some(City::from(city.clone())));
        }
        Ok(loaders(ctx)?
            .city_by_code
            .load_one(self.designation.city_code.clone())
            .await
            .gql()?
            .map(City::from))
    }

    /// The year the city joined, when known.
    async fn since_year(&self) -> Option<i32> {
        self.designation.since_year
    }

    /// Where the designation comes from.
    async fn source(&self) -> Option<&str> {
        self.designation.source.as_deref()
    }

    /// Version of the designation: 1 when granted, one more on every accepted change; send it
    /// as `expectedVersion` to change or remove it.
    async fn version(&self) -> i32 {
        self.designation.version
    }
}

/// Programme queries.
#[derive(Default)]
pub struct PilotQuery;

#[Object]
impl PilotQuery {
    /// Every pilot programme, by code.
    async fn pilot_programs(&self, ctx: &Context<'_>) -> Result<Vec<PilotProgram>> {
        Ok(svc::list(&db(ctx)?.conn)
            .await
            .gql()?
            .into_iter()
            .map(PilotProgram)
            .collect())
    }
}
