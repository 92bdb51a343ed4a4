//! The facts of the source report — the work report of the Henan Provincial Association for
//! Science and Technology to its committee, 2024-03-22 (`shared/seed/000_097fda7e6f8fa704.txt`) —
//! and nothing else. Every figure carries the words it comes from; what the report does not say
//! stays null. The Jiyuan "three chiefs" staffing rate (“三长”配备覆盖率) is a different
//! indicator from branch coverage and is deliberately not stored as one.

use entity::{city, coverage_record, pilot_designation, pilot_program, province_total};
use sea_orm::{
    ActiveValue::NotSet, ConnectionTrait, EntityTrait, PaginatorTrait, Set, TransactionSession,
    TransactionTrait,
};

use crate::domain::{BranchType, CityKind, ProgramLevel};
use crate::error::AppResult;

/// The report, as every source string names it.
pub const REPORT: &str = "河南省科协九届七次全委会议工作报告（2024-03-22）";

/// The period the report's figures describe.
pub const REPORT_PERIOD: i32 = 2023;

/// Who wrote the seeded rows.
pub const SEED_ACTOR: &str = "seed:report";

/// The 18 cities: code, name, pinyin name, kind.
pub const CITIES: [(&str, &str, &str, CityKind); 18] = [
    ("410100", "郑州", "Zhengzhou", CityKind::PrefectureCity),
    ("410200", "开封", "Kaifeng", CityKind::PrefectureCity),
    ("410300", "洛阳", "Luoyang", CityKind::PrefectureCity),
    ("410400", "平顶山", "Pingdingshan", CityKind::PrefectureCity),
    ("410500", "安阳", "Anyang", CityKind::PrefectureCity),
    ("410600", "鹤壁", "Hebi", CityKind::PrefectureCity),
    ("410700", "新乡", "Xinxiang", CityKind::PrefectureCity),
    ("410800", "焦作", "Jiaozuo", CityKind::PrefectureCity),
    ("410900", "濮阳", "Puyang", CityKind::PrefectureCity),
    ("411000", "许昌", "Xuchang", CityKind::PrefectureCity),
    ("411100", "漯河", "Luohe", CityKind::PrefectureCity),
    ("411200", "三门峡", "Sanmenxia", CityKind::PrefectureCity),
    ("411300", "南阳", "Nanyang", CityKind::PrefectureCity),
    ("411400", "商丘", "Shangqiu", CityKind::PrefectureCity),
    ("411500", "信阳", "Xinyang", CityKind::PrefectureCity),
    ("411600", "周口", "Zhoukou", CityKind::PrefectureCity),
    ("411700", "驻马店", "Zhumadian", CityKind::PrefectureCity),
    ("419001", "济源", "Jiyuan", CityKind::DemonstrationZone),
];

/// A city figure as the report states it.
struct CityFigure {
    city: &'static str,
    branch_type: BranchType,
    new_branches: Option<i32>,
    stated_rate: Option<f64>,
    rate_scope: Option<&'static str>,
    quote: &'static str,
}

const TOWNSHIP_SCOPE: &str = "townships and sub-districts (乡镇（街道）)";

const CITY_FIGURES: [CityFigure; 5] = [
    CityFigure {
        city: "410800",
        branch_type: BranchType::Enterprise,
        new_branches: Some(193),
        stated_rate: None,
        rate_scope: None,
        quote: "其中焦作市新成立企业科协 193 家",
    },
    CityFigure {
        city: "410900",
        branch_type: BranchType::Enterprise,
        new_branches: None,
        stated_rate: Some(0.95),
        rate_scope: Some("high-tech enterprises (高新技术企业)"),
        quote: "濮阳市高新技术企业科协覆盖率达到 95%",
    },
    CityFigure {
        city: "410400",
        branch_type: BranchType::Township,
        new_branches: None,
        stated_rate: Some(1.0),
        rate_scope: Some(TOWNSHIP_SCOPE),
        quote: "完善乡镇（街道）科协组织建设，平顶山、三门峡市实现全覆盖",
    },
    CityFigure {
        city: "411200",
        branch_type: BranchType::Township,
        new_branches: None,
        stated_rate: Some(1.0),
        rate_scope: Some(TOWNSHIP_SCOPE),
        quote: "完善乡镇（街道）科协组织建设，平顶山、三门峡市实现全覆盖",
    },
    CityFigure {
        city: "411500",
        branch_type: BranchType::Township,
        new_branches: None,
        stated_rate: Some(0.99),
        rate_scope: Some(TOWNSHIP_SCOPE),
        quote: "信阳市覆盖率达到 99%",
    },
];

