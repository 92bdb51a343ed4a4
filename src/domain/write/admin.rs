//! The rules on the administrators' own records that need no database: pilot programmes and
//! their designations, and the totals the province itself reports.

use super::{
    At, MIN_SINCE_YEAR, Patch, UserError, count_error, next_year, period_error, source_errors,
    source_stands, text_errors, version_error, words,
};

/// The longest programme code.
pub const MAX_PROGRAM_CODE_CHARS: usize = 40;
/// The longest programme name, in either language.
pub const MAX_PROGRAM_NAME_CHARS: usize = 200;

/// A pilot programme as an administrator creates or changes it: fields left out keep their
/// stored values. A new programme needs its names and its level; every change that states a
/// fact (a name, the level, the stated size) names its source.
#[derive(Debug, Clone)]
pub struct ProgramInput {
    /// The stable code (upper-case letters, digits, `_`): new, or the programme to change.
    pub code: String,
    /// The Chinese name.
    pub name: Patch<String>,
    /// The English name.
    pub name_en: Patch<String>,
    /// National or provincial.
    pub level: Option<entity::ProgramLevel>,
    /// The number of member cities a source states.
    pub stated_size: Patch<i32>,
    /// Where the programme's facts come from.
    pub source: Patch<String>,
    /// The version the writer last saw: absent or 0 to create.
    pub expected_version: Option<i32>,
    /// Why.
    pub note: Option<String>,
}

impl ProgramInput {
    /// Whether the write states a fact (and so must name its source).
    fn sets_fact(&self) -> bool {
        self.name.is_set()
            || self.name_en.is_set()
            || self.level.is_some()
            || self.stated_size.is_set()
    }

    /// Every rule that needs no database.
    pub fn validate(&self, at: At) -> Vec<UserError> {
        let mut errors = Vec::new();
        let code_fine = (2..=MAX_PROGRAM_CODE_CHARS).contains(&self.code.chars().count())
            && self
                .code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !code_fine {
            errors.push(at.bad(
                "code",
                words(
                    format!(
                        "a programme's code has 2 to {MAX_PROGRAM_CODE_CHARS} characters: \
                         upper-case letters, digits and `_`"
                    ),
                    format!("代码须有 2 到 {MAX_PROGRAM_CODE_CHARS} 个字符：大写字母、数字和“_”"),
                ),
            ));
        }
        for (field, name) in [("name", &self.name), ("nameEn", &self.name_en)] {
            let fine = match name {
                Patch::Set(text) => {
                    let n = text.trim().chars().count();
                    (1..=MAX_PROGRAM_NAME_CHARS).contains(&n) && !text.chars().any(char::is_control)
                }
                Patch::Clear => false,
                Patch::Keep => true,
            };
            if !fine {
                errors.push(at.bad(
                    field,
                    words(
                        format!(
                            "a programme's name has 1 to {MAX_PROGRAM_NAME_CHARS} characters and \
                             no control characters"
                        ),
                        format!("名称须有 1 到 {MAX_PROGRAM_NAME_CHARS} 个字符，不能含控制字符"),
                    ),
                ));
            }
        }
        errors.extend(
            self.stated_size
                .value()
                .and_then(|&v| count_error(at, "statedSize", v)),
        );
        errors.extend(version_error(at, self.expected_version));
        errors.extend(source_errors(at, &self.source, self.sets_fact()));
        errors.extend(text_errors(at, &[("note", self.note.as_deref())]));
        errors
    }

    /// The rules once the stored programme is known (none: the write creates it): a new
    /// programme needs both names and its level.
    pub fn check_new(&self, at: At) -> Vec<UserError> {
        let mut errors = Vec::new();
        for (field, set) in [
            ("name", self.name.is_set()),
            ("nameEn", self.name_en.is_set()),
            ("level", self.level.is_some()),
        ] {
            if !set {
                errors.push(at.bad(
                    field,
                    words(
                        "a new programme needs its names in both languages and its level",
                        "新建试点须填写中英文名称和级别",
                    ),
                ));
            }
        }
        errors
    }
}

