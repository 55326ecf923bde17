//! Small rules about the data that do not depend on where it came from.

use std::collections::HashMap;

use crate::Id;

/// Checks the shape of an email address: one `@`, a non-empty local part, a dotted domain, no
/// spaces. Deliberately not RFC 5322: it catches typos, not every legal oddity.
pub fn check_email(s: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("'{s}' is not a valid email address: {why}"));
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains a space");
    }
    let Some((local, domain)) = s.split_once('@') else {
        return bad("no '@'");
    };
    if local.is_empty() {
        return bad("nothing before '@'");
    }
    if domain.contains('@') {
        return bad("more than one '@'");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return bad("the domain must look like example.com");
    }
    if s.len() > 254 {
        return bad("longer than 254 characters");
    }
    Ok(())
}

/// Finds a cycle in a manager relation (`id -> manager`), if there is one, returned as the ids
/// along the cycle starting from its smallest member so the message is stable.
pub fn find_manager_cycle(managers: &HashMap<Id, Option<Id>>) -> Option<Vec<Id>> {
    // 0 = unvisited, 1 = on the current path, 2 = done (reaches no cycle)
    let mut state: HashMap<Id, u8> = HashMap::with_capacity(managers.len());
    let mut starts: Vec<&Id> = managers.keys().collect();
    starts.sort();
    for &start in starts {
        if state.get(&start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(id) = cur {
            match state.get(&id).copied().unwrap_or(0) {
                2 => break,
                1 => {
                    let pos = path.iter().position(|p| *p == id).unwrap_or(0);
                    let mut cycle: Vec<Id> = path[pos..].to_vec();
                    let min = cycle.iter().enumerate().min_by_key(|(_, id)| **id);
                    let at = min.map(|(i, _)| i).unwrap_or(0);
                    cycle.rotate_left(at);
                    return Some(cycle);
                }
                _ => {
                    state.insert(id, 1);
                    path.push(id);
                    cur = managers.get(&id).copied().flatten();
                }
            }
        }
        for id in path {
            state.insert(id, 2);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Id {
        Id::from_bytes([n; 16])
    }

    #[test]
    fn emails() {
        assert!(check_email("a.b@example.com").is_ok());
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a b@c.com",
            "a@b..com",
            "a@b@c.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn finds_cycles_and_accepts_trees() {
        let tree: HashMap<Id, Option<Id>> =
            [(id(1), None), (id(2), Some(id(1))), (id(3), Some(id(2)))].into();
        assert_eq!(find_manager_cycle(&tree), None);
        let cyc: HashMap<Id, Option<Id>> = [
            (id(1), None),
            (id(4), Some(id(2))),
            (id(2), Some(id(3))),
            (id(3), Some(id(4))),
        ]
        .into();
        assert_eq!(find_manager_cycle(&cyc), Some(vec![id(2), id(3), id(4)]));
        let selfish: HashMap<Id, Option<Id>> = [(id(5), Some(id(5)))].into();
        assert_eq!(find_manager_cycle(&selfish), Some(vec![id(5)]));
    }
}
