"""The python-etcd layer's writes on v3: the transactions that keep v2's rules for sets,
appends, directories, TTL changes and deletes, and the results they decode (pure, no I/O).

How keys and directories are laid out on v3 is told in :mod:`etcd._core.classic`; each
write here checks that tree in its own transaction, with comparisons only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import exceptions as exc
from . import validation as check
from .classic import (
    APPEND_KEY_WIDTH,
    EtcdResult,
    ancestors,
    as_text,
    directory_prefix,
    expiration_text,
    leaf_node,
    value_text,
)
from .compare import Compare
from .keys import prefix_end
from .kv import Op, Txn
from .responses import DeleteRangeResponse, KeyValue, RangeResponse, TxnResponse

# --- writes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteCondition:
    """python-etcd's ``prevValue``/``prevIndex``/``prevExist``, checked in one transaction."""

    prev_value: bytes | None = None
    prev_index: int | None = None
    prev_exist: bool | None = None

    @classmethod
    def build(cls, prev_value: object, prev_index: object, prev_exist: object) -> WriteCondition:
        return cls(
            prev_value=None if prev_value is None else value_text(prev_value),
            prev_index=None
            if prev_index is None
            else check.integer(prev_index, "prevIndex", minimum=1),
            prev_exist=None if prev_exist is None else check.boolean(prev_exist, "prevExist"),
        )

    def compares(self, key: bytes) -> list[Compare]:
        compares: list[Compare] = []
        if self.prev_exist is True or self.prev_value is not None or self.prev_index is not None:
            compares.append(Compare.create_revision(key, ">", 0))
        if self.prev_exist is False:
            compares.append(Compare.create_revision(key, "==", 0))
        if self.prev_value is not None:
            compares.append(Compare.value(key, "==", self.prev_value))
        if self.prev_index is not None:
            compares.append(Compare.mod_revision(key, "==", self.prev_index))
        return compares

    @property
    def action(self) -> str:
        if self.prev_value is not None or self.prev_index is not None:
            return "compareAndSwap"
        if self.prev_exist is True:
            return "update"
        if self.prev_exist is False:
            return "create"
        return "set"

    def holds(self, current: KeyValue | None) -> bool:
        """Whether the condition holds for the key as it is (``None``: absent)."""
        if current is None:
            expects_one = self.prev_value is not None or self.prev_index is not None
            return self.prev_exist is not True and not expects_one
        if self.prev_exist is False:
            return False
        if self.prev_value is not None and current.value != self.prev_value:
            return False
        return self.prev_index is None or current.mod_revision == self.prev_index

    def failure(self, key: str, current: KeyValue | None) -> exc.EtcdException:
        """The error python-etcd raised when the condition did not hold."""
        if current is None:
            if self.prev_exist is False:  # pragma: no cover - the key exists when this fails
                return exc.EtcdAlreadyExist(f"Key already exists : {key}")
            return exc.EtcdKeyNotFound(f"Key not found : {key}")
        if self.prev_exist is False:
            return exc.EtcdAlreadyExist(f"Key already exists : {key}")
        reasons = []
        if self.prev_value is not None and current.value != self.prev_value:
            reasons.append(f"{as_text(self.prev_value)!r} != {as_text(current.value)!r}")
        if self.prev_index is not None and current.mod_revision != self.prev_index:
            reasons.append(f"{self.prev_index} != {current.mod_revision}")
        return exc.EtcdCompareFailed(f"Compare failed : [{' '.join(reasons)}] on {key}")


def no_leases(key: str) -> tuple[int, ...]:
    """The leases of the markers above ``key`` when none has a TTL."""
    return (0,) * len(ancestors(key))


# One key per directory with a TTL, named after the directory and holding its lease, so
# that it goes when the directory expires. A write checks that this range is empty (one
# comparison, whatever the key's depth) instead of the lease of every marker above it.
# Outside "/", where python-etcd programs cannot reach it and listings never show it.
TTL_DIRECTORIES = b"\0etcd-client/directories-with-ttl"


def ttl_directory_key(key: str) -> bytes:
    """The key that says the directory ``key`` has a TTL."""
    return TTL_DIRECTORIES + key.encode("utf-8")


def ttl_directory_subtree(key: str) -> tuple[bytes, bytes]:
    """The range of the TTL keys of the directories below ``key``."""
    below = ttl_directory_key(key) + b"/"
    return below, prefix_end(below)


