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
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from . import exceptions as exc
from . import validation as check
from .kv import Op, prefix_end
from .responses import DeleteRangeResponse, KeyValue, RangeResponse, TxnResponse
from .txn import Compare, Txn

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
        relative = _text(kv.key[len(prefix) :])
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
            reasons.append(f"{_text(self.prev_value)!r} != {_text(current.value)!r}")
        if self.prev_index is not None and current.mod_revision != self.prev_index:
            reasons.append(f"{self.prev_index} != {current.mod_revision}")
        return exc.EtcdCompareFailed(f"Compare failed : [{' '.join(reasons)}] on {key}")


def ancestors(key: str) -> tuple[str, ...]:
    """The directories above ``key``, outermost first, the root left out.

    ``ancestors("/a/b/c") == ("/a", "/a/b")``.
    """
    parts = key.split("/")[1:-1]
    return tuple("/" + "/".join(parts[: depth + 1]) for depth in range(len(parts)))


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
        node["value"], node["raw_value"] = _text(value), value
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


# --- watches --------------------------------------------------------------------------------


def event_result(event: Event, revision: int, expired: bool = False) -> EtcdResult:
    """A watch event as python-etcd's result of a change."""
    from .watch import EventType  # loaded with the first watch, not with the client

    kv, prev = event.kv, event.prev_kv
    is_marker = len(kv.key) > 1 and kv.key.endswith(b"/")
    prev_node = _event_node(prev, is_marker) if prev is not None else None
    if event.type == EventType.DELETE:
        node: dict[str, Any] = {
            "key": _text(kv.key[:-1] if is_marker else kv.key),
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
        "key": _text(kv.key[:-1]),
        "dir": True,
        "modifiedIndex": kv.mod_revision,
        "createdIndex": kv.create_revision,
        "lease": kv.lease,
    }
