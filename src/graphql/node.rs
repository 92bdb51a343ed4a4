//! Global object identification (the Relay specification): the `Node` interface, the opaque `id`
//! every object with an identity carries, and the `node` / `nodes` root fields that fetch any of
//! them by id, so that normalising client caches (Apollo, Relay, urql) can key and update them.
//!
//! An id is base64url without padding of `Type:natural key`, e.g. `Coverage:410800/ENTERPRISE/2023`.
//! It is made of natural keys only (never of a row's autoincrement id, which differs between
//! databases), so the same object has the same id on every instance, after a restart and on both
//! databases, and a coverage record keeps its id across versions. The two numbered things keep
//! their numbers, which are their natural keys: a revision, and a token (the `viewer`).

use std::collections::HashMap;

use async_graphql::{Context, ID, Interface, Object, Result};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::ActiveEnum;

use super::city::City;
use super::city_return::CityReturn;
use super::coverage::Coverage;
use super::error::{GqlResultExt, to_graphql};
use super::pilot::{PilotDesignation, PilotProgram};
use super::revision::Revision;
use super::round::Round;
use super::summary::ProvinceReport;
use super::viewer::Viewer;
use super::{Limits, loaders};
use crate::domain::Actor;
use crate::domain::BranchType;
use crate::error::AppError;

/// An object with a global identity: its `id` is opaque, stable and unique across types, and
/// `node(id:)` fetches it again.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Opaque, stable identifier, unique across every type: the same object has the same \
            id everywhere and always. Fetch the object again with `node(id:)`; do not take it \
            apart."
))]
pub enum Node {
    /// A city.
    City(City),
    /// A coverage record.
    Coverage(Coverage),
    /// A pilot programme.
    PilotProgram(PilotProgram),
    /// A city's designation in a programme.
    PilotDesignation(PilotDesignation),
    /// A province-reported total.
    ProvinceReport(ProvinceReport),
    /// An accepted change.
    Revision(Revision),
    /// A round of the yearly return.
    Round(Round),
    /// A city's return in a round.
    CityReturn(CityReturn),
    /// The caller's token.
    Viewer(Viewer),
}

/// What an id names: a type and its natural key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKey {
    /// `City:410800`: the administrative code.
    City(String),
    /// `Coverage:410800/ENTERPRISE/2023`: city, branch type, period.
    Coverage(String, BranchType, i32),
    /// `DraftCoverage:410800/ENTERPRISE/2024`: a city's draft of that record.
    DraftCoverage(String, BranchType, i32),
    /// `PilotProgram:KECHUANG_PILOT`: the programme's code.
    PilotProgram(String),
    /// `PilotDesignation:410800/KECHUANG_PILOT`: city code, programme code.
    PilotDesignation(String, String),
    /// `ProvinceReport:ENTERPRISE/2023`: branch type, period.
    ProvinceReport(BranchType, i32),
    /// `Revision:12`: the revision's number.
    Revision(i64),
    /// `Round:2024`: the period.
    Round(i32),
    /// `CityReturn:410800/2024`: city code, period.
    CityReturn(String, i32),
    /// `Viewer:3`: the token's number.
    Viewer(i64),
}

impl NodeKey {
    /// The opaque id of this key.
    pub fn id(&self) -> ID {
        let plain = match self {
            NodeKey::City(code) => format!("City:{code}"),
            NodeKey::Coverage(city, branch_type, period) => {
                format!("Coverage:{city}/{}/{period}", branch_type.to_value())
            }
            NodeKey::DraftCoverage(city, branch_type, period) => {
                format!("DraftCoverage:{city}/{}/{period}", branch_type.to_value())
            }
            NodeKey::PilotProgram(code) => format!("PilotProgram:{code}"),
            NodeKey::PilotDesignation(city, program) => {
                format!("PilotDesignation:{city}/{program}")
            }
            NodeKey::ProvinceReport(branch_type, period) => {
                format!("ProvinceReport:{}/{period}", branch_type.to_value())
            }
            NodeKey::Revision(number) => format!("Revision:{number}"),
            NodeKey::Round(period) => format!("Round:{period}"),
            NodeKey::CityReturn(city, period) => format!("CityReturn:{city}/{period}"),
            NodeKey::Viewer(number) => format!("Viewer:{number}"),
        };
        ID(URL_SAFE_NO_PAD.encode(plain))
    }

