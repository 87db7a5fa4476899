"""Mirroring a prefix to another cluster: every key copied at one revision, then every
change applied as it happens, as Go's ``mirror.Syncer`` and ``etcdctl make-mirror`` do.

What is written, and grouped into which transactions, is pure, in :mod:`etcd._core.mirror`;
this module reads the source (page by page, then a watch), writes the destination, waits
out the outages that pass, and stops with an error, logged and kept, on those that do not.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from .._core import exceptions as exc
from .._core import validation as check
from .._core.deadline import deadline_after, deadline_passed
from .._core.keys import KeyArg
from .._core.kv import Op, RangeOp, next_page
from .._core.log_fields import log_fields
from .._core.mirror import (
    DEFAULT_MAX_TXN_OPS,
    DEFAULT_PAGE_SIZE,
    DestinationTxn,
    MirrorSettings,
    copy_transactions,
    event_transactions,
    txn_byte_budget,
)
from .._core.responses import RangeResponse
from .._core.validation import Timeout
from .._core.watch import WatchResponse
from .follower import AsyncFollower
from .io import Flag
from .watch_stream import AsyncWatch

log = logging.getLogger("etcd.mirror")

_T = TypeVar("_T")

# With give_up_after, how long a silent watch waits before the mirror checks, with a
# one-key read, that the source is still reachable (the watch reconnects by itself while
# it is). It never asks for progress notifications instead: etcd before 3.5.8 may send
# one ahead of events still on their way to the watch.
_SOURCE_CHECK_INTERVAL = 5.0
# Pauses between attempts at a read or a write that an outage interrupted.
_FIRST_RETRY_PAUSE = 0.25
_LAST_RETRY_PAUSE = 5.0
# Failures that pass: a member down, a lost leader, a deadline, a busy server. Every
# write a mirror makes is idempotent (a put of a known value, a delete of one key), so
# writing again after a failure whose outcome is unknown is safe.
_PASSING = (exc.EtcdConnectionFailed, exc.EtcdTooManyRequests)


class _AsyncMirrorSource(Protocol):
    """What a mirror needs of the source cluster's client (:class:`etcd.AsyncClient`)."""

    async def do(self, op: Op, *, timeout: Timeout = ...) -> Any: ...

    def watch_stream(
        self, key: KeyArg, *, prefix: bool = ..., start_revision: int | None = ...
    ) -> AsyncWatch: ...


class _AsyncMirrorDestination(Protocol):
    """What a mirror needs of the destination: an :class:`etcd.AsyncClient`, or an
    :class:`etcd.AsyncNamespace` of one (the keys then land under its prefix)."""

    async def do(self, op: Op, *, timeout: Timeout = ...) -> Any: ...


