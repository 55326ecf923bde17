//! Works out what changes: new, changed and removed records per kind, and which grants appeared
//! or disappeared.

use std::collections::HashMap;

use recert_domain::{Assignment, Id};
use recert_store::KindChanges;

/// Compares the imported records of one kind with the stored ones, by id.
pub fn kind<T: PartialEq>(
    incoming: Vec<T>,
    stored: Vec<T>,
    id: impl Fn(&T) -> Id,
) -> KindChanges<T> {
    let mut old: HashMap<Id, T> = stored.into_iter().map(|t| (id(&t), t)).collect();
    let mut out = KindChanges::default();
    for t in incoming {
        match old.remove(&id(&t)) {
            None => out.added.push(t),
            Some(prev) if prev != t => out.changed.push(t),
            Some(_) => {}
        }
    }
    let mut removed: Vec<Id> = old.into_keys().collect();
    removed.sort();
    out.removed = removed;
    out
}

/// Compares imported grants with the stored ones. New grants get a fresh, time-ordered record id.
pub fn assignments(
    incoming: Vec<Assignment>,
    stored: Vec<Assignment>,
    stored_ids: Vec<Id>,
) -> (Vec<(Id, Assignment)>, Vec<Id>) {
    let mut old: HashMap<Assignment, Id> = stored.into_iter().zip(stored_ids).collect();
    let mut added = Vec::new();
    for a in incoming {
        if old.remove(&a).is_none() {
            added.push((Id::generate(), a));
        }
    }
    let mut removed: Vec<Id> = old.into_values().collect();
    removed.sort();
    (added, removed)
}
