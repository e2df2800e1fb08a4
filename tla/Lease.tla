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
(* lease stays within MaxSkew. MaxGen bounds how often the lease is        *)
(* acquired (each acquisition issues a new generation; acquire and release *)
(* can alternate without time passing) and MaxTime how far time runs, so   *)
(* the state space is finite. The bounds do end behaviours: once time      *)
(* stands at MaxTime and the generation at MaxGen, a state where no node   *)
(* holds a token or believes, and no write is in flight, has no successor. *)
(* It stutters for ever, which [][Next]_vars allows, so the cfgs switch    *)
(* off TLC's deadlock check (CHECK_DEADLOCK FALSE): such a terminal state  *)
(* is the model's edge, not a protocol that got stuck. For the same reason *)
(* ExpiredLeaseClaimable leaves out a record at MaxGen.                    *)
(***************************************************************************)
EXTENDS Naturals, Integers, FiniteSets

CONSTANTS Nodes, MaxTerm, MaxGen, TTL, Margin, MaxSkew, MaxTime, Canary

Canaries == {"None", "NoTermFence", "NoSafetyMargin", "BlindRefresh", "NoConfirmRead",
             "UncheckedResource", "RetryStaleRenewal", "ReleaseDeletesRecord",
             "ExpiryFromReply", "WriteAfterLapse", "RenewWithoutHolderCheck"}

ASSUME /\ Canary \in Canaries
       /\ TTL > Margin /\ Margin >= 0 /\ MaxSkew >= 0
       /\ MaxTerm >= 1 /\ MaxGen >= 1 /\ MaxTime >= 0

NoRecord == [holder |-> 0, term |-> 0, gen |-> 0, expires |-> 0]
NoToken == <<0, 0>>
\* belief[n] = NoBelief: n believes nothing. It lies below every local clock (a clock may read
\* below 0 when its offset is negative), so a node that never acquired never believes.
NoBelief == -(MaxSkew + 1)
\* How much later than its request a renewal's answer may arrive (canary ExpiryFromReply
\* only). Bounded to keep the model finite; a whole ttl is more than enough to break belief.
MaxReplyDelay == TTL

VARIABLES
    now,          \* true time, which is also the store's clock
    skew,         \* skew[n]: how far n's clock is ahead of true time
    record,       \* the lease record in the store (NoRecord when absent)
    belief,       \* belief[n]: local time until which n believes it holds the lease
    held,         \* held[n]: the token of the record n holds (NoToken once released or stale)
    inflight,     \* fenced writes sent and not yet delivered, as <<sender, token>>: the
                  \* sender is kept so DurablePromises can hold the write against the record
    lastAccepted, \* the token of the last write the resource accepted
    issuedMax     \* history: the highest token ever issued in the behaviour (NoToken before
                  \* the first). It outlives a deleted record, so a restarted generation shows.

vars == <<now, skew, record, belief, held, inflight, lastAccepted, issuedMax>>

Local(n) == now + skew[n]
Believes(n) == Local(n) < belief[n]
TokenOf(r) == <<r.term, r.gen>>
LessEq(a, b) == a[1] < b[1] \/ (a[1] = b[1] /\ a[2] <= b[2])
Less(a, b) == LessEq(a, b) /\ a # b
\* The later of two tokens.
MaxToken(a, b) == IF LessEq(a, b) THEN b ELSE a
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
    /\ issuedMax = NoToken

Tick ==
    /\ now < MaxTime
    /\ now' = now + 1
    /\ UNCHANGED <<skew, record, belief, held, inflight, lastAccepted, issuedMax>>

\* Read, conditional write and confirming re-read, taken as one atomic step: the CAS makes them
\* indivisible for everyone but the writer. Every acquisition issues a new generation, the same
\* holder taking its own record again included: writes stamped in an earlier tenure (a crashed
\* incarnation's, a stalled one's) must not pass for this one's. (Keeping the generation for the
\* same holder was a real bug: IssuedTokensIncrease found the token issued twice.)
Acquire(n, t) ==
    LET gen == record.gen + 1   \* 1 when there is no record (NoRecord.gen = 0)
        new == [holder |-> n, term |-> t, gen |-> gen, expires |-> Local(n) + TTL]
    IN /\ ~Believes(n)
       /\ Canary = "NoTermFence" \/ record = NoRecord \/ t >= record.term
       /\ ~Live(record) \/ record.holder = n
       /\ gen <= MaxGen
       /\ record' = new
       /\ belief' = [belief EXCEPT ![n] = new.expires - M]
       /\ held' = [held EXCEPT ![n] = TokenOf(new)]
       /\ issuedMax' = MaxToken(issuedMax, TokenOf(new))
       /\ UNCHANGED <<now, skew, inflight, lastAccepted>>

