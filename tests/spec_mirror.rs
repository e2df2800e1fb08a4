//! The TLA+ specs and their Rust mirrors stay in step: every `tla/*.tla` parses (tree-sitter-
//! tlaplus), every INVARIANT or PROPERTY a `.cfg` names is defined in its `.tla` and mirrored in
//! `model::spec`, and every mirrored name is an operator of its spec. TLC itself runs outside CI.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn parse(source: &str) -> tree_sitter::Tree {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_tlaplus::LANGUAGE.into()).expect("the TLA+ grammar loads");
    parser.parse(source, None).expect("the parser returns a tree")
}

/// Every syntax error as `line:column: what`.
fn syntax_errors(source: &str) -> Vec<String> {
    let tree = parse(source);
    let mut errors = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            let what = if node.is_missing() {
                format!("missing {}", node.kind())
            } else {
                let text = &source[node.byte_range()];
                format!("unexpected {:?}", text.chars().take(40).collect::<String>())
            };
            errors.push(format!("{}:{}: {what}", at.row + 1, at.column + 1));
        }
        let mut cursor = node.walk();
        stack.extend(
            node.children(&mut cursor)
                .filter(|child| child.has_error() || child.is_missing() || child.is_error()),
        );
    }
    errors.sort();
    errors
}

/// The names of every operator and function the module defines.
fn defined_operators(source: &str) -> BTreeSet<String> {
    let tree = parse(source);
    let mut names = BTreeSet::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "operator_definition" | "function_definition") {
            if let Some(name) = node.child_by_field_name("name") {
                names.insert(source[name.byte_range()].to_string());
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    names
}

/// The INVARIANT and PROPERTY names a TLC .cfg checks (one per line or several after a keyword).
fn checked_names(cfg: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut collecting = false;
    for line in cfg.lines().map(|l| l.split("\\*").next().unwrap_or("").trim()) {
        let mut words = line.split_whitespace().peekable();
        if let Some(first) = words.peek() {
            if first.chars().all(|c| c.is_ascii_uppercase()) && first.len() > 1 {
                let keyword = words.next().unwrap_or_default();
                collecting =
                    matches!(keyword, "INVARIANT" | "INVARIANTS" | "PROPERTY" | "PROPERTIES");
            }
        }
        if collecting {
            names.extend(words.map(str::to_string));
        }
    }
    names
}

fn tla_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tla")
}

