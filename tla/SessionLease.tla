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
(* session_lease.rs; the simulator checks the same properties after every  *)
(* step of the `session-lease` scenario.                                   *)
(*                                                                         *)
(* Time is a counter; node n's clock reads now + skew[n]. The store judges *)
(* a row live by `now` (its clock is true time). Sessions are numbered per *)
(* node: n's current one is <<n, sess[n]>>, live or not. A session ends by *)
(* EndSession: the server saw its connection die (a crash, a cut past the  *)
(* keepalive, a reset); a crash also restarts the machine as a standby,    *)
(* which only stops it acting sooner, so for safety EndSession covers it.  *)
(* Store requests that fail are steps not taken.                           *)
(*                                                                         *)
(* The clean spec is the design with the fix the harness needed: a leader  *)
(* acts only until until - Margin of its last validated write, a new holder *)
(* writes its row (and leads) only once the previous holder's has run out  *)
(* plus Margin, and protected writes carry the row's generation as a       *)
(* fencing token. Canary "DescribedDesign" is the design as the issue      *)
(* describes it, with neither; each other canary is one known mistake.     *)
(***************************************************************************)
EXTENDS Naturals, Integers, FiniteSets

CONSTANTS Nodes, TTL, Margin, MaxSkew, MaxTime, MaxGen, MaxSess, Canary

Canaries == {"None", "DescribedDesign", "UnboundedBelief", "UnfencedWrites",
             "PreemptValidLease", "RefreshWithoutValidation", "ValidateOnOtherConnection"}

ASSUME /\ Canary \in Canaries
       /\ TTL > 2 * Margin /\ Margin >= 0 /\ MaxSkew >= 0
       /\ MaxTime >= 0 /\ MaxGen >= 1 /\ MaxSess >= 1
       /\ 0 \notin Nodes

NoSession == <<0, 0>>
NoRow == [holder |-> 0, gen |-> 0, acquired |-> 0, until |-> 0]
\* leadUntil[n] = NoBelief: n has no bound to act by (a standby). Below every local clock.
NoBelief == -(MaxSkew + 1)

VARIABLES
    now,          \* true time, which is also the store's clock
    skew,         \* skew[n]: how far n's clock is ahead of true time
    sess,         \* sess[n]: how many sessions n has opened; its current one is <<n, sess[n]>>
    live,         \* live[n]: n's current session is live
    lock,         \* the session holding the lock (NoSession when free)
    row,          \* the lease row (NoRow before the first takeover)
    role,         \* role[n]: "standby", "taking" (holds the lock, row not yet written), "leader"
    gen,          \* gen[n]: the generation of n's tenure (0 while it has none)
    leadUntil,    \* leadUntil[n]: n acts while its clock is below this (the fix's bound)
    inflight,     \* protected writes sent, not yet delivered: the sender's tenure (generation)
    lastAccepted, \* the tenure of the write the resource accepted last (0 before any)
    acceptedMax   \* history: the highest tenure the resource ever accepted

vars == <<now, skew, sess, live, lock, row, role, gen, leadUntil, inflight, lastAccepted,
          acceptedMax>>

Local(n) == now + skew[n]
Own(n) == <<n, sess[n]>>
HoldsLock(n) == live[n] /\ lock = Own(n)
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
    /\ live = [n \in Nodes |-> FALSE]
    /\ lock = NoSession
    /\ row = NoRow
    /\ role = [n \in Nodes |-> "standby"]
    /\ gen = [n \in Nodes |-> 0]
    /\ leadUntil = [n \in Nodes |-> NoBelief]
    /\ inflight = {}
    /\ lastAccepted = 0
    /\ acceptedMax = 0

Tick ==
    /\ now < MaxTime
    /\ now' = now + 1
    /\ UNCHANGED <<skew, sess, live, lock, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax>>

Open(n) ==
    /\ ~live[n]
    /\ sess[n] < MaxSess
    /\ sess' = [sess EXCEPT ![n] = @ + 1]
    /\ live' = [live EXCEPT ![n] = TRUE]
    /\ UNCHANGED <<now, skew, lock, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax>>

\* The server ends n's session by itself; the lock goes with it.
EndSession(n) ==
    /\ live[n]
    /\ live' = [live EXCEPT ![n] = FALSE]
    /\ lock' = IF lock = Own(n) THEN NoSession ELSE lock
    /\ UNCHANGED <<now, skew, sess, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax>>

TryLock(n) ==
    /\ live[n]
    /\ role[n] = "standby"
    /\ lock = NoSession
    /\ lock' = Own(n)
    /\ role' = [role EXCEPT ![n] = "taking"]
    /\ UNCHANGED <<now, skew, sess, live, row, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax>>

\* By n's clock, the row's lease has run out, with the margin for the writer's clock (none in
\* the design as described). Canary PreemptValidLease judges by the first lease alone.
RanOut(n) ==
    CASE Canary = "DescribedDesign" -> row.until < Local(n)
      [] Canary = "PreemptValidLease" -> row.acquired + TTL + Margin < Local(n)
      [] OTHER -> row.until + Margin < Local(n)

\* A standby whose try fails reads the row and, if it ran out, terminates the holder's session,
\* guarded by the row it read: read and termination are one step.
Preempt(n) ==
    /\ live[n]
    /\ role[n] = "standby"
    /\ lock # NoSession /\ lock[1] # n
    /\ row # NoRow
    /\ RanOut(n)
    /\ live' = [live EXCEPT ![lock[1]] = FALSE]
    /\ lock' = NoSession
    /\ UNCHANGED <<now, skew, sess, row, role, gen, leadUntil, inflight, lastAccepted,
                   acceptedMax>>

\* With the lock, read the previous row and write ours with the next generation, under the
\* lock. With the bound, only once another holder's row has run out by our clock plus Margin.
Take(n) ==
    /\ role[n] = "taking"
    /\ HoldsLock(n)
    /\ row.gen < MaxGen
    /\ ~Bounded \/ row = NoRow \/ row.holder = n \/ row.until + Margin < Local(n)
    /\ row' = [holder |-> n, gen |-> row.gen + 1, acquired |-> Local(n), until |-> Local(n) + TTL]
    /\ role' = [role EXCEPT ![n] = "leader"]
    /\ gen' = [gen EXCEPT ![n] = row.gen + 1]
    /\ leadUntil' = [leadUntil EXCEPT ![n] = Local(n) + TTL - Margin]
    /\ UNCHANGED <<now, skew, sess, live, lock, inflight, lastAccepted, acceptedMax>>

\* What a leader's refresh checks before it writes. The write itself is conditional on the row
\* being the one the leader last wrote (its version). Canary RefreshWithoutValidation writes on
\* a pooled connection without checking the lock; ValidateOnOtherConnection asks a pooled
\* connection whether anyone holds it.
RowIsOurs(n) == row.holder = n /\ row.gen = gen[n]
RefreshGuard(n) ==
    /\ RowIsOurs(n)
    /\ CASE Canary = "RefreshWithoutValidation" -> TRUE
         [] Canary = "ValidateOnOtherConnection" -> lock # NoSession
         [] OTHER -> HoldsLock(n)

\* Validation and refresh as one critical section. Belief runs from the request.
Refresh(n) ==
    /\ role[n] = "leader"
    /\ RefreshGuard(n)
    /\ row' = [row EXCEPT !.until = Local(n) + TTL]
    /\ leadUntil' = [leadUntil EXCEPT ![n] = Local(n) + TTL - Margin]
    /\ UNCHANGED <<now, skew, sess, live, lock, role, gen, inflight, lastAccepted, acceptedMax>>

\* A refresh or a takeover step that finds the lock (or, on a pooled connection, the row) no
\* longer ours: leadership ends.
ValidationFails(n) ==
    /\ role[n] # "standby"
    /\ IF role[n] = "leader" THEN ~RefreshGuard(n) ELSE ~HoldsLock(n)
    /\ role' = [role EXCEPT ![n] = "standby"]
    /\ gen' = [gen EXCEPT ![n] = 0]
    /\ leadUntil' = [leadUntil EXCEPT ![n] = NoBelief]
    /\ UNCHANGED <<now, skew, sess, live, lock, row, inflight, lastAccepted, acceptedMax>>

\* A protected write, sent only while acting, stamped with the tenure's generation.
Write(n) ==
    /\ Acting(n)
    /\ gen[n] \notin inflight
    /\ Cardinality(inflight) < 2
    /\ inflight' = inflight \cup {gen[n]}
    /\ UNCHANGED <<now, skew, sess, live, lock, row, role, gen, leadUntil, lastAccepted,
                   acceptedMax>>

\* The resource takes a write unless its token is below the highest it accepted (with fencing).
Deliver(w) ==
    /\ w \in inflight
    /\ inflight' = inflight \ {w}
    /\ IF ~Fenced \/ acceptedMax <= w
          THEN /\ lastAccepted' = w
               /\ acceptedMax' = Max(acceptedMax, w)
          ELSE UNCHANGED <<lastAccepted, acceptedMax>>
    /\ UNCHANGED <<now, skew, sess, live, lock, row, role, gen, leadUntil>>

\* Time is bounded for the model's sake: at the bound a behaviour ends by stuttering, not as a
\* deadlock.
Halt == now = MaxTime /\ UNCHANGED vars

Next ==
    \/ Tick \/ Halt
    \/ \E n \in Nodes :
          \/ Open(n) \/ EndSession(n) \/ TryLock(n) \/ Preempt(n) \/ Take(n)
          \/ Refresh(n) \/ ValidationFails(n) \/ Write(n)
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
    /\ lock = NoSession \/ (lock[1] \in Nodes /\ live[lock[1]] /\ lock = Own(lock[1]))
    /\ row.gen \in 0..MaxGen
    /\ inflight \subseteq 1..MaxGen
    /\ lastAccepted \in 0..MaxGen /\ acceptedMax \in 0..MaxGen
=============================================================================
