//! `fencepost merge`: combines the JSON summaries of `stress` shards into one report, per
//! scenario and canary. Each summary records exactly which seeds ran (`covers`), so a shard
//! given twice, or two shards whose seeds overlap, is an error naming a seed both ran, never a
//! double count. The merged report is judged as `stress` judges one run, so the two agree on
//! exit codes.

use crate::registry::Registry;
use crate::summary::{self, ScenarioSummary, SeedRange};
use crate::UsageError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Shard summaries written by `stress --json`.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the merged summary here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Where a seed range came from, for the overlap message.
struct Source {
    file: String,
    range: SeedRange,
}

/// One scenario's (and canary's) merged summary and the ranges that make it up.
struct Merged {
    summary: ScenarioSummary,
    sources: Vec<Source>,
}

pub fn main(registry: &Registry, args: MergeArgs) -> Result<u8, UsageError> {
    let mut inputs = Vec::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
        inputs.push((path.display().to_string(), text));
    }
    let merged = merge_texts(&inputs)?;
    if merged.is_empty() {
        return Err(UsageError("the files hold no scenario summaries: nothing to merge".into()));
    }
    let mut verdicts = Vec::new();
    let mut interrupted = false;
    for summary in &merged {
        verdicts.push(summary::print(registry, summary));
        interrupted |= summary.interrupted;
    }
    if let Some(path) = &args.json {
        write_json(path, &merged)?;
    }
    Ok(summary::exit_code(&verdicts, interrupted))
}

fn write_json(path: &Path, merged: &[ScenarioSummary]) -> Result<(), UsageError> {
    let json = serde_json::to_string_pretty(merged).expect("summaries serialize");
    std::fs::write(path, json)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))
}

/// Merges the summaries in `(file name, text)` pairs: checks each, refuses overlapping seed
/// ranges, and adds them up per scenario and canary (in name order).
pub fn merge_texts(inputs: &[(String, String)]) -> Result<Vec<ScenarioSummary>, UsageError> {
    let mut merged: BTreeMap<(String, Option<String>), Merged> = BTreeMap::new();
    for (file, text) in inputs {
        let shard: Vec<ScenarioSummary> = serde_json::from_str(text)
            .map_err(|e| UsageError(format!("{file} is not a stress summary: {e}")))?;
        for summary in shard {
            check_summary(file, &summary)?;
            let key = (summary.scenario.clone(), summary.canary.clone());
            let sources: Vec<Source> =
                summary.covers.iter().map(|&range| Source { file: file.clone(), range }).collect();
            match merged.get_mut(&key) {
                None => {
                    let summary = ScenarioSummary { invocation: None, ..summary };
                    merged.insert(key, Merged { summary, sources });
                }
                Some(total) => {
                    for new in &sources {
                        check_disjoint(&key.0, &total.sources, new)?;
                    }
                    add(&mut total.summary, summary)
                        .map_err(|what| UsageError(format!("{file}: {what} overflows")))?;
                    total.sources.extend(sources);
                }
            }
        }
    }
    Ok(merged
        .into_values()
        .map(|mut merged| {
            let summary = &mut merged.summary;
            summary.failed.sort_by_key(|f| f.seed);
            summary.covers.sort_by_key(|r| (r.start, r.stride));
            summary.events_per_s = summary.events as f64 / summary.wall_time_s.max(1e-9);
            merged.summary
        })
        .collect())
}

/// Refuses a summary whose numbers do not add up, or that does not say which seeds it ran.
fn check_summary(file: &str, summary: &ScenarioSummary) -> Result<(), UsageError> {
    let bad = |what: String| UsageError(format!("{file}: scenario {}: {what}", summary.scenario));
    let counted = summary.passed.checked_add(summary.failed.len() as u64);
    if counted != Some(summary.seeds_run) {
        return Err(bad(format!(
            "{} passed and {} failed do not make {} seeds run",
            summary.passed,
            summary.failed.len(),
            summary.seeds_run
        )));
    }
    let mut covered = 0u64;
    for range in &summary.covers {
        if range.last().is_none() {
            return Err(bad(format!("seed range {range:?} is empty or runs past {}", u64::MAX)));
        }
        covered = covered.checked_add(range.count).ok_or_else(|| bad("covers overflow".into()))?;
    }
    if covered != summary.seeds_run {
        let why = if summary.covers.is_empty() {
            "no seed ranges (`covers`; written by an older fencepost?), so overlapping shards \
             cannot be told apart"
                .to_string()
        } else {
            format!("its seed ranges hold {covered} seeds, not {}", summary.seeds_run)
        };
        return Err(bad(format!("{} seeds run but {why}", summary.seeds_run)));
    }
    if let Some(failure) =
        summary.failed.iter().find(|f| !summary.covers.iter().any(|r| r.contains(f.seed)))
    {
        return Err(bad(format!("failed seed {} is outside its seed ranges", failure.seed)));
    }
    Ok(())
}

