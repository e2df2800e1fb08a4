//! Seeds from people and the environment: `DST_SEED` replays exactly one seed, `DST_SEEDS` sets
//! how many a test runs. A malformed value is an error that says what was wrong, never a silent
//! default.

use std::fmt;

/// A seed that could not be parsed, with the text that was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError {
    /// The variable or flag the text came from.
    pub variable: &'static str,
    /// The text as given.
    pub text: String,
    /// What a valid value looks like.
    pub reason: &'static str,
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?} is not valid: {}", self.variable, self.text, self.reason)
    }
}

impl std::error::Error for SeedError {}

/// Parses a seed written in decimal (`42`) or hex (`0x2a`); `_` may separate digits.
pub fn parse_seed(text: &str) -> Result<u64, SeedError> {
    parse_u64("seed", text)
}

/// The one parser of every number a person gives the harness (seeds, counts, `DST_SEED`,
/// `DST_SEEDS`, command-line flags): decimal (`42`) or hex after `0x` (`0x2a`), with `_`
/// allowed between two digits (`1_000_000`), surrounding spaces ignored. The error says what
/// was wrong in a few words.
pub fn parse_number(text: &str) -> Result<u64, &'static str> {
    let text = text.trim();
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    let malformed = if radix == 16 {
        "expected hex digits after 0x"
    } else {
        "expected a decimal or 0x-hex number"
    };
    if digits.is_empty() || !digits.chars().all(|c| c == '_' || c.is_digit(radix)) {
        return Err(malformed);
    }
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err("`_` may only stand between two digits");
    }
    let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
    u64::from_str_radix(&cleaned, radix).map_err(|_| "too large: at most 18446744073709551615")
}

fn parse_u64(variable: &'static str, text: &str) -> Result<u64, SeedError> {
    parse_number(text).map_err(|reason| SeedError { variable, text: text.to_string(), reason })
}

/// Which seeds a test should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedSelection {
    /// `DST_SEED` was set: replay exactly this seed.
    One(u64),
    /// Run `count` seeds starting at `start`.
    Range {
        /// The first seed.
        start: u64,
        /// How many seeds.
        count: u64,
    },
}

impl SeedSelection {
    /// The seeds, in order. Inclusive, so `DST_SEED=18446744073709551615` (the last seed) is
    /// one seed and never an overflow; a range stops at the last seed rather than wrap round.
    pub fn seeds(self) -> std::ops::RangeInclusive<u64> {
        match self {
            SeedSelection::One(seed) => seed..=seed,
            SeedSelection::Range { count: 0, .. } => {
                let mut none = 0..=0;
                none.next(); // exhausted: an inclusive range that yields no seed
                none
            }
            SeedSelection::Range { start, count } => start..=start.saturating_add(count - 1),
        }
    }
}

/// Reads `DST_SEED` and `DST_SEEDS` from the environment; `default_count` seeds from 0 otherwise.
pub fn from_env(default_count: u64) -> Result<SeedSelection, SeedError> {
    from_vars(
        std::env::var("DST_SEED").ok().as_deref(),
        std::env::var("DST_SEEDS").ok().as_deref(),
        default_count,
    )
}

/// [`from_env`] with the variables passed in, for testing.
pub fn from_vars(
    seed: Option<&str>,
    seeds: Option<&str>,
    default_count: u64,
) -> Result<SeedSelection, SeedError> {
    if let Some(text) = seed {
        let seed = parse_u64("DST_SEED", text)?;
        // A malformed DST_SEEDS beside it is still a mistake worth hearing about.
        if let Some(count) = seeds {
            parse_u64("DST_SEEDS", count)?;
        }
        return Ok(SeedSelection::One(seed));
    }
    let count = match seeds {
        Some(text) => parse_u64("DST_SEEDS", text)?,
        None => default_count,
    };
    if count == 0 {
        let text = seeds.unwrap_or("0").to_string();
        return Err(SeedError { variable: "DST_SEEDS", text, reason: "must be at least 1" });
    }
    Ok(SeedSelection::Range { start: 0, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed("0x2a"), Ok(42));
        assert_eq!(parse_seed("0XFF_FF"), Ok(0xffff));
        assert_eq!(parse_seed(" 7 "), Ok(7));
        assert_eq!(parse_seed("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn malformed_seeds_are_errors_that_name_the_text() {
        for bad in
            ["", "-1", "0x", "12abc", "18446744073709551616", "0xg", "_1", "1_", "1__0", "0x_1"]
        {
            let error = parse_seed(bad).expect_err(bad);
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn dst_seed_wins_and_dst_seeds_counts() {
        assert_eq!(from_vars(Some("0x10"), Some("5"), 3), Ok(SeedSelection::One(16)));
        assert_eq!(from_vars(None, Some("5"), 3), Ok(SeedSelection::Range { start: 0, count: 5 }));
        assert_eq!(from_vars(None, None, 3), Ok(SeedSelection::Range { start: 0, count: 3 }));
        assert_eq!(from_vars(None, None, 3).unwrap().seeds().count(), 3);
        assert!(from_vars(Some("nope"), None, 3).is_err());
        let both = from_vars(Some("42"), Some("garbage"), 3).unwrap_err();
        assert_eq!(both.variable, "DST_SEEDS", "a malformed DST_SEEDS is refused beside DST_SEED");
        assert!(from_vars(None, Some("many"), 3).is_err());
        assert!(from_vars(None, Some("0"), 3).is_err(), "zero seeds would test nothing");
    }

    #[test]
    fn the_last_seed_is_one_seed() {
        let last = from_vars(Some("18446744073709551615"), None, 3).unwrap();
        assert_eq!(last.seeds().collect::<Vec<_>>(), vec![u64::MAX]);
        let hex = from_vars(Some("0xffff_ffff_ffff_ffff"), None, 3).unwrap();
        assert_eq!(hex.seeds().count(), 1);
        let near_end = SeedSelection::Range { start: u64::MAX - 1, count: 5 };
        assert_eq!(near_end.seeds().collect::<Vec<_>>(), vec![u64::MAX - 1, u64::MAX]);
        assert_eq!(SeedSelection::Range { start: 0, count: 0 }.seeds().count(), 0);
    }
}
