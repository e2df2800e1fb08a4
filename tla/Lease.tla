---------------------------- MODULE Lease ----------------------------
(***************************************************************************)
(* A writer lease kept as a record in a compare-and-swap object store, with *)
(* (term, generation) fencing tokens and a protected resource that rejects *)
(* stale tokens. Mirrored in model/src/spec/lease.rs; the simulator checks *)
(* the same invariants after every step of the `lease` scenario.           *)
(*                                                                         *)
(* Time is a counter. A node's local clock reads now + skew[n]; the store   *)
(* judges expiry by `now` (its clock is true time). A holder believes until *)
(* its local clock reaches expires - Margin, so Margin must cover MaxSkew.  *)
(* Each canary is a deliberately broken action switched on by `Canary`.     *)
(***************************************************************************)
EXTENDS Naturals, Integers, FiniteSets

CONSTANTS Nodes, MaxTerm, TTL, Margin, MaxSkew, MaxTime, Canary

NoRecord == [holder |-> 0, term |-> 0, gen |-> 0, expires |-> 0]
NoToken == <<0, 0>>

VARIABLES
    now,          \* true time, which is also the store's clock
    skew,         \* skew[n]: how far n's clock is ahead of true time
    record,       \* the lease record in the store (NoRecord when absent)
    belief,       \* belief[n]: local time until which n believes it holds the lease
    held,         \* held[n]: the token n stamps its writes with
    inflight,     \* fenced writes sent and not yet delivered (tokens)
    lastAccepted  \* the token of the last write the resource accepted

vars == <<now, skew, record, belief, held, inflight, lastAccepted>>

Local(n) == now + skew[n]
Believes(n) == Local(n) < belief[n]
TokenOf(r) == <<r.term, r.gen>>
LessEq(a, b) == a[1] < b[1] \/ (a[1] = b[1] /\ a[2] <= b[2])
M == IF Canary = "NoSafetyMargin" THEN 0 ELSE Margin
Live(r) == r # NoRecord /\ now < r.expires

Init ==
    /\ now = 0
    /\ skew \in [Nodes -> -MaxSkew..MaxSkew]
    /\ record = NoRecord
    /\ belief = [n \in Nodes |-> 0]
    /\ held = [n \in Nodes |-> NoToken]
    /\ inflight = {}
    /\ lastAccepted = NoToken

Tick ==
    /\ now < MaxTime
    /\ now' = now + 1
    /\ UNCHANGED <<skew, record, belief, held, inflight, lastAccepted>>

\* Read, conditional write and confirming re-read, taken as one atomic step: the CAS makes them
\* indivisible for everyone but the writer.
Acquire(n, t) ==
    /\ ~Believes(n)
    /\ Canary = "NoTermFence" \/ record = NoRecord \/ t >= record.term
    /\ ~Live(record) \/ record.holder = n
    /\ LET gen == IF record = NoRecord THEN 1
                  ELSE IF record.holder = n THEN record.gen ELSE record.gen + 1
           new == [holder |-> n, term |-> t, gen |-> gen, expires |-> Local(n) + TTL]
       IN /\ record' = new
          /\ belief' = [belief EXCEPT ![n] = new.expires - M]
          /\ held' = [held EXCEPT ![n] = TokenOf(new)]
    /\ UNCHANGED <<now, skew, inflight, lastAccepted>>

\* An acquire whose write was lost although its caller saw a timeout: only a re-read tells.
AcquireAmbiguous(n, t) ==
    /\ ~Believes(n)
    /\ Canary = "NoConfirmRead"
    /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
    /\ held' = [held EXCEPT ![n] = <<t, 1>>]
    /\ UNCHANGED <<now, skew, record, inflight, lastAccepted>>

\* A refresh succeeds only for the current holder and generation (the version check).
Renew(n) ==
    /\ Believes(n)
    /\ Canary = "BlindRefresh" \/ (record.holder = n /\ TokenOf(record) = held[n])
    /\ record' = [holder |-> n, term |-> held[n][1], gen |-> held[n][2],
                  expires |-> Local(n) + TTL]
    /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
    /\ UNCHANGED <<now, skew, held, inflight, lastAccepted>>