\* An acquire whose write was lost although its caller saw a timeout: only a re-read tells.
AcquireAmbiguous(n, t) ==
    /\ ~Believes(n)
    /\ Canary = "NoConfirmRead"
    /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
    /\ held' = [held EXCEPT ![n] = <<t, 1>>]
    /\ UNCHANGED <<now, skew, record, inflight, lastAccepted, issuedMax>>

\* A renewal's answer arrives this much after its request. Correctly the belief is timed from
\* the request (the store's expiry is), so the delay does not matter; canary ExpiryFromReply
\* times it from the answer.
ReplyDelays == IF Canary = "ExpiryFromReply" THEN 0..MaxReplyDelay ELSE {0}

\* A refresh succeeds only for the current holder and generation (the version check). The client
\* renews on a timer from the record it holds, whether or not its belief has lapsed meanwhile
\* (model::lease does): only the version check stops a lapsed holder from taking the lease back
\* after someone else acquired it. The store's expiry runs from the request; canary
\* ExpiryFromReply believes from the answer, up to MaxReplyDelay later.
Renew(n) ==
    /\ held[n] # NoToken
    /\ Canary = "BlindRefresh" \/ (record.holder = n /\ TokenOf(record) = held[n])
    /\ record' = [holder |-> n, term |-> held[n][1], gen |-> held[n][2],
                  expires |-> Local(n) + TTL]
    /\ \E d \in ReplyDelays : belief' = [belief EXCEPT ![n] = Local(n) + TTL - M + d]
    /\ issuedMax' = MaxToken(issuedMax, held[n])
    /\ UNCHANGED <<now, skew, held, inflight, lastAccepted>>

\* Canary RenewWithoutHolderCheck: a renewal that finds the record lapsed treats the lease as
\* its own again. It checks only that nobody's lease is live, not whose record it is, and
\* rewrites the holder to itself under the record's token (a renewal keeps the token), which
\* it adopts: the token another node was issued is now the renewer's too. Correctly a lapsed
\* holder must acquire, which issues a new generation.
RenewLapsed(n) ==
    /\ Canary = "RenewWithoutHolderCheck"
    /\ held[n] # NoToken /\ ~Believes(n)
    /\ record # NoRecord /\ ~Live(record) /\ record.holder # n
    /\ record' = [record EXCEPT !.holder = n, !.expires = Local(n) + TTL]
    /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
    /\ held' = [held EXCEPT ![n] = TokenOf(record)]
    /\ UNCHANGED <<now, skew, inflight, lastAccepted, issuedMax>>

\* A refresh that finds the record changed (answered Stale): the holder stops believing at once
\* and forgets the record. Canary RetryStaleRenewal re-reads the version and writes its own
\* record back over whatever is there: a lapsed holder takes the lease back.
RenewStale(n) ==
    /\ held[n] # NoToken
    /\ ~(record.holder = n /\ TokenOf(record) = held[n])
    /\ IF Canary = "RetryStaleRenewal"
          THEN /\ record' = [holder |-> n, term |-> held[n][1], gen |-> held[n][2],
                             expires |-> Local(n) + TTL]
               /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
               /\ issuedMax' = MaxToken(issuedMax, held[n])
               /\ UNCHANGED held
          ELSE /\ belief' = [belief EXCEPT ![n] = NoBelief]
               /\ held' = [held EXCEPT ![n] = NoToken]
               /\ UNCHANGED <<record, issuedMax>>
    /\ UNCHANGED <<now, skew, inflight, lastAccepted>>

\* Release marks the record expired: deleting it would let the next acquire restart the
\* generation at 1 and issue a token again. Canary ReleaseDeletesRecord deletes it.
Release(n) ==
    /\ Believes(n)
    /\ record.holder = n /\ TokenOf(record) = held[n]
    /\ record' = IF Canary = "ReleaseDeletesRecord" THEN NoRecord
                 ELSE [record EXCEPT !.expires = now]
    /\ belief' = [belief EXCEPT ![n] = NoBelief]
    /\ held' = [held EXCEPT ![n] = NoToken]
    /\ UNCHANGED <<now, skew, inflight, lastAccepted, issuedMax>>

\* A belief runs out on the holder's own clock.
Expire(n) ==
    /\ belief[n] # NoBelief
    /\ ~Believes(n)
    /\ belief' = [belief EXCEPT ![n] = NoBelief]
    /\ UNCHANGED <<now, skew, record, held, inflight, lastAccepted, issuedMax>>

