//! Checks the data as it will be after the import: every reference resolves, nothing is listed
//! twice, managers form a tree. Kinds the import left out are checked too, because a record the
//! import removes may still be referred to by stored records of another kind.

use std::collections::{HashMap, HashSet};

use recert_domain::{
    AccessProfile, AccessType, Account, Dataset, Entitlement, Id, rules::find_manager_cycle,
};
use recert_store::ImportKind;

use super::problem::{Origin, Problems};

/// The data as it will be, and where each kind's records came from.
#[derive(Debug)]
pub struct Final {
    pub dataset: Dataset,
    pub origins: HashMap<ImportKind, Origin>,
}

/// Ids the store holds now, per kind the import carries: a reference to one of these that is
/// missing from the import is "removed by this import", not "unknown".
pub type Previous = HashMap<ImportKind, HashSet<Id>>;

struct Ctx<'a> {
    fin: &'a Final,
    previous: &'a Previous,
    problems: &'a mut Problems,
}

impl Ctx<'_> {
    fn locate(&self, kind: ImportKind, i: usize, key: &dyn Fn() -> String) -> String {
        match self.fin.origins.get(&kind) {
            Some(Origin::Stored) | None => {
                format!("{} {} (stored; not in this import)", singular(kind), key())
            }
            Some(o) => o.locate(kind, i),
        }
    }

    /// Reports a reference from record `i` of `kind` to a missing `target` record.
    fn missing(
        &mut self,
        kind: ImportKind,
        i: usize,
        key: &dyn Fn() -> String,
        field: &str,
        target: ImportKind,
        id: Id,
    ) {
        let removed = self
            .previous
            .get(&target)
            .is_some_and(|ids| ids.contains(&id));
        let msg = if removed {
            format!(
                "refers to {} {id}, which this import removes; {}",
                singular(target),
                if self
                    .fin
                    .origins
                    .get(&kind)
                    .is_some_and(|o| matches!(o, Origin::Stored))
                {
                    format!("include {} in the import as well", kind.json_key())
                } else {
                    "keep it or remove this reference".to_owned()
                }
            )
        } else {
            format!("refers to unknown {} {id}", singular(target))
        };
        let location = self.locate(kind, i, key);
        self.problems.add(location, Some(field), msg);
    }
}

fn singular(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Identities => "identity",
        ImportKind::Sources => "source",
        ImportKind::Accounts => "account",
        ImportKind::Entitlements => "entitlement",
        ImportKind::AccessProfiles => "access profile",
        ImportKind::Roles => "role",
        ImportKind::Assignments => "assignment",
    }
}

/// Finds ids listed twice within one kind.
fn duplicates(ctx: &mut Ctx<'_>, kind: ImportKind, ids: impl Iterator<Item = Id>) -> HashSet<Id> {
    let mut first: HashMap<Id, usize> = HashMap::new();
    for (i, id) in ids.enumerate() {
        if let Some(&j) = first.get(&id) {
            let other = ctx.locate(kind, j, &|| id.to_string());
            let loc = ctx.locate(kind, i, &|| id.to_string());
            ctx.problems.add(
                loc,
                Some("id"),
                format!("duplicate id {id}: also at {other}"),
            );
        } else {
            first.insert(id, i);
        }
    }
    first.into_keys().collect()
}

