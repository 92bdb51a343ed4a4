//! Pilot programmes (试点) and designations.

use async_graphql::{Context, Enum, ID, Object, Result};
use entity::{city, pilot_designation, pilot_program};

use super::city::City;
use super::error::GqlResultExt;
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
            .map(|(_, c)| City(c))
            .collect())
    }
}

/// A city's designation in a programme.
pub struct PilotDesignation {
    pub(super) designation: pilot_designation::Model,
    pub(super) program: Option<pilot_program::Model>,
    pub(super) city: Option<city::Model>,
}

/// A city's designation in a programme.
#[Object]
impl PilotDesignation {
    /// The programme.
    async fn program(&self) -> Option<PilotProgram> {
        self.program.clone().map(PilotProgram)
    }

    /// The city.
    async fn city(&self) -> Option<City> {
        self.city.clone().map(City)
    }

    /// The year the city joined, when known.
    async fn since_year(&self) -> Option<i32> {
        self.designation.since_year
    }

    /// Where the designation comes from.
    async fn source(&self) -> Option<&str> {
        self.designation.source.as_deref()
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
