//! Who may change what on a result row, and when: the dialect's role rules and the grace
//! period after a certification completes, as one pure function tested cell by cell.

use recert_domain::awf::RowDecision;

/// The caller's standing on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `admin` (`ORG_ADMIN`).
    Admin,
    /// `access_reviews_admin` (`CERT_ADMIN`).
    ReviewsAdmin,
    /// `operator` (`OPERATOR`) on a certification it created.
    Operator,
    /// One of the row's reviewers.
    Reviewer,
    /// None of the above.
    Other,
}

/// The certification's state as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `PENDING` or `DRAFT`.
    NotStarted,
    InProgress,
    /// `COMPLETED` or `EXPIRED`, and whether the grace period still runs.
    Closed {
        in_grace: bool,
    },
}

/// Whether a certification completed at `completed_at` is still in its grace period at `now`:
/// from the completion up to, not including, `completed_at + period`.
pub fn in_grace(
    completed_at: Option<recert_domain::Timestamp>,
    now: recert_domain::Timestamp,
    period: recert_domain::Duration,
) -> bool {
    completed_at.is_some_and(|t| now >= t && now < t.plus(period))
}

/// What a request would change on the row (fields equal to the row's values are left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changes {
    pub reviewers: bool,
    pub decision: Option<RowDecision>,
    pub notes: bool,
    /// `Some(true)` signs off, `Some(false)` un-signs.
    pub sign: Option<bool>,
    pub notification_status: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// Why a change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 403 `PermissionDenied`.
    Forbidden(String),
    /// 400 `FailedPrecondition`.
    Precondition(String),
}

