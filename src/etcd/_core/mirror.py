"""Mirroring a prefix to another cluster, without I/O: the settings, the key rewriting, and
how the source's keys and changes become the destination's transactions.

The shells (sync and asyncio) read the source and write the destination; what they write,
and in which groups, is decided here, so that unit tests can check the two rules that make
a mirror faithful: a destination transaction never holds changes of two source revisions
(the destination moves through the source's states, in order), and it never holds more
operations or bytes than the destination accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from . import exceptions as exc
from . import validation as check
from .keys import ALL_KEYS, KeyArg
from .kv import Op, RangeOp
from .responses import KeyValue
from .watch import Event, EventType

#: etcdctl make-mirror's default, and the limit etcd itself applies by default
#: (``--max-txn-ops``).
DEFAULT_MAX_TXN_OPS = check.DEFAULT_MAX_TXN_OPS
DEFAULT_PAGE_SIZE = 1000

# What a write costs in a transaction request beyond its key and value (the RequestOp and
# PutRequest framing, with room to spare): the size estimate must never fall short.
_FRAMING_PER_OP = 32
# Room for the transaction's own framing under the destination's request limit.
_TXN_FRAMING = 4096


@dataclass(frozen=True, slots=True)
class MirrorSettings:
    """What a mirror copies and where, checked when built, before anything is sent."""

    prefix: bytes
    """The source prefix (empty: every key)."""
    dest_prefix: bytes
    """What replaces ``prefix`` at the start of each key on the destination."""
    max_txn_ops: int
    start_revision: int
    """0: copy every key first, then follow; otherwise replay the history from here."""
    page_size: int

    @classmethod
    def build(
        cls,
        prefix: str | bytes,
        *,
        dest_prefix: str | bytes | None = None,
        no_dest_prefix: bool = False,
        max_txn_ops: int = DEFAULT_MAX_TXN_OPS,
        rev: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> MirrorSettings:
        source = check.to_bytes(prefix, "prefix")
        target = b"" if dest_prefix is None else check.to_bytes(dest_prefix, "dest_prefix")
        if check.boolean(no_dest_prefix, "no_dest_prefix"):
            if target:
                raise exc.EtcdValueError(
                    "dest_prefix and no_dest_prefix cannot be set at the same time, choose one"
                )
        elif not target:
            # As etcdctl: an empty destination prefix means "the same as the source's".
            target = source
        return cls(
            prefix=source,
            dest_prefix=target,
            max_txn_ops=check.integer(max_txn_ops, "max_txn_ops", minimum=1),
            start_revision=check.revision(rev, "rev"),
            page_size=check.integer(page_size, "page_size", minimum=1),
        )

    @property
    def copies_first(self) -> bool:
        """Whether the mirror starts by copying every key (no start revision given)."""
        return self.start_revision == 0

    def destination_key(self, key: bytes) -> bytes:
        """The destination's key for a source key under the prefix."""
        target = self.dest_prefix + key[len(self.prefix) :]
        if not target:
            raise exc.EtcdValueError(
                f"the source key {key!r} is the prefix itself, and without a destination "
                "prefix it would become the empty key, which etcd does not have"
            )
        return target

    def source_keys(self) -> tuple[KeyArg, bool]:
        """The key and the ``prefix`` flag that address the mirrored range (every key for
        an empty prefix, which etcd cannot take as a key)."""
        if not self.prefix:
            return ALL_KEYS, False
        return self.prefix, True

    def first_page(self) -> RangeOp:
        """The read of the first page of the copy; its revision pins the others."""
        key, prefix = self.source_keys()
        return Op.range(key, prefix=prefix, limit=self.page_size)

    def probe(self) -> RangeOp:
        """The cheapest read of the source range: one key, without its value."""
        key, prefix = self.source_keys()
        return Op.range(key, prefix=prefix, limit=1, keys_only=True)

    def feeds_itself(self) -> bool:
        """Whether, on one cluster, the destination keys fall in the source range (or the
        other way round): each copied key would come back as a change to copy."""
        return self.dest_prefix.startswith(self.prefix) or self.prefix.startswith(self.dest_prefix)

    def check_destination_limit(self, limit: int | None) -> None:
        """Refuse ``max_txn_ops`` above what the destination client would send."""
        if limit is not None and self.max_txn_ops > limit:
            raise exc.EtcdValueError(
                f"max_txn_ops={self.max_txn_ops} is above the destination client's "
                f"max_txn_ops ({limit}); raise that one too if the destination cluster "
                "accepts more operations per transaction"
            )


@dataclass(frozen=True, slots=True)
class DestinationTxn:
    """One transaction to run on the destination.

    ``revision`` is the source revision its changes come from (for the copy, the
    revision the copy reads). ``completes_revision`` is false for all but the last part
    of a revision too large for one transaction: only after that last part does the
    destination hold the source's state at ``revision``.
    """

    ops: tuple[Op, ...]
    revision: int
    completes_revision: bool = True

    def __len__(self) -> int:
        return len(self.ops)


def txn_byte_budget(max_request_bytes: int | None) -> int:
    """How many bytes of keys and values one destination transaction may carry."""
    limit = check.DEFAULT_MAX_REQUEST_BYTES if max_request_bytes is None else max_request_bytes
    return max(limit - _TXN_FRAMING, 1)


def _op_size(key: bytes, value: bytes) -> int:
    return len(key) + len(value) + _FRAMING_PER_OP


def _group(
    items: Iterable[tuple[int, Op, int]], max_ops: int, max_bytes: int
) -> Iterator[DestinationTxn]:
    """Group ``(revision, op, size)`` items, in order, into transactions: a new one at each
    new revision, and whenever the next op would pass ``max_ops`` or ``max_bytes``."""
    ops: list[Op] = []
    size = 0
    revision = 0
    for at, op, cost in items:
        if ops and at != revision:
            yield DestinationTxn(tuple(ops), revision)
            ops, size = [], 0
        elif ops and (len(ops) >= max_ops or size + cost > max_bytes):
            yield DestinationTxn(tuple(ops), revision, completes_revision=False)
            ops, size = [], 0
        ops.append(op)
        size += cost
        revision = at
    if ops:
        yield DestinationTxn(tuple(ops), revision)


def copy_transactions(
    settings: MirrorSettings, kvs: Sequence[KeyValue], revision: int, max_bytes: int
) -> list[DestinationTxn]:
    """The puts that copy one page of the source (read at ``revision``), in transactions
    of at most ``max_txn_ops`` operations and ``max_bytes`` bytes."""
    items = []
    for kv in kvs:
        key = settings.destination_key(kv.key)
        items.append((revision, Op.put(key, kv.value), _op_size(key, kv.value)))
    return list(_group(items, settings.max_txn_ops, max_bytes))


def event_transactions(
    settings: MirrorSettings, events: Sequence[Event], max_bytes: int
) -> list[DestinationTxn]:
    """The changes of one watch response as destination transactions, in order.

    Each transaction holds the changes of one source revision (a source transaction stays
    one destination transaction), split only when a revision has more than
    ``max_txn_ops`` changes or more than ``max_bytes`` bytes. Values are copied without
    their leases: a key's expiry reaches the destination as its deletion.
    """
    items = []
    for event in events:
        key = settings.destination_key(event.kv.key)
        if event.type == EventType.PUT:
            op: Op = Op.put(key, event.kv.value)
            cost = _op_size(key, event.kv.value)
        else:
            op = Op.delete_range(key)
            cost = _op_size(key, b"")
        items.append((event.kv.mod_revision, op, cost))
    return list(_group(items, settings.max_txn_ops, max_bytes))
