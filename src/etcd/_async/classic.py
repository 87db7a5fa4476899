"""The python-etcd layer: ``get``, ``set``, ``write``, ``delete``, ``watch`` and their kin,
over etcd v3.

Each call checks its arguments and builds its transaction in the pure half,
:mod:`etcd._core.classic`, then sends it with the v3 calls of the parts this one is
built on: KV, leases (for TTLs) and watches. What python-etcd showed of the connection and
the cluster (``machines``, ``leader``, ``stats``) is in :mod:`.classic_cluster`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterable
from typing import TYPE_CHECKING, Any

from .. import _core
from .._core import exceptions as exc
from .._core import validation as check
from .._core.deadline import deadline_after, deadline_passed, time_left
from .._core.log_fields import log_fields
from .._core.validation import Timeout
from .kv import AsyncKVCalls
from .lease import AsyncLeaseCalls
from .watch import AsyncWatchCalls

if TYPE_CHECKING:
    from .._core.classic import EtcdResult
    from .._core.responses import ResponseHeader
    from .._core.watch import Event

log = logging.getLogger("etcd.classic")


class AsyncClassicCalls(AsyncKVCalls, AsyncWatchCalls, AsyncLeaseCalls):
    """The client's python-etcd part (``import etcd; etcd.Client().write(...)``)."""

    # The cluster the python-etcd reads expect; learned from the first one unless set.
    _expected_cluster_id: int | None = None
    # Whether a write met a directory with a TTL: from then on writes compare the leases of
    # the directories above them, rather than that no directory has a TTL.
    _directories_with_ttl: bool = False

    # --- TTLs, as leases -----------------------------------------------------------------

    async def _lease_ttls(self, leases: Iterable[int], timeout: float | None) -> dict[int, int]:
        """Remaining seconds of each lease that still exists."""
        ttls: dict[int, int] = {}
        for lease in sorted(set(leases) - {0}):
            remaining = await self.lease_time_to_live(lease, timeout=timeout)
            if remaining.exists:
                ttls[lease] = remaining.ttl
        return ttls

    async def _release_unused_lease(self, lease: int, timeout: float | None) -> None:
        """Revoke a TTL lease that no key uses any more, so leases never pile up.

        Best effort: a lease that cannot be revoked now still expires after its TTL.
        """
        if not lease:
            return
        try:
            remaining = await self.lease_time_to_live(lease, keys=True, timeout=timeout)
            if remaining.exists and not remaining.keys:
                await self.lease_revoke(lease, timeout=timeout)
        except exc.EtcdException as error:
            log.debug(
                "lease %x not released (it expires by itself): %s",
                lease,
                error,
                extra=log_fields(lease_id=lease, endpoint=error.endpoint, error=error),
            )

    # --- keys and directories -------------------------------------------------------------

    @property
    def expected_cluster_id(self) -> str | None:
        """The ID (in hex) of the cluster the python-etcd reads and watches expect.

        Learned from the first answer unless set. An answer from another cluster (one
        replaced, say restored from a backup, where the indexes read before mean nothing)
        raises :class:`etcd.EtcdClusterIdChanged` once; its ID is expected from then on.
        """
        expected = self._expected_cluster_id
        return None if expected is None else f"{expected:x}"

    @expected_cluster_id.setter
    def expected_cluster_id(self, value: str | None) -> None:
        self._expected_cluster_id = _core.classic.parse_cluster_id(value)

    def _check_cluster_id(self, header: ResponseHeader) -> None:
        expected = self._expected_cluster_id
        if header.cluster_id:
            self._expected_cluster_id = header.cluster_id
        changed = _core.classic.cluster_id_change(
            expected, header.cluster_id, endpoint=str(self._transport.current_endpoint)
        )
        if changed is not None:
            raise changed

    def _classic_timeout(self, timeout: Timeout) -> float | None:
        # python-etcd read a timeout of 0 as "no deadline"; the v3 calls refuse it.
        if _core.classic.means_no_timeout(timeout):
            return None
        return self._call_timeout(timeout)

    async def contains(self, key: str, *, timeout: Timeout = check.UNSET) -> bool:
        """Whether :meth:`get` would find ``key``: a value, keys below it, or the root.

        The key and the keys below it are read at one revision. On :class:`etcd.Client`,
        python-etcd's test ``key in client`` asks the same.
        """
        name = _core.classic.normalize_key(key)
        response = await self.txn(
            _core.classic.contains_txn(name), timeout=self._classic_timeout(timeout)
        )
        self._check_cluster_id(response.header)
        return _core.classic.contains_result(name, response)

    async def get(
        self, key: str, *, recursive: bool = False, timeout: Timeout = check.UNSET
    ) -> EtcdResult:
        """Read a key, or list a directory (python-etcd's ``get``).

        A key with a value gives that value; otherwise the keys below ``key/`` are listed as
        a directory: its ``children`` are the direct children (sub-directories as entries
        with ``dir`` true), or every key below with ``recursive=True``. Raises
        :class:`etcd.EtcdKeyNotFound` when there is neither.
        """
        return await self.read(key, recursive=recursive, timeout=timeout)

    async def read(
        self,
        key: str,
        *,
        recursive: bool = False,
        sorted: bool = True,
        quorum: bool = True,
        wait: bool = False,
        waitIndex: int | None = None,
        timeout: Timeout = check.UNSET,
    ) -> EtcdResult:
        """python-etcd's ``read``: :meth:`get`, or with ``wait=True`` :meth:`watch`.

        Listings are always sorted by key (``sorted`` is accepted for compatibility).
        ``quorum=False`` allows an answer from the contacted member's local state.
        ``timeout=0`` means no deadline, as in python-etcd.
        """
        check.boolean(sorted, "sorted")
        if check.boolean(wait, "wait"):
            watch_timeout = None if isinstance(timeout, check._Unset) else timeout
            return await self.watch(
                key, index=waitIndex, timeout=watch_timeout, recursive=recursive
            )
        name = _core.classic.normalize_key(key)
        serializable = not check.boolean(quorum, "quorum")
        deadline = self._classic_timeout(timeout)
        exact = await self.range(name, serializable=serializable, timeout=deadline)
        self._check_cluster_id(exact.header)
        below = None
        if not exact.kvs or name == "/":
            prefix = _core.classic.directory_prefix(name)
            below = await self.range(
                prefix, prefix=True, serializable=serializable, timeout=deadline
            )
            self._check_cluster_id(below.header)
        kvs = list(exact.kvs) + (list(below.kvs) if below else [])
        ttls = await self._lease_ttls((kv.lease for kv in kvs), deadline)
        return _core.classic.read_result(
            name, exact, below, check.boolean(recursive, "recursive"), ttls
        )

    async def set(
        self, key: str, value: object, ttl: int | None = None, **options: Any
    ) -> EtcdResult:
        """Write ``value`` (stored as text: ``1`` becomes ``"1"``); ``ttl`` in seconds."""
        return await self.write(key, value, ttl=ttl, **options)

    async def write(
        self,
        key: str,
        value: object,
        ttl: int | None = None,
        dir: bool = False,
        append: bool = False,
        *,
        prevValue: object = None,
        prevIndex: int | None = None,
        prevExist: bool | None = None,
        refresh: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> EtcdResult:
        """python-etcd's ``write``, atomic: the conditions and the write are one transaction.

        ``prevValue``/``prevIndex`` make it a compare-and-swap (:class:`etcd.EtcdCompareFailed`
        on mismatch), ``prevExist=False`` a create (:class:`etcd.EtcdAlreadyExist`),
        ``prevExist=True`` an update (:class:`etcd.EtcdKeyNotFound`). ``append=True``
        creates a new key below ``key`` whose name sorts in creation order. ``ttl`` attaches
        a lease of that many seconds; the lease of the value replaced is released. ``/``
        itself is read-only (:class:`etcd.EtcdRootReadOnly`), as on etcd v2.

        ``dir=True`` (with no value) makes an empty directory, which exists until deleted or
        until its ``ttl`` runs out, taking everything below it along; with
        ``prevExist=True`` it changes an existing directory's TTL. As on v2, a key cannot be
        written where a directory is (:class:`etcd.EtcdNotFile`) nor below a key with a
        value (:class:`etcd.EtcdNotDir`).
        """
        name = _core.classic.normalize_key(key)
        if not append:
            _core.classic.refuse_root(name)
        directory = check.boolean(dir, "dir")
        if check.boolean(refresh, "refresh"):
            if value is not None:
                raise exc.EtcdValueError("refresh=True keeps the value: pass value=None")
            return await self.refresh(name, ttl, timeout=timeout)
        condition = _core.classic_writes.WriteCondition.build(prevValue, prevIndex, prevExist)
        if ttl is not None:
            check.lease_ttl(ttl, "ttl")
        deadline = self._classic_timeout(timeout)
        if directory:
            if value is not None and value != "":
                raise exc.EtcdValueError(f"cannot make the directory {name} with a value")
            if check.boolean(append, "append"):
                raise exc.EtcdValueError("dir=True and append=True cannot be combined")
            if condition.prev_value is not None or condition.prev_index is not None:
                raise exc.EtcdValueError(
                    "dir=True cannot be combined with prevValue/prevIndex: a directory has "
                    "neither a value nor an index of its own to compare"
                )
            if condition.prev_exist is True:
                return await self._retime_directory(name, ttl, deadline)
            return await self._place(name, None, ttl, condition, deadline)
        data = _core.classic.value_text(value)
        if check.boolean(append, "append"):
            if condition != _core.classic_writes.WriteCondition():
                raise exc.EtcdValueError(
                    "append=True cannot be combined with prevValue/Index/Exist"
                )
            return await self._append(name, data, ttl, deadline)
        return await self._place(name, data, ttl, condition, deadline)

    async def _place(
        self,
        name: str,
        data: bytes | None,
        ttl: int | None,
        condition: _core.classic_writes.WriteCondition,
        timeout: float | None,
    ) -> EtcdResult:
        """Write a key (``data`` ``None``: make a directory) within the v2 tree's rules."""
        own_lease = (await self.lease_grant(ttl, timeout=timeout)).id if ttl is not None else 0
        lease = own_lease
        leases = self._expected_leases(name)
        deadline = deadline_after(timeout)
        try:
            while True:
                if data is None:
                    txn = _core.classic_writes.directory_txn(name, lease, condition, leases)
                else:
                    txn = _core.classic_writes.write_txn(name, data, lease, condition, leases)
                response = await self.txn(txn, timeout=timeout)
                if response.succeeded:
                    break
                tree = _core.classic_writes.read_tree(
                    name, await self.txn(_core.classic_writes.tree_txn(name))
                )
                failure = _core.classic_writes.write_failure(name, condition, response, tree)
                if failure is not None:
                    raise failure
                # Directories have TTLs: the key expires with the nearest one above it.
                if deadline_passed(deadline):
                    raise exc.EtcdTimeout(
                        f"the directories above {name} kept changing for {timeout} s",
                        operation="KV.Txn",
                    )
                leases, lease = await self._follow_tree(tree, own_lease, ttl, timeout)
        except BaseException:
            await self._release_unused_lease(own_lease, timeout)
            raise
        if lease != own_lease:
            await self._release_unused_lease(own_lease, timeout)
        result = _core.classic_writes.write_result(name, data, lease, ttl, condition, response)
        previous = result._prev_node
        if previous is not None and previous.lease and previous.lease != lease:
            await self._release_unused_lease(previous.lease, timeout)
        return result

    def _expected_leases(self, name: str) -> tuple[int, ...] | None:
        """What a write first expects of the directories above ``name``.

        ``None`` (no directory anywhere has a TTL: one comparison) until this client met
        one; then no TTL above ``name`` (one comparison per directory above).
        """
        return _core.classic_writes.no_leases(name) if self._directories_with_ttl else None

    async def _follow_tree(
        self,
        tree: _core.classic_writes.Tree,
        own_lease: int,
        ttl: int | None,
        timeout: float | None,
    ) -> tuple[tuple[int, ...], int]:
        """The leases to expect above a key and the key's lease, once a write found that
        directories have TTLs."""
        self._directories_with_ttl = True
        lease = await self._lease_below(tree.inherited_lease, own_lease, ttl, timeout)
        return tree.ancestor_leases, lease

    async def _lease_below(
        self, inherited: int, own: int, ttl: int | None, timeout: float | None
    ) -> int:
        """The lease of a key below a directory with the lease ``inherited``: the one that
        runs out first, the key's own (``ttl``) or the directory's."""
        if not inherited or not own or ttl is None:
            return inherited or own
        remaining = await self.lease_time_to_live(inherited, timeout=timeout)
        return own if remaining.exists and ttl < remaining.ttl else inherited

    async def _retime_directory(
        self, name: str, ttl: int | None, timeout: float | None
    ) -> EtcdResult:
        """Give the directory ``name`` a new TTL (``None``: none), with everything in it
        that shared its old one."""
        deadline = deadline_after(timeout)
        marker_key = _core.classic.directory_prefix(name)
        while True:
            found = await self.range(marker_key, prefix=True, keys_only=True, timeout=timeout)
            if not found.kvs:
                exact = await self.range(name, count_only=True, timeout=timeout)
                if exact.count:
                    raise exc.EtcdNotDir(f"Not a directory : {name} (a key with a value)")
                raise exc.EtcdKeyNotFound(f"Key not found : {name}")
            marker = found.kvs[0] if found.kvs[0].key == marker_key else None
            old = marker.lease if marker else 0
            moving = [kv for kv in found.kvs if kv.lease == old]
            lease = 0 if ttl is None else (await self.lease_grant(ttl, timeout=timeout)).id
            txns = _core.classic_writes.retime_txns(
                name, marker, moving, lease, self._config.max_txn_ops
            )
            try:
                responses = [await self.txn(txn, timeout=timeout) for txn in txns]
            except BaseException:
                await self._release_unused_lease(lease, timeout)
                raise
            if responses[0].succeeded:
                break
            # Changed meanwhile: read it again.
            await self._release_unused_lease(lease, timeout)
            if deadline_passed(deadline):
                raise exc.EtcdTimeout(
                    f"the directory {name} kept changing for {timeout} s", operation="KV.Txn"
                )
        await self._release_unused_lease(old, timeout)
        revision = responses[0].header.revision
        return _core.classic_writes.retime_result(name, marker, lease, ttl, revision)

    async def _append(
        self, directory: str, data: bytes, ttl: int | None, timeout: float | None
    ) -> EtcdResult:
        condition = _core.classic_writes.WriteCondition(prev_exist=False)
        own_lease = (await self.lease_grant(ttl, timeout=timeout)).id if ttl is not None else 0
        lease = own_lease
        # Any name below the directory has the same ancestors (the directory the last).
        placeholder = _core.classic.directory_prefix(directory).decode() + "0"
        leases = self._expected_leases(placeholder)
        deadline = deadline_after(timeout)
        try:
            while True:
                if deadline_passed(deadline):
                    raise exc.EtcdTimeout(
                        f"append below {directory} kept losing races for {timeout} s",
                        operation="KV.Txn",
                    )
                counted = await self.range(directory, count_only=True, timeout=timeout)
                revision = counted.header.revision
                name, txn = _core.classic_writes.append_txn(
                    directory, revision, data, lease, leases
                )
                response = await self.txn(txn, timeout=timeout)
                if response.succeeded:
                    break
                tree = _core.classic_writes.read_tree(
                    name, await self.txn(_core.classic_writes.tree_txn(name))
                )
                if tree.file_ancestor is not None:
                    raise exc.EtcdNotDir(f"Not a directory : {tree.file_ancestor}")
                if leases is None or tree.ancestor_leases != leases:
                    leases, lease = await self._follow_tree(tree, own_lease, ttl, timeout)
                # Else another key was created below the directory meanwhile: name after it.
        except BaseException:
            await self._release_unused_lease(own_lease, timeout)
            raise
        if lease != own_lease:
            await self._release_unused_lease(own_lease, timeout)
        return _core.classic_writes.write_result(name, data, lease, ttl, condition, response)

    async def test_and_set(
        self,
        key: str,
        value: object,
        prev_value: object,
        ttl: int | None = None,
        *,
        timeout: Timeout = check.UNSET,
    ) -> EtcdResult:
        """Set ``key`` to ``value`` only if its value is ``prev_value``, atomically.

        Raises :class:`etcd.EtcdCompareFailed` (a ``ValueError``) on a mismatch and
        :class:`etcd.EtcdKeyNotFound` if the key does not exist; nothing is written then.
        """
        return await self.write(key, value, ttl=ttl, prevValue=prev_value, timeout=timeout)

    async def update(self, obj: EtcdResult, *, timeout: Timeout = check.UNSET) -> EtcdResult:
        """Write back a result read earlier, if the key was not modified since."""
        if obj.key is None:
            raise exc.EtcdValueError("the result to update has no key")
        if obj.dir:
            # A directory has no value: its update is a new TTL (or none).
            return await self.write(
                obj.key, None, ttl=obj.ttl, dir=True, prevExist=True, timeout=timeout
            )
        return await self.write(
            obj.key,
            obj.value,
            ttl=obj.ttl,
            prevIndex=obj.modifiedIndex,
            prevExist=True,
            timeout=timeout,
        )

    async def refresh(
        self, key: str, ttl: int | None, *, timeout: Timeout = check.UNSET
    ) -> EtcdResult:
        """Give ``key`` (or a directory) a new TTL of ``ttl`` seconds, keeping its value."""
        name = _core.classic.normalize_key(key)
        _core.classic.refuse_root(name)
        deadline = self._classic_timeout(timeout)
        if ttl is None:
            raise exc.EtcdValueError("refresh needs a ttl")
        lease = (await self.lease_grant(ttl, timeout=deadline)).id
        raw = name.encode("utf-8")
        txn = (
            _core.kv.Txn()
            .If(_core.compare.Compare.create_revision(raw, ">", 0))
            .Then(_core.kv.Op.range(raw), _core.kv.Op.put(raw, lease=lease, ignore_value=True))
            .Else(_core.kv.Op.range(raw))
        )
        try:
            response = await self.txn(txn, timeout=deadline)
            if not response.succeeded:
                await self._release_unused_lease(lease, deadline)
                return await self._retime_directory(name, ttl, deadline)
        except BaseException:
            await self._release_unused_lease(lease, deadline)
            raise
        before = response.responses[0]
        assert isinstance(before, _core.responses.RangeResponse)
        previous = before.kvs[0]
        await self._release_unused_lease(previous.lease, deadline)
        condition = _core.classic_writes.WriteCondition(prev_exist=True)
        return _core.classic_writes.write_result(
            name, previous.value, lease, int(ttl), condition, response
        )

    async def delete(
        self,
        key: str,
        recursive: bool | None = None,
        dir: bool | None = None,
        *,
        prevValue: object = None,
        prevIndex: int | None = None,
        timeout: Timeout = check.UNSET,
    ) -> EtcdResult:
        """Delete a key; ``recursive=True`` deletes a directory with everything below it.

        Raises :class:`etcd.EtcdKeyNotFound` if there is nothing to delete,
        :class:`etcd.EtcdNotFile` for a directory without ``recursive``,
        :class:`etcd.EtcdCompareFailed` when ``prevValue``/``prevIndex`` do not match, and
        :class:`etcd.EtcdRootReadOnly` for ``/``.
        """
        name = _core.classic.normalize_key(key)
        _core.classic.refuse_root(name)
        condition = _core.classic_writes.WriteCondition.build(prevValue, prevIndex, None)
        recursive_ = bool(recursive) and check.boolean(recursive, "recursive")
        directory = bool(dir) and check.boolean(dir, "dir")
        deadline = self._classic_timeout(timeout)
        txn = _core.classic_writes.delete_txn(name, recursive_, directory, condition)
        response = await self.txn(txn, timeout=deadline)
        result = _core.classic_writes.delete_result(
            name, recursive_, directory, condition, response
        )
        # The deleted key's lease is left to run out by itself (within its TTL): revoking it
        # now would make watchers report this deletion as an expiry.
        return result

    async def pop(self, key: str, **options: Any) -> EtcdResult | None:
        """Delete a key and return what it held (python-etcd's ``pop``)."""
        return (await self.delete(key, **options))._prev_node

    async def watch(
        self,
        key: str,
        index: int | None = None,
        timeout: float | None = None,
        recursive: bool | None = None,
    ) -> EtcdResult:
        """Wait until ``key`` (or, with ``recursive=True``, anything below it) changes.

        Returns the change: ``action`` is ``set``, ``delete`` or ``expire`` (a key removed
        because its TTL ran out). Without ``index`` it waits for the first change after the
        call started; with ``index`` it returns the first change at or after that revision,
        so ``index=result.modifiedIndex + 1`` continues after a change already seen. Raises
        :class:`etcd.EtcdWatchTimedOut` after ``timeout`` seconds (``None`` or python-etcd's
        ``0``: wait for ever), and :class:`etcd.EtcdCompacted` if ``index`` is older than the
        server keeps.
        """
        if _core.classic.means_no_timeout(timeout):
            timeout = None
        changes = self._changes(key, index=index, recursive=bool(recursive), timeout=timeout)
        try:
            return await anext(changes)
        finally:
            await changes.aclose()

    def eternal_watch(
        self, key: str, index: int | None = None, recursive: bool | None = None
    ) -> AsyncGenerator[EtcdResult, None]:
        """Every change of ``key`` (or its subtree), in order, for ever.

        One stream serves the whole iteration; it is reopened after a failure from the
        revision after the last change delivered, so nothing is missed or repeated.
        """
        return self._changes(key, index=index, recursive=bool(recursive), timeout=None)

    async def _changes(
        self, key: str, *, index: int | None, recursive: bool, timeout: float | None
    ) -> AsyncGenerator[EtcdResult, None]:
        name = _core.classic.normalize_key(key)
        check.boolean(recursive, "recursive")
        timeout = check.timeout(timeout, "timeout")
        if index is not None:
            start = check.integer(index, "index", minimum=1)
        else:
            # Pin the start now, so a change made while the stream opens is not missed.
            pinned = await self.range(name, count_only=True)
            self._check_cluster_id(pinned.header)
            start = pinned.header.revision + 1
        if recursive:
            watch_key, range_end = _core.classic.subtree_range(name)
        else:
            watch_key, range_end = _core.classic.node_range(name)
        deadline = deadline_after(timeout)
        async with self.watch_stream(
            watch_key, range_end, start_revision=start, prev_kv=True
        ) as watch:
            while True:
                try:
                    response = await watch.next_response(time_left(deadline))
                except exc.EtcdWatchTimedOut:
                    raise exc.EtcdWatchTimedOut(
                        f"no change of {name} within {timeout} s",
                        operation="Watch.Watch",
                        endpoint=str(self._transport.current_endpoint),
                    ) from None
                self._check_cluster_id(response.header)
                for event in response.events:
                    if _core.classic.in_subtree(name, event.key, recursive):
                        # Only a deletion seen as it happens can be told to be an expiry: by
                        # the time history is replayed, every lease has run out.
                        live = response.revision == event.revision
                        expired = live and await self._expired(event)
                        yield _core.classic.event_result(event, response.revision, expired=expired)

    async def _expired(self, event: Event) -> bool:
        """Whether a deletion came from the key's lease running out (or being revoked)."""
        from .._core.watch import EventType

        if event.type != EventType.DELETE or event.prev_kv is None:
            return False
        lease = event.prev_kv.lease
        return bool(lease) and lease not in await self._lease_ttls(
            [lease], self._call_timeout(check.UNSET)
        )
