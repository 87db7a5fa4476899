"""The python-etcd interface on etcd v3: pure request building and result decoding, no I/O.

python-etcd spoke etcd's v2 API, where keys live in a tree of directories and every node
has an index. v3 has a flat, ordered key space with revisions. This module maps one onto
the other:

- a key is normalised like python-etcd did (a leading ``/`` added, a trailing ``/``
  dropped), and stored under exactly that name;
- a *directory* is every key below ``key/``; it exists while it has keys under it, and is
  never stored itself;
- ``modifiedIndex``/``createdIndex`` are a key's mod/create revision, ``etcd_index`` the
  store revision of the answer;
- a TTL is a lease attached to the key.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from . import exceptions as exc
from . import validation as check
from .kv import Compare, Op, Txn, prefix_end
from .responses import DeleteRangeResponse, KeyValue, RangeResponse, TxnResponse

if TYPE_CHECKING:
    from .watch import Event

__all__ = [
    "AsyncContainsMixin",
    "ContainsMixin",
    "EtcdResult",
    "Member",
    "normalize_key",
    "value_text",
]

# Width of the names that ``write(..., append=True)`` gives, as etcd v2 did (20 digits).
APPEND_KEY_WIDTH = 20


def normalize_key(key: object) -> str:
    """``"nodes/n1"`` and ``"/nodes/n1/"`` both become ``"/nodes/n1"``, as in python-etcd."""
    if isinstance(key, bytes):
        try:
            key = key.decode("utf-8")
        except UnicodeDecodeError:
            raise exc.EtcdValueError(f"key {key!r} is not valid UTF-8") from None
    if not isinstance(key, str):
        raise exc.EtcdTypeError(f"key must be str or bytes, not {type(key).__name__}")
    if not key.startswith("/"):
        key = "/" + key
    while len(key) > 1 and key.endswith("/"):
        key = key[:-1]
    return key


def refuse_root(key: str) -> None:
    """Refuse to write or delete ``/``, as etcd v2 did (error 107, "Root is read only")."""
    if key == "/":
        raise exc.EtcdRootReadOnly(
            "Root is read only : / (the python-etcd interface writes and deletes keys below "
            "it, never the root itself)"
        )


def means_no_timeout(timeout: object) -> bool:
    """Whether a python-etcd ``timeout`` is its ``0``, "wait as long as it takes".

    Only the python-etcd calls read it so; the v3 calls refuse a zero deadline.
    """
    return not isinstance(timeout, bool) and isinstance(timeout, (int, float)) and timeout == 0


def parse_cluster_id(value: object) -> int | None:
    """python-etcd's ``expected_cluster_id``: the ID in hex (as etcd prints it), or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise exc.EtcdTypeError(
            f"expected_cluster_id must be a str of hex digits, not {type(value).__name__}"
        )
    if isinstance(value, int):
        return check.integer(value, "expected_cluster_id", minimum=1, maximum=check.UINT64_MAX)
    try:
        number = int(value, 16)
    except ValueError:
        raise exc.EtcdValueError(
            f"expected_cluster_id must be hex digits, such as 'cdf818194e3a8c32', got {value!r}"
        ) from None
    return check.integer(number, "expected_cluster_id", minimum=1, maximum=check.UINT64_MAX)


def cluster_id_change(
    expected: int | None, seen: int, endpoint: str | None = None
) -> exc.EtcdClusterIdChanged | None:
    """The error for an answer from cluster ``seen`` when ``expected`` was expected.

    ``None`` when nothing was expected yet, or the answer carries no ID.
    """
    if expected is None or not seen or seen == expected:
        return None
    return exc.EtcdClusterIdChanged(
        f"The UUID of the cluster changed from {expected:x} to {seen:x}: the cluster was "
        "replaced (restored from a backup?), and indexes read from the old one are not "
        "valid on it",
        endpoint=endpoint,
    )


def value_text(value: object) -> bytes:
    """What python-etcd sent for a value: ``str(value)`` (so ``1`` is stored as ``"1"``)."""
    if value is None:
        raise exc.EtcdValueError("value must not be None (etcd v3 has no empty directories)")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8")


def _text(raw: bytes) -> str:
    # Values written by other clients may be arbitrary bytes; keep them round-trippable.
    return raw.decode("utf-8", errors="surrogateescape")


