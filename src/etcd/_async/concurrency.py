"""Sessions, locks and elections (asyncio), interoperable with Go and etcdctl.

The keys and transactions come from :mod:`etcd._core.concurrency`; this module only runs them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from .._core import concurrency as recipes
from .._core import exceptions as exc
from .._core import validation as check
from .._core.classic import means_no_timeout
from .._core.compare import Compare
from .._core.concurrency import LeaderKey
from .._core.deadline import deadline_after, deadline_passed, time_left
from .._core.event_hub import Operation, hub_of
from .._core.keys import KeyArg
from .._core.kv import Op, RangeOp, Txn
from .._core.responses import (
    KeyValue,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
    decode_header,
    decode_kv,
)
from .._core.validation import DEFAULT_SESSION_TTL, Timeout
from .._core.watch import Event, EventType
from .._wire import messages as pb
from .._wire import methods
from .._wire.methods import Method
from .operations import run_operation

if TYPE_CHECKING:
    from .lease_keeper import AsyncLease
    from .transport import AsyncTransport
    from .watch_stream import AsyncWatch


class _AsyncConcurrencyClient(Protocol):
    """What sessions, locks and elections need of a client (:class:`etcd.AsyncClient` has
    it): a few KV and watch calls, sessions, and the transport for the server-side
    services."""

    _transport: AsyncTransport

    async def session(self, ttl: int = ...) -> AsyncSession: ...

    async def do(self, op: Op, *, timeout: Timeout = ...) -> Any: ...

    async def range(self, key: KeyArg) -> RangeResponse: ...

    async def txn(self, compare: Txn) -> TxnResponse: ...

    def watch_stream(
        self, key: KeyArg, *, start_revision: int | None = ..., no_put: bool = ...
    ) -> AsyncWatch: ...

    def watch_prefix(self, prefix: KeyArg, *, start_revision: int | None = ...) -> AsyncWatch: ...


class AsyncSession:
    """A lease kept alive for as long as this process holds locks or leads elections.

    Like Go's ``concurrency.Session``: :meth:`close` revokes the lease (releasing
    everything held with it), :meth:`orphan` stops the keep-alive and leaves the lease to
    expire. If the lease is lost, :attr:`lease` raises on next use and
    :meth:`wait_lost` returns.
    """

    def __init__(self, client: _AsyncConcurrencyClient, lease: AsyncLease) -> None:
        self.client = client
        self.lease = lease

    @property
    def lease_id(self) -> int:
        return self.lease.id

    @property
    def lost(self) -> bool:
        return self.lease.lost

    async def wait_lost(self, timeout: float | None = None) -> bool:
        """Block until the session's lease is lost, or ``timeout`` passes (``False``)."""
        return await self.lease.wait_lost(timeout)

    def orphan(self) -> None:
        """Stop refreshing the lease; it expires after its TTL."""
        self.lease.stop_keep_alive()

    async def close(self) -> None:
        """Revoke the lease: locks held and candidacies in this session end now."""
        await self.lease.revoke()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Session lease={self.lease!r}>"


# How often a wait looks up from its watch to check its deadline and its session.
_CHECK_INTERVAL = 1.0


async def wait_for_event(
    client: _AsyncConcurrencyClient,
    key: bytes,
    start_revision: int,
    wanted: EventType,
    deadline: float | None,
    *,
    prefix: bool = False,
    session: AsyncSession | None = None,
) -> Event | None:
    """The first ``wanted`` event of ``key`` (or under it, with ``prefix``) from
    ``start_revision`` on; ``None`` once ``deadline`` passes. Raises
    :class:`etcd.EtcdLeaseExpired` as soon as ``session`` is lost."""
    if prefix:
        watch = client.watch_prefix(key, start_revision=start_revision)
    else:
        # Waiting for a deletion, the server need not send the key's puts.
        no_put = wanted is EventType.DELETE
        watch = client.watch_stream(key, start_revision=start_revision, no_put=no_put)
    async with watch:
        while True:
            if session is not None and session.lost:
                session.lease.check()
            remaining = time_left(deadline)
            try:
                response = await watch.next_response(
                    _CHECK_INTERVAL if remaining is None else min(remaining, _CHECK_INTERVAL)
                )
            except exc.EtcdWatchTimedOut:
                if deadline_passed(deadline):
                    return None
                continue
            for event in response.events:
                if event.type is wanted:
                    return event


