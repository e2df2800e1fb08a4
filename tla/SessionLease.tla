---------------------------- MODULE SessionLease ----------------------------
(***************************************************************************)
(* Leadership by a session-bound lock plus a lease row, with zombie        *)
(* preemption (issue 22): a node leads by taking a lock that belongs to its *)
(* store session; the server frees the lock when the session ends. The     *)
(* leader refreshes a lease row [holder, gen, acquired, until] under the   *)
(* lock, validation and write as one critical section; a standby whose try *)
(* fails but who finds the row run out terminates the holder's session     *)
(* (only if the row is still the one it read) and tries again. `until` is *)
(* the writer's own clock plus TTL. Mirrored in model/src/spec/            *)
(* session_lease/; the simulator checks the same properties, and every     *)
(* step against these actions, in the `session-lease` scenario.           *)
(*                                                                         *)
(* Time is a counter; node n's clock reads now + skew[n]. The store judges *)
(* a row live by `now` (its clock is true time). Sessions are numbered per *)
(* node: n's current one is <<n, sess[n]>>; `live` holds every session the *)
(* server has not ended, an abandoned one (a close that never arrived)     *)
(* included. A session ends by EndSession: a crash, a cut past the         *)
(* keepalive, a reset, its node's close. The store's steps (granting the   *)
(* lock, taking a write, a termination) and the node's (learning of them   *)
(* from the answer) are steps of their own: TryLock and Locked, TakeWrite  *)
(* and Led, RefreshWrite and Refreshed. A node may stop leading at any     *)
(* time (StepDown: a resignation, a crash). Store requests that fail are   *)
(* steps not taken.                                                        *)
(*                                                                         *)
(* The clean spec is the design with the fix the harness needed: a leader  *)
(* acts only until until - Margin of its last validated write, a new holder *)
(* writes its row (and leads) only once the previous holder's has run out  *)
(* plus Margin, and protected writes carry the row's generation as a       *)
(* fencing token. Canary "DescribedDesign" is the design as the issue      *)
(* describes it, with neither; each other canary is one known mistake.     *)
(***************************************************************************)
EXTENDS Naturals, Integers, FiniteSets

CONSTANTS Nodes, TTL, Margin, MaxSkew, MaxTime, MaxGen, MaxSess, MaxWriteDelay, Canary

Canaries == {"None", "DescribedDesign", "UnboundedBelief", "UnfencedWrites",
             "PreemptValidLease", "RefreshWithoutValidation", "ValidateOnOtherConnection"}

ASSUME /\ Canary \in Canaries
       /\ TTL > 2 * Margin /\ Margin >= 0 /\ MaxSkew >= 0
       /\ MaxTime >= 0 /\ MaxGen >= 1 /\ MaxSess >= 1 /\ MaxWriteDelay >= 0
       /\ 0 \notin Nodes

NoSession == <<0, 0>>
NoRow == [holder |-> 0, gen |-> 0, acquired |-> 0, until |-> 0]
\* leadUntil[n] = NoBelief: n has no bound to act by (a standby). Below every local clock.
NoBelief == -(MaxSkew + 1)

VARIABLES
    now,          \* true time, which is also the store's clock
    skew,         \* skew[n]: how far n's clock is ahead of true time
    sess,         \* sess[n]: how many sessions n has opened; its current one is <<n, sess[n]>>
    live,         \* the sessions the server has not ended (n's current one and any abandoned)
    lock,         \* the session holding the lock (NoSession when free)
    row,          \* the lease row (NoRow before the first takeover)
    role,         \* role[n]: "standby", "taking" (holds the lock, row not yet written), "leader"
    gen,          \* gen[n]: the generation of n's tenure (0 while it has none)
    leadUntil,    \* leadUntil[n]: n acts while its clock is below this (the fix's bound)
    inflight,     \* protected writes sent, not yet delivered: the sender's tenure (generation)
    lastAccepted, \* the tenure of the write the resource accepted last (0 before any)
    acceptedMax,  \* history: the highest tenure the resource ever accepted
    written       \* history: written[n], the row n's last write the store took (NoRow before)

vars == <<now, skew, sess, live, lock, row, role, gen, leadUntil, inflight, lastAccepted,
          acceptedMax, written>>

Local(n) == now + skew[n]
Own(n) == <<n, sess[n]>>
HoldsLock(n) == Own(n) \in live /\ lock = Own(n)
Live(r) == r # NoRow /\ now < r.until
Max(a, b) == IF a >= b THEN a ELSE b

\* The fix's two halves, each switched off by the canary that shows it is needed.
Bounded == Canary \notin {"DescribedDesign", "UnboundedBelief"}
Fenced == Canary \notin {"DescribedDesign", "UnfencedWrites"}

\* n acts as leader: it leads and, with the bound, its clock is below its bound.
Acting(n) == role[n] = "leader" /\ (~Bounded \/ Local(n) < leadUntil[n])

Init ==
    /\ now = 0
    /\ skew \in [Nodes -> -MaxSkew..MaxSkew]
    /\ sess = [n \in Nodes |-> 0]
    /\ live = {}
    /\ lock = NoSession
    /\ row = NoRow
    /\ role = [n \in Nodes |-> "standby"]
    /\ gen = [n \in Nodes |-> 0]
    /\ leadUntil = [n \in Nodes |-> NoBelief]
    /\ inflight = {}
    /\ lastAccepted = 0
    /\ acceptedMax = 0
    /\ written = [n \in Nodes |-> NoRow]

Tick ==
    /\ now < MaxTime
    /\ now' = now + 1
    /\ UNCHANGED <<skew, sess, live, lock, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax, written>>

\* A standby opens a session when it knows of none of its own: at first, after a crash, a lost
\* session, or a resignation whose close may not have reached the server. The old one, if the
\* close never arrived, lives on (abandoned) until the server ends it.
Open(n) ==
    /\ role[n] = "standby"
    /\ sess[n] < MaxSess
    /\ sess' = [sess EXCEPT ![n] = @ + 1]
    /\ live' = live \cup {<<n, sess[n] + 1>>}
    /\ UNCHANGED <<now, skew, lock, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax, written>>

\* The server ends session s (a crash, a cut past the keepalive, a reset, its node's close);
\* the lock goes with it.
EndSession(s) ==
    /\ s \in live
    /\ live' = live \ {s}
    /\ lock' = IF lock = s THEN NoSession ELSE lock
    /\ UNCHANGED <<now, skew, sess, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax, written>>

\* The server grants the free lock to n's session (the store's step; a try on a lock the
\* session holds changes nothing). The node learns it from the answer: Locked.
TryLock(n) ==
    /\ Own(n) \in live
    /\ lock = NoSession
    /\ lock' = Own(n)
    /\ UNCHANGED <<now, skew, sess, live, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax, written>>

\* The answer that the lock is n's: it holds it still, or its session has ended since (then
\* the next statement on it fails).
Locked(n) ==
    /\ role[n] = "standby"
    /\ lock = Own(n) \/ Own(n) \notin live
    /\ role' = [role EXCEPT ![n] = "taking"]
    /\ UNCHANGED <<now, skew, sess, live, lock, row, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax, written>>

\* By n's clock, the row's lease has run out, with the margin for the writer's clock (none in
\* the design as described). Canary PreemptValidLease judges by the first lease alone.
RanOut(n) ==
    CASE Canary = "DescribedDesign" -> row.until < Local(n)
      [] Canary = "PreemptValidLease" -> row.acquired + TTL + Margin < Local(n)
      [] OTHER -> row.until + Margin < Local(n)

\* A standby whose try failed read the row and, if it ran out, terminates the lock's session,
\* guarded by the row it read: the store's step, as the termination arrives (the read came
\* before; the row is the same and n's clock has only moved on). The session may be an
\* abandoned one of n's own.
Preempt(n) ==
    /\ Own(n) \in live
    /\ lock # NoSession /\ lock # Own(n)
    /\ row # NoRow
    /\ RanOut(n)
    /\ live' = live \ {lock}
    /\ lock' = NoSession
    /\ UNCHANGED <<now, skew, sess, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax, written>>

\* A write carries the writer's clock when it left, up to MaxWriteDelay before it arrives. An
\* older clock only shortens the tenure it gives (and narrows TakeWrite's guard), so the
\* routine cfgs take MaxWriteDelay = 0, the deep one 1.
Sent(n) == (Local(n) - MaxWriteDelay)..Local(n)

\* With the lock, n read the previous row and wrote its own with the next generation, under the
\* lock: the store's step, as the write arrives (conditional on the row it read, so the row is
\* unchanged). With the bound, only once another holder's row had run out by n's clock (a, when
\* the write left) plus Margin.
TakeWrite(n, a) ==
    /\ role[n] = "taking"
    /\ HoldsLock(n)
    /\ row.gen < MaxGen
    /\ ~Bounded \/ row = NoRow \/ row.holder = n \/ row.until + Margin < a
    /\ row' = [holder |-> n, gen |-> row.gen + 1, acquired |-> a, until |-> a + TTL]
    /\ written' = [written EXCEPT ![n] = row']
    /\ UNCHANGED <<now, skew, sess, live, lock, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax>>

\* The write's answer: n leads the tenure of the row it wrote until its until - Margin. The
\* answer may come late (a paused node), after another took the row over: its bound, timed from
\* when the write left, has run out by then.
Led(n) ==
    /\ role[n] = "taking"
    /\ written[n] # NoRow
    /\ role' = [role EXCEPT ![n] = "leader"]
    /\ gen' = [gen EXCEPT ![n] = written[n].gen]
    /\ leadUntil' = [leadUntil EXCEPT ![n] = written[n].until - Margin]
    /\ UNCHANGED <<now, skew, sess, live, lock, row, inflight, lastAccepted, acceptedMax,
                   written>>

\* What a leader's refresh checks as it writes. The write itself is conditional on the row
\* being the one n's last write left (its version): the store's check, whatever n's role by the
\* time the write arrives (a write that timed out may land after its leader stepped down).
\* Canary RefreshWithoutValidation writes on a pooled connection without checking the lock;
\* ValidateOnOtherConnection asks a pooled connection whether anyone holds it.
RowIsOurs(n) == written[n] # NoRow /\ row = written[n]
RefreshGuard(n) ==
    /\ RowIsOurs(n)
    /\ CASE Canary = "RefreshWithoutValidation" -> TRUE
         [] Canary = "ValidateOnOtherConnection" -> lock # NoSession
         [] OTHER -> HoldsLock(n)

\* Validation and refresh as one critical section: the store's step, as the write arrives.
RefreshWrite(n, a) ==
    /\ RefreshGuard(n)
    /\ row' = [row EXCEPT !.until = a + TTL]
    /\ written' = [written EXCEPT ![n] = row']
    /\ UNCHANGED <<now, skew, sess, live, lock, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax>>

\* The refresh's answer: belief runs from when the write left (never shortened). It may come
\* late, as Led's.
Refreshed(n) ==
    /\ role[n] = "leader"
    /\ written[n] # NoRow /\ written[n].gen = gen[n]
    /\ leadUntil' = [leadUntil EXCEPT ![n] = Max(@, written[n].until - Margin)]
    /\ UNCHANGED <<now, skew, sess, live, lock, row, role, gen, inflight, lastAccepted,
                   acceptedMax, written>>

\* A refresh or a takeover step that finds the lock (or, on a pooled connection, the row) no
\* longer ours: leadership ends.
ValidationFails(n) ==
    /\ role[n] # "standby"
    /\ IF role[n] = "leader" THEN ~RefreshGuard(n) ELSE ~HoldsLock(n)
    /\ role' = [role EXCEPT ![n] = "standby"]
    /\ gen' = [gen EXCEPT ![n] = 0]
    /\ leadUntil' = [leadUntil EXCEPT ![n] = NoBelief]
    /\ UNCHANGED <<now, skew, sess, live, lock, row, inflight, lastAccepted, acceptedMax,
                   written>>

\* n stops leading (or taking over) of its own accord: it resigns (then closes its session), it
\* crashes (the server ends its sessions), or, as described, a refresh failed at the store. It
\* only stops acting sooner.
StepDown(n) ==
    /\ role[n] # "standby"
    /\ role' = [role EXCEPT ![n] = "standby"]
    /\ gen' = [gen EXCEPT ![n] = 0]
    /\ leadUntil' = [leadUntil EXCEPT ![n] = NoBelief]
    /\ UNCHANGED <<now, skew, sess, live, lock, row, inflight, lastAccepted, acceptedMax,
                   written>>

\* A protected write, sent only while acting, stamped with the tenure's generation.
Write(n) ==
    /\ Acting(n)
    /\ gen[n] \notin inflight
    /\ Cardinality(inflight) < 2
    /\ inflight' = inflight \cup {gen[n]}
    /\ UNCHANGED <<now, skew, sess, live, lock, row, role, gen, leadUntil, lastAccepted,
                   acceptedMax, written>>

\* The resource takes a write unless its token is below the highest it accepted (with fencing).
Deliver(w) ==
    /\ w \in inflight
    /\ inflight' = inflight \ {w}
    /\ IF ~Fenced \/ acceptedMax <= w
          THEN /\ lastAccepted' = w
               /\ acceptedMax' = Max(acceptedMax, w)
          ELSE UNCHANGED <<lastAccepted, acceptedMax>>
    /\ UNCHANGED <<now, skew, sess, live, lock, row, role, gen, leadUntil, written>>

\* Time is bounded for the model's sake: at the bound a behaviour ends by stuttering, not as a
\* deadlock.
Halt == now = MaxTime /\ UNCHANGED vars

Next ==
    \/ Tick \/ Halt
    \/ \E n \in Nodes :
          \/ Open(n) \/ TryLock(n) \/ Locked(n) \/ Preempt(n) \/ Led(n) \/ Refreshed(n)
          \/ ValidationFails(n) \/ StepDown(n) \/ Write(n)
          \/ \E a \in Sent(n) : TakeWrite(n, a) \/ RefreshWrite(n, a)
    \/ \E s \in live : EndSession(s)
    \/ \E w \in inflight : Deliver(w)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
\* At any true instant at most one node acts as leader.
AtMostOneActingLeader == \A a, b \in Nodes : Acting(a) /\ Acting(b) => a = b

\* The resource never accepts a write of an older tenure after one of a newer tenure: a
\* deposed leader's (a zombie's) writes are refused.
ZombieWritesRefused == lastAccepted = acceptedMax

\* The row changes only under the lock, by its holder: validation and write are one.
RowWrittenUnderLock ==
    [][row' # row => lock' # NoSession /\ lock'[1] = row'.holder]_vars

\* A holder whose lease is still valid (by the store's clock) is never preempted.
NoValidLeasePreempted ==
    [][\A n \in Nodes : Preempt(n) => ~Live(row)]_vars

TypeOK ==
    /\ now \in 0..MaxTime
    /\ \A n \in Nodes : /\ sess[n] \in 0..MaxSess
                        /\ role[n] \in {"standby", "taking", "leader"}
                        /\ gen[n] \in 0..MaxGen
    /\ live \subseteq Nodes \X (1..MaxSess)
    /\ lock = NoSession \/ lock \in live
    /\ row.gen \in 0..MaxGen
    /\ inflight \subseteq 1..MaxGen
    /\ lastAccepted \in 0..MaxGen /\ acceptedMax \in 0..MaxGen
    /\ \A n \in Nodes : written[n] = NoRow \/ written[n].holder = n
=============================================================================
