//! The yearly return (年报) as rules, free of storage: the states of a round (one period's return
//! across the cities) and of a city's return, the steps people take, who may take each, and
//! what each step leads to or why it is refused. DHIS2's data approval is the model: a data set
//! per period and unit, entry open while the period is, approval by the level above, and an
//! approved return locked until it is reopened. The service applies a step and its revision in
//! one transaction, under the return's version, so two steps at once leave one outcome.
//!
//! `docs/yearly-return.md` describes the whole design (tables, who sees what, publication).

use crate::code::Code;

pub use entity::{ReturnStatus, RoundStatus};

/// A step on a city's return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The city's figures change (a save, a bulk save or an import).
    Edit,
    /// The city hands its return in.
    Submit,
    /// The province sends the return back, saying why.
    SendBack {
        /// What the city should fix (shown to the city).
        comment: String,
    },
    /// The province accepts the return.
    Approve,
    /// The province opens an approved return again, saying why.
    Reopen {
        /// Why (shown to the city, kept in the revision).
        reason: String,
    },
}

/// Who takes a step, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Staff of the return's own city.
    CityStaff,
    /// A province administrator.
    Admin,
}

/// Why a step is refused; nothing changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No round is open for the period.
    RoundNotOpen,
    /// The round is closed.
    RoundClosed,
    /// The return is submitted: the city waits for the review.
    ReturnSubmitted,
    /// The return is approved: an administrator must reopen it first.
    ReturnApproved,
    /// The step reviews a submitted return, and this one is not submitted.
    ReturnNotSubmitted,
    /// Only an approved return can be reopened.
    ReturnNotApproved,
    /// A return with no figures cannot be submitted.
    ReturnEmpty,
    /// This role may not take this step (city staff review nothing).
    Forbidden,
    /// A comment or a reason is needed and was empty.
    WordsNeeded,
}

impl Refusal {
    /// The code clients branch on.
    pub fn code(&self) -> Code {
        match self {
            Refusal::RoundNotOpen => Code::RoundNotOpen,
            Refusal::RoundClosed => Code::RoundClosed,
            Refusal::ReturnSubmitted => Code::ReturnSubmitted,
            Refusal::ReturnApproved => Code::ReturnApproved,
            Refusal::ReturnNotSubmitted => Code::ReturnNotSubmitted,
            Refusal::ReturnNotApproved => Code::ReturnNotApproved,
            Refusal::ReturnEmpty => Code::ReturnEmpty,
            Refusal::Forbidden => Code::Forbidden,
            Refusal::WordsNeeded => Code::BadUserInput,
        }
    }

    /// What the refusal says, in Chinese and English.
    pub fn message(&self) -> (&'static str, &'static str) {
        match self {
            Refusal::RoundNotOpen => ("本期年报尚未开启", "no round is open for this period"),
            Refusal::RoundClosed => ("本期年报已关闭", "the round is closed"),
            Refusal::ReturnSubmitted => (
                "年报已报送，等待省科协审核",
                "the return is submitted and waits for review",
            ),
            Refusal::ReturnApproved => (
                "年报已审核，须由省科协重新开启",
                "the return is approved; an administrator must reopen it",
            ),
            Refusal::ReturnNotSubmitted => ("年报尚未报送", "the return is not submitted"),
            Refusal::ReturnNotApproved => ("年报尚未审核", "the return is not approved"),
            Refusal::ReturnEmpty => ("年报没有任何数据", "the return holds no figures"),
            Refusal::Forbidden => ("无权进行此操作", "this role may not take this step"),
            Refusal::WordsNeeded => ("请填写说明", "a comment or reason is needed"),
        }
    }
}