async def wait_until_gone(
    client: _AsyncConcurrencyClient,
    last_blocker: RangeOp,
    deadline: float | None,
    session: AsyncSession,
) -> bool:
    """Wait, one key at a time, until ``last_blocker`` (a range of at most one key: the
    one to wait for) finds nothing; ``False`` if ``deadline`` passes first."""
    while True:
        last = await client.do(last_blocker)
        if not last.kvs:
            return True
        start = last.header.revision + 1
        gone = await wait_for_event(
            client, last.kvs[0].key, start, EventType.DELETE, deadline, session=session
        )
        if gone is None:
            return False


class SessionBound:
    """What holds keys under a session's lease (locks, elections, some recipes): the
    session given, or one of its own, taken on first use and ended when it lets go."""

    def __init__(
        self, client: _AsyncConcurrencyClient, ttl: int, session: AsyncSession | None
    ) -> None:
        self._client = client
        self._ttl = check.lease_ttl(ttl)
        self._own_session = session is None
        self._session = session

    @property
    def session(self) -> AsyncSession | None:
        """The session in use (the one given, or the one taken on first use)."""
        return self._session

    def _set_session_ttl(self, ttl: int | None) -> None:
        """The TTL of the session taken on next use (``None``: the default one)."""
        if not self._own_session:
            raise exc.EtcdValueError(
                "lock_ttl cannot change the TTL of a session given to the lock: make the "
                "session with the TTL wanted"
            )
        self._ttl = DEFAULT_SESSION_TTL if ttl is None else check.lease_ttl(ttl, "lock_ttl")

    async def _get_session(self) -> AsyncSession:
        if self._session is None:
            self._session = await self._client.session(ttl=self._ttl)
        return self._session

    async def _end_session(self) -> None:
        if self._own_session and self._session is not None:
            session, self._session = self._session, None
            with contextlib.suppress(exc.EtcdException):
                # Best effort: the lease expires by itself if it cannot be revoked now.
                await session.close()


class _Contending(SessionBound):
    """What locks and elections share: a session, a queue, waiting for predecessors."""

    def __init__(
        self, client: _AsyncConcurrencyClient, name: object, ttl: int, session: AsyncSession | None
    ) -> None:
        super().__init__(client, ttl, session)
        self.name = check.to_bytes(name, "name")
        self._prefix = recipes.name_prefix(name)
        self._contender: recipes.Contender | None = None

    @property
    def key(self) -> bytes | None:
        """Our key in the queue (``name/<lease id in hex>``), once we joined it."""
        return self._contender.key if self._contender else None

    @property
    def revision(self) -> int | None:
        """The create revision of our key, which orders the queue."""
        return self._contender.revision if self._contender else None

    async def _enqueue(self, value: bytes) -> recipes.Contender:
        session = await self._get_session()
        session.lease.check()
        key = recipes.contender_key(self._prefix, session.lease_id)
        txn = recipes.enqueue_txn(self._prefix, key, session.lease_id, value)
        response = await self._client.txn(txn)
        self._contender = recipes.enqueued(key, value, response)
        return self._contender

    async def _wait_for_predecessors(
        self, contender: recipes.Contender, deadline: float | None
    ) -> bool:
        """Wait until every key created before ours is gone; ``False`` on timeout."""
        last_predecessor = recipes.last_created_before(self._prefix, contender.revision - 1)
        session = await self._get_session()
        return await wait_until_gone(self._client, last_predecessor, deadline, session)

    async def _leave_queue(self) -> None:
        contender, self._contender = self._contender, None
        if contender is not None:
            await self._client.txn(recipes.resign_txn(contender.key, contender.revision))

    async def _withdraw(self) -> None:
        """Leave the queue, and end the session if it is our own."""
        try:
            await self._leave_queue()
        finally:
            await self._end_session()


