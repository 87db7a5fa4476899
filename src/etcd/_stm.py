"""Software transactional memory over etcd: the semantics of Go's ``concurrency.NewSTM``.

A user function reads and writes keys through an :class:`STM` handle; nothing it writes
reaches the store until it returns. Then one transaction commits the buffered writes, on
the condition (depending on the :class:`Isolation` level) that what was read is still
current. When it is not, the function runs again from scratch, on fresh reads.

The bookkeeping (:class:`STMState`: the read set, the write set, the pinned snapshot
revision, and the commit transaction built from them) is pure; :func:`run_stm` is the thin
loop that does the I/O.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from . import _validation as check
from ._exceptions import (
    EtcdCompareFailed,
    EtcdTimeout,
    EtcdTooManyOps,
    EtcdTypeError,
    EtcdValueError,
)
from ._kv import Compare, DeleteRangeOp, KeyArg, LeaseArg, Op, PutOp, RangeOp, Txn, _enum_member
from ._models import KeyValue, RangeResponse, TxnResponse

__all__ = ["STM", "Isolation", "STMState", "run_stm"]

#: How long :func:`run_stm` keeps retrying a conflicting transaction by default, in seconds.
DEFAULT_STM_TIMEOUT = 30.0


class Isolation(enum.IntEnum):
    """How much of a concurrent change an STM transaction detects (Go's isolation levels).

    From the strongest to the weakest:
    """

    SERIALIZABLE_SNAPSHOT = 0
    """Every read is served at the revision of the first read (one consistent snapshot);
    the commit fails if any key read, or any key written, changed since that snapshot."""
    SERIALIZABLE = 1
    """Every read is served at the revision of the first read; the commit fails if any key
    read changed since it was read. Keys only written are not checked."""
    REPEATABLE_READS = 2
    """Every read sees the latest revision (a key read twice gives the same answer: the
    first one is kept); the commit fails if any key read changed since it was read."""
    READ_COMMITTED = 3
    """Every read sees the latest revision; the commit checks nothing: concurrent changes
    are silently overwritten."""


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One key as a transaction read it."""

    kv: KeyValue | None
    """The key-value read; ``None`` when the key did not exist."""
    revision: int
    """The revision the read was served at."""

    @property
    def value(self) -> bytes | None:
        return None if self.kv is None else self.kv.value

    @property
    def mod_revision(self) -> int:
        """The key's modification revision as read (0: it did not exist)."""
        return 0 if self.kv is None else self.kv.mod_revision


WriteOp = PutOp | DeleteRangeOp


class STMState:
    """The read set and write set of one attempt, and the commit they call for (no I/O)."""

    def __init__(self, isolation: Isolation = Isolation.SERIALIZABLE_SNAPSHOT) -> None:
        self.isolation = isolation
        self.reads: dict[bytes, ReadRecord] = {}
        self.writes: dict[bytes, WriteOp] = {}
        self.snapshot_revision = 0
        """For the serializable levels: the revision every read is served at once a first
        read pinned it (0 before that)."""

    def reset(self) -> None:
        """Forget everything, for a new attempt."""
        self.reads.clear()
        self.writes.clear()
        self.snapshot_revision = 0

    @property
    def pins_reads(self) -> bool:
        return self.isolation in (Isolation.SERIALIZABLE_SNAPSHOT, Isolation.SERIALIZABLE)

    # --- reads --------------------------------------------------------------------------

    def lookup(self, key: bytes) -> tuple[bool, bytes | None]:
        """``(True, value)`` when the key's value is already known (written by this
        transaction, or read before; ``None`` for a missing or deleted key), else
        ``(False, None)``: it must be read from the store."""
        write = self.writes.get(key)
        if write is not None:
            return True, write.value if isinstance(write, PutOp) else None
        record = self.reads.get(key)
        if record is not None:
            return True, record.value
        return False, None

    def read_op(self, key: bytes) -> RangeOp:
        """The read to send for a key not known yet."""
        if self.pins_reads and self.snapshot_revision:
            return Op.range(key, revision=self.snapshot_revision, serializable=True)
        return Op.range(key)

    def record_read(self, key: bytes, response: RangeResponse, op: RangeOp) -> ReadRecord:
        """Account for the answer to :meth:`read_op`; the first read pins the snapshot."""
        revision = op.revision or response.header.revision
        record = ReadRecord(response.kvs[0] if response.kvs else None, revision)
        self.reads[key] = record
        if self.pins_reads and not self.snapshot_revision:
            self.snapshot_revision = revision
        return record

    def prefetch_txn(self, keys: Iterable[bytes]) -> Txn:
        """One transaction reading every key of ``keys`` (all at one revision)."""
        return Txn().Then(*(self.read_op(key) for key in keys))

    def record_prefetch(self, keys: Iterable[bytes], response: TxnResponse) -> None:
        """Account for the answer to :meth:`prefetch_txn`."""
        revision = self.snapshot_revision or response.header.revision
        for key, answer in zip(keys, response.responses, strict=True):
            if not isinstance(answer, RangeResponse):
                raise EtcdValueError(f"prefetch of {key!r} got {type(answer).__name__}")
            self.reads[key] = ReadRecord(answer.kvs[0] if answer.kvs else None, revision)
        if self.pins_reads and not self.snapshot_revision and self.reads:
            self.snapshot_revision = revision

    # --- writes -------------------------------------------------------------------------

    def put(self, key: bytes, value: bytes, lease: int = 0) -> None:
        self.writes.pop(key, None)  # keep the order of the latest write
        self.writes[key] = Op.put(key, value, lease=lease)

    def delete(self, key: bytes) -> None:
        self.writes.pop(key, None)
        self.writes[key] = Op.delete_range(key)

    # --- commit -------------------------------------------------------------------------

    def compares(self) -> list[Compare]:
        """The conditions the commit needs, by isolation level.

        A key read must still have the modification revision it had when read (0 for a
        key that was missing: a key created, changed or deleted since fails the commit).
        With ``SERIALIZABLE_SNAPSHOT``, every key written must also be unmodified since
        the snapshot revision.
        """
        if self.isolation is Isolation.READ_COMMITTED:
            return []
        compares = [
            Compare.mod_revision(key, "==", record.mod_revision)
            for key, record in self.reads.items()
        ]
        if self.isolation is Isolation.SERIALIZABLE_SNAPSHOT and self.snapshot_revision:
            compares.extend(
                Compare.mod_revision(key, "<", self.snapshot_revision + 1) for key in self.writes
            )
        return compares

    def commit_txn(self, max_ops: int | None = check.DEFAULT_MAX_TXN_OPS) -> Txn:
        """The transaction that commits the write set if the compares hold.

        Raises :class:`etcd.EtcdTooManyOps` when it would exceed ``max_ops`` (the server's
        ``--max-txn-ops``) in writes or in compares: such a transaction can never commit.
        """
        compares = self.compares()
        writes = tuple(self.writes.values())
        if max_ops is not None:
            if len(writes) > max_ops:
                raise EtcdTooManyOps(
                    f"the STM transaction writes {len(writes)} keys; one transaction holds at "
                    f"most {max_ops} operations (etcd's --max-txn-ops): split the work"
                )
            if len(compares) > max_ops:
                checked = (
                    "read and wrote"
                    if self.isolation is Isolation.SERIALIZABLE_SNAPSHOT
                    else "read"
                )
                raise EtcdTooManyOps(
                    f"the STM transaction needs {len(compares)} compares (for the keys it "
                    f"{checked}); one transaction holds at most {max_ops} (etcd's "
                    "--max-txn-ops): read fewer keys, or use a weaker isolation level"
                )
        return Txn().If(*compares).Then(*writes)


# The handle's constructor is internal: keep its types out of the public reference.
_State = STMState


class _STMClient(Protocol):
    """What :func:`run_stm` needs of a client: :class:`etcd.Client` and
    :class:`etcd.Namespace` both qualify."""

    def range(
        self,
        key: KeyArg,
        range_end: str | bytes | None = ...,
        *,
        revision: int = ...,
        serializable: bool = ...,
    ) -> RangeResponse: ...

    def txn(
        self,
        compare: Txn | Iterable[Compare] = ...,
        success: Iterable[Op] = ...,
        failure: Iterable[Op] = ...,
    ) -> TxnResponse: ...


class STM:
    """The handle an STM function reads and writes through.

    Reads are buffered: a key read twice gives the first answer, and a key the transaction
    wrote gives what it wrote (``None`` once deleted). Writes reach the store only when the
    function returns and the transaction commits. A handle is valid only during the call
    it was passed to.
    """

    __slots__ = ("_client", "_done", "_state")

    def __init__(self, client: _STMClient, state: _State) -> None:
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

    def _read(self, key: bytes) -> ReadRecord:
        op = self._state.read_op(key)
        response = self._client.range(op.key, revision=op.revision, serializable=op.serializable)
        return self._state.record_read(key, response, op)

    def get(self, key: str | bytes) -> bytes | None:
        """The key's value, or ``None`` if it does not exist."""
        self._check_open()
        raw = check.key_bytes(key)
        known, value = self._state.lookup(raw)
        if known:
            return value
        return self._read(raw).value

    def get_str(self, key: str | bytes) -> str | None:
        """:meth:`get`, decoded as UTF-8."""
        value = self.get(key)
        return None if value is None else value.decode("utf-8")

    def rev(self, key: str | bytes) -> int:
        """The key's modification revision as this transaction read it (0: missing).

        Reads the key if it was not read yet; the transaction's own writes do not count.
        """
        self._check_open()
        raw = check.key_bytes(key)
        record = self._state.reads.get(raw)
        if record is None:
            record = self._read(raw)
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


def _max_txn_ops(client: object) -> int | None:
    config = getattr(client, "config", None)
    limit = getattr(config, "max_txn_ops", None)
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def _prefetch_keys(prefetch: Iterable[str | bytes]) -> tuple[bytes, ...]:
    if isinstance(prefetch, (str, bytes, bytearray, memoryview)):
        raise EtcdTypeError("prefetch takes a list of keys, not a single key")
    return tuple(dict.fromkeys(check.key_bytes(key, "prefetch key") for key in prefetch))


def run_stm(
    client: _STMClient,
    apply: Callable[[STM], object],
    *,
    isolation: Isolation | str = Isolation.SERIALIZABLE_SNAPSHOT,
    prefetch: Iterable[str | bytes] = (),
    timeout: float | None = DEFAULT_STM_TIMEOUT,
    max_retries: int | None = None,
) -> TxnResponse:
    """Run ``apply(stm)`` as a transaction, again and again until it commits.

    ``apply`` reads and writes through the :class:`STM` handle it is given; when it
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
    keys = _prefetch_keys(prefetch)
    seconds = check.timeout(timeout)
    retries = None if max_retries is None else check.integer(max_retries, "max_retries", minimum=0)
    limit = _max_txn_ops(client)
    deadline = None if seconds is None else time.monotonic() + seconds
    state = STMState(level)
    attempts = 0
    while True:
        attempts += 1
        state.reset()
        if keys:
            state.record_prefetch(keys, client.txn(state.prefetch_txn(keys)))
        stm = STM(client, state)
        try:
            apply(stm)
        finally:
            stm._done = True
        txn = state.commit_txn(limit)
        try:
            response = client.txn(txn)
        except EtcdTooManyOps as error:
            raise EtcdTooManyOps(
                f"the STM transaction cannot commit: {error}", operation="KV.Txn"
            ) from error
        if response.succeeded:
            return response
        if retries is not None and attempts > retries:
            raise EtcdCompareFailed(
                f"the STM transaction ({level.name}) still conflicted after {retries} "
                f"retries ({attempts} attempts): other writers keep changing its keys",
                operation="KV.Txn",
            )
        if deadline is not None and time.monotonic() >= deadline:
            raise EtcdTimeout(
                f"the STM transaction ({level.name}) did not commit within {seconds} s "
                f"({attempts} attempts, each conflicting with another writer)",
                operation="KV.Txn",
            )