/// The status a step leads to from `status` in a round that is `round` (`None`: no round for
/// the period), or why it is refused. `has_figures` says whether the return holds any record.
pub fn step(
    round: Option<RoundStatus>,
    status: ReturnStatus,
    step: &Step,
    role: Role,
    has_figures: bool,
) -> Result<ReturnStatus, Refusal> {
    use ReturnStatus::*;
    let reviews = matches!(
        step,
        Step::SendBack { .. } | Step::Approve | Step::Reopen { .. }
    );
    if reviews && role != Role::Admin {
        return Err(Refusal::Forbidden);
    }
    if let Step::SendBack { comment: words } | Step::Reopen { reason: words } = step
        && words.trim().is_empty()
    {
        return Err(Refusal::WordsNeeded);
    }
    // The city's own steps need an open round; the province reviews a closed round too (its
    // returns came in before it closed), and reopening is how a correction starts.
    match round {
        None => return Err(Refusal::RoundNotOpen),
        Some(RoundStatus::Closed) if matches!(step, Step::Edit | Step::Submit) => {
            return Err(Refusal::RoundClosed);
        }
        Some(_) => {}
    }
    match (step, status) {
        (Step::Edit, NotStarted | Draft | Returned) => Ok(Draft),
        (Step::Edit | Step::Submit, Submitted) => Err(Refusal::ReturnSubmitted),
        (Step::Edit | Step::Submit, Approved) => Err(Refusal::ReturnApproved),
        (Step::Submit, NotStarted) => Err(Refusal::ReturnEmpty),
        (Step::Submit, Draft | Returned) if !has_figures => Err(Refusal::ReturnEmpty),
        (Step::Submit, Draft | Returned) => Ok(Submitted),
        (Step::SendBack { .. }, Submitted) => Ok(Returned),
        (Step::Approve, Submitted) => Ok(Approved),
        (Step::SendBack { .. } | Step::Approve, _) => Err(Refusal::ReturnNotSubmitted),
        (Step::Reopen { .. }, Approved) => Ok(Draft),
        (Step::Reopen { .. }, _) => Err(Refusal::ReturnNotApproved),
    }
}

