//! From raw records to domain records: required fields, defaults, value formats. References
//! between records are checked afterwards, in `check.rs`, on the data as it will be.

use recert_domain::{
    AccessProfile, Account, Assignment, Entitlement, Id, Identity, Permission, Role, Source,
    rules::check_email,
};
use recert_store::ImportKind;

use super::problem::{Origin, Problems};
use super::raw::{
    Document, Part, RawAccessProfile, RawAccount, RawAssignment, RawEntitlement, RawIdentity,
    RawRole, RawSource,
};

/// The records of one kind as imported, with where each came from.
#[derive(Debug, Clone)]
pub struct Converted<T> {
    pub records: Vec<T>,
    pub origin: Origin,
}

/// A document's kinds after conversion; `None` for kinds the import left out.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub identities: Option<Converted<Identity>>,
    pub sources: Option<Converted<Source>>,
    pub accounts: Option<Converted<Account>>,
    pub entitlements: Option<Converted<Entitlement>>,
    pub access_profiles: Option<Converted<AccessProfile>>,
    pub roles: Option<Converted<Role>>,
    pub assignments: Option<Converted<Assignment>>,
}

impl Incoming {
    pub fn kinds(&self) -> Vec<ImportKind> {
        let present = [
            self.identities.is_some(),
            self.sources.is_some(),
            self.accounts.is_some(),
            self.entitlements.is_some(),
            self.access_profiles.is_some(),
            self.roles.is_some(),
            self.assignments.is_some(),
        ];
        ImportKind::ALL
            .into_iter()
            .zip(present)
            .filter_map(|(k, p)| p.then_some(k))
            .collect()
    }
}

fn sorted(mut ids: Vec<Id>) -> Vec<Id> {
    ids.sort();
    ids.dedup();
    ids
}

fn convert_part<R, T>(
    part: Option<Part<R>>,
    kind: ImportKind,
    problems: &mut Problems,
    f: impl Fn(R, Loc<'_>, &mut Problems) -> Option<T>,
) -> Option<Converted<T>> {
    let part = part?;
    let origin = part.origin;
    let mut out = Vec::with_capacity(part.records.len());
    for (i, raw) in part.records.into_iter().enumerate() {
        let loc = || origin.locate(kind, i);
        if let Some(t) = f(raw, &loc, problems) {
            out.push(t);
        }
    }
    Some(Converted {
        records: out,
        origin,
    })
}

macro_rules! req {
    ($problems:expr, $loc:expr, $v:expr, $field:literal) => {{
        let v = $v;
        if v.is_none() {
            $problems.add($loc(), Some($field), "required field is missing");
        }
        v
    }};
}

/// Converts every kind; problems are collected, not returned early, so one run lists them all.
pub fn convert(doc: Document, problems: &mut Problems) -> Incoming {
    Incoming {
        identities: convert_part(doc.identities, ImportKind::Identities, problems, identity),
        sources: convert_part(doc.sources, ImportKind::Sources, problems, source),
        accounts: convert_part(doc.accounts, ImportKind::Accounts, problems, account),
        entitlements: convert_part(
            doc.entitlements,
            ImportKind::Entitlements,
            problems,
            entitlement,
        ),
        access_profiles: convert_part(
            doc.access_profiles,
            ImportKind::AccessProfiles,
            problems,
            access_profile,
        ),
        roles: convert_part(doc.roles, ImportKind::Roles, problems, role),
        assignments: convert_part(
            doc.assignments,
            ImportKind::Assignments,
            problems,
            assignment,
        ),
    }
}

type Loc<'a> = &'a dyn Fn() -> String;

fn identity(r: RawIdentity, loc: Loc<'_>, p: &mut Problems) -> Option<Identity> {
    let id = req!(p, loc, r.id, "id");
    let name = req!(p, loc, r.name, "name");
    if let Some(email) = &r.email
        && let Err(e) = check_email(email)
    {
        p.add(loc(), Some("email"), e);
    }
    let name = name?;
    Some(Identity {
        id: id?,
        display_name: r.display_name.unwrap_or_else(|| name.clone()),
        name,
        email: r.email,
        manager_id: r.manager_id,
        active: r.active.unwrap_or(true),
        lifecycle_state: r.lifecycle_state,
        attributes: r
            .attributes
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, v)| !v.0.is_empty())
            .map(|(k, v)| (k, v.0))
            .collect(),
    })
}

