//! `fencepost merge`: combines the JSON summaries of `stress` shards into one report, per
//! scenario. A merged report knows its whole campaign (each shard records its invocation, see
//! [`campaign`]): files that are not shards of one campaign are refused, naming both, and a
//! campaign with a shard missing is reported as incomplete, naming the shard, with exit 1, so a
//! shard that died before uploading never turns a nightly green. Each summary also records
//! exactly which seeds ran (`covers`), so no seed is ever counted twice. The report prints every
//! failure as `stress` does (`FAILED ...` and `reproduce:` lines) and is judged as `stress`
//! judges one run, with the same last `verdict:` line and exit codes.

mod campaign;

use crate::registry::Registry;
use crate::summary::{self, MissingShards, ScenarioSummary, SeedRange, Verdict};
use crate::verdict::Judged;
use crate::{output, UsageError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Shard summaries written by `stress --json`: every shard of one campaign.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the merged summary here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The largest summary `merge` reads (a shard's failures are listed one by one).
const SUMMARY_BYTES_MAX: u64 = 1 << 30;

/// Where a seed range came from, for the overlap message.
struct Source {
    file: String,
    range: SeedRange,
}

/// A campaign merged: one summary per scenario, in the order the campaign ran them.
#[derive(Debug)]
pub struct Merged {
    pub invocation: summary::Invocation,
    pub files: u64,
    pub summaries: Vec<ScenarioSummary>,
    pub missing_shards: Option<MissingShards>,
}

pub fn main(registry: &Registry, args: MergeArgs) -> Result<u8, UsageError> {
    if let Some(json) = &args.json {
        for input in &args.files {
            output::check_distinct(&[("input", input.as_path()), ("--json", json.as_path())])?;
        }
        output::check_writable("--json", json)?;
    }
    let mut inputs = Vec::new();
    for path in &args.files {
        let text = output::read_capped(path, SUMMARY_BYTES_MAX, "a stress summary")?;
        inputs.push((path.display().to_string(), text));
    }
    let merged = merge_texts(registry, &inputs)?;
    let mut verdicts = Vec::new();
    for summary in &merged.summaries {
        verdicts.push(print_scenario(registry, summary));
    }
    print_missing(&merged);
    if let Some(path) = &args.json {
        write_json(path, &merged.summaries)?;
    }
    let judged = Judged {
        invocation: &merged.invocation,
        shards_merged: Some(merged.files),
        scenarios: merged.summaries.iter().zip(verdicts).collect(),
        missing_shards: merged.missing_shards.clone(),
        output_lost: false,
    };
    output::line(judged.line());
    Ok(judged.exit_code())
}

/// Prints one scenario as `stress` would have: a line per failure (an unsafe variant's
/// expected finds are summarized instead), the summary, and the lines that replay the first.
fn print_scenario(registry: &Registry, summary: &ScenarioSummary) -> Verdict {
    let expected = summary::finds_expected_within(registry, summary).is_some();
    if !expected {
        for failure in &summary.failed {
            output::line(failure.line(&summary.scenario));
        }
    }
    let verdict = summary::print(registry, summary);
    if verdict == Verdict::Failed {
        let entry = registry.find(&summary.scenario).expect("merge checked the scenario");
        crate::stress::print_reproduce(registry, entry, summary);
    }
    verdict
}

/// Names each shard no file held, with the seeds it would have run.
fn print_missing(merged: &Merged) {
    let invocation = &merged.invocation;
    let Some(missing) = &merged.missing_shards else { return };
    for index in &missing.first {
        output::line(format!(
            "INCOMPLETE campaign: shard {index}/{} is missing: seeds {} + k*{} of {} never ran \
             (its file was not given; did the shard die before writing it?)",
            invocation.shard_count,
            invocation.start.saturating_add(*index),
            invocation.shard_count,
            invocation.describe_seeds(false)
        ));
    }
    if missing.count > missing.first.len() as u64 {
        let more = missing.count - missing.first.len() as u64;
        output::line(format!("INCOMPLETE campaign: and {more} more shards are missing"));
    }
}

fn write_json(path: &Path, merged: &[ScenarioSummary]) -> Result<(), UsageError> {
    let json = serde_json::to_string_pretty(merged).expect("summaries serialize");
    output::write_file(path, json.as_bytes())
}

/// Merges the summaries in `(file name, text)` pairs: checks each, checks that the files are
/// shards of one campaign, refuses overlapping seed ranges, and adds them up per scenario.
pub fn merge_texts(registry: &Registry, inputs: &[(String, String)]) -> Result<Merged, UsageError> {
    let mut files = Vec::new();
    for (file, text) in inputs {
        let shard: Vec<ScenarioSummary> = serde_json::from_str(text)
            .map_err(|e| UsageError(format!("{file} is not a stress summary: {e}")))?;
        for summary in &shard {
            check_summary(file, summary)?;
        }
        files.push(campaign::shard_file(registry, file, shard)?);
    }
    let (invocation, missing_shards) = campaign::campaign(&files)?;
    let mut merged: BTreeMap<String, (ScenarioSummary, Vec<Source>)> = BTreeMap::new();
    for shard in files {
        for summary in shard.summaries {
            let sources: Vec<Source> = summary
                .covers
                .iter()
                .map(|&range| Source { file: shard.file.clone(), range })
                .collect();
            match merged.get_mut(&summary.scenario) {
                None => {
                    let summary = ScenarioSummary { invocation: None, ..summary };
                    merged.insert(summary.scenario.clone(), (summary, sources));
                }
                Some((total, total_sources)) => {
                    for new in &sources {
                        check_disjoint(&summary.scenario, total_sources, new)?;
                    }
                    add(total, summary)
                        .map_err(|what| UsageError(format!("{}: {what} overflows", shard.file)))?;
                    total_sources.extend(sources);
                }
            }
        }
    }
    let summaries = invocation
        .scenarios
        .iter()
        .filter_map(|name| merged.remove(name))
        .map(|(mut summary, _)| {
            summary.failed.sort_by_key(|f| f.seed);
            summary.covers.sort_by_key(|r| (r.start, r.stride));
            summary.events_per_s = summary.events as f64 / summary.wall_time_s.max(1e-9);
            summary.missing_shards.clone_from(&missing_shards);
            summary
        })
        .collect();
    Ok(Merged { invocation, files: inputs.len() as u64, summaries, missing_shards })
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