pub fn check(fin: &Final, previous: &Previous, problems: &mut Problems) {
    let mut ctx = Ctx {
        fin,
        previous,
        problems,
    };
    let d = &fin.dataset;
    let identities = duplicates(
        &mut ctx,
        ImportKind::Identities,
        d.identities.iter().map(|x| x.id),
    );
    let sources = duplicates(
        &mut ctx,
        ImportKind::Sources,
        d.sources.iter().map(|x| x.id),
    );
    duplicates(
        &mut ctx,
        ImportKind::Accounts,
        d.accounts.iter().map(|x| x.id),
    );
    duplicates(
        &mut ctx,
        ImportKind::Entitlements,
        d.entitlements.iter().map(|x| x.id),
    );
    duplicates(
        &mut ctx,
        ImportKind::AccessProfiles,
        d.access_profiles.iter().map(|x| x.id),
    );
    let roles = duplicates(&mut ctx, ImportKind::Roles, d.roles.iter().map(|x| x.id));
    let accounts: HashMap<Id, &Account> = d.accounts.iter().map(|a| (a.id, a)).collect();
    let entitlements: HashMap<Id, &Entitlement> =
        d.entitlements.iter().map(|e| (e.id, e)).collect();
    let profiles: HashMap<Id, &AccessProfile> =
        d.access_profiles.iter().map(|p| (p.id, p)).collect();

    let mut managers = HashMap::with_capacity(d.identities.len());
    for (i, x) in d.identities.iter().enumerate() {
        managers.insert(x.id, x.manager_id);
        if let Some(m) = x.manager_id
            && !identities.contains(&m)
        {
            ctx.missing(
                ImportKind::Identities,
                i,
                &|| x.id.to_string(),
                "managerId",
                ImportKind::Identities,
                m,
            );
        }
    }
    if let Some(cycle) = find_manager_cycle(&managers) {
        let names: Vec<String> = cycle.iter().map(Id::to_string).collect();
        let first = cycle[0];
        let i = d.identities.iter().position(|x| x.id == first).unwrap_or(0);
        let loc = ctx.locate(ImportKind::Identities, i, &|| first.to_string());
        ctx.problems.add(
            loc,
            Some("managerId"),
            format!(
                "managers form a cycle: {} -> {}",
                names.join(" -> "),
                names[0]
            ),
        );
    }

    let owner = |ctx: &mut Ctx<'_>, kind, i, key: &dyn Fn() -> String, o: Option<Id>| {
        if let Some(o) = o
            && !identities.contains(&o)
        {
            ctx.missing(kind, i, key, "ownerId", ImportKind::Identities, o);
        }
    };
    for (i, x) in d.sources.iter().enumerate() {
        owner(
            &mut ctx,
            ImportKind::Sources,
            i,
            &|| x.id.to_string(),
            x.owner_id,
        );
    }

    let mut natives: HashMap<(Id, &str), usize> = HashMap::new();
    for (i, x) in d.accounts.iter().enumerate() {
        let key = || x.id.to_string();
        if !sources.contains(&x.source_id) {
            ctx.missing(
                ImportKind::Accounts,
                i,
                &key,
                "sourceId",
                ImportKind::Sources,
                x.source_id,
            );
        }
        if let Some(who) = x.identity_id
            && !identities.contains(&who)
        {
            ctx.missing(
                ImportKind::Accounts,
                i,
                &key,
                "identityId",
                ImportKind::Identities,
                who,
            );
        }
        if let Some(&j) = natives.get(&(x.source_id, x.native_identity.as_str())) {
            let other = ctx.locate(ImportKind::Accounts, j, &|| d.accounts[j].id.to_string());
            let loc = ctx.locate(ImportKind::Accounts, i, &key);
            ctx.problems.add(
                loc,
                Some("nativeIdentity"),
                format!(
                    "'{}' is already the native identity of another account on this source ({other})",
                    x.native_identity
                ),
            );
        } else {
            natives.insert((x.source_id, x.native_identity.as_str()), i);
        }
    }

    for (i, x) in d.entitlements.iter().enumerate() {
        let key = || x.id.to_string();
        if !sources.contains(&x.source_id) {
            ctx.missing(
                ImportKind::Entitlements,
                i,
                &key,
                "sourceId",
                ImportKind::Sources,
                x.source_id,
            );
        }
        owner(&mut ctx, ImportKind::Entitlements, i, &key, x.owner_id);
    }

    for (i, x) in d.access_profiles.iter().enumerate() {
        let key = || x.id.to_string();
        if !sources.contains(&x.source_id) {
            ctx.missing(
                ImportKind::AccessProfiles,
                i,
                &key,
                "sourceId",
                ImportKind::Sources,
                x.source_id,
            );
        }
        owner(&mut ctx, ImportKind::AccessProfiles, i, &key, x.owner_id);
        for e in &x.entitlement_ids {
            match entitlements.get(e) {
                None => ctx.missing(
                    ImportKind::AccessProfiles,
                    i,
                    &key,
                    "entitlementIds",
                    ImportKind::Entitlements,
                    *e,
                ),
                Some(ent) if ent.source_id != x.source_id => {
                    let loc = ctx.locate(ImportKind::AccessProfiles, i, &key);
                    ctx.problems.add(
                        loc,
                        Some("entitlementIds"),
                        format!(
                            "entitlement {e} is on source {}, but an access profile bundles \
                             entitlements of its own source {} only",
                            ent.source_id, x.source_id
                        ),
                    );
                }
                Some(_) => {}
            }
        }
    }

    for (i, x) in d.roles.iter().enumerate() {
        let key = || x.id.to_string();
        owner(&mut ctx, ImportKind::Roles, i, &key, x.owner_id);
        for p in &x.access_profile_ids {
            if !profiles.contains_key(p) {
                ctx.missing(
                    ImportKind::Roles,
                    i,
                    &key,
                    "accessProfileIds",
                    ImportKind::AccessProfiles,
                    *p,
                );
            }
        }
        for e in &x.entitlement_ids {
            if !entitlements.contains_key(e) {
                ctx.missing(
                    ImportKind::Roles,
                    i,
                    &key,
                    "entitlementIds",
                    ImportKind::Entitlements,
                    *e,
                );
            }
        }
    }

    check_assignments(
        &mut ctx,
        &identities,
        &accounts,
        &entitlements,
        &profiles,
        &roles,
    );
}

