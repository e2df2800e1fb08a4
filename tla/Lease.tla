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
(*                                                                         *)
(* A node's offset stays within MaxSkew for a whole behaviour; TLC tries    *)
(* every offset, which covers drift as long as offset plus drift over a    *)
(* lease stays within MaxSkew. MaxGen bounds how often the lease changes    *)
(* hands (acquire and release can alternate without time passing), so the  *)
(* state space is finite without cutting any behaviour short.              *)
(***************************************************************************)
EXTENDS Naturals, Integers, FiniteSets

CONSTANTS Nodes, MaxTerm, MaxGen, TTL, Margin, MaxSkew, MaxTime, Canary

Canaries == {"None", "NoTermFence", "NoSafetyMargin", "BlindRefresh", "NoConfirmRead",
             "UncheckedResource", "BeliefAfterStale"}

ASSUME /\ Canary \in Canaries
       /\ TTL > Margin /\ Margin >= 0 /\ MaxSkew >= 0
       /\ MaxTerm >= 1 /\ MaxGen >= 1 /\ MaxTime >= 0

NoRecord == [holder |-> 0, term |-> 0, gen |-> 0, expires |-> 0]
NoToken == <<0, 0>>
\* belief[n] = NoBelief: n believes nothing. It lies below every local clock (a clock may read
\* below 0 when its offset is negative), so a node that never acquired never believes.
NoBelief == -(MaxSkew + 1)

VARIABLES
    now,          \* true time, which is also the store's clock
    skew,         \* skew[n]: how far n's clock is ahead of true time
    record,       \* the lease record in the store (NoRecord when absent)
    belief,       \* belief[n]: local time until which n believes it holds the lease
    held,         \* held[n]: the token of the record n holds (NoToken once released or stale)
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
    /\ belief = [n \in Nodes |-> NoBelief]
    /\ held = [n \in Nodes |-> NoToken]
    /\ inflight = {}
    /\ lastAccepted = NoToken

Tick ==
    /\ now < MaxTime
    /\ now' = now + 1
    /\ UNCHANGED <<skew, record, belief, held, inflight, lastAccepted>>

\* Read, conditional write and confirming re-read, taken as one atomic step: the CAS makes them
\* indivisible for everyone but the writer. The same holder taking its own record again keeps
\* the generation; another holder bumps it.
Acquire(n, t) ==
    LET gen == IF record = NoRecord THEN 1
               ELSE IF record.holder = n THEN record.gen ELSE record.gen + 1
        new == [holder |-> n, term |-> t, gen |-> gen, expires |-> Local(n) + TTL]
    IN /\ ~Believes(n)
       /\ Canary = "NoTermFence" \/ record = NoRecord \/ t >= record.term
       /\ ~Live(record) \/ record.holder = n
       /\ gen <= MaxGen
       /\ record' = new
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

\* A refresh succeeds only for the current holder and generation (the version check). The client
\* renews on a timer from the record it holds, whether or not its belief has lapsed meanwhile
\* (model::lease does): only the version check stops a lapsed holder from taking the lease back
\* after someone else acquired it.
Renew(n) ==
    /\ held[n] # NoToken
    /\ Canary = "BlindRefresh" \/ (record.holder = n /\ TokenOf(record) = held[n])
    /\ record' = [holder |-> n, term |-> held[n][1], gen |-> held[n][2],
                  expires |-> Local(n) + TTL]
    /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
    /\ UNCHANGED <<now, skew, held, inflight, lastAccepted>>

\* A refresh that finds the record changed: the holder must stop believing at once and forget
\* the record. With the canary it keeps both; that is latent while skew stays within the margin,
\* since nobody can change the record before its holder's belief has ended.
RenewStale(n) ==
    /\ held[n] # NoToken
    /\ ~(record.holder = n /\ TokenOf(record) = held[n])
    /\ IF Canary = "BeliefAfterStale"
          THEN UNCHANGED <<belief, held>>
          ELSE /\ belief' = [belief EXCEPT ![n] = NoBelief]
               /\ held' = [held EXCEPT ![n] = NoToken]
    /\ UNCHANGED <<now, skew, record, inflight, lastAccepted>>

\* Release marks the record expired; deleting it would let generations restart.
Release(n) ==
    /\ Believes(n)
    /\ record.holder = n /\ TokenOf(record) = held[n]
    /\ record' = [record EXCEPT !.expires = now]
    /\ belief' = [belief EXCEPT ![n] = NoBelief]
    /\ held' = [held EXCEPT ![n] = NoToken]
    /\ UNCHANGED <<now, skew, inflight, lastAccepted>>

\* A belief runs out on the holder's own clock.
Expire(n) ==
    /\ belief[n] # NoBelief
    /\ ~Believes(n)
    /\ belief' = [belief EXCEPT ![n] = NoBelief]
    /\ UNCHANGED <<now, skew, record, held, inflight, lastAccepted>>

FencedWrite(n) ==
    /\ Believes(n)
    /\ Cardinality(inflight) < 2
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

\* Once the lease has expired, some contender believes it holds it again. Not vacuous at the
\* time bound: when time stops at MaxTime an expired record stays expired, and the fair Acquire
\* (always enabled for the record's own holder, whatever MaxGen) must still take it.
ExpiredLeaseClaimable ==
    [](record # NoRecord /\ ~Live(record) => <>(\E n \in Nodes : Believes(n)))

TypeOK ==
    /\ now \in 0..MaxTime
    /\ record.gen \in 0..MaxGen
    /\ \A n \in Nodes : held[n] \in (0..MaxTerm) \X (0..MaxGen)
    /\ inflight \subseteq (0..MaxTerm) \X (0..MaxGen)

\* Implied by the guards on Tick, Acquire and FencedWrite (so it cuts no behaviour short, which
\* would make liveness checking unsound); kept as TLC's explicit bound.
StateBound == now <= MaxTime /\ record.gen <= MaxGen /\ Cardinality(inflight) <= 2
=============================================================================
