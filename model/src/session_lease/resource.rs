//! The resource leadership protects. With fencing it refuses a write whose token is below the
//! highest it accepted; a write without a token (the design as described has none) passes.

/// A protected write's stamp: the fencing token it carries, if any, and the tenure (the lease
/// row's generation) of the leader that sent it, which the harness reads and the resource never
/// does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WriteStamp {
    pub token: Option<u64>,
    pub tenure: u64,
}

/// A resource that refuses stale fencing tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FencedResource {
    /// The highest token accepted so far.
    pub highest_token: Option<u64>,
    /// The tenure of the write accepted last, and the highest tenure ever accepted.
    pub last_tenure: Option<u64>,
    pub highest_tenure: Option<u64>,
    pub accepted: u64,
    pub refused: u64,
}

impl FencedResource {
    /// Applies one write; false when refused. An equal token passes: one leader writes many
    /// times in a tenure.
    pub fn write(&mut self, stamp: WriteStamp) -> bool {
        if let (Some(token), Some(highest)) = (stamp.token, self.highest_token) {
            if token < highest {
                self.refused += 1;
                return false;
            }
        }
        self.highest_token = self.highest_token.max(stamp.token);
        self.last_tenure = Some(stamp.tenure);
        self.highest_tenure = self.highest_tenure.max(Some(stamp.tenure));
        self.accepted += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_tokens_bounce_and_unfenced_writes_pass() {
        let mut resource = FencedResource::default();
        assert!(resource.write(WriteStamp { token: Some(2), tenure: 2 }));
        assert!(resource.write(WriteStamp { token: Some(2), tenure: 2 }));
        assert!(!resource.write(WriteStamp { token: Some(1), tenure: 1 }), "a zombie's write");
        assert_eq!((resource.last_tenure, resource.highest_tenure), (Some(2), Some(2)));
        assert!(resource.write(WriteStamp { token: None, tenure: 1 }), "no token, no fence");
        assert_eq!((resource.last_tenure, resource.highest_tenure), (Some(1), Some(2)));
        assert_eq!((resource.accepted, resource.refused), (3, 1));
    }
}
