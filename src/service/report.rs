//! What the yearly report says in words: the published figures of a year and of the year before,
//! read for [`crate::domain::paragraph`] to draft the coverage paragraph from.

use entity::{city, province_total, public_record};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::paragraph::{Figure, Paragraph, Year, paragraph};
use crate::error::AppResult;

/// The paragraph of `period`, compared with the year before where that is honest. Three
/// statements, whatever the number of cities: the cities, the published records of both years,
/// the province's totals of both years.
pub async fn coverage_paragraph(db: &impl ConnectionTrait, period: i32) -> AppResult<Paragraph> {
    let before = period.saturating_sub(1);
    let years = [before, period];
    let (cities, records, totals) = tokio::try_join!(
        city::Entity::find().all(db),
        public_record::Entity::find()
            .filter(public_record::Column::Period.is_in(years))
            .all(db),
        province_total::Entity::find()
            .filter(province_total::Column::Period.is_in(years))
            .all(db),
    )?;
    let names: std::collections::HashMap<&str, &city::Model> =
        cities.iter().map(|c| (c.code.as_str(), c)).collect();
    let year = |period: i32| Year {
        period,
        cities: cities.len(),
        figures: records
            .iter()
            .filter(|r| r.period == period)
            .filter_map(|r| {
                let city = names.get(r.city_code.as_str())?;
                Some(Figure {
                    city_code: r.city_code.clone(),
                    name: city.name.clone(),
                    name_en: city.name_en.clone(),
                    branch_type: r.branch_type,
                    branch_count: r.branch_count,
                    eligible_count: r.eligible_count,
                    new_branches: r.new_branches,
                    stated_rate: r.stated_rate,
                    rate_scope: r.rate_scope.clone(),
                })
            })
            .collect(),
        totals: totals
            .iter()
            .filter(|t| t.period == period)
            .filter_map(|t| Some((t.branch_type, t.total?)))
            .collect(),
    };
    let (previous, now) = (year(before), year(period));
    // The earliest year an Int names has no year before it.
    let held = !previous.figures.is_empty() || !previous.totals.is_empty();
    let previous = (before < period && held).then_some(&previous);
    Ok(paragraph(&now, previous))
}