/// Fails when `new` shares a seed with a range already merged, naming the seed and both files.
fn check_disjoint(scenario: &str, merged: &[Source], new: &Source) -> Result<(), UsageError> {
    for old in merged {
        if let Some(seed) = first_common_seed(old.range, new.range) {
            let describe = |s: &Source| {
                format!(
                    "{} (seeds {} + k*{}, {} of them)",
                    s.file, s.range.start, s.range.stride, s.range.count
                )
            };
            return Err(UsageError(format!(
                "overlapping shards: {} and {} both ran seed {seed} of {scenario}; merge each \
                 shard once",
                describe(old),
                describe(new)
            )));
        }
    }
    Ok(())
}

/// The smallest seed both ranges hold: the two congruences solved by the Chinese remainder
/// theorem, then the solution lifted into both ranges. Exact for any strides: every product
/// is of two numbers below 2^64, in u128, and a sum that would overflow lies past any seed.
pub fn first_common_seed(a: SeedRange, b: SeedRange) -> Option<u64> {
    let (a_last, b_last) = (a.last()?, b.last()?);
    let (low, high) = (a.start.max(b.start), a_last.min(b_last));
    if low > high {
        return None;
    }
    let (da, db) = (i128::from(a.stride), i128::from(b.stride));
    let (g, x, _) = extended_gcd(da, db);
    let difference = i128::from(b.start) - i128::from(a.start);
    if difference % g != 0 {
        return None;
    }
    // seed = a.start + da * t, where (da / g) * t = difference / g (mod db / g), and x is the
    // inverse of da / g modulo db / g.
    let modulus = db / g;
    let as_u128 = |v: i128| v.rem_euclid(modulus) as u128;
    let t = as_u128(difference / g) * as_u128(x) % modulus as u128;
    let first = (da as u128 * t).checked_add(u128::from(a.start))?;
    let lcm = (da / g) as u128 * db as u128;
    let low = u128::from(low);
    let seed = if first >= low {
        first
    } else {
        (low - first).div_ceil(lcm).checked_mul(lcm)?.checked_add(first)?
    };
    let seed = u64::try_from(seed).ok().filter(|seed| *seed <= high)?;
    debug_assert!(a.contains(seed) && b.contains(seed), "{seed} solves both congruences");
    Some(seed)
}

/// `(g, x, y)` with `a * x + b * y = g = gcd(a, b)`.
fn extended_gcd(a: i128, b: i128) -> (i128, i128, i128) {
    if b == 0 {
        return (a, 1, 0);
    }
    let (g, x, y) = extended_gcd(b, a % b);
    (g, y, x - a / b * y)
}

/// Adds `shard` into `total`; the name of the first count that would overflow, if one would.
fn add(total: &mut ScenarioSummary, shard: ScenarioSummary) -> Result<(), &'static str> {
    let sum = |a: u64, b: u64, what| a.checked_add(b).ok_or(what);
    total.seeds_run = sum(total.seeds_run, shard.seeds_run, "seeds_run")?;
    total.seeds_asked = sum(total.seeds_asked, shard.seeds_asked, "seeds_asked")?;
    total.passed = sum(total.passed, shard.passed, "passed")?;
    total.events = sum(total.events, shard.events, "events")?;
    total.sim_time_ns = sum(total.sim_time_ns, shard.sim_time_ns, "sim_time_ns")?;
    for (kind, count) in shard.faults {
        let entry = total.faults.entry(kind).or_insert(0);
        *entry = sum(*entry, count, "faults")?;
    }
    for (probe, count) in shard.probes {
        let entry = total.probes.entry(probe).or_insert(0);
        *entry = sum(*entry, count, "probes")?;
    }
    for (moment, count) in shard.strikes {
        let entry = total.strikes.entry(moment).or_insert(0);
        *entry = sum(*entry, count, "strikes")?;
    }
    total.failed.extend(shard.failed);
    total.covers.extend(shard.covers);
    // Machine time: shards ran side by side, so events_per_s becomes a per-machine rate.
    total.wall_time_s += shard.wall_time_s;
    total.interrupted |= shard.interrupted;
    total.determinism_checked = match (total.determinism_checked, shard.determinism_checked) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    Ok(())
}

#[cfg(test)]
mod tests;
