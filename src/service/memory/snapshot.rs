//! The published figures as one immutable value, in the shapes the resolvers ask for, and the
//! reads of `service::cities`, `service::coverage` and `service::summary` answered from it: the
//! same filters, orders, pages, defaults, refusals and sums as their SQL, which the comparison
//! test (`tests/api/cold_reads.rs`) holds them to.

use std::cmp::Ordering;
use std::collections::HashMap;

use entity::{city, coverage_record, pilot_designation, pilot_program, province_total};

use crate::domain::summary::{Summary, Sums, TypeSummary};
use crate::domain::{BRANCH_TYPES, BranchType, Page, PageRequest, coverage_rate};
use crate::error::{AppError, AppResult};
use crate::service::cities::{
    Along, CityFilter, CityOrder, CityOrderField, CityWith, DesignatedProgram,
};

/// Everything the public may read, as one commit left it.
#[derive(Debug)]
pub struct Snapshot {
    /// The data's generation it was read in (see `events::Generation`).
    pub(super) generation: u64,
    /// Every city, by code.
    cities: Vec<city::Model>,
    /// A city's place in `cities`.
    position: HashMap<String, usize>,
    /// Each city's published records (same places as `cities`), by period, then branch type in
    /// the API's order.
    records: Vec<Vec<coverage_record::Model>>,
    /// Each city's designations with their programmes, by programme code.
    programs: Vec<Vec<DesignatedProgram>>,
    /// The province's own totals.
    totals: Vec<province_total::Model>,
    /// Every period with public data, oldest first.
    periods: Vec<i32>,
    /// The latest period with public data (`service::LATEST_PERIOD_SQL`).
    latest: Option<i32>,
    /// The summary of every period in `periods`.
    summaries: HashMap<i32, Summary>,
    /// What it holds, in bytes (an estimate: the values and what their strings hold).
    pub(super) bytes: usize,
}

/// The rows a snapshot is made of, as read in one transaction.
pub(super) struct Rows {
    pub cities: Vec<city::Model>,
    pub records: Vec<coverage_record::Model>,
    pub designations: Vec<pilot_designation::Model>,
    pub programs: Vec<pilot_program::Model>,
    pub totals: Vec<province_total::Model>,
}

/// A branch type's place in the API's order (ENTERPRISE, UNIVERSITY, TOWNSHIP).
fn type_order(branch_type: BranchType) -> usize {
    BRANCH_TYPES
        .iter()
        .position(|t| *t == branch_type)
        .unwrap_or(BRANCH_TYPES.len())
}

fn rate_of(record: &coverage_record::Model) -> Option<f64> {
    coverage_rate(
        record.branch_count,
        record.eligible_count,
        record.stated_rate,
    )
    .value
}

impl Snapshot {
    /// Arranges `rows` read in `generation`.
    pub(super) fn new(generation: u64, rows: Rows) -> Self {
        let Rows {
            mut cities,
            records,
            designations,
            programs,
            totals,
        } = rows;
        cities.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        let position: HashMap<String, usize> = cities
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        let mut by_city: Vec<Vec<coverage_record::Model>> = vec![Vec::new(); cities.len()];
        let mut periods: Vec<i32> = totals.iter().map(|t| t.period).collect();
        let latest_record = records.iter().map(|r| r.period).max();
        for record in records {
            periods.push(record.period);
            if let Some(&i) = position.get(&record.city_code) {
                by_city[i].push(record);
            }
        }
        for list in &mut by_city {
            list.sort_unstable_by_key(|r| (r.period, type_order(r.branch_type)));
            list.shrink_to_fit();
        }
        periods.sort_unstable();
        periods.dedup();
        let latest = latest_record.or_else(|| totals.iter().map(|t| t.period).max());

        let programs_by_code: HashMap<&str, &pilot_program::Model> =
            programs.iter().map(|p| (p.code.as_str(), p)).collect();
        let mut designated: Vec<Vec<DesignatedProgram>> = vec![Vec::new(); cities.len()];
        for designation in designations {
            let (Some(&i), Some(program)) = (
                position.get(&designation.city_code),
                programs_by_code.get(designation.program_code.as_str()),
            ) else {
                continue;
            };
            designated[i].push((designation, (*program).clone()));
        }
        for list in &mut designated {
            list.sort_unstable_by(|a, b| a.0.program_code.cmp(&b.0.program_code));
        }

        let mut snapshot = Self {
            generation,
            cities,
            position,
            records: by_city,
            programs: designated,
            totals,
            periods,
            latest,
            summaries: HashMap::new(),
            bytes: 0,
        };
        snapshot.summaries = snapshot
            .periods
            .iter()
            .map(|&p| (p, snapshot.summarise(p)))
            .collect();
        snapshot.bytes = snapshot.weigh();
        snapshot
    }

    /// What it holds, in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// One city, if the code exists.
    pub fn city(&self, code: &str) -> Option<&city::Model> {
        self.position.get(code).map(|&i| &self.cities[i])
    }