@functools.lru_cache(maxsize=4096)
def _tree_compares(key: str) -> tuple[Compare, ...]:
    # The same few keys are written again and again: build their comparisons once.
    marker = directory_prefix(key)
    compares = [Compare.create_revision(marker, "==", 0).with_range(prefix_end(marker))]
    compares.extend(
        Compare.create_revision(name.encode("utf-8"), "==", 0) for name in ancestors(key)
    )
    return tuple(compares)


_NO_TTL_DIRECTORIES = Compare.create_revision(TTL_DIRECTORIES, "==", 0).with_prefix()


def tree_compares(key: str, ancestor_leases: Sequence[int] | None) -> list[Compare]:
    """The comparisons that keep a write within v2's tree: nothing is below ``key`` (it is
    not a directory) and no ancestor has a value (each is a directory).

    With ``ancestor_leases`` ``None``, also that no directory has a TTL; else that each
    ancestor's marker has the lease given (0 where there is no marker, or one without a
    TTL).
    """
    compares = list(_tree_compares(key))
    if ancestor_leases is None:
        compares.append(_NO_TTL_DIRECTORIES)
    else:
        for name, lease in zip(ancestors(key), ancestor_leases, strict=True):
            compares.append(Compare.lease(directory_prefix(name), "==", lease))
    return compares


def tree_txn(key: str) -> Txn:
    """Read the tree around ``key``, for :func:`read_tree` to tell why a write failed."""
    marker = directory_prefix(key)
    reads: list[Op] = [
        Op.range(key.encode("utf-8")),
        Op.range(marker, prefix_end(marker), keys_only=True, limit=1),
    ]
    for name in ancestors(key):
        reads.append(Op.range(name.encode("utf-8"), keys_only=True))
        reads.append(Op.range(directory_prefix(name), keys_only=True))
    return Txn().Then(*reads)


@dataclass(frozen=True, slots=True)
class Tree:
    """The tree around a key, as read by :func:`tree_txn`."""

    previous: KeyValue | None
    is_directory: bool
    file_ancestor: str | None
    ancestor_leases: tuple[int, ...]

    @property
    def inherited_lease(self) -> int:
        """The lease of the nearest directory above with a TTL (0: none).

        A key below such a directory takes its lease, so that it expires with it. Keys and
        directories below a directory never outlive it, so the nearest lease is the first
        to run out.
        """
        return next((lease for lease in reversed(self.ancestor_leases) if lease), 0)


def read_tree(key: str, response: TxnResponse) -> Tree:
    ranges = [r for r in response.responses if isinstance(r, RangeResponse)]
    exact, below, around = ranges[0], ranges[1], ranges[2:]
    file_ancestor = None
    leases = []
    for name, own, marker in zip(ancestors(key), around[0::2], around[1::2], strict=True):
        if own.kvs and file_ancestor is None:
            file_ancestor = name
        leases.append(marker.kvs[0].lease if marker.kvs else 0)
    return Tree(
        previous=exact.kvs[0] if exact.kvs else None,
        is_directory=bool(below.kvs),
        file_ancestor=file_ancestor,
        ancestor_leases=tuple(leases),
    )


def write_txn(
    key: str,
    value: bytes,
    lease: int,
    condition: WriteCondition,
    ancestor_leases: Sequence[int] | None,
) -> Txn:
    """Write ``key`` if ``condition`` and the tree's checks hold; either branch reads the
    key's previous state first."""
    raw = key.encode("utf-8")
    return (
        Txn()
        .If(*condition.compares(raw), *tree_compares(key, ancestor_leases))
        .Then(Op.range(raw), Op.put(raw, value, lease=lease))
        .Else(Op.range(raw))
    )


def directory_txn(
    key: str, lease: int, condition: WriteCondition, ancestor_leases: Sequence[int] | None
) -> Txn:
    """Make the directory ``key``: its marker, replacing a value the key had (as v2's set
    of a directory over a key did), and its TTL key when it has a lease."""
    raw = key.encode("utf-8")
    made: list[Op] = [Op.put(directory_prefix(key), b"", lease=lease)]
    if lease:
        made.append(Op.put(ttl_directory_key(key), b"", lease=lease))
    return (
        Txn()
        .If(*condition.compares(raw), *tree_compares(key, ancestor_leases))
        .Then(Op.range(raw), Op.delete_range(raw), *made)
        .Else(Op.range(raw))
    )


