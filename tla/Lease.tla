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
(* The store and the clients act in steps of their own, as they do: the   *)
(* store takes a write (AcquireWrite, RenewWrite, ReleaseWrite) when it    *)
(* arrives; a client believes once a read or the write's answer confirms   *)
(* it (Acquired, Renewed), and stops (RenewStale, Release) on its own.     *)
(* A write carries an expiry computed when it left, up to MaxWriteDelay    *)
(* before it arrives. `stored` (history) is every record the store held,   *)
(* which is what a confirming read can have seen.                          *)
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
\* How long a write may travel to the store: its expiry was computed when it left. Small, to
\* keep the model finite (trace validation sets it from the run).
MaxWriteDelay == 1

\* Planned handovers (Failover.tla) take the lease over from a live holder, which was demoted
\* first: FALSE here; the cluster's trace validation overrides it.
Takeovers == FALSE


VARIABLES
    now,          \* true time, which is also the store's clock
    skew,         \* skew[n]: how far n's clock is ahead of true time
    record,       \* the lease record in the store (NoRecord when absent)
    belief,       \* belief[n]: local time until which n believes it holds the lease
    held,         \* held[n]: the token of the record n holds (NoToken once released or stale)
    inflight,     \* fenced writes sent and not yet delivered, as <<sender, token>>: the
                  \* sender is kept so DurablePromises can hold the write against the record
    lastAccepted, \* the token of the last write the resource accepted
    issuedMax,    \* history: the highest token ever issued in the behaviour (NoToken before
                  \* the first). It outlives a deleted record, so a restarted generation shows.
    stored        \* history: every record the store ever held

vars == <<now, skew, record, belief, held, inflight, lastAccepted, issuedMax, stored>>

\* The network of fenced writes: at most MaxInflight in flight (a bound of the model only), a
\* write in flight arrives. (Trace validation, which takes the writes a run logs as given,
\* overrides both.)
MaxInflight == 2
InFlightWrite(w) == w \in inflight

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
    /\ stored = {}

Tick ==
    /\ now < MaxTime
    /\ now' = now + 1
    /\ UNCHANGED <<skew, record, belief, held, inflight, lastAccepted, issuedMax, stored>>

\* The expiries a write from n may carry when it arrives now: a lease from when it left.
WriteExpiries(n) == (Local(n) + TTL - MaxWriteDelay)..(Local(n) + TTL)

\* The store takes n's acquisition under term t, expiring at e. The acquirer read the record
\* and writes conditionally on its version, so the guards hold on the record the write
\* replaces. Every acquisition issues a new generation, the same holder taking its own record
\* again included: writes stamped in an earlier tenure (a crashed incarnation's, a stalled
\* one's) must not pass for this one's. (Keeping the generation for the same holder was a real
\* bug: IssuedTokensIncrease found the token issued twice.)
AcquireWrite(n, t, e) ==
    LET gen == record.gen + 1   \* 1 when there is no record (NoRecord.gen = 0)
        new == [holder |-> n, term |-> t, gen |-> gen, expires |-> e]
    IN /\ ~Believes(n)
       /\ Canary = "NoTermFence" \/ record = NoRecord \/ t >= record.term
       /\ ~Live(record) \/ record.holder = n
       /\ gen <= MaxGen
       /\ e \in WriteExpiries(n)
       /\ record' = new
       /\ issuedMax' = MaxToken(issuedMax, TokenOf(new))
       /\ stored' = stored \cup {new}
       /\ UNCHANGED <<now, skew, belief, held, inflight, lastAccepted>>

\* An acquisition whose confirmation comes before anything else happens: AcquireWrite and
\* Acquired in one step. The implementation always takes the two apart; this one carries the
\* fairness the liveness check (ExpiredLeaseClaimable) relies on.
Acquire(n, t) ==
    LET gen == record.gen + 1
        new == [holder |-> n, term |-> t, gen |-> gen, expires |-> Local(n) + TTL]
    IN /\ ~Believes(n)
       /\ Canary = "NoTermFence" \/ record = NoRecord \/ t >= record.term
       /\ ~Live(record) \/ record.holder = n
       /\ gen <= MaxGen
       /\ record' = new
       /\ belief' = [belief EXCEPT ![n] = new.expires - M]
       /\ held' = [held EXCEPT ![n] = TokenOf(new)]
       /\ issuedMax' = MaxToken(issuedMax, TokenOf(new))
       /\ stored' = stored \cup {new}
       /\ UNCHANGED <<now, skew, inflight, lastAccepted>>

\* A planned handover's promoted target takes the lease over under its new term, live or not:
\* the coordinator demoted the old holder first (Failover.tla). Off here (Takeovers).
Takeover(n, t, e) ==
    LET new == [holder |-> n, term |-> t, gen |-> record.gen + 1, expires |-> e]
    IN /\ Takeovers /\ ~Believes(n)
       /\ record = NoRecord \/ t >= record.term
       /\ new.gen <= MaxGen
       /\ e \in WriteExpiries(n)
       /\ record' = new
       /\ issuedMax' = MaxToken(issuedMax, TokenOf(new))
       /\ stored' = stored \cup {new}
       /\ UNCHANGED <<now, skew, belief, held, inflight, lastAccepted>>

\* A record w the store held confirms n's acquisition (a confirming read found it, or the write's
\* answer said it applied), unless it was replaced while live: n believes until its expiry less
\* the margin. (Replaced after it expired, the belief it gives has lapsed already.)
Confirms(n, w) == w \in stored /\ w.holder = n /\ (record = w \/ ~Live(w))

Acquired(n, w) ==
    /\ Confirms(n, w)
    /\ belief' = [belief EXCEPT ![n] = w.expires - M]
    /\ held' = [held EXCEPT ![n] = TokenOf(w)]
    /\ UNCHANGED <<now, skew, record, inflight, lastAccepted, issuedMax, stored>>

\* An acquire whose write was lost although its caller saw a timeout: only a re-read tells.
AcquireAmbiguous(n, t) ==
    /\ ~Believes(n)
    /\ Canary = "NoConfirmRead"
    /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
    /\ held' = [held EXCEPT ![n] = <<t, 1>>]
    /\ UNCHANGED <<now, skew, record, inflight, lastAccepted, issuedMax, stored>>

\* The store takes a renewal of n's record under token tok, expiring at e: it succeeds only for
\* the current holder and generation (the version check). The client renews on a timer from the
\* record it holds, whether or not its belief has lapsed meanwhile (model::lease does): only
\* the version check stops a lapsed holder from taking the lease back after someone else
\* acquired it. Canary BlindRefresh writes over whatever is there. Canary
\* RenewWithoutHolderCheck: a renewal that finds the record lapsed takes it as its own again;
\* the store checks only that nobody's lease is live, not whose record it is, and keeps the
\* record's token (a renewal keeps the token): the token another node was issued now names the
\* renewer. Correctly a lapsed holder must acquire, which issues a new generation.
RenewLapsed(n, tok) ==
    /\ Canary = "RenewWithoutHolderCheck"
    /\ tok # NoToken /\ record # NoRecord /\ ~Live(record) /\ record.holder # n

RenewWrite(n, tok, e) ==
    LET kept == IF RenewLapsed(n, tok) THEN TokenOf(record) ELSE tok
    IN
    /\ \/ Canary = "BlindRefresh" /\ tok # NoToken
       \/ record.holder = n /\ TokenOf(record) = tok
       \/ RenewLapsed(n, tok)
    /\ e \in WriteExpiries(n)
    /\ record' = [holder |-> n, term |-> kept[1], gen |-> kept[2], expires |-> e]
    /\ issuedMax' = MaxToken(issuedMax, kept)
    /\ stored' = stored \cup {record'}
    /\ UNCHANGED <<now, skew, belief, held, inflight, lastAccepted>>