def directory_prefix(key: str) -> bytes:
    """The key prefix of the directory ``key``: ``b"/nodes/"`` (``b"/"`` for the root)."""
    return key.encode("utf-8") if key == "/" else (key + "/").encode("utf-8")


def subtree_range(key: str) -> tuple[bytes, bytes]:
    """A range holding ``key`` and every key below it (plus neighbours to filter out)."""
    if key == "/":
        return b"/", prefix_end(b"/")
    return key.encode("utf-8"), prefix_end(directory_prefix(key))


def in_subtree(key: str, candidate: bytes, recursive: bool) -> bool:
    """Whether a watched key is ``key`` itself or, when recursive, below it."""
    if candidate == key.encode("utf-8"):
        return True
    return recursive and candidate.startswith(directory_prefix(key))


def expiration_text(ttl: int | None, now: datetime.datetime | None = None) -> str | None:
    """The expiry time of a TTL, as an ISO 8601 UTC string (python-etcd's ``expiration``)."""
    if ttl is None or ttl < 0:
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (now + datetime.timedelta(seconds=ttl)).isoformat().replace("+00:00", "Z")


class EtcdResult:
    """The result of a call of the python-etcd interface: one node, maybe with children.

    The attribute names are python-etcd's. On etcd v3 they mean:

    Attributes:
        key: the key (a ``str`` starting with ``/``).
        value: the value as text, or ``None`` for a directory or a deleted key.
        raw_value: the value as bytes.
        dir: ``True`` for a directory (keys exist below ``key/``).
        ttl: the remaining seconds of the key's lease, or ``None`` without one.
        expiration: when the lease runs out (ISO 8601, UTC), or ``None``.
        modifiedIndex: the revision of the key's last change.
        createdIndex: the revision that created the key.
        etcd_index: the store's revision when the answer was made.
        action: what happened: ``get``, ``set``, ``create``, ``update``,
            ``compareAndSwap``, ``delete``, ``compareAndDelete`` or ``expire``.
        newKey: ``True`` when a write created the key.
        lease: the ID of the key's lease (0 for none).
    """

    _NODE_FIELDS = ("key", "value", "expiration", "ttl", "modifiedIndex", "createdIndex")

    def __init__(
        self,
        action: str | None = None,
        node: Mapping[str, Any] | None = None,
        prevNode: Mapping[str, Any] | None = None,  # python-etcd's spelling
        **extra: Any,
    ) -> None:
        node = dict(node or {})
        self.action = action
        self.key: str | None = node.get("key")
        self.value: str | None = node.get("value")
        self.raw_value: bytes | None = node.get("raw_value")
        if self.raw_value is None and self.value is not None:
            self.raw_value = self.value.encode("utf-8", errors="surrogateescape")
        self.expiration: str | None = node.get("expiration")
        self.ttl: int | None = node.get("ttl")
        self.modifiedIndex: int | None = node.get("modifiedIndex")
        self.createdIndex: int | None = node.get("createdIndex")
        self.lease: int = node.get("lease", 0)
        self.newKey: bool = bool(node.get("newKey", False))
        self.dir: bool = bool(node.get("dir", False))
        self._children: list[dict[str, Any]] = list(node.get("nodes", []))
        self._prev_node = EtcdResult(None, node=prevNode) if prevNode else None
        self.etcd_index: int | None = extra.pop("etcd_index", None)
        self.raft_index: int | None = extra.pop("raft_index", None)
        for name, value in extra.items():
            setattr(self, name, value)

    def get_subtree(self, leaves_only: bool = False) -> Iterator[EtcdResult]:
        """Every node of this result's tree, depth first (only the leaves if asked)."""
        if not self._children:
            yield self
            return
        if not leaves_only:
            yield self
        for child in self._children:
            yield from EtcdResult(None, child).get_subtree(leaves_only=leaves_only)

    @property
    def leaves(self) -> Iterator[EtcdResult]:
        """The nodes without children below this one (the node itself if it is a leaf)."""
        return self.get_subtree(leaves_only=True)

    @property
    def children(self) -> Iterator[EtcdResult]:
        """The leaves, as in python-etcd.

        For a plain listing these are the direct children, with sub-directories as entries
        of their own (``dir`` true), sorted by key.
        """
        return self.leaves

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EtcdResult):
            return NotImplemented
        return all(
            getattr(self, name) == getattr(other, name)
            for name in (*self._NODE_FIELDS, "dir", "action", "_children")
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like python-etcd's

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("action", "key", "value", "dir", "ttl", "modifiedIndex", "etcd_index")
        )
        return f"EtcdResult({fields})"


