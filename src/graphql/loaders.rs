//! Every DataLoader, named by what it loads and by which key. Each turns the keys gathered from
//! one level of a query into one `IN (…)` statement. Loaders are built per request, with a cache
//! that lives as long as the request: nothing is ever served stale. (The city list needs none for
//! its cities' coverage and programmes: its own statement brings them, see `city::along`.)

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    city, city_return, coverage_record, pilot_designation, pilot_program, province_total, revision,
    round,
};

use crate::db::Database;
use crate::domain::BranchType;
use crate::error::AppError;
use crate::service;

/// Loader errors must be `Clone`: one failure answers every key of the batch.
pub type LoadError = Arc<AppError>;

/// A loader with a cache for the length of one request.
pub type RequestLoader<T> = DataLoader<T, HashMapCache>;

/// The most keys one batch holds (async-graphql's default is 1,000): a round's returns name every
/// city, and the review page's one read stays the same few statements up to a national scale
/// (3,000 counties). Each loader's statements bind at most this many values (or chunk their
/// keys themselves), far below either database's limit on bound values.
const MAX_BATCH: usize = 5_000;

/// The loaders of one request.
pub struct Loaders {
    /// City by code.
    pub city_by_code: RequestLoader<CityByCode>,
    /// A city's records in one period.
    pub coverage_by_city: RequestLoader<CoverageByCity>,
    /// A city's records in every period.
    pub history_by_city: RequestLoader<HistoryByCity>,
    /// A city's programmes, with the designation.
    pub programs_by_city: RequestLoader<ProgramsByCity>,
    /// A programme's cities, with the designation.
    pub cities_by_program: RequestLoader<CitiesByProgram>,
    /// A coverage record's revisions, by record key.
    pub revisions_by_record: RequestLoader<RevisionsByRecord>,
    /// A coverage record by its natural key (city, type, period).
    pub coverage_by_key: RequestLoader<CoverageByKey>,
    /// A programme by code.
    pub program_by_code: RequestLoader<ProgramByCode>,
    /// A designation by (city code, programme code).
    pub designation_by_key: RequestLoader<DesignationByKey>,
    /// A province-reported total by (branch type, period).
    pub province_total_by_key: RequestLoader<ProvinceTotalByKey>,
    /// A revision by number.
    pub revision_by_id: RequestLoader<RevisionById>,
    /// Rounds of the yearly return by period.
    pub round_by_period: RequestLoader<RoundByPeriod>,
    /// Cities' returns by (city code, period).
    pub return_by_key: RequestLoader<ReturnByKey>,
    /// The counts of a round's returns by status.
    pub return_counts: RequestLoader<ReturnCountsByPeriod>,
    /// A city's draft record by natural key (the working copy).
    pub draft_by_key: RequestLoader<DraftByKey>,
    /// A city's draft records of a period, by (city code, period).
    pub drafts_by_return: RequestLoader<DraftsByReturn>,
}

impl Loaders {
    /// Builds every loader over `db`, for one request.
    pub fn new(db: &Database) -> Self {
        fn make<T: Send + Sync + 'static>(loader: T) -> RequestLoader<T> {
            DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
                .max_batch_size(MAX_BATCH)
        }
        Self {
            city_by_code: make(CityByCode(db.clone())),
            coverage_by_city: make(CoverageByCity(db.clone())),
            history_by_city: make(HistoryByCity(db.clone())),
            programs_by_city: make(ProgramsByCity(db.clone())),
            cities_by_program: make(CitiesByProgram(db.clone())),
            revisions_by_record: make(RevisionsByRecord(db.clone())),
            coverage_by_key: make(CoverageByKey(db.clone())),
            program_by_code: make(ProgramByCode(db.clone())),
            designation_by_key: make(DesignationByKey(db.clone())),
            province_total_by_key: make(ProvinceTotalByKey(db.clone())),
            revision_by_id: make(RevisionById(db.clone())),
            round_by_period: make(RoundByPeriod(db.clone())),
            return_by_key: make(ReturnByKey(db.clone())),
            return_counts: make(ReturnCountsByPeriod(db.clone())),
            draft_by_key: make(DraftByKey(db.clone())),
            drafts_by_return: make(DraftsByReturn(db.clone())),
        }
    }
}