\* A renewal's answer (or read-back) confirms the renewed record w: the holder believes until
\* its expiry less the margin. The store's expiry runs from the request; canary ExpiryFromReply
\* believes from the answer, up to MaxReplyDelay later.
ReplyDelays == IF Canary = "ExpiryFromReply" THEN 0..MaxReplyDelay ELSE {0}

Renewed(n, w) ==
    /\ held[n] # NoToken /\ TokenOf(w) = held[n]
    /\ Confirms(n, w)
    /\ \E d \in ReplyDelays : belief' = [belief EXCEPT ![n] = w.expires - M + d]
    /\ UNCHANGED <<now, skew, record, held, inflight, lastAccepted, issuedMax, stored>>

\* A renewal answered Stale (its conditional write failed: the record moved on): the holder
\* stops believing at once and forgets the record. Canary RetryStaleRenewal re-reads the
\* version and writes its own record back over whatever is there: a lapsed holder takes the
\* lease back.
RenewStale(n) ==
    /\ held[n] # NoToken
    /\ IF Canary = "RetryStaleRenewal"
          THEN /\ ~(record.holder = n /\ TokenOf(record) = held[n])
               /\ record' = [holder |-> n, term |-> held[n][1], gen |-> held[n][2],
                             expires |-> Local(n) + TTL]
               /\ belief' = [belief EXCEPT ![n] = Local(n) + TTL - M]
               /\ issuedMax' = MaxToken(issuedMax, held[n])
               /\ stored' = stored \cup {record'}
               /\ UNCHANGED held
          ELSE /\ belief' = [belief EXCEPT ![n] = NoBelief]
               /\ held' = [held EXCEPT ![n] = NoToken]
               /\ UNCHANGED <<record, issuedMax, stored>>
    /\ UNCHANGED <<now, skew, inflight, lastAccepted>>