def write_failure(
    key: str, condition: WriteCondition, response: TxnResponse, tree: Tree
) -> exc.EtcdException | None:
    """python-etcd's error for a write that failed (``response``), with the tree read just
    after; ``None`` when none applies: only the TTLs of the directories above differ from
    what the write expected, and it is to be tried again with ``tree.ancestor_leases``."""
    before = response.responses[0]
    assert isinstance(before, RangeResponse)
    previous = before.kvs[0] if before.kvs else None
    if tree.file_ancestor is not None:
        return exc.EtcdNotDir(f"Not a directory : {tree.file_ancestor} (a key above {key})")
    if tree.is_directory and tree.previous is None:
        if condition.prev_exist is False:
            return exc.EtcdAlreadyExist(f"Key already exists : {key}")
        return exc.EtcdNotFile(f"Not a file : {key} (a directory)")
    if not condition.holds(previous):
        return condition.failure(key, previous)
    if tree.is_directory:
        return exc.EtcdNotFile(f"Not a file : {key} (it has keys below it)")
    return None


def write_result(
    key: str,
    value: bytes | None,
    lease: int,
    ttl: int | None,
    condition: WriteCondition,
    response: TxnResponse,
) -> EtcdResult:
    """The answer of a successful write (``value`` ``None``: a directory made)."""
    before = response.responses[0]
    assert isinstance(before, RangeResponse)
    previous = before.kvs[0] if before.kvs else None
    revision = response.header.revision
    node: dict[str, Any] = {
        "key": key,
        "modifiedIndex": revision,
        "createdIndex": previous.create_revision if previous and value is not None else revision,
        "lease": lease,
        "ttl": ttl,
        "expiration": expiration_text(ttl),
        "newKey": previous is None,
    }
    if value is None:
        node["dir"] = True
    else:
        node["value"], node["raw_value"] = as_text(value), value
    prev_node = leaf_node(previous) if previous else None
    return EtcdResult(condition.action, node, prev_node, etcd_index=revision)


def append_txn(
    key: str, revision: int, value: bytes, lease: int, ancestor_leases: Sequence[int] | None
) -> tuple[str, Txn]:
    """Create an in-order key below ``key``, named after a revision (v2's POST).

    ``revision`` is the store revision read just before. The new name is ``revision + 1``,
    zero-padded; the transaction only succeeds if no key below the directory was created
    after ``revision``, so names always sort in creation order. ``ancestor_leases`` are
    those of the new key's ancestors (``key`` the last), as for :func:`tree_compares`. A
    lost race is retried with a fresh revision by the caller.
    """
    name = f"{directory_prefix(key).decode()}{revision + 1:0{APPEND_KEY_WIDTH}d}"
    raw = name.encode("utf-8")
    prefix = directory_prefix(key)
    txn = (
        Txn()
        .If(
            Compare.create_revision(raw, "==", 0),
            Compare.create_revision(prefix, "<", revision + 1).with_prefix(),
            *tree_compares(name, ancestor_leases),
        )
        .Then(Op.range(raw), Op.put(raw, value, lease=lease))
        .Else(Op.range(raw))
    )
    return name, txn


# --- a directory's TTL ----------------------------------------------------------------------


def retime_txns(
    key: str, marker: KeyValue | None, moving: Sequence[KeyValue], lease: int, max_ops: int
) -> list[Txn]:
    """Move a directory's marker and the keys that shared its lease onto ``lease`` (0: none).

    Each transaction only applies if the keys it moves are unchanged since read. The first
    one holds the marker (made if the directory had none); more than ``max_ops`` keys take
    several transactions, each atomic on its own.
    """
    marker_key = directory_prefix(key)
    if marker is None:
        first_compares = [Compare.create_revision(marker_key, "==", 0)]
        first_ops: list[Op] = [Op.put(marker_key, b"", lease=lease)]
    else:
        first_compares = [Compare.mod_revision(marker_key, "==", marker.mod_revision)]
        first_ops = [Op.put(marker_key, lease=lease, ignore_value=True)]
    if lease:
        first_ops.append(Op.put(ttl_directory_key(key), b"", lease=lease))
    else:
        first_ops.append(Op.delete_range(ttl_directory_key(key)))
    others = [kv for kv in moving if kv.key != marker_key]
    batches: list[tuple[list[Compare], list[Op]]] = [(first_compares, first_ops)]
    for kv in others:
        compares, ops = batches[-1]
        if len(ops) >= max_ops:
            compares, ops = [], []
            batches.append((compares, ops))
        compares.append(Compare.mod_revision(kv.key, "==", kv.mod_revision))
        ops.append(Op.put(kv.key, lease=lease, ignore_value=True))
    return [Txn().If(*compares).Then(*ops) for compares, ops in batches]


