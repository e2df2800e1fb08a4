//! The protected resource: what the lease guards. It accepts a write only if its fencing token
//! is at least the highest it has accepted, so a deposed holder's late writes bounce.

use super::record::FencingToken;

/// A resource guarded by fencing tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProtectedResource {
    /// The highest token accepted so far.
    pub highest: Option<FencingToken>,
    /// Every accepted write, in order: (token, payload).
    pub accepted: Vec<(FencingToken, u64)>,
    /// How many writes were rejected as stale.
    pub rejected: u64,
    /// Canary `unchecked-resource`: accept every write regardless of its token.
    pub skip_check: bool,
}

impl ProtectedResource {
    /// Applies a fenced write; `false` when rejected. An equal token is accepted: one holder
    /// writes many times under one token.
    pub fn write(&mut self, token: FencingToken, payload: u64) -> bool {
        if !self.skip_check && self.highest.is_some_and(|highest| token < highest) {
            self.rejected += 1;
            return false;
        }
        self.highest = Some(self.highest.map_or(token, |highest| highest.max(token)));
        self.accepted.push((token, payload));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(term: u64, generation: u64) -> FencingToken {
        FencingToken { term, generation }
    }

    #[test]
    fn lower_tokens_bounce_equal_and_higher_pass() {
        let mut resource = ProtectedResource::default();
        assert!(resource.write(token(1, 2), 1));
        assert!(resource.write(token(1, 2), 2), "the same holder writes again");
        assert!(!resource.write(token(1, 1), 3), "a deposed holder's late write");
        assert!(resource.write(token(2, 1), 4), "a newer term wins over a higher generation");
        assert_eq!(resource.rejected, 1);
        assert_eq!(resource.accepted.len(), 3);
    }

    #[test]
    fn the_canary_accepts_everything() {
        let mut resource = ProtectedResource { skip_check: true, ..Default::default() };
        resource.write(token(2, 1), 1);
        assert!(resource.write(token(1, 1), 2));
        assert_eq!(resource.highest, Some(token(2, 1)));
    }
}
