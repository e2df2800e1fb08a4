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

/// Shard `index` of `count` of a campaign of `seeds` seeds from `start` over `scenarios` (with
/// `canary`), each scenario's first seed failing, as `stress --json` writes it.
fn shard_with(
    scenarios: &[&str],
    canary: Option<&str>,
    start: u64,
    seeds: u64,
    index: u64,
    count: u64,
) -> String {
    let asked = seeds.checked_div(count).unwrap_or(0)
        + u64::from(index < seeds.checked_rem(count).unwrap_or(0));
    let first = start.wrapping_add(index);
    let invocation = serde_json::json!({
        "start": start, "seeds": seeds, "shard_index": index, "shard_count": count,
        "scenarios": scenarios, "canary": canary,
    });
    let summaries: Vec<serde_json::Value> = scenarios
        .iter()
        .map(|scenario| {
            let failed = if asked > 0 {
                serde_json::json!([{"seed": first, "outcome": "safety", "invariant": "X",
                    "step": 1, "sim_time_ns": 1}])
            } else {
                serde_json::json!([])
            };
            serde_json::json!({
                "scenario": scenario, "canary": canary, "seeds_run": asked,
                "passed": asked.saturating_sub(1), "failed": failed, "events": 5,
                "sim_time_ns": 5, "wall_time_s": 1.0, "events_per_s": 5.0, "faults": {},
                "probes": {}, "interrupted": false, "seeds_asked": asked,
                "covers": [{"start": first, "stride": count, "count": asked}],
                "invocation": invocation,
            })
        })
        .collect();
    serde_json::to_string(&summaries).unwrap()
}

fn shard(index: u64, count: u64) -> String {
    shard_with(&["lease"], None, 0, 20, index, count)
}

fn inputs(texts: &[String]) -> Vec<(String, String)> {
    texts.iter().enumerate().map(|(i, t)| (format!("shard-{i}.json"), t.clone())).collect()
}

fn merged(texts: &[String]) -> Result<super::Merged, String> {
    merge_texts(&registry(), &inputs(texts)).map_err(|e| e.0)
}

#[test]
fn the_shards_of_a_campaign_merge_to_the_whole() {
    let whole = merged(&[shard(0, 2), shard(1, 2)]).unwrap();
    assert_eq!((whole.summaries[0].seeds_run, whole.summaries[0].failed.len()), (20, 2));
    assert!(whole.missing_shards.is_none());
    let both = &["lease", "replication-leader-ack"][..];
    let two = merged(&[shard_with(both, None, 0, 9, 0, 1)]).unwrap();
    assert_eq!(two.summaries.len(), 2, "one summary per scenario, in the campaign's order");
    assert_eq!(two.summaries[1].scenario, "replication-leader-ack");
}

#[test]
fn a_missing_shard_is_named() {
    let partial = merged(&[shard(0, 3), shard(2, 3)]).unwrap();
    let missing = crate::summary::MissingShards { count: 1, first: vec![1] };
    assert_eq!(partial.missing_shards.as_ref(), Some(&missing));
    assert_eq!(partial.summaries[0].missing_shards, Some(missing), "the JSON says so too");
    let huge = shard_with(&["lease"], None, 0, u64::MAX, 0, u64::MAX);
    let listed = merged(&[huge]).unwrap().missing_shards.unwrap();
    assert_eq!((listed.count, listed.first.len()), (u64::MAX - 1, 100), "listed, not all");
}

#[test]
fn files_of_different_campaigns_are_refused_naming_both() {
    let error = merged(&[shard(0, 2), shard(0, 2)]).unwrap_err();
    assert!(error.starts_with("shard-0.json and shard-1.json are both shard 0/2"), "{error}");
    let later = shard_with(&["lease"], None, 15, 20, 1, 2);
    let error = merged(&[shard(0, 2), later]).unwrap_err();
    assert!(error.starts_with("shard-0.json and shard-1.json are not shards of one campaign: --start 0 against --start 15"), "{error}");
    let canary = shard_with(&["lease"], Some("no-term-fence"), 0, 20, 1, 2);
    let error = merged(&[shard(0, 2), canary]).unwrap_err();
    assert!(error.contains("--canary none against --canary no-term-fence"), "{error}");
    let error = merged(&[shard(0, 2), shard(0, 1)]).unwrap_err();
    assert!(error.contains("shard count 2 against shard count 1"), "{error}");
    let error = merged(&[shard_with(&["nope"], None, 0, 4, 0, 1)]).unwrap_err();
    assert!(error.starts_with("shard-0.json: unknown scenario 'nope'"), "{error}");
}

#[test]
fn a_summary_must_add_up_and_say_what_ran_it() {
    let mut old: serde_json::Value = serde_json::from_str(&shard(0, 1)).unwrap();
    old[0].as_object_mut().unwrap().remove("covers");
    let error = merged(&[old.to_string()]).unwrap_err();
    assert!(error.contains("no seed ranges"), "{error}");
    let mut old: serde_json::Value = serde_json::from_str(&shard(0, 1)).unwrap();
    old[0].as_object_mut().unwrap().remove("invocation");
    let error = merged(&[old.to_string()]).unwrap_err();
    assert!(error.contains("does not say which invocation ran it"), "{error}");
    let wrong = shard(0, 1).replace(r#""passed":19"#, r#""passed":9"#);
    let error = merged(&[wrong]).unwrap_err();
    assert!(error.contains("do not make 20 seeds run"), "{error}");
    let mut shifted: serde_json::Value = serde_json::from_str(&shard(0, 2)).unwrap();
    shifted[0]["covers"][0]["start"] = 2.into();
    shifted[0]["failed"][0]["seed"] = 2.into();
    let shifted = shifted.to_string();
    let error = merged(&[shifted]).unwrap_err();
    assert!(error.contains("is not the start of shard 0/2"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_gets_an_answer(text in ".{0,200}") {
        let _ = merge_texts(&registry(), &[("x.json".to_string(), text)]);
    }

    /// Summaries of the right shape with numbers anywhere (sums that overflow, ranges that
    /// run past the last seed, counts that do not add up) are merged or refused, never a panic.
    #[test]
    fn arbitrary_summaries_get_an_answer(
        shards in prop::collection::vec(
            (
                prop_oneof![Just(0u64), 0u64..50, any::<u64>()],
                prop_oneof![Just(1u64), 1u64..50, any::<u64>()],
                prop_oneof![Just(0u64), 0u64..4, any::<u64>()],
                prop_oneof![Just(1u64), 1u64..4, any::<u64>()],
                prop_oneof![Just(0u64), 0u64..50, Just(u64::MAX)],
                any::<bool>(),
            ),
            1..4,
        )
    ) {
        let texts: Vec<String> = shards
            .iter()
            .map(|&(start, seeds, index, count, events, lease)| {
                let scenario = if lease { "lease" } else { "replication-leader-ack" };
                shard_with(&[scenario], None, start, seeds, index, count)
                    .replace(r#""events":5"#, &format!(r#""events":{events}"#))
            })
            .collect();
        if let Ok(merged) = merge_texts(&registry(), &inputs(&texts)) {
            for summary in &merged.summaries {
                let _ = crate::summary::verdict(&registry(), summary);
                prop_assert_eq!(summary.passed + summary.failed.len() as u64, summary.seeds_run);
            }
        }
    }
}
