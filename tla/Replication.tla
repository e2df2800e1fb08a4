---------------------------- MODULE Replication ----------------------------
(***************************************************************************)
(* A leader ships an append-only log to replicas. Mirrored in              *)
(* model/src/spec/replication/; the simulator checks the same invariants   *)
(* after every step of the `replication` scenario, and holds every step    *)
(* against the action the implementation declares it took (SpecConformance)*)
(*                                                                         *)
(* A log is the sequence of its entries' terms (index i at position i).    *)
(* Retention keeps trimmed entries in the sequence and marks them with     *)
(* logFloor: entries at or below a floor are out of scope of the checks,   *)
(* AckedWritesDurable included (a node trims only committed entries).      *)
(* Durability: `log` is what a node works with, `durableLog` what a crash  *)
(* leaves. Every change a node makes to its log, floor, term or vote is    *)
(* written as a record (`unsynced`), as the implementation writes its      *)
(* disk; Persisted(n, k) is an fsync covering the first k of them. A vote  *)
(* grant and a candidate's vote requests leave only once the vote is       *)
(* durable (canary GrantBeforeDurable sends the grant first). Heartbeats   *)
(* are messages like the rest: a leader's carries its term, tail and       *)
(* commit index, and may be read long after it left. Messages may be lost *)
(* (Drop), duplicated (a message stays in `msgs` after delivery) and       *)
(* reordered (any may be taken next); a message newer than its receiver's  *)
(* term first moves the receiver to that term (UpdateTerm). History        *)
(* variables (`committed`, `grants`) record what was ever committed or     *)
(* granted, so the checks see past crashes and truncations. Each canary is *)
(* a deliberately broken action switched on by `Canary`.                   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Nodes, MaxTerm, MaxIndex, MaxRestarts, MaxRequests, AckPolicy, Canary

Canaries == {"None", "AcceptFromNonLeader", "SkipRequestIdCorrelation",
             "NoDualLeaderConvergence", "TruncateOnLowerTerm", "AckBeforeDurable",
             "ElectionWithoutTermBump", "GrantBeforeDurable", "RecoverForgetsVote",
             "VoteWithoutLogCheck", "CountOwnUnsyncedAppend", "TermNotDurable",
             "CommitPreviousTermByCount", "AdoptLowerCommit"}

ASSUME /\ Canary \in Canaries
       /\ AckPolicy \in {"Leader", "Quorum"}
       /\ MaxTerm >= 1 /\ MaxIndex >= 1 /\ MaxRestarts >= 0 /\ MaxRequests >= 0
       /\ 0 \notin Nodes

Nil == 0
Roles == {"Leader", "Replica", "Candidate", "Idle"}
\* The longest a log gets (StateBound), so the indices `committed` can record.
MaxLen == MaxIndex + MaxTerm
\* The most records a node has written and not yet synced (StateBound).
MaxUnsynced == 3
\* committed[i] = NotCommitted: no node has yet counted an entry at index i committed.
NotCommitted == <<0, 0>>

\* Planned handovers (Failover.tla) elect a chosen member in a chosen term (a transfer: voters
\* waive the up-to-date check) and point the demoted primary at it before it leads. The replica
\* set on its own never does: FALSE here. The cluster, which composes this spec with
\* Failover.tla, overrides it (tla/TraceReplication_Cluster.cfg).
Transfers == FALSE

VARIABLES
    role,          \* role[n]
    currentTerm,   \* currentTerm[n]
    votedFor,      \* votedFor[n]: the vote cast in currentTerm[n], or Nil
    leader,        \* leader[n]: the leader n follows (itself when leading), or Nil
    votes,         \* votes[n]: who granted n's candidacy (its own vote once durable)
    log,           \* log[n]: the terms of n's entries
    logFloor,      \* logFloor[n]: entries up to here are trimmed (out of scope)
    unsynced,      \* unsynced[n]: the records n wrote that no fsync covers yet, oldest first
    durableLog,    \* durableLog[n]: what a crash leaves of log[n]
    durableFloor,  \* durableFloor[n]
    durableVote,   \* durableVote[n]: <<term, vote>> a crash leaves
    commitIndex,   \* commitIndex[n]
    matched,       \* matched[n][m]: the highest index m reported durable to leader n
    outstanding,   \* outstanding[n]: sync requests awaiting an answer, [to, term, id]
    heldGrants,    \* heldGrants[n]: votes n granted, as <<term, candidate>>, whose grant waits
                   \* for the vote to be durable (lost in a crash, with the unsynced vote)
    nextRequest,   \* nextRequest[n]: sync request ids n handed out since it (re)started
    msgs,          \* messages in flight
    acked,         \* every acknowledged write, as <<index, term>>
    restarts,      \* restarts[n]: how often n crashed
    committed,     \* history: committed[i] = <<the term of the entry first counted committed
                   \* at index i, the term its node was in then>>, or NotCommitted. A crash,
                   \* truncation or trim on every node cannot erase what was committed.
    grants         \* history: every vote ever granted, as <<voter, term, candidate>> (a
                   \* candidate standing grants itself), which a restart cannot forget

vars == <<role, currentTerm, votedFor, leader, votes, log, logFloor, unsynced, durableLog,
          durableFloor, durableVote, commitIndex, matched, outstanding, heldGrants, nextRequest,
          msgs, acked, restarts, committed, grants>>
history == <<committed, grants>>
\* A node's disk and what it has written: changed only by writes, fsyncs and crashes.
disk == <<unsynced, durableLog, durableFloor, durableVote>>

Max(a, b) == IF a > b THEN a ELSE b
Min(a, b) == IF a < b THEN a ELSE b
Majority(S) == 2 * Cardinality(S) > Cardinality(Nodes)
LastTerm(l) == IF Len(l) = 0 THEN 0 ELSE l[Len(l)]
\* Raft's "at least as up to date": a log ending at (lastIndex, lastTerm) against log l, last
\* term first, then length.
UpToDate(lastIndex, lastTerm, l) ==
    lastTerm > LastTerm(l) \/ (lastTerm = LastTerm(l) /\ lastIndex >= Len(l))
Holds(l, i, t) == IF i = 0 THEN TRUE ELSE i <= Len(l) /\ l[i] = t
TermAt(l, i) == IF i = 0 THEN 0 ELSE l[i]
\* What n counts (as leader) and reports (as replica) as appended: its durable tail, as long as
\* the working log agrees with it; the canary counts the working log.
AppendedLen(n) ==
    IF Canary = "AckBeforeDurable" THEN Len(log[n])
    ELSE LET common == {i \in 0..Len(durableLog[n]) :
                          i <= Len(log[n]) /\ \A j \in 1..i : log[n][j] = durableLog[n][j]}
         IN CHOOSE i \in common : \A k \in common : k <= i
\* A durable vote dv (<<term, vote>>) backs a vote for candidate c in term t: the same vote
\* in t, or a newer term (in which the voter can no longer vote in t).
VoteBacked(dv, t, c) == dv[1] > t \/ (dv[1] = t /\ dv[2] = c)

\* The network: a message is in flight, a message is sent. (Trace validation, which takes the
\* messages a run logs as given, overrides both: tla/Trace*.cfg.)
InFlight(m) == m \in msgs
Send(m) == msgs' = msgs \cup {m}
Grant(n, c, t) == [type |-> "VoteGranted", from |-> n, to |-> c, term |-> t]
\* A replica's report of its durable tail, in an AppendAck or a SyncRequest.
DurableTail(n) == [index |-> AppendedLen(n), last |-> TermAt(log[n], AppendedLen(n))]

\* The history update of a step in which a node, in term t after the step, counts its commit
\* index `commit` over its log l with floor `floor`: every index above the floor that it now
\* counts committed, and that no node counted committed before, records its entry there. (Only
\* the stepping node's commit index moves in a step, so only it can record anything new.)
RecordCommits(l, floor, commit, t) ==
    committed' = [i \in DOMAIN committed |->
                    IF committed[i] = NotCommitted /\ floor < i /\ i <= commit /\ i <= Len(l)
                    THEN <<l[i], t>> ELSE committed[i]]

---------------------------------------------------------------------------
(* The disk: records, as the implementation writes them (StableRecord)    *)

\* One shape for every record (unused fields 0, Nil or <<>>): a vote (the term and the vote
\* cast in it), an entry, a truncation after an index, a trim up to a floor, and a reset to a
\* base after skipping ahead (the base is the leader's prefix: the spec keeps trimmed entries).
Record(kind, index, term, vote, base) ==
    [kind |-> kind, index |-> index, term |-> term, vote |-> vote, base |-> base]
VoteRecord(t, v) == Record("Vote", 0, t, v, <<>>)
EntryRecord(i, t) == Record("Entry", i, t, Nil, <<>>)
TruncateRecord(i) == Record("Truncate", i, 0, Nil, <<>>)
TrimRecord(i) == Record("Trim", i, 0, Nil, <<>>)
ResetRecord(base) == Record("Reset", Len(base), 0, Nil, base)

\* n writes `records` after what it wrote before; an fsync makes them durable later.
Write(n, records) == unsynced' = [unsynced EXCEPT ![n] = @ \o records]

\* What a disk holding d (a log, its floor and a vote) holds once record r is durable too.
ApplyRecord(d, r) ==
    CASE r.kind = "Vote" -> [d EXCEPT !.vote = <<r.term, r.vote>>]
      [] r.kind = "Entry" -> IF r.index = Len(d.log) + 1
                             THEN [d EXCEPT !.log = Append(@, r.term)] ELSE d
      [] r.kind = "Truncate" -> [d EXCEPT !.log = SubSeq(@, 1, Min(r.index, Len(@)))]
      [] r.kind = "Trim" -> [d EXCEPT !.floor = Max(@, r.index)]
      [] r.kind = "Reset" -> [d EXCEPT !.log = r.base, !.floor = r.index]

RECURSIVE Replay(_, _)
Replay(d, records) ==
    IF records = <<>> THEN d ELSE Replay(ApplyRecord(d, Head(records)), Tail(records))

\* A newer term is written with no vote in it; canary TermNotDurable writes nothing.
AdoptRecords(t) == IF Canary = "TermNotDurable" THEN <<>> ELSE <<VoteRecord(t, Nil)>>

TypeOK ==
    /\ role \in [Nodes -> Roles]
    /\ currentTerm \in [Nodes -> 0..MaxTerm]
    /\ votedFor \in [Nodes -> Nodes \cup {Nil}]
    /\ leader \in [Nodes -> Nodes \cup {Nil}]
    /\ \A n \in Nodes : Len(log[n]) <= MaxLen
    /\ commitIndex \in [Nodes -> Nat]
    /\ nextRequest \in [Nodes -> Nat]
    /\ acked \subseteq (Nat \X Nat)
    /\ committed \in [1..MaxLen -> (0..MaxTerm) \X (0..MaxTerm)]
    /\ grants \subseteq Nodes \X (1..MaxTerm) \X Nodes

Init ==
    /\ role = [n \in Nodes |-> "Idle"]
    /\ currentTerm = [n \in Nodes |-> 0]
    /\ votedFor = [n \in Nodes |-> Nil]
    /\ leader = [n \in Nodes |-> Nil]
    /\ votes = [n \in Nodes |-> {}]
    /\ log = [n \in Nodes |-> <<>>]
    /\ logFloor = [n \in Nodes |-> 0]
    /\ unsynced = [n \in Nodes |-> <<>>]
    /\ durableLog = [n \in Nodes |-> <<>>]
    /\ durableFloor = [n \in Nodes |-> 0]
    /\ durableVote = [n \in Nodes |-> <<0, Nil>>]
    /\ commitIndex = [n \in Nodes |-> 0]
    /\ matched = [n \in Nodes |-> [m \in Nodes |-> 0]]
    /\ outstanding = [n \in Nodes |-> {}]
    /\ heldGrants = [n \in Nodes |-> {}]
    /\ nextRequest = [n \in Nodes |-> 0]
    /\ msgs = {}
    /\ acked = {}
    /\ restarts = [n \in Nodes |-> 0]
    /\ committed = [i \in 1..MaxLen |-> NotCommitted]
    /\ grants = {}

---------------------------------------------------------------------------
(* Terms, elections and leaders *)

\* A message of a newer term moves its receiver to that term, written to disk with no vote in
\* it: no leader, no leadership, no candidacy.
UpdateTerm(n, t) ==
    /\ t > currentTerm[n] /\ t <= MaxTerm
    /\ currentTerm' = [currentTerm EXCEPT ![n] = t]
    /\ votedFor' = [votedFor EXCEPT ![n] = Nil]
    /\ role' = [role EXCEPT ![n] = "Idle"]
    /\ leader' = [leader EXCEPT ![n] = Nil]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ Write(n, AdoptRecords(t))
    /\ UNCHANGED <<log, logFloor, durableLog, durableFloor, durableVote, commitIndex, matched,
                   outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A non-leader that misses its leader's heartbeats gives the leader up and becomes a candidate
\* (it stands at once, or after a wait).
Timeout(n) ==
    /\ role[n] \notin {"Leader", "Candidate"}
    /\ role' = [role EXCEPT ![n] = "Candidate"]
    /\ leader' = [leader EXCEPT ![n] = Nil]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ UNCHANGED <<currentTerm, votedFor, log, logFloor, disk, commitIndex, matched,
                   outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* n stops leading, standing or following, in its term: a frozen primary whose handover went
\* silent, a primary demoted in its own term, a replica told its leader leads no more.
StepDown(n) ==
    /\ role' = [role EXCEPT ![n] = "Idle"]
    /\ leader' = [leader EXCEPT ![n] = Nil]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ UNCHANGED <<currentTerm, votedFor, log, logFloor, disk, commitIndex, matched,
                   outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* n stands in term t, voting for itself on disk; its requests leave once that vote is durable
\* (RequestVotes, which records the vote in `grants`).
StandIn(n, t) ==
    /\ role' = [role EXCEPT ![n] = "Candidate"]
    /\ currentTerm' = [currentTerm EXCEPT ![n] = t]
    /\ votedFor' = [votedFor EXCEPT ![n] = n]
    /\ leader' = [leader EXCEPT ![n] = Nil]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ Write(n, <<VoteRecord(t, n)>>)
    /\ UNCHANGED <<log, logFloor, durableLog, durableFloor, durableVote, commitIndex, matched,
                   outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* n lost its leader and stands for the next term. The canary stands in the term it already
\* has (and may have voted in), once it has one: from term 0 it bumps to 1 like the correct
\* node (the implementation would stand in term 0, which the spec does not model; without the
\* bump no term would ever start).
Stand(n) ==
    LET t == IF Canary = "ElectionWithoutTermBump" /\ currentTerm[n] >= 1 THEN currentTerm[n]
             ELSE currentTerm[n] + 1
    IN /\ role[n] # "Leader"
       /\ t <= MaxTerm /\ t >= 1
       /\ StandIn(n, t)

\* A planned handover's target stands in the handover's term (Failover.tla's Promote).
StandTransfer(n, t) == Transfers /\ t > currentTerm[n] /\ t <= MaxTerm /\ StandIn(n, t)

\* A candidate whose own vote is durable asks for votes (a transfer's request waives the
\* voters' up-to-date check) and counts its own: from now on it has voted for itself (a crash
\* before its vote was durable leaves no vote).
RequestVotes(n, transfer) ==
    /\ role[n] = "Candidate" /\ durableVote[n] = <<currentTerm[n], n>>
    /\ transfer => Transfers
    /\ votes' = [votes EXCEPT ![n] = @ \cup {n}]
    /\ grants' = grants \cup {<<n, currentTerm[n], n>>}
    /\ Send([type |-> "RequestVote", from |-> n, term |-> currentTerm[n],
             lastIndex |-> Len(log[n]), lastTerm |-> LastTerm(log[n]), transfer |-> transfer])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, log, logFloor, disk, commitIndex,
                   matched, outstanding, nextRequest, acked, restarts, committed, heldGrants>>

\* A voter grants once per term, on disk, and only to a log at least as up to date as its own.
\* The grant is held until the vote is durable (SendGrant). Canary VoteWithoutLogCheck skips the
\* up-to-date check; canary GrantBeforeDurable sends the grant at once.
GrantVote(n, m) ==
    /\ InFlight(m) /\ m.type = "RequestVote" /\ m.from # n
    /\ m.term = currentTerm[n]
    /\ votedFor[n] \in {Nil, m.from}
    /\ \/ Canary = "VoteWithoutLogCheck"
       \/ m.transfer /\ Transfers
       \/ UpToDate(m.lastIndex, m.lastTerm, log[n])
    /\ votedFor' = [votedFor EXCEPT ![n] = m.from]
    /\ Write(n, <<VoteRecord(m.term, m.from)>>)
    /\ IF Canary = "GrantBeforeDurable"
       THEN /\ Send(Grant(n, m.from, m.term))
            /\ grants' = grants \cup {<<n, m.term, m.from>>}
            /\ UNCHANGED heldGrants
       ELSE /\ heldGrants' = [heldGrants EXCEPT ![n] = @ \cup {<<m.term, m.from>>}]
            /\ UNCHANGED <<msgs, grants>>
    /\ UNCHANGED <<role, currentTerm, leader, votes, log, logFloor, durableLog, durableFloor,
                   durableVote, commitIndex, matched, outstanding, nextRequest, acked,
                   restarts, committed>>

\* A held grant leaves once the vote it promises is durable (or a newer durable term backs it):
\* from now on the voter has granted it (`grants`).
SendGrant(n, c, t) ==
    /\ <<t, c>> \in heldGrants[n] /\ VoteBacked(durableVote[n], t, c)
    /\ heldGrants' = [heldGrants EXCEPT ![n] = @ \ {<<t, c>>}]
    /\ grants' = grants \cup {<<n, t, c>>}
    /\ Send(Grant(n, c, t))
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, acked, restarts, committed>>

\* A candidate counts a grant of its term.
ReceiveGrant(n, m) ==
    /\ InFlight(m) /\ m.type = "VoteGranted" /\ m.to = n
    /\ role[n] = "Candidate" /\ m.term = currentTerm[n]
    /\ votes' = [votes EXCEPT ![n] = @ \cup {m.from}]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, log, logFloor, disk, commitIndex,
                   matched, outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A majority of grants makes a leader, which appends (and writes) a barrier entry of its term.
BecomeLeader(n) ==
    /\ role[n] = "Candidate" /\ Majority(votes[n])
    /\ Len(log[n]) < MaxLen
    /\ role' = [role EXCEPT ![n] = "Leader"]
    /\ leader' = [leader EXCEPT ![n] = n]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ log' = [log EXCEPT ![n] = Append(@, currentTerm[n])]
    /\ Write(n, <<EntryRecord(Len(log[n]) + 1, currentTerm[n])>>)
    /\ matched' = [matched EXCEPT ![n] = [k \in Nodes |-> 0]]
    /\ UNCHANGED <<currentTerm, votedFor, logFloor, durableLog, durableFloor, durableVote,
                   commitIndex, outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A leader broadcasts a heartbeat: its term, tail and commit index. (Other members' heartbeats
\* feed the implementation's rule of who stands first and move nobody: not modelled.)
Heartbeat(n) ==
    /\ role[n] = "Leader"
    /\ Send([type |-> "Heartbeat", from |-> n, term |-> currentTerm[n],
             tailIndex |-> Len(log[n]), tailTerm |-> LastTerm(log[n]),
             commit |-> commitIndex[n]])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A heartbeat of n's term reaches a non-leader n: n follows its sender and takes its commit
\* point as far as n's log holds the sender's tail (by LogMatching n then holds every entry up
\* to there as the sender does, so what the sender counted committed is committed here too).
Follow(n, m) ==
    /\ InFlight(m) /\ m.type = "Heartbeat" /\ m.from # n
    /\ m.term = currentTerm[n] /\ role[n] # "Leader"
    /\ role' = [role EXCEPT ![n] = "Replica"]
    /\ leader' = [leader EXCEPT ![n] = m.from]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ IF Holds(log[n], m.tailIndex, m.tailTerm)
       THEN LET commit == Max(commitIndex[n], Min(m.commit, m.tailIndex))
            IN /\ commitIndex' = [commitIndex EXCEPT ![n] = commit]
               /\ RecordCommits(log[n], logFloor[n], commit, currentTerm[n])
       ELSE UNCHANGED <<commitIndex, committed>>
    /\ UNCHANGED <<currentTerm, votedFor, log, logFloor, disk, matched, outstanding,
                   nextRequest, msgs, acked, restarts, grants, heldGrants>>

\* Two leaders of one term meet (a heartbeat of one reaches the other): the longer tail (last
\* term, then index), then the lower id, wins; the loser follows. A leader of a newer term
\* makes the other adopt its term first (UpdateTerm), which ends its leadership. The canary's
\* loser only takes a newer term and keeps leading.
LeadersMeet(n, m) ==
    /\ InFlight(m) /\ m.type = "Heartbeat" /\ m.from # n /\ role[n] = "Leader"
    /\ IF Canary = "NoDualLeaderConvergence"
       THEN /\ m.term > currentTerm[n]
            /\ currentTerm' = [currentTerm EXCEPT ![n] = m.term]
            /\ votedFor' = [votedFor EXCEPT ![n] = Nil]
            /\ Write(n, AdoptRecords(m.term))
            /\ UNCHANGED <<role, leader, votes>>
       ELSE /\ m.term = currentTerm[n]
            /\ \/ m.tailTerm > LastTerm(log[n])
               \/ m.tailTerm = LastTerm(log[n]) /\ m.tailIndex > Len(log[n])
               \/ m.tailTerm = LastTerm(log[n]) /\ m.tailIndex = Len(log[n]) /\ m.from < n
            /\ role' = [role EXCEPT ![n] = "Replica"]
            /\ leader' = [leader EXCEPT ![n] = m.from]
            /\ votes' = [votes EXCEPT ![n] = {}]
            /\ UNCHANGED <<currentTerm, votedFor, unsynced>>
    /\ UNCHANGED <<log, logFloor, durableLog, durableFloor, durableVote, commitIndex, matched,
                   outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A planned handover's demoted primary follows the target in the handover's term, before the
\* target leads it (Failover.tla's Demote).
FollowPromoted(n, q) ==
    /\ Transfers /\ q # n /\ role[n] # "Leader"
    /\ role' = [role EXCEPT ![n] = "Replica"]
    /\ leader' = [leader EXCEPT ![n] = q]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ UNCHANGED <<currentTerm, votedFor, log, logFloor, disk, commitIndex, matched,
                   outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

---------------------------------------------------------------------------
(* Writes, durability, commit and acknowledgement *)

ClientWrite(n) ==
    /\ role[n] = "Leader" /\ Len(log[n]) < MaxLen
    /\ log' = [log EXCEPT ![n] = Append(@, currentTerm[n])]
    /\ Write(n, <<EntryRecord(Len(log[n]) + 1, currentTerm[n])>>)
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest,
                   msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* An fsync completes: the first k records n wrote since the last one are durable, in order.
Persisted(n, k) ==
    /\ k \in 1..Len(unsynced[n])
    /\ LET was == [log |-> durableLog[n], floor |-> durableFloor[n], vote |-> durableVote[n]]
           now == Replay(was, SubSeq(unsynced[n], 1, k))
       IN /\ durableLog' = [durableLog EXCEPT ![n] = now.log]
          /\ durableFloor' = [durableFloor EXCEPT ![n] = now.floor]
          /\ durableVote' = [durableVote EXCEPT ![n] = now.vote]
    /\ unsynced' = [unsynced EXCEPT ![n] = SubSeq(@, k + 1, Len(@))]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, commitIndex,
                   matched, outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A replica reports its durable tail (as far as its working log agrees) to its leader.
ReportProgress(n) ==
    /\ role[n] = "Replica" /\ leader[n] # Nil
    /\ Send([type |-> "AppendAck", from |-> n, to |-> leader[n], term |-> currentTerm[n],
             index |-> DurableTail(n).index, last |-> DurableTail(n).last])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* Canary AckBeforeDurable, on the replica's side: it reports its working log as appended
\* before the fsync (correctly, only Persisted reports, once the log is durable).
ReportUnsynced(n) ==
    /\ Canary = "AckBeforeDurable"
    /\ role[n] = "Replica" /\ leader[n] # Nil
    /\ Send([type |-> "AppendAck", from |-> n, to |-> leader[n], term |-> currentTerm[n],
             index |-> Len(log[n]), last |-> LastTerm(log[n])])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* The leader counts a report (an AppendAck, or the tail a SyncRequest carries) only if the
\* reported (index, term) is in its own log.
CountAppended(n, m) ==
    /\ InFlight(m) /\ m.type \in {"AppendAck", "SyncRequest"} /\ m.to = n
    /\ role[n] = "Leader" /\ m.term = currentTerm[n]
    /\ Holds(log[n], m.index, m.last)
    /\ matched' = [matched EXCEPT ![n][m.from] = Max(@, m.index)]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, outstanding, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* The commit index moves to an entry of the leader's own term that a majority holds durably,
\* the leader counting its own durable append. Canary CountOwnUnsyncedAppend counts its own
\* working log before the fsync. Canary CommitPreviousTermByCount commits an entry of an earlier
\* term by counting the replicas that hold it (Raft's Figure 8): a log with a newer last term
\* that lacks the entry can still win an election and overwrite it.
AdvanceCommit(n, i) ==
    /\ role[n] = "Leader" /\ i > commitIndex[n] /\ i <= Len(log[n])
    /\ log[n][i] = currentTerm[n] \/ Canary = "CommitPreviousTermByCount"
    /\ LET appended == IF Canary = "CountOwnUnsyncedAppend" THEN Len(log[n]) ELSE AppendedLen(n)
           own == IF appended >= i THEN {n} ELSE {}
       IN Majority(own \cup {k \in Nodes \ {n} : matched[n][k] >= i})
    /\ commitIndex' = [commitIndex EXCEPT ![n] = i]
    /\ RecordCommits(log[n], logFloor[n], i, currentTerm[n])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk, matched,
                   outstanding, nextRequest, msgs, acked, restarts, grants, heldGrants>>

\* The leader acknowledges entry i: once committed (Quorum) or once its own append is (Leader).
AckWrite(n, i) ==
    /\ role[n] = "Leader" /\ i >= 1 /\ i <= Len(log[n]) /\ log[n][i] = currentTerm[n]
    /\ IF AckPolicy = "Quorum" THEN i <= commitIndex[n] ELSE i <= AppendedLen(n)
    /\ acked' = acked \cup {<<i, log[n][i]>>}
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, msgs, restarts, heldGrants>>
    /\ UNCHANGED history

\* Retention trims committed entries from the front.
Trim(n, i) ==
    /\ i > logFloor[n] /\ i <= commitIndex[n]
    /\ logFloor' = [logFloor EXCEPT ![n] = i]
    /\ Write(n, <<TrimRecord(i)>>)
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, durableLog, durableFloor,
                   durableVote, commitIndex, matched, outstanding, nextRequest, msgs, acked,
                   restarts, heldGrants>>
    /\ UNCHANGED history

\* A crash: the working state, every unsynced record and every held grant are lost; the node
\* comes back Idle
\* from its durable state. Canary RecoverForgetsVote restores the term but not the vote cast in
\* it.
Crash(n) ==
    /\ restarts[n] < MaxRestarts
    /\ restarts' = [restarts EXCEPT ![n] = @ + 1]
    /\ role' = [role EXCEPT ![n] = "Idle"]
    /\ leader' = [leader EXCEPT ![n] = Nil]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ log' = [log EXCEPT ![n] = durableLog[n]]
    /\ logFloor' = [logFloor EXCEPT ![n] = durableFloor[n]]
    /\ unsynced' = [unsynced EXCEPT ![n] = <<>>]
    /\ currentTerm' = [currentTerm EXCEPT ![n] = durableVote[n][1]]
    /\ votedFor' = [votedFor EXCEPT ![n] = IF Canary = "RecoverForgetsVote" THEN Nil
                                           ELSE durableVote[n][2]]
    /\ commitIndex' = [commitIndex EXCEPT ![n] = durableFloor[n]]
    /\ matched' = [matched EXCEPT ![n] = [k \in Nodes |-> 0]]
    /\ outstanding' = [outstanding EXCEPT ![n] = {}]
    /\ heldGrants' = [heldGrants EXCEPT ![n] = {}]
    /\ nextRequest' = [nextRequest EXCEPT ![n] = 0]
    /\ UNCHANGED <<durableLog, durableFloor, durableVote, msgs, acked>>
    /\ UNCHANGED history

---------------------------------------------------------------------------
(* Replication: pushes, and catch-up by pull *)

\* The entries of `entries` placed after index p of l: a conflicting suffix (same index,
\* different term) is replaced, anything already held is kept. MergeKeep is the length of l
\* that stays (all of it, or up to the first conflict).
MergeKeep(l, p, entries) ==
    LET conflict == {k \in 1..Len(entries) : p + k <= Len(l) /\ l[p + k] # entries[k]}
    IN IF conflict = {} THEN Len(l)
       ELSE p + (CHOOSE k \in conflict : \A j \in conflict : k <= j) - 1
Merge(l, p, entries) ==
    LET keep == MergeKeep(l, p, entries)
    IN IF p + Len(entries) <= keep THEN SubSeq(l, 1, keep)
       ELSE SubSeq(l, 1, keep) \o SubSeq(entries, keep - p + 1, Len(entries))
\* The records a merge writes: a truncation at the first conflict, then every entry appended.
MergeRecords(l, p, entries) ==
    LET keep == MergeKeep(l, p, entries)
        cut == IF keep < Len(l) THEN <<TruncateRecord(keep)>> ELSE <<>>
        fresh == IF p + Len(entries) <= keep THEN 0 ELSE p + Len(entries) - keep
    IN cut \o [j \in 1..fresh |-> EntryRecord(keep + j, entries[keep - p + j])]

\* The commit point n takes from a sender whose commit is `commit` and whose entries reach index
\* `covered`: never past what the message covers, and never below n's own (a stale or delayed
\* message carries an older commit point). Canary AdoptLowerCommit takes the sender's as it is.
TakenCommit(n, commit, covered) ==
    IF Canary = "AdoptLowerCommit" THEN Min(commit, covered)
    ELSE Max(commitIndex[n], Min(commit, covered))

\* n applies entries following (p, pt) from a vetted sender `from` in term t, with its commit
\* point, and writes what changed; requests on that channel, asked about the old log, are
\* retired when the log changes, and the requests `consumed` (an answer's own) in any case.
\* What n now counts committed goes into the history.
Apply(n, from, t, p, pt, entries, commit, consumed) ==
    /\ Holds(log[n], p, pt)
    /\ LET merged == Merge(log[n], p, entries)
           newCommit == TakenCommit(n, commit, p + Len(entries))
       IN /\ log' = [log EXCEPT ![n] = merged]
          /\ commitIndex' = [commitIndex EXCEPT ![n] = newCommit]
          /\ RecordCommits(merged, logFloor[n], newCommit, currentTerm[n])
          /\ Write(n, MergeRecords(log[n], p, entries))
          /\ outstanding' = [outstanding EXCEPT ![n] =
                               {o \in @ \ consumed : merged = log[n] \/ o.to # from \/ o.term # t}]

\* The leader pushes its entries after some index p to a replica.
Push(l, n, p) ==
    /\ role[l] = "Leader" /\ l # n /\ p >= logFloor[l] /\ p < Len(log[l])
    /\ Send([type |-> "Append", from |-> l, to |-> n, term |-> currentTerm[l], prev |-> p,
             prevTerm |-> TermAt(log[l], p), entries |-> SubSeq(log[l], p + 1, Len(log[l])),
             commit |-> commitIndex[l]])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A pushed append of n's term makes a non-leader follow its sender; n applies the entries
\* when its log holds what they follow (`apply`), or drops them (they do not follow its log,
\* or its disk is behind: catch-up fetches them later). The canary takes lower terms too.
ReceiveAppend(n, m, apply) ==
    /\ InFlight(m) /\ m.type = "Append" /\ m.to = n
    /\ IF Canary = "TruncateOnLowerTerm" /\ m.term < currentTerm[n]
       THEN apply /\ UNCHANGED <<role, leader, votes>>
       ELSE /\ m.term = currentTerm[n] /\ role[n] # "Leader"
            /\ role' = [role EXCEPT ![n] = "Replica"]
            /\ leader' = [leader EXCEPT ![n] = m.from]
            /\ votes' = [votes EXCEPT ![n] = {}]
    /\ IF apply THEN Apply(n, m.from, m.term, m.prev, m.prevTerm, m.entries, m.commit, {})
       ELSE UNCHANGED <<log, commitIndex, unsynced, outstanding, committed>>
    /\ UNCHANGED <<currentTerm, votedFor, logFloor, durableLog, durableFloor, durableVote,
                   matched, nextRequest, msgs, acked, restarts, grants, heldGrants>>

\* A replica asks its leader for the entries after index `since` (its tail, or earlier after a
\* mismatch), reporting its durable tail.
RequestSync(n, since) ==
    /\ role[n] = "Replica" /\ leader[n] # Nil /\ nextRequest[n] < MaxRequests
    /\ since >= logFloor[n] /\ since <= Len(log[n])
    /\ nextRequest' = [nextRequest EXCEPT ![n] = @ + 1]
    /\ outstanding' = [outstanding EXCEPT ![n] = @ \cup
                         {[to |-> leader[n], term |-> currentTerm[n], id |-> nextRequest[n] + 1]}]
    /\ Send([type |-> "SyncRequest", from |-> n, to |-> leader[n], term |-> currentTerm[n],
             id |-> nextRequest[n] + 1, since |-> since, index |-> DurableTail(n).index,
             last |-> DurableTail(n).last])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* A request is no longer awaited: it timed out, made room for a newer one, or its answer came
\* and could not be used (a mismatch, a nack).
ForgetRequest(n, id) ==
    /\ \E o \in outstanding[n] : o.id = id
    /\ outstanding' = [outstanding EXCEPT ![n] = {o \in @ : o.id # id}]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* The leader answers from its log (a prefix of the entries after the request's index, as many
\* as it serves at once), or says where it now starts (BadRange, with the committed prefix the
\* replica skips to: the spec keeps trimmed entries, so it can ship them). It answers a request
\* of an older term too, in its own term; the replica's vetting refuses that answer.
AnswerSync(l, m) ==
    /\ InFlight(m) /\ m.type = "SyncRequest" /\ m.to = l
    /\ role[l] = "Leader" /\ m.term <= currentTerm[l]
    /\ IF m.since < logFloor[l]
       THEN Send([type |-> "BadRange", from |-> l, to |-> m.from, term |-> currentTerm[l],
                  id |-> m.id, since |-> m.since, floor |-> logFloor[l],
                  base |-> SubSeq(log[l], 1, logFloor[l])])
       ELSE LET prev == Min(m.since, Len(log[l]))
            IN \E last \in prev..Len(log[l]) :
                  Send([type |-> "SyncResponse", from |-> l, to |-> m.from,
                        term |-> currentTerm[l], id |-> m.id, prev |-> prev,
                        prevTerm |-> TermAt(log[l], prev),
                        entries |-> SubSeq(log[l], prev + 1, last),
                        commit |-> commitIndex[l]])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* An answer is vetted: from the believed leader in its term (the canary believes anyone), and
\* for a request still outstanding on that channel (the canary skips that).
Vetted(n, m) ==
    /\ Canary = "AcceptFromNonLeader" \/ (role[n] = "Replica" /\ leader[n] = m.from
                                           /\ m.term = currentTerm[n])
    /\ Canary = "SkipRequestIdCorrelation"
       \/ [to |-> m.from, term |-> m.term, id |-> m.id] \in outstanding[n]

\* A vetted answer with entries is applied, which retires the request it answers.
ReceiveSyncResponse(n, m) ==
    /\ InFlight(m) /\ m.type = "SyncResponse" /\ m.to = n /\ Vetted(n, m)
    /\ Apply(n, m.from, m.term, m.prev, m.prevTerm, m.entries, m.commit,
             {[to |-> m.from, term |-> m.term, id |-> m.id]})
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, logFloor, durableLog,
                   durableFloor, durableVote, matched, nextRequest, msgs, acked, restarts,
                   grants, heldGrants>>

\* Skip-ahead: the log restarts at the leader's floor, in one round trip, and is written so. The
\* entries it skips to are at or below the new floor, out of scope: the history records nothing.
ReceiveBadRange(n, m) ==
    /\ InFlight(m) /\ m.type = "BadRange" /\ m.to = n /\ Vetted(n, m)
    /\ m.since < m.floor
    /\ log' = [log EXCEPT ![n] = m.base]
    /\ logFloor' = [logFloor EXCEPT ![n] = m.floor]
    /\ commitIndex' = [commitIndex EXCEPT ![n] = Max(@, m.floor)]
    /\ Write(n, <<ResetRecord(m.base)>>)
    /\ outstanding' = [outstanding EXCEPT ![n] =
                          @ \ {[to |-> m.from, term |-> m.term, id |-> m.id]}]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, durableLog, durableFloor,
                   durableVote, matched, nextRequest, msgs, acked, restarts, heldGrants>>
    /\ UNCHANGED history

\* The network loses a message.
Drop(m) ==
    /\ m \in msgs
    /\ msgs' = msgs \ {m}
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, disk,
                   commitIndex, matched, outstanding, nextRequest, acked, restarts, heldGrants>>
    /\ UNCHANGED history

Next ==
    \/ \E n \in Nodes :
          \/ Stand(n) \/ ClientWrite(n) \/ ReportProgress(n) \/ ReportUnsynced(n) \/ Crash(n)
          \/ Timeout(n) \/ StepDown(n) \/ BecomeLeader(n) \/ Heartbeat(n)
          \/ \E k \in 1..Len(unsynced[n]) : Persisted(n, k)
          \/ \E b \in BOOLEAN : RequestVotes(n, b)
    \/ \E n \in Nodes, t \in 1..MaxTerm : UpdateTerm(n, t) \/ StandTransfer(n, t)
    \/ \E n \in Nodes : \E g \in heldGrants[n] : SendGrant(n, g[2], g[1])
    \/ \E n, q \in Nodes : FollowPromoted(n, q)
    \/ \E n \in Nodes, id \in 1..MaxRequests : ForgetRequest(n, id)
    \/ \E n \in Nodes, m \in msgs :
          \/ GrantVote(n, m) \/ ReceiveGrant(n, m) \/ Follow(n, m) \/ LeadersMeet(n, m)
          \/ CountAppended(n, m) \/ AnswerSync(n, m) \/ ReceiveSyncResponse(n, m)
          \/ ReceiveBadRange(n, m) \/ \E b \in BOOLEAN : ReceiveAppend(n, m, b)
    \/ \E n \in Nodes, i \in 0..MaxLen :
          AdvanceCommit(n, i) \/ AckWrite(n, i) \/ Trim(n, i) \/ RequestSync(n, i)
    \/ \E n, k \in Nodes, p \in 0..MaxLen : Push(n, k, p)
    \/ \E m \in msgs : Drop(m)

Spec == Init /\ [][Next]_vars

\* Bounds the model for TLC (the simulator has none: it runs the real thing).
StateBound == \A n \in Nodes : Len(log[n]) <= MaxLen /\ Len(unsynced[n]) <= MaxUnsynced

---------------------------------------------------------------------------
(* Bounds and guides for TLC. Even two terms on three nodes make millions of states (the
   message set alone takes any subset of what was ever sent), so an exhaustive run needs a
   smaller world than the constants give, and a canary that takes many steps needs its
   search steered. Each operator below only removes behaviours, so whatever TLC finds under
   one is a behaviour of the spec. TLC checks the invariants on every successor before a
   constraint prunes it, so a guide may even exclude the very step that breaks the property:
   the violation is still found, and the search stays small. Node ids are the cfgs' (Nodes =
   {1, 2, 3}). *)

\* No message is lost (an ACTION_CONSTRAINT). Delivery is optional anyway, so a message never
\* delivered stands for a lost one; Drop only matters by freeing room under AtMostMessages.
NoLoss == msgs \subseteq msgs'
\* At most k messages: under NoLoss, at most k sends in a behaviour.
AtMostMessages(k) == Cardinality(msgs) <= k
\* No log is ever trimmed.
NoTrim == \A n \in Nodes : logFloor[n] = 0
\* Every entry is a new leader's barrier: no client writes, one entry per term in a log.
BarriersOnly == \A n \in Nodes : \A i \in 2..Len(log[n]) : log[n][i] # log[n][i - 1]
\* The nodes of S never stand: they only vote and replicate.
NeverStand(S) == \A n \in S : role[n] \notin {"Candidate", "Leader"}
\* Node n never hears of a term after t: it is cut off from the others.
StaysInTerm(n, t) == currentTerm[n] <= t
\* Node n only votes: it follows nobody and its log stays empty.
OnlyVotes(n) == role[n] = "Idle" /\ log[n] = <<>>
\* Nothing reaches node n's disk but votes (its log's durability plays no part).
DiskStaysEmpty(n) == durableLog[n] = <<>>
\* No write is acknowledged, or nothing is committed (yet).
NoAcks == acked = {}
NoCommits == \A n \in Nodes : commitIndex[n] = 0
\* No entries are pushed (replicas catch up by pull only), or only from node a to node b, and
\* only a's whole log (from index 0).
NoPushes == \A m \in msgs : m.type # "Append"
OnlyWholePushes(a, b) == \A m \in msgs : m.type = "Append" => m.from = a /\ m.to = b /\ m.prev = 0
\* No heartbeats (followers learn their leader from its appends), no sync requests.
NoHeartbeats == \A m \in msgs : m.type # "Heartbeat"
\* Every fsync covers everything written so far (an ACTION_CONSTRAINT: Persisted(n, k) with k
\* the whole backlog only). Partial fsyncs matter to the canaries of durability only.
WholeFsyncs == \A n \in Nodes : Len(unsynced'[n]) < Len(unsynced[n]) => unsynced'[n] = <<>>

\* No node changes its role within a term but by winning, following or yielding (an
\* ACTION_CONSTRAINT): no Timeout (Stand gives a leader up as well) and no StepDown (a
\* handover's or a demotion's step, which the replica set alone never takes).
NoIdleSteps ==
    \A n \in Nodes : currentTerm'[n] = currentTerm[n] /\ role'[n] \in {"Idle", "Candidate"}
                        => role'[n] = role[n]
\* A node has at most k records written and not yet synced.
UnsyncedAtMost(k) == \A n \in Nodes : Len(unsynced[n]) <= k

\* Replication.cfg's world (on two nodes): elections, a leader change, replication, commits and
\* acks over eight messages, with barrier entries (a client write is the same append in the
\* same term) and a node syncing each record before it writes the next.
SmallRun == StateBound /\ AtMostMessages(8) /\ NoTrim /\ BarriersOnly /\ UnsyncedAtMost(1)

\* Guides for the canaries that take many steps (three nodes; each names its story).
\* Leader acks: n1 leads term 1 and acks its barrier on its own fsync, cut off in term 1;
\* n2 wins term 2 with n3 and commits its own barrier at index 1.
\* Taken in that order (n2 stirs once n1 acked), without heartbeats.
LeaderAckGuide ==
    SmallRun /\ NeverStand({3}) /\ StaysInTerm(1, 1) /\ NoHeartbeats /\ OnlyWholePushes(2, 3)
    /\ (currentTerm[2] > 0 => acked # {})
\* n1 commits its barrier with n2; n3 (empty log) wins term 2 on n2's unchecked grant.
\* Taken in that order (n3 stirs once n1 committed), without heartbeats.
VoteWithoutLogCheckGuide ==
    SmallRun /\ NeverStand({2}) /\ StaysInTerm(1, 1) /\ NoHeartbeats /\ OnlyWholePushes(1, 2)
    /\ (currentTerm[3] > 0 => commitIndex[1] > 0)
\* n1 answers n2's sync request in term 1; n2 wins term 2 with n3, commits its barrier, then
\* applies n1's late answer over it. n2 stirs once n1 answered, n3 once n2 stood for term 2;
\* only n1 sends heartbeats.
AcceptFromNonLeaderGuide ==
    StateBound /\ AtMostMessages(9) /\ NoTrim /\ BarriersOnly /\ NeverStand({3})
    /\ StaysInTerm(1, 1) /\ NoAcks /\ OnlyWholePushes(2, 3) /\ DiskStaysEmpty(1)
    /\ UnsyncedAtMost(1) /\ (currentTerm[2] > 1 => \E m \in msgs : m.type = "SyncResponse")
    /\ (currentTerm[3] > 0 => currentTerm[2] > 1)
    /\ \A m \in msgs : m.type = "Heartbeat" => m.from = 1
\* One term, catch-up by pull only: n1 answers n3's request with its log, commits its write
\* with n3, trims, and answers the same request (delivered again) with a BadRange that n3 takes
\* although its log moved on since; n2 only votes.
SkipRequestIdCorrelationGuide ==
    StateBound /\ AtMostMessages(8) /\ NeverStand({2, 3}) /\ OnlyVotes(2) /\ NoPushes
    /\ NoAcks /\ UnsyncedAtMost(2)
\* n2 wins term 2 (with n3's vote), writes and pushes its log to n1, then takes n1's late term-1
\* push, which truncates its log, and writes after the stale entry; n1 takes n2's push. n3 only
\* votes; n2 stirs once n1 pushed, n1 leaves term 1 once n2 truncated, and then only follows.
TruncateOnLowerTermGuide ==
    StateBound /\ AtMostMessages(6) /\ NoTrim /\ NeverStand({3}) /\ OnlyVotes(3) /\ NoCommits
    /\ NoHeartbeats /\ (\A m \in msgs : m.type = "Append" => m.prev = 0 /\ m.to # 3)
    /\ (currentTerm[1] <= 1 => Len(log[1]) <= 1) /\ (\A n \in Nodes : Len(log[n]) <= 2)
    /\ (currentTerm[2] > 1 => \E m \in msgs : m.type = "Append" /\ m.from = 1)
    /\ (currentTerm[1] > 1 => NeverStand({1}) /\ Len(log[2]) > 0 /\ log[2][1] = 1)
\* Figure 8 on three nodes: n1 leads term 1, n3 term 2, n1 term 3; n2 only votes and replicates.
\* The story is taken in that order (n3 stirs once n1 leads term 1, n1 moves past term 1 once
\* n3 leads term 2), without heartbeats. The commit is the last step.
CommitPreviousTermByCountGuide ==
    StateBound /\ AtMostMessages(10) /\ NoTrim /\ BarriersOnly /\ NeverStand({2})
    /\ StaysInTerm(3, 2) /\ NoCommits /\ OnlyWholePushes(1, 2) /\ DiskStaysEmpty(3)
    /\ UnsyncedAtMost(2) /\ NoHeartbeats
    /\ (currentTerm[3] > 0 => log[1] # <<>>)
    /\ (currentTerm[1] > 1 => log[3] # <<>>)
\* One term: n1 leads with n2's vote and pushes to n2, which reports its working log.
AckBeforeDurableGuide == SmallRun /\ NeverStand({2, 3})
\* n1 leads term 1 with n3's vote, n2 term 2 with n3's; n2's heartbeat reaches n1.
NoDualLeaderConvergenceGuide == SmallRun /\ NeverStand({3}) /\ NoPushes
\* One term: n1 leads and commits with n2, whose stale first push then arrives again.
AdoptLowerCommitGuide ==
    StateBound /\ AtMostMessages(6) /\ NoTrim /\ BarriersOnly /\ NeverStand({2, 3})
    /\ UnsyncedAtMost(1)

---------------------------------------------------------------------------
(* Invariants, mirrored in model/src/spec/replication.rs under the same names *)

\* At most one leader per term.
ElectionSafety ==
    \A a, b \in Nodes : a # b /\ role[a] = "Leader" /\ role[b] = "Leader"
                        => currentTerm[a] # currentTerm[b]

\* Two logs that agree on an entry agree on every entry before it, above both floors.
LogMatching ==
    \A a, b \in Nodes : \A i \in 1..Len(log[a]) :
        (i <= Len(log[b]) /\ log[a][i] = log[b][i])
        => \A j \in 1..i : j <= Max(logFloor[a], logFloor[b]) \/ log[a][j] = log[b][j]

\* A durable log dl with floor df holds the entry of term t at index i (or trimmed it: trimmed
\* entries are committed and out of scope).
DurableHolds(dl, df, i, t) == i <= df \/ Holds(dl, i, t)

DurablyHolds(n, w) == DurableHolds(durableLog[n], durableFloor[n], w[1], w[2])

\* Under the Quorum policy every acknowledged write is on a majority of durable logs. Trimmed
\* entries count as held: retention takes them out of scope.
AckedWritesDurable ==
    AckPolicy = "Quorum" => \A w \in acked : Majority({n \in Nodes : DurablyHolds(n, w)})

\* No node commits another entry where an acknowledged write stood. Fails under Leader acks.
NoAckedWriteLost ==
    \A w \in acked, n \in Nodes :
        (w[1] <= commitIndex[n] /\ w[1] > logFloor[n]) => Holds(log[n], w[1], w[2])

\* A node's commit index never decreases, except across a restart.
MonotonicCommit ==
    [][\A n \in Nodes : restarts'[n] = restarts[n] => commitIndex'[n] >= commitIndex[n]]_vars

\* Raft's State Machine Safety: a committed entry never changes. Every entry a node holds at or
\* below its commit index, above its floor, is the entry first committed at that index, on any
\* node, at any time (the history outlives crashes, truncations and trims).
StateMachineSafety ==
    \A n \in Nodes : \A i \in 1..Len(log[n]) :
        (logFloor[n] < i /\ i <= commitIndex[n] /\ committed[i] # NotCommitted)
            => log[n][i] = committed[i][1]

\* Raft's Leader Completeness: a leader's log holds every entry committed in an earlier term
\* (above its floor: trimmed entries were committed and are out of scope).
LeaderCompleteness ==
    \A n \in Nodes : role[n] = "Leader" =>
        \A i \in DOMAIN committed :
            (i > logFloor[n] /\ committed[i] # NotCommitted /\ committed[i][2] < currentTerm[n])
                => Holds(log[n], i, committed[i][1])

\* A disk never holds an entry of a newer term than the term it holds: restarted from such a
\* disk, a node would take a deposed leader's word and truncate entries it reported as its own.
DurableTermCoversLog == \A n \in Nodes : LastTerm(durableLog[n]) <= durableVote[n][1]

\* The highest index any node has counted committed (0: none yet).
TopCommitted ==
    LET done == {i \in DOMAIN committed : committed[i] # NotCommitted}
    IN IF done = {} THEN 0 ELSE CHOOSE i \in done : \A j \in done : j <= i

\* Every log at least as up to date as the highest committed entry holds it: a majority could
\* elect such a log, and its leader would overwrite the entry. Raft's Figure 8 (an older term's
\* entry committed by counting replicas) breaks this when the commit happens, before any loss.
UpToDateLogsHoldCommitted ==
    LET k == TopCommitted
        t == committed[k][1]
    IN k > 0 => \A n \in Nodes :
        (/\ logFloor[n] < k
         /\ Len(log[n]) > 0
         /\ (LastTerm(log[n]) > t \/ (LastTerm(log[n]) = t /\ Len(log[n]) >= k)))
            => Holds(log[n], k, t)

\* A voter grants at most one candidate per term, across restarts.
OneVotePerTerm ==
    \A g, h \in grants : (g[1] = h[1] /\ g[2] = h[2]) => g[3] = h[3]

\* A message that promises something durable is backed, as it leaves, by what a crash right
\* then would leave: a vote grant or a vote request (the candidate's vote for itself) by the
\* sender's durable vote; a progress report (AppendAck, or the tail a SyncRequest reports) by
\* the sender's durable log; a Quorum acknowledgement by a majority of durable logs. Otherwise a crash at that moment breaks the
\* promise, however rarely a test crashes there.
DurablePromises ==
    [][ /\ \A m \in msgs' \ msgs :
             /\ m.type = "VoteGranted" => VoteBacked(durableVote'[m.from], m.term, m.to)
             /\ m.type = "RequestVote" => VoteBacked(durableVote'[m.from], m.term, m.from)
             /\ m.type \in {"AppendAck", "SyncRequest"} =>
                    DurableHolds(durableLog'[m.from], durableFloor'[m.from], m.index, m.last)
        /\ AckPolicy = "Quorum" =>
             \A w \in acked' \ acked :
                 Majority({k \in Nodes : DurableHolds(durableLog'[k], durableFloor'[k],
                                                      w[1], w[2])}) ]_vars

=============================================================================
