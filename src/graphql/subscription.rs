//! The subscription root: committed changes, as they happen (see `events` for how they travel).
//! Served over the WebSocket at /graphql/ws.

use std::sync::Arc;

use async_graphql::futures_util::stream::{self, Stream};
use async_graphql::{Context, Enum, ID, Object, Result, Subscription};
use entity::pilot_designation;
use tokio::sync::broadcast::{self, error::RecvError};

use super::city_return::{CityReturn, readable_city};
use super::coverage::{BranchType, Coverage};
use super::error::coded;
use super::loaders;
use super::pilot::PilotDesignation;
use super::revision::Revision;
use super::summary::ProvinceReport;
use crate::code::Code;
use crate::events::{Event, Events};
use crate::service::writes::snapshot::{
    CoverageSnapshot, DesignationSnapshot, ProvinceTotalSnapshot, ReturnSnapshot,
};

/// A coverage record as one write committed it, with that write's revision.
pub struct CoverageChange {
    record: entity::coverage_record::Model,
    revision: Arc<entity::revision::Model>,
}

/// A coverage record as one write committed it, with that write's revision.
#[Object]
impl CoverageChange {
    /// The record as the write left it.
    async fn coverage(&self) -> Coverage {
        Coverage::from(self.record.clone())
    }

    /// The write's revision: who, when, why, before and after. Null for those who may not read
    /// it: a figure published from a city's return carries the city's draft history, which is
    /// for the city's staff and administrators (see `revisions`).
    async fn revision(&self, ctx: &Context<'_>) -> Result<Option<Revision>> {
        let shown = super::revision::visible(ctx, vec![(*self.revision).clone()]).await?;
        Ok(shown.into_iter().next().map(Revision))
    }
}

/// What happened to a designation.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DesignationAction {
    /// The city joined the programme.
    Granted,
    /// The designation's year or source changed.
    Changed,
    /// The city's designation was removed.
    Revoked,
}

/// A designation as one write committed it, with that write's revision.
pub struct PilotDesignationChange {
    action: DesignationAction,
    designation: pilot_designation::Model,
    revision: Arc<entity::revision::Model>,
}

/// A designation as one write committed it, with that write's revision.
#[Object]
impl PilotDesignationChange {
    /// What happened.
    async fn action(&self) -> DesignationAction {
        self.action
    }

    /// The designation as the write left it; for REVOKED, as it was before.
    /// Its city and programme are read when the event is sent, so their lists show the change.
    async fn designation(&self) -> PilotDesignation {
        PilotDesignation::new(self.designation.clone())
    }

    /// The write's revision.
    async fn revision(&self) -> Revision {
        Revision((*self.revision).clone())
    }
}

/// A province-reported total as one write left it, with that write's revision.
pub struct ProvinceTotalChange {
    total: entity::province_total::Model,
    revision: Arc<entity::revision::Model>,
}

/// A province-reported total as one write left it, with that write's revision.
#[Object]
impl ProvinceTotalChange {
    /// The province's statement after the write.
    async fn province_report(&self) -> ProvinceReport {
        ProvinceReport::from(self.total.clone())
    }

    /// The write's revision.
    async fn revision(&self) -> Revision {
        Revision((*self.revision).clone())
    }
}

/// A city's return as one step left it, with that step's revision.
pub struct ReturnStatusChange {
    city_return: entity::city_return::Model,
    revision: Arc<entity::revision::Model>,
}

/// A city's return as one step left it, with that step's revision.
#[Object]
impl ReturnStatusChange {
    /// The return after the step.
    async fn city_return(&self) -> CityReturn {
        CityReturn(self.city_return.clone())
    }

    /// The step's revision: who, when, the comment or reason, before and after.
    async fn revision(&self) -> Revision {
        Revision((*self.revision).clone())
    }
}

/// Changes, as they are committed.
#[derive(Default)]
pub struct Subscription;

