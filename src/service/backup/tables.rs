//! The tables a backup holds, in an order that inserts every row after the rows it refers to,
//! each read whole in primary-key order. Left out: `coverage_sums` (kept by the triggers on
//! `public_records`, so a restore makes it again, and the manifest counts it to check that),
//! `sign_in_failures` (waits that lapse within the hour) and `seaql_migrations` (the backup
//! names its schema version instead).

use std::collections::BTreeMap;

use entity::{
    account, api_token, city, city_return, coverage_record, pilot_designation, pilot_program,
    province_total, public_record, publication, published_record, revision, round,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Iterable,
    PaginatorTrait, PrimaryKeyToColumn, QueryOrder,
};
use serde::{Deserialize, Serialize};

/// Rows per INSERT: well within SQLite's and PostgreSQL's bound on bound parameters.
const ROWS_PER_INSERT: usize = 200;

/// Every row of `E`, in primary-key order.
async fn all<E: EntityTrait>(db: &impl ConnectionTrait) -> Result<Vec<E::Model>, DbErr> {
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    query.all(db).await
}

/// Inserts `rows` into `E` as they are, ids included.
async fn insert<E, A>(db: &impl ConnectionTrait, rows: &[E::Model]) -> Result<(), DbErr>
where
    E: EntityTrait<ActiveModel = A>,
    E::Model: IntoActiveModel<A> + Clone,
    A: ActiveModelTrait<Entity = E> + Send,
{
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        E::insert_many(
            chunk
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

macro_rules! tables {
    ($($name:ident: $entity:ident;)*) => {
        /// Every table's rows, as stored.
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Tables {
            $(
                #[doc = concat!("The rows of `", stringify!($name), "`.")]
                pub $name: Vec<$entity::Model>,
            )*
        }

        impl Tables {
            /// Reads every table through `db` (one transaction: one snapshot).
            pub async fn read(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
                Ok(Self { $($name: all::<$entity::Entity>(db).await?,)* })
            }

            /// Inserts every table's rows through `db`, parents first.
            pub async fn insert(&self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
                $(insert::<$entity::Entity, _>(db, &self.$name).await?;)*
                Ok(())
            }

            /// How many rows each table holds here.
            pub fn counts(&self) -> BTreeMap<String, u64> {
                BTreeMap::from([$((stringify!($name).to_owned(), self.$name.len() as u64),)*])
            }
        }

        /// How many rows each table holds in `db`, parents first.
        pub async fn counts_in(db: &impl ConnectionTrait) -> Result<Vec<(String, u64)>, DbErr> {
            Ok(vec![
                $((stringify!($name).to_owned(), $entity::Entity::find().count(db).await?),)*
            ])
        }
    };
}

tables! {
    cities: city;
    pilot_programs: pilot_program;
    pilot_designations: pilot_designation;
    province_totals: province_total;
    accounts: account;
    api_tokens: api_token;
    revisions: revision;
    rounds: round;
    city_returns: city_return;
    coverage_records: coverage_record;
    public_records: public_record;
    publications: publication;
    published_records: published_record;
}