impl Loaders {
    /// Loaders that batch but keep nothing: for operations on the WebSocket, where a
    /// subscription resolves each event's selection with the same loaders and must not see the
    /// figures of an earlier event. One set serves every WebSocket operation of the instance
    /// (`Api`): the subscribers of an event ask at the same moment, so their keys meet in one
    /// batch (a thousand dashboards hearing a write read its city once, not a thousand times),
    /// and a subscription holds no loaders of its own.
    pub fn uncached(db: &Database) -> Self {
        let loaders = Self::new(db);
        loaders.city_by_code.enable_all_cache(false);
        loaders.coverage_by_city.enable_all_cache(false);
        loaders.history_by_city.enable_all_cache(false);
        loaders.programs_by_city.enable_all_cache(false);
        loaders.cities_by_program.enable_all_cache(false);
        loaders.revisions_by_record.enable_all_cache(false);
        loaders.coverage_by_key.enable_all_cache(false);
        loaders.program_by_code.enable_all_cache(false);
        loaders.designation_by_key.enable_all_cache(false);
        loaders.province_total_by_key.enable_all_cache(false);
        loaders.revision_by_id.enable_all_cache(false);
        loaders.round_by_period.enable_all_cache(false);
        loaders.return_by_key.enable_all_cache(false);
        loaders.return_counts.enable_all_cache(false);
        loaders.draft_by_key.enable_all_cache(false);
        loaders.drafts_by_return.enable_all_cache(false);
        loaders
    }
}

/// Groups (key, value) pairs into a map of vectors, keeping their order.
pub(super) fn group<K: std::hash::Hash + Eq, V>(
    rows: impl IntoIterator<Item = (K, V)>,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for (k, v) in rows {
        map.entry(k).or_default().push(v);
    }
    map
}

/// Loads cities by code.
pub struct CityByCode(Database);

impl Loader<String> for CityByCode {
    type Value = city::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, city::Model>, LoadError> {
        crate::metrics::loader_batch("city_by_code", keys.len());
        let cities = service::cities::by_codes(&self.0.conn, keys).await?;
        Ok(cities.into_iter().map(|c| (c.code.clone(), c)).collect())
    }
}

/// Which records of a city `City.coverage` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CoverageKey {
    /// The city.
    pub city_code: String,
    /// The period; the latest period with data when `None`.
    pub period: Option<i32>,
    /// One branch type, or all.
    pub branch_type: Option<BranchType>,
}

/// Loads a city's records in one period, through the city list's own statement
/// ([`service::cities::with_children`]): one statement for the whole batch, whatever the
/// arguments its keys use.
pub struct CoverageByCity(Database);

impl Loader<CoverageKey> for CoverageByCity {
    type Value = Vec<coverage_record::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CoverageKey],
    ) -> Result<HashMap<CoverageKey, Self::Value>, LoadError> {
        crate::metrics::loader_batch("coverage_by_city", keys.len());
        let wanted: HashSet<&CoverageKey> = keys.iter().collect();
        let mut along = service::cities::Along::default();
        let mut codes = HashSet::new();
        for key in keys {
            if !along.coverage.contains(&(key.period, key.branch_type)) {
                along.coverage.push((key.period, key.branch_type));
            }
            codes.insert(key.city_code.clone());
        }
        let codes: Vec<String> = codes.into_iter().collect();
        let mut out = HashMap::with_capacity(keys.len());
        for city in service::cities::with_children(&self.0.conn, &codes, &along).await? {
            for (&(period, branch_type), records) in along.coverage.iter().zip(city.coverage) {
                let key = CoverageKey {
                    city_code: city.city.code.clone(),
                    period,
                    branch_type,
                };
                if wanted.contains(&key) {
                    out.insert(key, records);
                }
            }
        }
        Ok(out)
    }
}

/// Which records `City.history` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryKey {
    /// The city.
    pub city_code: String,
    /// One branch type, or all.
    pub branch_type: Option<BranchType>,
}

