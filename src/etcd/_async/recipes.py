"""Barriers, queues and read-write locks (asyncio), interoperable with Go's recipes.

The keys and transactions come from :mod:`etcd._core.recipes`; this module runs them
and waits. Every wait takes a ``timeout`` and is cancellable; a wait under a session
ends with :class:`etcd.EtcdLeaseExpired` as soon as the session's lease is lost.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from .._core import exceptions as exc
from .._core import recipes
from .._core import validation as check
from .._core.deadline import deadline_after
from .._core.kv import Op, RangeOp
from .._core.watch import EventType
from .concurrency import (
    AsyncSession,
    SessionBound,
    _AsyncConcurrencyClient,
    wait_for_event,
    wait_until_gone,
)

__all__ = [
    "AsyncBarrier",
    "AsyncDoubleBarrier",
    "AsyncPriorityQueue",
    "AsyncQueue",
    "AsyncRWMutex",
]


async def _create_unique(
    client: _AsyncConcurrencyClient, prefix: bytes, value: bytes = b"", lease_id: int = 0
) -> tuple[bytes, int]:
    """Write ``prefix/<now in ns>``, a key nobody has; its name and creation revision."""
    while True:
        key = recipes.unique_key(prefix, time.time_ns())
        response = await client.txn(recipes.create_txn(key, value, lease_id))
        if response.succeeded:
            return key, response.header.revision


class _SessionHolder(SessionBound):
    """A recipe that holds one key at a time under a session's lease."""

    def __init__(
        self, client: _AsyncConcurrencyClient, name: object, ttl: int, session: AsyncSession | None
    ) -> None:
        super().__init__(client, ttl, session)
        self.name = recipes.recipe_name(name)
        self._key: bytes | None = None

    @property
    def key(self) -> bytes | None:
        """Our key, while we hold one."""
        return self._key

    async def _live_session(self) -> AsyncSession:
        session = await self._get_session()
        session.lease.check()
        return session

    async def _drop_key(self) -> None:
        key, self._key = self._key, None
        try:
            if key is not None:
                await self._client.do(Op.delete_range(key))
        finally:
            await self._end_session()


class AsyncBarrier:
    """A barrier that blocks waiters until it is released, compatible with Go's
    ``recipe.Barrier``: held while the key ``name`` exists.

    ::

        await client.barrier("deploy/gate").hold()     # the coordinator
        await client.barrier("deploy/gate").wait()     # the workers, until released
        await client.barrier("deploy/gate").release()  # the coordinator

    The key has no lease: a held barrier outlives its holder until someone releases it.
    """

    def __init__(self, client: _AsyncConcurrencyClient, name: object) -> None:
        self._client = client
        self.name = recipes.recipe_name(name)

    async def hold(self) -> bool:
        """Hold the barrier; ``False`` if it was held already."""
        return bool((await self._client.txn(recipes.create_txn(self.name))).succeeded)

    async def release(self) -> None:
        """Release the barrier: every waiter goes on."""
        await self._client.do(Op.delete_range(self.name))

    async def is_held(self) -> bool:
        """Whether the barrier is held now (a round trip)."""
        return bool((await self._client.range(self.name)).kvs)

    async def wait(self, timeout: float | None = None) -> bool:
        """Block until the barrier is released (at once if it is not held); ``False`` if
        ``timeout`` seconds pass first."""
        deadline = deadline_after(check.timeout(timeout, "timeout"))
        current = await self._client.range(self.name)
        if not current.kvs:
            return True
        start = current.header.revision + 1
        released = await wait_for_event(self._client, self.name, start, EventType.DELETE, deadline)
        return released is not None

    def __repr__(self) -> str:
        return f"<Barrier {self.name!r}>"