/// A designation as an administrator sets or removes it.
#[derive(Debug, Clone)]
pub struct DesignationInput {
    /// The city.
    pub city_code: String,
    /// The programme.
    pub program_code: String,
    /// The year the city joined, when known.
    pub since_year: Patch<i32>,
    /// Where the designation comes from.
    pub source: Patch<String>,
    /// The version the writer last saw: absent or 0 to create.
    pub expected_version: Option<i32>,
    /// Why.
    pub note: Option<String>,
}

impl DesignationInput {
    /// Every rule that needs no database. Setting a designation states a fact, so it names its
    /// source; a removal needs none.
    pub fn validate(&self, at: At, remove: bool) -> Vec<UserError> {
        let mut errors = Vec::new();
        let next_year = next_year();
        if let Some(&year) = self.since_year.value()
            && !(MIN_SINCE_YEAR..=next_year).contains(&year)
        {
            errors.push(at.bad(
                "sinceYear",
                words(
                    format!(
                        "sinceYear must be between {MIN_SINCE_YEAR} and {next_year}, got {year}"
                    ),
                    format!("年份须在 {MIN_SINCE_YEAR} 到 {next_year} 之间，收到 {year}"),
                ),
            ));
        }
        errors.extend(version_error(at, self.expected_version));
        if !remove {
            errors.extend(source_errors(at, &self.source, true));
        }
        errors.extend(text_errors(at, &[("note", self.note.as_deref())]));
        errors
    }
}

/// A province-reported total as an administrator sets it.
#[derive(Debug, Clone)]
pub struct ProvinceTotalInput {
    /// The branch type.
    pub branch_type: entity::BranchType,
    /// The period.
    pub period: i32,
    /// The total; cleared when the province states none.
    pub total: Patch<i32>,
    /// Where it comes from.
    pub source: Patch<String>,
    /// The version the writer last saw: absent or 0 to create.
    pub expected_version: Option<i32>,
    /// Why.
    pub note: Option<String>,
}

impl ProvinceTotalInput {
    /// Every rule that needs no database.
    pub fn validate(&self, at: At) -> Vec<UserError> {
        let mut errors = Vec::new();
        errors.extend(
            self.total
                .value()
                .and_then(|&v| count_error(at, "total", v)),
        );
        errors.extend(period_error(at, self.period));
        errors.extend(version_error(at, self.expected_version));
        errors.extend(source_errors(at, &self.source, self.total.is_set()));
        errors.extend(text_errors(at, &[("note", self.note.as_deref())]));
        errors
    }
}

/// The rule on a province total as a write leaves it: a total names its source.
pub fn check_province_total(at: At, total: Option<i32>, source: Option<&str>) -> Vec<UserError> {
    if total.is_some() && source.is_none() {
        vec![at.bad("source", source_stands())]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_programme_has_a_code_names_and_a_source_for_its_facts() {
        let mut p = ProgramInput {
            code: "kechuang pilot".into(),
            name: Patch::Set("“科创中原”试点城市".into()),
            name_en: Patch::Clear,
            level: None,
            stated_size: Patch::Set(-1),
            source: Patch::Keep,
            expected_version: None,
            note: None,
        };
        assert_eq!(
            fields(&p.validate(At::INPUT)),
            [
                "input.code",
                "input.nameEn",
                "input.statedSize",
                "input.source"
            ]
        );
        p.code = "KECHUANG_2".into();
        p.name_en = Patch::Keep;
        p.stated_size = Patch::Keep;
        p.source = Patch::Set("豫科协〔2024〕1号".into());
        assert!(p.validate(At::INPUT).is_empty());
        assert_eq!(
            fields(&p.check_new(At::INPUT)),
            ["input.nameEn", "input.level"]
        );
    }

    fn fields(errors: &[UserError]) -> Vec<String> {
        errors.iter().map(|e| e.field.join(".")).collect()
    }

    #[test]
    fn a_total_names_its_source_but_clearing_it_does_not() {
        let mut t = ProvinceTotalInput {
            branch_type: entity::BranchType::Township,
            period: 2023,
            total: Patch::Set(10),
            source: Patch::Keep,
            expected_version: None,
            note: None,
        };
        assert_eq!(fields(&t.validate(At::INPUT)), ["input.source"]);
        t.total = Patch::Clear;
        assert!(t.validate(At::INPUT).is_empty());
        assert_eq!(
            fields(&check_province_total(At::INPUT, Some(1), None)),
            ["input.source"]
        );
    }
}
