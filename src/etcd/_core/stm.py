"""The bookkeeping of software transactional memory (pure, no I/O).

:class:`STMState` holds an attempt's read set, write set and pinned snapshot revision, and
builds the commit transaction from them, with the semantics of Go's
``concurrency.NewSTM``; the STM shells (:mod:`etcd._async.stm`) run the loop that does the
I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import validation as check
from .compare import Compare
from .defaults import DEFAULT_STM_TIMEOUT as DEFAULT_STM_TIMEOUT
from .defaults import Isolation as Isolation
from .exceptions import (
    EtcdTooManyOps,
    EtcdTypeError,
    EtcdValueError,
)
from .kv import DeleteRangeOp, Op, PutOp, RangeOp, Txn
from .responses import KeyValue, RangeResponse, TxnResponse


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


def max_txn_ops_of(client: object) -> int | None:
    config = getattr(client, "config", None)
    limit = getattr(config, "max_txn_ops", None)
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def prefetch_keys(prefetch: Iterable[str | bytes]) -> tuple[bytes, ...]:
    if isinstance(prefetch, (str, bytes, bytearray, memoryview)):
        raise EtcdTypeError("prefetch takes a list of keys, not a single key")
    return tuple(dict.fromkeys(check.key_bytes(key, "prefetch key") for key in prefetch))
