//! Merging: overlap found exactly (against brute force), duplicate and overlapping shards
//! refused, and arbitrary input answered without a panic.

use super::{first_common_seed, merge_texts};
use crate::registry::{Registry, ScenarioEntry, SeedRun};
use crate::summary::SeedRange;
use proptest::prelude::*;

/// The two scenarios the summaries below name: a plain one, and one expected to find
/// violations. Merging never runs a seed.
fn registry() -> Registry {
    let never = |_: &SeedRun<'_>| -> sim::RunReport { unreachable!("merge runs no seed") };
    Registry::new()
        .with(ScenarioEntry::new("lease", never))
        .with(ScenarioEntry::new("replication-leader-ack", never).expecting_violations_within(150))
}

fn range(start: u64, stride: u64, count: u64) -> SeedRange {
    SeedRange { start, stride, count }
}

fn brute_force(a: SeedRange, b: SeedRange) -> Option<u64> {
    (0..a.count).map(|k| a.start + k * a.stride).filter(|seed| b.contains(*seed)).min()
}

#[test]
fn shards_of_one_range_never_overlap_and_repeats_do() {
    let shard = |index| range(10 + index, 8, 100);
    for i in 0..8 {
        for j in 0..8 {
            let common = first_common_seed(shard(i), shard(j));
            assert_eq!(common, (i == j).then_some(10 + i), "shards {i} and {j}");
        }
    }
    assert_eq!(first_common_seed(range(0, 1, 20), range(19, 5, 3)), Some(19));
    assert_eq!(first_common_seed(range(0, 2, 10), range(1, 2, 10)), None, "odd and even");
    assert_eq!(first_common_seed(range(0, 1, 20), range(20, 1, 20)), None, "adjacent");
    let huge = range(u64::MAX - 2, 1, 3);
    assert_eq!(first_common_seed(huge, range(1, u64::MAX - 1, 2)), Some(u64::MAX));
    assert_eq!(first_common_seed(range(3, 0, 5), range(3, 1, 1)), None, "no stride, no seeds");
}

fn strided() -> impl Strategy<Value = SeedRange> {
    (0u64..200, 1u64..12, 0u64..40).prop_map(|(start, stride, count)| range(start, stride, count))
}

proptest! {
    #[test]
    fn the_common_seed_is_the_smallest_one(a in strided(), b in strided()) {
        prop_assert_eq!(first_common_seed(a, b), brute_force(a, b));
    }

    #[test]
    fn any_ranges_get_an_answer(a in any::<(u64, u64, u64)>(), b in any::<(u64, u64, u64)>()) {
        let (a, b) = (range(a.0, a.1, a.2), range(b.0, b.1, b.2));
        if let Some(seed) = first_common_seed(a, b) {
            prop_assert!(a.contains(seed) && b.contains(seed));
        }
    }
}

/// A one-scenario summary of `count` seeds from `start` in steps of `stride`, one failing.
fn summary(scenario: &str, start: u64, stride: u64, count: u64) -> String {
    let failed = if count > 0 {
        format!(
            r#"[{{"seed":{start},"outcome":"safety","invariant":"X","step":1,"sim_time_ns":1}}]"#
        )
    } else {
        "[]".to_string()
    };
    let passed = count.saturating_sub(1);
    format!(
        r#"[{{"scenario":"{scenario}","canary":null,"seeds_run":{count},"passed":{passed},
        "failed":{failed},"events":5,"sim_time_ns":5,"wall_time_s":1.0,"events_per_s":5.0,
        "faults":{{}},"probes":{{}},"interrupted":false,"seeds_asked":{count},
        "covers":[{{"start":{start},"stride":{stride},"count":{count}}}]}}]"#
    )
}

fn inputs(texts: &[String]) -> Vec<(String, String)> {
    texts.iter().enumerate().map(|(i, t)| (format!("shard-{i}.json"), t.clone())).collect()
}

#[test]
fn duplicates_and_overlaps_are_refused_naming_a_seed() {
    let a = summary("pingpong", 0, 2, 10);
    let error = merge_texts(&inputs(&[a.clone(), a.clone()])).err().unwrap().0;
    assert!(error.starts_with("overlapping shards: shard-0.json"), "{error}");
    assert!(error.contains("both ran seed 0 of pingpong"), "{error}");
    let shifted = summary("pingpong", 6, 1, 3);
    let error = merge_texts(&inputs(&[a.clone(), shifted])).err().unwrap().0;
    assert!(error.contains("both ran seed 6 of pingpong"), "{error}");
    let other_half = summary("pingpong", 1, 2, 10);
    let merged = merge_texts(&inputs(&[a, other_half])).unwrap();
    assert_eq!((merged[0].seeds_run, merged[0].failed.len()), (20, 2));
    let other_scenario = summary("lease", 0, 2, 10);
    let merged = merge_texts(&inputs(&[summary("pingpong", 0, 2, 10), other_scenario])).unwrap();
    assert_eq!(merged.len(), 2, "one summary per scenario; different scenarios never overlap");
}

#[test]
fn a_summary_must_add_up_and_say_which_seeds_ran() {
    let mut old: serde_json::Value = serde_json::from_str(&summary("pingpong", 0, 1, 4)).unwrap();
    old[0].as_object_mut().unwrap().remove("covers");
    let error = merge_texts(&inputs(&[old.to_string()])).err().unwrap().0;
    assert!(error.contains("no seed ranges"), "{error}");
    let wrong = summary("pingpong", 0, 1, 4).replace(r#""passed":3"#, r#""passed":9"#);
    let error = merge_texts(&inputs(&[wrong])).err().unwrap().0;
    assert!(error.contains("do not make 4 seeds run"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_gets_an_answer(text in ".{0,200}") {
        let _ = merge_texts(&[("x.json".to_string(), text)]);
    }

    /// Summaries of the right shape with numbers anywhere (sums that overflow, ranges that
    /// run past the last seed, counts that do not add up) are merged or refused, never a panic.
    #[test]
    fn arbitrary_summaries_get_an_answer(
        shards in prop::collection::vec(
            (
                prop_oneof![Just(0u64), 0u64..50, any::<u64>()],
                prop_oneof![Just(0u64), 1u64..4, any::<u64>()],
                prop_oneof![Just(0u64), 0u64..50, any::<u64>()],
                prop_oneof![Just(0u64), 0u64..50, Just(u64::MAX)],
                any::<bool>(),
            ),
            1..4,
        )
    ) {
        let texts: Vec<String> = shards
            .iter()
            .map(|&(start, stride, count, events, lease)| {
                let scenario = if lease { "lease" } else { "replication-leader-ack" };
                summary(scenario, start, stride, count).replace(r#""events":5"#, &format!(r#""events":{events}"#))
            })
            .collect();
        if let Ok(merged) = merge_texts(&inputs(&texts)) {
            for summary in &merged {
                let _ = crate::summary::verdict(&registry(), summary);
                prop_assert_eq!(summary.passed + summary.failed.len() as u64, summary.seeds_run);
            }
        }
    }
}
