//! What a voter tells the harness beside raft's own work: the durable promise a message makes
//! (`Context::promise`, checked by `crate::promises`) and the moment it marks for aimed faults
//! (`Context::moment`), both declared when the message leaves.

use crate::node::{Promise, RaftNode};
use fencepost::sim::Context;
use raft::eraftpb::{Message, MessageType};
use raft::storage::MemStorage;
use raft::Raft;

/// What one outgoing message promises and marks.
#[derive(Clone, Debug)]
pub struct Marks {
    /// The durable promise it makes.
    pub promise: Option<Promise>,
    /// The moment it marks.
    pub moment: Option<&'static str>,
}

impl Marks {
    /// The marks of `message`, which `raft` is sending now. A vote request or grant promises
    /// the vote; an append ack promises the entry it acknowledges, whose term is read now
    /// (a later Ready may overwrite it before the message leaves). Right after a voter granted
    /// a vote or acknowledged an append, a crash or a pause tests what it promised.
    pub fn of(raft: &Raft<MemStorage>, message: &Message) -> Marks {
        let (term, granted) = (message.term, !message.reject);
        let (promise, moment) = match message.get_msg_type() {
            MessageType::MsgRequestVote => {
                (Some(Promise::Vote { term, candidate: message.from }), None)
            }
            MessageType::MsgRequestVoteResponse if granted => {
                (Some(Promise::Vote { term, candidate: message.to }), Some("vote-granted"))
            }
            MessageType::MsgAppendResponse if granted => {
                let index = message.index;
                let log_term = raft.raft_log.term(index).expect("nothing is compacted here");
                (Some(Promise::Appended { term, index, log_term }), Some("append-acked"))
            }
            _ => (None, None),
        };
        Marks { promise, moment }
    }

    /// Declares them: the message has just left.
    pub fn declare(self, cx: &mut Context<'_, RaftNode>) {
        if let Some(promise) = self.promise {
            cx.promise(promise);
        }
        if let Some(moment) = self.moment {
            cx.moment(moment);
        }
    }
}