def _prefixed(client: object, name: object) -> object:
    """The lock name with the client's ``lock_prefix`` (python-etcd's option) in front."""
    prefix = getattr(client, "lock_prefix", None)
    if not prefix:
        return name
    own = check.to_bytes(name, "name")
    return prefix.encode("utf-8").rstrip(b"/") + b"/" + own.lstrip(b"/")


class AsyncLock(_Contending):
    """A distributed lock, fair (first come, first served), compatible with Go's
    ``concurrency.Mutex`` and ``etcdctl lock``.

    ::

        async with client.lock("jobs/nightly"):
            await run_nightly()

    Ownership lasts as long as the session's lease: fence writes made under the lock
    with :meth:`is_owner` so that a holder that lost its lease cannot write.

    It also has python-etcd's interface: ``etcd.Lock(client, "name")`` makes the same lock
    as ``client.lock("name")``, and :meth:`acquire` takes python-etcd's ``blocking``,
    ``lock_ttl`` and ``timeout``; :attr:`is_acquired` and :attr:`lock_key` are there too.
    """

    def __init__(
        self,
        client: _AsyncConcurrencyClient,
        name: object,
        ttl: int = DEFAULT_SESSION_TTL,
        session: AsyncSession | None = None,
    ) -> None:
        super().__init__(client, _prefixed(client, name), ttl, session)

    async def acquire(
        self,
        blocking: bool | float | None = True,
        lock_ttl: int | check._Unset | None = check.UNSET,
        timeout: float | None = None,
    ) -> bool:
        """Wait until the lock is ours; ``False`` if ``timeout`` seconds pass first.

        With ``blocking=False`` it never waits (:meth:`try_acquire`). python-etcd's
        ``timeout=0`` waits as long as it takes, like ``None``. ``lock_ttl`` (python-etcd's
        name) sets the TTL of the session the lock takes: how long the lock outlives a
        process that dies holding it (``None``: the default). ``acquire(10)`` is still
        ``acquire(timeout=10)``, as before python-etcd's arguments came.

        Raises :class:`etcd.EtcdLeaseExpired` if the session's lease is lost meanwhile.
        """
        if not isinstance(blocking, bool):
            # acquire(10): the timeout, given positionally as this method always took it.
            blocking, timeout = True, blocking
        if not isinstance(lock_ttl, check._Unset):
            self._set_session_ttl(lock_ttl)
        if not blocking:
            return await self.try_acquire()
        if means_no_timeout(timeout):
            timeout = None

        async def acquire(operation: Operation | None) -> bool:
            acquired = await self._acquire(timeout, operation)
            if operation is not None:
                operation.attributes["etcd.lock.acquired"] = str(acquired).lower()
            return acquired

        return await run_operation(
            hub_of(self._client), "lock.acquire", "lock.acquire", acquire, key=self.name
        )

    async def _acquire(self, timeout: float | None, operation: Operation | None) -> bool:
        timeout = check.timeout(timeout, "timeout")
        deadline = deadline_after(timeout)
        contender = await self._enqueue(b"")
        if operation is not None:
            operation.attributes["etcd.lock.wait"] = 0.0
        if contender.is_first:
            return True
        waiting_since = time.monotonic()
        try:
            acquired = await self._wait_for_predecessors(contender, deadline)
        except BaseException:
            await self._withdraw()
            raise
        finally:
            if operation is not None:
                # The time spent queued behind earlier holders, apart from the round trips.
                operation.attributes["etcd.lock.wait"] = time.monotonic() - waiting_since
        if not acquired:
            await self._withdraw()
            return False
        if not (await self._client.range(contender.key)).kvs:
            self._contender = None
            await self._end_session()
            raise exc.EtcdLeaseExpired(
                f"our key of lock {self.name!r} disappeared while waiting for it (the "
                "session's lease expired, or someone deleted the key)"
            )
        return True

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        contender = await self._enqueue(b"")
        if contender.is_first:
            return True
        await self._withdraw()
        return False

    async def release(self) -> None:
        """Give the lock up (and end the session the lock created for itself)."""
        await self._withdraw()

    async def is_held(self) -> bool:
        """Whether the lock is still ours, checked with etcd (a round trip): our key is
        there, the one we created, under our session's lease. ``False`` once released,
        or once the lease was lost (then another process may hold the lock)."""
        contender, session = self._contender, self._session
        if contender is None or session is None:
            return False
        found = (await self._client.range(contender.key)).kvs
        return (
            bool(found)
            and found[0].create_revision == contender.revision
            and found[0].lease == session.lease_id
        )

    @property
    async def is_acquired(self) -> bool:
        """python-etcd's name for :meth:`is_held` (a round trip to etcd)."""
        return await self.is_held()

    @property
    def lock_key(self) -> str:
        """python-etcd's name for :attr:`key`, as text; :class:`etcd.EtcdValueError` while
        the lock is not held (python-etcd raised ``ValueError`` too)."""
        if self._contender is None:
            raise exc.EtcdValueError(f"lock {self.name!r} is not held: it has no key")
        return self._contender.key.decode("utf-8", errors="surrogateescape")

    def is_owner(self) -> Compare:
        """A Compare that holds only while this lock is still ours, for fencing::

        await client.txn([lock.is_owner()], [etcd.Op.put("/guarded", "v")], [])
        """
        if self._contender is None:
            raise exc.EtcdPreconditionFailed(f"lock {self.name!r} is not held")
        return recipes.holds(self._contender.key, self._contender.revision)

    async def __aenter__(self) -> AsyncLock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.release()

    def __repr__(self) -> str:
        state = "held" if self._contender else "free"
        return f"<Lock {self.name!r} {state}>"


