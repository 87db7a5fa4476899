"""A view of the key space under one prefix: the semantics of Go's ``namespace`` package.

:class:`AsyncNamespace` prefixes every key it sends and strips the prefix from every key
it returns, so code written against a client runs unchanged inside a namespace. The
rewriting is pure, in :mod:`etcd._core.namespace`; this module only wires it to a client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Protocol

from .._core import exceptions as exc
from .._core import validation as check
from .._core.keys import KeyArg
from .._core.kv import LeaseArg, Op
from .._core.lease import (
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseLeasesResponse,
    LeaseTimeToLiveResponse,
)
from .._core.namespace import (
    prefix_op,
    prefix_range,
    strip_any,
    strip_event,
    strip_key,
    strip_watch_response,
)
from .._core.responses import (
    CompactResponse,
    ResponseHeader,
)
from .._core.validation import Timeout
from .._core.watch import Event, WatchResponse, WatchSpec
from .kv import AsyncKVMethods
from .lease_keeper import AsyncLease
from .watch import AsyncWatchMethods
from .watch_stream import AsyncWatch

# --- the shell ---------------------------------------------------------------------------------


class _AsyncNamespaceClient(Protocol):
    """What an :class:`AsyncNamespace` needs of the client it wraps (:class:`etcd.AsyncClient`
    has it)."""

    async def do(self, op: Op, *, timeout: Timeout = ...) -> Any: ...

    async def compact(
        self, revision: int, *, physical: bool = ..., timeout: Timeout = ...
    ) -> CompactResponse: ...

    def watch_stream(
        self,
        key: KeyArg,
        range_end: KeyArg | None = ...,
        *,
        start_revision: int | None = ...,
        prev_kv: bool = ...,
        no_put: bool = ...,
        no_delete: bool = ...,
        progress_notify: bool = ...,
        fragment: bool = ...,
        callback: Callable[[WatchResponse], object] | None = ...,
        on_error: Callable[[exc.EtcdException], object] | None = ...,
    ) -> AsyncWatch: ...

    async def lease_grant(
        self, ttl: int, lease_id: int = ..., *, timeout: Timeout = ...
    ) -> LeaseGrantResponse: ...

    async def lease_revoke(self, lease: LeaseArg, *, timeout: Timeout = ...) -> ResponseHeader: ...

    async def lease_time_to_live(
        self, lease: LeaseArg, *, keys: bool = ..., timeout: Timeout = ...
    ) -> LeaseTimeToLiveResponse: ...

    async def lease_leases(self, *, timeout: Timeout = ...) -> LeaseLeasesResponse: ...

    async def lease_keep_alive_once(
        self, lease: LeaseArg, *, timeout: Timeout = ...
    ) -> LeaseKeepAliveResponse: ...

    async def lease(
        self,
        ttl: int,
        *,
        lease_id: int = ...,
        keep_alive: bool = ...,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = ...,
        timeout: Timeout = ...,
    ) -> AsyncLease: ...


class AsyncNamespacedWatch:
    """A :class:`etcd.AsyncWatch` seen through an :class:`AsyncNamespace`: the same interface, with
    the namespace's prefix taken off every event's key."""

    def __init__(self, watch: AsyncWatch, prefix: bytes) -> None:
        self.watch = watch
        """The underlying watch (its keys are the store's, prefix included)."""
        self.prefix = prefix

    def __aiter__(self) -> AsyncNamespacedWatch:
        return self

    async def __anext__(self) -> Event:
        return strip_event(self.prefix, await anext(self.watch))

    async def responses(self, *, progress: bool = False) -> AsyncIterator[WatchResponse]:
        """Each server response in turn; see :meth:`etcd.AsyncWatch.responses`."""
        async for response in self.watch.responses(progress=progress):
            yield strip_watch_response(self.prefix, response)

    async def next_response(self, timeout: float | None = None) -> WatchResponse:
        """The next response; see :meth:`etcd.Watch.next_response`."""
        return strip_watch_response(self.prefix, await self.watch.next_response(timeout))

    async def next_event(self, timeout: float | None = None) -> Event:
        """The next event; see :meth:`etcd.Watch.next_event`."""
        return strip_event(self.prefix, await self.watch.next_event(timeout))

    @property
    def next_revision(self) -> int:
        """The revision this watch resumes from."""
        return self.watch.next_revision

    async def wait_created(self, timeout: float | None = None) -> bool:
        """Wait until the server confirmed the watch; ``False`` on timeout."""
        return await self.watch.wait_created(timeout)

    def cancel(self) -> None:
        """Stop the watch."""
        self.watch.cancel()

    async def __aenter__(self) -> AsyncNamespacedWatch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cancel()

    def __repr__(self) -> str:
        return f"<NamespacedWatch prefix={self.prefix!r} {self.watch!r}>"


class AsyncNamespace(AsyncKVMethods, AsyncWatchMethods["AsyncNamespacedWatch"]):
    """The keys under ``prefix``, as if they were the whole store.

    ::

        app = etcd.AsyncNamespace(client, "/apps/billing/")
        await app.put("config", "v1")                # writes /apps/billing/config
        (await app.range(etcd.ALL_KEYS)).kvs[0].key  # b"config"

    Every key given is relative to the prefix, and every key returned (in ranges, previous
    values, transaction results and watch events) has the prefix taken off. Ranges stop
    at the end of the namespace. Leases are not namespaced: use the client's.
    """

    def __init__(self, client: _AsyncNamespaceClient, prefix: str | bytes) -> None:
        self._client = client
        self._prefix = check.key_bytes(prefix, "namespace prefix")

    @property
    def prefix(self) -> bytes:
        """The prefix of every key of this namespace, in the store."""
        return self._prefix

    @property
    def client(self) -> _AsyncNamespaceClient:
        """The client this namespace sends through."""
        return self._client

    def __repr__(self) -> str:
        return f"<Namespace {self._prefix!r} of {self._client!r}>"

    def namespace(self, prefix: str | bytes) -> AsyncNamespace:
        """The namespace under ``prefix`` inside this one."""
        return AsyncNamespace(
            self._client, self._prefix + check.key_bytes(prefix, "namespace prefix")
        )

    # --- KV -----------------------------------------------------------------------------

    async def do(self, op: Op, *, timeout: Timeout = check.UNSET) -> Any:
        """Run one operation (keys relative to the namespace) and return its result."""
        if not isinstance(op, Op):
            raise exc.EtcdTypeError(
                f"expected an operation built with etcd.Op, not {type(op).__name__}"
            )
        return strip_any(
            self._prefix, await self._client.do(prefix_op(self._prefix, op), timeout=timeout)
        )

    async def compact(
        self, revision: int, *, physical: bool = False, timeout: Timeout = check.UNSET
    ) -> CompactResponse:
        """Compact the whole store's history (revisions are not namespaced)."""
        return await self._client.compact(revision, physical=physical, timeout=timeout)

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
    ) -> AsyncNamespacedWatch:
        """Watch keys of the namespace; see :meth:`etcd.Client.watch_stream`.

        Events (and the responses given to ``callback``) carry keys relative to the
        namespace.
        """
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
        start, end = prefix_range(self._prefix, spec.key, spec.range_end)
        stripped: Callable[[WatchResponse], object] | None = None
        if callback is not None:
            user_callback = callback
            namespace_prefix = self._prefix

            def stripped(response: WatchResponse) -> object:
                return user_callback(strip_watch_response(namespace_prefix, response))

        watch = self._client.watch_stream(
            start,
            end or None,
            start_revision=spec.start_revision or None,
            prev_kv=spec.prev_kv,
            no_put=spec.no_put,
            no_delete=spec.no_delete,
            progress_notify=spec.progress_notify,
            fragment=spec.fragment,
            callback=stripped,
            on_error=on_error,
        )
        return AsyncNamespacedWatch(watch, self._prefix)

    # --- leases: their IDs are cluster-wide; the keys a lease reports are namespaced ----------

    async def lease_grant(
        self, ttl: int, lease_id: int = 0, *, timeout: Timeout = check.UNSET
    ) -> LeaseGrantResponse:
        """:meth:`etcd.Client.lease_grant` (leases are not namespaced)."""
        return await self._client.lease_grant(ttl, lease_id, timeout=timeout)

    async def lease_revoke(
        self, lease: LeaseArg, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """:meth:`etcd.Client.lease_revoke`: deletes the lease's keys, in and out of here."""
        return await self._client.lease_revoke(lease, timeout=timeout)

    async def lease_time_to_live(
        self, lease: LeaseArg, *, keys: bool = False, timeout: Timeout = check.UNSET
    ) -> LeaseTimeToLiveResponse:
        """:meth:`etcd.Client.lease_time_to_live`, listing only the keys of the namespace."""
        response = await self._client.lease_time_to_live(lease, keys=keys, timeout=timeout)
        response.keys = [
            strip_key(self._prefix, key) for key in response.keys if key.startswith(self._prefix)
        ]
        return response

    async def lease_leases(self, *, timeout: Timeout = check.UNSET) -> LeaseLeasesResponse:
        """:meth:`etcd.Client.lease_leases` (every lease of the cluster)."""
        return await self._client.lease_leases(timeout=timeout)

    async def lease_keep_alive_once(
        self, lease: LeaseArg, *, timeout: Timeout = check.UNSET
    ) -> LeaseKeepAliveResponse:
        """:meth:`etcd.Client.lease_keep_alive_once`."""
        return await self._client.lease_keep_alive_once(lease, timeout=timeout)

    async def lease(
        self,
        ttl: int,
        *,
        lease_id: int = 0,
        keep_alive: bool = True,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
        timeout: Timeout = check.UNSET,
    ) -> AsyncLease:
        """:meth:`etcd.Client.lease`: a lease kept alive, usable for keys of the namespace."""
        return await self._client.lease(
            ttl, lease_id=lease_id, keep_alive=keep_alive, on_lost=on_lost, timeout=timeout
        )
