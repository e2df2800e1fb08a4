//! The mapping's change detection: the checkers skip work on what it reports unchanged, so a
//! change it missed would be a step no check sees.

use crate::replication::{AckPolicy, DurableState, Entry, Node, ReplicationConfig, StableRecord};
use crate::spec::replication::{Change, ReplicationView};

/// Node 0 of three, recovered from a disk holding entries of the given terms (index 1 on).
fn node(terms: &[u64]) -> (Node, DurableState) {
    let mut records = vec![StableRecord::Vote { term: 3, voted_for: None }];
    let entries = terms.iter().enumerate().map(|(i, t)| {
        let index = i as u64 + 1;
        Entry { index, term: *t, write_id: Some(index), payload: index }
    });
    records.extend(entries.map(StableRecord::Entry));
    let node = Node::recover(ReplicationConfig::new(vec![0, 1, 2]), 0, &records);
    (node, DurableState::from_records(&records))
}

#[test]
fn a_log_rewritten_to_the_same_shape_is_a_change() {
    // Same length, same first and last entry, a different entry in the middle: what a
    // truncation and a re-append from a new leader can leave.
    let mut view = ReplicationView::new(3, AckPolicy::Quorum, false);
    let (before, _) = node(&[1, 1, 2]);
    let (after, _) = node(&[1, 2, 2]);
    assert!(view.set_node(&before, 0), "the first mapping fills an empty log");
    assert!(!view.set_node(&before, 0), "nothing changed");
    assert!(view.set_node(&after, 0), "the entry at 2 changed term");
    assert_eq!(view.nodes[0].log, vec![(1, 1), (2, 2), (3, 2)]);
    assert!(view.set_node(&node(&[1, 2]).0, 0), "a truncation is a change");
    assert_eq!(view.nodes[0].log, vec![(1, 1), (2, 2)]);
}

#[test]
fn a_durable_log_said_unchanged_is_not_compared_and_one_said_changed_is() {
    let mut view = ReplicationView::new(3, AckPolicy::Quorum, false);
    let (_, first) = node(&[1, 1]);
    let (_, second) = node(&[1, 1, 1]);
    assert!(view.set_disk(0, &first, true, &[]));
    assert!(!view.set_disk(0, &first, true, &[]), "compared: the same");
    assert!(!view.set_disk(0, &second, false, &[]), "the caller vouched for no change");
    assert!(view.set_disk(0, &second, true, &[]));
    assert_eq!(view.nodes[0].durable_log, vec![(1, 1), (2, 1), (3, 1)]);
}

#[test]
fn changes_tell_what_the_invariants_read_from_what_only_the_actions_do() {
    let mut view = ReplicationView::new(3, AckPolicy::Quorum, false);
    view.set_node(&node(&[1]).0, 0);
    let before = view.nodes[0].clone();
    let mut after = before.clone();
    after.next_request += 1;
    let change = after.change_from(&before, (false, false));
    assert_eq!(change, Change { any: true, ..Change::default() }, "the actions' business only");
    after.commit_index += 1;
    let change = after.change_from(&before, (false, false));
    assert!(change.read_by_invariants && change.any);
    let change = before.change_from(&before, (true, false));
    assert!(change.read_by_invariants && change.log && !change.durable_log);
}

#[test]
fn copy_from_copies_the_logs_the_changes_name_and_keeps_the_rest() {
    let mut current = ReplicationView::new(3, AckPolicy::Quorum, false);
    current.set_node(&node(&[1, 1]).0, 0);
    let mut previous = ReplicationView::new(3, AckPolicy::Quorum, false);
    let unchanged = vec![Change::default(); 3];
    previous.copy_from(&current, &unchanged);
    assert!(previous.nodes[0].log.is_empty(), "a log said unchanged is not copied");
    let changed = [Change { log: true, ..Change::default() }, Change::default(), Change::default()];
    previous.copy_from(&current, &changed);
    assert_eq!(previous, current);
}
