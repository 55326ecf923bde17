//! What can be granted: sources, their entitlements, access profiles bundling them, and
//! department roles bundling profiles.

use std::ops::Range;

use recert_domain::{Dataset, Entitlement, Permission, Source};

use super::bundles::{profiles, roles};
use super::depts::{DEPTS, GENERAL};
use super::names::{ADMIN_LEVELS, AREAS, LEVELS};
use super::org::Owners;
use super::rng::{IdGen, Rng};
use super::sources::{Template, source_count, source_name, spell, targets};

/// The list index of an area's department; company-wide areas come after the departments.
pub(super) fn slot(dept: u8) -> usize {
    if dept == GENERAL {
        DEPTS.len()
    } else {
        usize::from(dept)
    }
}

/// Where the access of one source lies in the dataset, grouped by the department of its area
/// so that colleagues end up with similar access.
#[derive(Debug)]
pub(super) struct SourceInfo {
    pub tpl: &'static Template,
    pub ents: Range<usize>,
    /// The area of each of its entitlements, in the order of `ents`.
    pub areas: Vec<u8>,
    pub ents_by_dept: Vec<Vec<u32>>,
    pub profiles: Range<usize>,
    pub profiles_by_dept: Vec<Vec<u32>>,
}

/// Indexes over the dataset's catalogue for handing out access.
#[derive(Debug)]
pub(super) struct Catalog {
    pub sources: Vec<SourceInfo>,
    /// Per department: running totals of how likely its people are to use each source.
    source_odds: Vec<Vec<u64>>,
    pub roles_by_dept: Vec<Range<usize>>,
}

impl Catalog {
    /// A source someone in `dept` plausibly has access on (rarely, one that they should not).
    pub(super) fn pick_source(&self, dept: u8, rng: &mut Rng) -> usize {
        let odds = &self.source_odds[usize::from(dept)];
        let r = rng.below(odds.last().copied().unwrap_or(0) as usize) as u64;
        odds.partition_point(|&c| c <= r)
    }

    /// An entitlement of `source` for someone in `dept`: mostly from the department's areas,
    /// then company-wide ones, then anything; within a list the first ones are the popular ones.
    pub(super) fn pick_entitlement(&self, source: usize, dept: u8, rng: &mut Rng) -> usize {
        let info = &self.sources[source];
        let r = rng.unit();
        let list: &[u32] = if r < 0.6 {
            &info.ents_by_dept[slot(dept)]
        } else if r < 0.85 {
            &info.ents_by_dept[slot(GENERAL)]
        } else {
            &[]
        };
        if list.is_empty() {
            info.ents.start + rng.below(info.ents.len())
        } else {
            let u = rng.unit();
            list[(u * u * list.len() as f64) as usize] as usize
        }
    }

    /// An access profile of `source` for someone in `dept`, if the source has any.
    pub(super) fn pick_profile(&self, source: usize, dept: u8, rng: &mut Rng) -> Option<usize> {
        let info = &self.sources[source];
        let own = &info.profiles_by_dept[slot(dept)];
        if !own.is_empty() && rng.chance(0.7) {
            Some(*rng.pick(own) as usize)
        } else if info.profiles.is_empty() {
            None
        } else {
            Some(info.profiles.start + rng.below(info.profiles.len()))
        }
    }
}

/// Creates sources, entitlements, access profiles and roles, in that order of ids.
pub(super) fn build(ds: &mut Dataset, owners: &Owners, ids: &mut IdGen, rng: &mut Rng) -> Catalog {
    let n = ds.identities.len();
    let count = source_count(n);
    let mut infos = Vec::with_capacity(count);
    for k in 0..count {
        let (tpl, name) = source_name(k);
        let owner = owners.pick(tpl.owner_dept(), rng);
        ds.sources.push(Source {
            id: ids.next_id(),
            name,
            source_type: Some(tpl.source_type.to_owned()),
            description: Some(tpl.description.to_owned()),
            owner_id: Some(ds.identities[owner].id),
        });
        infos.push(SourceInfo {
            tpl,
            ents: 0..0,
            areas: Vec::new(),
            ents_by_dept: vec![Vec::new(); DEPTS.len() + 1],
            profiles: 0..0,
            profiles_by_dept: vec![Vec::new(); DEPTS.len() + 1],
        });
    }

    // About 1,500 entitlements for a thousand people, growing with the square root of the
    // headcount: large organisations reuse groups more than they create them.
    let total = (1500.0 * (n as f64 / 1000.0).sqrt()) as usize;
    let weight = |k: usize| infos[k].tpl.size as usize * if k < TEMPLATES_LEN { 2 } else { 1 };
    let weight_sum: usize = (0..count).map(weight).sum();
    let sizes: Vec<usize> = (0..count)
        .map(|k| (total * weight(k) / weight_sum).clamp(6, 800))
        .collect();
    for (k, info) in infos.iter_mut().enumerate() {
        let start = ds.entitlements.len();
        entitlements(ds, k, info, sizes[k], owners, ids, rng);
        info.ents = start..ds.entitlements.len();
    }
    for (k, info) in infos.iter_mut().enumerate() {
        let start = ds.access_profiles.len();
        profiles(ds, k, info, owners, ids, rng);
        info.profiles = start..ds.access_profiles.len();
    }

    let source_odds = (0..DEPTS.len() as u8)
        .map(|d| {
            let mut sum = 0u64;
            let odds = infos.iter().enumerate().map(|(k, info)| {
                let tpl = info.tpl;
                let w = if tpl.depts.contains(&d) {
                    30 + 10 * tpl.size
                } else if tpl.everyone() {
                    20 + 10 * tpl.size
                } else {
                    1
                };
                // Second instances serve a part of the company only.
                sum += u64::from(if k < TEMPLATES_LEN { w } else { w.div_ceil(4) });
                sum
            });
            odds.collect()
        })
        .collect();
    let mut catalog = Catalog {
        sources: infos,
        source_odds,
        roles_by_dept: Vec::with_capacity(DEPTS.len()),
    };
    roles(ds, &mut catalog, owners, ids, rng);
    catalog
}