    /// The key inside an id made by [`NodeKey::id`]; anything else is bad input. Only the
    /// canonical spelling is accepted (no padding, no leading zeros), so that an object has one
    /// id, which a cache can compare as a string.
    pub fn parse(id: &str) -> Result<Self, AppError> {
        let invalid = || {
            let shown: String = id.chars().take(64).collect();
            let more = if shown.len() < id.len() { "…" } else { "" };
            AppError::BadUserInput(format!("`{shown}{more}` is not an id of this API"))
        };
        let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (kind, key) = text.split_once(':').ok_or_else(invalid)?;
        let key = match kind {
            "City" => NodeKey::City(code(key).ok_or_else(invalid)?),
            "Coverage" | "DraftCoverage" => {
                let mut parts = key.rsplitn(3, '/');
                let (Some(period), Some(branch_type), Some(city)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(invalid());
                };
                let (city, branch_type, period) = (
                    code(city).ok_or_else(invalid)?,
                    branch(branch_type).ok_or_else(invalid)?,
                    number(period).ok_or_else(invalid)?,
                );
                if kind == "Coverage" {
                    NodeKey::Coverage(city, branch_type, period)
                } else {
                    NodeKey::DraftCoverage(city, branch_type, period)
                }
            }
            "PilotProgram" => NodeKey::PilotProgram(code(key).ok_or_else(invalid)?),
            "PilotDesignation" => {
                let (city, program) = key.split_once('/').ok_or_else(invalid)?;
                NodeKey::PilotDesignation(
                    code(city).ok_or_else(invalid)?,
                    code(program).ok_or_else(invalid)?,
                )
            }
            "ProvinceReport" => {
                let (branch_type, period) = key.split_once('/').ok_or_else(invalid)?;
                NodeKey::ProvinceReport(
                    branch(branch_type).ok_or_else(invalid)?,
                    number(period).ok_or_else(invalid)?,
                )
            }
            "Revision" => NodeKey::Revision(number(key).ok_or_else(invalid)?),
            "Round" => NodeKey::Round(number(key).ok_or_else(invalid)?),
            "CityReturn" => {
                let (city, period) = key.split_once('/').ok_or_else(invalid)?;
                NodeKey::CityReturn(
                    code(city).ok_or_else(invalid)?,
                    number(period).ok_or_else(invalid)?,
                )
            }
            "Viewer" => NodeKey::Viewer(number(key).ok_or_else(invalid)?),
            _ => return Err(invalid()),
        };
        Ok(key)
    }
}

/// A code: not empty, without the key separator.
fn code(text: &str) -> Option<String> {
    (!text.is_empty() && !text.contains('/')).then(|| text.to_owned())
}

/// A branch type's name as the API spells it.
fn branch(text: &str) -> Option<BranchType> {
    BranchType::try_from_value(&text.to_owned()).ok()
}

/// A number in its canonical decimal spelling.
fn number<T: std::str::FromStr + ToString>(text: &str) -> Option<T> {
    let n: T = text.parse().ok()?;
    (n.to_string() == text).then_some(n)
}

/// The objects the `keys` name, in their order; `None` where there is none. One loader call per
/// kind, with every key of that kind, so a batch costs one statement per kind.
pub async fn resolve(ctx: &Context<'_>, keys: &[NodeKey]) -> Result<Vec<Option<Node>>> {
    let loaders = loaders(ctx)?;
    let actor = ctx.data::<Actor>()?;
    let mut cities = Vec::new();
    let mut coverage = Vec::new();
    let mut programs = Vec::new();
    let mut designations = Vec::new();
    let mut totals = Vec::new();
    let mut revisions = Vec::new();
    let mut rounds = Vec::new();
    let mut returns = Vec::new();
    let mut drafts = Vec::new();
    for key in keys {
        match key {
            NodeKey::City(code) => cities.push(code.clone()),
            NodeKey::Coverage(city, branch_type, period) => {
                coverage.push((city.clone(), *branch_type, *period));
            }
            NodeKey::PilotProgram(code) => programs.push(code.clone()),
            NodeKey::PilotDesignation(city, program) => {
                designations.push((city.clone(), program.clone()));
            }
            NodeKey::ProvinceReport(branch_type, period) => totals.push((*branch_type, *period)),
            NodeKey::Revision(number) => revisions.push(*number),
            NodeKey::Round(period) => rounds.push(*period),
            NodeKey::CityReturn(city, period) => returns.push((city.clone(), *period)),
            NodeKey::DraftCoverage(city, branch_type, period) if may_read_return(actor, city) => {
                drafts.push((city.clone(), *branch_type, *period));
            }
            NodeKey::DraftCoverage(..) | NodeKey::Viewer(_) => {}
        }
    }
    let (cities, coverage, programs, designations, totals, revisions, rounds, returns, drafts) =
        tokio::try_join!(
            load(&loaders.city_by_code, cities),
            load(&loaders.coverage_by_key, coverage),
            load(&loaders.program_by_code, programs),
            load(&loaders.designation_by_key, designations),
            load(&loaders.province_total_by_key, totals),
            load(&loaders.revision_by_id, revisions),
            load(&loaders.round_by_period, rounds),
            load(&loaders.return_by_key, returns),
            load(&loaders.draft_by_key, drafts),
        )
        .gql()?;
    let revisions: HashMap<i64, _> =
        super::revision::visible(ctx, revisions.into_values().collect())
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    // A key asked for twice is answered twice: the models are cloned, not moved, out of the maps.
    Ok(keys
        .iter()
        .map(|key| match key {
            NodeKey::City(code) => cities.get(code).cloned().map(|c| Node::City(City::from(c))),
            NodeKey::Coverage(city, branch_type, period) => coverage
                .get(&(city.clone(), *branch_type, *period))
                .cloned()
                .map(|r| Node::Coverage(Coverage::from(r))),
            NodeKey::PilotProgram(code) => programs
                .get(code)
                .cloned()
                .map(|p| Node::PilotProgram(PilotProgram(p))),
            NodeKey::PilotDesignation(city, program) => designations
                .get(&(city.clone(), program.clone()))
                .cloned()
                .map(|d| Node::PilotDesignation(PilotDesignation::new(d))),
            NodeKey::ProvinceReport(branch_type, period) => totals
                .get(&(*branch_type, *period))
                .cloned()
                .map(|t| Node::ProvinceReport(t.into())),
            NodeKey::Revision(number) => revisions
                .get(number)
                .cloned()
                .map(|r| Node::Revision(Revision(r))),
            NodeKey::Round(period) => rounds.get(period).cloned().map(|r| Node::Round(Round(r))),
            // A return and its drafts answer only to those who may read them (the city's staff,
            // administrators); the drafts of anyone else were not loaded.
            NodeKey::CityReturn(city, period) if may_read_return(actor, city) => returns
                .get(&(city.clone(), *period))
                .cloned()
                .map(|r| Node::CityReturn(CityReturn(r))),
            NodeKey::CityReturn(..) => None,
            NodeKey::DraftCoverage(city, branch_type, period) => drafts
                .get(&(city.clone(), *branch_type, *period))
                .cloned()
                .map(|r| Node::Coverage(Coverage::of_draft(r))),
            // Tokens are not readable through the API: a token's id answers only to its holder.
            NodeKey::Viewer(number) => match actor {
                Actor::Token(token) if token.id == *number => {
                    Some(Node::Viewer(Viewer::from(token)))
                }
                _ => None,
            },
        })
        .collect())
}