class AsyncDoubleBarrier(_SessionHolder):
    """A barrier that ``count`` participants enter together and leave together,
    compatible with Go's ``recipe.DoubleBarrier``.

    ::

        barrier = client.double_barrier("batch/42", count=3)
        await barrier.enter()    # returns once all 3 have entered
        await compute()
        await barrier.leave()    # returns once all 3 have left

    Each participant's key lives under its session's lease: a participant that dies
    leaves the barrier when its lease expires, so the others are not blocked for ever
    on ``leave``. One that dies before the count is reached is no longer counted.
    """

    def __init__(
        self,
        client: _AsyncConcurrencyClient,
        name: object,
        count: int,
        *,
        ttl: int = 60,
        session: AsyncSession | None = None,
    ) -> None:
        super().__init__(client, name, ttl, session)
        self.count = recipes.check_count(count)
        """How many participants enter (and leave) together."""
        self._waiters = recipes.waiters_prefix(self.name) + b"/"
        self._ready = recipes.ready_key(self.name)

    async def enter(self, timeout: float | None = None) -> bool:
        """Enter, and wait until ``count`` participants have; ``False`` (having left
        again) if ``timeout`` seconds pass first.

        Raises :class:`etcd.EtcdPreconditionFailed` if ``count`` participants are in
        already.
        """
        if self._key is not None:
            raise exc.EtcdPreconditionFailed(f"already in double barrier {self.name!r}")
        deadline = deadline_after(check.timeout(timeout, "timeout"))
        session = await self._live_session()
        prefix = recipes.waiters_prefix(self.name)
        self._key, revision = await _create_unique(self._client, prefix, b"", session.lease_id)
        try:
            waiting = await self._client.do(Op.range(self._waiters, prefix=True, count_only=True))
            if waiting.count > self.count:
                raise exc.EtcdPreconditionFailed(
                    f"double barrier {self.name!r} has its {self.count} participants already"
                )
            if waiting.count == self.count:
                await self._client.do(Op.put(self._ready, b""))
                return True
            ready = await wait_for_event(
                self._client, self._ready, revision + 1, EventType.PUT, deadline, session=session
            )
        except BaseException:
            await self._drop_key()
            raise
        if ready is None:
            await self._drop_key()
            return False
        return True

    async def leave(self, timeout: float | None = None) -> bool:
        """Leave, and wait until every participant has; ``False`` if ``timeout``
        seconds pass first (some are still inside)."""
        deadline = deadline_after(check.timeout(timeout, "timeout"))
        ours = self._key
        client = self._client
        while True:
            inside = await client.do(Op.range(self._waiters, prefix=True))
            if not inside.kvs:
                break
            lowest, highest, ours_is_lowest = recipes.leaving_order(inside.kvs, ours or b"")
            if len(inside.kvs) == 1 and ours_is_lowest:
                # The last one out: the barrier is over, and can be entered again.
                await client.do(Op.delete_range(self._ready))
                await self._drop_key()
                return True
            if ours_is_lowest:
                # The lowest leaves last, so that a participant that died (its key gone
                # with its lease) cannot leave the others waiting for ever.
                awaited = highest
            else:
                if ours is not None:
                    await client.do(Op.delete_range(ours))
                    self._key = ours = None
                awaited = lowest
            start = inside.header.revision + 1
            if await wait_for_event(client, awaited.key, start, EventType.DELETE, deadline) is None:
                return False
        await self._end_session()
        return True

    def __repr__(self) -> str:
        state = "inside" if self._key else "outside"
        return f"<DoubleBarrier {self.name!r} count={self.count} {state}>"


class _AsyncQueueBase:
    def __init__(self, client: _AsyncConcurrencyClient, name: object) -> None:
        self._client = client
        self.name = recipes.recipe_name(name)
        self._items = self.name + b"/"

    def _next_item(self) -> RangeOp:
        raise NotImplementedError

    async def dequeue(self, timeout: float | None = None) -> bytes | None:
        """Take the next item, waiting for one if the queue is empty; ``None`` if
        ``timeout`` seconds pass first. Each item goes to exactly one taker."""
        deadline = deadline_after(check.timeout(timeout, "timeout"))
        client = self._client
        while True:
            first = await client.do(self._next_item())
            if first.kvs:
                item = first.kvs[0]
                if (await client.txn(recipes.take_txn(item))).succeeded:
                    return bytes(item.value)
                continue  # another taker was first
            start = first.header.revision + 1
            event = await wait_for_event(
                client, self._items, start, EventType.PUT, deadline, prefix=True
            )
            if event is None:
                return None
            if (await client.txn(recipes.take_txn(event.kv))).succeeded:
                return bytes(event.kv.value)


class AsyncQueue(_AsyncQueueBase):
    """A first-in first-out queue shared by any number of producers and consumers,
    compatible with Go's ``recipe.Queue``.

    ::

        await client.queue("jobs").enqueue("resize /img/1.png")
        job = await client.queue("jobs").dequeue(timeout=30)

    Items have no lease: they stay until taken, whoever enqueued them.
    """

    def _next_item(self) -> RangeOp:
        return recipes.oldest_item(self._items)

    async def enqueue(self, value: object) -> None:
        """Add ``value`` (``str`` or ``bytes``) at the end of the queue."""
        data = check.to_bytes(value, "value")
        await _create_unique(self._client, self.name, data)

    def __repr__(self) -> str:
        return f"<Queue {self.name!r}>"


class AsyncPriorityQueue(_AsyncQueueBase):
    """A queue taken by priority (0 first, then 1, ... up to 65535), first in first out
    within a priority; compatible with Go's ``recipe.PriorityQueue``.

    ::

        queue = client.priority_queue("alerts")
        await queue.enqueue("disk full", priority=0)
        await queue.enqueue("cert expires in 20 days", priority=10)
        await queue.dequeue()   # b'disk full'
    """

    def _next_item(self) -> RangeOp:
        return recipes.first_key(self._items)

    async def enqueue(self, value: object, priority: int) -> None:
        """Add ``value`` with ``priority`` (lower numbers are taken first)."""
        data = check.to_bytes(value, "value")
        prefix = recipes.priority_prefix(self.name, priority)
        while True:
            last = await self._client.do(recipes.last_key(prefix))
            key = recipes.next_sequential_key(prefix, last)
            txn = recipes.sequential_put_txn(prefix, key, data, last.header.revision)
            if (await self._client.txn(txn)).succeeded:
                return

    def __repr__(self) -> str:
        return f"<PriorityQueue {self.name!r}>"


