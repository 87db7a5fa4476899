"""Software transactional memory over etcd: the semantics of Go's ``concurrency.NewSTM``.

A user function reads and writes keys through an :class:`AsyncSTM` handle; nothing it
writes reaches the store until it returns. Then one transaction commits the buffered
writes, on the condition (depending on the :class:`Isolation` level) that what was read is
still current. When it is not, the function runs again from scratch, on fresh reads.

The bookkeeping is pure, in :mod:`etcd._core.stm`; :func:`run_stm` is the thin loop that
does the I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from .._core import validation as check
from .._core.compare import Compare
from .._core.deadline import deadline_after, deadline_passed
from .._core.event_hub import Operation, hub_of
from .._core.events import StmRetry
from .._core.exceptions import (
    EtcdCompareFailed,
    EtcdTimeout,
    EtcdTooManyOps,
    EtcdTypeError,
    EtcdValueError,
)
from .._core.keys import KeyArg
from .._core.kv import LeaseArg, Op, Txn, _enum_member
from .._core.responses import RangeResponse, TxnResponse
from .._core.stm import (
    DEFAULT_STM_TIMEOUT,
    Isolation,
    ReadRecord,
    STMState,
    _State,
    max_txn_ops_of,
    prefetch_keys,
)
from .operations import run_operation


class _AsyncSTMClient(Protocol):
    """What :func:`run_stm` needs of a client: :class:`etcd.AsyncClient` and
    :class:`etcd.AsyncNamespace` both qualify."""

    async def range(
        self,
        key: KeyArg,
        range_end: str | bytes | None = ...,
        *,
        revision: int = ...,
        serializable: bool = ...,
    ) -> RangeResponse: ...

    async def txn(
        self,
        compare: Txn | Iterable[Compare] = ...,
        success: Iterable[Op] = ...,
        failure: Iterable[Op] = ...,
    ) -> TxnResponse: ...


class AsyncSTM:
    """The handle an STM function reads and writes through.

    Reads are buffered: a key read twice gives the first answer, and a key the transaction
    wrote gives what it wrote (``None`` once deleted). Writes reach the store only when the
    function returns and the transaction commits. A handle is valid only during the call
    it was passed to.
    """

    __slots__ = ("_client", "_done", "_state")

    def __init__(self, client: _AsyncSTMClient, state: _State) -> None:
        self._client = client
        self._state = state
        self._done = False

    @property
    def isolation(self) -> Isolation:
        """The isolation level this transaction runs at."""
        return self._state.isolation

    def _check_open(self) -> None:
        if self._done:
            raise EtcdValueError(
                "this STM handle belongs to a finished attempt: use the one passed"
            )

    async def _read(self, key: bytes) -> ReadRecord:
        op = self._state.read_op(key)
        response = await self._client.range(
            op.key, revision=op.revision, serializable=op.serializable
        )
        return self._state.record_read(key, response, op)

    async def get(self, key: str | bytes) -> bytes | None:
        """The key's value, or ``None`` if it does not exist."""
        self._check_open()
        raw = check.key_bytes(key)
        known, value = self._state.lookup(raw)
        if known:
            return value
        return (await self._read(raw)).value

    async def get_str(self, key: str | bytes) -> str | None:
        """:meth:`get`, decoded as UTF-8."""
        value = await self.get(key)
        return None if value is None else value.decode("utf-8")

    async def rev(self, key: str | bytes) -> int:
        """The key's modification revision as this transaction read it (0: missing).

        Reads the key if it was not read yet; the transaction's own writes do not count.
        """
        self._check_open()
        raw = check.key_bytes(key)
        record = self._state.reads.get(raw)
        if record is None:
            record = await self._read(raw)
        return record.mod_revision

    def put(self, key: str | bytes, value: str | bytes, lease: LeaseArg = 0) -> None:
        """Write ``value`` at ``key`` when the transaction commits."""
        self._check_open()
        self._state.put(check.key_bytes(key), check.to_bytes(value, "value"), check.lease_id(lease))

    def delete(self, key: str | bytes) -> None:
        """Delete ``key`` when the transaction commits."""
        self._check_open()
        self._state.delete(check.key_bytes(key))

    def __repr__(self) -> str:
        state = self._state
        return (
            f"<STM {state.isolation.name} reads={len(state.reads)} writes={len(state.writes)}"
            f"{' finished' if self._done else ''}>"
        )


