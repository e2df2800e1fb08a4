//! Which shard files make one campaign. Every summary records the invocation that ran it
//! (`--start`, `--seeds`, `--shard I/N`, the scenarios, `--canary`), so `merge` knows the whole
//! campaign from any one shard: files that do not belong together are refused naming both, and
//! the shards no file holds are named, so a shard that died before uploading never merges into
//! a green report.

use crate::registry::Registry;
use crate::summary::{Invocation, MissingShards, ScenarioSummary};
use crate::UsageError;
use std::collections::BTreeMap;

/// One file's summaries, checked to come from one invocation.
pub struct ShardFile {
    pub file: String,
    pub invocation: Invocation,
    pub summaries: Vec<ScenarioSummary>,
}

/// Checks that the summaries of `file` come from one invocation, name scenarios `registry`
/// knows, and are every scenario that invocation ran.
pub fn shard_file(
    registry: &Registry,
    file: &str,
    summaries: Vec<ScenarioSummary>,
) -> Result<ShardFile, UsageError> {
    let bad = |what: String| UsageError(format!("{file}: {what}"));
    let Some(first) = summaries.first() else {
        return Err(bad("holds no scenario summaries: nothing to merge".into()));
    };
    let Some(invocation) = first.invocation.clone() else {
        return Err(bad(format!(
            "scenario {} does not say which invocation ran it (a merged report, or written by \
             an older fencepost): merge the shards' own summaries",
            first.scenario
        )));
    };
    for summary in &summaries {
        if registry.find(&summary.scenario).is_none() {
            let known: Vec<&str> = registry.entries().iter().map(|e| e.name()).collect();
            return Err(bad(format!(
                "unknown scenario '{}' (this binary knows: {})",
                summary.scenario,
                known.join(", ")
            )));
        }
        if summary.invocation.as_ref() != Some(&invocation) || summary.canary != invocation.canary {
            return Err(bad(format!(
                "scenarios {} and {} were not run by one invocation",
                first.scenario, summary.scenario
            )));
        }
        check_slice(&invocation, summary)
            .map_err(|what| bad(format!("scenario {}: {what}", summary.scenario)))?;
    }
    let names: Vec<&str> = summaries.iter().map(|s| s.scenario.as_str()).collect();
    if names != invocation.scenarios {
        return Err(bad(format!(
            "holds scenarios {} but its invocation ran {}: the file was cut or edited",
            names.join(", "),
            invocation.scenarios.join(", ")
        )));
    }
    if invocation.shard_count == 0 || invocation.shard_index >= invocation.shard_count {
        return Err(bad(format!(
            "shard {}/{} does not exist",
            invocation.shard_index, invocation.shard_count
        )));
    }
    Ok(ShardFile { file: file.to_string(), invocation, summaries })
}

/// The seeds a summary says it ran lie in its shard's slice, from the slice's first seed on.
fn check_slice(invocation: &Invocation, summary: &ScenarioSummary) -> Result<(), String> {
    let Invocation { start, seeds, shard_index, shard_count, .. } = *invocation;
    let asked = seeds / shard_count.max(1) + u64::from(shard_index < seeds % shard_count.max(1));
    if summary.seeds_asked != asked {
        return Err(format!(
            "{} seeds asked, but shard {shard_index}/{shard_count} of {seeds} seeds has {asked}",
            summary.seeds_asked
        ));
    }
    let first_seed = start.checked_add(shard_index);
    for range in &summary.covers {
        if Some(range.start) != first_seed || range.stride != shard_count || range.count > asked {
            return Err(format!(
                "seed range {} + k*{} ({} seeds) is not the start of shard {shard_index}/\
                 {shard_count} of --start {start}",
                range.start, range.stride, range.count
            ));
        }
    }
    Ok(())
}

/// The campaign the files make: the invocation they share and the shards none holds. Fails,
/// naming both files, on two that are not shards of one campaign or that are the same shard.
pub fn campaign(files: &[ShardFile]) -> Result<(Invocation, Option<MissingShards>), UsageError> {
    let first = &files[0];
    let mut by_index: BTreeMap<u64, &str> = BTreeMap::new();
    for shard in files {
        if let Some(difference) = difference(&first.invocation, &shard.invocation) {
            return Err(UsageError(format!(
                "{} and {} are not shards of one campaign: {difference}",
                first.file, shard.file
            )));
        }
        let index = shard.invocation.shard_index;
        if let Some(other) = by_index.insert(index, &shard.file) {
            return Err(UsageError(format!(
                "{other} and {} are both shard {index}/{} of the campaign: merge each shard once",
                shard.file, shard.invocation.shard_count
            )));
        }
    }
    let count = first.invocation.shard_count;
    let missing_count = count - by_index.len() as u64;
    let missing = (missing_count > 0).then(|| MissingShards {
        count: missing_count,
        first: (0..count)
            .filter(|index| !by_index.contains_key(index))
            .take(MissingShards::LISTED_MAX)
            .collect(),
    });
    Ok((first.invocation.clone(), missing))
}

/// What differs between two invocations that should be shards of one campaign, if anything.
fn difference(a: &Invocation, b: &Invocation) -> Option<String> {
    let canary = |c: &Option<String>| c.clone().unwrap_or_else(|| "none".into());
    let pairs = [
        ("--start", a.start.to_string(), b.start.to_string()),
        ("--seeds", a.seeds.to_string(), b.seeds.to_string()),
        ("shard count", a.shard_count.to_string(), b.shard_count.to_string()),
        ("--canary", canary(&a.canary), canary(&b.canary)),
        ("scenarios", a.scenarios.join(","), b.scenarios.join(",")),
    ];
    pairs
        .into_iter()
        .find(|(_, x, y)| x != y)
        .map(|(what, x, y)| format!("{what} {x} against {what} {y}"))
}
