//! Bundles of access: access profiles of one source, and department roles made of profiles
//! and single entitlements.

use recert_domain::{AccessProfile, Dataset, Role};

use super::catalog::{Catalog, SourceInfo, slot};
use super::depts::{DEPTS, GENERAL};
use super::names::{AREAS, PROFILE_KINDS};
use super::org::Owners;
use super::rng::{IdGen, Rng};

/// A few bundles per source, each of entitlements of one area where it has enough of them.
pub(super) fn profiles(
    ds: &mut Dataset,
    k: usize,
    info: &mut SourceInfo,
    owners: &Owners,
    ids: &mut IdGen,
    rng: &mut Rng,
) {
    let source = &ds.sources[k];
    let ents = info.ents.clone();
    let mut names: Vec<String> = Vec::new();
    for _ in 0..(ents.len() / 15).clamp(2, 10) {
        let area = info.areas[rng.below(ents.len())];
        let (area_name, area_dept) = AREAS[usize::from(area)];
        let mut members: Vec<usize> = ents
            .clone()
            .filter(|&e| info.areas[e - ents.start] == area && !ds.entitlements[e].privileged)
            .collect();
        let want = rng.range(2, 6).min(ents.len());
        // A partial shuffle picks `want` members without favouring the first ones.
        for i in 0..want.min(members.len()) {
            let j = i + rng.below(members.len() - i);
            members.swap(i, j);
        }
        members.truncate(want);
        while members.len() < want {
            let e = ents.start + rng.below(ents.len());
            if !members.contains(&e) {
                members.push(e);
            }
        }
        let mut entitlement_ids: Vec<_> = members.iter().map(|&e| ds.entitlements[e].id).collect();
        entitlement_ids.sort_unstable();

        let kind = *rng.pick(PROFILE_KINDS);
        let mut name = format!("{} - {} {kind}", source.name, area_name.replace('-', " "));
        if names.contains(&name) {
            name = format!("{name} {}", names.len() + 1);
        }
        names.push(name.clone());
        let dept = if area_dept == GENERAL {
            info.tpl.owner_dept()
        } else {
            area_dept
        };
        info.profiles_by_dept[slot(area_dept)].push(ds.access_profiles.len() as u32);
        ds.access_profiles.push(AccessProfile {
            id: ids.next_id(),
            source_id: source.id,
            description: Some(format!(
                "{kind} for {} work in {}",
                area_name.replace('-', " "),
                source.name
            )),
            name,
            owner_id: Some(ds.identities[owners.pick(dept, rng)].id),
            entitlement_ids,
        });
    }
}

/// A few roles per department: profiles mostly of the department's areas, plus a few
/// entitlements its people commonly hold.
pub(super) fn roles(
    ds: &mut Dataset,
    cat: &mut Catalog,
    owners: &Owners,
    ids: &mut IdGen,
    rng: &mut Rng,
) {
    for (d, dept) in DEPTS.iter().enumerate() {
        let d8 = d as u8;
        let start = ds.roles.len();
        for (r, role_name) in dept.roles.split('|').enumerate() {
            // The birthright role bundles company-wide tools; the others the department's own.
            let mut candidates: Vec<u32> = cat
                .sources
                .iter()
                .filter(|s| {
                    if r == 0 {
                        s.tpl.everyone()
                    } else {
                        s.tpl.depts.contains(&d8)
                    }
                })
                .flat_map(|s| s.profiles_by_dept[d].iter().copied())
                .collect();
            if candidates.is_empty() {
                candidates = cat
                    .sources
                    .iter()
                    .flat_map(|s| s.profiles.clone())
                    .map(|p| p as u32)
                    .collect();
            }
            let mut access_profile_ids = Vec::new();
            for _ in 0..rng.range(1, 4) {
                access_profile_ids.push(ds.access_profiles[*rng.pick(&candidates) as usize].id);
            }
            let mut entitlement_ids = Vec::new();
            for _ in 0..rng.range(0, 3) {
                let s = cat.pick_source(d8, rng);
                let e = cat.pick_entitlement(s, d8, rng);
                if !ds.entitlements[e].privileged {
                    entitlement_ids.push(ds.entitlements[e].id);
                }
            }
            for list in [&mut access_profile_ids, &mut entitlement_ids] {
                list.sort_unstable();
                list.dedup();
            }
            ds.roles.push(Role {
                id: ids.next_id(),
                name: format!("{} - {role_name}", dept.name),
                description: Some(if r == 0 {
                    format!("Birthright access for everyone in {}", dept.name)
                } else {
                    format!("{role_name} access for {}", dept.name)
                }),
                owner_id: Some(ds.identities[owners.pick(d8, rng)].id),
                access_profile_ids,
                entitlement_ids,
            });
        }
        cat.roles_by_dept.push(start..ds.roles.len());
    }
}