fn source(r: RawSource, loc: Loc<'_>, p: &mut Problems) -> Option<Source> {
    let id = req!(p, loc, r.id, "id");
    let name = req!(p, loc, r.name, "name");
    Some(Source {
        id: id?,
        name: name?,
        source_type: r.source_type,
        description: r.description,
        owner_id: r.owner_id,
    })
}

fn account(r: RawAccount, loc: Loc<'_>, p: &mut Problems) -> Option<Account> {
    let id = req!(p, loc, r.id, "id");
    let source_id = req!(p, loc, r.source_id, "sourceId");
    let native = req!(p, loc, r.native_identity, "nativeIdentity");
    let native = native?;
    Some(Account {
        id: id?,
        source_id: source_id?,
        identity_id: r.identity_id,
        name: r.name.unwrap_or_else(|| native.clone()),
        native_identity: native,
        disabled: r.disabled.unwrap_or(false),
        locked: r.locked.unwrap_or(false),
    })
}

fn entitlement(r: RawEntitlement, loc: Loc<'_>, p: &mut Problems) -> Option<Entitlement> {
    let id = req!(p, loc, r.id, "id");
    let name = req!(p, loc, r.name, "name");
    let source_id = req!(p, loc, r.source_id, "sourceId");
    let attribute_name = req!(p, loc, r.attribute_name, "attributeName");
    let attribute_value = req!(p, loc, r.attribute_value, "attributeValue");
    let mut permissions = Vec::new();
    for (n, perm) in r.permissions.unwrap_or_default().into_iter().enumerate() {
        let field = format!("permissions[{n}].target");
        match perm.target {
            Some(target) => permissions.push(Permission {
                rights: perm.rights.unwrap_or_default(),
                target,
            }),
            None => p.add(loc(), Some(&field), "required field is missing"),
        }
    }
    Some(Entitlement {
        id: id?,
        source_id: source_id?,
        name: name?,
        attribute_name: attribute_name?,
        attribute_value: attribute_value?,
        description: r.description,
        privileged: r.privileged.unwrap_or(false),
        owner_id: r.owner_id,
        permissions,
    })
}

fn access_profile(r: RawAccessProfile, loc: Loc<'_>, p: &mut Problems) -> Option<AccessProfile> {
    let id = req!(p, loc, r.id, "id");
    let name = req!(p, loc, r.name, "name");
    let source_id = req!(p, loc, r.source_id, "sourceId");
    Some(AccessProfile {
        id: id?,
        source_id: source_id?,
        name: name?,
        description: r.description,
        owner_id: r.owner_id,
        entitlement_ids: sorted(r.entitlement_ids.unwrap_or_default()),
    })
}

fn role(r: RawRole, loc: Loc<'_>, p: &mut Problems) -> Option<Role> {
    let id = req!(p, loc, r.id, "id");
    let name = req!(p, loc, r.name, "name");
    Some(Role {
        id: id?,
        name: name?,
        description: r.description,
        owner_id: r.owner_id,
        access_profile_ids: sorted(r.access_profile_ids.unwrap_or_default()),
        entitlement_ids: sorted(r.entitlement_ids.unwrap_or_default()),
    })
}

fn assignment(r: RawAssignment, loc: Loc<'_>, p: &mut Problems) -> Option<Assignment> {
    let identity_id = req!(p, loc, r.identity_id, "identityId");
    let access_type = req!(p, loc, r.access_type, "type");
    let access_id = req!(p, loc, r.id, "id");
    Some(Assignment {
        identity_id: identity_id?,
        access_type: access_type?,
        access_id: access_id?,
        account_id: r.account_id,
    })
}