/// Changes, as they are committed. Each event is sent after its write commits, in commit order.
/// An error with code EVENTS_MISSED means events may have been lost (the server's database
/// connection was re-established): read the current figures again; the subscription goes on.
/// A subscriber that falls too far behind gets SUBSCRIBER_TOO_SLOW and its connection is closed
/// with code 4008.
#[Subscription]
impl Subscription {
    /// Every committed change of a coverage record, optionally of one city and/or branch type.
    async fn coverage_changed<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Only this city's records.")] city_code: Option<ID>,
        #[graphql(desc = "Only records of this branch type.")] branch_type: Option<BranchType>,
    ) -> Result<impl Stream<Item = Result<CoverageChange>> + 'a> {
        let city_code = city_code.map(|c| c.0);
        let branch_type = branch_type.map(entity::BranchType::from);
        Ok(Feed::new(ctx)?.stream(move |event| {
            let Event::Coverage {
                record_id,
                revision,
            } = event
            else {
                return None;
            };
            if city_code
                .as_ref()
                .is_some_and(|c| revision.city_code.as_ref() != Some(c))
                || branch_type.is_some_and(|t| revision.branch_type != Some(t))
            {
                return None;
            }
            let record = CoverageSnapshot::read(*record_id, revision.after.as_deref()?)?;
            Some(CoverageChange {
                record,
                revision: Arc::clone(revision),
            })
        }))
    }

    /// Every step on a city's return (edited into a draft, submitted, sent back, approved,
    /// reopened), optionally of one period's round. Read by those who work on returns: an
    /// administrator hears every city's, city staff their own city's; a token is needed (in
    /// `connection_init`).
    async fn return_status_changed<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Only this period's round.")] period: Option<i32>,
    ) -> Result<impl Stream<Item = Result<ReturnStatusChange>> + 'a> {
        let city = readable_city(ctx)?;
        Ok(Feed::new(ctx)?.stream(move |event| {
            let Event::Return { revision } = event else {
                return None;
            };
            if period.is_some_and(|p| revision.period != Some(p))
                || city
                    .as_ref()
                    .is_some_and(|c| revision.city_code.as_ref() != Some(c))
            {
                return None;
            }
            Some(ReturnStatusChange {
                city_return: ReturnSnapshot::read(revision.after.as_deref()?, revision.at)?,
                revision: Arc::clone(revision),
            })
        }))
    }

    /// Every committed change of a province-reported total, optionally of one period.
    async fn province_total_changed<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Only this period's totals.")] period: Option<i32>,
    ) -> Result<impl Stream<Item = Result<ProvinceTotalChange>> + 'a> {
        Ok(Feed::new(ctx)?.stream(move |event| {
            let Event::ProvinceTotal { revision } = event else {
                return None;
            };
            if period.is_some_and(|p| revision.period != Some(p)) {
                return None;
            }
            Some(ProvinceTotalChange {
                total: ProvinceTotalSnapshot::read(revision.after.as_deref()?)?,
                revision: Arc::clone(revision),
            })
        }))
    }

    /// Every committed change of a pilot designation, optionally of one city and/or programme.
    async fn pilot_designation_changed<'a>(
        &self,
        ctx: &Context<'a>,
        #[graphql(desc = "Only this city's designations.")] city_code: Option<ID>,
        #[graphql(desc = "Only designations in this programme.")] program_code: Option<ID>,
    ) -> Result<impl Stream<Item = Result<PilotDesignationChange>> + 'a> {
        let city_code = city_code.map(|c| c.0);
        let program_code = program_code.map(|c| c.0);
        Ok(Feed::new(ctx)?.stream(move |event| {
            let Event::Designation { revision } = event else {
                return None;
            };
            if city_code
                .as_ref()
                .is_some_and(|c| revision.city_code.as_ref() != Some(c))
                || program_code
                    .as_ref()
                    .is_some_and(|p| revision.program_code.as_ref() != Some(p))
            {
                return None;
            }
            let (action, state) = match (&revision.before, &revision.after) {
                (None, Some(after)) => (DesignationAction::Granted, after),
                (Some(_), Some(after)) => (DesignationAction::Changed, after),
                (Some(before), None) => (DesignationAction::Revoked, before),
                (None, None) => return None,
            };
            Some(PilotDesignationChange {
                action,
                designation: DesignationSnapshot::read(state)?,
                revision: Arc::clone(revision),
            })
        }))
    }
}

/// What a subscription may ask of the connection it is served on (the WebSocket layer puts one
/// in each operation's data): to close it, because its subscriber fell too far behind.
pub trait Socket: Send + Sync {
    /// Closes the connection, saying `reason`.
    fn too_slow(&self, reason: &str);
}

/// One subscription's view of the event hub.
struct Feed {
    rx: broadcast::Receiver<Event>,
    connection: Option<Arc<dyn Socket>>,
}

impl Feed {
    fn new(ctx: &Context<'_>) -> Result<Self> {
        // Touch the loaders so that a subscription without them fails at once, not per event.
        loaders(ctx)?;
        Ok(Self {
            rx: ctx.data::<Events>()?.subscribe(),
            connection: ctx.data_opt::<Arc<dyn Socket>>().cloned(),
        })
    }

    /// The events `select` keeps, as a stream that ends after telling a subscriber it was too
    /// slow.
    fn stream<T: Send + 'static>(
        self,
        select: impl Fn(&Event) -> Option<T> + Send + 'static,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        stream::unfold(Some((self, select)), |state| async move {
            let (mut feed, select) = state?;
            loop {
                match feed.rx.recv().await {
                    Ok(Event::Missed { reason }) => {
                        let error = coded(Code::EventsMissed, &*reason);
                        return Some((Err(error), Some((feed, select))));
                    }
                    Ok(event) => {
                        if let Some(item) = select(&event) {
                            return Some((Ok(item), Some((feed, select))));
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        metrics::counter!("coverage_api_events_dropped_total").increment(missed);
                        let reason =
                            format!("subscriber too slow: {missed} events were not read in time");
                        if let Some(connection) = &feed.connection {
                            connection.too_slow(&reason);
                        }
                        return Some((Err(coded(Code::SubscriberTooSlow, reason)), None));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        })
    }
}