/// Checks a change to a row that is `decision` and `signed_off` now, by a caller of `role`,
/// through `PUT .../results` or (`force`) `:force_update`.
pub fn check(
    state: State,
    role: Role,
    decision: RowDecision,
    signed_off: bool,
    c: &Changes,
    force: bool,
) -> Result<(), Refusal> {
    use Refusal::{Forbidden, Precondition};
    if role == Role::Other {
        return Err(Forbidden(
            "you are not a reviewer of this row and have no admin, access_reviews_admin or \
             operator role on this certification"
                .into(),
        ));
    }
    if force && role != Role::Admin {
        return Err(Forbidden(
            "results:force_update is for the admin role only".into(),
        ));
    }
    match state {
        State::NotStarted => {
            return Err(Precondition(
                "the certification has not started (DRAFT or PENDING): its rows change once it \
                 is IN_PROGRESS"
                    .into(),
            ));
        }
        State::Closed { in_grace: false } => {
            return Err(Precondition(
                "the certification completed and its grace period is over: its rows are final"
                    .into(),
            ));
        }
        _ => {}
    }
    if c.is_empty() {
        return Ok(());
    }
    if c.notification_status && !force {
        return Err(Precondition(
            "notification_status is set through results:force_update only".into(),
        ));
    }
    let mut locked = signed_off;
    if c.sign == Some(false) {
        if !force {
            return Err(Precondition(
                "the row is signed off; only results:force_update (admin) can undo a sign-off"
                    .into(),
            ));
        }
        locked = false;
    }
    let fixing = c.decision == Some(RowDecision::Fixed);
    if fixing && !matches!(role, Role::Admin | Role::Operator) {
        return Err(Forbidden(
            "only the admin and operator roles mark a row FIXED".into(),
        ));
    }
    if fixing && decision != RowDecision::Rejected {
        return Err(Precondition(format!(
            "only a REJECTED row can become FIXED; this row is {decision}"
        )));
    }
    let admin_like = matches!(role, Role::Admin | Role::ReviewsAdmin | Role::Operator);
    // What admins may do on a locked row: notes, and marking a rejection fixed (and, forced,
    // the notification status). These win over the row's sign-off lock.
    let only_admin_fields =
        !c.reviewers && (c.decision.is_none() || fixing) && c.sign != Some(true);
    if let State::Closed { .. } = state
        && locked
    {
        if !admin_like {
            return Err(Forbidden(
                "the certification is completed: in its grace period only the admin, \
                 access_reviews_admin and operator roles change notes, and admin and operator \
                 mark REJECTED rows FIXED"
                    .into(),
            ));
        }
        if !only_admin_fields {
            return Err(Precondition(
                "the certification is completed: in its grace period only notes change, and \
                 REJECTED rows become FIXED"
                    .into(),
            ));
        }
        return Ok(());
    }
    if locked && !(admin_like && only_admin_fields) {
        return Err(Precondition(
            "the row is signed off and locked; only results:force_update (admin) can reopen it"
                .into(),
        ));
    }
    if c.sign == Some(true) && c.decision.unwrap_or(decision) == RowDecision::None {
        return Err(Precondition(
            "an undecided row cannot be signed off: decide it first".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use RowDecision::*;

    fn notes() -> Changes {
        Changes {
            notes: true,
            ..Default::default()
        }
    }
    fn decide(d: RowDecision) -> Changes {
        Changes {
            decision: Some(d),
            ..Default::default()
        }
    }
    fn sign(on: bool) -> Changes {
        Changes {
            sign: Some(on),
            ..Default::default()
        }
    }
    fn reviewers() -> Changes {
        Changes {
            reviewers: true,
            ..Default::default()
        }
    }

    const ROLES: [Role; 5] = [
        Role::Admin,
        Role::ReviewsAdmin,
        Role::Operator,
        Role::Reviewer,
        Role::Other,
    ];

    fn verdict(r: Result<(), Refusal>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(Refusal::Forbidden(_)) => "403",
            Err(Refusal::Precondition(_)) => "400",
        }
    }

    /// The grace-period table of the contract, every state against every role and field.
    #[test]
    fn the_grace_table_cell_by_cell() {
        // The closed states come from an injected clock, one millisecond either side of the
        // end of a seven-day grace period.
        use recert_domain::{Clock, Duration, ManualClock, Timestamp};
        let completed = Timestamp::parse("2026-03-01T10:00:00.000Z").unwrap();
        let week = Duration::days(7);
        let clock = ManualClock::new(completed.plus(week - Duration::milliseconds(1)));
        let just_before = State::Closed {
            in_grace: in_grace(Some(completed), clock.now(), week),
        };
        clock.advance(Duration::milliseconds(2));
        let just_after = State::Closed {
            in_grace: in_grace(Some(completed), clock.now(), week),
        };
        assert_eq!(just_before, State::Closed { in_grace: true });
        assert_eq!(just_after, State::Closed { in_grace: false });
        let bodies: [(&str, Changes, RowDecision, bool); 6] = [
            ("notes", notes(), Rejected, true),
            ("REJECTED->FIXED", decide(Fixed), Rejected, true),
            ("decision", decide(Accepted), Rejected, true),
            ("reviewers", reviewers(), Rejected, true),
            ("sign off", sign(true), Accepted, false),
            ("un-sign", sign(false), Accepted, true),
        ];
        // Expected verdicts per state, in ROLES order, per body.
        let table: [(State, [[&str; 5]; 6]); 4] = [
            (
                State::NotStarted,
                [
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                ],
            ),
            (
                // In progress with a signed-off row: locked, but admins' notes and FIXED win.
                State::InProgress,
                [
                    ["ok", "ok", "ok", "400", "403"],
                    ["ok", "403", "ok", "403", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["ok", "ok", "ok", "ok", "403"],
                    ["400", "400", "400", "400", "403"],
                ],
            ),
            (
                just_before,
                [
                    ["ok", "ok", "ok", "403", "403"],
                    ["ok", "403", "ok", "403", "403"],
                    ["400", "400", "400", "403", "403"],
                    ["400", "400", "400", "403", "403"],
                    // an unsigned row of a closed certification: only after a forced un-sign
                    ["ok", "ok", "ok", "ok", "403"],
                    ["400", "400", "400", "400", "403"],
                ],
            ),
            (
                just_after,
                [
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                    ["400", "400", "400", "400", "403"],
                ],
            ),
        ];
        for (state, rows) in table {
            for ((what, changes, decision, signed), want) in bodies.iter().zip(rows) {
                for (role, want) in ROLES.iter().zip(want) {
                    let got = verdict(check(state, *role, *decision, *signed, changes, false));
                    assert_eq!(got, want, "{state:?} {role:?} {what}");
                }
            }
        }
    }

    #[test]
    fn the_grace_period_ends_exactly_at_its_length() {
        use recert_domain::{Duration, Timestamp};
        let done = Timestamp::parse("2026-03-01T10:00:00.000Z").unwrap();
        let week = Duration::days(7);
        let at = |d: Duration| done.plus(d);
        assert!(in_grace(Some(done), at(Duration::ZERO), week));
        assert!(in_grace(
            Some(done),
            at(week - Duration::milliseconds(1)),
            week
        ));
        assert!(!in_grace(Some(done), at(week), week));
        assert!(!in_grace(
            Some(done),
            at(week + Duration::milliseconds(1)),
            week
        ));
        assert!(
            !in_grace(Option::None, at(Duration::ZERO), week),
            "not completed"
        );
        assert!(
            !in_grace(Some(done), at(Duration::days(1)), Duration::ZERO),
            "no grace period configured"
        );
    }

    #[test]
    fn open_rows_in_progress_take_everything_from_their_reviewers() {
        for c in [notes(), decide(Accepted), decide(Rejected), reviewers()] {
            assert_eq!(
                check(State::InProgress, Role::Reviewer, None, false, &c, false),
                Ok(())
            );
        }
        let body = Changes {
            decision: Some(Accepted),
            sign: Some(true),
            ..Default::default()
        };
        assert_eq!(
            check(State::InProgress, Role::Reviewer, None, false, &body, false),
            Ok(()),
            "decide and sign off in one body"
        );
        assert!(matches!(
            check(
                State::InProgress,
                Role::Reviewer,
                None,
                false,
                &sign(true),
                false
            ),
            Err(Refusal::Precondition(_))
        ));
        assert!(matches!(
            check(
                State::InProgress,
                Role::Admin,
                Accepted,
                false,
                &decide(Fixed),
                false
            ),
            Err(Refusal::Precondition(_))
        ));
    }

    #[test]
    fn force_update_is_for_admins_and_reopens_signed_rows() {
        for state in [State::InProgress, State::Closed { in_grace: true }] {
            assert_eq!(
                check(state, Role::Admin, Accepted, true, &sign(false), true),
                Ok(()),
                "{state:?}"
            );
            let reopen_and_change = Changes {
                sign: Some(false),
                decision: Some(Rejected),
                ..Default::default()
            };
            assert_eq!(
                check(state, Role::Admin, Accepted, true, &reopen_and_change, true),
                Ok(()),
                "{state:?}"
            );
            for role in [Role::ReviewsAdmin, Role::Operator, Role::Reviewer] {
                assert!(matches!(
                    check(state, role, Accepted, true, &sign(false), true),
                    Err(Refusal::Forbidden(_))
                ));
            }
        }
        assert!(matches!(
            check(
                State::Closed { in_grace: false },
                Role::Admin,
                Accepted,
                true,
                &sign(false),
                true
            ),
            Err(Refusal::Precondition(_))
        ));
        let status = Changes {
            notification_status: true,
            ..Default::default()
        };
        assert!(matches!(
            check(
                State::InProgress,
                Role::Admin,
                Accepted,
                false,
                &status,
                false
            ),
            Err(Refusal::Precondition(_))
        ));
        assert_eq!(
            check(
                State::InProgress,
                Role::Admin,
                Accepted,
                false,
                &status,
                true
            ),
            Ok(())
        );
    }

    #[test]
    fn nothing_to_change_is_no_error_where_the_row_can_be_reached() {
        let none = Changes::default();
        assert_eq!(
            check(
                State::InProgress,
                Role::Reviewer,
                Accepted,
                true,
                &none,
                false
            ),
            Ok(())
        );
        assert!(matches!(
            check(State::NotStarted, Role::Admin, None, false, &none, false),
            Err(Refusal::Precondition(_))
        ));
    }
}