/// Loads a city's records over every period, oldest first.
pub struct HistoryByCity(Database);

impl Loader<HistoryKey> for HistoryByCity {
    type Value = Vec<coverage_record::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[HistoryKey],
    ) -> Result<HashMap<HistoryKey, Self::Value>, LoadError> {
        crate::metrics::loader_batch("history_by_city", keys.len());
        let mut out = HashMap::with_capacity(keys.len());
        let by_args = group(keys.iter().map(|k| (k.branch_type, k.city_code.clone())));
        for (branch_type, codes) in by_args {
            let rows = service::coverage::history(&self.0.conn, &codes, branch_type).await?;
            let mut by_city = group(rows.into_iter().map(|r| (r.city_code.clone(), r)));
            for city_code in codes {
                let records = by_city.remove(&city_code).unwrap_or_default();
                out.insert(
                    HistoryKey {
                        city_code,
                        branch_type,
                    },
                    records,
                );
            }
        }
        Ok(out)
    }
}

pub use crate::service::cities::DesignatedProgram;

/// Loads the programmes a city holds, by programme code, through the city list's own
/// statement ([`service::cities::with_children`]).
pub struct ProgramsByCity(Database);

impl Loader<String> for ProgramsByCity {
    type Value = Vec<DesignatedProgram>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, LoadError> {
        crate::metrics::loader_batch("programs_by_city", keys.len());
        let along = service::cities::Along {
            coverage: Vec::new(),
            programs: true,
        };
        let cities = service::cities::with_children(&self.0.conn, keys, &along).await?;
        Ok(cities
            .into_iter()
            .map(|city| (city.city.code, city.programs.unwrap_or_default()))
            .collect())
    }
}

/// A designation with the city it names.
pub type DesignatedCity = (pilot_designation::Model, city::Model);

/// Loads the cities designated in a programme, by city code.
pub struct CitiesByProgram(Database);

impl Loader<String> for CitiesByProgram {
    type Value = Vec<DesignatedCity>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, LoadError> {
        crate::metrics::loader_batch("cities_by_program", keys.len());
        let rows = service::pilots::cities_of_programs(&self.0.conn, keys).await?;
        let mut map = group(
            rows.into_iter()
                .map(|(d, c)| (d.program_code.clone(), (d, c))),
        );
        Ok(keys
            .iter()
            .map(|k| (k.clone(), map.remove(k).unwrap_or_default()))
            .collect())
    }
}

/// Loads the revisions of coverage records by record key (`CITY/TYPE/PERIOD`), newest first.
pub struct RevisionsByRecord(Database);

impl Loader<String> for RevisionsByRecord {
    type Value = Vec<revision::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, LoadError> {
        crate::metrics::loader_batch("revisions_by_record", keys.len());
        let rows = service::revisions::of_coverage_records(&self.0.conn, keys).await?;
        let mut map = group(rows.into_iter().map(|r| (r.record_key.clone(), r)));
        Ok(keys
            .iter()
            .map(|k| (k.clone(), map.remove(k).unwrap_or_default()))
            .collect())
    }
}

/// The natural key of a coverage record: city, branch type, period.
pub type RecordKey = service::coverage::RecordKey;

/// Loads coverage records by natural key (what `node` and `nodes` ask for).
pub struct CoverageByKey(Database);

impl Loader<RecordKey> for CoverageByKey {
    type Value = coverage_record::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RecordKey]) -> Result<HashMap<RecordKey, Self::Value>, LoadError> {
        crate::metrics::loader_batch("coverage_by_key", keys.len());
        let rows = service::coverage::by_keys(&self.0.conn, keys).await?;
        Ok(rows
            .into_iter()
            .map(|r| ((r.city_code.clone(), r.branch_type, r.period), r))
            .collect())
    }
}

/// Loads cities' draft records (the working copy) by natural key.
pub struct DraftByKey(Database);