class AsyncElection(_Contending):
    """A leader election, compatible with Go's ``concurrency.Election`` and
    ``etcdctl elect``.

    ::

        election = client.election("service/leader")
        await election.campaign("node-1")      # returns once this process leads
        ...
        await election.resign()
    """

    async def campaign(self, value: object, timeout: float | None = None) -> bool:
        """Become leader with ``value``; ``False`` if ``timeout`` seconds pass first."""

        async def campaign(operation: Operation | None) -> bool:
            elected = await self._campaign(value, timeout)
            if operation is not None:
                operation.attributes["etcd.election.elected"] = str(elected).lower()
            return elected

        return await run_operation(
            hub_of(self._client), "election.campaign", "election.campaign", campaign, key=self.name
        )

    async def _campaign(self, value: object, timeout: float | None) -> bool:
        data = check.to_bytes(value, "value")
        timeout = check.timeout(timeout, "timeout")
        deadline = deadline_after(timeout)
        contender = await self._enqueue(data)
        if contender.value != data:
            await self.proclaim(data)
        try:
            elected = await self._wait_for_predecessors(contender, deadline)
        except BaseException:
            await self.resign()
            raise
        if not elected:
            await self.resign()
        return elected

    async def proclaim(self, value: object) -> None:
        """Change the leader's value without a new election (only the leader may)."""
        contender = self._contender
        if contender is None:
            raise exc.EtcdNotElectionLeader(f"not a candidate in election {self.name!r}")
        data = check.to_bytes(value, "value")
        session = await self._get_session()
        txn = recipes.proclaim_txn(contender.key, contender.revision, data, session.lease_id)
        if not (await self._client.txn(txn)).succeeded:
            raise exc.EtcdNotElectionLeader(f"no longer the leader of election {self.name!r}")

    async def resign(self) -> None:
        """Step down (or stop campaigning); the next candidate takes over."""
        await self._withdraw()

    async def leader(self) -> KeyValue:
        """The current leader's key and value.

        Raises :class:`etcd.EtcdElectionNoLeader` when there is none.
        """
        leader = recipes.leader_of(await self._client.do(recipes.first_created(self._prefix)))
        if leader is None:
            raise exc.EtcdElectionNoLeader(f"election {self.name!r} has no leader")
        return leader

    def is_leader(self) -> Compare:
        """A Compare that holds only while we lead, for fencing a transaction."""
        if self._contender is None:
            raise exc.EtcdNotElectionLeader(f"not a candidate in election {self.name!r}")
        return recipes.holds(self._contender.key, self._contender.revision)

    async def observe(self, timeout: float | None = None) -> AsyncIterator[KeyValue]:
        """The leader, then every change of leader or of its value, as they happen.

        ``timeout`` bounds each wait for the next change
        (:class:`etcd.EtcdWatchTimedOut`); ``None`` waits for ever.
        """
        client, prefix = self._client, self._prefix
        while True:
            first = await client.do(recipes.first_created(prefix))
            leader = recipes.leader_of(first)
            revision = first.header.revision
            if leader is None:
                async with client.watch_prefix(prefix, start_revision=revision + 1) as watch:
                    while leader is None:
                        for event in (await watch.next_response(timeout)).events:
                            if event.type == EventType.PUT:  # a first candidate
                                leader, revision = event.kv, event.revision
                                break
            yield leader
            async with client.watch_stream(leader.key, start_revision=revision + 1) as watch:
                gone = False
                while not gone:
                    for event in (await watch.next_response(timeout)).events:
                        if event.type == EventType.DELETE:  # the leader left
                            gone = True
                            break
                        yield event.kv

    def __repr__(self) -> str:
        state = "candidate" if self._contender else "idle"
        return f"<Election {self.name!r} {state}>"


