//! Who has what: accounts, created as each identity first needs one on a source, and the
//! assignments held through them.

use recert_domain::{AccessType, Account, Assignment, Dataset, Id, Identity, Source};

use super::catalog::Catalog;
use super::depts::{DEPTS, ENG, IT};
use super::names::SERVICE_WORDS;
use super::org::Person;
use super::rng::{IdGen, Rng, exp};
use super::sources::Key;

/// How many assignments each person gets: log-normal around a median of 20 (most between 10
/// and 30), with a few power users holding several times as much.
pub(super) fn targets(people: &[Person], rng: &mut Rng) -> Vec<u16> {
    people
        .iter()
        .map(|p| {
            let power = rng.chance(if p.dept == IT { 0.08 } else { 0.02 });
            let n = 20.0 * exp(0.42 * rng.normal()) * if power { 3.0 } else { 1.0 };
            n.round().clamp(1.0, 150.0) as u16
        })
        .collect()
}

/// The state of one pass over the identities.
struct Builder<'a> {
    accounts: &'a mut Vec<Account>,
    ids: &'a mut IdGen,
    /// Per source: the identity (index + 1) whose account is remembered, and that account.
    account_at: Vec<(u32, Id)>,
    service_accounts: usize,
}

impl Builder<'_> {
    /// The identity's account on `source`, created the first time it is needed.
    fn account(
        &mut self,
        stamp: u32,
        source: (usize, &Source, Key),
        who: (&Identity, &Person),
        rng: &mut Rng,
    ) -> Id {
        let (s, src, key) = source;
        if self.account_at[s].0 == stamp {
            return self.account_at[s].1;
        }
        let (ident, person) = who;
        let (native_identity, name) = match key {
            Key::Dn => {
                let suffix = match person.suffix {
                    0 => String::new(),
                    n => format!(" {n}"),
                };
                let ou = DEPTS[usize::from(person.dept)].name;
                (
                    format!(
                        "CN={}{suffix},OU={ou},OU=Users,DC=example,DC=com",
                        ident.display_name
                    ),
                    ident.name.clone(),
                )
            }
            Key::Email => {
                let email = ident.email.clone().unwrap_or_default();
                (email.clone(), email)
            }
            Key::Login => (ident.name.clone(), ident.name.clone()),
            Key::EmployeeNumber => {
                let number = ident
                    .attributes
                    .get("employeeNumber")
                    .cloned()
                    .unwrap_or_default();
                (number, ident.name.clone())
            }
        };
        // Leavers' accounts are mostly disabled already, but not all: that is what reviews find.
        let disabled = rng.chance(if ident.active { 0.01 } else { 0.85 });
        let id = self.ids.next_id();
        self.accounts.push(Account {
            id,
            source_id: src.id,
            identity_id: Some(ident.id),
            native_identity,
            name,
            disabled,
            locked: !disabled && rng.chance(0.005),
        });
        self.account_at[s] = (stamp, id);
        id
    }

    /// An account nobody is correlated with: service accounts, test users, an admin account
    /// left over from someone's old login.
    fn uncorrelated(&mut self, src: &Source, key: Key, near: &Identity, rng: &mut Rng) {
        self.service_accounts += 1;
        let n = self.service_accounts;
        let name = match rng.below(10) {
            0..=6 => format!("svc-{}-{n:03}", rng.pick(SERVICE_WORDS)),
            7 | 8 => format!("test.user{n}"),
            _ => format!("adm.{}{n}", near.name),
        };
        let native_identity = match key {
            Key::Dn => format!("CN={name},OU=Service Accounts,DC=example,DC=com"),
            Key::Email => format!("{name}@example.com"),
            Key::Login | Key::EmployeeNumber => name.clone(),
        };
        self.accounts.push(Account {
            id: self.ids.next_id(),
            source_id: src.id,
            identity_id: None,
            native_identity,
            name,
            disabled: rng.chance(0.15),
            locked: false,
        });
    }
}