/// Whether a submission at `at` is late (逾期) for a round due at `due` (none: never late).
/// Late submissions are accepted and marked, as DHIS2's timeliness reports do.
pub fn late(due: Option<chrono::DateTime<chrono::Utc>>, at: chrono::DateTime<chrono::Utc>) -> bool {
    due.is_some_and(|due| at > due)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::ReturnStatus::*;
    use super::*;

    const OPEN: Option<RoundStatus> = Some(RoundStatus::Open);
    const CLOSED: Option<RoundStatus> = Some(RoundStatus::Closed);

    fn send_back() -> Step {
        Step::SendBack {
            comment: "企业数与上年不符".into(),
        }
    }

    fn reopen() -> Step {
        Step::Reopen {
            reason: "更正已发布数据".into(),
        }
    }

    #[test]
    fn the_whole_cycle_from_nothing_to_approved_and_back() {
        let city = Role::CityStaff;
        let admin = Role::Admin;
        let s = step(OPEN, NotStarted, &Step::Edit, city, false).unwrap();
        assert_eq!(s, Draft);
        let s = step(OPEN, s, &Step::Submit, city, true).unwrap();
        assert_eq!(s, Submitted);
        let s = step(OPEN, s, &send_back(), admin, true).unwrap();
        assert_eq!(s, Returned);
        let s = step(OPEN, s, &Step::Edit, city, true).unwrap();
        assert_eq!(s, Draft);
        let s = step(OPEN, s, &Step::Submit, city, true).unwrap();
        let s = step(OPEN, s, &Step::Approve, admin, true).unwrap();
        assert_eq!(s, Approved);
        assert_eq!(step(OPEN, s, &reopen(), admin, true), Ok(Draft));
    }

    #[test]
    fn a_submitted_or_approved_return_is_locked_for_the_city() {
        for (status, refusal) in [
            (Submitted, Refusal::ReturnSubmitted),
            (Approved, Refusal::ReturnApproved),
        ] {
            for s in [Step::Edit, Step::Submit] {
                assert_eq!(
                    step(OPEN, status, &s, Role::CityStaff, true),
                    Err(refusal.clone())
                );
                // An administrator's edit is refused the same way: reopen first.
                assert_eq!(
                    step(OPEN, status, &s, Role::Admin, true),
                    Err(refusal.clone())
                );
            }
        }
    }

    #[test]
    fn a_closed_round_or_none_takes_no_figures_but_can_still_be_reviewed() {
        for status in [NotStarted, Draft, Returned] {
            assert_eq!(
                step(CLOSED, status, &Step::Edit, Role::CityStaff, true),
                Err(Refusal::RoundClosed)
            );
            assert_eq!(
                step(None, status, &Step::Edit, Role::CityStaff, true),
                Err(Refusal::RoundNotOpen)
            );
        }
        assert_eq!(
            step(CLOSED, Submitted, &Step::Approve, Role::Admin, true),
            Ok(Approved)
        );
        assert_eq!(
            step(CLOSED, Approved, &reopen(), Role::Admin, true),
            Ok(Draft)
        );
    }

    #[test]
    fn only_the_province_reviews_and_never_without_words() {
        for s in [send_back(), Step::Approve, reopen()] {
            assert_eq!(
                step(OPEN, Submitted, &s, Role::CityStaff, true),
                Err(Refusal::Forbidden)
            );
        }
        let blank = Step::SendBack {
            comment: " \n".into(),
        };
        assert_eq!(
            step(OPEN, Submitted, &blank, Role::Admin, true),
            Err(Refusal::WordsNeeded)
        );
        assert_eq!(
            step(
                OPEN,
                Approved,
                &Step::Reopen {
                    reason: String::new()
                },
                Role::Admin,
                true
            ),
            Err(Refusal::WordsNeeded)
        );
    }

    #[test]
    fn reviews_need_a_submitted_return_and_reopening_an_approved_one() {
        for status in [NotStarted, Draft, Returned, Approved] {
            for s in [send_back(), Step::Approve] {
                assert_eq!(
                    step(OPEN, status, &s, Role::Admin, true),
                    Err(Refusal::ReturnNotSubmitted),
                    "{status:?} {s:?}"
                );
            }
        }
        for status in [NotStarted, Draft, Submitted, Returned] {
            assert_eq!(
                step(OPEN, status, &reopen(), Role::Admin, true),
                Err(Refusal::ReturnNotApproved)
            );
        }
    }

    #[test]
    fn an_empty_return_cannot_be_submitted() {
        for status in [NotStarted, Draft, Returned] {
            assert_eq!(
                step(OPEN, status, &Step::Submit, Role::CityStaff, false),
                Err(Refusal::ReturnEmpty)
            );
        }
    }

    #[test]
    fn lateness_is_after_the_due_time_only() {
        let due = chrono::DateTime::parse_from_rfc3339("2025-03-31T16:00:00Z")
            .unwrap()
            .to_utc();
        assert!(!late(Some(due), due));
        assert!(late(Some(due), due + chrono::Duration::seconds(1)));
        assert!(!late(None, due + chrono::Duration::days(400)));
    }

    #[test]
    fn every_refusal_has_a_code_and_words_in_both_languages() {
        for refusal in [
            Refusal::RoundNotOpen,
            Refusal::RoundClosed,
            Refusal::ReturnSubmitted,
            Refusal::ReturnApproved,
            Refusal::ReturnNotSubmitted,
            Refusal::ReturnNotApproved,
            Refusal::ReturnEmpty,
            Refusal::Forbidden,
            Refusal::WordsNeeded,
        ] {
            let (zh, en) = refusal.message();
            assert!(!zh.is_ascii() && en.is_ascii(), "{refusal:?}");
            assert!(Code::ALL.contains(&refusal.code()));
        }
    }
}