class AsyncMirror(AsyncFollower):
    """Keeps the keys under a prefix of one cluster copied to another cluster.

    ::

        async with source.mirror("/config/", destination) as mirror:
            await mirror.wait_synced(timeout=60)
            ...                      # every change under /config/ is now mirrored

    It first copies every key under the prefix as of one revision, then watches the
    prefix from the next revision and applies each change to the destination, the
    changes of one source revision in one transaction (``max_txn_ops`` operations at
    most). A failure it cannot wait out stops it: :attr:`error` says why, the waits raise
    it, and it is logged on the ``etcd.mirror`` logger. See :doc:`/mirror`.
    """

    _kind = "mirror"
    _log = log

    def __init__(
        self,
        source: _AsyncMirrorSource,
        destination: _AsyncMirrorDestination,
        prefix: str | bytes,
        *,
        dest_prefix: str | bytes | None = None,
        no_dest_prefix: bool = False,
        max_txn_ops: int = DEFAULT_MAX_TXN_OPS,
        rev: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
        give_up_after: float | None = None,
    ) -> None:
        settings = MirrorSettings.build(
            prefix,
            dest_prefix=dest_prefix,
            no_dest_prefix=no_dest_prefix,
            max_txn_ops=max_txn_ops,
            rev=rev,
            page_size=page_size,
        )
        if destination is source and settings.feeds_itself():
            raise exc.EtcdValueError(
                f"mirroring {settings.prefix!r} to {settings.dest_prefix!r} on the same "
                "cluster would copy each copied key again: the two prefixes overlap"
            )
        destination_config = getattr(destination, "config", None)
        settings.check_destination_limit(getattr(destination_config, "max_txn_ops", None))
        self._settings = settings
        super().__init__(settings.prefix)
        self._byte_budget = txn_byte_budget(getattr(destination_config, "max_request_bytes", None))
        self._give_up_after = check.timeout(give_up_after, "give_up_after")
        self._source = source
        self._destination = destination
        self._synced_flag = Flag()
        self._revision = 0
        self._synced = False
        self.copied = 0
        """How many keys the first copy wrote to the destination."""
        self.applied = 0
        """How many changes (puts and deletes) were applied to the destination since."""

    # --- state ---------------------------------------------------------------------------------

    @property
    def prefix(self) -> bytes:
        """The source prefix; an empty one mirrors every key."""
        return self._settings.prefix

    @property
    def dest_prefix(self) -> bytes:
        """What the source prefix becomes at the start of each destination key."""
        return self._settings.dest_prefix

    @property
    def processed(self) -> int:
        """Keys copied plus changes applied, the running total ``make-mirror`` prints."""
        return self.copied + self.applied

    @property
    def revision(self) -> int:
        """The source revision the destination reflects; every change of the prefix up to
        it was applied (0 until the first copy is done)."""
        return self._revision

    @property
    def synced(self) -> bool:
        """Whether the first copy is done and changes are followed."""
        return self._synced and not self._ended.is_set()

    def __repr__(self) -> str:
        if self.error is not None:
            state = "failed"
        elif self._closed:
            state = "closed"
        else:
            state = "following" if self._synced else "copying"
        return (
            f"<Mirror {self.prefix!r} -> {self.dest_prefix!r} processed={self.processed} "
            f"revision={self.revision} {state}>"
        )

    # --- waiting -------------------------------------------------------------------------------

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait until every key is copied and the changes are followed (with ``rev``, until
        the replay has started).

        Raises the mirror's ``error`` if it failed, :class:`etcd.EtcdTimeout` after
        ``timeout`` seconds.
        """
        synced = await self._synced_flag.wait(check.timeout(timeout, "timeout"))
        self._raise_error()
        if not synced:
            raise exc.EtcdTimeout(
                f"the mirror of {self.prefix!r} was not synced within {timeout} s"
            )
        if not self._synced:
            raise exc.EtcdClientClosed("the mirror was closed before it was synced")

    async def wait_for_revision(self, revision: int, timeout: float | None = None) -> None:
        """Wait until the destination holds every change of the prefix up to source
        ``revision``::

            written = await source.put("/config/limit", "10")
            await mirror.wait_for_revision(written.header.revision)

        Give the revision of a change under the prefix (a put, a delete, a transaction):
        the mirror learns of a revision by the changes it applies (and by the progress
        notifications the source sends, if any), so a revision at which nothing under the
        prefix changed is only reached once a later change is applied. Raises the
        mirror's ``error`` if it failed, :class:`etcd.EtcdTimeout` after ``timeout``
        seconds.
        """
        await self._wait_for_revision(revision, timeout)

    async def wait_stopped(self, timeout: float | None = None) -> bool:
        """Wait until the mirror stops; ``False`` if it still runs after ``timeout``
        seconds. A mirror runs until it is closed or fails: this raises its ``error`` if it
        failed."""
        stopped = await self._ended.wait(check.timeout(timeout, "timeout"))
        self._raise_error()
        return stopped

    # --- the background work -------------------------------------------------------------------

    async def _follow(self) -> None:
        start = self._settings.start_revision
        if self._settings.copies_first:
            start = await self._copy() + 1
        await self._follow_from(start)

    async def _copy(self) -> int:
        """Copy every key under the prefix as of one revision, page by page; that
        revision."""
        op: RangeOp | None = self._settings.first_page()
        revision = 0
        while op is not None:
            page: RangeResponse = await self._retrying(self._source.do, op, "reading the source")
            revision = revision or page.header.revision
            for txn in copy_transactions(self._settings, page.kvs, revision, self._byte_budget):
                await self._write(txn)
                self.copied += len(txn)
            op = next_page(op, page)
        log.info(
            "mirror of %r: copied %d keys as of revision %d",
            self.prefix,
            self.copied,
            revision,
            extra=log_fields(prefix=self.prefix, revision=revision, count=self.copied),
        )
        self._advance(revision)
        return revision

    async def _follow_from(self, start: int) -> None:
        """Apply every change from revision ``start`` on, until closed."""
        key, prefix = self._settings.source_keys()
        watch = self._source.watch_stream(key, prefix=prefix, start_revision=start)
        self._watch = watch
        try:
            while not await watch.wait_created(_SOURCE_CHECK_INTERVAL):
                await self._check_source()
            if self._closed:
                return
            self._advance(start - 1)
            self._synced = True
            self._synced_flag.set()
            log.info(
                "mirror of %r: following the changes from revision %d",
                self.prefix,
                start,
                extra=log_fields(prefix=self.prefix, revision=start),
            )
            while True:
                try:
                    response = await watch.next_response(_SOURCE_CHECK_INTERVAL)
                except exc.EtcdWatchTimedOut:
                    await self._check_source()
                    continue
                except StopAsyncIteration:
                    return
                await self._apply(response)
        finally:
            watch.cancel()
            self._watch = None

    async def _apply(self, response: WatchResponse) -> None:
        if not response.events:
            # A progress notification: every change up to the revision it vouches for
            # was delivered, and the ones before it are applied already.
            self._advance(response.synced_revision)
            return
        for txn in event_transactions(self._settings, response.events, self._byte_budget):
            await self._write(txn)
            self.applied += len(txn)
            if txn.completes_revision:
                self._advance(txn.revision)

    async def _write(self, txn: DestinationTxn) -> None:
        await self._retrying(self._destination.do, Op.txn((), txn.ops, ()), "writing")

    async def _retrying(self, call: Callable[[Any], Awaitable[_T]], op: Any, what: str) -> _T:
        """``call(op)``, again after failures that pass, until ``give_up_after``."""
        give_up = deadline_after(self._give_up_after)
        pause = _FIRST_RETRY_PAUSE
        failures = 0
        while True:
            if self._closed:
                raise exc.EtcdClientClosed("the mirror is closed")
            try:
                result = await call(op)
            except _PASSING as error:
                if deadline_passed(give_up):
                    raise
                failures += 1
                level = logging.WARNING if failures == 1 else logging.DEBUG
                log.log(
                    level,
                    "mirror of %r: %s failed (%s); trying again",
                    self.prefix,
                    what,
                    error,
                    extra=log_fields(
                        prefix=self.prefix,
                        endpoint=error.endpoint,
                        failures=failures,
                        error=error,
                    ),
                )
            else:
                if failures:
                    log.info(
                        "mirror of %r: %s works again",
                        self.prefix,
                        what,
                        extra=log_fields(prefix=self.prefix, failures=failures),
                    )
                return result
            await self._ended.wait(pause)
            pause = min(pause * 2, _LAST_RETRY_PAUSE)

    async def _check_source(self) -> None:
        """With ``give_up_after``, fail once the source has been unreachable that long
        (without it, the watch waits for the source for as long as it takes)."""
        if self._give_up_after is not None:
            await self._retrying(self._source.do, self._settings.probe(), "reaching the source")

    def _advance(self, revision: int) -> None:
        if revision > self._revision:
            self._revision = revision
            self._revision_moved()

    def _on_end(self) -> None:
        self._synced_flag.set()  # waiters wake up and find the error, or the closed mirror
