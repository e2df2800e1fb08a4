//! The loader against hand-written bad files (each a panic or a silent no-op before values were
//! checked) and against arbitrary JSON and arbitrary plans (proptest): it answers, never panics,
//! and a plan it accepts runs to an outcome.

use fencepost::{Registry, RunRequest, ScenarioEntry};
use proptest::prelude::*;
use sim::plan_check::{parse_plan, ParsedPlan, PlanError};
use std::sync::LazyLock;

static REGISTRY: LazyLock<Registry> = LazyLock::new(scenarios::registry);

fn entry(name: &str) -> &'static ScenarioEntry {
    REGISTRY.find(name).expect("registered")
}

/// Parses `text` as a plan and checks it for `entry` at `seed`, as `run --schedule` does.
fn check(text: &str, entry: &ScenarioEntry, seed: u64) -> Result<ParsedPlan, PlanError> {
    let parsed = parse_plan(text)?;
    entry.check_plan(seed, &parsed.plan)?;
    Ok(parsed)
}

/// The first seed at which replication runs three members (faults reach nodes 0..=2).
fn three_member_seed() -> u64 {
    let entry = entry("replication");
    (0..).find(|seed| (entry.plan_bounds(*seed).fault_targets)(*seed, None) == 3).unwrap()
}

fn error(name: &str, text: &str) -> String {
    error_at(name, text, 7)
}