def retime_result(
    key: str, marker: KeyValue | None, lease: int, ttl: int | None, revision: int
) -> EtcdResult:
    """The answer of a directory's TTL changed (v2's update of a directory)."""
    created = marker.create_revision if marker else revision
    node = {
        "key": key,
        "dir": True,
        "modifiedIndex": revision,
        "createdIndex": created,
        "lease": lease,
        "ttl": ttl,
        "expiration": expiration_text(ttl),
    }
    prev_node = {"key": key, "dir": True, "createdIndex": created}
    if marker is not None:
        prev_node["modifiedIndex"] = marker.mod_revision
    return EtcdResult("update", node, prev_node, etcd_index=revision)


# --- deletes --------------------------------------------------------------------------------


def delete_txn(key: str, recursive: bool, directory: bool, condition: WriteCondition) -> Txn:
    """Delete ``key`` (and its subtree when recursive), reading what is there first.

    Both branches read the key, its directory marker, and count the keys below, so that a
    delete that removed nothing can tell "no such key" from "that is a directory". With
    ``directory`` (v2's ``dir=True``) an empty directory's marker goes too, and a directory
    with keys below is left alone.
    """
    raw = key.encode("utf-8")
    marker = directory_prefix(key)
    below = marker + b"\0"
    compares = condition.compares(raw)
    reads = [Op.range(raw), Op.range(marker), Op.range(below, prefix_end(marker), count_only=True)]
    deletes = [Op.delete_range(raw, prev_kv=True)]
    if recursive:
        deletes.append(Op.delete_range(marker, prefix_end(marker)))
        deletes.append(Op.delete_range(ttl_directory_key(key)))
        deletes.append(Op.delete_range(*ttl_directory_subtree(key)))
    elif directory:
        compares.append(Compare.create_revision(below, "==", 0).with_range(prefix_end(marker)))
        deletes.append(Op.delete_range(marker))
        deletes.append(Op.delete_range(ttl_directory_key(key)))
    return Txn().If(*compares).Then(*reads, *deletes).Else(*reads)


def delete_result(
    key: str,
    recursive: bool,
    directory: bool,
    condition: WriteCondition,
    response: TxnResponse,
) -> EtcdResult:
    """The answer of ``delete_txn``; raises python-etcd's error when nothing fits."""
    exact, marked, below = response.responses[0], response.responses[1], response.responses[2]
    assert isinstance(exact, RangeResponse)
    assert isinstance(marked, RangeResponse) and isinstance(below, RangeResponse)
    previous = exact.kvs[0] if exact.kvs else None
    marker = marked.kvs[0] if marked.kvs else None
    is_directory = previous is None and (marker is not None or below.count > 0)
    if not response.succeeded:
        if is_directory and condition.action == "compareAndSwap":
            raise exc.EtcdNotFile(f"Not a file : {key} (a directory has no value to compare)")
        if condition.holds(previous) and below.count:
            raise exc.EtcdDirNotEmpty(f"Directory not empty : {key}")
        raise condition.failure(key, previous)
    deleted = [r for r in response.responses[3:] if isinstance(r, DeleteRangeResponse)]
    removed = sum(r.deleted for r in deleted)
    revision = response.header.revision
    if removed == 0:
        if is_directory:
            raise exc.EtcdNotFile(
                f"Not a file : {key} (a directory: pass dir=True if empty, recursive=True "
                "to delete what is below it)"
            )
        raise exc.EtcdKeyNotFound(f"Key not found : {key}")
    node: dict[str, Any] = {"key": key, "modifiedIndex": revision, "dir": previous is None}
    if previous is not None:
        node["createdIndex"] = previous.create_revision
        prev_node = leaf_node(previous)
    else:
        prev_node = {"key": key, "dir": True}
        if marker is not None:
            node["createdIndex"] = prev_node["createdIndex"] = marker.create_revision
            prev_node["modifiedIndex"] = marker.mod_revision
    action = "compareAndDelete" if condition.action == "compareAndSwap" else "delete"
    return EtcdResult(action, node, prev_node, etcd_index=revision)
