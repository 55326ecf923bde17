//! Who is calling, and what they may do. Authorization is a type: a handler asks the principal
//! for a facet (`cert_admin()`, `reviewer()`, ...) and gets `None` unless the roles allow it, so a
//! check cannot be forgotten: without the facet, the operation cannot be reached.

use recert_domain::{ClientRole, Id};

/// An authenticated API client, with its roles as stored now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub client_id: Id,
    pub name: String,
    pub roles: Vec<ClientRole>,
    /// The identity the client acts as; a reviewer sees and changes only what is assigned to it.
    pub identity_id: Option<Id>,
}

impl Principal {
    pub fn has(&self, role: ClientRole) -> bool {
        self.roles.contains(&role)
    }

    fn any(&self, roles: &[ClientRole]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Everything, including API clients and configuration: `ORG_ADMIN`.
    pub fn org_admin(&self) -> Option<OrgAdmin<'_>> {
        self.has(ClientRole::OrgAdmin).then_some(OrgAdmin(self))
    }

    /// Every campaign, certification and report: `ORG_ADMIN`, `CERT_ADMIN`.
    pub fn cert_admin(&self) -> Option<CertAdmin<'_>> {
        self.any(&[ClientRole::OrgAdmin, ClientRole::CertAdmin])
            .then_some(CertAdmin(self))
    }

    /// Creating campaigns: admins on any, `OPERATOR` only on the campaigns it created.
    pub fn campaign_creator(&self) -> Option<CampaignCreator<'_>> {
        self.any(&[
            ClientRole::OrgAdmin,
            ClientRole::CertAdmin,
            ClientRole::Operator,
        ])
        .then_some(CampaignCreator(self))
    }

    /// Reading campaigns and reports: admins, `REPORT_ADMIN`, and `OPERATOR` on its own campaigns.
    pub fn report_reader(&self) -> Option<ReportReader<'_>> {
        self.any(&[
            ClientRole::OrgAdmin,
            ClientRole::CertAdmin,
            ClientRole::ReportAdmin,
            ClientRole::Operator,
        ])
        .then_some(ReportReader(self))
    }

    /// Reviewing: any client bound to an identity, limited to what is assigned to that identity.
    pub fn reviewer(&self) -> Option<Reviewer<'_>> {
        self.identity_id.map(|identity_id| Reviewer {
            principal: self,
            identity_id,
        })
    }
}

/// The `ORG_ADMIN` facet.
#[derive(Debug, Clone, Copy)]
pub struct OrgAdmin<'a>(&'a Principal);

impl OrgAdmin<'_> {
    pub fn principal(&self) -> &Principal {
        self.0
    }
}

/// The campaign administrator facet (`ORG_ADMIN`, `CERT_ADMIN`).
#[derive(Debug, Clone, Copy)]
pub struct CertAdmin<'a>(&'a Principal);

impl CertAdmin<'_> {
    pub fn principal(&self) -> &Principal {
        self.0
    }
}

/// The facet that may create campaigns; an operator's reach is limited to its own.
#[derive(Debug, Clone, Copy)]
pub struct CampaignCreator<'a>(&'a Principal);

impl CampaignCreator<'_> {
    /// Whether this caller may act on a campaign created by `creator`.
    pub fn may_act_on(&self, creator: Id) -> bool {
        self.may_act_on_all() || creator == self.0.client_id
    }

    /// Whether this caller may act on every campaign (an administrator).
    pub fn may_act_on_all(&self) -> bool {
        self.0.any(&[ClientRole::OrgAdmin, ClientRole::CertAdmin])
    }

    pub fn client_id(&self) -> Id {
        self.0.client_id
    }
}

/// The read-only reporting facet.
#[derive(Debug, Clone, Copy)]
pub struct ReportReader<'a>(&'a Principal);

impl ReportReader<'_> {
    /// Whether this caller may read a campaign created by `creator`.
    pub fn may_read(&self, creator: Id) -> bool {
        self.may_read_all() || creator == self.0.client_id
    }

    /// Whether this caller may read every campaign.
    pub fn may_read_all(&self) -> bool {
        self.0.any(&[
            ClientRole::OrgAdmin,
            ClientRole::CertAdmin,
            ClientRole::ReportAdmin,
        ])
    }
}

/// The reviewer facet: everything it reaches is filtered by `identity_id`.
#[derive(Debug, Clone, Copy)]
pub struct Reviewer<'a> {
    principal: &'a Principal,
    identity_id: Id,
}

impl Reviewer<'_> {
    pub fn identity_id(&self) -> Id {
        self.identity_id
    }

    pub fn client_id(&self) -> Id {
        self.principal.client_id
    }
}

/// Veza's role names, as the Access Workflows dialect uses them, mapped onto recert's roles.
pub fn veza_role(role: ClientRole) -> &'static str {
    match role {
        ClientRole::OrgAdmin => "admin",
        ClientRole::CertAdmin => "access_reviews_admin",
        ClientRole::Operator => "operator",
        ClientRole::ReportAdmin => "viewer",
        ClientRole::User => "reviewer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(roles: &[ClientRole], identity: Option<u8>) -> Principal {
        Principal {
            client_id: Id::from_bytes([9; 16]),
            name: "t".into(),
            roles: roles.to_vec(),
            identity_id: identity.map(|n| Id::from_bytes([n; 16])),
        }
    }

    #[test]
    fn facets_follow_the_rule_table() {
        use ClientRole::*;
        let cases: &[(ClientRole, [bool; 4])] = &[
            // org_admin, cert_admin, campaign_creator, report_reader
            (OrgAdmin, [true, true, true, true]),
            (CertAdmin, [false, true, true, true]),
            (Operator, [false, false, true, true]),
            (ReportAdmin, [false, false, false, true]),
            (User, [false, false, false, false]),
        ];
        for (role, want) in cases {
            let p = with(&[*role], None);
            let got = [
                p.org_admin().is_some(),
                p.cert_admin().is_some(),
                p.campaign_creator().is_some(),
                p.report_reader().is_some(),
            ];
            assert_eq!(&got, want, "{role}");
        }
    }

    #[test]
    fn operators_reach_only_their_own_campaigns() {
        let op = with(&[ClientRole::Operator], None);
        let creator = op.campaign_creator().unwrap();
        assert!(creator.may_act_on(op.client_id));
        assert!(!creator.may_act_on(Id::from_bytes([1; 16])));
        assert!(
            !op.report_reader()
                .unwrap()
                .may_read(Id::from_bytes([1; 16]))
        );
        let admin = with(&[ClientRole::CertAdmin], None);
        assert!(
            admin
                .campaign_creator()
                .unwrap()
                .may_act_on(Id::from_bytes([1; 16]))
        );
    }

    #[test]
    fn only_bound_clients_review() {
        assert!(with(&[ClientRole::User], None).reviewer().is_none());
        let r = with(&[ClientRole::User], Some(3));
        assert_eq!(r.reviewer().unwrap().identity_id(), Id::from_bytes([3; 16]));
    }
}