const TEMPLATES_LEN: usize = super::sources::TEMPLATES.len();

fn entitlements(
    ds: &mut Dataset,
    k: usize,
    info: &mut SourceInfo,
    size: usize,
    owners: &Owners,
    ids: &mut IdGen,
    rng: &mut Rng,
) {
    let tpl = info.tpl;
    let source = &ds.sources[k];
    let aws_account = 100_000_000_000 + rng.below(900_000_000_000) as u64;
    let privileged_rate = if tpl.source_type == "Privileged Access" {
        0.6
    } else {
        0.1
    };
    let levels = LEVELS.len() + ADMIN_LEVELS.len();
    let mut used = vec![false; AREAS.len() * levels];
    for j in 0..size {
        let privileged = rng.chance(privileged_rate);
        let level_ix = if privileged {
            LEVELS.len() + rng.below(ADMIN_LEVELS.len())
        } else {
            rng.below(LEVELS.len())
        };
        let level = match level_ix.checked_sub(LEVELS.len()) {
            Some(admin) => &ADMIN_LEVELS[admin],
            None => &LEVELS[level_ix],
        };
        let mut area = pick_area(tpl, rng);
        for _ in 0..5 {
            if !used[area * levels + level_ix] {
                break;
            }
            area = pick_area(tpl, rng);
        }
        // Once the plain combinations run out, projects get numbered sub-areas.
        let (area_name, area_dept) = AREAS[area];
        let sub_area = if std::mem::replace(&mut used[area * levels + level_ix], true) {
            format!("{area_name}-{j}")
        } else {
            area_name.to_owned()
        };
        let base = format!("{sub_area}-{}", level.name);
        let (attribute_name, name, attribute_value) = spell(tpl.style, &base, aws_account);
        let permissions = if rng.chance(0.3) {
            let targets = targets(tpl.style, &sub_area);
            (0..rng.range(1, 3))
                .map(|p| Permission {
                    rights: match p {
                        0 => level.rights.iter().map(|&r| r.to_owned()).collect(),
                        _ => vec!["read".to_owned()],
                    },
                    target: targets[p].clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let owner_id = rng.chance(0.4).then(|| {
            let dept = if area_dept == GENERAL {
                tpl.owner_dept()
            } else {
                area_dept
            };
            ds.identities[owners.pick(dept, rng)].id
        });
        info.ents_by_dept[slot(area_dept)].push(ds.entitlements.len() as u32);
        info.areas.push(area as u8);
        ds.entitlements.push(Entitlement {
            id: ids.next_id(),
            source_id: source.id,
            name,
            attribute_name: attribute_name.to_owned(),
            attribute_value,
            description: Some(format!(
                "{} {} in {}",
                level.phrase,
                sub_area.replace('-', " "),
                source.name
            )),
            privileged,
            owner_id,
            permissions,
        });
    }
}

/// An area for an entitlement of `tpl`: mostly one its departments work in; the rest is the
/// odd access every system accumulates.
fn pick_area(tpl: &Template, rng: &mut Rng) -> usize {
    if !tpl.everyone() && rng.chance(0.85) {
        let dept = *rng.pick(tpl.depts);
        let first = AREAS.iter().position(|a| a.1 == dept).unwrap_or(0);
        let len = AREAS[first..].iter().take_while(|a| a.1 == dept).count();
        first + rng.below(len.max(1))
    } else {
        rng.below(AREAS.len())
    }
}
