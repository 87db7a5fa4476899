"""The results and checks of the maintenance calls, and the snapshot verifier (no network
I/O).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from . import exceptions as exc
from .responses import ResponseHeader, decode_header

if TYPE_CHECKING:
    pass


#: Default deadline of :meth:`etcd.Client.defragment`: it blocks the member while it
#: rewrites the whole database file.
DEFRAGMENT_TIMEOUT: Final = 60.0
#: etcd appends the SHA-256 of the database to the snapshot stream.
SNAPSHOT_CHECKSUM_SIZE: Final = 32

#: etcd's alarm types, by wire value.
ALARM_TYPES: Final = ("NONE", "NOSPACE", "CORRUPT")
#: etcd's downgrade actions, by wire value.
DOWNGRADE_ACTIONS: Final = ("VALIDATE", "ENABLE", "CANCEL")

ProgressCallback = Callable[[int, "int | None"], object]


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DowngradeInfo:
    """Whether the cluster is being downgraded, and to what (etcd 3.6 and later)."""

    enabled: bool
    target_version: str
    """The version the cluster goes down to (empty when no downgrade is enabled)."""


@dataclass(slots=True)
class StatusResponse:
    """One member's status (etcd's ``Status``)."""

    header: ResponseHeader
    endpoint: str
    """The endpoint that answered (``host:port``)."""
    version: str
    """The member's etcd version."""
    db_size: int
    """Size of the database file, in bytes."""
    db_size_in_use: int
    """Bytes of the database file actually in use (the rest is freed by defragmenting)."""
    leader: int
    """The ID of the leader as this member knows it (0: none)."""
    raft_index: int
    raft_term: int
    raft_applied_index: int
    errors: list[str] = field(default_factory=list)
    """Alarms or other errors the member reports."""
    is_learner: bool = False
    db_size_quota: int = 0
    """The member's backend quota, in bytes, when the server reports it (0 otherwise)."""
    storage_version: str = ""
    """The storage version, when the server reports it (etcd 3.6 and later)."""
    downgrade: DowngradeInfo | None = None
    """The downgrade under way, as etcd 3.6 and later report it (``None`` from older
    members, which do not)."""

    @property
    def member_id(self) -> int:
        """The ID of the member that answered."""
        return self.header.member_id

    @property
    def is_leader(self) -> bool:
        """Whether the member that answered is the leader."""
        return self.leader != 0 and self.leader == self.header.member_id


@dataclass(slots=True)
class EndpointStatus:
    """The outcome of asking one endpoint for its status: a status or an error.

    Attributes:
        endpoint: the member asked.
        status: its :class:`etcd.StatusResponse`, or ``None`` if it failed.
        error: the :class:`etcd.EtcdException` it failed with, or ``None``.
    """

    endpoint: str
    status: StatusResponse | None = None
    error: exc.EtcdException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Alarm(NamedTuple):
    """An alarm raised on a member."""

    member_id: int
    alarm: str
    """``"NOSPACE"`` (storage quota full) or ``"CORRUPT"`` (data inconsistency)."""


@dataclass(slots=True)
class HashResponse:
    """The answer to :meth:`etcd.Client.hash`."""

    header: ResponseHeader
    hash: int
    """CRC-32C of the member's whole backend database."""


@dataclass(slots=True)
class HashKVResponse:
    """The answer to :meth:`etcd.Client.hash_kv`."""

    header: ResponseHeader
    hash: int
    """Hash of the keys' history up to ``hash_revision``; equal on consistent members."""
    compact_revision: int
    """The member's compacted revision when the hash was computed."""
    hash_revision: int = 0
    """The revision hashed (0 from servers that do not report it)."""


@dataclass(slots=True)
class DowngradeResponse:
    """The answer to :meth:`etcd.Client.downgrade`."""

    header: ResponseHeader
    version: str
    """The cluster version the server reports."""


@dataclass(slots=True)
class SnapshotInfo:
    """A snapshot saved by :meth:`etcd.Client.snapshot`."""

    path: str
    size: int
    """Size of the file, in bytes (the database plus its 32-byte checksum)."""
    sha256: str
    """SHA-256 of the whole file, in hex (as ``sha256sum`` prints it)."""
    revision: int
    """The store's revision in the snapshot (0 when the server did not say)."""
    endpoint: str = ""
    """The endpoint the snapshot came from."""
    version: str = ""
    """The server version, when it says (etcd 3.5.? and later)."""


