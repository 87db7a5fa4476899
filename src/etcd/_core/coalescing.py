"""Coalescing: concurrent reads of one key, or concurrent small writes, sent as one
transaction (pure, no I/O).

A client built with ``coalesce=True`` keeps at most two requests in flight per *lane*
(linearizable reads, serializable reads, writes). Calls that arrive while both are out wait
in the lane's queue; when one returns, the queue leaves as one ``Txn`` whose ``Then`` holds
every waiting operation, up to the server's limits. A call that finds room is sent as
itself, so a quiet client pays nothing. (Two, not one: with a single request in flight,
two callers would take turns instead of overlapping; more than two measured no faster.)
When more calls are under way in the lane than can be on the wire, a call that finds room
first lets the other callers run once and takes along those that queued meanwhile: the
callers of a batch just answered make their next calls together, and the first of them
would otherwise leave alone with the rest a whole round trip behind it.

Why every call keeps its own meaning:

* Linearizability: the transaction is applied at one point between the moment each of its
  calls began and the moment any of them returns, which is all a linearizable call promises.
  A read in the batch answers as of the transaction's revision, as it would alone.
* Writes in one batch share one revision (a transaction takes one); their keys are always
  distinct, because etcd refuses a transaction that writes one key twice.
* Errors stay each call's own: when the transaction as a whole is refused (a lease that
  does not exist, a key the user may not write, a compacted revision), nothing was applied,
  and every call is sent again alone to get its own answer. When the outcome is unknown
  (the deadline passed after sending), each write reports exactly that; reads are simply
  sent again alone.
* Deadlines: a batch is sent with the earliest deadline of its calls, so nobody waits past
  their own.

This module holds the queues and the bookkeeping; the shells (``_async_coalescer.py`` and
the sync twin generated from it) wait, send and wake.
"""

from __future__ import annotations

import collections
import enum
import math
from typing import Any, Final, Protocol

from .._wire import messages as pb
from . import exceptions as exc
from .error_mapping import operation_name
from .kv import Op, PutOp, RangeOp

#: Operations bigger than this (key and value) are sent alone: coalescing is for small
#: calls, where the cost of a round trip dominates.
SMALL_OP_BYTES: Final = 16 * 1024
#: Requests of one lane on the wire at once.
IN_FLIGHT: Final = 2
#: With ``coalesce="auto"``, the most calls of a lane at once (sent, waiting or being
#: answered) that are all sent as themselves. Up to about this many, plain calls overlap
#: well enough that a call waiting for a batch loses more than batching saves; past it,
#: the lane coalesces as ``coalesce=True`` does.
AUTO_ALONE_UP_TO: Final = 8
#: Bytes reserved in a batch request for what surrounds each operation on the wire.
_OP_OVERHEAD_BYTES: Final = 32


class Lane(enum.Enum):
    """The queues: a batch holds only one kind of operation."""

    READS = "reads"
    SERIALIZABLE_READS = "serializable reads"
    WRITES = "writes"

    # Every coalescing client's read looks its lane up: Enum hashes in Python, by name;
    # a member is one object, so its identity serves and hashes in C.
    __hash__ = object.__hash__


def lane_of(op: Op) -> Lane | None:
    """The lane ``op`` can be coalesced in, or ``None`` when it is always sent alone."""
    if type(op) is PutOp and len(op.key) + len(op.value) <= SMALL_OP_BYTES:
        return Lane.WRITES
    return read_lane_of(op)


def read_lane_of(op: Op) -> Lane | None:
    """:func:`lane_of` for a client that coalesces only reads (``coalesce="reads"``)."""
    # Not a scan (range_end set): it may be large or slow, and in a lane the reads of
    # single keys would wait behind it.
    if type(op) is RangeOp and not op.range_end:
        return Lane.SERIALIZABLE_READS if op.serializable else Lane.READS
    return None


class Signal(Protocol):
    """What wakes a waiting call (an asyncio or a threading event)."""

    def set(self) -> None: ...


class State(enum.Enum):
    QUEUED = "queued"
    LEADING = "leading"  # this call's task or thread sends ``batch``
    SENT = "sent"  # in a batch on the wire
    ALONE = "alone"  # the batch was refused as a whole: send this call by itself
    DONE = "done"  # ``result`` or ``error`` is set


