//! `Revision`: one accepted change, with the whole record before and after; and `revisions`.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::revision;

use super::connection::RevisionConnection;
use super::coverage::BranchType;
use super::error::GqlResultExt;
use super::node::NodeKey;
use super::viewer::Role;
use super::{Limits, db};
use crate::domain::Actor;
use crate::domain::PageRequest;
use crate::service::revisions as svc;

/// What kind of record a revision changed.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::RevisionKind")]
pub enum RevisionKind {
    /// A city's coverage record.
    Coverage,
    /// A city's designation in a pilot programme.
    PilotDesignation,
    /// A province-reported total.
    ProvinceTotal,
    /// A round of the yearly return (opened, closed, reopened).
    Round,
    /// A city's return in a round (edited, submitted, sent back, approved, reopened).
    CityReturn,
    /// A pilot programme (created or changed).
    PilotProgram,
}

/// Who may read the personal parts of the audit trail: a writer's name (often a person's name
/// and office) and the free-text note (which may hold a phone number). By default only signed-in
/// callers: an administrator reads all, city staff their own city's; `--public-audit-trail`
/// shows them to everyone.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditPrivacy {
    /// Whether everyone may read them.
    pub public: bool,
}

/// Whether the caller may read the personal parts of a change to `city_code`'s record (see
/// [`AuditPrivacy`]).
pub fn may_read_personal(ctx: &Context<'_>, city_code: Option<&str>) -> bool {
    if ctx.data_opt::<AuditPrivacy>().is_some_and(|p| p.public) {
        return true;
    }
    match ctx.data_opt::<Actor>() {
        Some(Actor::Token(token)) => match token.role {
            entity::Role::Admin => true,
            entity::Role::CityStaff => {
                city_code.is_some() && token.city_code.as_deref() == city_code
            }
        },
        _ => false,
    }
}

/// What of the yearly return the caller may read in the audit trail.
pub fn return_reader(ctx: &Context<'_>) -> svc::ReturnReader {
    match ctx.data_opt::<Actor>() {
        Some(Actor::Token(token)) if token.role == entity::Role::Admin => svc::ReturnReader::All,
        Some(Actor::Token(token)) => {
            svc::ReturnReader::City(token.city_code.clone().unwrap_or_default())
        }
        _ => svc::ReturnReader::Public,
    }
}

/// `revisions` less those the caller may not see (see [`svc::ReturnReader`]): a return's steps,
/// and changes to a figure of a period with a round, are for the city's staff and
/// administrators. The same rule as the `revisions` query's, for revisions reached another way
/// (a record's history, `node`, `coverageChanged`).
pub async fn visible(
    ctx: &Context<'_>,
    revisions: Vec<revision::Model>,
) -> Result<Vec<revision::Model>> {
    use entity::RevisionKind as K;
    let reader = return_reader(ctx);
    let own = |r: &revision::Model| match &reader {
        svc::ReturnReader::All => true,
        svc::ReturnReader::City(city) => r.city_code.as_deref() == Some(city.as_str()),
        svc::ReturnReader::Public => false,
    };
    let mut periods: Vec<i32> = revisions
        .iter()
        .filter(|r| r.kind == K::Coverage && !own(r))
        .filter_map(|r| r.period)
        .collect();
    periods.sort_unstable();
    periods.dedup();
    let rounds = if periods.is_empty() {
        std::collections::HashMap::new()
    } else {
        super::loaders(ctx)?
            .round_by_period
            .load_many(periods)
            .await
            .gql()?
    };
    Ok(revisions
        .into_iter()
        .filter(|r| {
            own(r)
                || match (r.kind, r.period) {
                    (K::CityReturn, _) => false,
                    (K::Coverage, Some(period)) => !rounds.contains_key(&period),
                    _ => true,
                }
        })
        .collect())
}

/// Who made a change: the token as it was then (revoking it later keeps this readable).
#[derive(SimpleObject)]
pub struct RevisionActor {
    /// The token's id.
    pub token_id: Option<ID>,
    /// The token's name, e.g. "Jiaozuo office". Personal: null unless the caller is an
    /// administrator, or city staff of the changed record's city (or the server makes the audit
    /// trail public).
    pub name: Option<String>,
    /// The token's role.
    pub role: Role,
    /// The token's city, for CITY_STAFF.
    pub city_code: Option<ID>,
}

/// One accepted change, kept forever (修改记录).
#[derive(Clone)]
pub struct Revision(pub revision::Model);

/// One accepted change, kept forever (修改记录): who, when, why, and the whole record before and
/// after.
#[Object]
impl Revision {
    /// Opaque, stable global id (Relay's `Node`); the natural key is `number`.
    pub async fn id(&self) -> ID {
        NodeKey::Revision(self.0.id).id()
    }

