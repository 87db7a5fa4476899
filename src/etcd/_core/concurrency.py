"""Locks and elections without I/O: the keys and transactions of Go's ``concurrency`` package.

Using exactly the same scheme as Go (and ``etcdctl lock``/``etcdctl elect``, which use Go's
package) is what makes our locks exclude theirs and our elections see their candidates:

- every contender writes ``<name>/<lease id in hex>``, attached to its session's lease,
  in a transaction that only creates the key if it does not exist yet;
- the contender whose key has the lowest create revision owns the lock (leads);
- the others wait, each for the deletion of the key created just before its own, so the
  queue is fair (first come, first served) and each deletion wakes only one waiter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._wire import messages as pb
from . import validation as check
from .compare import Compare
from .keys import prefix_end
from .kv import Op, RangeOp, SortOrder, SortTarget, Txn
from .responses import KeyValue, RangeResponse, ResponseHeader, TxnResponse

__all__ = ["Contender"]


def name_prefix(name: object) -> bytes:
    """The key prefix of a lock or election: ``name`` followed by ``/``, as Go writes it."""
    raw = check.key_bytes(name, "name")
    return raw + b"/"


def contender_key(prefix: bytes, lease_id: int) -> bytes:
    return prefix + f"{lease_id:x}".encode()


def first_created(prefix: bytes) -> RangeOp:
    """The key of the oldest contender: the owner, or the leader."""
    return Op.range(
        prefix,
        prefix_end(prefix),
        sort_target=SortTarget.CREATE,
        sort_order=SortOrder.ASCEND,
        limit=1,
    )


def last_created_before(prefix: bytes, revision: int) -> RangeOp:
    """The newest contender created at or before ``revision``: the one to wait for."""
    return Op.range(
        prefix,
        prefix_end(prefix),
        sort_target=SortTarget.CREATE,
        sort_order=SortOrder.DESCEND,
        limit=1,
        max_create_revision=revision,
    )


def enqueue_txn(prefix: bytes, key: bytes, lease_id: int, value: bytes = b"") -> Txn:
    """Join the queue (or find our key already there), and read who is first, at once."""
    return (
        Txn()
        .If(Compare.create_revision(key, "==", 0))
        .Then(Op.put(key, value, lease=lease_id), first_created(prefix))
        .Else(Op.range(key), first_created(prefix))
    )


@dataclass(frozen=True, slots=True)
class Contender:
    """Our place in a lock's or an election's queue."""

    key: bytes
    revision: int
    """The create revision of our key: it orders the queue."""
    value: bytes
    """The value our key holds (a candidate's proclaimed value)."""
    owner_revision: int | None
    """The create revision of the first key in the queue, or ``None`` if it was empty."""
    header: ResponseHeader

    @property
    def is_first(self) -> bool:
        return self.owner_revision is None or self.owner_revision == self.revision


def enqueued(key: bytes, value: bytes, response: TxnResponse) -> Contender:
    """Where ``enqueue_txn`` put us."""
    ours, owner = response.responses[0], response.responses[1]
    assert isinstance(owner, RangeResponse)
    if response.succeeded:
        revision, current = response.header.revision, value
    else:
        assert isinstance(ours, RangeResponse)
        revision, current = ours.kvs[0].create_revision, ours.kvs[0].value
    owner_revision = owner.kvs[0].create_revision if owner.kvs else None
    return Contender(key, revision, current, owner_revision, response.header)


def holds(key: bytes, revision: int) -> Compare:
    """True while ``key`` is the one created at ``revision``: fences a transaction."""
    return Compare.create_revision(key, "==", revision)


def proclaim_txn(key: bytes, revision: int, value: bytes, lease_id: int) -> Txn:
    return Txn().If(holds(key, revision)).Then(Op.put(key, value, lease=lease_id))


def resign_txn(key: bytes, revision: int) -> Txn:
    return Txn().If(holds(key, revision)).Then(Op.delete_range(key))


def leader_of(response: RangeResponse) -> KeyValue | None:
    return response.kvs[0] if response.kvs else None


class LeaderKey:
    """A campaign won through the server's election service (``v3electionpb.LeaderKey``)."""

    def __init__(self, name: bytes, key: bytes, revision: int, lease: int) -> None:
        self.name, self.key, self.revision, self.lease = name, key, revision, lease

    def _to_pb(self) -> Any:
        return pb.LeaderKey(name=self.name, key=self.key, rev=self.revision, lease=self.lease)

    def __repr__(self) -> str:
        return f"LeaderKey(name={self.name!r}, key={self.key!r}, revision={self.revision})"
