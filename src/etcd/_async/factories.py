"""The factories of what is built on a client: sessions, locks and elections (and their
server-side services), software transactions and namespace views.

Each factory imports its module when first called, so that a program that never takes a
lock does not load the lock code. The objects it makes get the client itself and use it
only through its public calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._core import exceptions as exc
from .._core.defaults import DEFAULT_STM_TIMEOUT, Isolation
from .._core.validation import DEFAULT_SESSION_TTL, UNSET, Timeout
from .kv import AsyncKVCalls
from .lease import AsyncLeaseCalls
from .watch import AsyncWatchCalls

if TYPE_CHECKING:
    from .._core.keys import KeyArg
    from .._core.responses import TxnResponse
    from .cache import AsyncCache
    from .concurrency import (
        AsyncElection,
        AsyncElectionService,
        AsyncLock,
        AsyncLockService,
        AsyncSession,
    )
    from .discovery import AsyncDiscovery, AsyncRegistration
    from .lease_keeper import AsyncLease
    from .mirror import AsyncMirror, _AsyncMirrorDestination
    from .namespace import AsyncNamespace
    from .recipes import (
        AsyncBarrier,
        AsyncDoubleBarrier,
        AsyncPriorityQueue,
        AsyncQueue,
        AsyncRWMutex,
    )
    from .stm import AsyncSTM

# A registered instance that dies leaves every list of its service within 10 seconds.
DEFAULT_REGISTRATION_TTL = 10


class AsyncFactories(AsyncKVCalls, AsyncWatchCalls, AsyncLeaseCalls):
    """The client's part that makes sessions, locks, elections, STM runs and namespaces."""

    __slots__ = ()

    async def session(
        self,
        ttl: int = DEFAULT_SESSION_TTL,
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
        self, name: KeyArg, *, ttl: int = DEFAULT_SESSION_TTL, session: AsyncSession | None = None
    ) -> AsyncLock:
        """A lock named ``name``, interoperable with Go's Mutex and ``etcdctl lock``.

        Without ``session``, the lock takes a session of ``ttl`` seconds when acquired and
        ends it when released.
        """
        from .concurrency import AsyncLock

        return AsyncLock(self, name, ttl, session)

    def election(
        self, name: KeyArg, *, ttl: int = DEFAULT_SESSION_TTL, session: AsyncSession | None = None
    ) -> AsyncElection:
        """An election named ``name``, interoperable with Go and ``etcdctl elect``."""
        from .concurrency import AsyncElection

        return AsyncElection(self, name, ttl, session)

    # --- Go's recipes (etcd._async.recipes) ---------------------------------------------------

    def barrier(self, name: KeyArg) -> AsyncBarrier:
        """A barrier named ``name``, interoperable with Go's ``recipe.Barrier``."""
        from .recipes import AsyncBarrier

        return AsyncBarrier(self, name)

    def double_barrier(
        self,
        name: KeyArg,
        count: int,
        *,
        ttl: int = DEFAULT_SESSION_TTL,
        session: AsyncSession | None = None,
    ) -> AsyncDoubleBarrier:
        """A barrier that ``count`` participants enter and leave together,
        interoperable with Go's ``recipe.DoubleBarrier``."""
        from .recipes import AsyncDoubleBarrier

        return AsyncDoubleBarrier(self, name, count, ttl=ttl, session=session)

    def queue(self, name: KeyArg) -> AsyncQueue:
        """A first-in first-out queue, interoperable with Go's ``recipe.Queue``."""
        from .recipes import AsyncQueue

        return AsyncQueue(self, name)

    def priority_queue(self, name: KeyArg) -> AsyncPriorityQueue:
        """A priority queue, interoperable with Go's ``recipe.PriorityQueue``."""
        from .recipes import AsyncPriorityQueue

        return AsyncPriorityQueue(self, name)

    def rw_mutex(
        self, name: KeyArg, *, ttl: int = DEFAULT_SESSION_TTL, session: AsyncSession | None = None
    ) -> AsyncRWMutex:
        """A read-write lock, interoperable with Go's ``recipe.RWMutex``."""
        from .recipes import AsyncRWMutex

        return AsyncRWMutex(self, name, ttl=ttl, session=session)

    # ------------------------------------------------------------------------------------------

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

    def cache(
        self,
        prefix: str | bytes,
        *,
        decode: Callable[[bytes], Any] | None = None,
        keys_only: bool = False,
        page_size: int | None = None,
        give_up_after: float | None = None,
    ) -> AsyncCache[Any]:
        """A live local copy of the keys under ``prefix``; see :doc:`cache`.

        ::

            async with client.cache("/services/") as services:
                await services.wait_ready()
                address = services.get("/services/billing")

        ``decode`` turns each value into what the cache stores (``json.loads``, say);
        ``keys_only=True`` stores no values at all. The prefix is listed ``page_size`` keys
        per request (10,000 by default), all at one revision. With ``give_up_after``, a
        cache that cannot reach etcd for that many seconds fails (its ``error`` says why)
        instead of trying for ever.
        """
        from .cache import AsyncCache

        return AsyncCache(
            self,
            prefix,
            decode=decode,
            keys_only=keys_only,
            page_size=page_size,
            give_up_after=give_up_after,
        )

    def mirror(
        self,
        prefix: str | bytes,
        destination: _AsyncMirrorDestination,
        *,
        dest_prefix: str | bytes | None = None,
        no_dest_prefix: bool = False,
        max_txn_ops: int = 128,
        rev: int = 0,
        page_size: int = 1000,
        give_up_after: float | None = None,
    ) -> AsyncMirror:
        """Mirror the keys under ``prefix`` to ``destination``, as ``etcdctl make-mirror``
        does; see :doc:`/mirror`.

        ::

            async with etcd.AsyncClient(endpoints=["backup:2379"]) as backup:
                async with client.mirror("/config/", backup) as mirror:
                    await mirror.wait_synced()
                    await mirror.wait_stopped()     # runs until closed, or fails

        Args:
            prefix (str | bytes): the source prefix; ``""`` mirrors every key.
            destination (etcd.AsyncClient): a client of the other cluster (or a namespace
                of one, to write under its prefix).
            dest_prefix (str | bytes | None): what replaces ``prefix`` at the start of each
                key on the destination; by default the keys keep their names.
            no_dest_prefix (bool): strip ``prefix`` from the keys instead.
            max_txn_ops (int): the most operations per destination transaction.
            rev (int): replay the changes from this source revision instead of copying
                every key first.
            page_size (int): keys per read while copying.
            give_up_after (float | None): fail once either cluster has been unreachable
                for that many seconds; by default the mirror waits for as long as it takes.
        """
        from .mirror import AsyncMirror

        return AsyncMirror(
            self,
            destination,
            prefix,
            dest_prefix=dest_prefix,
            no_dest_prefix=no_dest_prefix,
            max_txn_ops=max_txn_ops,
            rev=rev,
            page_size=page_size,
            give_up_after=give_up_after,
        )

    # --- service discovery (see :doc:`/discovery`) -----------------------------------------------

    async def register(
        self,
        service: str,
        address: str,
        metadata: Any = None,
        *,
        ttl: int = DEFAULT_REGISTRATION_TTL,
        on_lost: Callable[[exc.EtcdLeaseExpired], object] | None = None,
        on_reregistered: Callable[[AsyncRegistration], object] | None = None,
        timeout: Timeout = UNSET,
    ) -> AsyncRegistration:
        """Register ``address`` as an endpoint of ``service``, as Go's
        ``endpoints.Manager.AddEndpoint`` does, under a lease of ``ttl`` seconds kept alive.

        ::

            async with await client.register("billing", "10.0.0.5:50051", {"zone": "a"}):
                await serve()

        Returns once the key ``service/address`` is written. If the lease is lost, the key
        is written again under a new one in the background (``on_lost`` is called with
        the loss, ``on_reregistered`` with the registration once done). ``metadata`` is
        any JSON value. Closing the registration deletes the key and revokes the lease.
        """
        from .._core import discovery as rules
        from .._core import validation as check
        from .discovery import register

        service = rules.service_name(service)
        address = rules.endpoint_address(address)
        value = rules.encode_endpoint(address, metadata)
        for name, callback in (("on_lost", on_lost), ("on_reregistered", on_reregistered)):
            if callback is not None and not callable(callback):
                raise exc.EtcdTypeError(f"{name} must be callable")
        return await register(
            self,
            service,
            address,
            metadata,
            value,
            check.lease_ttl(ttl),
            on_lost=on_lost,
            on_reregistered=on_reregistered,
            timeout=timeout,
        )

    def discover(self, service: str, *, give_up_after: float | None = None) -> AsyncDiscovery:
        """The endpoints of ``service`` (keys under ``service/``), kept current, as Go's
        ``endpoints.Manager`` and its gRPC resolver read them.

        ::

            async with client.discover("billing") as billing:
                await billing.wait_ready()
                billing.addresses()

        With ``give_up_after``, a list that cannot reach etcd for that many seconds fails
        (its ``error`` says why) instead of trying for ever.
        """
        from .._core.discovery import service_name
        from .discovery import AsyncDiscovery

        return AsyncDiscovery(self, service_name(service), give_up_after=give_up_after)