/// Whether `actor` may read `city`'s return and drafts: its staff and administrators.
fn may_read_return(actor: &Actor, city: &str) -> bool {
    matches!(actor, Actor::Token(token)
        if token.role == entity::Role::Admin || token.city_code.as_deref() == Some(city))
}

/// `keys` through `loader` in one call (nothing at all when there are none).
async fn load<L, K>(
    loader: &super::loaders::RequestLoader<L>,
    keys: Vec<K>,
) -> Result<HashMap<K, L::Value>, L::Error>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: async_graphql::dataloader::Loader<K>,
{
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    loader.load_many(keys).await
}

/// Fetching any object by its id.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id, whatever its type; null when there is none (or, for a token,
    /// when it is not the caller's). A malformed id is a BAD_USER_INPUT error.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An object's `id`.")] id: ID,
    ) -> Result<Option<Node>> {
        let key = NodeKey::parse(&id).gql()?;
        Ok(resolve(ctx, &[key]).await?.pop().flatten())
    }

    /// The objects with these ids, in the same order, null where there is none. At most the
    /// page cap (100) ids; more, or a malformed id, is a BAD_USER_INPUT error. Each type costs
    /// one statement, whatever the number of ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Objects' `id`s, at most 100.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        let cap = ctx.data::<Limits>()?.max_page_size;
        if ids.len() as u64 > cap {
            return Err(to_graphql(&AppError::BadUserInput(format!(
                "nodes takes at most {cap} ids, got {}",
                ids.len()
            ))));
        }
        let keys = ids
            .iter()
            .map(|id| NodeKey::parse(id))
            .collect::<Result<Vec<_>, _>>()
            .gql()?;
        resolve(ctx, &keys).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_from_its_id() {
        let keys = [
            NodeKey::City("410800".into()),
            NodeKey::Coverage("410800".into(), BranchType::Enterprise, 2023),
            NodeKey::PilotProgram("KECHUANG_PILOT".into()),
            NodeKey::PilotDesignation("410800".into(), "KECHUANG_PILOT".into()),
            NodeKey::ProvinceReport(BranchType::University, 2023),
            NodeKey::Revision(12),
            NodeKey::Round(2024),
            NodeKey::CityReturn("410800".into(), 2024),
            NodeKey::Viewer(3),
        ];
        for key in keys {
            assert_eq!(NodeKey::parse(&key.id()).ok(), Some(key));
        }
    }

    #[test]
    fn an_id_is_base64url_of_the_type_and_natural_key() {
        let id = NodeKey::Coverage("410800".into(), BranchType::Enterprise, 2023).id();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(id.as_str()).ok(),
            Some(b"Coverage:410800/ENTERPRISE/2023".to_vec())
        );
    }

    #[test]
    fn non_canonical_spellings_are_refused() {
        for plain in [
            "Revision:012",
            "Revision:+12",
            "Coverage:410800/ENTERPRISE/02023",
            "Coverage:410800/enterprise/2023",
            "City:",
            "Nope:1",
            "City",
        ] {
            let id = URL_SAFE_NO_PAD.encode(plain);
            assert!(NodeKey::parse(&id).is_err(), "{plain}");
        }
        assert!(NodeKey::parse("Q2l0eTo0MTA4MDA=").is_err(), "padding");
        assert!(NodeKey::parse("not base64!").is_err());
    }
}
