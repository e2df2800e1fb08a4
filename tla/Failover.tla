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
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Nodes, MaxTerm, MaxIndex, Canary

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
    everLed,      \* every <<term, node>> that ever led
    lease,        \* the lease record: [term, holder]
    acked,        \* every acknowledged write, as <<index, term>>
    ho,           \* the handover under way; ho.reached is the target's progress as last
                  \* reported to the coordinator (what it holds of the old primary's log);
                  \* once the target took over, ho.taken is its entry in `handovers` and
                  \* ho.answer the skipped count its answer lets the coordinator report
    handovers,    \* the handovers whose target took over: [mode, lost, lostAcked, report,
                  \* reported], report being what the coordinator said of the skipped writes:
                  \* "Pending" (nothing yet), "Exactly" (HandedOver: exactly `reported`) or
                  \* "AtMost" (PromotionUnconfirmed: at most `reported`)
    inflight,     \* fenced writes on their way to the resource: the writer's token (a term)
    lastAccepted, \* the token of the last write the resource accepted (0: none)
    durableLog    \* durableLog[n]: what a crash leaves of log[n] (the progress a target
                  \* reports must be there)

vars == <<log, term, primary, frozen, everLed, lease, acked, ho, handovers, inflight,
          lastAccepted, durableLog>>

Max(a, b) == IF a > b THEN a ELSE b
Min(a, b) == IF a < b THEN a ELSE b
Majority(S) == 2 * Cardinality(S) > Cardinality(Nodes)
LastTerm(l) == IF Len(l) = 0 THEN 0 ELSE l[Len(l)]
UpToDate(a, b) == LastTerm(a) > LastTerm(b) \/ (LastTerm(a) = LastTerm(b) /\ Len(a) >= Len(b))
\* The length of the longest common prefix of two logs.
Common(a, b) == LET agree == {i \in 0..Min(Len(a), Len(b)) :
                                \A j \in 1..i : a[j] = b[j]}
                IN CHOOSE i \in agree : \A k \in agree : k <= i
\* ho.taken before any takeover.
NoTakeover == [mode |-> "Coordinated", lost |-> 0, lostAcked |-> 0, report |-> "Pending",
               reported |-> 0]
Idle == [phase |-> "Idle", from |-> Nil, to |-> Nil, mode |-> "Coordinated",
         term |-> 0, frontier |-> 0, reached |-> 0, taken |-> NoTakeover, answer |-> 0]
Leaders == {n \in Nodes : primary[n] \/ frozen[n]}
MaxTermNow == LET terms == {term[n] : n \in Nodes} IN CHOOSE t \in terms : \A u \in terms : u <= t

TypeOK ==
    /\ log \in [Nodes -> Seq(0..MaxTerm)]
    /\ term \in [Nodes -> 0..MaxTerm]
    /\ primary \in [Nodes -> BOOLEAN]
    /\ frozen \in [Nodes -> BOOLEAN]
    /\ everLed \subseteq (0..MaxTerm) \X Nodes
    /\ lease \in [term : 0..MaxTerm, holder : Nodes \cup {Nil}]
    /\ acked \subseteq (1..MaxIndex) \X (0..MaxTerm)
    /\ ho.phase \in {"Idle", "CatchUp", "Demoted", "PromotedEarly", "Promoted"}
    /\ ho.reached \in 0..MaxIndex
    /\ inflight \subseteq 0..MaxTerm
    /\ lastAccepted \in 0..MaxTerm
    /\ durableLog \in [Nodes -> Seq(0..MaxTerm)]

Init ==
    /\ log = [n \in Nodes |-> <<>>]
    /\ term = [n \in Nodes |-> 0]
    /\ primary = [n \in Nodes |-> FALSE]
    /\ frozen = [n \in Nodes |-> FALSE]
    /\ everLed = {}
    /\ lease = [term |-> 0, holder |-> Nil]
    /\ acked = {}
    /\ ho = Idle
    /\ handovers = {}
    /\ inflight = {}
    /\ lastAccepted = 0
    /\ durableLog = [n \in Nodes |-> <<>>]

(* A primary mints a client write and stamps it on the resource.                        *)
ClientWrite(n) ==
    /\ primary[n] /\ ~frozen[n]
    /\ Len(log[n]) < MaxIndex
    /\ log' = [log EXCEPT ![n] = Append(@, term[n])]
    /\ UNCHANGED <<term, primary, frozen, everLed, lease, acked, ho, handovers, inflight,
                   lastAccepted, durableLog>>

FencedWrite(n) ==
    /\ primary[n]
    /\ inflight' = inflight \cup {term[n]}
    /\ UNCHANGED <<log, term, primary, frozen, everLed, lease, acked, ho, handovers,
                   lastAccepted, durableLog>>

(* The resource accepts a write whose token is no lower than the last it accepted, and    *)
(* bounces the rest: the fence is the resource's own check, and StaleWriterFenced judges   *)
(* what it accepted. Canary UncheckedResource accepts every write that reaches it.         *)
Deliver(t) ==
    /\ t \in inflight
    /\ inflight' = inflight \ {t}
    /\ lastAccepted' = IF Canary = "UncheckedResource" \/ t >= lastAccepted THEN t
                       ELSE lastAccepted
    /\ UNCHANGED <<log, term, primary, frozen, everLed, lease, acked, ho, handovers,
                   durableLog>>

(* A leader's log reaches m, which is in no newer term: m keeps what it shares with it.  *)
Replicate(n, m) ==
    /\ n \in Leaders /\ m # n /\ term[m] <= term[n]
    /\ \E k \in (Common(log[n], log[m]) + 1)..Len(log[n]) :
          log' = [log EXCEPT ![m] = SubSeq(log[n], 1, k)]
    /\ term' = [term EXCEPT ![m] = term[n]]
    /\ primary' = [primary EXCEPT ![m] = FALSE]
    /\ UNCHANGED <<frozen, everLed, lease, acked, ho, handovers, inflight, lastAccepted,
                   durableLog>>

(* A write of the leader's term that a majority holds is acknowledged.                  *)
AckWrite(n, i) ==
    /\ n \in Leaders
    /\ i \in 1..Len(log[n]) /\ log[n][i] = term[n]
    /\ Majority({m \in Nodes : Common(log[m], log[n]) >= i})
    /\ acked' = acked \cup {<<i, log[n][i]>>}
    /\ UNCHANGED <<log, term, primary, frozen, everLed, lease, ho, handovers, inflight,
                   lastAccepted, durableLog>>

(* A primary's lease lapses (it crashed, or cannot reach the store or its replicas).    *)
Expire(n) ==
    /\ n \in Leaders
    /\ primary' = [primary EXCEPT ![n] = FALSE]
    /\ frozen' = [frozen EXCEPT ![n] = FALSE]
    /\ UNCHANGED <<log, term, everLed, lease, acked, ho, handovers, inflight, lastAccepted,
                   durableLog>>

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
    /\ UNCHANGED <<log, frozen, acked, ho, handovers, inflight, lastAccepted, durableLog>>

(* The coordinator freezes primary p for a handover to q and takes its frontier.         *)
Freeze(p, q, mode) ==
    /\ ho.phase = "Idle" /\ primary[p] /\ ~frozen[p] /\ q # p
    /\ term[p] < MaxTerm
    /\ frozen' = [frozen EXCEPT ![p] = (Canary # "NoFreeze")]
    /\ ho' = [Idle EXCEPT !.phase = "CatchUp", !.from = p, !.to = q, !.mode = mode,
              !.term = IF Canary = "NoTermBump" THEN term[p] ELSE term[p] + 1,
              !.frontier = Len(log[p])]
    /\ UNCHANGED <<log, term, primary, everLed, lease, acked, handovers, inflight,
                   lastAccepted, durableLog>>

\* What the target holds of the old primary's log now (what it keeps if promoted now).
Reached == Common(log[ho.from], log[ho.to])
\* n's durable tail: the prefix of its working log that a crash leaves unchanged.
DurablePrefix(n) == SubSeq(log[n], 1, Common(log[n], durableLog[n]))
\* The coordinator goes by the progress the target reported, not by what it holds now.
CaughtUp == ho.reached >= ho.frontier
\* The coordinator may decide to demote: the target caught up, or (forced) the deadline passed.
DemoteDue == ho.phase = "CatchUp" /\ (CaughtUp \/ ho.mode = "Force"
                                      \/ Canary = "CommitBeforeFrontier")

(* The coordinator polls the target's progress: its durable tail, as far as it matches   *)
(* the old primary's log. Canary ProgressFromWorkingLog reports its working log, fsync   *)
(* or not.                                                                               *)
Progress ==
    /\ ho.phase = "CatchUp"
    /\ LET reported == IF Canary = "ProgressFromWorkingLog" THEN log[ho.to]
                       ELSE DurablePrefix(ho.to)
       IN ho' = [ho EXCEPT !.reached = Common(log[ho.from], reported)]
    /\ UNCHANGED <<log, term, primary, frozen, everLed, lease, acked, handovers, inflight,
                   lastAccepted, durableLog>>

(* Coordinated, at the deadline: the primary mints again.                                *)
Resume ==
    /\ ho.phase = "CatchUp" /\ ho.mode = "Coordinated" /\ ~CaughtUp
    /\ frozen' = [frozen EXCEPT ![ho.from] = FALSE]
    /\ ho' = Idle
    /\ UNCHANGED <<log, term, primary, everLed, lease, acked, handovers, inflight,
                   lastAccepted, durableLog>>

(* The target caught up (or, forced, the deadline passed): the old primary steps down.   *)
(* Forced, a target whose reported progress lacks an acknowledged write is refused and   *)
(* the set elects anew. After an early promotion (canary PromoteBeforeDemoted) the       *)
(* demotion still lands, and ends the handover.                                          *)
Demote ==
    /\ DemoteDue \/ ho.phase = "PromotedEarly"
    /\ LET early == ho.phase = "PromotedEarly"
           refused == ~early /\ ho.mode = "Force" /\ \E a \in acked : a[1] > ho.reached
           keep == Canary = "OldPrimaryNotDemoted" /\ ~refused
       IN /\ primary' = [primary EXCEPT ![ho.from] = keep /\ @]
          /\ frozen' = [frozen EXCEPT ![ho.from] = keep /\ @]
          /\ term' = [term EXCEPT ![ho.from] = IF keep THEN @ ELSE Max(@, ho.term)]
          /\ ho' = CASE refused -> Idle
                    [] early -> [ho EXCEPT !.phase = "Promoted"]
                    [] OTHER -> [ho EXCEPT !.phase = "Demoted"]
    /\ UNCHANGED <<log, everLed, lease, acked, handovers, inflight, lastAccepted,
                   durableLog>>

\* The skipped count the coordinator reports when the target holds the old primary's log up to
\* `held`: none in coordinated mode, which waits for everything. Canary UnderReportSkipped
\* reports one fewer.
Skipped(held) ==
    LET skipped == IF ho.mode = "Coordinated" THEN 0 ELSE ho.frontier - Min(held, ho.frontier)
    IN IF Canary = "UnderReportSkipped" /\ skipped > 0 THEN skipped - 1 ELSE skipped

(* The target wins the handover's term and takes the lease over under it. What it lacks  *)
(* of the old primary's log is lost. Its answer (Promoted) carries its tail, from which   *)
(* the coordinator counts what it skipped; until that answer arrives (Confirm) or the     *)
(* coordinator gives up on it (GiveUpPromotion), the handover's report is pending.        *)
TakeOver(phase) ==
    LET q == ho.to
        kept == Reached
        top == Max(ho.frontier, Len(log[ho.from]))
        taken == [mode |-> ho.mode, lost |-> top - Min(kept, top), report |-> "Pending",
                  reported |-> 0,
                  lostAcked |-> Cardinality({a \in acked : a[1] > kept /\ a[1] <= top})]
    IN /\ primary' = [primary EXCEPT ![q] = TRUE]
       /\ term' = [term EXCEPT ![q] = ho.term]
       /\ everLed' = everLed \cup {<<ho.term, q>>}
       /\ lease' = [term |-> ho.term, holder |-> q]
       /\ handovers' = handovers \cup {taken}
       /\ ho' = [ho EXCEPT !.phase = phase, !.taken = taken, !.answer = Skipped(kept)]

\* The promotion, sent once the old primary answered its demotion.
Promote ==
    /\ ho.phase = "Demoted" /\ lease.term <= ho.term
    /\ TakeOver("Promoted")
    /\ UNCHANGED <<log, frozen, acked, inflight, lastAccepted, durableLog>>

\* Canary PromoteBeforeDemoted: the promotion leaves with the demotion instead of after its
\* answer, and may land first, while the old primary still leads and believes its lease.
PromoteEarly ==
    /\ Canary = "PromoteBeforeDemoted"
    /\ DemoteDue /\ lease.term <= ho.term
    /\ TakeOver("PromotedEarly")
    /\ UNCHANGED <<log, frozen, acked, inflight, lastAccepted, durableLog>>

\* The coordinator's report replaces the pending one in `handovers`. At most one handover is
\* pending (the coordinator starts the next only once it reported), so ho.taken names it.
Report(kind, skipped) ==
    /\ handovers' = (handovers \ {ho.taken}) \cup
                        {[ho.taken EXCEPT !.report = kind, !.reported = skipped]}
    /\ ho' = Idle

(* The target's answer arrives: the coordinator reports exactly what its tail lacked      *)
(* (HandedOver).                                                                          *)
Confirm ==
    /\ ho.phase = "Promoted"
    /\ Report("Exactly", ho.answer)
    /\ UNCHANGED <<log, term, primary, frozen, everLed, lease, acked, inflight, lastAccepted,
                   durableLog>>

(* The answer never comes (lost, or the target crashed first) and the step's deadline      *)
(* passes: the coordinator reports that the target, should it have won, skipped at most    *)
(* what its last reported progress lacked (PromotionUnconfirmed); it may hold more. A       *)
(* coordinator that gives up before the promotion even landed reports the same, and the     *)
(* target may still win later: the judgement is the same in either order, so the spec       *)
(* takes the promotion first. A coordinator that never reports (it crashed) leaves the      *)
(* report pending: the behaviours that stop before Confirm or GiveUpPromotion.              *)
GiveUpPromotion ==
    /\ ho.phase = "Promoted"
    /\ Report("AtMost", Skipped(ho.reached))
    /\ UNCHANGED <<log, term, primary, frozen, everLed, lease, acked, inflight, lastAccepted,
                   durableLog>>

(* An fsync completes: n's working log is durable.                                       *)
Persisted(n) ==
    /\ durableLog' = [durableLog EXCEPT ![n] = log[n]]
    /\ UNCHANGED <<log, term, primary, frozen, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted>>

(* A member that leads nothing crashes and comes back with its durable log (its term is  *)
(* durable too). A leader's crash is Expire; the old primary of a handover under way is  *)
(* left out, as the handover's accounting reads its log.                                 *)
Crash(n) ==
    /\ n \notin Leaders /\ n # ho.from
    /\ log[n] # durableLog[n]
    /\ log' = [log EXCEPT ![n] = durableLog[n]]
    /\ UNCHANGED <<term, primary, frozen, everLed, lease, acked, ho, handovers, inflight,
                   lastAccepted, durableLog>>

Next ==
    \/ \E n \in Nodes : ClientWrite(n) \/ FencedWrite(n) \/ Expire(n) \/ Persisted(n) \/ Crash(n)
    \/ \E t \in inflight : Deliver(t)
    \/ \E n, m \in Nodes : Replicate(n, m)
    \/ \E n \in Nodes, i \in 1..MaxIndex : AckWrite(n, i)
    \/ \E n \in Nodes, voters \in SUBSET Nodes : Elect(n, voters)
    \/ \E p, q \in Nodes, mode \in Modes : Freeze(p, q, mode)
    \/ Progress \/ Resume \/ Demote \/ Promote \/ PromoteEarly \/ Confirm \/ GiveUpPromotion

Spec == Init /\ [][Next]_vars

StateBound == \A n \in Nodes : Len(log[n]) <= MaxIndex

(***************************************************************************)
(* Invariants                                                              *)
(***************************************************************************)

\* No two nodes ever lead one term, and at most one is primary at any instant.
SinglePrimaryPerTerm ==
    /\ \A a, b \in everLed : a[1] = b[1] => a[2] = b[2]
    /\ Cardinality({n \in Nodes : primary[n]}) <= 1

\* No handover loses an acknowledged write.
NoAckedWriteLost == \A h \in handovers : h.lostAcked = 0

\* A coordinated handover loses nothing, reported or not; a confirmed one reports exactly what
\* its target lacked, an unconfirmed one at least that much.
SkippedExactlyReported ==
    \A h \in handovers :
        /\ h.mode = "Coordinated" => h.lost = 0
        /\ h.report = "Exactly" => h.lost = h.reported
        /\ h.report = "AtMost" => h.lost <= h.reported

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
    [][ (ho.phase = "CatchUp" /\ ho'.phase = "CatchUp" /\ ho'.reached # ho.reached)
            => Common(log[ho.from], durableLog[ho.to]) >= ho'.reached ]_vars

\* Liveness (checked by the simulator's convergence phase): some member is primary again.
WritesResume == <>(\E n \in Nodes : primary[n] /\ ~frozen[n])

=============================================================================