class AsyncRWMutex(_SessionHolder):
    """A read-write lock: many readers or one writer, in order of arrival; compatible
    with Go's ``recipe.RWMutex``.

    ::

        rw = client.rw_mutex("config")
        async with rw.read():
            settings = await load()
        async with rw.write():
            await save(settings)

    The lock lives as long as the session's lease. If the lease is lost (this process
    stalled or was cut off for a whole TTL), the key is gone and another process may
    take the lock: waits raise :class:`etcd.EtcdLeaseExpired`, and :meth:`is_held`
    says whether we still hold it.
    """

    def __init__(
        self,
        client: _AsyncConcurrencyClient,
        name: object,
        *,
        ttl: int = 60,
        session: AsyncSession | None = None,
    ) -> None:
        super().__init__(client, name, ttl, session)
        self._writing = False

    async def read_lock(self, timeout: float | None = None) -> bool:
        """Wait until no writer that came before us holds or waits for the lock;
        ``False`` if ``timeout`` seconds pass first."""
        own = recipes.reader_prefix(self.name)
        return await self._acquire(own, recipes.writer_prefix(self.name), timeout, False)

    async def lock(self, timeout: float | None = None) -> bool:
        """Wait until nobody that came before us holds or waits for the lock (readers
        nor writers); ``False`` if ``timeout`` seconds pass first."""
        own = recipes.writer_prefix(self.name)
        return await self._acquire(own, self.name + b"/", timeout, True)

    async def read_unlock(self) -> None:
        """Give up a read lock."""
        await self._release(False)

    async def unlock(self) -> None:
        """Give up the write lock."""
        await self._release(True)

    async def is_held(self) -> bool:
        """Whether our key is still there, under our lease (a round trip)."""
        if self._key is None or self._session is None:
            return False
        found = (await self._client.range(self._key)).kvs
        return bool(found) and found[0].lease == self._session.lease_id

    @contextlib.asynccontextmanager
    async def read(self, timeout: float | None = None) -> AsyncIterator[AsyncRWMutex]:
        """Hold a read lock for the ``async with`` block (:class:`etcd.EtcdTimeout`
        if ``timeout`` passes first)."""
        if not await self.read_lock(timeout):
            raise exc.EtcdTimeout(f"no read lock on {self.name!r} within {timeout} s")
        try:
            yield self
        finally:
            await self.read_unlock()

    @contextlib.asynccontextmanager
    async def write(self, timeout: float | None = None) -> AsyncIterator[AsyncRWMutex]:
        """Hold the write lock for the ``async with`` block (:class:`etcd.EtcdTimeout`
        if ``timeout`` passes first)."""
        if not await self.lock(timeout):
            raise exc.EtcdTimeout(f"no write lock on {self.name!r} within {timeout} s")
        try:
            yield self
        finally:
            await self.unlock()

    async def _acquire(
        self, own: bytes, blockers: bytes, timeout: float | None, writing: bool
    ) -> bool:
        if self._key is not None:
            held = "write" if self._writing else "read"
            raise exc.EtcdPreconditionFailed(f"this RWMutex holds the {held} lock already")
        deadline = deadline_after(check.timeout(timeout, "timeout"))
        session = await self._live_session()
        self._key, revision = await _create_unique(self._client, own, b"", session.lease_id)
        self._writing = writing
        try:
            # Wait, one at a time, for the keys under ``blockers`` written before ours.
            last_blocker = recipes.last_modified_before(blockers, revision)
            acquired = await wait_until_gone(self._client, last_blocker, deadline, session)
            if acquired and not (await self._client.range(self._key)).kvs:
                self._key = None
                raise exc.EtcdLeaseExpired(
                    f"our key of RWMutex {self.name!r} disappeared while waiting (the "
                    "session's lease expired, or someone deleted the key)"
                )
        except BaseException:
            await self._drop_key()
            raise
        if not acquired:
            await self._drop_key()
        return acquired

    async def _release(self, writing: bool) -> None:
        if self._key is None or self._writing != writing:
            held = (
                "nothing"
                if self._key is None
                else "the write lock"
                if self._writing
                else "a read lock"
            )
            raise exc.EtcdPreconditionFailed(f"this RWMutex on {self.name!r} holds {held}")
        await self._drop_key()

    def __repr__(self) -> str:
        state = "free" if self._key is None else "writing" if self._writing else "reading"
        return f"<RWMutex {self.name!r} {state}>"