fn error_at(name: &str, text: &str, seed: u64) -> String {
    match check(text, entry(name), seed) {
        Ok(parsed) => panic!("{text} was accepted for {name}: {parsed:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn each_known_bad_value_is_named_with_its_range() {
    let crash = r#"{"schedule":[{"at_ns":1,"fault":{"crash":{"node":99,"down_ns":1}}}]}"#;
    let seed = three_member_seed();
    assert_eq!(
        error_at("replication", crash, seed),
        format!(
            "schedule[0].fault.crash.node: 99 is out of range: allowed 0..=2 (the nodes faults \
             reach in replication at seed {seed} with the seed's own size)"
        )
    );
    let ratio = r#"{"network":{"drop_ratio":{"numerator":0,"denominator":0}}}"#;
    assert!(error("lease", ratio).starts_with("network.drop_ratio.denominator: 0 is out of range"));
    let ratio = r#"{"storage":{"ambiguous_ratio":{"numerator":3,"denominator":2}}}"#;
    assert!(error("lease", ratio).starts_with("storage.ambiguous_ratio.numerator: 3 is out"));
    let drift = r#"{"clock":{"drift_ppm_max":18446744073709551615}}"#;
    assert!(error("lease", drift).contains(
        "clock.drift_ppm_max: 18446744073709551615 is out of \
         range: allowed 0..=500000"
    ));
    assert!(
        error("replication", r#"{"size":0}"#).starts_with("size: 0 is out of range: allowed 1..=5")
    );
    assert!(error("lease", r#"{"size":4294967295}"#).contains("allowed 1..=7"));
    assert!(error("pingpong", r#"{"size":3}"#).contains("pingpong has a fixed size"));
    assert!(error("pingpong", r#"{"writes_max":3}"#).starts_with("writes_max: pingpong has no"));
    assert_eq!(
        error("lease", r#"{"stranger":true}"#),
        "stranger: lease has no stranger to add to its network"
    );
    assert!(check(r#"{"stranger":true}"#, entry("cluster"), 7).is_ok(), "the cluster has one");
    let latency = r#"{"network":{"latency_ns_min":5,"latency_ns_max":4}}"#;
    assert!(error("lease", latency).starts_with(
        "network.latency_ns_max: 4 is out of range: \
         allowed 5..=3600000000000"
    ));
    let jump = r#"{"schedule":[{"at_ns":1,"fault":{"clock_jump":{"node":0,"delta_ns":-9223372036854775808}}}]}"#;
    assert!(error("lease", jump).starts_with("schedule[0].fault.clock_jump.delta_ns: "));
}

#[test]
fn a_pingpong_plan_does_not_fit_replication() {
    let pingpong = entry("pingpong");
    let plan = (1..)
        .map(|seed| pingpong.plan(seed))
        .find(|plan| plan.schedule.iter().any(|s| s.fault.nodes().iter().any(|node| *node >= 3)));
    let text = serde_json::to_string(&plan.unwrap()).unwrap();
    let message = error_at("replication", &text, three_member_seed());
    assert!(message.starts_with("schedule["), "{message}");
    assert!(message.contains("is out of range: allowed 0..=2"), "{message}");
}

#[test]
fn shapes_and_fields_a_plan_lacks_are_errors() {
    assert!(error("lease", "[]").starts_with("(the top level): expected an object of plan fields"));
    assert_eq!(
        error("lease", r#"{"foo":1}"#),
        "foo: unknown field `foo`, expected one of `network`, `storage`, `disk`, `clock`, \
         `schedule`, `aim`, `sessions`, `size`, `writes_max`, `stranger`"
    );
    let nested = r#"{"network":{"drop_ratio":{"numerator":1,"denominator":2,"x":0}}}"#;
    assert!(error("lease", nested).starts_with("network.drop_ratio.x: unknown field `x`"));
    assert!(error("lease", r#"{"network":[1,2]}"#)
        .starts_with("network: expected an object, found a list"));
    let in_case = r#"{"plan":{"schedule":[{"at_ns":1,"fault":{"pause":{"node":0}}}]}}"#;
    assert!(error("lease", in_case).starts_with("plan.schedule[0].fault.pause: missing field"));
    assert!(error("lease", "{").starts_with("(the file): EOF while parsing"));
}

#[test]
fn an_empty_plan_is_a_fault_free_run_and_says_so() {
    let parsed = check("{}", entry("lease"), 7).unwrap();
    assert!(parsed.plan.enabled_kinds().is_empty());
    assert_eq!(parsed.defaulted.len(), 7, "every field defaulted: {:?}", parsed.defaulted);
}

/// Goal: the checks never refuse what the harness itself makes. Method: every scenario's swarm
/// plans, and their shrunk forms at every smaller size, pass.
#[test]
fn every_plan_the_harness_makes_passes_the_checks() {
    for entry in REGISTRY.entries() {
        for seed in 0..40 {
            let plan = entry.plan(seed);
            let json = serde_json::to_string(&plan).unwrap();
            check(&json, entry, seed)
                .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", entry.name()));
            for (size, nodes) in entry.smaller_sizes(seed) {
                let mut smaller = plan.clone();
                smaller.pin_size(size, nodes);
                entry
                    .check_plan(seed, &smaller)
                    .unwrap_or_else(|e| panic!("{} seed {seed} size {size}: {e}", entry.name()));
            }
        }
    }
}

/// Goal: every case of the regression corpus replays through `run --schedule`. Method: load
/// each with its own scenario and seed.
#[test]
fn every_corpus_case_passes_the_checks() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    for path in std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()) {
        let text = std::fs::read_to_string(&path).unwrap();
        let case: serde_json::Value = serde_json::from_str(&text).unwrap();
        let name = case["scenario"].as_str().unwrap();
        let seed = case["seed"].as_u64().unwrap();
        check(&text, entry(name), seed).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Arbitrary JSON: numbers, strings, lists and objects nested a few deep, with plan-like keys so
/// the parser gets past the top level often.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let key = prop_oneof![
        Just("network".to_string()),
        Just("schedule".to_string()),
        Just("clock".to_string()),
        Just("size".to_string()),
        Just("plan".to_string()),
        Just("drop_ratio".to_string()),
        Just("numerator".to_string()),
        Just("denominator".to_string()),
        Just("at_ns".to_string()),
        Just("fault".to_string()),
        Just("crash".to_string()),
        Just("node".to_string()),
        "[a-z_]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..10).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_gets_an_answer(value in json_value(), text in ".{0,40}") {
        for entry in REGISTRY.entries() {
            let _ = check(&value.to_string(), entry, 3);
            let _ = check(&text, entry, 3);
        }
    }
}

/// A time: mostly ordinary, often at or just past the limit, sometimes anything.
fn time_ns() -> impl Strategy<Value = u64> {
    use sim::plan_check::DURATION_NS_LIMIT;
    prop_oneof![
        60 => 0u64..3_000_000_000,
        2 => Just(0u64),
        2 => Just(DURATION_NS_LIMIT),
        1 => Just(DURATION_NS_LIMIT + 1),
        1 => any::<u64>(),
    ]
}

/// A `min`/`max` pair of times, mostly in order.
fn time_pair() -> impl Strategy<Value = (u64, u64)> {
    let ordered = (0u64..100_000_000, 0u64..100_000_000).prop_map(|(min, more)| (min, min + more));
    prop_oneof![20 => ordered, 1 => (time_ns(), time_ns())]
}

fn ratio() -> impl Strategy<Value = sim::rng::Ratio> {
    let valid = (1u32..=10_000)
        .prop_flat_map(|denominator| (0..=denominator, Just(denominator)))
        .prop_map(|(numerator, denominator)| sim::rng::Ratio { numerator, denominator });
    let part = prop_oneof![0u32..4, Just(u32::MAX), any::<u32>()];
    let any_ratio = (part.clone(), part)
        .prop_map(|(numerator, denominator)| sim::rng::Ratio { numerator, denominator });
    let always = sim::rng::Ratio { numerator: 1, denominator: 1 };
    prop_oneof![
        10 => Just(sim::rng::Ratio::NEVER),
        10 => valid,
        1 => Just(always),
        1 => any_ratio,
    ]
}

/// A node id: a real one, one just past a scenario's nodes, the store, or anything.
fn node() -> impl Strategy<Value = u32> {
    prop_oneof![
        20 => 0u32..4,
        2 => 4u32..8,
        2 => Just(sim::network::STORE),
        1 => Just(99u32),
        1 => any::<u32>(),
    ]
}

fn nodes() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(node(), 0..5)
}

fn fault() -> impl Strategy<Value = sim::faults::Fault> {
    use sim::faults::Fault;
    use sim::network::Partition;
    let partition = prop_oneof![
        (nodes(), nodes()).prop_map(|(side_a, side_b)| Partition::Symmetric { side_a, side_b }),
        (nodes(), nodes()).prop_map(|(from, to)| Partition::OneWay { from, to }),
        node().prop_map(|node| Partition::IsolateOne { node }),
        nodes().prop_map(|group| Partition::Split { group }),
    ];
    let jump = prop_oneof![
        20 => -3_000_000_000i64..3_000_000_000,
        1 => any::<i64>(),
        1 => Just(i64::MIN),
    ];
    prop_oneof![
        (partition, time_ns())
            .prop_map(|(partition, duration_ns)| Fault::Partition { partition, duration_ns }),
        (node(), node(), time_ns(), time_ns()).prop_map(|(from, to, extra, duration_ns)| {
            Fault::Clog { from, to, extra_latency_ns: extra, duration_ns }
        }),
        (node(), time_ns()).prop_map(|(node, down_ns)| Fault::Crash { node, down_ns }),
        (node(), time_ns()).prop_map(|(node, duration_ns)| Fault::Pause { node, duration_ns }),
        (node(), jump).prop_map(|(node, delta_ns)| Fault::ClockJump { node, delta_ns }),
        time_ns().prop_map(|duration_ns| Fault::StoreOutage { duration_ns }),
    ]
}

/// Plans of the right shape with values anywhere: what a person could write by hand.
fn plan() -> impl Strategy<Value = sim::faults::FaultPlan> {
    use sim::faults::{FaultPlan, ScheduledFault};
    let network = (time_pair(), ratio(), ratio(), ratio(), time_ns());
    let storage = (time_pair(), time_ns(), ratio(), ratio());
    let disk = (time_pair(), ratio());
    let drift = prop_oneof![
        20 => 0u64..1_000,
        2 => Just(500_000u64),
        1 => Just(500_001u64),
        1 => any::<u64>(),
    ];
    let clock = (time_ns(), drift);
    let schedule = prop::collection::vec(
        (time_ns(), fault()).prop_map(|(at_ns, fault)| ScheduledFault { at_ns, fault }),
        0..5,
    );
    let size = prop::option::weighted(0.15, prop_oneof![10 => 0u32..9, 1 => any::<u32>()]);
    let writes_max = prop::option::weighted(0.15, prop_oneof![0u64..4, any::<u64>()]);
    (network, storage, disk, clock, schedule, size, writes_max).prop_map(
        |(n, s, d, c, schedule, size, writes_max)| {
            let mut plan = FaultPlan::default();
            (plan.schedule, plan.size, plan.writes_max) = (schedule, size, writes_max);
            (plan.network.latency_ns_min, plan.network.latency_ns_max) = n.0;
            plan.network.drop_ratio = n.1;
            plan.network.duplicate_ratio = n.2;
            plan.network.reorder_ratio = n.3;
            plan.network.reorder_delay_ns_max = n.4;
            (plan.storage.latency_ns_min, plan.storage.latency_ns_max) = s.0;
            plan.storage.timeout_ns = s.1;
            plan.storage.transient_error_ratio = s.2;
            plan.storage.ambiguous_ratio = s.3;
            (plan.disk.sync_latency_ns_min, plan.disk.sync_latency_ns_max) = d.0;
            plan.disk.torn_write_ratio = d.1;
            (plan.clock.offset_ns_max, plan.clock.drift_ppm_max) = c;
            plan
        },
    )
}

/// Goal: whatever a plan file says, `run --schedule` answers with an error or an outcome, never
/// a panic. Method: plans of the right shape with values anywhere go through the loader; each it
/// accepts runs in the scenario (the cheap ones, so many cases fit in a few seconds).
fn accepted_plans_run(name: &str, plan: sim::faults::FaultPlan, seed: u64) {
    let entry = entry(name);
    let text = serde_json::to_string(&plan).unwrap();
    if let Ok(parsed) = check(&text, entry, seed) {
        assert_eq!(parsed.plan, plan, "the loader reads back what was written");
        let request = RunRequest::seed(seed).with_plan(parsed.plan);
        let _ = entry.run(&request);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn accepted_pingpong_plans_run(plan in plan(), seed in 0u64..1_000) {
        accepted_plans_run("pingpong", plan, seed);
    }

    #[test]
    fn accepted_lease_plans_run(plan in plan(), seed in 0u64..1_000) {
        accepted_plans_run("lease", plan, seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn accepted_replication_plans_run(plan in plan(), seed in 0u64..1_000) {
        accepted_plans_run("replication", plan, seed);
    }

    #[test]
    fn accepted_cluster_plans_run(plan in plan(), seed in 0u64..1_000) {
        accepted_plans_run("cluster", plan, seed);
    }
}