fn files_ending(extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(tla_folder())
        .expect("tla/ exists")
        .map(|entry| entry.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// The spec module a .cfg belongs to: `Foo_Bar.cfg` and `Foo.cfg` check `Foo.tla`.
fn module_of(cfg: &Path) -> String {
    let stem = cfg.file_stem().unwrap().to_string_lossy();
    stem.split('_').next().unwrap().to_string()
}

#[test]
fn every_spec_parses() {
    let specs = files_ending("tla");
    assert!(!specs.is_empty(), "no specs in tla/");
    for spec in specs {
        let errors = syntax_errors(&std::fs::read_to_string(&spec).unwrap());
        assert!(errors.is_empty(), "{}:\n{}", spec.display(), errors.join("\n"));
    }
}

#[test]
fn every_checked_name_is_defined_and_mirrored() {
    let mirrored = model::spec::mirrored_operators();
    let mut problems = Vec::new();
    for cfg in files_ending("cfg") {
        let module = module_of(&cfg);
        let source = std::fs::read_to_string(tla_folder().join(format!("{module}.tla")))
            .unwrap_or_else(|_| panic!("{} has no {module}.tla", cfg.display()));
        let defined = defined_operators(&source);
        for name in checked_names(&std::fs::read_to_string(&cfg).unwrap()) {
            if !defined.contains(&name) {
                problems.push(format!("{}: {name} is not defined in {module}.tla", cfg.display()));
            }
            if !mirrored.contains(&(module.as_str(), name.as_str())) {
                problems
                    .push(format!("{}: {name} has no Rust mirror in model::spec", cfg.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_mirror_names_an_operator_of_its_spec() {
    for (module, name) in model::spec::mirrored_operators() {
        let path = tla_folder().join(format!("{module}.tla"));
        let Ok(source) = std::fs::read_to_string(&path) else {
            // A spec still being written may be mirrored first; it must not name operators.
            panic!("model::spec mirrors {module}::{name} but {} does not exist", path.display());
        };
        assert!(defined_operators(&source).contains(name), "{module}.tla defines no {name}");
    }
}

/// The module's top-level operator definitions, as (name, text of the definition).
fn top_level_definitions(source: &str) -> Vec<(String, String)> {
    let tree = parse(source);
    let mut definitions = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "operator_definition" {
            if let Some(name) = node.child_by_field_name("name") {
                let text = source[node.byte_range()].to_string();
                definitions.push((source[name.byte_range()].to_string(), text));
            }
            continue; // a LET inside is not top level
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    definitions
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').filter(|w| !w.is_empty())
}

/// The action operators a module's `Next` is made of: the operators `Next` names that are
/// actions (they prime a variable, or say what stays UNCHANGED, themselves or through another
/// action they name).
fn actions_of_next(source: &str) -> BTreeSet<String> {
    let definitions = top_level_definitions(source);
    let mut actions: BTreeSet<&str> = BTreeSet::new();
    loop {
        let before = actions.len();
        for (name, text) in &definitions {
            let body = text.split_once("==").map_or("", |(_, body)| body);
            let primes = body.contains('\'') || body.contains("UNCHANGED");
            if primes || words(body).any(|w| actions.contains(w)) {
                actions.insert(name);
            }
        }
        if actions.len() == before {
            break;
        }
    }
    let (_, next) = definitions.iter().find(|(name, _)| name == "Next").expect("a Next");
    let body = next.split_once("==").map_or("", |(_, body)| body);
    words(body).filter(|w| actions.contains(w)).map(str::to_string).collect()
}

/// Goal: every step the implementation takes is checked against a spec action, and every
/// action of a spec is accounted for. Method: the actions `Next` is made of are exactly the
/// ones mirrored in `model::spec` and the ones listed as never taken by the implementation
/// (with why), and every mirrored action is an operator of its spec.
#[test]
fn every_action_of_next_is_mirrored_or_listed_as_never_taken() {
    for (module, mirrored, not_taken) in model::spec::mirrored_actions() {
        let source = std::fs::read_to_string(tla_folder().join(format!("{module}.tla"))).unwrap();
        let next = actions_of_next(&source);
        let listed: BTreeSet<String> = mirrored
            .iter()
            .chain(not_taken.iter().map(|(name, _)| name))
            .map(|name| name.to_string())
            .collect();
        let unaccounted: Vec<&String> = next.difference(&listed).collect();
        let not_in_next: Vec<&String> = listed.difference(&next).collect();
        assert!(
            unaccounted.is_empty(),
            "{module}.tla: {unaccounted:?} neither mirrored nor listed"
        );
        assert!(not_in_next.is_empty(), "{module}.tla: {not_in_next:?} are not actions of Next");
        for (name, why) in not_taken {
            assert!(
                !mirrored.contains(name),
                "{module}: {name} is mirrored and listed as not taken"
            );
            assert!(why.len() > 10, "{module}: say why {name} is never taken");
        }
    }
}

// The checks above must be able to fail: feed them broken inputs.
#[test]
fn the_checks_catch_broken_inputs() {
    let broken = "---- MODULE Broken ----\nFoo == /\\ x = \nBar == 1\n====";
    assert!(!syntax_errors(broken).is_empty(), "a dangling conjunct is a syntax error");
    let good = "---- MODULE Good ----\nEXTENDS Naturals\nFoo(a) == a + 1\nInv == TRUE\n====";
    assert_eq!(syntax_errors(good), Vec::<String>::new());
    assert_eq!(defined_operators(good), BTreeSet::from(["Foo".to_string(), "Inv".to_string()]));
    let cfg = "\\* comment\nINVARIANT Inv\nINVARIANTS A\n  B\nPROPERTY P\nCONSTANT X = 1\n";
    assert_eq!(checked_names(cfg), vec!["Inv", "A", "B", "P"]);
    assert_eq!(module_of(Path::new("tla/Lease_NoTermFence.cfg")), "Lease");
    let spec = "---- MODULE S ----\nVARIABLE x\nA == x' = 1\nB(n) == A /\\ n = 1\nH == 1\n\
                Next == A \\/ \\E n \\in {H} : B(n)\n====";
    let expected = BTreeSet::from(["A".to_string(), "B".to_string()]);
    assert_eq!(actions_of_next(spec), expected, "H is a helper, not an action");
}

/// The spec actions a captured run of `scenario` names, each checked to be an operator of one
/// of `modules` (a scenario of the whole system performs the actions of several specs).
fn trace_actions(scenario: &str, seed: u64, modules: &[&str]) -> BTreeSet<String> {
    let registry = scenarios::registry();
    let entry = registry.find(scenario).unwrap();
    let request = fencepost::RunRequest::seed(seed).capturing();
    let report = entry.run(&request);
    let mut defined = BTreeSet::new();
    for module in modules {
        let path = tla_folder().join(format!("{module}.tla"));
        defined.extend(defined_operators(&std::fs::read_to_string(path).unwrap()));
    }
    let module = modules.join("/");
    let mut named = BTreeSet::new();
    let captured = report.captured.unwrap();
    for record in captured.iter().filter(|r| r.record.kind == sim::trace::RecordKind::Action) {
        // As Debug prints the action: `Follow { .. }`, `Replication(Follow { .. })`.
        let detail = record.detail.trim_start_matches("Replication(");
        let detail = detail.trim_start_matches("Lease(").trim_start_matches("Failover(");
        let action = words(detail).next().expect("an action name").to_string();
        assert!(defined.contains(&action), "{action} is not an action of {module}.tla");
        named.insert(action);
    }
    named
}

/// Goal: traces can be validated against the specs. Method: every action a captured run names
/// is an operator of its spec, and the run names the main ones.
#[test]
fn trace_actions_are_spec_actions() {
    let lease = trace_actions("lease", 24, &["Lease"]);
    for expected in ["Acquired", "Renewed", "FencedWrite", "Deliver"] {
        assert!(lease.contains(expected), "no {expected} in {lease:?}");
    }
    let replication = trace_actions("replication", 42, &["Replication"]);
    for expected in ["ClientWrite", "AdvanceCommit", "AckWrite", "GrantVote"] {
        assert!(replication.contains(expected), "no {expected} in {replication:?}");
    }
    let cluster = trace_actions("cluster", 10, &["Failover", "Lease", "Replication"]);
    for expected in ["Freeze", "Demote", "Promote", "HandedOver", "ClientWrite", "Acquired"] {
        assert!(cluster.contains(expected), "no {expected} in {cluster:?}");
    }
    let session_lease = trace_actions("session-lease", 42, &["SessionLease"]);
    for expected in ["Open", "Locked", "Led", "Refreshed", "Write", "Deliver"] {
        assert!(session_lease.contains(expected), "no {expected} in {session_lease:?}");
    }
}
