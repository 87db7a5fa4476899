"""A live copy of the keys under a prefix: listed once, then kept current by a watch.

The copy and its rules (what each listing and each watch response changes, the
revision, the snapshots) are pure, in :mod:`etcd._core.cache`; this module lists the prefix
page by page, watches it from the next revision, relists when the history it needs was
compacted, and tells subscribers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from .._core import exceptions as exc
from .._core import validation as check
from .._core.cache import CacheEntry, CacheSnapshot, CacheState, CacheUpdate, cache_prefix
from .._core.deadline import deadline_after, deadline_passed
from .._core.keys import KeyArg
from .._core.kv import Op, RangeOp, next_page
from .._core.log_fields import log_fields
from .._core.responses import KeyValue, RangeResponse
from .._core.validation import Timeout
from .._core.watch import WatchResponse
from .follower import AsyncFollower
from .io import Flag, Queue
from .watch_stream import AsyncWatch

log = logging.getLogger("etcd.cache")

V = TypeVar("V")

# How often a cache with nothing to do asks the server how far its watch is: the
# answer moves the revision on past writes outside the prefix, and proves the stream alive.
_PROBE_INTERVAL = 5.0
# While someone waits for a revision, it is asked more often.
_WAITING_PROBE_INTERVAL = 0.25
_RELIST_PAUSE = 0.5

_CLOSED = object()
_MISSING: Any = object()

# etcd counts the whole rest of the range for every page it answers, so each page costs
# time in proportion to the keys after it: a million keys in pages of 1,000 take minutes,
# in pages of 10,000 (about 1.5 MB with 100-byte values) seconds.
DEFAULT_PAGE_SIZE = 10_000


class _AsyncCacheClient(Protocol):
    """What a cache needs of a client (:class:`etcd.AsyncClient` has it)."""

    async def do(self, op: Op, *, timeout: Timeout = ...) -> Any: ...

    def watch_stream(
        self, key: KeyArg, *, prefix: bool = ..., start_revision: int | None = ...
    ) -> AsyncWatch: ...

    def request_progress(self) -> None: ...


class AsyncCache(AsyncFollower, Generic[V]):
    """A local copy of every key under ``prefix``, kept current by a watch.

    ::

        async with client.cache("/services/") as services:
            await services.wait_ready()
            for key, value in services.items():
                ...

    Reads (``cache[key]``, ``get``, ``in``, ``len``, iteration in key order, ``items``,
    :meth:`snapshot`) never touch the network and are safe from any thread or task. The
    copy equals ``range(prefix, revision=cache.revision)`` at every revision it reports,
    and :attr:`revision` never goes back, whichever member serves it. See :doc:`cache`.
    """

    _kind = "cache"
    _log = log

    def __init__(
        self,
        client: _AsyncCacheClient,
        prefix: str | bytes,
        *,
        decode: Callable[[bytes], V] | None = None,
        keys_only: bool = False,
        page_size: int | None = None,
        give_up_after: float | None = None,
    ) -> None:
        self._client = client
        self._state: CacheState[V] = CacheState(
            cache_prefix(prefix), decode=decode, keys_only=keys_only
        )
        super().__init__(self._state.prefix)
        self._page_size = (
            DEFAULT_PAGE_SIZE
            if page_size is None
            else check.integer(page_size, "page_size", minimum=1)
        )
        self._give_up_after = check.timeout(give_up_after, "give_up_after")
        # An idle watch hears nothing but the answers to its probes: probe often enough
        # that a healthy one is heard from within give_up_after.
        self._probe_interval = (
            _PROBE_INTERVAL
            if self._give_up_after is None
            else min(_PROBE_INTERVAL, self._give_up_after / 2)
        )
        self._callbacks: list[Callable[[CacheUpdate[V]], object]] = []
        self._subscribers: list[Queue[Any]] = []
        self._ready = Flag()
        self._wanted_revisions: list[int] = []
        self._watching = False
        self.relists = 0
        """How often the prefix was listed again after its history was compacted."""

    # --- waiting -------------------------------------------------------------------------------

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until the prefix is loaded and the watch is running.

        Raises the cache's ``error`` if it failed, and :class:`etcd.EtcdTimeout` after
        ``timeout`` seconds.
        """
        ready = await self._ready.wait(check.timeout(timeout, "timeout"))
        self._raise_error()
        if not ready:
            raise exc.EtcdTimeout(f"the cache of {self.prefix!r} was not ready within {timeout} s")
        if not self._watching:
            raise exc.EtcdClientClosed("the cache was closed before it was ready")

    async def wait_for_revision(self, revision: int, timeout: float | None = None) -> None:
        """Wait until the copy reflects ``revision`` (read your writes)::

            await cache.wait_for_revision((await client.put(key, value)).header.revision)

        A write outside the prefix counts too: the server is asked how far the watch is,
        and :attr:`revision` moves on to it. Members before etcd 3.5.8 cannot vouch for
        that; there, two reads at ``revision`` tell whether the copy already equals the
        store, and :attr:`revision` stays at the last change of the prefix.

        Raises the cache's ``error`` if it failed, :class:`etcd.EtcdTimeout` after
        ``timeout`` seconds.
        """
        wanted = check.integer(revision, "revision", minimum=0)
        self._wanted_revisions.append(wanted)
        try:
            await self._wait_for_revision(wanted, timeout)
        finally:
            self._wanted_revisions.remove(wanted)

    async def _caught_up_quietly(self, revision: int) -> bool:
        if not self._watching:
            return False
        # The wanted revision may be a write outside the prefix, which only a progress
        # notification reports (and members before etcd 3.5.8 cannot be trusted with
        # one: read instead).
        self._client.request_progress()
        return await self._equals_the_store_at(revision)

    async def _equals_the_store_at(self, revision: int) -> bool:
        """Whether the copy equals the store at ``revision``, by two reads: no key under
        the prefix was written after the copy's revision, and as many keys are there."""
        copy = self._state.snapshot()
        if copy.revision >= revision:
            return True
        newer = Op.range(
            self.prefix,
            prefix=True,
            revision=revision,
            min_mod_revision=copy.revision + 1,
            keys_only=True,
            limit=1,
        )
        counted = Op.range(self.prefix, prefix=True, revision=revision, count_only=True)
        try:
            if (await self._client.do(newer)).kvs:
                return False
            listed: RangeResponse = await self._client.do(counted)
        except (exc.EtcdFutureRevision, exc.EtcdCompacted, exc.EtcdConnectionFailed):
            # No answer yet (etcd unreachable meanwhile, say): the waiter goes on waiting,
            # until its timeout or until the cache gives up and raises its own error.
            return False
        return listed.count == len(copy)

    @property
    def revision(self) -> int:
        """The store revision the copy reflects (0 until it is loaded)."""
        return self._state.revision

    @property
    def prefix(self) -> bytes:
        """The prefix whose keys the cache holds."""
        return self._state.prefix

    @property
    def ready(self) -> bool:
        """Whether the prefix was loaded and the watch runs."""
        return self._watching and self.error is None

    # --- reading -------------------------------------------------------------------------------

    def snapshot(self) -> CacheSnapshot[V]:
        """The copy as it is now: keys, values and revision, unchanged from then on."""
        return self._state.snapshot()

    def get(self, key: str | bytes, default: V | None = None) -> V | None:
        """The value of ``key``, or ``default``."""
        value: V | None = self._state.value(key, default)
        return value

    def entry(self, key: str | bytes) -> CacheEntry[V] | None:
        """The value of ``key`` with its revisions, version and lease, or ``None``."""
        return self._state.entry(key)

    def __getitem__(self, key: str | bytes) -> V:
        value: V = self._state.value(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._state
        except exc.EtcdTypeError:
            return False

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._state.snapshot())

    def items(self, prefix: str | bytes = b"") -> Iterator[tuple[bytes, V]]:
        """``(key, value)`` of every key starting with ``prefix`` (the whole copy by
        default), in key order, as of one revision."""
        return self._state.snapshot().items(prefix)

    def __repr__(self) -> str:
        if self.error is not None:
            state = "failed"
        elif self._closed:
            state = "closed"
        else:
            state = "ready" if self._watching else "loading"
        return (
            f"<Cache prefix={self.prefix!r} keys={len(self._state)} "
            f"revision={self.revision} {state}>"
        )

    # --- changes -------------------------------------------------------------------------------

    def add_callback(self, callback: Callable[[CacheUpdate[V]], object]) -> None:
        """Call ``callback(update)`` for every update, in revision order, once the copy
        has applied it (on the cache's own task; an exception it raises is logged)."""
        if not callable(callback):
            raise exc.EtcdTypeError("the callback must be callable")
        self._callbacks.append(callback)

    def remove_callback(self, callback: Callable[[CacheUpdate[V]], object]) -> None:
        """Stop calling ``callback``."""
        self._callbacks.remove(callback)

    async def updates(self) -> AsyncIterator[CacheUpdate[V]]:
        """Every update from now on, in revision order, until the cache is closed.

        Raises the cache's ``error`` once it fails. Updates wait in memory until taken.
        """
        queue: Queue[Any] = Queue()
        self._subscribers.append(queue)
        if self._ended.is_set():
            queue.put(_CLOSED)  # it ended before this subscriber came: none will be sent
        try:
            while True:
                item = await queue.get()
                if item is _CLOSED:
                    self._raise_error()
                    return
                yield item
        finally:
            self._subscribers.remove(queue)

    # --- the background work -------------------------------------------------------------------

    async def _follow(self) -> None:
        while not self._closed:
            try:
                await self._list()
                await self._watch_from(self._state.revision + 1)
                return
            except exc.EtcdCompacted as error:
                # The history between the copy and now is gone: list again.
                self.relists += 1
                log.info(
                    "cache of %r: %s; listing the prefix again",
                    self.prefix,
                    error,
                    extra=log_fields(
                        prefix=self.prefix, revision=error.compact_revision, error=error
                    ),
                )

    async def _list(self) -> None:
        """Load the whole prefix at one revision, page by page, and apply the difference."""
        give_up = deadline_after(self._give_up_after)
        while True:
            try:
                kvs, revision = await self._read_pages()
            except (exc.EtcdConnectionFailed, exc.EtcdTimeout, exc.EtcdNoLeader) as error:
                if deadline_passed(give_up):
                    raise
                log.info(
                    "cache of %r: listing failed (%s); trying again",
                    self.prefix,
                    error,
                    extra=log_fields(prefix=self.prefix, endpoint=error.endpoint, error=error),
                )
            else:
                if revision >= self._state.revision:
                    self._publish([self._state.load(kvs, revision, describe=self._listened)])
                    return
                # A member behind the copy answered: wait for it to catch up, or for
                # the client to move to another one.
            await self._ended.wait(_RELIST_PAUSE)
            if self._closed:
                raise exc.EtcdClientClosed("the cache is closed")

    async def _read_pages(self) -> tuple[list[KeyValue], int]:
        op: RangeOp | None = Op.range(
            self._state.prefix,
            prefix=True,
            limit=self._page_size,
            keys_only=self._state.keys_only,
        )
        kvs: list[KeyValue] = []
        revision = 0
        while op is not None:
            page: RangeResponse = await self._client.do(op)
            revision = revision or page.header.revision
            kvs.extend(page.kvs)
            op = next_page(op, page)
        return kvs, revision

    async def _watch_from(self, start: int) -> None:
        watch = self._client.watch_stream(self._state.prefix, prefix=True, start_revision=start)
        self._watch = watch
        try:
            if self._closed:
                return
            if not await watch.wait_created(self._give_up_after):
                # The listing worked, then etcd went away before the watch was created.
                raise exc.EtcdConnectionFailed(
                    f"the cache of {self.prefix!r} could not start its watch within "
                    f"{self._give_up_after} s"
                )
            self._watching = True
            self._ready.set()
            last_heard = time.monotonic()
            while True:
                interval = _WAITING_PROBE_INTERVAL if self._wanted_revisions else None
                try:
                    response = await watch.next_response(interval or self._probe_interval)
                except exc.EtcdWatchTimedOut:
                    self._probe(last_heard)
                    continue
                except StopAsyncIteration:
                    return
                last_heard = time.monotonic()
                self._apply(response)
        finally:
            watch.cancel()
            self._watch = None

    def _probe(self, last_heard: float) -> None:
        silent = time.monotonic() - last_heard
        if self._give_up_after is not None and silent > self._give_up_after:
            raise exc.EtcdConnectionFailed(
                f"the cache of {self.prefix!r} heard nothing from etcd for {silent:.0f} s"
            )
        self._client.request_progress()

    def _apply(self, response: WatchResponse) -> None:
        revision = response.synced_revision
        self._publish(self._state.apply(response.events, revision, describe=self._listened))

    @property
    def _listened(self) -> bool:
        # Without subscribers, no change needs describing: the copy alone is kept.
        return bool(self._callbacks or self._subscribers)

    def _publish(self, updates: list[CacheUpdate[V]]) -> None:
        wanted = self._wanted_revisions
        if wanted and self._state.revision >= min(wanted, default=0):
            self._revision_moved()
        for update in updates:
            if not len(update) and not update.reset:
                continue
            for queue in list(self._subscribers):
                queue.put(update)
            for callback in list(self._callbacks):
                try:
                    callback(update)
                except Exception:
                    log.exception(
                        "cache callback %r raised", callback, extra=log_fields(prefix=self.prefix)
                    )

    def _on_end(self) -> None:
        self._ready.set()  # waiters wake up and find the error, or the closed cache
        for queue in list(self._subscribers):
            queue.put(_CLOSED)