\* A write stamped with the held token, sent only while the lease is believed held. Canary
\* WriteAfterLapse stamps it with the held token although belief lapsed.
FencedWrite(n) ==
    /\ Believes(n) \/ (Canary = "WriteAfterLapse" /\ held[n] # NoToken)
    /\ Cardinality(inflight) < 2
    /\ inflight' = inflight \cup {<<n, held[n]>>}
    /\ UNCHANGED <<now, skew, record, belief, held, lastAccepted, issuedMax>>

\* The protected resource takes a write only if its token is not below the last it accepted.
Deliver(w) ==
    /\ w \in inflight
    /\ inflight' = inflight \ {w}
    /\ lastAccepted' = IF Canary = "UncheckedResource" \/ LessEq(lastAccepted, w[2])
                       THEN w[2] ELSE lastAccepted
    /\ UNCHANGED <<now, skew, record, belief, held, issuedMax>>

Next ==
    \/ Tick
    \/ \E n \in Nodes, t \in 1..MaxTerm : Acquire(n, t) \/ AcquireAmbiguous(n, t)
    \/ \E n \in Nodes : Renew(n) \/ RenewStale(n) \/ Release(n) \/ Expire(n) \/ FencedWrite(n)
                        \/ RenewLapsed(n)
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

\* A refresh (a change that keeps the token) never moves the lease to another holder. A step
\* that breaks it always breaks IssuedTokensIncrease too (a new holder under a kept token is a
\* re-issuance); the cfgs list this property first, so TLC names it.
RenewalRequiresOwnership ==
    [][ (record # NoRecord /\ record' # NoRecord /\ TokenOf(record') = TokenOf(record))
            => record'.holder = record.holder ]_vars

\* Tokens never go backwards: neither the store record's nor the resource's accepted ones.
FencingMonotonic ==
    [][ /\ (record # NoRecord /\ record' # NoRecord) => LessEq(TokenOf(record), TokenOf(record'))
        /\ LessEq(lastAccepted, lastAccepted') ]_vars

\* A step writes a new issuance of a token: a record whose token or holder differs from the one
\* before (a renewal or a release changes only `expires`). The Rust RecordView also compares
\* `acquired`, which tells two tenures of one token and holder apart; in this spec every
\* acquisition over a record bumps the generation, and one over no record follows NoRecord, so
\* the token and holder already tell an issuance from a renewal.
NewIssuance ==
    /\ record' # NoRecord
    /\ record = NoRecord \/ TokenOf(record') # TokenOf(record) \/ record'.holder # record.holder

\* Every newly issued token is above every token issued before it in the behaviour, so no
\* token is ever issued twice, even across a deleted record (FencingMonotonic compares only
\* neighbouring records, and misses a generation that restarts after a deletion).
IssuedTokensIncrease == [][NewIssuance => Less(issuedMax, TokenOf(record'))]_vars

\* The store backs a fenced write from n with token t: its record names n as holder with t,
\* unexpired at the store's clock.
LeaseBacks(n, t) == record # NoRecord /\ record.holder = n /\ TokenOf(record) = t
                    /\ now < record.expires

\* DurablePromises, the lease's part: a fenced write leaves (is added to inflight) only while
\* the store backs it. Belief is local and may be wrong; what the write relies on is the record.
DurablePromises == [][\A w \in inflight' \ inflight : LeaseBacks(w[1], w[2])]_vars

\* Once the lease has expired, some contender believes it holds it again. Not vacuous at the
\* time bound: when time stops at MaxTime an expired record stays expired, and the fair Acquire
\* (enabled for every node that does not believe) must still take it. Every acquisition bumps
\* the generation, so a record already at MaxGen is out of the model's reach and excluded.
ExpiredLeaseClaimable ==
    [](record # NoRecord /\ ~Live(record) /\ record.gen < MaxGen
         => <>(\E n \in Nodes : Believes(n)))

TypeOK ==
    /\ now \in 0..MaxTime
    /\ record.gen \in 0..MaxGen
    /\ \A n \in Nodes : held[n] \in (0..MaxTerm) \X (0..MaxGen)
    /\ inflight \subseteq Nodes \X ((0..MaxTerm) \X (0..MaxGen))
    /\ issuedMax \in (0..MaxTerm) \X (0..MaxGen)

\* Implied by the guards on Tick, Acquire and FencedWrite, so the constraint itself prunes no
\* state (pruning would make liveness checking unsound); kept as TLC's explicit bound.
StateBound == now <= MaxTime /\ record.gen <= MaxGen /\ Cardinality(inflight) <= 2
=============================================================================
