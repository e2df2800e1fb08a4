----------------------------- MODULE Failover -----------------------------
(***************************************************************************)
(* The whole system at the level of a planned handover: a primary (the     *)
(* replica-set leader holding the writer lease in its term) mints writes,  *)
(* replicates and acknowledges them; a coordinator freezes it, waits for   *)
(* the target to catch up (or, forced, gives up waiting), demotes it, then *)
(* promotes the target under a new term, which takes the lease over and    *)
(* fences the old token at the protected resource. Unplanned failover: a   *)
(* primary's lease lapses (Expire: crash, partition) and the set elects an *)
(* up-to-date member (Elect). Mirrored in model/src/spec/failover.rs; the  *)
(* simulator checks the same invariants after every step of `cluster`.    *)
(*                                                                         *)
(* A log is the sequence of its entries' terms. Replication, votes and the *)
(* lease's timing are specified in Replication.tla and Lease.tla; here a   *)
(* member copies a prefix of a leader's log in one step (Replicate), and   *)
(* the lease is its record's term and holder. Durability is kept only as   *)
(* far as the handover relies on it: `durableLog` is what a crash of a     *)
(* member leaves, and the target's progress answers promise it (the        *)
(* coordinator waits for what the target holds durably). Each canary is a  *)
(* broken action switched on by `Canary`.                                  *)
(*                                                                         *)
(* The coordinator and the members act in steps of their own, as they do:  *)
(* the coordinator asks (`requests`), a member answers (`answers`), the    *)
(* coordinator decides on the answer of its current handover (`ho.id`).    *)
(* Requests and answers may be lost, duplicated, late and reordered.       *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS Nodes, MaxTerm, MaxIndex, Canary

\* How many handovers a behaviour starts at most (a bound of the model only).
MaxHandovers == 2

Canaries == {"None", "NoFreeze", "CommitBeforeFrontier", "NoTermBump",
             "UnderReportSkipped", "OldPrimaryNotDemoted", "PromoteBeforeDemoted",
             "ProgressFromWorkingLog", "UncheckedResource"}

ASSUME /\ Canary \in Canaries
       /\ MaxTerm >= 2 /\ MaxIndex >= 1
       /\ 0 \notin Nodes

Nil == 0
Modes == {"Coordinated", "Force"}

VARIABLES
    log,          \* log[n]: the terms of n's entries
    term,         \* term[n]: the term n is in
    primary,      \* primary[n]: n leads term[n] and believes it holds the lease in it
    frozen,       \* frozen[n]: a primary frozen for a handover (it mints nothing)
    frozenFor,    \* frozenFor[n]: the id of the handover n last froze for (0: none yet); a
                  \* Resume unfreezes n only if it names that handover
    everLed,      \* every <<term, node>> that ever led
    lease,        \* the lease record: [term, holder]
    acked,        \* every acknowledged write, as <<index, term>>
    ho,           \* the coordinator's handover: its id (handovers started so far), phase,
                  \* plan (from, to, mode), the term the target is to lead, the frozen
                  \* frontier and its term, and `reached`: what the target reported holding
                  \* of the primary's term (an index)
    handovers,    \* the handovers whose target took over: [id, mode, lost, lostAcked,
                  \* reported], `reported` a count, or Pending, or AtMost(count)
    requests,     \* the coordinator's requests in flight, each naming its handover (id)
    answers,      \* the members' answers in flight, each naming the handover it answers
    inflight,     \* fenced writes on their way to the resource: the writer's token (a term)
    lastAccepted, \* the token of the last write the resource accepted (0: none)
    durableLog    \* durableLog[n]: what a crash leaves of log[n] (the progress a target
                  \* reports must be there)

vars == <<log, term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
          inflight, lastAccepted, durableLog, requests, answers>>
\* The handover's messages.
net == <<requests, answers>>

Max(a, b) == IF a > b THEN a ELSE b
Min(a, b) == IF a < b THEN a ELSE b
Majority(S) == 2 * Cardinality(S) > Cardinality(Nodes)
LastTerm(l) == IF Len(l) = 0 THEN 0 ELSE l[Len(l)]
UpToDate(a, b) == LastTerm(a) > LastTerm(b) \/ (LastTerm(a) = LastTerm(b) /\ Len(a) >= Len(b))
\* The length of the longest common prefix of two logs.
Common(a, b) == LET agree == {i \in 0..Min(Len(a), Len(b)) :
                                \A j \in 1..i : a[j] = b[j]}
                IN CHOOSE i \in agree : \A k \in agree : k <= i
\* The coordinator with no handover under way (after `id` of them).
IdleAfter(id) == [id |-> id, phase |-> "Idle", from |-> Nil, to |-> Nil, mode |-> "Coordinated",
                  term |-> 0, frontier |-> 0, frontierTerm |-> 0, reached |-> 0]
\* A handover ends: the coordinator is idle (it keeps the plan, which a late promotion's
\* accounting reads).
Idle == [ho EXCEPT !.phase = "Idle"]
\* A handover's report of what it skipped: not yet, exactly n, or (unconfirmed) at most n.
Pending == [kind |-> "Pending", count |-> 0]
Exactly(n) == [kind |-> "Exactly", count |-> n]
AtMost(n) == [kind |-> "AtMost", count |-> n]
\* A demoted member that no longer led reports no commit point (a value no index reaches).
NoCommit == MaxIndex + 1
Leaders == {n \in Nodes : primary[n] \/ frozen[n]}
MaxTermNow == LET terms == {term[n] : n \in Nodes} IN CHOOSE t \in terms : \A u \in terms : u <= t

TypeOK ==
    /\ log \in [Nodes -> Seq(0..MaxTerm)]
    /\ term \in [Nodes -> 0..MaxTerm]
    /\ primary \in [Nodes -> BOOLEAN]
    /\ frozen \in [Nodes -> BOOLEAN]
    /\ frozenFor \in [Nodes -> 0..MaxHandovers]
    /\ everLed \subseteq (0..MaxTerm) \X Nodes
    /\ lease \in [term : 0..MaxTerm, holder : Nodes \cup {Nil}]
    /\ acked \subseteq (1..MaxIndex) \X (0..MaxTerm)
    /\ ho.phase \in {"Idle", "Freezing", "CatchUp", "Demoting", "Promoting", "Resuming"}
    /\ ho.reached \in 0..MaxIndex
    /\ inflight \subseteq 0..MaxTerm
    /\ lastAccepted \in 0..MaxTerm
    /\ durableLog \in [Nodes -> Seq(0..MaxTerm)]

Init ==
    /\ log = [n \in Nodes |-> <<>>]
    /\ term = [n \in Nodes |-> 0]
    /\ primary = [n \in Nodes |-> FALSE]
    /\ frozen = [n \in Nodes |-> FALSE]
    /\ frozenFor = [n \in Nodes |-> 0]
    /\ everLed = {}
    /\ lease = [term |-> 0, holder |-> Nil]
    /\ acked = {}
    /\ ho = IdleAfter(0)
    /\ handovers = {}
    /\ requests = {}
    /\ answers = {}
    /\ inflight = {}
    /\ lastAccepted = 0
    /\ durableLog = [n \in Nodes |-> <<>>]

(* A primary mints a client write and stamps it on the resource.                        *)
ClientWrite(n) ==
    /\ primary[n] /\ ~frozen[n]
    /\ Len(log[n]) < MaxIndex
    /\ log' = [log EXCEPT ![n] = Append(@, term[n])]
    /\ UNCHANGED <<term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted, durableLog, net>>

FencedWrite(n) ==
    /\ primary[n]
    /\ inflight' = inflight \cup {term[n]}
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   lastAccepted, durableLog, net>>

(* The resource accepts a write whose token is no lower than the last it accepted, and    *)
(* bounces the rest: the fence is the resource's own check, and StaleWriterFenced judges   *)
(* what it accepted. Canary UncheckedResource accepts every write that reaches it.         *)
Deliver(t) ==
    /\ t \in inflight
    /\ inflight' = inflight \ {t}
    /\ lastAccepted' = IF Canary = "UncheckedResource" \/ t >= lastAccepted THEN t
                       ELSE lastAccepted
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   durableLog, net>>

(* A leader's log reaches m, which is in no newer term: m keeps what it shares with it.  *)
Replicate(n, m) ==
    /\ n \in Leaders /\ m # n /\ term[m] <= term[n]
    /\ \E k \in (Common(log[n], log[m]) + 1)..Len(log[n]) :
          log' = [log EXCEPT ![m] = SubSeq(log[n], 1, k)]
    /\ term' = [term EXCEPT ![m] = term[n]]
    /\ primary' = [primary EXCEPT ![m] = FALSE]
    /\ UNCHANGED <<frozen, frozenFor, everLed, lease, acked, ho, handovers, inflight,
                   lastAccepted, durableLog, net>>

(* A write of the leader's term that a majority holds is acknowledged.                  *)
AckWrite(n, i) ==
    /\ n \in Leaders
    /\ i \in 1..Len(log[n]) /\ log[n][i] = term[n]
    /\ Majority({m \in Nodes : Common(log[m], log[n]) >= i})
    /\ acked' = acked \cup {<<i, log[n][i]>>}
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, ho, handovers,
                   inflight, lastAccepted, durableLog, net>>

(* A primary's lease lapses (it crashed, or cannot reach the store or its replicas).    *)
Expire(n) ==
    /\ n \in Leaders
    /\ primary' = [primary EXCEPT ![n] = FALSE]
    /\ frozen' = [frozen EXCEPT ![n] = FALSE]
    /\ UNCHANGED <<log, term, frozenFor, everLed, lease, acked, ho, handovers, inflight,
                   lastAccepted, durableLog, net>>

(* Unplanned failover: with no leader left, a member up to date with a majority wins a   *)
(* new term and acquires the (expired) lease under it.                                  *)
Elect(n, voters) ==
    /\ Leaders = {} /\ ho.phase = "Idle"
    /\ n \in voters /\ Majority(voters)
    /\ \A v \in voters : UpToDate(log[n], log[v])
    /\ MaxTermNow < MaxTerm /\ lease.term <= MaxTermNow
    /\ term' = [v \in Nodes |-> IF v \in voters THEN MaxTermNow + 1 ELSE term[v]]
    /\ primary' = [primary EXCEPT ![n] = TRUE]
    /\ everLed' = everLed \cup {<<MaxTermNow + 1, n>>}
    /\ lease' = [term |-> MaxTermNow + 1, holder |-> n]
    /\ UNCHANGED <<log, frozen, frozenFor, acked, ho, handovers, inflight, lastAccepted,
                   durableLog, net>>

(* The handover. The network: a request or an answer is in flight, is sent. (Trace         *)
(* validation, which takes the messages a run logs as given, overrides these.)            *)
Requested(r) == r \in requests
Answered(a) == a \in answers
Ask(r) == requests' = requests \cup {r}
Answer(a) == answers' = answers \cup {a}

\* What the target holds of the old primary's log now (what it keeps if promoted now).
Reached == Common(log[ho.from], log[ho.to])
\* n's durable tail: the prefix of its working log that a crash leaves unchanged.
DurablePrefix(n) == SubSeq(log[n], 1, Common(log[n], durableLog[n]))
\* The target reported holding some of the primary's term (entries of that term are the
\* primary's alone); with an empty frontier, there is nothing to hold.
HoldsPrimaryTerm == ho.reached > 0 \/ ho.frontierTerm = 0
\* The coordinator goes by the progress the target reported, not by what it holds now.
CaughtUp == HoldsPrimaryTerm /\ ho.reached >= ho.frontier

(* The coordinator starts a handover from p to q and asks p to freeze (canary NoFreeze   *)
(* asks for its frontier only, which p answers as a freeze would, without freezing).      *)
StartHandover(p, q, mode) ==
    /\ ho.phase = "Idle" /\ p # q /\ ho.id < MaxHandovers
    /\ ho' = [IdleAfter(ho.id + 1) EXCEPT !.phase = "Freezing", !.from = p, !.to = q,
                                          !.mode = mode]
    /\ Ask([type |-> "Freeze", to |-> p, id |-> ho.id + 1])
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, answers>>

(* The primary asked to freeze mints nothing more and answers its term and frontier; it   *)
(* remembers the handover it froze for.                                                  *)
Freeze(p, r) ==
    /\ Requested(r) /\ r.type = "Freeze" /\ r.to = p
    /\ primary[p] /\ term[p] < MaxTerm
    /\ frozen[p] => frozenFor[p] = r.id
    /\ frozen' = [frozen EXCEPT ![p] = (Canary # "NoFreeze")]
    /\ frozenFor' = [frozenFor EXCEPT ![p] = r.id]
    /\ Answer([type |-> "Frontier", from |-> p, id |-> r.id, term |-> term[p],
               frontier |-> Len(log[p]), frontierTerm |-> LastTerm(log[p])])
    /\ UNCHANGED <<log, term, primary, everLed, lease, acked, ho, handovers, inflight,
                   lastAccepted, durableLog, requests>>

(* A member that is not the primary (it leads without the lease, or follows), or is frozen  *)
(* for another handover (a late Freeze of one given up must not take the freeze over),    *)
(* says so.                                                                             *)
RefuseFreeze(p, r) ==
    /\ Requested(r) /\ r.type = "Freeze" /\ r.to = p
    /\ ~primary[p] \/ (frozen[p] /\ frozenFor[p] # r.id)
    /\ Answer([type |-> "NotPrimary", from |-> p, id |-> r.id])
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted, durableLog, requests>>

\* An answer of the coordinator's current handover, from the member it asked.
Current(a, type, from) == Answered(a) /\ a.type = type /\ a.id = ho.id /\ a.from = from

(* The coordinator takes the frozen frontier; the target is to lead the next term. The    *)
(* catch-up begins: it polls the target's progress.                                      *)
CatchUp(a) ==
    /\ ho.phase = "Freezing" /\ Current(a, "Frontier", ho.from)
    /\ ho' = [ho EXCEPT !.phase = "CatchUp",
                        !.term = IF Canary = "NoTermBump" THEN a.term ELSE a.term + 1,
                        !.frontier = a.frontier, !.frontierTerm = a.frontierTerm,
                        !.reached = 0]
    /\ Ask([type |-> "QueryProgress", to |-> ho.to, id |-> ho.id])
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, answers>>

(* Asked to freeze, a member that was not the primary: the handover ends.                *)
NotPrimary(a) ==
    /\ ho.phase = "Freezing" /\ Current(a, "NotPrimary", ho.from)
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, net>>

(* The target answers its durable tail. Canary ProgressFromWorkingLog answers its working  *)
(* log, fsync or not.                                                                    *)
AnswerProgress(q, r) ==
    /\ Requested(r) /\ r.type = "QueryProgress" /\ r.to = q
    /\ LET tail == IF Canary = "ProgressFromWorkingLog" THEN log[q] ELSE DurablePrefix(q)
       IN Answer([type |-> "Progress", from |-> q, id |-> r.id, index |-> Len(tail),
                  last |-> LastTerm(tail)])
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted, durableLog, requests>>

(* The coordinator counts the target's progress in the primary's term only: entries of    *)
(* that term are the primary's, an older tail may have diverged, a newer one says nothing  *)
(* of the frontier.                                                                      *)
Progress(a) ==
    /\ ho.phase = "CatchUp" /\ Current(a, "Progress", ho.to)
    /\ ho' = [ho EXCEPT !.reached = IF a.last = ho.frontierTerm /\ a.last > 0
                                    THEN Max(@, a.index) ELSE @]
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, net>>

(* The coordinator commits to the handover once the target caught up, or, forced, at the  *)
(* deadline if it holds some of the primary's term: it asks the old primary to step down.  *)
(* Canary CommitBeforeFrontier does not wait; canary OldPrimaryNotDemoted goes straight to *)
(* the promotion; canary PromoteBeforeDemoted asks for the promotion with the demotion.    *)
Demote ==
    /\ ho.phase = "CatchUp"
    /\ CaughtUp \/ (ho.mode = "Force" /\ HoldsPrimaryTerm) \/ Canary = "CommitBeforeFrontier"
    /\ IF Canary = "OldPrimaryNotDemoted"
       THEN /\ ho' = [ho EXCEPT !.phase = "Promoting"]
            /\ Ask([type |-> "Promote", to |-> ho.to, id |-> ho.id, term |-> ho.term])
       ELSE /\ ho' = [ho EXCEPT !.phase = "Demoting"]
            /\ LET demote == [type |-> "Demote", to |-> ho.from, id |-> ho.id,
                              target |-> ho.to, term |-> ho.term]
                   promote == [type |-> "Promote", to |-> ho.to, id |-> ho.id, term |-> ho.term]
               IN requests' = requests \cup
                     (IF Canary = "PromoteBeforeDemoted" THEN {demote, promote} ELSE {demote})
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, answers>>

(* At the deadline, a target that did not catch up (and, forced, holds nothing of the     *)
(* primary's term): the coordinator asks the primary to mint again.                      *)
Resume ==
    /\ ho.phase = "CatchUp" /\ ~CaughtUp /\ (ho.mode = "Coordinated" \/ ~HoldsPrimaryTerm)
    /\ ho' = [ho EXCEPT !.phase = "Resuming"]
    /\ Ask([type |-> "Resume", to |-> ho.from, id |-> ho.id])
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, answers>>

(* A member asked to resume mints again if it froze for the handover the request names  *)
(* (a late Resume of a handover given up while freezing must not thaw a freeze for the    *)
(* next one, whose frontier the member answered); it answers Resumed either way.         *)
Unfreeze(p, r) ==
    /\ Requested(r) /\ r.type = "Resume" /\ r.to = p
    /\ frozen' = [frozen EXCEPT ![p] = IF frozenFor[p] = r.id THEN FALSE ELSE @]
    /\ Answer([type |-> "Resumed", from |-> p, id |-> r.id])
    /\ UNCHANGED <<log, term, primary, frozenFor, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted, durableLog, requests>>

Resumed(a) ==
    /\ ho.phase = "Resuming" /\ Current(a, "Resumed", ho.from)
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, net>>

(* The old primary steps down, moves to the handover's term and gives the lease up; it     *)
(* answers its commit point if it still led (it commits nothing more of its own), else     *)
(* none. The commit point lies between its highest acknowledged write and its tail.        *)
DemoteMember(p, r) ==
    /\ Requested(r) /\ r.type = "Demote" /\ r.to = p
    /\ LET led == p \in Leaders
           floor == LET own == {a[1] : a \in acked} IN
                    IF own = {} THEN 0 ELSE CHOOSE i \in own : \A j \in own : j <= i
       IN \E commit \in floor..Len(log[p]) :
             Answer([type |-> "Demoted", from |-> p, id |-> r.id,
                     committed |-> IF led THEN commit ELSE NoCommit])
    /\ primary' = [primary EXCEPT ![p] = FALSE]
    /\ frozen' = [frozen EXCEPT ![p] = FALSE]
    /\ term' = [term EXCEPT ![p] = Max(@, r.term)]
    /\ UNCHANGED <<log, frozenFor, everLed, lease, acked, ho, handovers, inflight,
                   lastAccepted, durableLog, requests>>

(* The old primary stepped down still leading: the coordinator promotes the target, unless *)
(* forced over a target that lacks writes the old primary committed (then the set elects). *)
Promote(a) ==
    /\ ho.phase = "Demoting" /\ Current(a, "Demoted", ho.from)
    /\ a.committed # NoCommit
    /\ ho.mode = "Coordinated" \/ ho.reached >= a.committed
    /\ ho' = [ho EXCEPT !.phase = "Promoting"]
    /\ Ask([type |-> "Promote", to |-> ho.to, id |-> ho.id, term |-> ho.term])
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, answers>>

(* Forced over a target that lacks committed writes: nothing is promoted.                 *)
RefuseForce(a) ==
    /\ ho.phase = "Demoting" /\ Current(a, "Demoted", ho.from)
    /\ a.committed # NoCommit /\ ho.mode = "Force" /\ ho.reached < a.committed
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, net>>

(* The old primary no longer led when demoted (an election overtook the handover): nothing *)
(* is promoted.                                                                          *)
Overtaken(a) ==
    /\ ho.phase = "Demoting" /\ Current(a, "Demoted", ho.from) /\ a.committed = NoCommit
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, net>>

(* The promoted target wins the handover's term and takes the lease over under it, and     *)
(* answers what it held of the old primary's log. What it lacks of that log is lost; the   *)
(* coordinator reports what it skipped (HandedOver). A target asked again answers again.   *)
(* Canary NoTermBump's target takes over the old primary's term.                          *)
TakeOver(q, r) ==
    LET kept == Reached
        top == Max(ho.frontier, Len(log[ho.from]))
        first == r.id = ho.id /\ ~\E h \in handovers : h.id = r.id
    IN /\ Requested(r) /\ r.type = "Promote" /\ r.to = q
       /\ lease.term <= r.term
       /\ primary' = [primary EXCEPT ![q] = TRUE]
       /\ term' = [term EXCEPT ![q] = r.term]
       /\ everLed' = everLed \cup {<<r.term, q>>}
       /\ lease' = [term |-> r.term, holder |-> q]
       /\ handovers' = IF ~first THEN handovers ELSE handovers \cup
             {[id |-> r.id, mode |-> ho.mode, lost |-> top - Min(kept, top), reported |-> Pending,
               lostAcked |-> Cardinality({a \in acked : a[1] > kept /\ a[1] <= top})]}
       /\ Answer([type |-> "Promoted", from |-> q, id |-> r.id, term |-> r.term,
                  ledFrom |-> kept])
       /\ UNCHANGED <<log, frozen, frozenFor, acked, ho, inflight, lastAccepted, durableLog,
                      requests>>

\* What a forced handover skipped, the target having held the primary's log up to `held`.
Skipped(held) == IF ho.mode = "Coordinated" THEN 0 ELSE ho.frontier - Min(held, ho.frontier)

\* The handover `id` reports `report`.
Report(id, report) ==
    handovers' = {IF h.id = id THEN [h EXCEPT !.reported = report] ELSE h : h \in handovers}

(* The target leads the handover's term: the coordinator reports exactly what it skipped. *)
(* Canary UnderReportSkipped reports one write fewer.                                    *)
HandedOver(a) ==
    /\ ho.phase = "Promoting" /\ Current(a, "Promoted", ho.to) /\ a.term = ho.term
    /\ LET skipped == Skipped(a.ledFrom)
       IN Report(ho.id, Exactly(IF Canary = "UnderReportSkipped" /\ skipped > 0
                                THEN skipped - 1 ELSE skipped))
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, inflight,
                   lastAccepted, durableLog, net>>

(* A step went unanswered too long: the coordinator gives the handover up. Freezing, it   *)
(* asks the primary to mint again; promoting, it reports what the target would have        *)
(* skipped, should it have won (at most that many).                                       *)
GiveUp ==
    /\ ho.phase \in {"Freezing", "Demoting", "Promoting", "Resuming"}
    /\ IF ho.phase = "Freezing" THEN Ask([type |-> "Resume", to |-> ho.from, id |-> ho.id])
       ELSE UNCHANGED requests
    /\ IF ho.phase = "Promoting" THEN Report(ho.id, AtMost(Skipped(ho.reached)))
       ELSE UNCHANGED handovers
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, inflight,
                   lastAccepted, durableLog, answers>>

(* A frozen primary that hears nothing more of its handover steps down.                   *)
FreezeExpired(p) ==
    /\ frozen[p]
    /\ primary' = [primary EXCEPT ![p] = FALSE]
    /\ frozen' = [frozen EXCEPT ![p] = FALSE]
    /\ UNCHANGED <<log, term, frozenFor, everLed, lease, acked, ho, handovers, inflight,
                   lastAccepted, durableLog, net>>

(* The coordinator crashes: its handover is forgotten (a new incarnation's ids are new).  *)
CoordinatorCrash ==
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, handovers,
                   inflight, lastAccepted, durableLog, net>>

(* An fsync completes: n's working log is durable.                                       *)
Persisted(n) ==
    /\ durableLog' = [durableLog EXCEPT ![n] = log[n]]
    /\ UNCHANGED <<log, term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted, net>>

(* A member that leads nothing crashes and comes back with its durable log (its term is  *)
(* durable too). A leader's crash is Expire; the old primary of a handover under way is  *)
(* left out, as the handover's accounting reads its log.                                 *)
Crash(n) ==
    /\ n \notin Leaders /\ n # ho.from
    /\ log[n] # durableLog[n]
    /\ log' = [log EXCEPT ![n] = durableLog[n]]
    /\ UNCHANGED <<term, primary, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted, durableLog, net>>

Next ==
    \/ \E n \in Nodes : ClientWrite(n) \/ FencedWrite(n) \/ Expire(n) \/ Persisted(n) \/ Crash(n)
                        \/ FreezeExpired(n)
    \/ \E t \in inflight : Deliver(t)
    \/ \E n, m \in Nodes : Replicate(n, m)
    \/ \E n \in Nodes, i \in 1..MaxIndex : AckWrite(n, i)
    \/ \E n \in Nodes, voters \in SUBSET Nodes : Elect(n, voters)
    \/ \E p, q \in Nodes, mode \in Modes : StartHandover(p, q, mode)
    \/ \E n \in Nodes, r \in requests :
          \/ Freeze(n, r) \/ RefuseFreeze(n, r) \/ AnswerProgress(n, r) \/ Unfreeze(n, r)
          \/ DemoteMember(n, r) \/ TakeOver(n, r)
    \/ \E a \in answers :
          \/ CatchUp(a) \/ NotPrimary(a) \/ Progress(a) \/ Resumed(a) \/ Promote(a)
          \/ RefuseForce(a) \/ Overtaken(a) \/ HandedOver(a)
    \/ Demote \/ Resume \/ GiveUp \/ CoordinatorCrash

Spec == Init /\ [][Next]_vars

StateBound == \A n \in Nodes : Len(log[n]) <= MaxIndex

(* Bounds for TLC. The coordinator may start a handover at any time between any two members,
   give it up or crash at any step, and start again, while the members write, replicate,
   sync, crash and elect; the handover's steps interleave with all of that, which makes
   millions of states on three members. A CONSTRAINT only removes behaviours, so whatever TLC
   finds under one is a behaviour of the spec. *)
\* At most k handovers in a behaviour (MaxHandovers bounds the model).
AtMostHandovers(k) == ho.id <= k
\* The members are interchangeable (their ids are compared only for equality), so a cfg whose
\* Nodes are model values lets TLC take states that differ by a renaming as one (SYMMETRY).
NodeSymmetry == Permutations(Nodes)
\* Failover.cfg's world: one handover.
SmallRun == AtMostHandovers(1)
\* At most k requests and answers sent in a behaviour (in flight, or lost: none is removed).
AtMostMessages(k) == Cardinality(requests) + Cardinality(answers) <= k
\* Failover_TwoHandovers_Deep.cfg's world: two handovers (MaxHandovers), at most ten messages.
TwoHandoversRun == AtMostMessages(10)

(***************************************************************************)
(* Invariants                                                              *)
(***************************************************************************)

\* No two nodes ever lead one term, and at most one is primary at any instant.
SinglePrimaryPerTerm ==
    /\ \A a, b \in everLed : a[1] = b[1] => a[2] = b[2]
    /\ Cardinality({n \in Nodes : primary[n]}) <= 1

\* No handover loses an acknowledged write.
NoAckedWriteLost == \A h \in handovers : h.lostAcked = 0

\* Every handover reports exactly what its target lacked (an unconfirmed one at least that
\* many; none yet while pending), and a coordinated one loses nothing.
SkippedExactlyReported ==
    \A h \in handovers :
        /\ h.reported.kind = "Exactly" => h.lost = h.reported.count
        /\ h.reported.kind = "AtMost" => h.lost <= h.reported.count
        /\ h.mode = "Coordinated" => h.lost = 0

\* The resource never accepts a write under a token below the last one it accepted: a demoted
\* primary's late writes bounce once the new primary wrote. Stale writes do reach the resource
\* (inflight holds them); only its check keeps them out, which canary UncheckedResource drops.
StaleWriterFenced == [][lastAccepted' >= lastAccepted]_vars

\* A progress answer promises that the target's durable log holds the old primary's log up to
\* the progress reported: the coordinator hands over on it, and a crash of the target right
\* after the answer must not take back what it reported. Checked as the answer arrives (the
\* only step that changes the reported progress within a catch-up). In Rust a progress answer
\* (failover::Reply::Progress) carries a LogHolds promise (model::promise), which
\* spec::replication::durable_promises checks.
DurablePromises ==
    [][ \A a \in answers' \ answers :
          a.type = "Progress" =>
             Common(log[a.from], durableLog[a.from]) >= a.index ]_vars

\* Liveness (checked by the simulator's convergence phase): some member is primary again.
WritesResume == <>(\E n \in Nodes : primary[n] /\ ~frozen[n])

=============================================================================