@dataclass(frozen=True, slots=True)
class Member:
    """A cluster member, with python-etcd's mapping keys as well as attributes.

    ``member["clientURLs"]`` and ``member.client_urls`` hold the same URLs;
    ``member["id"]`` is the ID in hex, as etcd v2 wrote it, and ``member.id`` the number.
    """

    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]
    is_learner: bool = False

    _KEYS: ClassVar[dict[str, str]] = {
        "id": "id",
        "name": "name",
        "peerURLs": "peer_urls",
        "clientURLs": "client_urls",
        "isLearner": "is_learner",
    }

    def __getitem__(self, name: str) -> Any:
        attribute = self._KEYS.get(name)
        if attribute is None:
            raise KeyError(name)
        value = getattr(self, attribute)
        if name == "id":
            return f"{value:x}"
        return list(value) if isinstance(value, tuple) else value

    def __contains__(self, name: object) -> bool:
        return name in self._KEYS

    def keys(self) -> list[str]:
        return list(self._KEYS)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self._KEYS else default


def decode_member(message: Any) -> Member:
    return Member(
        id=message.ID,
        name=message.name,
        peer_urls=tuple(message.peerURLs),
        client_urls=tuple(message.clientURLs),
        is_learner=message.isLearner,
    )


# --- key in client ---------------------------------------------------------------------------


class _Contains(Protocol):
    def contains(self, key: str) -> bool: ...


class ContainsMixin:
    """python-etcd's ``key in client``, for the sync client."""

    def __contains__(self: _Contains, key: str) -> bool:
        return self.contains(key)


class AsyncContainsMixin:
    """``key in client`` on the asyncio client, where ``in`` cannot wait for an answer."""

    def __contains__(self, key: object) -> bool:
        raise exc.EtcdTypeError(
            "`key in client` cannot wait for etcd on an asyncio client: use "
            "`await client.contains(key)`"
        )


def contains_txn(key: str) -> Txn:
    """One read, at one revision, of whether ``key`` exists or has keys below it."""
    prefix = directory_prefix(key)
    return Txn().Then(
        Op.range(key.encode("utf-8"), count_only=True),
        Op.range(prefix, prefix_end(prefix), keys_only=True, limit=1),
    )


def contains_result(key: str, response: TxnResponse) -> bool:
    """Whether ``get(key)`` would find something: a value, a directory, or the root."""
    exact, below = response.responses[0], response.responses[1]
    assert isinstance(exact, RangeResponse) and isinstance(below, RangeResponse)
    if key == "/":
        return True
    return exact.count > 0 or bool(below.kvs)


# --- building nodes -------------------------------------------------------------------------


def leaf_node(kv: KeyValue, ttl: int | None = None) -> dict[str, Any]:
    """The v2 node of one key."""
    return {
        "key": _text(kv.key),
        "value": _text(kv.value),
        "raw_value": kv.value,
        "modifiedIndex": kv.mod_revision,
        "createdIndex": kv.create_revision,
        "lease": kv.lease,
        "ttl": ttl,
        "expiration": expiration_text(ttl),
    }


def directory_node(
    key: str, kvs: Iterable[KeyValue], recursive: bool, ttls: Mapping[int, int]
) -> dict[str, Any] | None:
    """The v2 node of the directory ``key`` from the keys below it; ``None`` if empty.

    Without ``recursive`` the children are the direct ones, sub-directories included as
    entries without their contents. A directory's indexes are derived from its keys: it was
    created with the oldest and last modified with the newest.
    """
    prefix = directory_prefix(key)
    base = "" if key == "/" else key
    root: dict[str, Any] = {"key": key, "dir": True, "nodes": []}
    directories: dict[str, dict[str, Any]] = {key: root}
    found = False
    for kv in kvs:
        relative = _text(kv.key[len(prefix) :]) if kv.key.startswith(prefix) else ""
        if not relative:
            continue
        found = True
        parts = relative.split("/")
        if len(parts) == 1:
            _add_leaf(directories, root, leaf_node(kv, ttls.get(kv.lease)))
        elif not recursive:
            _widen(_subdirectory(directories, root, f"{base}/{parts[0]}"), kv)
        else:
            parent, path = root, base
            for part in parts[:-1]:
                path = f"{path}/{part}"
                parent = _subdirectory(directories, parent, path)
                _widen(parent, kv)
            _add_leaf(directories, parent, leaf_node(kv, ttls.get(kv.lease)))
        _widen(root, kv)
    if not found:
        return None
    _sort(root)
    return root


