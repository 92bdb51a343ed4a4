//! The paragraph's sentences for synthetic years: rates over the reporting cities, compared with
//! the year before only when the same cities report, full coverage of a type or of a scope.

use super::*;

fn city(code: &str, counts: Option<(i32, i32)>) -> Figure {
    Figure {
        city_code: code.into(),
        name: format!("城{code}"),
        name_en: format!("City {code}"),
        branch_type: BranchType::Enterprise,
        branch_count: counts.map(|c| c.0),
        eligible_count: counts.map(|c| c.1),
        new_branches: None,
        stated_rate: None,
        rate_scope: None,
    }
}

fn year(period: i32, figures: Vec<Figure>) -> Year {
    Year {
        period,
        cities: 3,
        figures,
        totals: Vec::new(),
    }
}

/// The enterprise sentence of each language.
fn enterprise(p: &Paragraph) -> (&str, &str) {
    (
        p.zh.split_inclusive('。').next().unwrap_or_default(),
        p.en.split(". ").next().unwrap_or_default(),
    )
}

#[test]
fn a_rate_over_every_city_is_compared_with_the_year_before_from_the_same_cities() {
    let before = year(
        2023,
        vec![
            city("1", Some((50, 100))),
            city("2", Some((30, 60))),
            city("3", Some((20, 40))),
        ],
    );
    let now = year(
        2024,
        vec![
            city("1", Some((60, 100))),
            city("2", Some((33, 60))),
            city("3", Some((27, 40))),
        ],
    );
    let p = paragraph(&now, Some(&before));
    assert_eq!(
        enterprise(&p),
        (
            "全省企业科协覆盖率为60%，较上年提高10个百分点。",
            "Enterprise branches coverage across the province was 60%, up 10 percentage points on 2023"
        )
    );
    let p = paragraph(&before, Some(&now));
    assert_eq!(
        enterprise(&p).0,
        "全省企业科协覆盖率为50%，较上年下降10个百分点。"
    );
}

#[test]
fn a_rate_from_other_cities_than_the_year_before_is_not_compared_and_says_how_many_report() {
    let before = year(
        2023,
        vec![city("1", Some((50, 100))), city("2", Some((30, 60)))],
    );
    let now = year(
        2024,
        vec![city("1", Some((60, 100))), city("3", Some((30, 100)))],
    );
    let p = paragraph(&now, Some(&before));
    assert_eq!(
        enterprise(&p),
        (
            "全省3个市中2个市报送了企业科协组织数和应建单位数，合计覆盖率为45%（上年报送的市不同，不作比较）。",
            "In the 2 of 3 cities that reported both counts, enterprise branches coverage was 45% \
             (2023 figures came from a different set of cities and are not compared)"
        )
    );
}

#[test]
fn full_coverage_names_its_cities_and_a_stated_rate_keeps_its_scope() {
    let mut stated = city("3", None);
    stated.stated_rate = Some(1.0);
    stated.rate_scope = Some("high-tech enterprises (高新技术企业)".into());
    let mut partly = city("4", None);
    partly.stated_rate = Some(0.955);
    partly.rate_scope = Some("high-tech enterprises (高新技术企业)".into());
    let now = Year {
        cities: 18,
        ..year(
            2024,
            vec![
                city("1", Some((40, 40))),
                city("2", Some((10, 20))),
                stated,
                partly,
            ],
        )
    };
    let p = paragraph(&now, None);
    assert_eq!(
        enterprise(&p).0,
        "全省18个市中2个市报送了企业科协组织数和应建单位数，合计覆盖率为83.3%；\
         城1实现企业科协全覆盖；城3实现高新技术企业科协全覆盖；城4高新技术企业科协覆盖率达95.5%。"
    );
    assert!(
        p.en.contains(
            "City 1 covered all enterprise branches; City 3 covered all high-tech enterprises; \
             City 4 stated 95.5% coverage of high-tech enterprises."
        ),
        "{}",
        p.en
    );
}

#[test]
fn many_cities_are_named_five_at_a_time_and_a_type_without_figures_says_so() {
    let figures = (1..=7)
        .map(|i| city(&i.to_string(), Some((5, 5))))
        .collect();
    let now = Year {
        cities: 7,
        ..year(2024, figures)
    };
    let p = paragraph(&now, None);
    assert_eq!(
        enterprise(&p).0,
        "全省企业科协覆盖率为100%；城1、城2、城3、城4、城5等7个市实现企业科协全覆盖。"
    );
    assert!(p.zh.ends_with("各市尚未报送高校科协数据。各市尚未报送乡镇（街道）科协数据。"));
    assert!(p.en.contains("City 1, City 2, City 3, City 4, City 5 and 2 other cities covered all"));
}

#[test]
fn the_province_total_is_its_own_and_compared_with_its_own() {
    let mut before = year(2023, Vec::new());
    before.totals = vec![(BranchType::Enterprise, 600)];
    let mut now = year(2024, vec![city("1", None)]);
    now.figures[0].new_branches = Some(193);
    now.totals = vec![(BranchType::Enterprise, 927)];
    let p = paragraph(&now, Some(&before));
    assert_eq!(
        enterprise(&p),
        (
            "各市均未报送企业科协组织数和应建单位数，全省覆盖率无法计算；省科协统计全省企业科协共927个，比上年增加327个；城1新建企业科协193个。",
            "No city reported both enterprise branches counts, so the province's coverage cannot be computed; \
             the province reports 927 enterprise branches in all, 327 more than in 2023; City 1 established 193 new enterprise branches"
        )
    );
}
