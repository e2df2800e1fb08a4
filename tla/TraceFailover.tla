---------------------------- MODULE TraceFailover ----------------------------
(***************************************************************************)
(* Trace validation of a `cluster` run's handovers against Failover.tla    *)
(* (Cirstea, Kuppe, Loillier and Merz, 2024): the run's spec trace (`run   *)
(* --spec-trace FILE`, named by the environment variable TRACE) constrains *)
(* the spec's behaviours. Each step starts with an Env line: which members *)
(* are primary (the replica set's and the lease's actions change that:     *)
(* TraceReplication and TraceLease validate them). Then the coordinator's  *)
(* and the members' handover actions, with their arguments; the step's     *)
(* last line carries `ho` and `frozen` after it. The logs, terms and the   *)
(* lease are not mapped here; requests and answers are taken as given.     *)
(* `frozenFor` is not logged: the spec computes it from the Freeze steps.  *)
(***************************************************************************)
EXTENDS Failover, Json, IOUtils, Sequences, Naturals, TLC

\* The handovers' lines of the run's spec trace; the first is a header naming the members.
Trace == SelectSeq(ndJsonDeserialize(IOEnv.TRACE), LAMBDA e : e.module = "Failover")
TraceNodes == 1..Trace[1].nodes
TraceMaxHandovers == 1000000
TraceRequested(r) == TRUE
TraceAnswered(a) == TRUE
TraceAsk(r) == UNCHANGED requests
TraceAnswer(a) == UNCHANGED answers

VARIABLE l  \* the line to take next

TraceInit == Init /\ l = 2

\* Who is primary: the replica set's and the lease's doing (the environment here).
TraceEnv(e) ==
    /\ primary' = [n \in Nodes |-> e.primary[n]]
    /\ UNCHANGED <<log, term, frozen, frozenFor, everLed, lease, acked, ho, handovers,
                   inflight, lastAccepted, durableLog, requests, answers>>

Request(type, to, e) == [type |-> type, to |-> to, id |-> e.id]
Reply(type, e) == [type |-> type, from |-> e.from, id |-> e.id]

\* The spec action a line names, with its arguments.
Take(e) ==
    CASE e.action = "Env" -> TraceEnv(e)
      [] e.action = "StartHandover" -> StartHandover(e.p, e.q, e.mode) /\ ho'.id = e.id
      [] e.action = "Freeze" -> Freeze(e.p, Request("Freeze", e.p, e))
      [] e.action = "RefuseFreeze" -> RefuseFreeze(e.p, Request("Freeze", e.p, e))
      [] e.action = "CatchUp" ->
            CatchUp(Reply("Frontier", e) @@
                    [term |-> e.term, frontier |-> e.frontier, frontierTerm |-> e.frontierTerm])
      [] e.action = "NotPrimary" -> NotPrimary(Reply("NotPrimary", e))
      [] e.action = "AnswerProgress" -> AnswerProgress(e.q, Request("QueryProgress", e.q, e))
      [] e.action = "Progress" ->
            Progress(Reply("Progress", e) @@ [index |-> e.index, last |-> e.last])
      [] e.action = "Demote" -> Demote
      [] e.action = "Resume" -> Resume
      [] e.action = "Unfreeze" -> Unfreeze(e.p, Request("Resume", e.p, e))
      [] e.action = "Resumed" -> Resumed(Reply("Resumed", e))
      [] e.action = "DemoteMember" ->
            DemoteMember(e.p, Request("Demote", e.p, e) @@ [term |-> e.term])
      \* A promotion sent without a demotion's answer (canary PromoteBeforeDemoted) is no
      \* step of the spec.
      [] e.action = "Promote" ->
            e.answered /\ Promote(Reply("Demoted", e) @@ [committed |-> e.committed])
      [] e.action = "RefuseForce" ->
            RefuseForce(Reply("Demoted", e) @@ [committed |-> e.committed])
      [] e.action = "Overtaken" -> Overtaken(Reply("Demoted", e) @@ [committed |-> NoCommit])
      [] e.action = "TakeOver" -> TakeOver(e.q, Request("Promote", e.q, e) @@ [term |-> e.term])
      [] e.action = "HandedOver" ->
            /\ HandedOver(Reply("Promoted", e) @@ [term |-> e.term, ledFrom |-> e.ledFrom])
            /\ e.reported = Skipped(e.ledFrom)
      [] e.action = "GiveUp" ->
            /\ GiveUp
            /\ ho.phase = "Promoting" => e.reported = Skipped(ho.reached)
      [] e.action = "FreezeExpired" -> FreezeExpired(e.p)
      [] e.action = "CoordinatorCrash" -> CoordinatorCrash
      [] e.action = "Expire" -> Expire(e.n)
      [] e.action = "ClientWrite" -> ClientWrite(e.n)
      [] e.action = "FencedWrite" -> FencedWrite(e.n)

\* `ho` and `frozen` after the step are the logged ones (the trace shows an idle coordinator's
\* phase only, and a resuming one's plan only).
Matches(s) ==
    /\ ho'.phase = s.ho.phase
    /\ s.ho.phase # "Idle" =>
          /\ ho'.id = s.ho.id /\ ho'.from = s.ho.from /\ ho'.to = s.ho.to
          /\ ho'.mode = s.ho.mode
    /\ s.ho.phase \in {"CatchUp", "Demoting", "Promoting"} =>
          /\ ho'.term = s.ho.term /\ ho'.frontier = s.ho.frontier
          /\ ho'.frontierTerm = s.ho.frontierTerm /\ ho'.reached = s.ho.reached
    /\ \A n \in Nodes : frozen'[n] = s.frozen[n]

TraceNext ==
    /\ l <= Len(Trace)
    /\ Take(Trace[l])
    /\ "state" \in DOMAIN Trace[l] => Matches(Trace[l].state)
    /\ l' = l + 1

\* Checked once TLC is done: some behaviour took every line.
TraceAccepted ==
    LET d == TLCGet("stats").diameter
    IN IF d = Len(Trace) THEN TRUE
       ELSE Print(<<"The spec allows no step for line", d + 1, "of the handovers' trace",
                    Trace[d + 1]>>, FALSE)
=============================================================================
