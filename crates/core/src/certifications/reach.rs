//! Who reaches which certifications: administrators (and, for reading, report administrators)
//! every one, a client bound to an identity the ones that identity reviews, anyone else none.

use recert_domain::Id;
use recert_domain::review::Certification;

use super::ReviewError;
use crate::auth::Principal;

/// How far a caller reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Every certification.
    All,
    /// The certifications this identity reviews.
    Reviewer(Id),
}

impl Reach {
    pub(super) fn covers(&self, c: &Certification) -> bool {
        match self {
            Reach::All => true,
            Reach::Reviewer(me) => c.reviewer_id == *me,
        }
    }

    /// The certification `id` if this reach covers it, a refusal otherwise.
    pub(super) fn check(&self, c: Certification, id: Id) -> Result<Certification, ReviewError> {
        if self.covers(&c) {
            Ok(c)
        } else {
            Err(ReviewError::Forbidden(format!(
                "certification {id} is assigned to another reviewer"
            )))
        }
    }
}

/// Reading: administrators and report administrators every certification, a bound client its
/// identity's.
pub(super) fn read_reach(p: &Principal) -> Option<Reach> {
    if p.cert_admin().is_some() || p.report_reader().is_some_and(|r| r.may_read_all()) {
        return Some(Reach::All);
    }
    p.reviewer().map(|r| Reach::Reviewer(r.identity_id()))
}

/// Changing: administrators every certification, a bound client its identity's.
pub(super) fn write_reach(p: &Principal) -> Option<Reach> {
    if p.cert_admin().is_some() {
        return Some(Reach::All);
    }
    p.reviewer().map(|r| Reach::Reviewer(r.identity_id()))
}

pub(super) fn no_reach() -> ReviewError {
    ReviewError::Forbidden(
        "this API client has no reviewer identity and no administrator role; it cannot reach \
         certifications"
            .into(),
    )
}