    /// `period`, or the latest period with data.
    fn period(&self, period: Option<i32>) -> Option<i32> {
        period.or(self.latest)
    }

    /// A city's records of one period (the latest when `None`), of one type or every type, in
    /// the API's order of types.
    pub fn coverage(
        &self,
        code: &str,
        period: Option<i32>,
        branch_type: Option<BranchType>,
    ) -> Vec<coverage_record::Model> {
        match self.position.get(code) {
            Some(&i) => self.coverage_at(i, period, branch_type).cloned().collect(),
            None => Vec::new(),
        }
    }

    fn coverage_at(
        &self,
        i: usize,
        period: Option<i32>,
        branch_type: Option<BranchType>,
    ) -> impl Iterator<Item = &coverage_record::Model> {
        let period = self.period(period);
        self.records[i].iter().filter(move |r| {
            Some(r.period) == period && branch_type.is_none_or(|t| t == r.branch_type)
        })
    }

    /// One record of a city: its type in a period (the latest when `None`).
    fn record(
        &self,
        i: usize,
        branch_type: BranchType,
        period: Option<i32>,
    ) -> Option<&coverage_record::Model> {
        self.coverage_at(i, period, Some(branch_type)).next()
    }

    /// Every period's records of a city, of one type or all, oldest first, by type within a
    /// period.
    pub fn history(
        &self,
        code: &str,
        branch_type: Option<BranchType>,
    ) -> Vec<coverage_record::Model> {
        let Some(&i) = self.position.get(code) else {
            return Vec::new();
        };
        self.records[i]
            .iter()
            .filter(|r| branch_type.is_none_or(|t| t == r.branch_type))
            .cloned()
            .collect()
    }

    /// A city's designations with their programmes, by programme code.
    pub fn programs(&self, code: &str) -> Vec<DesignatedProgram> {
        self.position
            .get(code)
            .map(|&i| self.programs[i].clone())
            .unwrap_or_default()
    }

    /// Every period with public data, oldest first.
    pub fn periods(&self) -> Vec<i32> {
        self.periods.clone()
    }

    /// The page of cities `service::cities::list` answers, with what `along` asks for.
    pub fn list(
        &self,
        filter: &CityFilter,
        order: &CityOrder,
        page: PageRequest,
        along: &Along,
    ) -> AppResult<Page<CityWith>> {
        filter.check()?;
        let figure = match order.field {
            CityOrderField::BranchCount | CityOrderField::CoverageRate => {
                Some(order.figure_type()?)
            }
            CityOrderField::Code | CityOrderField::Name => None,
        };
        let mut matching: Vec<usize> = (0..self.cities.len())
            .filter(|&i| self.passes(i, filter))
            .collect();
        match (order.field, figure) {
            (CityOrderField::Code, _) => {
                // `cities` is in code order already.
                if order.descending {
                    matching.reverse();
                }
            }
            (CityOrderField::Name, _) => matching.sort_by(|&a, &b| {
                let ordering = self.cities[a].name_en.cmp(&self.cities[b].name_en);
                let ordering = if order.descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                ordering.then_with(|| self.cities[a].code.cmp(&self.cities[b].code))
            }),
            (field, Some(branch_type)) => {
                let key = |i: usize| -> Option<f64> {
                    let record = self.record(i, branch_type, order.period)?;
                    if field == CityOrderField::BranchCount {
                        record.branch_count.map(f64::from)
                    } else {
                        rate_of(record)
                    }
                };
                let mut keyed: Vec<(Option<f64>, usize)> =
                    matching.iter().map(|&i| (key(i), i)).collect();
                keyed.sort_by(|(ka, a), (kb, b)| {
                    // Unknown figures last in either direction, ties by code (`sql::order_keys`).
                    let by_key = match (ka, kb) {
                        (Some(x), Some(y)) => {
                            // Equal as in SQL (0 and -0 alike); a NaN (stored by hand on
                            // PostgreSQL) after every number, as PostgreSQL sorts it.
                            let o = x.partial_cmp(y).unwrap_or_else(|| x.total_cmp(y));
                            if order.descending { o.reverse() } else { o }
                        }
                        (Some(_), None) => Ordering::Less,
                        (None, Some(_)) => Ordering::Greater,
                        (None, None) => Ordering::Equal,
                    };
                    by_key.then_with(|| self.cities[*a].code.cmp(&self.cities[*b].code))
                });
                matching = keyed.into_iter().map(|(_, i)| i).collect();
            }
            (_, None) => {}
        }
        let total = matching.len() as u64;
        let start = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let take = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let items = matching
            .into_iter()
            .skip(start)
            .take(take)
            .map(|i| self.with(i, along))
            .collect();
        Ok(Page {
            items,
            offset: page.offset,
            total,
        })
    }