def _subdirectory(
    directories: dict[str, dict[str, Any]], parent: dict[str, Any], path: str
) -> dict[str, Any]:
    entry = directories.get(path)
    if entry is None:
        entry = next((node for node in parent["nodes"] if node["key"] == path), None)
        if entry is None:
            entry = {"key": path, "nodes": []}
            parent["nodes"].append(entry)
        # v3 lets a key hold a value and have keys below it: one entry, a directory that
        # keeps its value.
        entry["dir"] = True
        entry.setdefault("nodes", [])
        directories[path] = entry
    return entry


def _add_leaf(
    directories: dict[str, dict[str, Any]], parent: dict[str, Any], leaf: dict[str, Any]
) -> None:
    existing = directories.get(leaf["key"])
    if existing is not None:
        for name, value in leaf.items():
            existing.setdefault(name, value)
        existing["value"], existing["raw_value"] = leaf["value"], leaf["raw_value"]
        return
    parent["nodes"].append(leaf)


def _widen(directory: dict[str, Any], kv: KeyValue) -> None:
    created = directory.get("createdIndex")
    modified = directory.get("modifiedIndex")
    directory["createdIndex"] = (
        kv.create_revision if created is None else min(created, kv.create_revision)
    )
    directory["modifiedIndex"] = (
        kv.mod_revision if modified is None else max(modified, kv.mod_revision)
    )


def _sort(directory: dict[str, Any]) -> None:
    directory["nodes"].sort(key=lambda node: node["key"])
    for node in directory["nodes"]:
        if node.get("dir"):
            _sort(node)


def read_result(
    key: str,
    exact: RangeResponse,
    below: RangeResponse | None,
    recursive: bool,
    ttls: Mapping[int, int],
) -> EtcdResult:
    """The answer of ``get``/``read``: the key's value, or the directory below it."""
    revision = exact.header.revision
    if exact.kvs and key != "/":
        kv = exact.kvs[0]
        return EtcdResult("get", leaf_node(kv, ttls.get(kv.lease)), etcd_index=revision)
    node = directory_node(key, below.kvs if below else (), recursive, ttls)
    if node is None:
        if key == "/":
            return EtcdResult("get", {"key": "/", "dir": True}, etcd_index=revision)
        raise exc.EtcdKeyNotFound(f"Key not found : {key}")
    return EtcdResult("get", node, etcd_index=revision)


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
            reasons.append(f"{_text(self.prev_value)!r} != {_text(current.value)!r}")
        if self.prev_index is not None and current.mod_revision != self.prev_index:
            reasons.append(f"{self.prev_index} != {current.mod_revision}")
        return exc.EtcdCompareFailed(f"Compare failed : [{' '.join(reasons)}] on {key}")


def write_txn(key: str, value: bytes, lease: int, condition: WriteCondition) -> Txn:
    """Write ``key`` if ``condition`` holds; either branch reads the key's previous state."""
    raw = key.encode("utf-8")
    return (
        Txn()
        .If(*condition.compares(raw))
        .Then(Op.range(raw), Op.put(raw, value, lease=lease))
        .Else(Op.range(raw))
    )


def write_result(
    key: str,
    value: bytes,
    lease: int,
    ttl: int | None,
    condition: WriteCondition,
    response: TxnResponse,
) -> EtcdResult:
    """The answer of a successful ``write_txn``; raises python-etcd's error on failure."""
    before = response.responses[0]
    assert isinstance(before, RangeResponse)
    previous = before.kvs[0] if before.kvs else None
    if not response.succeeded:
        raise condition.failure(key, previous)
    revision = response.header.revision
    node = {
        "key": key,
        "value": _text(value),
        "raw_value": value,
        "modifiedIndex": revision,
        "createdIndex": previous.create_revision if previous else revision,
        "lease": lease,
        "ttl": ttl,
        "expiration": expiration_text(ttl),
        "newKey": previous is None,
    }
    prev_node = leaf_node(previous) if previous else None
    return EtcdResult(condition.action, node, prev_node, etcd_index=revision)