\* A refresh that finds the record changed: the holder must stop believing at once.
RenewStale(n) ==
    /\ Believes(n)
    /\ ~(record.holder = n /\ TokenOf(record) = held[n])
    /\ belief' = IF Canary = "BeliefAfterStale" THEN belief ELSE [belief EXCEPT ![n] = 0]
    /\ UNCHANGED <<now, skew, record, held, inflight, lastAccepted>>

\* Release marks the record expired; deleting it would let generations restart.
Release(n) ==
    /\ Believes(n)
    /\ record.holder = n /\ TokenOf(record) = held[n]
    /\ record' = [record EXCEPT !.expires = now]
    /\ belief' = [belief EXCEPT ![n] = 0]
    /\ UNCHANGED <<now, skew, held, inflight, lastAccepted>>

\* A belief runs out on the holder's own clock.
Expire(n) ==
    /\ belief[n] # 0
    /\ ~Believes(n)
    /\ belief' = [belief EXCEPT ![n] = 0]
    /\ UNCHANGED <<now, skew, record, held, inflight, lastAccepted>>

FencedWrite(n) ==
    /\ Believes(n)
    /\ inflight' = inflight \cup {held[n]}
    /\ UNCHANGED <<now, skew, record, belief, held, lastAccepted>>

\* The protected resource takes a write only if its token is not below the last it accepted.
Deliver(w) ==
    /\ w \in inflight
    /\ inflight' = inflight \ {w}
    /\ lastAccepted' = IF Canary = "UncheckedResource" \/ LessEq(lastAccepted, w)
                       THEN w ELSE lastAccepted
    /\ UNCHANGED <<now, skew, record, belief, held>>

Next ==
    \/ Tick
    \/ \E n \in Nodes, t \in 1..MaxTerm : Acquire(n, t) \/ AcquireAmbiguous(n, t)
    \/ \E n \in Nodes : Renew(n) \/ RenewStale(n) \/ Release(n) \/ Expire(n) \/ FencedWrite(n)
    \/ \E w \in inflight : Deliver(w)

Spec == Init /\ [][Next]_vars /\ WF_vars(\E n \in Nodes : Acquire(n, MaxTerm)) /\ WF_vars(Tick)

-----------------------------------------------------------------------------
\* At any instant at most one node believes it holds the lease.
LeaseUniqueness == \A a, b \in Nodes : Believes(a) /\ Believes(b) => a = b

\* A believer is the holder in the store, with its token, unexpired by the store's clock.
BeliefConsistency ==
    \A n \in Nodes : Believes(n) =>
        /\ record.holder = n
        /\ TokenOf(record) = held[n]
        /\ now < record.expires

\* A refresh (a change that keeps the token) never moves the lease to another holder.
RenewalRequiresOwnership ==
    [][ (record # NoRecord /\ record' # NoRecord /\ TokenOf(record') = TokenOf(record))
            => record'.holder = record.holder ]_vars

\* Tokens never go backwards: neither the store record's nor the resource's accepted ones.
FencingMonotonic ==
    [][ /\ (record # NoRecord /\ record' # NoRecord) => LessEq(TokenOf(record), TokenOf(record'))
        /\ LessEq(lastAccepted, lastAccepted') ]_vars

\* Once the lease has expired, some contender holds it again (or time runs out in the model).
ExpiredLeaseClaimable ==
    [](record # NoRecord /\ ~Live(record) => <>((\E n \in Nodes : Believes(n)) \/ now = MaxTime))

TypeOK ==
    /\ now \in 0..MaxTime
    /\ inflight \subseteq (0..MaxTerm) \X (0..Cardinality(Nodes) * MaxTerm + 1)

StateBound == now <= MaxTime /\ Cardinality(inflight) <= 2
=============================================================================