    /// Whether city `i` passes `filter` (every condition given).
    fn passes(&self, i: usize, filter: &CityFilter) -> bool {
        if filter.kind.is_some_and(|kind| kind != self.cities[i].kind) {
            return false;
        }
        if let Some(program) = &filter.program_code
            && !self.programs[i]
                .iter()
                .any(|(d, _)| &d.program_code == program)
        {
            return false;
        }
        if let Some(threshold) = filter.min_coverage {
            let rate = self
                .record(i, threshold.branch_type, threshold.period)
                .and_then(rate_of);
            if !rate.is_some_and(|rate| rate >= threshold.min_rate) {
                return false;
            }
        }
        true
    }

    /// City `i` with what `along` asks for.
    fn with(&self, i: usize, along: &Along) -> CityWith {
        CityWith {
            city: self.cities[i].clone(),
            coverage: along
                .coverage
                .iter()
                .map(|&(period, branch_type)| {
                    self.coverage_at(i, period, branch_type).cloned().collect()
                })
                .collect(),
            programs: along.programs.then(|| self.programs[i].clone()),
        }
    }

    /// The summary of `period`, or of the latest period with data; `NotFound` when there is
    /// none (`service::summary::summary`).
    pub fn summary(&self, period: Option<i32>) -> AppResult<Summary> {
        let period = self
            .period(period)
            .ok_or_else(|| AppError::NotFound("there is no data for any period yet".into()))?;
        Ok(match self.summaries.get(&period) {
            Some(summary) => summary.clone(),
            // No record and no total of the period: nothing to count.
            None => Summary {
                period,
                by_type: BRANCH_TYPES
                    .iter()
                    .map(|&t| TypeSummary::of(t, None, None, Vec::new()))
                    .collect(),
            },
        })
    }

    /// The summary of `period`, counted.
    fn summarise(&self, period: i32) -> Summary {
        let mut sums: [Option<Sums>; 3] = [None; 3];
        let mut full: [Vec<city::Model>; 3] = Default::default();
        for (i, records) in self.records.iter().enumerate() {
            for record in records.iter().filter(|r| r.period == period) {
                let t = type_order(record.branch_type);
                let Some(slot) = sums.get_mut(t) else {
                    continue;
                };
                slot.get_or_insert_with(Sums::default).add(
                    record.branch_count,
                    record.eligible_count,
                    record.new_branches,
                );
                if rate_of(record).is_some_and(|rate| rate >= 1.0) {
                    full[t].push(self.cities[i].clone());
                }
            }
        }
        let by_type = BRANCH_TYPES
            .iter()
            .zip(sums.iter().zip(full))
            .map(|(&branch_type, (sums, full))| {
                TypeSummary::of(
                    branch_type,
                    sums.as_ref(),
                    self.totals
                        .iter()
                        .find(|t| t.branch_type == branch_type && t.period == period)
                        .cloned(),
                    full,
                )
            })
            .collect();
        Summary { period, by_type }
    }

    /// An estimate of the bytes held: every value's size and what its strings hold, each
    /// string's allocation rounded up to the allocator's 16-byte steps.
    fn weigh(&self) -> usize {
        fn text(s: &String) -> usize {
            s.capacity().next_multiple_of(16)
        }
        fn maybe(s: &Option<String>) -> usize {
            s.as_ref().map_or(0, text)
        }
        fn city(c: &city::Model) -> usize {
            size_of::<city::Model>() + text(&c.code) + text(&c.name) + text(&c.name_en)
        }
        fn record(r: &coverage_record::Model) -> usize {
            size_of::<coverage_record::Model>()
                + text(&r.city_code)
                + maybe(&r.rate_scope)
                + maybe(&r.source)
                + maybe(&r.updated_by)
        }
        fn program((d, p): &DesignatedProgram) -> usize {
            size_of::<DesignatedProgram>()
                + text(&d.city_code)
                + text(&d.program_code)
                + maybe(&d.source)
                + text(&p.code)
                + text(&p.name)
                + text(&p.name_en)
                + maybe(&p.source)
        }
        let cities: usize = self.cities.iter().map(|c| city(c) + 48).sum();
        let records: usize = self
            .records
            .iter()
            .map(|list| {
                list.iter().map(record).sum::<usize>()
                    + (list.capacity() - list.len()) * size_of::<coverage_record::Model>()
            })
            .sum();
        let programs: usize = self.programs.iter().flatten().map(program).sum();
        let totals: usize = self
            .totals
            .iter()
            .map(|t| size_of::<province_total::Model>() + maybe(&t.note) + maybe(&t.source))
            .sum();
        let summaries: usize = self
            .summaries
            .values()
            .flat_map(|s| &s.by_type)
            .map(|t| {
                size_of::<TypeSummary>() + t.full_coverage_cities.iter().map(city).sum::<usize>()
            })
            .sum();
        size_of::<Self>()
            + cities
            + records
            + programs
            + totals
            + summaries
            + (self.records.len() + self.programs.len()) * size_of::<Vec<()>>()
    }
}