def append_txn(key: str, revision: int, value: bytes, lease: int) -> tuple[str, Txn]:
    """Create an in-order key below ``key``, named after a revision (v2's POST).

    ``revision`` is the store revision read just before. The new name is ``revision + 1``,
    zero-padded; the transaction only succeeds if no key below the directory was created
    after ``revision``, so names always sort in creation order. A lost race is retried
    with a fresh revision by the caller.
    """
    name = f"{directory_prefix(key).decode()}{revision + 1:0{APPEND_KEY_WIDTH}d}"
    raw = name.encode("utf-8")
    prefix = directory_prefix(key)
    txn = (
        Txn()
        .If(
            Compare.create_revision(raw, "==", 0),
            Compare.create_revision(prefix, "<", revision + 1).with_prefix(),
        )
        .Then(Op.range(raw), Op.put(raw, value, lease=lease))
        .Else(Op.range(raw))
    )
    return name, txn


# --- deletes --------------------------------------------------------------------------------


def delete_txn(key: str, recursive: bool, condition: WriteCondition) -> Txn:
    """Delete ``key`` (and its subtree when recursive), reading what is there first.

    Both branches read the key and count the keys below it, so that a delete that removed
    nothing can tell "no such key" from "that is a directory".
    """
    raw = key.encode("utf-8")
    prefix = directory_prefix(key)
    compares = condition.compares(raw)
    reads = [Op.range(raw), Op.range(prefix, prefix_end(prefix), count_only=True)]
    deletes = [Op.delete_range(raw, prev_kv=True)]
    if recursive:
        deletes.append(Op.delete_range(prefix, prefix_end(prefix), prev_kv=False))
    return Txn().If(*compares).Then(*reads, *deletes).Else(*reads)


def delete_result(
    key: str,
    recursive: bool,
    directory: bool,
    condition: WriteCondition,
    response: TxnResponse,
) -> EtcdResult:
    """The answer of ``delete_txn``; raises python-etcd's error when nothing fits."""
    exact, below = response.responses[0], response.responses[1]
    assert isinstance(exact, RangeResponse) and isinstance(below, RangeResponse)
    previous = exact.kvs[0] if exact.kvs else None
    if not response.succeeded:
        raise condition.failure(key, previous)
    deleted = [r for r in response.responses[2:] if isinstance(r, DeleteRangeResponse)]
    removed = sum(r.deleted for r in deleted)
    revision = response.header.revision
    if removed == 0:
        if below.count and not recursive:
            if directory:
                raise exc.EtcdDirNotEmpty(f"Directory not empty : {key}")
            raise exc.EtcdNotFile(f"Not a file : {key} (pass recursive=True to delete it)")
        raise exc.EtcdKeyNotFound(f"Key not found : {key}")
    is_directory = previous is None
    node: dict[str, Any] = {"key": key, "modifiedIndex": revision, "dir": is_directory}
    if previous is not None:
        node["createdIndex"] = previous.create_revision
    action = "compareAndDelete" if condition.action == "compareAndSwap" else "delete"
    prev_node = leaf_node(previous) if previous else {"key": key, "dir": True}
    return EtcdResult(action, node, prev_node, etcd_index=revision)


# --- watches --------------------------------------------------------------------------------


def event_result(event: Event, revision: int, expired: bool = False) -> EtcdResult:
    """A watch event as python-etcd's result of a change."""
    from .watch import EventType  # loaded with the first watch, not with the client

    kv, prev = event.kv, event.prev_kv
    prev_node = leaf_node(prev) if prev is not None else None
    if event.type == EventType.DELETE:
        node: dict[str, Any] = {
            "key": _text(kv.key),
            "modifiedIndex": kv.mod_revision,
            "createdIndex": prev.create_revision if prev is not None else None,
        }
        return EtcdResult("expire" if expired else "delete", node, prev_node, etcd_index=revision)
    node = leaf_node(kv)
    node["newKey"] = kv.version == 1
    return EtcdResult("set", node, prev_node, etcd_index=revision)
