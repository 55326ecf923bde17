//! The people: departments under one CEO, manager trees inside them, and who they are.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write;

use recert_domain::Identity;

use super::depts::{DEPTS, EXEC};
use super::names::{FIRST_NAMES, LAST_NAMES, LOCATIONS};
use super::rng::{IdGen, Rng};

/// What the generator needs to remember about a person after creating the identity.
#[derive(Debug, Clone)]
pub(super) struct Person {
    /// Index of the manager, always lower than the person's own.
    pub manager: Option<u32>,
    pub dept: u8,
    pub depth: u8,
    pub reports: u32,
    pub location: u8,
    /// The number that made the name unique, 0 when it needed none.
    pub suffix: u32,
}

/// Lays out the organisation: CEO, one head per department, then each department's tree
/// breadth first, so every manager is created before the people reporting to them.
pub(super) fn build_tree(n: usize, rng: &mut Rng) -> Vec<Person> {
    let mut people = Vec::with_capacity(n);
    if n == 0 {
        return people;
    }
    let loc_weights: Vec<u32> = LOCATIONS.iter().map(|l| l.1).collect();
    let person = |manager: Option<u32>, dept: u8, depth: u8, location: usize| Person {
        manager,
        dept,
        depth,
        reports: 0,
        location: location as u8,
        suffix: 0,
    };
    people.push(person(None, EXEC, 0, 0));
    let heads: Vec<u8> = (0..DEPTS.len() as u8)
        .filter(|&d| DEPTS[usize::from(d)].weight > 0)
        .take(n - 1)
        .collect();
    for &d in &heads {
        people.push(person(Some(0), d, 1, rng.weighted(&loc_weights)));
    }
    people[0].reports = heads.len() as u32;

    // Headcount per department in proportion to its weight; the rounding loss goes to the
    // first (largest) departments.
    let rest = n - people.len();
    let total: usize = heads
        .iter()
        .map(|&d| DEPTS[usize::from(d)].weight as usize)
        .sum();
    let mut quotas: Vec<usize> = heads
        .iter()
        .map(|&d| rest * DEPTS[usize::from(d)].weight as usize / total.max(1))
        .collect();
    let short = rest - quotas.iter().sum::<usize>();
    for q in quotas.iter_mut().take(short) {
        *q += 1;
    }

    let mut queue = VecDeque::new();
    for (k, mut left) in quotas.into_iter().enumerate() {
        queue.clear();
        queue.push_back(1 + k as u32);
        // Each manager taken adds at least one person to the queue, so it cannot run dry
        // before the quota is spent.
        while left > 0 {
            let Some(m) = queue.pop_front() else { break };
            let span = rng.range(4, 10).min(left);
            let (dept, depth, location) = {
                let boss = &people[m as usize];
                (boss.dept, boss.depth + 1, usize::from(boss.location))
            };
            for _ in 0..span {
                // Most teams sit with their manager; some members work from other offices.
                let loc = if rng.chance(0.8) {
                    location
                } else {
                    rng.weighted(&loc_weights)
                };
                queue.push_back(people.len() as u32);
                people.push(person(Some(m), dept, depth, loc));
            }
            people[m as usize].reports = span as u32;
            left -= span;
        }
    }
    people
}

/// Creates the identities in the order of `people`, recording in each person the number that
/// made their name unique.
pub(super) fn identities(people: &mut [Person], ids: &mut IdGen, rng: &mut Rng) -> Vec<Identity> {
    let first: Vec<&str> = FIRST_NAMES.split_ascii_whitespace().collect();
    let last: Vec<&str> = LAST_NAMES.split_ascii_whitespace().collect();
    let staff: Vec<Vec<&str>> = DEPTS.iter().map(|d| d.staff.split('|').collect()).collect();
    let mut taken: HashMap<(u16, u16), u32> = HashMap::with_capacity(people.len());
    let mut out: Vec<Identity> = Vec::with_capacity(people.len());
    for (i, p) in people.iter_mut().enumerate() {
        let (f, l) = (rng.below(first.len()), rng.below(last.len()));
        let count = taken.entry((f as u16, l as u16)).or_insert(0);
        *count += 1;
        p.suffix = if *count == 1 { 0 } else { *count };
        let mut name = format!("{}.{}", first[f], last[l]).to_ascii_lowercase();
        if p.suffix > 0 {
            let _ = write!(name, "{}", p.suffix);
        }
        let dept = &DEPTS[usize::from(p.dept)];
        let title = match (p.depth, p.reports) {
            (0 | 1, _) => dept.head,
            (2, 1..) => dept.director,
            (_, 1..) => dept.manager,
            _ => *rng.pick(&staff[usize::from(p.dept)]),
        };
        // The CEO stays active so the tree always has a reachable root reviewer.
        let active = i == 0 || rng.chance(0.97);
        let attributes = BTreeMap::from([
            ("department".to_owned(), dept.name.to_owned()),
            ("title".to_owned(), title.to_owned()),
            (
                "location".to_owned(),
                LOCATIONS[usize::from(p.location)].0.to_owned(),
            ),
            ("employeeNumber".to_owned(), format!("E{:06}", 100_001 + i)),
        ]);
        out.push(Identity {
            id: ids.next_id(),
            email: Some(format!("{name}@example.com")),
            name,
            display_name: format!("{} {}", first[f], last[l]),
            manager_id: p.manager.map(|m| out[m as usize].id),
            active,
            lifecycle_state: Some(if active { "active" } else { "inactive" }.to_owned()),
            attributes,
        });
    }
    out
}

/// Active managers by department: the people who own sources, entitlements and roles.
#[derive(Debug)]
pub(super) struct Owners {
    by_dept: Vec<Vec<u32>>,
    all: Vec<u32>,
}

impl Owners {
    pub(super) fn new(people: &[Person], identities: &[Identity]) -> Self {
        let mut by_dept = vec![Vec::new(); DEPTS.len()];
        let mut all = Vec::new();
        for (i, (p, ident)) in people.iter().zip(identities).enumerate() {
            if p.reports > 0 && ident.active {
                by_dept[usize::from(p.dept)].push(i as u32);
                all.push(i as u32);
            }
        }
        Owners { by_dept, all }
    }

    /// An owner from `dept` if it has a manager, else from anywhere, else the CEO.
    pub(super) fn pick(&self, dept: u8, rng: &mut Rng) -> usize {
        let list = match self.by_dept.get(usize::from(dept)) {
            Some(list) if !list.is_empty() => list,
            _ => &self.all,
        };
        if list.is_empty() {
            0
        } else {
            *rng.pick(list) as usize
        }
    }
}