    /// The revision's number: increasing with time, never reused.
    async fn number(&self) -> i64 {
        self.0.id
    }

    /// What kind of record changed.
    async fn kind(&self) -> RevisionKind {
        self.0.kind.into()
    }

    /// The record's key, e.g. `410800/ENTERPRISE/2023`.
    async fn record_key(&self) -> &str {
        &self.0.record_key
    }

    /// The city of the record, if it has one.
    async fn city_code(&self) -> Option<ID> {
        self.0.city_code.clone().map(ID)
    }

    /// The branch type of the record, if it has one.
    async fn branch_type(&self) -> Option<BranchType> {
        self.0.branch_type.map(Into::into)
    }

    /// The period of the record, if it has one.
    async fn period(&self) -> Option<i32> {
        self.0.period
    }

    /// When the change was committed.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Who made it: the token's role and city for everyone; its name only for those who may
    /// read the audit trail's personal parts (see `RevisionActor.name`).
    async fn actor(&self, ctx: &Context<'_>) -> RevisionActor {
        RevisionActor {
            token_id: self.0.actor_token_id.map(|id| ID(id.to_string())),
            name: self.personal(ctx).then(|| self.0.actor_name.clone()),
            role: self.0.actor_role.into(),
            city_code: self.0.actor_city_code.clone().map(ID),
        }
    }

    /// Why, in the writer's words. Personal (it may hold a name or a phone number): null unless
    /// the caller is an administrator, or city staff of the changed record's city (or the
    /// server makes the audit trail public).
    async fn note(&self, ctx: &Context<'_>) -> Option<&str> {
        self.0.note.as_deref().filter(|_| self.personal(ctx))
    }

    /// The id of the HTTP request that made the change (`x-request-id`).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The whole record before the change; null for a creation. Its `updatedBy` follows the
    /// rule of `Coverage.updatedBy`.
    async fn before(&self, ctx: &Context<'_>) -> Option<Json<serde_json::Value>> {
        self.snapshot(ctx, self.0.before.as_deref())
    }

    /// The whole record after the change; null for a removal. Its `updatedBy` follows the rule
    /// of `Coverage.updatedBy`.
    async fn after(&self, ctx: &Context<'_>) -> Option<Json<serde_json::Value>> {
        self.snapshot(ctx, self.0.after.as_deref())
    }
}

impl Revision {
    fn personal(&self, ctx: &Context<'_>) -> bool {
        may_read_personal(ctx, self.0.city_code.as_deref())
    }

    /// A stored snapshot, its writer's name hidden from those who may not read it.
    fn snapshot(&self, ctx: &Context<'_>, text: Option<&str>) -> Option<Json<serde_json::Value>> {
        let mut value: serde_json::Value = serde_json::from_str(text?).ok()?;
        if let Some(label) = value.get_mut("updatedBy")
            && label
                .as_str()
                .is_some_and(crate::domain::write::is_token_label)
            && !self.personal(ctx)
        {
            *label = serde_json::Value::Null;
        }
        Some(Json(value))
    }
}

/// Audit-trail queries.
#[derive(Default)]
pub struct RevisionQuery;

#[Object]
impl RevisionQuery {
    /// Accepted changes, newest first (Relay connection), optionally of one city, branch type
    /// and/or period. `first` defaults to 20 and may be at most 100 (more is a BAD_USER_INPUT error).
    #[allow(clippy::too_many_arguments)] // one GraphQL argument per filter reads best
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes to this city's records.")] city_code: Option<ID>,
        #[graphql(desc = "Only changes to records of this branch type.")] branch_type: Option<
            BranchType,
        >,
        #[graphql(desc = "Only changes to records of this period.")] period: Option<i32>,
        #[graphql(
            desc = "Only changes by this writer, as `actor.name` names them (e.g. \"张三 (zhangsan)\"). ADMIN only."
        )]
        actor: Option<String>,
        #[graphql(desc = "Page size: default 20, at most 100.")] first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
    ) -> Result<RevisionConnection> {
        let page =
            PageRequest::new(first, after.as_deref(), ctx.data::<Limits>()?.max_page_size).gql()?;
        let reader = return_reader(ctx);
        if actor.is_some() && reader != svc::ReturnReader::All {
            // Names are personal: filtering by one would tell who wrote what.
            return Err(super::error::to_graphql(
                &crate::error::AppError::Forbidden(
                    "only a province administrator filters the audit trail by writer".into(),
                ),
            ));
        }
        let filter = svc::RevisionFilter {
            city_code: city_code.map(|c| c.0),
            branch_type: branch_type.map(Into::into),
            period,
            actor,
            reader,
        };
        let page = svc::list(&db(ctx)?.conn, &filter, page).await.gql()?;
        Ok(RevisionConnection::from_page(page, Revision))
    }
}