class AsyncLockService:
    """The server's own ``v3lockpb.Lock`` service: the lock is taken by the member.

    The key returned by :meth:`lock` is owned until :meth:`unlock` or until the lease
    given expires.
    """

    def __init__(self, client: _AsyncConcurrencyClient) -> None:
        self._client = client

    async def lock(self, name: object, lease: object, *, timeout: float | None = None) -> bytes:
        """Wait for the lock ``name`` and own it with ``lease``; returns the owner key."""
        request = pb.LockRequest(name=check.key_bytes(name, "name"), lease=check.lease_id(lease))
        response = await self._client._transport.unary(
            methods.LOCK_LOCK, request, timeout=check.timeout(timeout, "timeout"), mutation=True
        )
        return bytes(response.key)

    async def unlock(self, key: object, *, timeout: float | None = 10.0) -> ResponseHeader:
        request = pb.UnlockRequest(key=check.key_bytes(key))
        response = await self._client._transport.unary(
            methods.LOCK_UNLOCK, request, timeout=check.timeout(timeout, "timeout"), mutation=True
        )
        return decode_header(response.header)


class AsyncElectionService:
    """The server's own ``v3electionpb.Election`` service."""

    def __init__(self, client: _AsyncConcurrencyClient) -> None:
        self._client = client

    async def _call(
        self, method: Method, request: Any, timeout: float | None, mutation: bool
    ) -> Any:
        return await self._client._transport.unary(
            method, request, timeout=check.timeout(timeout, "timeout"), mutation=mutation
        )

    async def campaign(
        self, name: object, lease: object, value: object, *, timeout: float | None = None
    ) -> LeaderKey:
        """Wait until leader of ``name``; returns the key to proclaim and resign with."""
        request = pb.CampaignRequest(
            name=check.key_bytes(name, "name"),
            lease=check.lease_id(lease),
            value=check.to_bytes(value, "value"),
        )
        leader = (await self._call(methods.ELECTION_CAMPAIGN, request, timeout, True)).leader
        return LeaderKey(bytes(leader.name), bytes(leader.key), leader.rev, leader.lease)

    async def proclaim(
        self, leader: LeaderKey, value: object, *, timeout: float | None = 10.0
    ) -> None:
        request = pb.ProclaimRequest(leader=leader._to_pb(), value=check.to_bytes(value, "value"))
        await self._call(methods.ELECTION_PROCLAIM, request, timeout, True)

    async def leader(self, name: object, *, timeout: float | None = 10.0) -> KeyValue:
        request = pb.LeaderRequest(name=check.key_bytes(name, "name"))
        try:
            response = await self._call(methods.ELECTION_LEADER, request, timeout, False)
        except exc.EtcdException as error:
            if "no leader" in str(error):
                raise exc.EtcdElectionNoLeader(str(error)) from error
            raise
        return decode_kv(response.kv)

    async def resign(self, leader: LeaderKey, *, timeout: float | None = 10.0) -> None:
        request = pb.ResignRequest(leader=leader._to_pb())
        await self._call(methods.ELECTION_RESIGN, request, timeout, True)
