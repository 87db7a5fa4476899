"""The client, as a coroutine API; the sync client is generated from this file."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._core import classic
from .._core import exceptions as exc
from .._core import validation as check
from .._core.classic import AsyncContainsMixin, EtcdResult, Member
from .._core.client import BaseClient
from .._core.config import Endpoint
from .._core.kv import (
    Compare,
    KeyArg,
    LeaseArg,
    Op,
    Txn,
)
from .._core.responses import (
    CompactResponse,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
    decode_compact,
    decode_header,
)
from .._core.stm import DEFAULT_STM_TIMEOUT, Isolation
from .._core.validation import Timeout
from .._wire import messages as pb
from .._wire import methods
from . import io
from .auth import AsyncAuthMixin
from .cluster import AsyncClusterMixin
from .kv import AsyncKVCalls
from .maintenance import AsyncMaintenanceMixin
from .transport import AsyncTransport

# Leases, sessions, locks, elections, STM and namespaces are imported by the calls that
# make them: ``import etcd`` stays light for the programs that never use them.
if TYPE_CHECKING:
    from .._core.lease import (
        LeaseGrantResponse,
        LeaseKeepAliveResponse,
        LeaseLeasesResponse,
        LeaseTimeToLiveResponse,
    )
    from .._core.watch import Event, WatchResponse
    from .coalescing import AsyncCoalescer
    from .concurrency import (
        AsyncElection,
        AsyncElectionService,
        AsyncLock,
        AsyncLockService,
        AsyncSession,
    )
    from .lease_keeper import AsyncKeepAliver, AsyncLease
    from .namespace import AsyncNamespace
    from .stm import AsyncSTM
    from .watch_stream import AsyncWatch, AsyncWatcher

log = logging.getLogger(__name__)


class AsyncClient(
    BaseClient,
    AsyncKVCalls,
    AsyncClusterMixin,
    AsyncMaintenanceMixin,
    AsyncAuthMixin,
    AsyncContainsMixin,
):
    """A client for an etcd cluster (v3 API, over gRPC).

    ::

        client = etcd.AsyncClient()                                   # 127.0.0.1:2379
        client = etcd.AsyncClient(host="10.0.0.5", port=2379)
        client = etcd.AsyncClient(endpoints=["https://a:2379", "https://b:2379"],
                                  ca_cert="ca.pem", cert=("client.pem", "client-key.pem"))

    One client serves many concurrent tasks, over one connection per member.
    Construction does no network I/O: the first call connects. Every call has a deadline:
    ``timeout`` seconds (5 by default) unless the call passes its own ``timeout=``; pass
    ``timeout=None`` explicitly for none. Calls that fail raise subclasses of
    :class:`etcd.EtcdException`.

    All arguments but ``host`` and ``port`` are keyword-only.

    Args:
        host: a host name or address, or python-etcd's tuple of ``(host, port)`` pairs.
        port: the client port (2379, etcd's registered port).
        endpoints: ``["host:port", "https://host:port", ...]``; wins over ``host``/``port``.
        protocol: ``"http"`` or ``"https"`` for endpoints given without a scheme.
        cert: a client certificate: ``(cert_file, key_file)`` or one PEM file holding both.
        ca_cert: the CA bundle that signed the server's certificate (default: the system's).
        username: etcd user, for clusters with authentication enabled.
        password: that user's password.
        timeout: the default per-call deadline in seconds (``read_timeout`` is an alias).
        connect_timeout: how long to wait for a connection before moving on.
        allow_redirect: ``False`` makes every request require a member with a leader
            (etcd's require-leader): a member cut off from the majority refuses at once
            with :class:`etcd.EtcdNoLeader` instead of waiting or answering stale.
        allow_reconnect: ``True`` also learns the other members' URLs from the cluster
            (after the first successful call), so that losing every configured endpoint
            still leaves somewhere to go. Failover between the endpoints given is always on.
        max_request_bytes: the server's request limit, checked before sending (1.5 MiB).
        max_receive_bytes: the largest answer accepted (2 GiB).
        max_txn_ops: the server's limit of operations per transaction (128).
        retry_policy: how failed calls are retried (:class:`etcd.RetryPolicy`).
        token: an auth token issued elsewhere, used instead of a user name and password
            (it is not refreshed: when it expires, calls raise
            :class:`etcd.EtcdInvalidAuthToken`).
        tls_server_name: the name to verify the server's certificate against, when it
            differs from the host connected to.
        auto_sync_interval: refresh the endpoints from the cluster's member list every
            this many seconds (:meth:`start_auto_sync`), as Go's ``AutoSyncInterval``.
        insecure: allow credentials to travel without TLS to a host other than this
            machine (refused otherwise, and logged as a warning when allowed).
        coalesce: send concurrent reads of one key, and concurrent small writes, as one
            transaction each, while two requests of their kind are in flight; every call
            keeps its own result, error and linearizability (see "Coalescing" in the docs).
    """

    _transport: AsyncTransport
    _watch_stream: AsyncWatcher | None
    _lease_keeper: AsyncKeepAliver | None
    _coalescer: AsyncCoalescer | None

    def _start(self) -> None:
        self._transport = AsyncTransport(self._config, self._retry_policy)
        self._coalescer = None
        if self._config.coalesce:
            from .coalescing import AsyncCoalescer

            self._coalescer = AsyncCoalescer(
                self._transport,
                max_ops=self._config.max_txn_ops,
                # Half the request limit: room for the transaction's own encoding.
                max_bytes=self._config.max_request_bytes // 2,
            )
        self._watch_stream = None
        self._lease_keeper = None
        self._made_on_first_use = io.Lock()
        if self._auto_sync_interval is not None:
            self.start_auto_sync(self._auto_sync_interval)

    @property
    def _watcher(self) -> AsyncWatcher:
        """The stream every watch of this client shares, made on first use (a program
        that never watches does not import the watch modules)."""
        with self._made_on_first_use:
            if self._watch_stream is None:
                self._transport.check_usable()
                from .watch_stream import AsyncWatcher

                self._watch_stream = AsyncWatcher(self._transport)
            return self._watch_stream

    @property
    def _keepaliver(self) -> AsyncKeepAliver:
        """The keep-alive stream of this client's leases, made on first use (most programs
        never keep a lease, and its modules stay unimported)."""
        with self._made_on_first_use:
            if self._lease_keeper is None:
                from .lease_keeper import AsyncKeepAliver

                self._lease_keeper = AsyncKeepAliver(self._transport)
            return self._lease_keeper

    # --- lifecycle ----------------------------------------------------------------------

    async def close(self) -> None:
        """Stop every watch and close every connection. The client cannot be used afterwards.

        Watches still being iterated raise :class:`etcd.EtcdClientClosed`.
        """
        await self.stop_auto_sync()
        if self._watch_stream is not None:
            await self._watch_stream.close()
        if self._lease_keeper is not None:
            await self._lease_keeper.close()
        await self._transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def endpoints(self) -> list[str]:
        """The URLs of the members this client talks to."""
        return [endpoint.url for endpoint in self._transport.endpoints]

    def _endpoints_for_repr(self) -> tuple[Endpoint, ...]:
        return self._transport.endpoints

    # --- the generic call ---------------------------------------------------------------

    async def do(self, op: Op, *, timeout: Timeout = check.UNSET) -> Any:
        """Run one operation built with :class:`etcd.Op` and return its typed result."""
        request = self._prepare(op)
        if self._coalescer is not None:
            lane = self._coalescer.lane_of(op)
            if lane is not None:
                return await self._coalescer.call(lane, op, request, self._call_timeout(timeout))
        response = await self._transport.unary(
            op.method, request, timeout=self._call_timeout(timeout), mutation=op.is_mutation
        )
        return op.decode(response)

    # --- KV -----------------------------------------------------------------------------

    async def compact(
        self, revision: int, *, physical: bool = False, timeout: Timeout = check.UNSET
    ) -> CompactResponse:
        """Discard the history before ``revision`` (etcd's ``Compact``).

        With ``physical=True`` the call returns only once the space is reclaimed in the
        backend.
        """
        request = pb.CompactionRequest(
            revision=check.integer(revision, "revision", minimum=1),
            physical=check.boolean(physical, "physical"),
        )
        response = await self._transport.unary(
            methods.KV_COMPACT, request, timeout=self._call_timeout(timeout), mutation=True
        )
        return decode_compact(response)

    # --- leases used by the python-etcd interface (TTLs) ---------------------------------

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
            log.debug("lease %x not released (it expires by itself): %s", lease, error)

    # --- the python-etcd interface ------------------------------------------------------

    # The cluster the python-etcd reads expect; learned from the first one unless set.
    _expected_cluster_id: int | None = None

    @property
    def base_uri(self) -> str:
        """The URL of the member in use (python-etcd's ``base_uri``)."""
        return self._transport.current_endpoint.url

    @property
    def host(self) -> str:
        """The host of the member in use."""
        return self._transport.current_endpoint.host

    @property
    def port(self) -> int:
        """The client port of the member in use."""
        return self._transport.current_endpoint.port

    @property
    def protocol(self) -> str:
        """``"https"`` or ``"http"``: how the member in use is reached."""
        return "https" if self._transport.current_endpoint.secure else "http"

    @property
    def read_timeout(self) -> float | None:
        """The default per-call deadline in seconds (``None``: none), python-etcd's name."""
        return self._config.timeout

    @property
    def allow_redirect(self) -> bool:
        """``False`` when every request requires a member with a leader."""
        return not self._config.require_leader

    @property
    def allow_reconnect(self) -> bool:
        """``True`` when the client also learns the other members' URLs from the cluster."""
        return self._config.allow_reconnect

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
        self._expected_cluster_id = classic.parse_cluster_id(value)

    def _check_cluster_id(self, header: ResponseHeader) -> None:
        expected = self._expected_cluster_id
        if header.cluster_id:
            self._expected_cluster_id = header.cluster_id
        changed = classic.cluster_id_change(
            expected, header.cluster_id, endpoint=str(self._transport.current_endpoint)
        )
        if changed is not None:
            raise changed

    def _classic_timeout(self, timeout: Timeout) -> float | None:
        # python-etcd read a timeout of 0 as "no deadline"; the v3 calls refuse it.
        if classic.means_no_timeout(timeout):
            return None
        return self._call_timeout(timeout)

    async def contains(self, key: str, *, timeout: Timeout = check.UNSET) -> bool:
        """Whether :meth:`get` would find ``key``: a value, keys below it, or the root.

        ``key in client``, python-etcd's test, calls this on the sync client (on the
        coroutine client ``in`` cannot wait for the answer). The key and the keys below it
        are read at one revision.
        """
        name = classic.normalize_key(key)
        response = await self.txn(
            classic.contains_txn(name), timeout=self._classic_timeout(timeout)
        )
        self._check_cluster_id(response.header)
        return classic.contains_result(name, response)

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
        name = classic.normalize_key(key)
        serializable = not check.boolean(quorum, "quorum")
        deadline = self._classic_timeout(timeout)
        exact = await self.range(name, serializable=serializable, timeout=deadline)
        self._check_cluster_id(exact.header)
        below = None
        if not exact.kvs or name == "/":
            prefix = classic.directory_prefix(name)
            below = await self.range(
                prefix, prefix=True, serializable=serializable, timeout=deadline
            )
            self._check_cluster_id(below.header)
        kvs = list(exact.kvs) + (list(below.kvs) if below else [])
        ttls = await self._lease_ttls((kv.lease for kv in kvs), deadline)
        return classic.read_result(name, exact, below, check.boolean(recursive, "recursive"), ttls)

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
        """
        name = classic.normalize_key(key)
        if not append:
            classic.refuse_root(name)
        if check.boolean(dir, "dir"):
            raise exc.EtcdNotSupported(
                f"cannot create the directory {name}: etcd v3 has no directories. A directory "
                "exists while keys exist below it; write those keys instead"
            )
        if check.boolean(refresh, "refresh"):
            if value is not None:
                raise exc.EtcdValueError("refresh=True keeps the value: pass value=None")
            return await self.refresh(name, ttl, timeout=timeout)
        data = classic.value_text(value)
        condition = classic.WriteCondition.build(prevValue, prevIndex, prevExist)
        deadline = self._classic_timeout(timeout)
        if ttl is not None:
            check.lease_ttl(ttl, "ttl")
        if check.boolean(append, "append") and (condition != classic.WriteCondition()):
            raise exc.EtcdValueError("append=True cannot be combined with prevValue/Index/Exist")
        lease = (await self.lease_grant(ttl, timeout=deadline)).id if ttl is not None else 0
        try:
            if append:
                result = await self._append(name, data, lease, ttl, deadline)
            else:
                response = await self.txn(
                    classic.write_txn(name, data, lease, condition), timeout=deadline
                )
                result = classic.write_result(name, data, lease, ttl, condition, response)
        except BaseException:
            await self._release_unused_lease(lease, deadline)
            raise
        previous = result._prev_node
        if previous is not None and previous.lease and previous.lease != lease:
            await self._release_unused_lease(previous.lease, deadline)
        return result

    async def _append(
        self, directory: str, data: bytes, lease: int, ttl: int | None, timeout: float | None
    ) -> EtcdResult:
        condition = classic.WriteCondition(prev_exist=False)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                raise exc.EtcdTimeout(
                    f"append below {directory} kept losing races for {timeout} s",
                    operation="KV.Txn",
                )
            counted = await self.range(directory, count_only=True, timeout=timeout)
            revision = counted.header.revision
            name, txn = classic.append_txn(directory, revision, data, lease)
            response = await self.txn(txn, timeout=timeout)
            if response.succeeded:
                return classic.write_result(name, data, lease, ttl, condition, response)
            # Another key was created below the directory meanwhile: name after a newer one.

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
        return await self.write(
            obj.key,
            obj.value,
            ttl=obj.ttl,
            prevIndex=obj.modifiedIndex if not obj.dir else None,
            prevExist=True,
            timeout=timeout,
        )

    async def refresh(
        self, key: str, ttl: int | None, *, timeout: Timeout = check.UNSET
    ) -> EtcdResult:
        """Give ``key`` a new TTL of ``ttl`` seconds without changing its value."""
        name = classic.normalize_key(key)
        classic.refuse_root(name)
        deadline = self._classic_timeout(timeout)
        if ttl is None:
            raise exc.EtcdValueError("refresh needs a ttl")
        lease = (await self.lease_grant(ttl, timeout=deadline)).id
        raw = name.encode("utf-8")
        txn = (
            Txn()
            .If(Compare.create_revision(raw, ">", 0))
            .Then(Op.range(raw), Op.put(raw, lease=lease, ignore_value=True))
            .Else(Op.range(raw))
        )
        try:
            response = await self.txn(txn, timeout=deadline)
            if not response.succeeded:
                raise exc.EtcdKeyNotFound(f"Key not found : {name}")
        except BaseException:
            await self._release_unused_lease(lease, deadline)
            raise
        before = response.responses[0]
        assert isinstance(before, RangeResponse)
        previous = before.kvs[0]
        await self._release_unused_lease(previous.lease, deadline)
        condition = classic.WriteCondition(prev_exist=True)
        return classic.write_result(name, previous.value, lease, int(ttl), condition, response)

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
        name = classic.normalize_key(key)
        classic.refuse_root(name)
        condition = classic.WriteCondition.build(prevValue, prevIndex, None)
        recursive_ = bool(recursive) and check.boolean(recursive, "recursive")
        directory = bool(dir) and check.boolean(dir, "dir")
        deadline = self._classic_timeout(timeout)
        response = await self.txn(classic.delete_txn(name, recursive_, condition), timeout=deadline)
        result = classic.delete_result(name, recursive_, directory, condition, response)
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
        if classic.means_no_timeout(timeout):
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
        name = classic.normalize_key(key)
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
            watch_key, range_end = classic.subtree_range(name)
        else:
            watch_key, range_end = name.encode("utf-8"), None
        deadline = None if timeout is None else time.monotonic() + timeout
        async with self.watch_stream(
            watch_key, range_end, start_revision=start, prev_kv=True
        ) as watch:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                try:
                    response = await watch.next_response(remaining)
                except exc.EtcdWatchTimedOut:
                    raise exc.EtcdWatchTimedOut(
                        f"no change of {name} within {timeout} s",
                        operation="Watch.Watch",
                        endpoint=str(self._transport.current_endpoint),
                    ) from None
                self._check_cluster_id(response.header)
                for event in response.events:
                    if classic.in_subtree(name, event.key, recursive):
                        # Only a deletion seen as it happens can be told to be an expiry: by
                        # the time history is replayed, every lease has run out.
                        live = response.revision == event.revision
                        expired = live and await self._expired(event)
                        yield classic.event_result(event, response.revision, expired=expired)

    # --- watches ------------------------------------------------------------------------

    def watch_stream(
        self,
        key: KeyArg,
        range_end: KeyArg | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        start_revision: int | None = None,
        prev_kv: bool = False,
        no_put: bool = False,
        no_delete: bool = False,
        progress_notify: bool = False,
        fragment: bool = False,
        callback: Callable[[WatchResponse], object] | None = None,
        on_error: Callable[[exc.EtcdException], object] | None = None,
    ) -> AsyncWatch:
        """Watch a key, a prefix or a range: every change, in order, none lost or repeated.

        ::

            with client.watch_stream("/config/", prefix=True) as watch:
                for event in watch:          # etcd.Event: type, kv, prev_kv
                    apply(event)

        ``start_revision`` replays history from that revision. Without it the watch sees
        the changes made after the server creates it: :meth:`etcd.Watch.wait_created` waits
        for that; or pass the revision of a read plus one to leave no gap at all.
        ``prev_kv`` adds each key's previous value; ``no_put``/``no_delete`` filter events
        out on the server; ``progress_notify`` asks for periodic empty
        responses when idle; ``fragment`` lets the server split huge revisions (they are
        joined again before delivery). With ``callback``, each response with events is
        passed to it on a thread of the watch's own (exceptions it raises are logged and
        the watch goes on); ``on_error`` receives the error that ends the watch.

        All watches of a client share one gRPC stream. When it breaks, it is reopened on a
        healthy member from the revision after the last one delivered. A watch whose
        resume point was compacted fails with :class:`etcd.EtcdCompacted`.
        """
        from .._core.watch import WatchSpec

        spec = WatchSpec.build(
            key,
            range_end,
            prefix=prefix,
            from_key=from_key,
            start_revision=start_revision,
            prev_kv=prev_kv,
            no_put=no_put,
            no_delete=no_delete,
            progress_notify=progress_notify,
            fragment=fragment,
        )
        return self._watcher.watch(spec, callback, on_error)

    def watch_prefix(self, prefix: KeyArg, **options: Any) -> AsyncWatch:
        """:meth:`watch_stream` of every key starting with ``prefix``."""
        return self.watch_stream(prefix, prefix=True, **options)

    async def watch_once(
        self,
        key: KeyArg,
        range_end: KeyArg | None = None,
        *,
        timeout: float | None = None,
        **options: Any,
    ) -> Event:
        """Wait for the next change (as :meth:`watch_stream` would see it) and return it.

        Raises :class:`etcd.EtcdWatchTimedOut` after ``timeout`` seconds.
        """
        timeout = check.timeout(timeout, "timeout")
        if "callback" in options or "on_error" in options:
            raise exc.EtcdTypeError("watch_once returns the event: it takes no callback")
        async with self.watch_stream(key, range_end, **options) as watch:
            return await watch.next_event(timeout)

    def request_progress(self) -> None:
        """Ask the server to tell every watch how far it is (a progress notification)."""
        self._watcher.request_progress()

    async def _expired(self, event: Event) -> bool:
        """Whether a deletion came from the key's lease running out (or being revoked)."""
        from .._core.watch import EventType

        if event.type != EventType.DELETE or event.prev_kv is None:
            return False
        lease = event.prev_kv.lease
        return bool(lease) and lease not in await self._lease_ttls(
            [lease], self._call_timeout(check.UNSET)
        )

    # --- cluster, python-etcd style -------------------------------------------------------

    async def _member_list(self, timeout: Timeout = check.UNSET) -> list[Member]:
        response = await self._transport.unary(
            methods.CLUSTER_MEMBER_LIST,
            pb.MemberListRequest(linearizable=True),
            timeout=self._call_timeout(timeout),
            mutation=False,
        )
        return [classic.decode_member(member) for member in response.members]

    async def _status(self, timeout: Timeout = check.UNSET) -> Any:
        return await self._transport.unary(
            methods.MAINTENANCE_STATUS,
            pb.StatusRequest(),
            timeout=self._call_timeout(timeout),
            mutation=False,
        )

    @property
    async def machines(self) -> list[str]:
        """The client URLs of every member of the cluster."""
        return [url for member in await self._member_list() for url in member.client_urls]

    @property
    async def members(self) -> dict[str, Member]:
        """The members, by ID in hex as etcd v2 wrote it."""
        return {f"{member.id:x}": member for member in await self._member_list()}

    @property
    async def leader(self) -> Member:
        """The cluster's leader, as the member in use sees it.

        Raises :class:`etcd.EtcdNoLeader` while the cluster has none (an election, or a
        member cut off from the majority).
        """
        status = await self._status()
        for member in await self._member_list():
            if member.id == status.leader:
                return member
        raise exc.EtcdNoLeader(
            f"{self._transport.current_endpoint} knows no leader right now",
            endpoint=str(self._transport.current_endpoint),
        )

    @property
    async def version(self) -> str:
        """The etcd version of the member in use."""
        return str((await self._status()).version)

    @property
    async def stats(self) -> dict[str, Any]:
        """The member in use, as python-etcd's ``stats`` (from the v3 status call)."""
        status = await self._status()
        members = await self._member_list()
        own = next((m for m in members if m.id == status.header.member_id), None)
        return {
            "id": f"{status.header.member_id:x}",
            "name": own.name if own else "",
            "state": "StateLeader" if status.leader == status.header.member_id else "StateFollower",
            "leaderInfo": {"leader": f"{status.leader:x}"},
            "version": status.version,
            "dbSize": status.dbSize,
            "raftIndex": status.raftIndex,
            "raftTerm": status.raftTerm,
        }

    @property
    def leader_stats(self) -> dict[str, Any]:
        """Always raises :class:`etcd.EtcdNotSupported`, for want of a v3 equivalent.

        etcd v2's leader statistics (each follower's latency and message counts) have no
        v3 API; etcd exports them as Prometheus metrics on ``/metrics`` instead.
        """
        raise exc.EtcdNotSupported(
            "leader_stats: etcd v3 has no API for the leader's statistics of its followers; "
            "read the etcd_network_peer_* metrics on the members' /metrics URL instead"
        )

    @property
    def store_stats(self) -> dict[str, Any]:
        """Always raises :class:`etcd.EtcdNotSupported`, for want of a v3 equivalent.

        etcd v2 counted the operations of its store; v3 has no API for such counters (its
        ``/metrics`` URL has the etcd_mvcc_* ones). :attr:`etcd.Client.stats` has the size and
        indexes.
        """
        raise exc.EtcdNotSupported(
            "store_stats: etcd v3 has no API for store operation counters; client.stats has "
            "the database size and raft indexes, the members' /metrics URL the etcd_mvcc_* "
            "counters"
        )

    @property
    def cluster_version(self) -> str:
        """Always raises :class:`etcd.EtcdNotSupported`, for want of a v3 equivalent.

        The cluster version came from the v2 ``/version`` URL; etcd v3's status call only
        gives each member's own version, which :attr:`etcd.Client.version` returns.
        """
        raise exc.EtcdNotSupported(
            "cluster_version: etcd v3's API does not report the cluster version; "
            "client.version gives the version of the member in use"
        )

    # --- leases -------------------------------------------------------------------------

    async def lease_grant(
        self, ttl: int, lease_id: int = 0, *, timeout: Timeout = check.UNSET
    ) -> LeaseGrantResponse:
        """Grant a lease of ``ttl`` seconds (``lease_id`` 0: the server picks the ID).

        The server may round a short TTL up to its minimum. Nothing keeps this lease alive:
        see :meth:`lease` for one that is refreshed in the background.
        """
        from .._core.lease import decode_grant

        request = pb.LeaseGrantRequest(
            TTL=check.lease_ttl(ttl), ID=check.integer(lease_id, "lease_id", minimum=0)
        )
        response = await self._transport.unary(
            methods.LEASE_GRANT, request, timeout=self._call_timeout(timeout), mutation=True
        )
        if response.error:
            raise exc.EtcdServerError(
                f"Lease.LeaseGrant failed: {response.error}", operation="Lease.LeaseGrant"
            )
        return decode_grant(response)

    async def lease_revoke(
        self, lease: LeaseArg, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Revoke a lease: every key attached to it is deleted."""
        request = pb.LeaseRevokeRequest(ID=self._existing_lease(lease))
        response = await self._transport.unary(
            methods.LEASE_REVOKE, request, timeout=self._call_timeout(timeout), mutation=True
        )
        return decode_header(response.header)

    async def lease_time_to_live(
        self, lease: LeaseArg, *, keys: bool = False, timeout: Timeout = check.UNSET
    ) -> LeaseTimeToLiveResponse:
        """The remaining TTL of a lease (-1 once it is gone), and its keys if asked."""
        from .._core.lease import decode_time_to_live

        request = pb.LeaseTimeToLiveRequest(
            ID=self._existing_lease(lease), keys=check.boolean(keys, "keys")
        )
        response = await self._transport.unary(
            methods.LEASE_TIME_TO_LIVE, request, timeout=self._call_timeout(timeout), mutation=False
        )
        return decode_time_to_live(response)

    async def lease_leases(self, *, timeout: Timeout = check.UNSET) -> LeaseLeasesResponse:
        """The IDs of every lease in the cluster."""
        from .._core.lease import decode_leases

        response = await self._transport.unary(
            methods.LEASE_LEASES,
            pb.LeaseLeasesRequest(),
            timeout=self._call_timeout(timeout),
            mutation=False,
        )
        return decode_leases(response)

    async def lease_keep_alive_once(
        self, lease: LeaseArg, *, timeout: Timeout = check.UNSET
    ) -> LeaseKeepAliveResponse:
        """Refresh a lease once. Raises :class:`etcd.EtcdLeaseNotFound` if it is gone."""
        from .._core.lease import decode_keep_alive

        lease_id = self._existing_lease(lease)
        request = pb.LeaseKeepAliveRequest(ID=lease_id)
        response, endpoint = await self._transport.first_response(
            methods.LEASE_KEEP_ALIVE, request, timeout=self._call_timeout(timeout)
        )
        if response.TTL <= 0:
            raise exc.EtcdLeaseNotFound(
                f"lease {lease_id:x} not found (expired or revoked)",
                operation="Lease.LeaseKeepAlive",
                endpoint=str(endpoint),
            )
        return decode_keep_alive(response)

    async def lease(
        self,
        ttl: int,
        *,
        lease_id: int = 0,
        keep_alive: bool = True,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
        timeout: Timeout = check.UNSET,
    ) -> AsyncLease:
        """Grant a lease and keep it alive in the background until it is revoked.

        ::

            with client.lease(ttl=10) as lease:
                client.put("/service/me", "up", lease=lease)
                ...                       # the key lives as long as the block

        All leases of a client share one keep-alive stream, refreshed a third of the TTL
        after each refresh and moved to another member when one fails. If the lease is
        lost anyway (revoked elsewhere, or unreachable for a whole TTL), ``on_lost`` is
        called, :meth:`etcd.Lease.wait_lost` returns, and using the lease raises
        :class:`etcd.EtcdLeaseExpired`.
        """
        from .lease_keeper import AsyncLease

        granted = await self.lease_grant(ttl, lease_id, timeout=timeout)
        lease = AsyncLease(self, granted.id, granted.ttl, on_lost=on_lost)
        if check.boolean(keep_alive, "keep_alive"):
            lease.keep_alive()
        return lease

    def _existing_lease(self, lease: object) -> int:
        lease_id = check.lease_id(lease)
        if not lease_id:
            raise exc.EtcdValueError("a lease ID must not be 0")
        return lease_id

    # --- sessions, locks, elections ------------------------------------------------------

    async def session(
        self,
        ttl: int = 60,
        *,
        lease: AsyncLease | None = None,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
    ) -> AsyncSession:
        """A session (a lease kept alive) for locks and elections, as Go's
        ``concurrency.NewSession``; the default TTL is Go's 60 seconds."""
        from .concurrency import AsyncSession

        if lease is None:
            lease = await self.lease(ttl, on_lost=on_lost)
        elif on_lost is not None:
            raise exc.EtcdValueError("with lease=, give on_lost to client.lease() instead")
        return AsyncSession(self, lease)

    def lock(
        self, name: KeyArg, *, ttl: int = 60, session: AsyncSession | None = None
    ) -> AsyncLock:
        """A lock named ``name``, interoperable with Go's Mutex and ``etcdctl lock``.

        Without ``session``, the lock takes a session of ``ttl`` seconds when acquired and
        ends it when released.
        """
        from .concurrency import AsyncLock

        return AsyncLock(self, name, ttl, session)

    def election(
        self, name: KeyArg, *, ttl: int = 60, session: AsyncSession | None = None
    ) -> AsyncElection:
        """An election named ``name``, interoperable with Go and ``etcdctl elect``."""
        from .concurrency import AsyncElection

        return AsyncElection(self, name, ttl, session)

    @property
    def lock_service(self) -> AsyncLockService:
        """The server-side lock service (``v3lockpb.Lock``)."""
        from .concurrency import AsyncLockService

        return AsyncLockService(self)

    @property
    def election_service(self) -> AsyncElectionService:
        """The server-side election service (``v3electionpb.Election``)."""
        from .concurrency import AsyncElectionService

        return AsyncElectionService(self)

    # --- software transactional memory and namespaces -----------------------------------

    async def stm(
        self,
        apply: Callable[[AsyncSTM], Awaitable[object]],
        *,
        isolation: Isolation | str = Isolation.SERIALIZABLE_SNAPSHOT,
        prefetch: Iterable[str | bytes] = (),
        timeout: float | None = DEFAULT_STM_TIMEOUT,
        max_retries: int | None = None,
    ) -> TxnResponse:
        """Run ``apply(stm)`` as a software transaction, retried until it commits.

        ``apply`` reads and writes through the :class:`etcd.AsyncSTM` handle it is given; its
        writes are applied in one transaction, only if what it read (and, at
        ``SERIALIZABLE_SNAPSHOT``, what it writes) was not changed meanwhile. Otherwise it
        runs again. The isolation levels are Go's; see :doc:`stm`.
        """
        from .stm import run_stm

        return await run_stm(
            self,
            apply,
            isolation=isolation,
            prefetch=prefetch,
            timeout=timeout,
            max_retries=max_retries,
        )

    def namespace(self, prefix: str | bytes) -> AsyncNamespace:
        """A view of the keys under ``prefix``: KV, watches and leases, with keys given and
        returned relative to it. See :doc:`namespace`."""
        from .namespace import AsyncNamespace

        return AsyncNamespace(self, prefix)
