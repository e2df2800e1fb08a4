----------------------------- MODULE TraceLease -----------------------------
(***************************************************************************)
(* Trace validation of a run against Lease.tla (Cirstea, Kuppe, Loillier   *)
(* and Merz, 2024): the run's spec trace (`run --spec-trace FILE`, named   *)
(* by the environment variable TRACE) constrains the spec's behaviours.    *)
(* Each step starts with a Tick line, the store's clock and each node's    *)
(* (time is the environment's: the trace supplies `now` and `skew`), then  *)
(* the actions taken, with their arguments; the step's last line carries   *)
(* the mapped variables after it (record, held, belief, lastAccepted).     *)
(* Times are microseconds from the clocks' epoch. Fenced writes in flight  *)
(* are taken as given (MaxInflight and InFlightWrite are overridden).      *)
(***************************************************************************)
EXTENDS Lease, Json, IOUtils, Sequences, Naturals, Integers, TLC

\* The lease's lines of the run's spec trace; the first is a header naming the nodes.
Trace == SelectSeq(ndJsonDeserialize(IOEnv.TRACE), LAMBDA e : e.module = "Lease")
TraceNodes == 1..Trace[1].nodes
\* A write may travel up to 10 s; the cluster's handovers take live leases over.
TraceMaxWriteDelay == 10000000
TraceMaxInflight == 1000000000
TraceInFlightWrite(w) == TRUE
TraceTakeovers == TRUE

VARIABLE l  \* the line to take next

TraceInit ==
    /\ now = 0
    /\ skew = [n \in Nodes |-> 0]
    /\ record = NoRecord
    /\ belief = [n \in Nodes |-> NoBelief]
    /\ held = [n \in Nodes |-> NoToken]
    /\ inflight = {}
    /\ lastAccepted = NoToken
    /\ issuedMax = NoToken
    /\ stored = {}
    /\ l = 2

\* Time passes and clocks drift: the store's clock and each node's, as the run read them.
TraceTick(e) ==
    /\ now' = e.now
    /\ skew' = [n \in Nodes |-> e.local[n] - e.now]
    /\ UNCHANGED <<record, belief, held, inflight, lastAccepted, issuedMax, stored>>

\* The spec action a line names, with its arguments.
Take(e) ==
    CASE e.action = "Tick" -> TraceTick(e)
      [] e.action = "AcquireWrite" -> AcquireWrite(e.n, e.t, e.e)
      [] e.action = "Takeover" -> Takeover(e.n, e.t, e.e)
      [] e.action = "Acquired" -> Acquired(e.n, e.w)
      [] e.action = "RenewWrite" -> RenewWrite(e.n, e.tok, e.e)
      [] e.action = "Renewed" -> Renewed(e.n, e.w)
      [] e.action = "RenewStale" -> RenewStale(e.n)
      [] e.action = "Release" -> Release(e.n)
      [] e.action = "ReleaseWrite" -> ReleaseWrite(e.n, e.tok, e.e)
      [] e.action = "Crash" -> Crash(e.n)
      [] e.action = "FencedWrite" -> FencedWrite(e.n) /\ e.token = held[e.n]
      [] e.action = "Deliver" -> Deliver(<<e.from, e.w>>)

\* The mapped variables after the step are the logged ones.
Matches(s) ==
    /\ record' = s.record
    /\ \A n \in Nodes : held'[n] = s.held[n] /\ belief'[n] = s.belief[n]
    /\ lastAccepted' = s.lastAccepted

TraceNext ==
    /\ l <= Len(Trace)
    /\ Take(Trace[l])
    /\ "state" \in DOMAIN Trace[l] => Matches(Trace[l].state)
    /\ l' = l + 1

\* Checked once TLC is done: some behaviour took every line.
TraceAccepted ==
    LET d == TLCGet("stats").diameter
    IN IF d = Len(Trace) THEN TRUE
       ELSE Print(<<"The spec allows no step for line", d + 1, "of the lease's trace",
                    Trace[d + 1]>>, FALSE)
=============================================================================
