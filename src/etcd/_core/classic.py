"""The python-etcd interface on etcd v3: pure request building and result decoding, no I/O.

python-etcd spoke etcd's v2 API, where keys live in a tree of directories and every node
has an index. v3 has a flat, ordered key space with revisions. This module maps one onto
the other:

- a key is normalised like python-etcd did (a leading ``/`` added, a trailing ``/``
  dropped), and stored under exactly that name;
- a *directory* ``key`` holds every key below ``key/``. One made with ``write(key, None,
  dir=True)`` is stored as a *marker*, the key ``key/`` with an empty value (python-etcd
  cannot name such a key, since it drops trailing slashes): it exists, empty or not, until
  deleted, and its lease is its TTL. One made by writing a key below it is not stored: it
  exists while keys exist below it, and is never stored itself. A key written below a
  directory with a TTL takes that directory's lease, so that it expires with it;
- every write checks the tree in the same transaction, with comparisons only: no ancestor
  is a key with a value (``EtcdNotDir``), the key is not a directory (``EtcdNotFile``), and
  the ancestors' markers have the leases last seen (none, for a program that never made a
  directory with a TTL). The write costs no more round trips than a plain put;
- ``modifiedIndex``/``createdIndex`` are a key's mod/create revision, ``etcd_index`` the
  store revision of the answer;
- a TTL is a lease attached to the key.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from . import exceptions as exc
from . import validation as check
from .keys import prefix_end
from .kv import Op, Txn
from .responses import KeyValue, RangeResponse, TxnResponse

if TYPE_CHECKING:
    from .watch import Event

__all__ = [
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
        raise exc.EtcdValueError(
            "value must not be None (pass dir=True to make a directory, which has no value)"
        )
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8")


def as_text(raw: bytes) -> str:
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


def node_range(key: str) -> tuple[bytes, bytes]:
    """A range holding ``key`` and its directory marker (plus neighbours to filter out)."""
    return key.encode("utf-8"), directory_prefix(key) + b"\0"


def in_subtree(key: str, candidate: bytes, recursive: bool) -> bool:
    """Whether a watched key is ``key`` itself (or its directory marker) or, when
    recursive, below it."""
    if candidate == key.encode("utf-8"):
        return True
    if recursive:
        return candidate.startswith(directory_prefix(key))
    return key != "/" and candidate == directory_prefix(key)


def ancestors(key: str) -> tuple[str, ...]:
    """The directories above ``key``, outermost first, the root left out.

    ``ancestors("/a/b/c") == ("/a", "/a/b")``.
    """
    parts = key.split("/")[1:-1]
    return tuple("/" + "/".join(parts[: depth + 1]) for depth in range(len(parts)))


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
        "key": as_text(kv.key),
        "value": as_text(kv.value),
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
    """The v2 node of the directory ``key`` from the keys below it; ``None`` if there is none.

    Without ``recursive`` the children are the direct ones, sub-directories included as
    entries without their contents. A directory with a marker (made with ``dir=True``) has
    the marker's indexes and TTL; one without is derived from the keys below it: created
    with the oldest and last modified with the newest.
    """
    prefix = directory_prefix(key)
    base = "" if key == "/" else key
    root: dict[str, Any] = {"key": key, "dir": True, "nodes": []}
    directories: dict[str, dict[str, Any]] = {key: root}
    marked: set[str] = set()
    found = False
    for kv in kvs:
        if not kv.key.startswith(prefix):
            continue
        relative = as_text(kv.key[len(prefix) :])
        if not relative:
            if key == "/":
                continue  # a v3 key named "/" is not the root
            found = True
            _mark(root, kv, ttls)
            marked.add(key)
            continue
        found = True
        parts = relative.split("/")
        is_marker = parts[-1] == ""
        if is_marker:
            parts.pop()
        if not recursive and (len(parts) > 1 or is_marker):
            entry = _subdirectory(directories, root, f"{base}/{parts[0]}")
            if is_marker and len(parts) == 1:
                _mark(entry, kv, ttls)
                marked.add(entry["key"])
            elif entry["key"] not in marked:
                _widen(entry, kv)
        else:
            parent, path = root, base
            for part in parts[:-1]:
                path = f"{path}/{part}"
                parent = _subdirectory(directories, parent, path)
                if path not in marked:
                    _widen(parent, kv)
            if is_marker:
                entry = _subdirectory(directories, parent, f"{path}/{parts[-1]}")
                _mark(entry, kv, ttls)
                marked.add(entry["key"])
            else:
                _add_leaf(directories, parent, leaf_node(kv, ttls.get(kv.lease)))
        if key not in marked:
            _widen(root, kv)
    if not found:
        return None
    _sort(root)
    return root


def _mark(directory: dict[str, Any], marker: KeyValue, ttls: Mapping[int, int]) -> None:
    # A marker sorts before every key below its directory, so these indexes are set before
    # any key below could widen them.
    ttl = ttls.get(marker.lease)
    directory["createdIndex"] = marker.create_revision
    directory["modifiedIndex"] = marker.mod_revision
    directory["ttl"] = ttl
    directory["expiration"] = expiration_text(ttl)
    directory["lease"] = marker.lease


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


# --- watches --------------------------------------------------------------------------------


def event_result(event: Event, revision: int, expired: bool = False) -> EtcdResult:
    """A watch event as python-etcd's result of a change."""
    from .watch import EventType  # loaded with the first watch, not with the client

    kv, prev = event.kv, event.prev_kv
    is_marker = len(kv.key) > 1 and kv.key.endswith(b"/")
    prev_node = _event_node(prev, is_marker) if prev is not None else None
    if event.type == EventType.DELETE:
        node: dict[str, Any] = {
            "key": as_text(kv.key[:-1] if is_marker else kv.key),
            "modifiedIndex": kv.mod_revision,
            "createdIndex": prev.create_revision if prev is not None else None,
            "dir": is_marker,
        }
        return EtcdResult("expire" if expired else "delete", node, prev_node, etcd_index=revision)
    node = _event_node(kv, is_marker)
    node["newKey"] = kv.version == 1
    return EtcdResult("set", node, prev_node, etcd_index=revision)


def _event_node(kv: KeyValue, is_marker: bool) -> dict[str, Any]:
    if not is_marker:
        return leaf_node(kv)
    return {
        "key": as_text(kv.key[:-1]),
        "dir": True,
        "modifiedIndex": kv.mod_revision,
        "createdIndex": kv.create_revision,
        "lease": kv.lease,
    }