class Pending:
    """One call waiting in a lane."""

    __slots__ = ("batch", "deadline", "error", "op", "request", "result", "signal", "state")

    def __init__(self, op: Op, request: Any, deadline: float | None, signal: Signal) -> None:
        self.op = op
        self.request = request
        self.deadline = deadline
        self.signal = signal
        self.state = State.QUEUED
        self.batch: list[Pending] = []
        self.result: Any = None
        self.error: BaseException | None = None

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.state = result, error, State.DONE

    def outcome(self) -> Any:
        """The call's typed result, or its error raised."""
        if self.error is not None:
            raise self.error
        return self.result


class Queue:
    """One lane's waiting calls, and whether a request of the lane is in flight."""

    def __init__(self, lane: Lane, *, max_ops: int, max_bytes: int, adaptive: bool = False) -> None:
        self.lane = lane
        self.max_ops = max_ops
        self.max_bytes = max_bytes
        self.waiting: collections.deque[Pending] = collections.deque()
        self.in_flight = 0
        #: With ``adaptive``, calls are sent as themselves while the lane holds at most
        #: ``AUTO_ALONE_UP_TO`` calls (:meth:`enter` and :meth:`exit` count them).
        self.adaptive = adaptive
        self.calls = 0
        # The latest deadline of the calls that entered while the lane was in use
        # (infinite once one had none).
        self._latest_deadline = -math.inf

    def enter(self, deadline: float | None) -> bool:
        """A call of this lane begins (the count that ``adaptive`` follows); whether,
        should it wait for its turn, it needs a timer of its own to keep ``deadline``.

        A waiting call is woken when a request of its lane returns, and each request ends
        by its deadline, which is the earliest of its calls'. Reads leave in the order
        they arrived, so a read whose deadline is no earlier than that of any call before
        it is woken in time without a timer; with one deadline for every call, that is
        every read. Writes can be passed by later calls (two writes of one key never
        share a batch): they keep their timer.
        """
        self.calls += 1
        latest = self._latest_deadline
        self._latest_deadline = math.inf if deadline is None else max(latest, deadline)
        return deadline is not None and (self.lane is Lane.WRITES or deadline < latest)

    def enter_alone(self) -> bool:
        """With ``adaptive``, a call that finds fewer than ``AUTO_ALONE_UP_TO`` calls under
        way and none waiting begins here, is sent as itself and ends with :meth:`exit`
        (``True``). It stays outside the lane's requests in flight: nobody waits behind
        it, so it has no turn to take or hand on, and a quiet lane costs a call no more
        than a counter. Otherwise nothing is counted (``False``): the call begins with
        :meth:`enter`."""
        if self.adaptive and self.calls < AUTO_ALONE_UP_TO and not self.waiting:
            self.calls += 1
            return True
        return False

    def exit(self) -> None:
        """A call of this lane has its answer or its error."""
        self.calls -= 1
        if not self.calls and not self.in_flight:
            self._latest_deadline = -math.inf

    def _has_room(self) -> bool:
        if self.in_flight < IN_FLIGHT:
            return True
        return self.adaptive and self.calls <= AUTO_ALONE_UP_TO

    def take_room(self) -> bool:
        """Count one more request in flight if the lane has room and nobody waits."""
        if self.waiting or not self._has_room():
            return False
        self.in_flight += 1
        return True

    def arrive(self, pending: Pending) -> bool:
        """Queue ``pending``; ``True`` when the lane has room in flight and it must lead."""
        if not self._has_room():
            self.waiting.append(pending)
            return False
        self.in_flight += 1
        self.lead(pending)
        return True

    def leave(self, pending: Pending) -> bool:
        """Take ``pending`` out of the queue (its caller gave up); whether it was there."""
        if pending.state is not State.QUEUED:
            return False
        self.waiting.remove(pending)
        pending.state = State.DONE
        return True

    def should_gather(self) -> bool:
        """Whether a call that found room should first let the calls about to arrive
        queue behind it, and take them along: more calls are under way in the lane than
        can be on the wire at once, so some would otherwise wait a whole round trip."""
        return self.calls > (AUTO_ALONE_UP_TO if self.adaptive else IN_FLIGHT)

    def lead(self, pending: Pending) -> None:
        """``pending`` took room in flight (:meth:`take_room`) and leads a batch of its own."""
        pending.state = State.LEADING
        pending.batch = [pending]

    def gather(self, leader: Pending, now: float) -> list[Pending]:
        """Add the queued calls that fit to ``leader``'s batch; the queued calls whose
        deadline has passed (taken out, to be failed)."""
        expired, batch = self._fill([leader], now)
        _hand_to_leader(batch)
        return expired

    def hand_off(self, now: float) -> tuple[Pending | None, list[Pending]]:
        """After a batch: the leader of the next one (or ``None``: the lane is idle), and
        the queued calls whose deadline has passed (taken out, to be failed)."""
        if not self.waiting:  # the usual case below two calls in flight
            self.in_flight -= 1
            return None, []
        expired, batch = self._fill([], now)
        if not batch:
            self.in_flight -= 1
            return None, expired
        _hand_to_leader(batch)
        return batch[0], expired

    def _fill(self, batch: list[Pending], now: float) -> tuple[list[Pending], list[Pending]]:
        """``batch`` with the queued calls that fit added, and the expired ones."""
        expired: list[Pending] = []
        writes = self.lane is Lane.WRITES
        keys: set[bytes] = {p.op.key for p in batch} if writes else set()  # type: ignore[attr-defined]
        size = sum(_size(p.op) for p in batch)
        skipped: list[Pending] = []
        while self.waiting and len(batch) < self.max_ops:
            pending = self.waiting.popleft()
            if pending.deadline is not None and pending.deadline <= now:
                pending.state = State.DONE
                expired.append(pending)
                continue
            cost = _size(pending.op)
            if batch and size + cost > self.max_bytes:
                self.waiting.appendleft(pending)
                break
            if writes:
                key = pending.op.key  # type: ignore[attr-defined]
                if key in keys:
                    skipped.append(pending)  # the next batch writes it
                    continue
                keys.add(key)
            batch.append(pending)
            size += cost
        self.waiting.extendleft(reversed(skipped))
        return expired, batch