fn check_assignments(
    ctx: &mut Ctx<'_>,
    identities: &HashSet<Id>,
    accounts: &HashMap<Id, &Account>,
    entitlements: &HashMap<Id, &Entitlement>,
    profiles: &HashMap<Id, &AccessProfile>,
    roles: &HashSet<Id>,
) {
    const K: ImportKind = ImportKind::Assignments;
    let d = &ctx.fin.dataset;
    let mut seen = HashMap::with_capacity(d.assignments.len());
    for (i, a) in d.assignments.iter().enumerate() {
        let key = || {
            format!(
                "of identity {} to {} {}",
                a.identity_id, a.access_type, a.access_id
            )
        };
        if let Some(j) = seen.insert(*a, i) {
            let other = ctx.locate(K, j, &key);
            let loc = ctx.locate(K, i, &key);
            ctx.problems
                .add(loc, None, format!("duplicate assignment: also at {other}"));
            continue;
        }
        if !identities.contains(&a.identity_id) {
            ctx.missing(
                K,
                i,
                &key,
                "identityId",
                ImportKind::Identities,
                a.identity_id,
            );
        }
        let access_source = match a.access_type {
            AccessType::Entitlement => match entitlements.get(&a.access_id) {
                Some(e) => Some(e.source_id),
                None => {
                    ctx.missing(K, i, &key, "id", ImportKind::Entitlements, a.access_id);
                    None
                }
            },
            AccessType::AccessProfile => match profiles.get(&a.access_id) {
                Some(p) => Some(p.source_id),
                None => {
                    ctx.missing(K, i, &key, "id", ImportKind::AccessProfiles, a.access_id);
                    None
                }
            },
            AccessType::Role => {
                if !roles.contains(&a.access_id) {
                    ctx.missing(K, i, &key, "id", ImportKind::Roles, a.access_id);
                }
                None
            }
        };
        let Some(account_id) = a.account_id else {
            continue;
        };
        if a.access_type == AccessType::Role {
            let loc = ctx.locate(K, i, &key);
            ctx.problems.add(
                loc,
                Some("accountId"),
                "a ROLE is granted to the identity, not through an account: leave accountId empty",
            );
            continue;
        }
        match accounts.get(&account_id) {
            None => ctx.missing(K, i, &key, "accountId", ImportKind::Accounts, account_id),
            Some(acc) => {
                let mut wrong = Vec::new();
                if acc.identity_id != Some(a.identity_id) {
                    wrong.push(format!(
                        "account {account_id} belongs to {}, not to identity {}",
                        acc.identity_id
                            .map(|x| format!("identity {x}"))
                            .unwrap_or_else(|| "no identity (uncorrelated)".into()),
                        a.identity_id
                    ));
                }
                if let Some(src) = access_source
                    && src != acc.source_id
                {
                    wrong.push(format!(
                        "account {account_id} is on source {}, but the access is on source {src}",
                        acc.source_id
                    ));
                }
                if !wrong.is_empty() {
                    let loc = ctx.locate(K, i, &key);
                    ctx.problems.add(loc, Some("accountId"), wrong.join("; "));
                }
            }
        }
    }
}