/// A programme: code, Chinese name, English name, level, stated size, quote.
type ProgramFact = (
    &'static str,
    &'static str,
    &'static str,
    ProgramLevel,
    Option<i32>,
    &'static str,
);

/// The programmes. The national innovation-driven demonstration cities have no stated size: the
/// report names the two Henan cities selected in 2023 but gives no count of the programme.
const PROGRAMS: [ProgramFact; 4] = [
    (
        "HUISHI_HEZUO",
        "“会市合作”战略合作协议",
        "Association–city cooperation agreements",
        ProgramLevel::Provincial,
        Some(7),
        "先后与 7 个省辖市政府签署战略合作协议……平顶山将“推动各县（市、区）至少建设一个科技馆”写入协议",
    ),
    (
        "INNOVATION_DEMO",
        "全国创新驱动示范市",
        "National innovation-driven demonstration cities",
        ProgramLevel::National,
        None,
        "濮阳、鹤壁入选全国创新驱动示范市",
    ),
    (
        "KECHUANG_PILOT",
        "“科创中原”试点城市",
        "Kechuang Zhongyuan pilot cities",
        ProgramLevel::Provincial,
        Some(3),
        "启动漯河、新乡、焦作 3 家省辖市“科创中原”试点城市建设",
    ),
    (
        "QUANYU_KEPU",
        "全域科普试点",
        "All-area science popularisation pilots",
        ProgramLevel::Provincial,
        Some(7),
        "举办全域科普试点工作观摩交流活动，7市扎实推进全域科普行动",
    ),
];

/// Designations the report names: city, programme, since year (null where the report gives
/// none: the cooperation agreements were signed 先后, "one after another", years unstated).
const DESIGNATIONS: [(&str, &str, Option<i32>); 6] = [
    ("411100", "KECHUANG_PILOT", Some(2023)),
    ("410700", "KECHUANG_PILOT", Some(2023)),
    ("410800", "KECHUANG_PILOT", Some(2023)),
    ("410900", "INNOVATION_DEMO", Some(2023)),
    ("410600", "INNOVATION_DEMO", Some(2023)),
    ("410400", "HUISHI_HEZUO", None),
];

/// Province-level statements: branch type, total, note, quote. A note is written "English
/// (中文)", as a stated rate's scope is, so that each language's view shows its own part whole.
const PROVINCE_TOTALS: [(BranchType, Option<i32>, &str, &str); 2] = [
    (
        BranchType::Enterprise,
        Some(927),
        "enterprise branches at all levels, more than 300 more than in 2022 (各级企业科协，较 2022 年新增 300 多家)",
        "全省各级企业科协达到 927 家，较 2022 年新增 300 多家",
    ),
    (
        BranchType::University,
        None,
        "no total stated: more than 50 university, medical and research-institute branches \
         established in 2023, public undergraduate universities in the province basically all \
         covered (未给出总数：全年建立高校、医疗卫生机构和科研院所科协 50 余个，基本实现公立省内本科院校\
         科协组织全覆盖)",
        "全年建立高校、医疗卫生机构和科研院所科协 50 余个，基本实现公立省内本科院校科协组织全覆盖",
    ),
];

fn source(quote: &str) -> String {
    format!("{REPORT}: “{quote}”")
}

/// Loads the report's facts into `db` if it holds no cities, in one transaction, and publishes
/// them: the report's year is a closed round whose returns are approved and published (by
/// `seed:report`). Returns whether it loaded anything.
pub async fn load_if_empty<C: ConnectionTrait + TransactionTrait>(db: &C) -> AppResult<bool> {
    load(db, true).await
}

