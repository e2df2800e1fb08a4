--------------------------- MODULE TraceReplication ---------------------------
(***************************************************************************)
(* Trace validation of a run against Replication.tla (the method of        *)
(* Cirstea, Kuppe, Loillier and Merz, 2024): the run's spec trace          *)
(* (`run --spec-trace FILE`, the file named by the environment variable    *)
(* TRACE) constrains the spec's behaviours. Each line names the action a   *)
(* node took, with its arguments; TraceNext takes exactly that action of   *)
(* the spec, and where the line carries the state after its step, the      *)
(* mapped variables must equal it. Unlogged variables (votes, heldGrants,  *)
(* matched of a non-leader, the history) are what the spec's actions make *)
(* of them. The network is taken as given: msgs is not mapped, a logged    *)
(* message arrives (InFlight and Send are overridden), so a received       *)
(* message's fields are checked only by the guards that read them.        *)
(* TLC finds a behaviour that matches the whole trace, or the postcondition *)
(* names the line where none does.                                         *)
(***************************************************************************)
EXTENDS Replication, Json, IOUtils, Sequences, Naturals, TLC

\* The replica set's lines of the run's spec trace; the first is a header naming the nodes.
Trace == SelectSeq(ndJsonDeserialize(IOEnv.TRACE), LAMBDA e : e.module = "Replication")
TraceNodes == 1..Trace[1].nodes
\* The cluster composes this spec with Failover.tla's handovers (TraceReplication_Cluster.cfg).
TraceTransfers == TRUE

VARIABLE l  \* the line to take next

TraceInFlight(m) == TRUE
TraceSend(m) == UNCHANGED msgs

\* A logged log: the terms above the floor, the floor and its entry's term.
LogIs(s, n, field, floorField, floorTermField) ==
    LET spec == IF field = "log" THEN log' ELSE durableLog'
        floor == s[floorField][n]
        kept == s[field][n]
    IN /\ Len(spec[n]) = floor + Len(kept)
       /\ \A i \in 1..Len(kept) : spec[n][floor + i] = kept[i]
       /\ floor > 0 => spec[n][floor] = s[floorTermField][n]

\* A record as the trace shows it (a reset's base is left out).
Shape(r) == [r EXCEPT !.base = <<>>]

\* The mapped variables after the step are the logged ones.
Matches(s) ==
    \A n \in Nodes :
        /\ role'[n] = s.role[n]
        /\ currentTerm'[n] = s.currentTerm[n]
        /\ votedFor'[n] = s.votedFor[n]
        /\ leader'[n] = s.leader[n]
        /\ logFloor'[n] = s.floor[n]
        /\ LogIs(s, n, "log", "floor", "floorTerm")
        /\ commitIndex'[n] = s.commitIndex[n]
        /\ [i \in DOMAIN unsynced'[n] |-> Shape(unsynced'[n][i])] = s.unsynced[n]
        /\ durableFloor'[n] = s.durableFloor[n]
        /\ LogIs(s, n, "durableLog", "durableFloor", "durableFloorTerm")
        /\ durableVote'[n] = s.durableVote[n]
        /\ role'[n] = "Leader" => \A k \in Nodes : matched'[n][k] = s.matched[n][k]
        /\ outstanding'[n] = {s.outstanding[n][i] : i \in DOMAIN s.outstanding[n]}
        /\ nextRequest'[n] = s.nextRequest[n]
        /\ restarts'[n] = s.restarts[n]

\* The messages an action receives, from the line's fields.
HeartbeatOf(e) == [type |-> "Heartbeat", from |-> e.from, term |-> e.term,
                 tailIndex |-> e.tailIndex, tailTerm |-> e.tailTerm, commit |-> e.commit]
Entries(e, type) == [type |-> type, from |-> e.from, to |-> e.n, term |-> e.term, id |-> e.id,
                     prev |-> e.prev, prevTerm |-> e.prevTerm, entries |-> e.entries,
                     commit |-> e.commit]
\* The leader's prefix a BadRange ships: the spec keeps trimmed entries; the trace knows only
\* the floor's term (entries below the floor are out of scope).
Base(n, floor, floorTerm) ==
    [i \in 1..floor |-> IF i < floor /\ i <= Len(log[n]) THEN log[n][i] ELSE floorTerm]

\* The spec action a line names, with its arguments.
Take(e) ==
    CASE e.action = "UpdateTerm" -> UpdateTerm(e.n, e.t)
      [] e.action = "Timeout" -> Timeout(e.n)
      [] e.action = "StepDown" -> StepDown(e.n)
      [] e.action = "Stand" -> Stand(e.n)
      [] e.action = "StandTransfer" -> StandTransfer(e.n, e.t)
      [] e.action = "RequestVotes" -> RequestVotes(e.n, e.transfer)
      [] e.action = "GrantVote" ->
            GrantVote(e.n, [type |-> "RequestVote", from |-> e.from, term |-> e.term,
                            lastIndex |-> e.lastIndex, lastTerm |-> e.lastTerm,
                            transfer |-> e.transfer])
      [] e.action = "SendGrant" -> SendGrant(e.n, e.c, e.t)
      [] e.action = "ReceiveGrant" ->
            ReceiveGrant(e.n, [type |-> "VoteGranted", from |-> e.from, to |-> e.n,
                               term |-> e.term])
      [] e.action = "BecomeLeader" -> BecomeLeader(e.n)
      [] e.action = "Heartbeat" -> Heartbeat(e.n)
      [] e.action = "Follow" -> Follow(e.n, HeartbeatOf(e))
      [] e.action = "LeadersMeet" -> LeadersMeet(e.n, HeartbeatOf(e))
      [] e.action = "FollowPromoted" -> FollowPromoted(e.n, e.q)
      [] e.action = "ClientWrite" -> ClientWrite(e.n)
      [] e.action = "Persisted" -> Persisted(e.n, e.k)
      [] e.action = "ReportProgress" -> ReportProgress(e.n)
      [] e.action = "CountAppended" ->
            CountAppended(e.n, [type |-> "AppendAck", from |-> e.from, to |-> e.n,
                                term |-> e.term, index |-> e.index, last |-> e.last])
      [] e.action = "AdvanceCommit" -> AdvanceCommit(e.n, e.i)
      [] e.action = "AckWrite" -> AckWrite(e.n, e.i)
      [] e.action = "Trim" -> Trim(e.n, e.i)
      [] e.action = "Crash" -> Crash(e.n)
      [] e.action = "Push" -> Push(e.n, e.to, e.p)
      [] e.action = "ReceiveAppend" -> ReceiveAppend(e.n, Entries(e, "Append"), e.apply)
      [] e.action = "RequestSync" -> RequestSync(e.n, e.since)
      [] e.action = "ForgetRequest" -> ForgetRequest(e.n, e.id)
      [] e.action = "AnswerSync" ->
            AnswerSync(e.n, [type |-> "SyncRequest", from |-> e.from, to |-> e.n,
                             term |-> e.term, id |-> e.id, since |-> e.since, index |-> 0,
                             last |-> 0])
      [] e.action = "ReceiveSyncResponse" ->
            ReceiveSyncResponse(e.n, Entries(e, "SyncResponse"))
      [] e.action = "ReceiveBadRange" ->
            ReceiveBadRange(e.n, [type |-> "BadRange", from |-> e.from, to |-> e.n,
                                  term |-> e.term, id |-> e.id, since |-> e.since,
                                  floor |-> e.floor, base |-> Base(e.n, e.floor, e.floorTerm)])

TraceInit == Init /\ l = 2

TraceNext ==
    /\ l <= Len(Trace)
    /\ Take(Trace[l])
    /\ "state" \in DOMAIN Trace[l] => Matches(Trace[l].state)
    /\ l' = l + 1

\* Checked once TLC is done: some behaviour took every line.
TraceAccepted ==
    LET d == TLCGet("stats").diameter
    IN IF d = Len(Trace) THEN TRUE
       ELSE Print(<<"The spec allows no step for line", d + 1, "of the replica set's trace",
                    Trace[d + 1]>>, FALSE)
=============================================================================
