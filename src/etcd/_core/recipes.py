"""Barriers, queues and read-write locks without I/O: the keys and transactions of Go's
``contrib/recipes`` (``go.etcd.io/etcd/client/v3/experimental/recipes``).

A Python participant and a Go participant that use the same name coordinate only if
they write the same keys and read them in the same order, so the layouts are Go's:

=================  ===================================================================
recipe             keys under the name ``N``
=================  ===================================================================
``Barrier``        ``N`` itself, without a lease: the barrier is held while it exists.
``DoubleBarrier``  ``N/waiters/<ns>``, one per participant, under its session's lease;
                   ``N/ready``, written by the participant that completes the count.
``Queue``          ``N/<ns>``, one per item, without a lease; taken oldest first
                   (by modification revision).
``PriorityQueue``  ``N/<priority, 5 digits>/<sequence, 16 digits>``, taken in key
                   order (the lowest priority number first, then first in first
                   out); ``__N/<priority, 5 digits>`` is touched by every enqueue, so
                   that two enqueues cannot take the same sequence number.
``RWMutex``        ``N/read/<ns>`` and ``N/write/<ns>``, under the session's lease; a
                   reader waits for the writers before it, a writer for everyone
                   before it (by modification revision).
=================  ===================================================================

``<ns>`` is the time of creation in nanoseconds since the epoch, written only if the
key does not exist yet (a clash is retried with a new time).
"""

from __future__ import annotations

from . import exceptions as exc
from . import validation as check
from .compare import Compare
from .kv import Op, RangeOp, SortOrder, SortTarget, Txn
from .responses import KeyValue, RangeResponse

__all__: list[str] = []

#: Go's priorities are 16-bit: ``uint16``.
MAX_PRIORITY = 0xFFFF


def recipe_name(name: object) -> bytes:
    """The key (or key prefix) a recipe is named by, checked."""
    return check.key_bytes(name, "name")


def unique_key(prefix: bytes, nanoseconds: int) -> bytes:
    """A participant's or an item's key: ``prefix/<nanoseconds>``."""
    return b"%s/%d" % (prefix, nanoseconds)


def create_txn(key: bytes, value: bytes = b"", lease_id: int = 0) -> Txn:
    """Write ``key`` only if it does not exist; ``succeeded`` says whether it was written."""
    return Txn().If(Compare.version(key, "==", 0)).Then(Op.put(key, value, lease=lease_id))


def take_txn(kv: KeyValue) -> Txn:
    """Delete a queue item only if nobody took (or changed) it first."""
    return (
        Txn().If(Compare.mod_revision(kv.key, "==", kv.mod_revision)).Then(Op.delete_range(kv.key))
    )


def _top(prefix: bytes, target: SortTarget, order: SortOrder, max_mod_revision: int = 0) -> RangeOp:
    return Op.range(
        prefix,
        prefix=True,
        sort_target=target,
        sort_order=order,
        limit=1,
        max_mod_revision=max_mod_revision,
    )


def oldest_item(prefix: bytes) -> RangeOp:
    """The queue's item modified first: the one to take next."""
    return _top(prefix, SortTarget.MOD, SortOrder.ASCEND)


def first_key(prefix: bytes) -> RangeOp:
    """The lowest key under ``prefix``: a priority queue's next item."""
    return _top(prefix, SortTarget.KEY, SortOrder.ASCEND)


def last_key(prefix: bytes) -> RangeOp:
    """The highest key under ``prefix``: a priority's last sequence number."""
    return _top(prefix, SortTarget.KEY, SortOrder.DESCEND)


def last_modified_before(prefix: bytes, revision: int) -> RangeOp:
    """The key under ``prefix`` modified last before ``revision``: the one an RWMutex
    waiter waits for."""
    return _top(prefix, SortTarget.MOD, SortOrder.DESCEND, max_mod_revision=revision - 1)


# --- priority queue ----------------------------------------------------------------------------


def priority_prefix(name: bytes, priority: object) -> bytes:
    """``name/<priority, 5 digits>``: where the items of one priority go."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise exc.EtcdTypeError(f"a priority is an int, not {type(priority).__name__}")
    if not 0 <= priority <= MAX_PRIORITY:
        raise exc.EtcdValueError(
            f"a priority is between 0 (first) and {MAX_PRIORITY}, not {priority}"
        )
    return b"%s/%05d" % (name, priority)


def next_sequential_key(prefix: bytes, last: RangeResponse) -> bytes:
    """The key after the priority's last one (``last`` is :func:`last_key`'s answer)."""
    number = 0
    if last.kvs:
        tail = last.kvs[0].key.rsplit(b"/", 1)[-1]
        try:
            number = int(tail) + 1
        except ValueError:
            raise exc.EtcdException(
                f"priority queue key {last.kvs[0].key!r} does not end in a sequence number"
            ) from None
    return b"%s/%016d" % (prefix, number)


def sequential_put_txn(prefix: bytes, key: bytes, value: bytes, read_revision: int) -> Txn:
    """Write ``key`` unless another enqueue to the same priority came after our read of
    the last key (it would have taken the same number): the marker ``__<prefix>``
    changes with each enqueue."""
    marker = b"__" + prefix
    return (
        Txn()
        .If(Compare.mod_revision(marker, "<", read_revision + 1))
        .Then(Op.put(marker, b""), Op.put(key, value))
    )


# --- double barrier and read-write lock --------------------------------------------------------


def waiters_prefix(name: bytes) -> bytes:
    return name + b"/waiters"


def ready_key(name: bytes) -> bytes:
    return name + b"/ready"


def check_count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int):
        raise exc.EtcdTypeError(f"a participant count is an int, not {type(count).__name__}")
    if count < 1:
        raise exc.EtcdValueError(f"a double barrier needs at least 1 participant, not {count}")
    return count


def leaving_order(kvs: list[KeyValue], ours: bytes) -> tuple[KeyValue, KeyValue, bool]:
    """The participants still in a double barrier, by modification revision: the
    lowest, the highest, and whether the lowest is ours."""
    lowest = min(kvs, key=lambda kv: kv.mod_revision)
    highest = max(kvs, key=lambda kv: kv.mod_revision)
    return lowest, highest, lowest.key == ours


def reader_prefix(name: bytes) -> bytes:
    return name + b"/read"


def writer_prefix(name: bytes) -> bytes:
    return name + b"/write"
