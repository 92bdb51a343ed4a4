//! A synthetic data set of any size, for benchmarks and demos. Deterministic (a fixed seed), and
//! every row's source says "synthetic", so it can never pass for the report's figures.

use entity::{city, coverage_record, pilot_designation, pilot_program, province_total};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveValue::NotSet, ConnectionTrait, EntityTrait, PaginatorTrait, Set, TransactionTrait,
};

use super::report::REPORT_PERIOD;
use crate::db::Database;
use crate::domain::{BRANCH_TYPES, BranchType, CityKind, ProgramLevel};
use crate::error::{AppError, AppResult};

/// The source of every synthetic row.
pub const SOURCE: &str = "synthetic";

/// Rows per INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const BATCH: usize = 500;

/// What was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// Cities inserted.
    pub cities: usize,
    /// Coverage records inserted.
    pub records: usize,
}

/// Fills an empty (migrated) database with `cities` cities and `periods` years of figures ending
/// in the report's period, in one transaction. Refuses a database that already holds cities.
pub async fn generate(db: &Database, cities: usize, periods: usize) -> AppResult<Generated> {
    if cities == 0 || periods == 0 || periods > 50 {
        return Err(AppError::BadUserInput(
            "--cities must be at least 1 and --periods between 1 and 50".into(),
        ));
    }
    let txn = db.conn.begin().await?;
    if city::Entity::find().count(&txn).await? > 0 {
        return Err(AppError::BadUserInput(
            "the database already holds cities; seed-synthetic only fills an empty database".into(),
        ));
    }
    let mut rng = StdRng::seed_from_u64(2023);
    let now = crate::domain::now();
    let codes: Vec<String> = (0..cities).map(|i| (900_001 + i).to_string()).collect();
    for chunk in codes.chunks(BATCH) {
        city::Entity::insert_many(chunk.iter().map(|code| city::ActiveModel {
            code: Set(code.clone()),
            name: Set(format!("合成市{code}")),
            name_en: Set(format!("Synthetic {code}")),
            kind: Set(CityKind::PrefectureCity),
        }))
        .exec(&txn)
        .await?;
    }

    let first_period = REPORT_PERIOD - i32::try_from(periods).unwrap_or(50) + 1;
    let mut records = Vec::with_capacity(cities * periods * BRANCH_TYPES.len());
    let mut totals = vec![0i64; periods * BRANCH_TYPES.len()];
    for code in &codes {
        for (t, &branch_type) in BRANCH_TYPES.iter().enumerate() {
            let eligible: i32 = match branch_type {
                BranchType::Enterprise => rng.random_range(50..=500),
                BranchType::University => rng.random_range(0..=20),
                BranchType::Township => rng.random_range(40..=200),
            };
            let mut branches: i32 = rng.random_range(0..=eligible / 2);
            for p in 0..periods {
                let added = rng
                    .random_range(0..=(eligible - branches) / 3 + 1)
                    .min(eligible - branches);
                branches += added;
                totals[p * BRANCH_TYPES.len() + t] += i64::from(branches);
                // One record in ten states only a rate, one in twenty lacks a denominator.
                let roll: f64 = rng.random();
                let (branch_count, eligible_count, stated_rate) = if roll < 0.10 && eligible > 0 {
                    (
                        None,
                        None,
                        Some((f64::from(branches) / f64::from(eligible) * 100.0).round() / 100.0),
                    )
                } else if roll < 0.15 {
                    (Some(branches), None, None)
                } else {
                    (Some(branches), Some(eligible), None)
                };
                records.push(coverage_record::ActiveModel {
                    id: NotSet,
                    city_code: Set(code.clone()),
                    branch_type: Set(branch_type),
                    period: Set(first_period + i32::try_from(p).unwrap_or_default()),
                    branch_count: Set(branch_count),
                    eligible_count: Set(eligible_count),
                    new_branches: Set((p > 0).then_some(added)),
                    stated_rate: Set(stated_rate),
                    rate_scope: Set(None),
                    source: Set(Some(SOURCE.into())),
                    version: Set(1),
                    updated_at: Set(now),
                    updated_by: Set(Some("seed:synthetic".into())),
                });
            }
        }
    }
    let record_count = records.len();
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        coverage_record::Entity::insert_many(records.by_ref().take(BATCH))
            .exec(&txn)
            .await?;
    }

    let programs = [
        (
            "HUISHI_HEZUO",
            "“会市合作”战略合作协议",
            "Association–city cooperation agreements",
            ProgramLevel::Provincial,
        ),
        (
            "INNOVATION_DEMO",
            "全国创新驱动示范市",
            "National innovation-driven demonstration cities",
            ProgramLevel::National,
        ),
        (
            "KECHUANG_PILOT",
            "“科创中原”试点城市",
            "Kechuang Zhongyuan pilot cities",
            ProgramLevel::Provincial,
        ),
        (
            "QUANYU_KEPU",
            "全域科普试点",
            "All-area science popularisation pilots",
            ProgramLevel::Provincial,
        ),
    ];
    let mut designations = Vec::new();
    for code in &codes {
        for (program, ..) in &programs {
            if rng.random_bool(0.25) {
                designations.push(pilot_designation::ActiveModel {
                    city_code: Set(code.clone()),
                    program_code: Set((*program).into()),
                    since_year: Set(Some(rng.random_range(first_period..=REPORT_PERIOD))),
                    source: Set(Some(SOURCE.into())),
                    // The column's default (1): the previous release's schema has no such column,
                    // and the upgrade test seeds it with this code.
                    version: NotSet,
                });
            }
        }
    }
    pilot_program::Entity::insert_many(programs.iter().map(|&(code, name, name_en, level)| {
        pilot_program::ActiveModel {
            code: Set(code.into()),
            name: Set(name.into()),
            name_en: Set(name_en.into()),
            level: Set(level),
            stated_size: Set(Some(
                i32::try_from(
                    designations
                        .iter()
                        .filter(|d| d.program_code.as_ref() == code)
                        .count(),
                )
                .unwrap_or(i32::MAX),
            )),
            source: Set(Some(SOURCE.into())),
            version: Set(1),
        }
    }))
    .exec(&txn)
    .await?;
    let mut designations = designations.into_iter().peekable();
    while designations.peek().is_some() {
        pilot_designation::Entity::insert_many(designations.by_ref().take(BATCH))
            .exec(&txn)
            .await?;
    }
    province_total::Entity::insert_many(totals.iter().enumerate().map(|(i, &sum)| {
        province_total::ActiveModel {
            branch_type: Set(BRANCH_TYPES[i % BRANCH_TYPES.len()]),
            period: Set(first_period + i32::try_from(i / BRANCH_TYPES.len()).unwrap_or_default()),
            total: Set(i32::try_from(sum).ok()),
            note: Set(Some(
                "synthetic: the sum of the synthetic cities' branch counts".into(),
            )),
            source: Set(Some(SOURCE.into())),
            updated_at: Set(now),
            // The column's default (1): the previous release's schema has no such column,
            // and the upgrade test seeds it with this code.
            version: NotSet,
        }
    }))
    .exec(&txn)
    .await?;
    // Every generated figure is public, as the province's own figures outside the yearly
    // return are: no rounds, so that any period can be written to (benchmarks, tests).
    migration::make_all_public(&txn).await?;
    txn.commit().await?;
    // Fresh statistics after a bulk load, so both planners pick the selective indexes at once.
    db.conn.execute_unprepared("ANALYZE").await?;
    Ok(Generated {
        cities,
        records: record_count,
    })
}