/// Loads the report's facts as the releases before publication did, into their one table of
/// records: the upgrade tests build a previous release's database with it, then migrate it.
pub async fn load_unpublished_if_empty<C: ConnectionTrait + TransactionTrait>(
    db: &C,
) -> AppResult<bool> {
    load(db, false).await
}

async fn load<C: ConnectionTrait + TransactionTrait>(db: &C, publish: bool) -> AppResult<bool> {
    let txn = db.begin().await?;
    if city::Entity::find().count(&txn).await? > 0 {
        return Ok(false);
    }
    let now = crate::domain::now();
    city::Entity::insert_many(CITIES.iter().map(|&(code, name, name_en, kind)| {
        city::ActiveModel {
            code: Set(code.into()),
            name: Set(name.into()),
            name_en: Set(name_en.into()),
            kind: Set(kind),
        }
    }))
    .exec(&txn)
    .await?;
    coverage_record::Entity::insert_many(CITY_FIGURES.iter().map(|f| {
        coverage_record::ActiveModel {
            id: NotSet,
            city_code: Set(f.city.into()),
            branch_type: Set(f.branch_type),
            period: Set(REPORT_PERIOD),
            branch_count: Set(None),
            eligible_count: Set(None),
            new_branches: Set(f.new_branches),
            stated_rate: Set(f.stated_rate),
            rate_scope: Set(f.rate_scope.map(Into::into)),
            source: Set(Some(source(f.quote))),
            version: Set(1),
            updated_at: Set(now),
            updated_by: Set(Some(SEED_ACTOR.into())),
        }
    }))
    .exec(&txn)
    .await?;
    pilot_program::Entity::insert_many(PROGRAMS.iter().map(
        |&(code, name, name_en, level, stated_size, quote)| pilot_program::ActiveModel {
            code: Set(code.into()),
            name: Set(name.into()),
            name_en: Set(name_en.into()),
            level: Set(level),
            stated_size: Set(stated_size),
            source: Set(Some(source(quote))),
            // The column's default (1), so that the report loads into the schema of the
            // releases before programmes had versions too (the upgrade tests build those).
            version: NotSet,
        },
    ))
    .exec(&txn)
    .await?;
    pilot_designation::Entity::insert_many(DESIGNATIONS.iter().map(|&(city, program, since)| {
        let quote = PROGRAMS.iter().find(|p| p.0 == program).map_or("", |p| p.5);
        pilot_designation::ActiveModel {
            city_code: Set(city.into()),
            program_code: Set(program.into()),
            since_year: Set(since),
            source: Set(Some(source(quote))),
            // The column's default (1): the previous release's schema has no such column,
            // and the upgrade test seeds it with this code.
            version: NotSet,
        }
    }))
    .exec(&txn)
    .await?;
    province_total::Entity::insert_many(PROVINCE_TOTALS.iter().map(
        |&(branch_type, total, note, quote)| province_total::ActiveModel {
            branch_type: Set(branch_type),
            period: Set(REPORT_PERIOD),
            total: Set(total),
            note: Set(Some(note.into())),
            source: Set(Some(source(quote))),
            updated_at: Set(now),
            // The column's default (1): the previous release's schema has no such column,
            // and the upgrade test seeds it with this code.
            version: NotSet,
        },
    ))
    .exec(&txn)
    .await?;
    if publish {
        migration::publish_as_loaded(&txn, now, SEED_ACTOR).await?;
    }
    txn.commit().await?;
    // PostgreSQL analyses a table by itself only after 50 changed rows, so the report's small
    // tables would keep the planner's default guesses, and the dashboard's statement plans a
    // hash join per city where an index lookup does (15 % of its time in the database). SQLite
    // needs no statistics to pick its indexes here, and with them it plans again every
    // statement whose bound values its statistics could use.
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // The tables this seed filled; the others grow with use, and autovacuum analyses them.
        // (A previous release's schema, which the upgrade tests load, has no public table.)
        let public = if publish { ", public_records" } else { "" };
        db.execute_unprepared(&format!(
            "ANALYZE cities, coverage_records{public}, pilot_programs, pilot_designations, \
             province_totals"
        ))
        .await?;
    }
    tracing::info!(
        cities = CITIES.len(),
        "loaded the report's facts into an empty database"
    );
    Ok(true)
}