/// Hands out roles, access profiles and entitlements, identity by identity, each identity's
/// assignments in their natural order so the whole list comes out sorted.
pub(super) fn assign(
    ds: &mut Dataset,
    people: &[Person],
    cat: &Catalog,
    targets: &[u16],
    ids: &mut IdGen,
    rng: &mut Rng,
) {
    let Dataset {
        identities,
        sources,
        accounts,
        entitlements,
        access_profiles,
        roles,
        assignments,
    } = ds;
    assignments.reserve_exact(targets.iter().map(|&t| usize::from(t)).sum());
    let mut b = Builder {
        accounts,
        ids,
        account_at: vec![(0, Id::from_bytes([0; 16])); sources.len()],
        service_accounts: 0,
    };
    // Which identity (index + 1) last got each piece of access: a duplicate check without
    // hashing or clearing.
    let mut ent_seen = vec![0u32; entitlements.len()];
    let mut profile_seen = vec![0u32; access_profiles.len()];
    let mut role_seen = vec![0u32; roles.len()];

    for (i, (ident, person)) in identities.iter().zip(people).enumerate() {
        let stamp = i as u32 + 1;
        let d = person.dept;
        let target = usize::from(targets[i]);
        let start = assignments.len();
        let first_account = b.accounts.len();
        let n_roles = match rng.below(20) {
            0 => 0,
            1..=12 => 1,
            _ => 2,
        }
        .min(target);
        let n_profiles = (target / 10 + usize::from(rng.chance(0.5))).min(target - n_roles);
        let n_ents = target - n_roles - n_profiles;
        let who = (ident, person);
        let grant = |access_type, access_id, account_id| Assignment {
            identity_id: ident.id,
            access_type,
            access_id,
            account_id,
        };

        let dept_roles = cat.roles_by_dept[usize::from(d)].clone();
        for r in 0..n_roles {
            let role = if r == 0 && rng.chance(0.85) {
                dept_roles.start
            } else {
                dept_roles.start + rng.below(dept_roles.len())
            };
            if role_seen[role] != stamp {
                role_seen[role] = stamp;
                assignments.push(grant(AccessType::Role, roles[role].id, None));
            }
        }

        // Privileged access is held by few, most of them in IT and Engineering.
        let keep_privileged = match d {
            IT => 0.7,
            ENG => 0.4,
            _ => 0.1,
        };
        let (mut made, mut tries) = (0, 0);
        while made < n_ents && tries < 4 * n_ents + 8 {
            tries += 1;
            let s = cat.pick_source(d, rng);
            let e = cat.pick_entitlement(s, d, rng);
            if ent_seen[e] == stamp || (entitlements[e].privileged && !rng.chance(keep_privileged))
            {
                continue;
            }
            ent_seen[e] = stamp;
            let account = b.account(stamp, (s, &sources[s], cat.sources[s].tpl.key), who, rng);
            assignments.push(grant(
                AccessType::Entitlement,
                entitlements[e].id,
                Some(account),
            ));
            made += 1;
        }

        let (mut made, mut tries) = (0, 0);
        while made < n_profiles && tries < 4 * n_profiles + 4 {
            tries += 1;
            let s = cat.pick_source(d, rng);
            let Some(p) = cat.pick_profile(s, d, rng) else {
                continue;
            };
            if profile_seen[p] == stamp {
                continue;
            }
            profile_seen[p] = stamp;
            let account = b.account(stamp, (s, &sources[s], cat.sources[s].tpl.key), who, rng);
            assignments.push(grant(
                AccessType::AccessProfile,
                access_profiles[p].id,
                Some(account),
            ));
            made += 1;
        }

        // Everyone holds something: the birthright role is the fallback.
        if assignments.len() == start && !dept_roles.is_empty() {
            assignments.push(grant(AccessType::Role, roles[dept_roles.start].id, None));
        }
        assignments[start..].sort_unstable();

        // About one account in a hundred belongs to nobody.
        for _ in first_account..b.accounts.len() {
            if rng.chance(0.0101) {
                let s = rng.below(sources.len());
                b.uncorrelated(&sources[s], cat.sources[s].tpl.key, ident, rng);
            }
        }
    }
    b.accounts.shrink_to_fit();
}
