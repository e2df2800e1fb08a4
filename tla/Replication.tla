---------------------------- MODULE Replication ----------------------------
(***************************************************************************)
(* A leader ships an append-only log to replicas. Mirrored in              *)
(* model/src/spec/replication.rs; the simulator checks the same invariants *)
(* after every step of the `replication` scenario.                         *)
(*                                                                         *)
(* A log is the sequence of its entries' terms (index i at position i).    *)
(* Retention keeps trimmed entries in the sequence and marks them with     *)
(* logFloor: entries at or below a floor are out of scope of the checks,   *)
(* AckedWritesDurable included (a node trims only committed entries).      *)
(* Durability: `log` is what a node works with, `durableLog` what a crash  *)
(* leaves; Persisted makes the working state (log, floor, term and vote)   *)
(* durable. A node's vote is made durable with the grant (the              *)
(* implementation sends a grant only once its vote is on disk; canary      *)
(* GrantBeforeDurable sends it first). Heartbeats are abstracted into      *)
(* Follow and LeadersMeet, which read the other node's state in one step;  *)
(* everything else travels as messages that may be lost (Drop), duplicated *)
(* (a message stays in `msgs` after delivery) and reordered (any may be    *)
(* taken next). History variables (`committed`, `grants`) record what was  *)
(* ever committed or granted, so the checks see past crashes and           *)
(* truncations. Each canary is a deliberately broken action switched on by *)
(* `Canary`.                                                               *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Nodes, MaxTerm, MaxIndex, MaxRestarts, MaxRequests, AckPolicy, Canary

Canaries == {"None", "AcceptFromNonLeader", "SkipRequestIdCorrelation",
             "NoDualLeaderConvergence", "TruncateOnLowerTerm", "AckBeforeDurable",
             "ElectionWithoutTermBump", "GrantBeforeDurable", "RecoverForgetsVote",
             "VoteWithoutLogCheck", "CountOwnUnsyncedAppend", "TermNotDurable"}

ASSUME /\ Canary \in Canaries
       /\ AckPolicy \in {"Leader", "Quorum"}
       /\ MaxTerm >= 1 /\ MaxIndex >= 1 /\ MaxRestarts >= 0 /\ MaxRequests >= 0
       /\ 0 \notin Nodes

Nil == 0
Roles == {"Leader", "Replica", "Candidate", "Idle"}
\* The longest a log gets (StateBound), so the indices `committed` can record.
MaxLen == MaxIndex + MaxTerm
\* committed[i] = NotCommitted: no node has yet counted an entry at index i committed.
NotCommitted == <<0, 0>>

VARIABLES
    role,          \* role[n]
    currentTerm,   \* currentTerm[n]
    votedFor,      \* votedFor[n]: the vote cast in currentTerm[n], or Nil
    leader,        \* leader[n]: the leader n follows (itself when leading), or Nil
    votes,         \* votes[n]: who granted n's candidacy
    log,           \* log[n]: the terms of n's entries
    logFloor,      \* logFloor[n]: entries up to here are trimmed (out of scope)
    durableLog,    \* durableLog[n]: what a crash leaves of log[n]
    durableFloor,  \* durableFloor[n]
    durableVote,   \* durableVote[n]: <<term, vote>> a crash leaves
    commitIndex,   \* commitIndex[n]
    matched,       \* matched[n][m]: the highest index m reported durable to leader n
    outstanding,   \* outstanding[n]: sync requests awaiting an answer, [to, term, id]
    nextRequest,   \* request ids handed out so far (bounded by MaxRequests)
    msgs,          \* messages in flight
    acked,         \* every acknowledged write, as <<index, term>>
    restarts,      \* restarts[n]: how often n crashed
    committed,     \* history: committed[i] = <<the term of the entry first counted committed
                   \* at index i, the term its node was in then>>, or NotCommitted. A crash,
                   \* truncation or trim on every node cannot erase what was committed.
    grants         \* history: every vote ever granted, as <<voter, term, candidate>> (a
                   \* candidate standing grants itself), which a restart cannot forget

vars == <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
          durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest, msgs,
          acked, restarts, committed, grants>>
history == <<committed, grants>>

Max(a, b) == IF a > b THEN a ELSE b
Majority(S) == 2 * Cardinality(S) > Cardinality(Nodes)
LastTerm(l) == IF Len(l) = 0 THEN 0 ELSE l[Len(l)]
\* Raft's "at least as up to date": last term first, then length.
UpToDate(a, b) == LastTerm(a) > LastTerm(b) \/ (LastTerm(a) = LastTerm(b) /\ Len(a) >= Len(b))
Holds(l, i, t) == IF i = 0 THEN TRUE ELSE i <= Len(l) /\ l[i] = t
TermAt(l, i) == IF i = 0 THEN 0 ELSE l[i]
\* What n counts (as leader) and reports (as replica) as appended: its durable tail, as long as
\* the working log agrees with it; the canary counts the working log.
AppendedLen(n) ==
    IF Canary = "AckBeforeDurable" THEN Len(log[n])
    ELSE LET common == {i \in 0..Len(durableLog[n]) :
                          i <= Len(log[n]) /\ \A j \in 1..i : log[n][j] = durableLog[n][j]}
         IN CHOOSE i \in common : \A k \in common : k <= i

Send(m) == msgs' = msgs \cup {m}

\* The history update of a step in which a node, in term t after the step, counts its commit
\* index `commit` over its log l with floor `floor`: every index above the floor that it now
\* counts committed, and that no node counted committed before, records its entry there. (Only
\* the stepping node's commit index moves in a step, so only it can record anything new.)
RecordCommits(l, floor, commit, t) ==
    committed' = [i \in DOMAIN committed |->
                    IF committed[i] = NotCommitted /\ floor < i /\ i <= commit /\ i <= Len(l)
                    THEN <<l[i], t>> ELSE committed[i]]

TypeOK ==
    /\ role \in [Nodes -> Roles]
    /\ currentTerm \in [Nodes -> 0..MaxTerm]
    /\ votedFor \in [Nodes -> Nodes \cup {Nil}]
    /\ leader \in [Nodes -> Nodes \cup {Nil}]
    /\ \A n \in Nodes : Len(log[n]) <= MaxLen
    /\ commitIndex \in [Nodes -> Nat]
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
    /\ durableLog = [n \in Nodes |-> <<>>]
    /\ durableFloor = [n \in Nodes |-> 0]
    /\ durableVote = [n \in Nodes |-> <<0, Nil>>]
    /\ commitIndex = [n \in Nodes |-> 0]
    /\ matched = [n \in Nodes |-> [m \in Nodes |-> 0]]
    /\ outstanding = [n \in Nodes |-> {}]
    /\ nextRequest = 0
    /\ msgs = {}
    /\ acked = {}
    /\ restarts = [n \in Nodes |-> 0]
    /\ committed = [i \in 1..MaxLen |-> NotCommitted]
    /\ grants = {}

\* n moves to a newer term: no vote, no leader, no leadership.
AdoptTerm(n, t) ==
    /\ currentTerm' = [currentTerm EXCEPT ![n] = t]
    /\ votedFor' = [votedFor EXCEPT ![n] = Nil]

---------------------------------------------------------------------------
(* Elections *)

\* n lost its leader and stands, voting for itself durably: its requests carry that vote. The
\* canary stands in the term it already has (and may have voted in), once it has one: from
\* term 0 it bumps to 1 like the correct node (the implementation would stand in term 0,
\* which the spec does not model; without the bump no term would ever start).
Stand(n) ==
    LET t == IF Canary = "ElectionWithoutTermBump" /\ currentTerm[n] >= 1 THEN currentTerm[n]
             ELSE currentTerm[n] + 1
    IN /\ role[n] # "Leader"
       /\ t <= MaxTerm /\ t >= 1
       /\ role' = [role EXCEPT ![n] = "Candidate"]
       /\ currentTerm' = [currentTerm EXCEPT ![n] = t]
       /\ votedFor' = [votedFor EXCEPT ![n] = n]
       /\ durableVote' = [durableVote EXCEPT ![n] = <<t, n>>]
       /\ leader' = [leader EXCEPT ![n] = Nil]
       /\ votes' = [votes EXCEPT ![n] = {n}]
       /\ grants' = grants \cup {<<n, t, n>>}
       /\ Send([type |-> "RequestVote", from |-> n, term |-> t, last |-> log[n]])
       /\ UNCHANGED <<log, logFloor, durableLog, durableFloor, commitIndex, matched,
                      outstanding, nextRequest, acked, restarts, committed>>

\* A voter grants once per term, durably, and only to a log at least as up to date as its own.
\* Canary VoteWithoutLogCheck skips the up-to-date check; canary GrantBeforeDurable sends the
\* grant before the vote is on disk (a later Persisted writes it).
GrantVote(n, m) ==
    /\ m \in msgs /\ m.type = "RequestVote" /\ m.from # n
    /\ m.term >= currentTerm[n]
    /\ LET free == m.term > currentTerm[n] \/ votedFor[n] \in {Nil, m.from}
       IN /\ free
          /\ Canary = "VoteWithoutLogCheck" \/ UpToDate(m.last, log[n])
          /\ currentTerm' = [currentTerm EXCEPT ![n] = m.term]
          /\ votedFor' = [votedFor EXCEPT ![n] = m.from]
          /\ IF Canary = "GrantBeforeDurable" THEN UNCHANGED durableVote
             ELSE durableVote' = [durableVote EXCEPT ![n] = <<m.term, m.from>>]
          /\ role' = [role EXCEPT ![n] = IF m.term > currentTerm[n] THEN "Idle" ELSE @]
          /\ leader' = [leader EXCEPT ![n] = IF m.term > currentTerm[n] THEN Nil ELSE @]
          /\ grants' = grants \cup {<<n, m.term, m.from>>}
          /\ Send([type |-> "VoteGranted", from |-> n, to |-> m.from, term |-> m.term])
    /\ UNCHANGED <<votes, log, logFloor, durableLog, durableFloor, commitIndex, matched,
                   outstanding, nextRequest, acked, restarts, committed>>

\* A majority of grants makes a leader, which appends a barrier entry of its term.
BecomeLeader(n, m) ==
    /\ m \in msgs /\ m.type = "VoteGranted" /\ m.to = n
    /\ role[n] = "Candidate" /\ m.term = currentTerm[n]
    /\ Len(log[n]) < MaxLen
    /\ LET granted == votes[n] \cup {m.from}
       IN /\ votes' = [votes EXCEPT ![n] = granted]
          /\ IF Majority(granted)
             THEN /\ role' = [role EXCEPT ![n] = "Leader"]
                  /\ leader' = [leader EXCEPT ![n] = n]
                  /\ log' = [log EXCEPT ![n] = Append(@, currentTerm[n])]
                  /\ matched' = [matched EXCEPT ![n] = [k \in Nodes |-> 0]]
             ELSE UNCHANGED <<role, leader, log, matched>>
    /\ UNCHANGED <<currentTerm, votedFor, logFloor, durableLog, durableFloor, durableVote,
                   commitIndex, outstanding, nextRequest, msgs, acked, restarts>>
    /\ UNCHANGED history

\* A heartbeat from leader l reaches n, whose term is not newer: n follows l.
Follow(n, l) ==
    /\ n # l /\ role[l] = "Leader" /\ role[n] # "Leader"
    /\ currentTerm[l] >= currentTerm[n]
    /\ IF currentTerm[l] > currentTerm[n] THEN AdoptTerm(n, currentTerm[l])
       ELSE UNCHANGED <<currentTerm, votedFor>>
    /\ role' = [role EXCEPT ![n] = "Replica"]
    /\ leader' = [leader EXCEPT ![n] = l]
    /\ UNCHANGED <<votes, log, logFloor, durableLog, durableFloor, durableVote, commitIndex,
                   matched, outstanding, nextRequest, msgs, acked, restarts>>
    /\ UNCHANGED history

\* Two leaders meet: higher term, then longer log, then lower id wins; the loser follows.
\* The canary's loser only takes the winner's term and keeps leading.
LeadersMeet(a, b) ==
    /\ a # b /\ role[a] = "Leader" /\ role[b] = "Leader"
    /\ \/ currentTerm[a] < currentTerm[b]
       \/ currentTerm[a] = currentTerm[b] /\ Len(log[a]) < Len(log[b])
       \/ currentTerm[a] = currentTerm[b] /\ Len(log[a]) = Len(log[b]) /\ a > b
    /\ IF currentTerm[b] > currentTerm[a] THEN AdoptTerm(a, currentTerm[b])
       ELSE UNCHANGED <<currentTerm, votedFor>>
    /\ IF Canary = "NoDualLeaderConvergence"
       THEN UNCHANGED <<role, leader>>
       ELSE /\ role' = [role EXCEPT ![a] = "Replica"]
            /\ leader' = [leader EXCEPT ![a] = b]
    /\ UNCHANGED <<votes, log, logFloor, durableLog, durableFloor, durableVote, commitIndex,
                   matched, outstanding, nextRequest, msgs, acked, restarts>>
    /\ UNCHANGED history

---------------------------------------------------------------------------
(* Writes, durability, commit and acknowledgement *)

ClientWrite(n) ==
    /\ role[n] = "Leader" /\ Len(log[n]) < MaxLen
    /\ log' = [log EXCEPT ![n] = Append(@, currentTerm[n])]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest,
                   msgs, acked, restarts>>
    /\ UNCHANGED history

\* An fsync completes: the working log, floor, term and vote are durable (the implementation
\* persists a vote record with every grant and every newer term it adopts). A replica reports
\* its tail. Canary TermNotDurable never writes a term adopted without a vote.
Persisted(n) ==
    /\ durableLog' = [durableLog EXCEPT ![n] = log[n]]
    /\ durableFloor' = [durableFloor EXCEPT ![n] = logFloor[n]]
    /\ durableVote' = [durableVote EXCEPT ![n] =
                          IF Canary = "TermNotDurable" /\ votedFor[n] = Nil THEN @
                          ELSE <<currentTerm[n], votedFor[n]>>]
    /\ IF role[n] = "Replica" /\ leader[n] # Nil
       THEN Send([type |-> "AppendAck", from |-> n, to |-> leader[n], term |-> currentTerm[n],
                  index |-> Len(log[n]), last |-> LastTerm(log[n])])
       ELSE UNCHANGED msgs
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, commitIndex,
                   matched, outstanding, nextRequest, acked, restarts>>
    /\ UNCHANGED history

\* Canary AckBeforeDurable, on the replica's side: it reports its working log as appended
\* before the fsync (correctly, only Persisted reports, once the log is durable).
ReportUnsynced(n) ==
    /\ Canary = "AckBeforeDurable"
    /\ role[n] = "Replica" /\ leader[n] # Nil
    /\ Send([type |-> "AppendAck", from |-> n, to |-> leader[n], term |-> currentTerm[n],
             index |-> Len(log[n]), last |-> LastTerm(log[n])])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest,
                   acked, restarts>>
    /\ UNCHANGED history

\* The leader counts a report only if the reported (index, term) is in its own log.
CountAppended(n, m) ==
    /\ m \in msgs /\ m.type = "AppendAck" /\ m.to = n
    /\ role[n] = "Leader" /\ m.term = currentTerm[n]
    /\ Holds(log[n], m.index, m.last)
    /\ matched' = [matched EXCEPT ![n][m.from] = Max(@, m.index)]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, outstanding, nextRequest, msgs,
                   acked, restarts>>
    /\ UNCHANGED history

\* The commit index moves to an entry of the leader's own term that a majority holds durably,
\* the leader counting its own durable append. Canary CountOwnUnsyncedAppend counts its own
\* working log before the fsync.
AdvanceCommit(n, i) ==
    /\ role[n] = "Leader" /\ i > commitIndex[n] /\ i <= Len(log[n])
    /\ log[n][i] = currentTerm[n]
    /\ LET appended == IF Canary = "CountOwnUnsyncedAppend" THEN Len(log[n]) ELSE AppendedLen(n)
           own == IF appended >= i THEN {n} ELSE {}
       IN Majority(own \cup {k \in Nodes \ {n} : matched[n][k] >= i})
    /\ commitIndex' = [commitIndex EXCEPT ![n] = i]
    /\ RecordCommits(log[n], logFloor[n], i, currentTerm[n])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, matched, outstanding, nextRequest, msgs, acked,
                   restarts, grants>>

\* The leader acknowledges entry i: once committed (Quorum) or once its own append is (Leader).
AckWrite(n, i) ==
    /\ role[n] = "Leader" /\ i >= 1 /\ i <= Len(log[n]) /\ log[n][i] = currentTerm[n]
    /\ IF AckPolicy = "Quorum" THEN i <= commitIndex[n] ELSE i <= AppendedLen(n)
    /\ acked' = acked \cup {<<i, log[n][i]>>}
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest,
                   msgs, restarts>>
    /\ UNCHANGED history

\* Retention trims committed entries from the front.
Trim(n, i) ==
    /\ i > logFloor[n] /\ i <= commitIndex[n]
    /\ logFloor' = [logFloor EXCEPT ![n] = i]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, durableLog, durableFloor,
                   durableVote, commitIndex, matched, outstanding, nextRequest, msgs, acked,
                   restarts>>
    /\ UNCHANGED history

\* A crash: the working state is lost; the node comes back Idle from its durable state. Canary
\* RecoverForgetsVote restores the term but not the vote cast in it.
Crash(n) ==
    /\ restarts[n] < MaxRestarts
    /\ restarts' = [restarts EXCEPT ![n] = @ + 1]
    /\ role' = [role EXCEPT ![n] = "Idle"]
    /\ leader' = [leader EXCEPT ![n] = Nil]
    /\ votes' = [votes EXCEPT ![n] = {}]
    /\ log' = [log EXCEPT ![n] = durableLog[n]]
    /\ logFloor' = [logFloor EXCEPT ![n] = durableFloor[n]]
    /\ currentTerm' = [currentTerm EXCEPT ![n] = durableVote[n][1]]
    /\ votedFor' = [votedFor EXCEPT ![n] = IF Canary = "RecoverForgetsVote" THEN Nil
                                           ELSE durableVote[n][2]]
    /\ commitIndex' = [commitIndex EXCEPT ![n] = durableFloor[n]]
    /\ matched' = [matched EXCEPT ![n] = [k \in Nodes |-> 0]]
    /\ outstanding' = [outstanding EXCEPT ![n] = {}]
    /\ UNCHANGED <<durableLog, durableFloor, durableVote, nextRequest, msgs, acked>>
    /\ UNCHANGED history

---------------------------------------------------------------------------
(* Replication: pushes, and catch-up by pull *)

\* The entries of `entries` placed after index p of l: a conflicting suffix (same index,
\* different term) is replaced, anything already held is kept.
Merge(l, p, entries) ==
    LET conflict == {k \in 1..Len(entries) : p + k <= Len(l) /\ l[p + k] # entries[k]}
        keep == IF conflict = {} THEN l
                ELSE SubSeq(l, 1, p + (CHOOSE k \in conflict : \A j \in conflict : k <= j) - 1)
    IN IF p + Len(entries) <= Len(keep) THEN keep
       ELSE keep \o SubSeq(entries, Len(keep) - p + 1, Len(entries))

\* n, in term nt after the step, applies entries following (p, pt) from a vetted sender `from`
\* in term t, with its commit point; requests on that channel, asked about the old log, are
\* retired when the log changes. What n now counts committed goes into the history.
Apply(n, from, t, nt, p, pt, entries, commit) ==
    /\ Holds(log[n], p, pt)
    /\ LET merged == Merge(log[n], p, entries)
           newCommit == Max(commitIndex[n], IF commit < p + Len(entries) THEN commit
                                            ELSE p + Len(entries))
       IN /\ log' = [log EXCEPT ![n] = merged]
          /\ commitIndex' = [commitIndex EXCEPT ![n] = newCommit]
          /\ RecordCommits(merged, logFloor[n], newCommit, nt)
          /\ outstanding' = IF merged = log[n] THEN outstanding
                            ELSE [outstanding EXCEPT ![n] =
                                    {o \in @ : o.to # from \/ o.term # t}]

\* The leader pushes its entries after some index p to a replica.
Push(l, n, p) ==
    /\ role[l] = "Leader" /\ l # n /\ p >= logFloor[l] /\ p < Len(log[l])
    /\ Send([type |-> "Append", from |-> l, to |-> n, term |-> currentTerm[l], prev |-> p,
             prevTerm |-> TermAt(log[l], p), entries |-> SubSeq(log[l], p + 1, Len(log[l])),
             commit |-> commitIndex[l]])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest,
                   acked, restarts>>
    /\ UNCHANGED history

\* A pushed append is taken only from a term at least ours; the canary takes lower ones too.
ReceiveAppend(n, m) ==
    /\ m \in msgs /\ m.type = "Append" /\ m.to = n
    /\ m.term >= currentTerm[n] \/ Canary = "TruncateOnLowerTerm"
    /\ ~(role[n] = "Leader" /\ m.term = currentTerm[n])
    /\ IF m.term > currentTerm[n] THEN AdoptTerm(n, m.term)
       ELSE UNCHANGED <<currentTerm, votedFor>>
    /\ IF m.term >= currentTerm[n]
       THEN /\ role' = [role EXCEPT ![n] = "Replica"]
            /\ leader' = [leader EXCEPT ![n] = m.from]
       ELSE UNCHANGED <<role, leader>>
    /\ Apply(n, m.from, m.term, Max(m.term, currentTerm[n]), m.prev, m.prevTerm, m.entries,
             m.commit)
    /\ UNCHANGED <<votes, logFloor, durableLog, durableFloor, durableVote, matched, nextRequest,
                   msgs, acked, restarts, grants>>

\* A replica asks its leader for the entries after its tail. (The implementation's request
\* also reports the durable tail, counted like an AppendAck; here only AppendAcks report.)
RequestSync(n) ==
    /\ role[n] = "Replica" /\ leader[n] # Nil /\ nextRequest < MaxRequests
    /\ nextRequest' = nextRequest + 1
    /\ outstanding' = [outstanding EXCEPT ![n] = @ \cup
                         {[to |-> leader[n], term |-> currentTerm[n], id |-> nextRequest + 1]}]
    /\ Send([type |-> "SyncRequest", from |-> n, to |-> leader[n], term |-> currentTerm[n],
             id |-> nextRequest + 1, since |-> Len(log[n])])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, acked, restarts>>
    /\ UNCHANGED history

\* The leader answers from its log, or says where it now starts (BadRange, with the committed
\* prefix the replica skips to: the spec keeps trimmed entries, so it can ship them).
AnswerSync(l, m) ==
    /\ m \in msgs /\ m.type = "SyncRequest" /\ m.to = l
    /\ role[l] = "Leader" /\ m.term = currentTerm[l]
    /\ m.since <= Len(log[l])
    /\ IF m.since < logFloor[l]
       THEN Send([type |-> "BadRange", from |-> l, to |-> m.from, term |-> currentTerm[l],
                  id |-> m.id, since |-> m.since, floor |-> logFloor[l],
                  base |-> SubSeq(log[l], 1, logFloor[l])])
       ELSE Send([type |-> "SyncResponse", from |-> l, to |-> m.from, term |-> currentTerm[l],
                  id |-> m.id, prev |-> m.since, prevTerm |-> TermAt(log[l], m.since),
                  entries |-> SubSeq(log[l], m.since + 1, Len(log[l])),
                  commit |-> commitIndex[l]])
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest,
                   acked, restarts>>
    /\ UNCHANGED history

\* An answer is vetted: from the believed leader in its term (the canary believes anyone), and
\* for a request still outstanding on that channel (the canary skips that).
Vetted(n, m) ==
    /\ Canary = "AcceptFromNonLeader" \/ (role[n] = "Replica" /\ leader[n] = m.from
                                           /\ m.term = currentTerm[n])
    /\ Canary = "SkipRequestIdCorrelation"
       \/ [to |-> m.from, term |-> m.term, id |-> m.id] \in outstanding[n]

ReceiveSyncResponse(n, m) ==
    /\ m \in msgs /\ m.type = "SyncResponse" /\ m.to = n /\ Vetted(n, m)
    /\ Apply(n, m.from, m.term, currentTerm[n], m.prev, m.prevTerm, m.entries, m.commit)
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, logFloor, durableLog,
                   durableFloor, durableVote, matched, nextRequest, msgs, acked, restarts,
                   grants>>

\* Skip-ahead: the log restarts at the leader's floor, in one round trip. The entries it skips
\* to are at or below the new floor, out of scope: the history records nothing.
ReceiveBadRange(n, m) ==
    /\ m \in msgs /\ m.type = "BadRange" /\ m.to = n /\ Vetted(n, m)
    /\ m.since < m.floor
    /\ log' = [log EXCEPT ![n] = m.base]
    /\ logFloor' = [logFloor EXCEPT ![n] = m.floor]
    /\ commitIndex' = [commitIndex EXCEPT ![n] = Max(@, m.floor)]
    /\ outstanding' = [outstanding EXCEPT ![n] = {o \in @ : o.id # m.id}]
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, durableLog, durableFloor,
                   durableVote, matched, nextRequest, msgs, acked, restarts>>
    /\ UNCHANGED history

\* The network loses a message.
Drop(m) ==
    /\ m \in msgs
    /\ msgs' = msgs \ {m}
    /\ UNCHANGED <<role, currentTerm, votedFor, leader, votes, log, logFloor, durableLog,
                   durableFloor, durableVote, commitIndex, matched, outstanding, nextRequest,
                   acked, restarts>>
    /\ UNCHANGED history

Next ==
    \/ \E n \in Nodes : Stand(n) \/ ClientWrite(n) \/ Persisted(n) \/ ReportUnsynced(n)
                        \/ Crash(n) \/ RequestSync(n)
    \/ \E n \in Nodes, m \in msgs :
          GrantVote(n, m) \/ BecomeLeader(n, m) \/ CountAppended(n, m) \/ ReceiveAppend(n, m)
          \/ AnswerSync(n, m) \/ ReceiveSyncResponse(n, m) \/ ReceiveBadRange(n, m)
    \/ \E a, b \in Nodes : Follow(a, b) \/ LeadersMeet(a, b)
    \/ \E n \in Nodes, i \in 0..MaxLen : AdvanceCommit(n, i) \/ AckWrite(n, i) \/ Trim(n, i)
    \/ \E n, k \in Nodes, p \in 0..MaxLen : Push(n, k, p)
    \/ \E m \in msgs : Drop(m)

Spec == Init /\ [][Next]_vars

\* Bounds the model for TLC (the simulator has none: it runs the real thing).
StateBound == \A n \in Nodes : Len(log[n]) <= MaxLen

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

\* A durable vote dv (<<term, vote>>) backs a vote for candidate c in term t: the same vote
\* in t, or a newer term (in which the voter can no longer vote in t).
VoteBacked(dv, t, c) == dv[1] > t \/ (dv[1] = t /\ dv[2] = c)

\* A message that promises something durable is backed, as it leaves, by what a crash right
\* then would leave: a vote grant or a vote request (the candidate's vote for itself) by the
\* sender's durable vote; a progress report (AppendAck) by the sender's durable log; a Quorum
\* acknowledgement by a majority of durable logs. Otherwise a crash at that moment breaks the
\* promise, however rarely a test crashes there.
DurablePromises ==
    [][ /\ \A m \in msgs' \ msgs :
             /\ m.type = "VoteGranted" => VoteBacked(durableVote'[m.from], m.term, m.to)
             /\ m.type = "RequestVote" => VoteBacked(durableVote'[m.from], m.term, m.from)
             /\ m.type = "AppendAck" =>
                    DurableHolds(durableLog'[m.from], durableFloor'[m.from], m.index, m.last)
        /\ AckPolicy = "Quorum" =>
             \A w \in acked' \ acked :
                 Majority({k \in Nodes : DurableHolds(durableLog'[k], durableFloor'[k],
                                                      w[1], w[2])}) ]_vars

=============================================================================
