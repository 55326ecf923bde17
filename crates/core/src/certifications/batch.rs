//! A decide call's decisions as the store writes them.

use std::collections::HashMap;

use recert_domain::review::DecisionWrite;

/// One decision per item: where a call names an item more than once, its last decision stands,
/// as if the decisions had been sent one call after another (decisions may be changed until
/// sign-off). The items keep the order of their last decisions.
pub(super) fn last_per_item(writes: Vec<DecisionWrite>) -> Vec<DecisionWrite> {
    let mut last = HashMap::with_capacity(writes.len());
    for (n, w) in writes.iter().enumerate() {
        last.insert(w.item_id, n);
    }
    if last.len() == writes.len() {
        return writes;
    }
    writes
        .into_iter()
        .enumerate()
        .filter(|(n, w)| last[&w.item_id] == *n)
        .map(|(_, w)| w)
        .collect()
}

#[cfg(test)]
mod tests {
    use recert_domain::Id;
    use recert_domain::campaign::Decision;

    use super::*;

    fn write(item: Id, decision: Decision, comments: &str) -> DecisionWrite {
        DecisionWrite {
            item_id: item,
            decision,
            comments: Some(comments.into()),
            proposed_end_date: None,
        }
    }

    #[test]
    fn the_last_decision_of_an_item_stands() {
        let (a, b, c) = (Id::generate(), Id::generate(), Id::generate());
        let got = last_per_item(vec![
            write(a, Decision::Approve, "1"),
            write(b, Decision::Revoke, "2"),
            write(a, Decision::Revoke, "3"),
            write(c, Decision::Approve, "4"),
            write(b, Decision::Approve, "5"),
        ]);
        let got: Vec<_> = got
            .iter()
            .map(|w| (w.item_id, w.decision, w.comments.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (a, Decision::Revoke, "3"),
                (c, Decision::Approve, "4"),
                (b, Decision::Approve, "5")
            ]
        );
    }

    #[test]
    fn distinct_items_are_kept_as_they_are() {
        let items: Vec<_> = (0..5)
            .map(|n| write(Id::generate(), Decision::Approve, &n.to_string()))
            .collect();
        assert_eq!(last_per_item(items.clone()), items);
    }
}