\* n gives the lease up: it stops believing and forgets the record, before the store hears of
\* it (ReleaseWrite), so belief never outlives the record. A client does the same when it
\* acquires again, when its renewal is fenced by a newer term, and when a renewal's read-back
\* finds something else.
Release(n) ==
    /\ held[n] # NoToken
    /\ belief' = [belief EXCEPT ![n] = NoBelief]
    /\ held' = [held EXCEPT ![n] = NoToken]
    /\ UNCHANGED <<now, skew, record, inflight, lastAccepted, issuedMax, stored>>

\* The store takes a release of n's record, which n no longer holds (Release came first): it
\* marks it expired (at e, no later than it was)
\* instead of deleting it, since a delete would let the next acquire restart the generation at
\* 1 and issue a token again. Canary ReleaseDeletesRecord deletes it.
ReleaseWrite(n, tok, e) ==
    /\ record.holder = n /\ TokenOf(record) = tok /\ held[n] # tok
    /\ e <= record.expires
    /\ record' = IF Canary = "ReleaseDeletesRecord" THEN NoRecord
                 ELSE [record EXCEPT !.expires = e]
    /\ stored' = IF record' = NoRecord THEN stored ELSE stored \cup {record'}
    /\ UNCHANGED <<now, skew, belief, held, inflight, lastAccepted, issuedMax>>

\* A belief runs out on the holder's own clock.
Expire(n) ==
    /\ belief[n] # NoBelief
    /\ ~Believes(n)
    /\ belief' = [belief EXCEPT ![n] = NoBelief]
    /\ UNCHANGED <<now, skew, record, held, inflight, lastAccepted, issuedMax, stored>>

\* A client crashes: what it believed and held is gone (the store keeps the record).
Crash(n) ==
    /\ belief' = [belief EXCEPT ![n] = NoBelief]
    /\ held' = [held EXCEPT ![n] = NoToken]
    /\ UNCHANGED <<now, skew, record, inflight, lastAccepted, issuedMax, stored>>

\* A write stamped with the held token, sent only while the lease is believed held. Canary
\* WriteAfterLapse stamps it with the held token although belief lapsed.
FencedWrite(n) ==
    /\ Believes(n) \/ (Canary = "WriteAfterLapse" /\ held[n] # NoToken)
    /\ Cardinality(inflight) < MaxInflight
    /\ inflight' = inflight \cup {<<n, held[n]>>}
    /\ UNCHANGED <<now, skew, record, belief, held, lastAccepted, issuedMax, stored>>

\* The protected resource takes a write only if its token is not below the last it accepted.
Deliver(w) ==
    /\ InFlightWrite(w)
    /\ inflight' = inflight \ {w}
    /\ lastAccepted' = IF Canary = "UncheckedResource" \/ LessEq(lastAccepted, w[2])
                       THEN w[2] ELSE lastAccepted
    /\ UNCHANGED <<now, skew, record, belief, held, issuedMax, stored>>

Next ==
    \/ Tick
    \/ \E n \in Nodes, t \in 1..MaxTerm :
          \/ Acquire(n, t) \/ AcquireAmbiguous(n, t)
          \/ \E e \in WriteExpiries(n) : AcquireWrite(n, t, e) \/ Takeover(n, t, e)
    \/ \E n \in Nodes, w \in stored : Acquired(n, w) \/ Renewed(n, w)
    \/ \E n \in Nodes : RenewStale(n) \/ Release(n) \/ Expire(n) \/ Crash(n) \/ FencedWrite(n)
    \/ \E n \in Nodes : \E e \in WriteExpiries(n) : RenewWrite(n, held[n], e)
    \/ \E n \in Nodes : ReleaseWrite(n, TokenOf(record), now)
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
\* the generation, so a record already at MaxGen is out of the model's reach and excluded. The
\* store takes a write (AcquireWrite) apart from its confirmation (Acquired), and time may pass
\* between them until the written record lapses unconfirmed; each such write bumps the
\* generation, so what the model promises is belief, or the generations used up by writes that
\* were never confirmed.
ExpiredLeaseClaimable ==
    [](record # NoRecord /\ ~Live(record) /\ record.gen < MaxGen
         => <>((\E n \in Nodes : Believes(n)) \/ record.gen = MaxGen))

TypeOK ==
    /\ now \in 0..MaxTime
    /\ record.gen \in 0..MaxGen
    /\ \A n \in Nodes : held[n] \in (0..MaxTerm) \X (0..MaxGen)
    /\ inflight \subseteq Nodes \X ((0..MaxTerm) \X (0..MaxGen))
    /\ issuedMax \in (0..MaxTerm) \X (0..MaxGen)

\* Implied by the guards on Tick, Acquire and FencedWrite, so the constraint itself prunes no
\* state (pruning would make liveness checking unsound); kept as TLC's explicit bound.
StateBound == now <= MaxTime /\ record.gen <= MaxGen /\ Cardinality(inflight) <= MaxInflight
\* TLC's VIEW for the cfgs where a lapsed belief can never come back (ReplyDelays is {0} and the
\* margin covers MaxSkew): a lapsed belief stays lapsed as time only grows, so which value it
\* holds decides nothing; and a stored record that expired can only confirm a lapsed belief, so
\* its expiry decides nothing either. States that differ only there have the same futures.
LapsedFree == <<now, skew, record,
                [n \in Nodes |-> IF Believes(n) THEN belief[n] ELSE NoBelief], held, inflight,
                lastAccepted, issuedMax,
                {IF Live(w) THEN w ELSE [w EXCEPT !.expires = 0] : w \in stored}>>
\* A smaller world for Lease.cfg's exhaustive run (a CONSTRAINT, so it only removes
\* behaviours): the store takes at most three writes in a behaviour (an acquisition and two
\* renewals or releases, or two acquisitions and one more). The history `stored` takes any
\* subset of the records written at any time, and is what makes the state space large.
\* Pruning cuts behaviours short, which would make a liveness check unsound, so the cfgs that
\* use it check safety only.
SmallRun == Cardinality(stored) <= 3
=============================================================================