def _hand_to_leader(batch: list[Pending]) -> None:
    """The first call of ``batch`` sends it; the others wait for their answers."""
    leader = batch[0]
    leader.state = State.LEADING
    leader.batch = batch
    for member in batch[1:]:
        member.state = State.SENT


def _size(op: Op) -> int:
    size = len(op.key) + _OP_OVERHEAD_BYTES  # type: ignore[attr-defined]
    if type(op) is PutOp:
        size += len(op.value)
    return size


def earliest_deadline(batch: list[Pending]) -> float | None:
    deadlines = [p.deadline for p in batch if p.deadline is not None]
    return min(deadlines) if deadlines else None


def batch_request(batch: list[Pending]) -> Any:
    """The transaction that carries every call of ``batch``."""
    if type(batch[0].op) is PutOp:
        success = [pb.RequestOp(request_put=p.request) for p in batch]
    else:
        success = [pb.RequestOp(request_range=p.request) for p in batch]
    return pb.TxnRequest(success=success)


def distribute(batch: list[Pending], response: Any) -> None:
    """Give each call of ``batch`` its own typed answer from the transaction's."""
    header = response.header
    for pending, answer in zip(batch, response.responses, strict=True):
        inner = answer.response_put if type(pending.op) is PutOp else answer.response_range
        # Inner answers carry no header: each one's is the transaction's (same revision).
        inner.header.CopyFrom(header)
        pending.finish(result=pending.op.decode(inner))


def refused(batch: list[Pending], error: exc.EtcdException) -> None:
    """The batch failed as a whole: writes whose outcome is unknown report it, every other
    call is sent again by itself (nothing was applied, or it only reads)."""
    for pending in batch:
        if pending.op.is_mutation and error.outcome_unknown:
            pending.finish(error=error)
        else:
            pending.state = State.ALONE


def timed_out(pending: Pending, endpoint: str, *, sent: bool) -> exc.EtcdTimeout:
    """The error of a call whose deadline passed while it waited for its batch."""
    operation = operation_name(pending.op.method)
    where = "in a batch on the wire" if sent else "waiting for its turn"
    return exc.EtcdTimeout(
        f"{operation} on {endpoint} timed out {where}",
        operation=operation,
        endpoint=endpoint,
        code="DEADLINE_EXCEEDED",
        outcome_unknown=sent and pending.op.is_mutation,
    )