impl Loader<RecordKey> for DraftByKey {
    type Value = coverage_record::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RecordKey]) -> Result<HashMap<RecordKey, Self::Value>, LoadError> {
        crate::metrics::loader_batch("draft_by_key", keys.len());
        let rows = service::coverage::drafts_by_keys(&self.0.conn, keys).await?;
        Ok(rows
            .into_iter()
            .map(|r| ((r.city_code.clone(), r.branch_type, r.period), r))
            .collect())
    }
}

/// Loads the draft records of returns, by (city code, period): one statement per period.
pub struct DraftsByReturn(Database);

impl Loader<(String, i32)> for DraftsByReturn {
    type Value = Vec<coverage_record::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Self::Value>, LoadError> {
        crate::metrics::loader_batch("drafts_by_return", keys.len());
        let mut out: HashMap<(String, i32), Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (period, codes) in group(keys.iter().map(|(city, period)| (*period, city.clone()))) {
            for r in service::coverage::drafts_of(&self.0.conn, &codes, period).await? {
                if let Some(records) = out.get_mut(&(r.city_code.clone(), period)) {
                    records.push(r);
                }
            }
        }
        Ok(out)
    }
}

/// Loads programmes by code.
pub struct ProgramByCode(Database);

impl Loader<String> for ProgramByCode {
    type Value = pilot_program::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, LoadError> {
        crate::metrics::loader_batch("program_by_code", keys.len());
        let rows = service::pilots::by_codes(&self.0.conn, keys).await?;
        Ok(rows.into_iter().map(|p| (p.code.clone(), p)).collect())
    }
}

/// Loads designations by (city code, programme code).
pub struct DesignationByKey(Database);

impl Loader<(String, String)> for DesignationByKey {
    type Value = pilot_designation::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Self::Value>, LoadError> {
        crate::metrics::loader_batch("designation_by_key", keys.len());
        let rows = service::pilots::designations(&self.0.conn, keys).await?;
        Ok(rows
            .into_iter()
            .map(|d| ((d.city_code.clone(), d.program_code.clone()), d))
            .collect())
    }
}

/// Loads province-reported totals by (branch type, period).
pub struct ProvinceTotalByKey(Database);

impl Loader<(BranchType, i32)> for ProvinceTotalByKey {
    type Value = province_total::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(BranchType, i32)],
    ) -> Result<HashMap<(BranchType, i32), Self::Value>, LoadError> {
        crate::metrics::loader_batch("province_total_by_key", keys.len());
        let rows = service::summary::province_totals(&self.0.conn, keys).await?;
        Ok(rows
            .into_iter()
            .map(|t| ((t.branch_type, t.period), t))
            .collect())
    }
}

/// Loads rounds of the yearly return by period.
pub struct RoundByPeriod(Database);

impl Loader<i32> for RoundByPeriod {
    type Value = round::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, LoadError> {
        crate::metrics::loader_batch("round_by_period", keys.len());
        let rows = service::rounds::by_periods(&self.0.conn, keys).await?;
        Ok(rows.into_iter().map(|r| (r.period, r)).collect())
    }
}

/// Loads cities' returns by (city code, period).
pub struct ReturnByKey(Database);

impl Loader<(String, i32)> for ReturnByKey {
    type Value = city_return::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Self::Value>, LoadError> {
        crate::metrics::loader_batch("return_by_key", keys.len());
        let rows = service::returns::by_keys(&self.0.conn, keys).await?;
        Ok(rows
            .into_iter()
            .map(|r| ((r.city_code.clone(), r.period), r))
            .collect())
    }
}

/// Loads the counts of a round's returns by status, by period.
pub struct ReturnCountsByPeriod(Database);

impl Loader<i32> for ReturnCountsByPeriod {
    type Value = Vec<service::returns::StatusCount>;
    type Error = LoadError;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, LoadError> {
        crate::metrics::loader_batch("return_counts_by_period", keys.len());
        let rows = service::returns::counts(&self.0.conn, keys).await?;
        Ok(group(rows))
    }
}

/// Loads revisions by number.
pub struct RevisionById(Database);

impl Loader<i64> for RevisionById {
    type Value = revision::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, LoadError> {
        crate::metrics::loader_batch("revision_by_id", keys.len());
        let rows = service::revisions::by_ids(&self.0.conn, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}
