//! Seeded election timeouts. raft-rs draws each randomized election timeout from
//! `rand::thread_rng()` (`Raft::reset_randomized_election_timeout`), so two runs of one seed
//! would elect at different ticks. The voter replaces every draw with one from its own seeded
//! stream right after each call into raft: a fresh draw whenever a countdown starts from zero
//! (a new term or role, a campaign, a heartbeat heard), the same value otherwise. The value
//! depends only on what raft did, never on what `thread_rng` returned, so a run is a function
//! of its seed. (`--check-determinism` catches the leak at once without this.)

use fencepost::sim::rng::Stream;
use raft::storage::MemStorage;
use raft::{Raft, StateRole};

/// The seeded election timeout of one voter, in ticks.
#[derive(Clone, Debug)]
pub struct ElectionTimeout {
    ticks: usize,
    round: (u64, StateRole),
}

impl ElectionTimeout {
    /// A timeout for a raft that was just built.
    pub fn new(raft: &mut Raft<MemStorage>, rng: &mut Stream) -> ElectionTimeout {
        let mut timeout = ElectionTimeout { ticks: 0, round: (raft.term, raft.state) };
        timeout.draw(raft, rng);
        timeout
    }

    /// Re-pins the timeout after a call into `raft`: drawn afresh if a countdown restarted.
    pub fn pin(&mut self, raft: &mut Raft<MemStorage>, rng: &mut Stream) {
        let round = (raft.term, raft.state);
        let restarted = raft.state != StateRole::Leader && raft.election_elapsed == 0;
        if round != self.round || restarted {
            self.round = round;
            self.draw(raft, rng);
        } else if raft.randomized_election_timeout() != self.ticks {
            raft.set_randomized_election_timeout(self.ticks);
        }
    }

    /// Draws in raft's own range, `[election_tick, 2 * election_tick)`.
    fn draw(&mut self, raft: &mut Raft<MemStorage>, rng: &mut Stream) {
        let least = raft.election_timeout();
        self.ticks = least + rng.below(least as u64) as usize;
        raft.set_randomized_election_timeout(self.ticks);
    }
}
