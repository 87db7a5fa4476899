"""Sends coalesced calls (see :mod:`etcd._core.coalescing` for the rules): the caller that finds
its lane idle sends, the others wait to be woken with their answer or to lead the next
batch. Nothing runs in the background: the callers take turns."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .. import _core
from .._core import exceptions as exc
from .._core.coalescing import (
    Lane,
    Pending,
    Queue,
    State,
    batch_request,
    distribute,
    earliest_deadline,
    lane_of,
    read_lane_of,
    refused,
    timed_out,
)
from .._core.deadline import deadline_after, time_left
from .._core.kv import Op
from .._core.log_fields import log_fields
from .._wire import methods
from .io import Flag, Lock, is_running, run_shielded, sleep, spawn
from .transport import AsyncTransport

log = logging.getLogger("etcd.coalescing")


class AsyncCoalescer:
    def __init__(
        self,
        transport: AsyncTransport,
        *,
        max_ops: int,
        max_bytes: int,
        adaptive: bool = False,
        writes: bool = True,
    ) -> None:
        self._transport = transport
        self._lock = Lock()
        #: The lane an operation goes in, or ``None`` when it is always sent alone (here so
        #: that the client need not import the coalescing module when it does not
        #: coalesce).
        self.lane_of: Callable[[Op], Lane | None] = lane_of if writes else read_lane_of
        self._queues = {
            lane: Queue(lane, max_ops=max_ops, max_bytes=max_bytes, adaptive=adaptive)
            for lane in Lane
            if writes or lane is not Lane.WRITES
        }
        # Batches whose leader was cancelled, still being sent in the background.
        # asyncio: held here until they end, as the event loop keeps only a weak reference
        # to a task.
        self._orphans: set[Any] = set()

    def enter_alone(self, lane: Lane) -> bool:
        """Whether a call of ``lane`` is sent as itself, the lane being quiet (``adaptive``).

        If so, the caller sends it like any plain call and then calls :meth:`exit_alone`:
        the lane only counts it. Otherwise the call goes through :meth:`call`.
        """
        queue = self._queues[lane]
        with self._lock:
            return queue.enter_alone()

    def exit_alone(self, lane: Lane) -> None:
        """A call that :meth:`enter_alone` let go as itself has its answer or its error."""
        queue = self._queues[lane]
        with self._lock:
            queue.exit()

    async def call(self, lane: Lane, op: Op, request: Any, timeout: float | None) -> Any:
        """Run ``op`` (its ``request`` already built and checked), with others if any wait.

        For a call that :meth:`enter_alone` did not let go as itself.
        """
        queue = self._queues[lane]
        deadline = deadline_after(timeout)
        with self._lock:
            own_timer = queue.enter(deadline)
            room = queue.take_room()
            gather = room and queue.should_gather()
        try:
            if gather:
                return await self._gather_and_lead(queue, op, request, deadline)
            if room:
                # The lane had room: sent as itself, like any call, and cancelling it
                # concerns no one else; the lane passes on when it returns, whatever
                # happened.
                try:
                    return await self._send_one(op, request, time_left(deadline))
                finally:
                    self._pass_on(queue)
            return await self._call_in_turn(queue, op, request, deadline, own_timer)
        finally:
            with self._lock:
                queue.exit()

    async def _call_in_turn(
        self, queue: Queue, op: Op, request: Any, deadline: float | None, own_timer: bool
    ) -> Any:
        """Wait for the lane, then lead a batch, or get the answer a leader sent for us."""
        woken = Flag()
        pending = Pending(op, request, deadline, woken)
        with self._lock:
            leading = queue.arrive(pending)
        if not leading:
            await self._wait_for_turn(queue, pending, woken, own_timer)
        return await self._answer(queue, pending)

    async def _gather_and_lead(
        self, queue: Queue, op: Op, request: Any, deadline: float | None
    ) -> Any:
        """Lead a batch from the room this call found, with the calls that queue behind
        it while it lets the others run once: when a batch has just been answered, its
        callers make their next calls at once, and without this pause the first of them
        would take the room alone and the rest would wait a whole round trip behind it."""
        pending = Pending(op, request, deadline, Flag())
        with self._lock:
            queue.lead(pending)
        try:
            await sleep(0)
        except BaseException:
            self._pass_on(queue)  # nothing gathered yet: only the room is given back
            raise
        with self._lock:
            expired = queue.gather(pending, time.monotonic())
        self._fail_expired(expired)
        return await self._answer(queue, pending)

    async def _answer(self, queue: Queue, pending: Pending) -> Any:
        """The outcome of ``pending``, sending its batch first if it leads one."""
        if pending.state is State.LEADING:
            await run_shielded(self._lead, queue, pending.batch)
        if pending.state is State.ALONE:
            return await self._send_alone(pending)
        return pending.outcome()

    async def _wait_for_turn(
        self, queue: Queue, pending: Pending, woken: Flag, own_timer: bool
    ) -> None:
        # Without a timer of its own, the end of a request sent before it wakes the call
        # by its deadline (Queue.enter): a timer per waiting call is a tenth of the
        # client's work when most calls wait.
        remaining = time_left(pending.deadline) if own_timer else None
        try:
            in_time = await woken.wait(remaining)
        except BaseException:
            # Cancelled (or interrupted): leave the queue, or hand a batch this call was
            # about to lead to someone who will send it.
            with self._lock:
                queue.leave(pending)
                leading = pending.state is State.LEADING
            if leading:
                worker = spawn(self._lead, queue, pending.batch, name="etcd-coalesced-batch")
                with self._lock:
                    self._orphans = {w for w in self._orphans if is_running(w)} | {worker}
            raise
        if in_time:
            return
        with self._lock:
            if queue.leave(pending):
                raise timed_out(pending, str(self._transport.current_endpoint), sent=False)
            if pending.state is not State.SENT:
                return  # woken just now: to lead, or with the answer
        raise timed_out(pending, str(self._transport.current_endpoint), sent=True)

    async def _lead(self, queue: Queue, batch: list[Pending]) -> None:
        """Send ``batch``, settle every call in it, then pass the lane on."""
        try:
            await self._send(batch)
        except BaseException as error:
            # Never leave a caller waiting, whatever happened.
            failure = exc.EtcdException(f"a coalesced call failed unexpectedly: {error!r}")
            failure.__cause__ = error
            for pending in batch:
                if pending.state is not State.DONE:
                    pending.finish(error=failure)
            if not isinstance(error, Exception):
                raise
            log.exception(
                "a coalesced batch failed unexpectedly", extra=log_fields(count=len(batch))
            )
        finally:
            for pending in batch:
                pending.signal.set()
            self._pass_on(queue)

    def _pass_on(self, queue: Queue) -> None:
        """A request of ``queue``'s lane returned: wake the leader of the next batch, and
        fail the waiting calls whose deadline passed."""
        with self._lock:
            leader, expired = queue.hand_off(time.monotonic())
        self._fail_expired(expired)
        if leader is not None:
            leader.signal.set()

    def _fail_expired(self, expired: list[Pending]) -> None:
        """Wake the queued calls whose deadline passed, with their timeout."""
        if expired:
            endpoint = str(self._transport.current_endpoint)
            for pending in expired:
                pending.finish(error=timed_out(pending, endpoint, sent=False))
                pending.signal.set()

    async def _send(self, batch: list[Pending]) -> None:
        deadline = earliest_deadline(batch)
        timeout = time_left(deadline)
        if len(batch) == 1:
            # Alone in its lane: sent as itself, and the lane stays busy meanwhile so that
            # the calls arriving now gather for the next batch.
            pending = batch[0]
            try:
                pending.finish(result=await self._send_alone(pending))
            except exc.EtcdException as error:
                pending.finish(error=error)
            return
        mutation = batch[0].op.is_mutation
        if self._transport.events.active:
            # _core.events is imported by the first listener: a client without one never
            # builds the event classes.
            kind = "put" if mutation else "get"
            self._transport.events.emit(_core.events.CoalescedBatch(kind, len(batch)))
        try:
            response = await self._transport.unary(
                methods.KV_TXN, batch_request(batch), timeout=timeout, mutation=mutation
            )
        except exc.EtcdException as error:
            log.debug(
                "a batch of %d was refused (%s): sending each alone",
                len(batch),
                error,
                extra=log_fields(
                    operation=error.operation,
                    endpoint=error.endpoint,
                    code=error.code,
                    error=error,
                    count=len(batch),
                ),
            )
            refused(batch, error)
            return
        distribute(batch, response)

    async def _send_alone(self, pending: Pending) -> Any:
        timeout = time_left(pending.deadline)
        if timeout == 0:
            raise timed_out(pending, str(self._transport.current_endpoint), sent=False)
        return await self._send_one(pending.op, pending.request, timeout)

    async def _send_one(self, op: Op, request: Any, timeout: float | None) -> Any:
        """``op`` sent by itself; its typed result."""
        response = await self._transport.unary(
            op.method, request, timeout=timeout, mutation=op.is_mutation
        )
        return op.decode(response)