async def _attempt(
    client: _AsyncSTMClient,
    apply: Callable[[AsyncSTM], Awaitable[object]],
    state: STMState,
    keys: tuple[bytes, ...],
    limit: int | None,
) -> TxnResponse:
    """Run ``apply`` once from a fresh state, and try to commit what it did."""
    state.reset()
    if keys:
        state.record_prefetch(keys, await client.txn(state.prefetch_txn(keys)))
    stm = AsyncSTM(client, state)
    try:
        await apply(stm)
    finally:
        stm._done = True
    try:
        return await client.txn(state.commit_txn(limit))
    except EtcdTooManyOps as error:
        raise EtcdTooManyOps(
            f"the STM transaction cannot commit: {error}", operation="KV.Txn"
        ) from error


async def run_stm(
    client: _AsyncSTMClient,
    apply: Callable[[AsyncSTM], Awaitable[object]],
    *,
    isolation: Isolation | str = Isolation.SERIALIZABLE_SNAPSHOT,
    prefetch: Iterable[str | bytes] = (),
    timeout: float | None = DEFAULT_STM_TIMEOUT,
    max_retries: int | None = None,
) -> TxnResponse:
    """Run ``apply(stm)`` as a transaction, again and again until it commits.

    ``apply`` reads and writes through the :class:`AsyncSTM` handle it is given; when it
    returns, its writes are committed in one transaction that succeeds only if, at the
    ``isolation`` level chosen, nothing it depends on changed meanwhile. Otherwise
    ``apply`` runs again from scratch (so it must have no other side effects). ``prefetch``
    keys are read in one request before each run.

    Returns the committing transaction's answer. An exception raised by ``apply``
    propagates as it is, and nothing is written. Raises :class:`etcd.EtcdTimeout` when
    ``timeout`` seconds (``None``: no limit) pass without a commit, and
    :class:`etcd.EtcdCompareFailed` after ``max_retries`` failed retries (``None``: no
    limit); the deadline is checked after each failed attempt, every request keeps the
    client's own per-call timeout. Raises :class:`etcd.EtcdTooManyOps`, before sending,
    when the commit would exceed the server's operations per transaction.
    """
    level: Isolation = _enum_member(Isolation, isolation, "isolation")
    if not callable(apply):
        raise EtcdTypeError(f"apply must be a function taking the STM, not {type(apply).__name__}")
    keys = prefetch_keys(prefetch)
    seconds = check.timeout(timeout)
    retries = None if max_retries is None else check.integer(max_retries, "max_retries", minimum=0)
    limit = max_txn_ops_of(client)
    deadline = deadline_after(seconds)
    state = STMState(level)
    hub = hub_of(client)

    async def run(operation: Operation | None) -> TxnResponse:
        attempts = 0
        while True:
            attempts += 1
            if operation is not None:
                operation.attributes["etcd.stm.attempts"] = attempts
                if attempts > 1 and hub is not None:
                    hub.emit(StmRetry(operation.id, attempts))
            response = await _attempt(client, apply, state, keys, limit)
            if response.succeeded:
                return response
            _give_up_if_due(level, attempts, retries, deadline, seconds)

    return await run_operation(
        hub, "stm", "stm", run, attributes={"etcd.stm.isolation": level.name.lower()}
    )


def _give_up_if_due(
    level: Isolation,
    attempts: int,
    retries: int | None,
    deadline: float | None,
    seconds: float | None,
) -> None:
    """Raise if a conflicting STM run may not run again."""
    if retries is not None and attempts > retries:
        raise EtcdCompareFailed(
            f"the STM transaction ({level.name}) still conflicted after {retries} "
            f"retries ({attempts} attempts): other writers keep changing its keys",
            operation="KV.Txn",
        )
    if deadline_passed(deadline):
        raise EtcdTimeout(
            f"the STM transaction ({level.name}) did not commit within {seconds} s "
            f"({attempts} attempts, each conflicting with another writer)",
            operation="KV.Txn",
        )