# --- decoders and checks (pure) -----------------------------------------------------------


def decode_status(response: Any, endpoint: str) -> StatusResponse:
    return StatusResponse(
        header=decode_header(response.header),
        endpoint=endpoint,
        version=response.version,
        db_size=response.dbSize,
        db_size_in_use=response.dbSizeInUse,
        leader=response.leader,
        raft_index=response.raftIndex,
        raft_term=response.raftTerm,
        raft_applied_index=response.raftAppliedIndex,
        errors=list(response.errors),
        is_learner=response.isLearner,
        db_size_quota=response.dbSizeQuota,
        storage_version=response.storageVersion,
        downgrade=(
            DowngradeInfo(response.downgradeInfo.enabled, response.downgradeInfo.targetVersion)
            if response.HasField("downgradeInfo")
            else None
        ),
    )


def _alarm_name(value: int) -> str:
    return ALARM_TYPES[value] if 0 <= value < len(ALARM_TYPES) else f"UNKNOWN({value})"


def decode_alarms(response: Any) -> list[Alarm]:
    return [Alarm(alarm.memberID, _alarm_name(alarm.alarm)) for alarm in response.alarms]


def decode_hash(response: Any) -> HashResponse:
    return HashResponse(decode_header(response.header), response.hash)


def decode_hash_kv(response: Any) -> HashKVResponse:
    return HashKVResponse(
        decode_header(response.header),
        response.hash,
        response.compact_revision,
        response.hash_revision,
    )


def _enum_value(value: object, names: tuple[str, ...], what: str) -> int:
    if isinstance(value, str):
        name = value.strip().upper()
        if name in names:
            return names.index(name)
        raise exc.EtcdValueError(f"{what} must be one of {', '.join(names)}, not {value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < len(names):
            return value
        raise exc.EtcdValueError(f"{what} must be one of {', '.join(names)}, not {value!r}")
    raise exc.EtcdTypeError(
        f"{what} must be a str such as {names[1]!r}, not {type(value).__name__}"
    )


def alarm_type(value: object) -> int:
    """``"NONE"``, ``"NOSPACE"``, ``"CORRUPT"`` (any case) or their wire numbers 0-2."""
    return _enum_value(value, ALARM_TYPES, "alarm")


def downgrade_action(value: object) -> int:
    """``"VALIDATE"``, ``"ENABLE"``, ``"CANCEL"`` (any case) or their wire numbers 0-2."""
    return _enum_value(value, DOWNGRADE_ACTIONS, "action")


class SnapshotVerifier:
    """Checks a snapshot stream chunk by chunk, keeping only 32 bytes in memory.

    etcd sends the database followed by the SHA-256 of the database. Feed every chunk to
    :meth:`update`, then call :meth:`verify`, which raises
    :class:`etcd.EtcdSnapshotCorrupted` when the data does not match. :attr:`sha256` is the
    digest of everything received (the file as saved).
    """

    __slots__ = ("_data_hash", "_file_hash", "_size", "_tail")

    def __init__(self) -> None:
        import hashlib  # only snapshots need it; kept off the import of the package

        self._data_hash = hashlib.sha256()
        self._file_hash = hashlib.sha256()
        self._tail = b""
        self._size = 0

    def update(self, chunk: bytes) -> None:
        self._file_hash.update(chunk)
        self._size += len(chunk)
        buffered = self._tail + chunk
        if len(buffered) > SNAPSHOT_CHECKSUM_SIZE:
            self._data_hash.update(buffered[:-SNAPSHOT_CHECKSUM_SIZE])
            buffered = buffered[-SNAPSHOT_CHECKSUM_SIZE:]
        self._tail = buffered

    @property
    def size(self) -> int:
        """Bytes received."""
        return self._size

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of every byte received, checksum included."""
        return self._file_hash.hexdigest()

    def verify(self) -> None:
        """Raise :class:`etcd.EtcdSnapshotCorrupted` unless the trailing checksum matches."""
        if self._size <= SNAPSHOT_CHECKSUM_SIZE:
            raise exc.EtcdSnapshotCorrupted(
                f"the snapshot is {self._size} bytes: too short to hold data and its checksum"
            )
        expected = self._tail
        actual = self._data_hash.digest()
        if actual != expected:
            raise exc.EtcdSnapshotCorrupted(
                f"the snapshot's SHA-256 is {actual.hex()}, but the server sent {expected.hex()}"
            )


# --- the calls ----------------------------------------------------------------------------


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
