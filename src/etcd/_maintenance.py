"""Maintenance: status, alarms, defragmentation, hashes, leadership transfer, snapshots.

The decoders, the snapshot checksum and the argument checks are pure; the I/O is in
:class:`MaintenanceMixin`, which the client inherits.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import grpc

from . import _exceptions as exc
from . import _validation as check
from ._cluster import check_member_id, leader_endpoint, list_members
from ._config import Endpoint, parse_endpoint
from ._models import ResponseHeader, decode_header
from ._transport import NotConnected, status_of
from ._validation import Timeout
from ._wire import messages as pb
from ._wire import methods

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "ALARM_TYPES",
    "DOWNGRADE_ACTIONS",
    "Alarm",
    "DowngradeResponse",
    "EndpointStatus",
    "HashKVResponse",
    "HashResponse",
    "MaintenanceMixin",
    "SnapshotInfo",
    "SnapshotVerifier",
    "StatusResponse",
    "alarm_type",
    "decode_alarms",
    "decode_hash",
    "decode_hash_kv",
    "decode_status",
    "downgrade_action",
]


log = logging.getLogger(__name__)

#: Default deadline of :meth:`MaintenanceMixin.defragment`: it blocks the member while it
#: rewrites the whole database file.
DEFRAGMENT_TIMEOUT: Final = 60.0
#: etcd appends the SHA-256 of the database to the snapshot stream.
SNAPSHOT_CHECKSUM_SIZE: Final = hashlib.sha256().digest_size

#: etcd's alarm types, by wire value.
ALARM_TYPES: Final = ("NONE", "NOSPACE", "CORRUPT")
#: etcd's downgrade actions, by wire value.
DOWNGRADE_ACTIONS: Final = ("VALIDATE", "ENABLE", "CANCEL")

ProgressCallback = Callable[[int, "int | None"], object]


# --- results ------------------------------------------------------------------------------


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
    """The storage version, when the server reports it."""

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


class MaintenanceMixin:
    """Maintenance calls, mixed into :class:`etcd.Client`."""

    _transport: Transport

    if TYPE_CHECKING:

        def _call_timeout(self, timeout: float | check._Unset | None) -> float | None: ...

    def _endpoint(self, endpoint: str | Endpoint | None) -> Endpoint | None:
        if endpoint is None or isinstance(endpoint, Endpoint):
            return endpoint
        return parse_endpoint(endpoint, default_secure=self._transport.config.secure)

    def _maintenance_timeout(self, timeout: Timeout, default: float | None) -> float | None:
        if isinstance(timeout, check._Unset):
            client_default = self._call_timeout(timeout)
            if default is None or client_default is None:
                return default
            return max(default, client_default)
        return self._call_timeout(timeout)

    # --- status -------------------------------------------------------------------------

    def status(
        self, endpoint: str | Endpoint | None = None, *, timeout: Timeout = check.UNSET
    ) -> StatusResponse:
        """The status of one member: ``endpoint`` (``"host:port"`` or a URL), or the
        member in use when omitted."""
        pinned = self._endpoint(endpoint)
        response = self._transport.unary(
            methods.MAINTENANCE_STATUS,
            pb.StatusRequest(),
            timeout=self._call_timeout(timeout),
            mutation=False,
            endpoint=pinned,
        )
        answered = pinned if pinned is not None else self._transport.current_endpoint
        return decode_status(response, str(answered))

    def status_all(self, *, timeout: Timeout = check.UNSET) -> list[EndpointStatus]:
        """The status of every endpoint of the client, asked in parallel.

        Never raises for a member that fails: its entry carries the error instead
        (``entry.error``), and the others their status (``entry.status``).
        """
        deadline = self._call_timeout(timeout)
        endpoints = self._transport.endpoints

        def one(endpoint: Endpoint) -> EndpointStatus:
            try:
                return EndpointStatus(str(endpoint), self.status(endpoint, timeout=deadline))
            except exc.EtcdException as error:
                return EndpointStatus(str(endpoint), error=error)

        with ThreadPoolExecutor(
            max_workers=len(endpoints), thread_name_prefix="etcd-status"
        ) as pool:
            return list(pool.map(one, endpoints))

    # --- alarms ---------------------------------------------------------------------------

    def _alarm(self, action: int, member_id: int, alarm: int, timeout: Timeout) -> list[Alarm]:
        response = self._transport.unary(
            methods.MAINTENANCE_ALARM,
            pb.AlarmRequest(action=action, memberID=member_id, alarm=alarm),
            timeout=self._call_timeout(timeout),
            mutation=action != pb.AlarmRequest.GET,
        )
        return decode_alarms(response)

    def alarms(self, *, timeout: Timeout = check.UNSET) -> list[Alarm]:
        """The alarms raised in the cluster, as ``(member_id, alarm)`` pairs."""
        return self._alarm(pb.AlarmRequest.GET, 0, 0, timeout)

    def disarm(
        self, member_id: int = 0, alarm: str | int = "NONE", *, timeout: Timeout = check.UNSET
    ) -> list[Alarm]:
        """Clear the alarm ``alarm`` of member ``member_id``; returns the alarms cleared.

        With neither given, clears every alarm (:meth:`disarm_all`). Clearing ``NOSPACE``
        only helps once space was freed (compact, then defragment), or it is raised again.
        """
        member = check.integer(member_id, "member_id", minimum=0, maximum=check.UINT64_MAX)
        kind = alarm_type(alarm)
        if member == 0 and kind == 0:
            return self.disarm_all(timeout=timeout)
        return self._alarm(pb.AlarmRequest.DEACTIVATE, member, kind, timeout)

    def disarm_all(self, *, timeout: Timeout = check.UNSET) -> list[Alarm]:
        """Clear every alarm raised in the cluster; returns the alarms cleared."""
        cleared: list[Alarm] = []
        for raised in self.alarms(timeout=timeout):
            cleared += self._alarm(
                pb.AlarmRequest.DEACTIVATE, raised.member_id, alarm_type(raised.alarm), timeout
            )
        return cleared

    # --- per-member maintenance -----------------------------------------------------------

    def defragment(
        self, endpoint: str | Endpoint | None = None, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Defragment one member's database (``endpoint``, or the member in use).

        The member serves nothing while it rewrites its database file, so defragment
        members one at a time. The default deadline is 60 s (or the client's, if longer).
        """
        response = self._transport.unary(
            methods.MAINTENANCE_DEFRAGMENT,
            pb.DefragmentRequest(),
            timeout=self._maintenance_timeout(timeout, DEFRAGMENT_TIMEOUT),
            mutation=False,
            endpoint=self._endpoint(endpoint),
        )
        return decode_header(response.header)

    def hash(
        self, endpoint: str | Endpoint | None = None, *, timeout: Timeout = check.UNSET
    ) -> HashResponse:
        """The hash of one member's whole backend (for debugging; prefer :meth:`hash_kv`)."""
        response = self._transport.unary(
            methods.MAINTENANCE_HASH,
            pb.HashRequest(),
            timeout=self._call_timeout(timeout),
            mutation=False,
            endpoint=self._endpoint(endpoint),
        )
        return decode_hash(response)

    def hash_kv(
        self,
        revision: int = 0,
        endpoint: str | Endpoint | None = None,
        *,
        timeout: Timeout = check.UNSET,
    ) -> HashKVResponse:
        """The hash of one member's key history up to ``revision`` (0: the latest).

        Consistent members give equal hashes for the same revision.
        """
        response = self._transport.unary(
            methods.MAINTENANCE_HASH_KV,
            pb.HashKVRequest(revision=check.revision(revision)),
            timeout=self._call_timeout(timeout),
            mutation=False,
            endpoint=self._endpoint(endpoint),
        )
        return decode_hash_kv(response)

    def move_leader(
        self, target_member_id: int, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Hand the cluster's leadership to the voting member ``target_member_id``.

        The request must reach the current leader: it is found from the member in use's
        status and the member list, and the call is sent to it directly.
        """
        target = check_member_id(target_member_id, "target_member_id")
        deadline = self._call_timeout(timeout)
        leader_id = self.status(timeout=deadline).leader
        if leader_id == 0:
            current = str(self._transport.current_endpoint)
            raise exc.EtcdNoLeader(f"{current} knows no leader right now", endpoint=current)
        members = list_members(self._transport, deadline).members
        leader = leader_endpoint(members, leader_id, secure=self._transport.config.secure)
        if leader is None:
            raise exc.EtcdUnavailable(
                f"the leader {leader_id:x} advertises no client URL this client can use"
            )
        response = self._transport.unary(
            methods.MAINTENANCE_MOVE_LEADER,
            pb.MoveLeaderRequest(targetID=target),
            timeout=deadline,
            mutation=True,
            endpoint=leader,
        )
        return decode_header(response.header)

    def downgrade(
        self, action: str | int, version: str = "", *, timeout: Timeout = check.UNSET
    ) -> DowngradeResponse:
        """Validate, enable or cancel a downgrade of the cluster to ``version`` (``"3.4"``).

        ``action`` is ``"VALIDATE"``, ``"ENABLE"`` or ``"CANCEL"``. Servers refuse what they
        cannot do (a version they cannot go to, no downgrade in progress) with an
        :class:`etcd.EtcdException` subclass.
        """
        kind = downgrade_action(action)
        if not isinstance(version, str):
            raise exc.EtcdTypeError(f"version must be a str, not {type(version).__name__}")
        if kind != pb.DowngradeRequest.CANCEL and not version:
            raise exc.EtcdValueError(f"{DOWNGRADE_ACTIONS[kind]} needs a target version")
        response = self._transport.unary(
            methods.MAINTENANCE_DOWNGRADE,
            pb.DowngradeRequest(action=kind, version=version),
            timeout=self._call_timeout(timeout),
            mutation=kind != pb.DowngradeRequest.VALIDATE,
        )
        return DowngradeResponse(decode_header(response.header), response.version)

    # --- snapshot -------------------------------------------------------------------------

    def snapshot(
        self,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        timeout: Timeout = check.UNSET,
    ) -> SnapshotInfo:
        """Save a snapshot of the member in use's database to ``path``.

        The data goes to a temporary file next to ``path``, is flushed to disk, checked
        against the SHA-256 checksum the server appends, and only then renamed to
        ``path``. On any failure (an error, a bad checksum, an interrupt, a ``progress``
        callback that raises) the temporary file is removed and ``path`` is untouched.

        Args:
            path: where to save the snapshot (``etcdutl snapshot restore`` reads it).
            progress: called as ``progress(bytes_received, total_bytes)`` after each
                chunk; ``total_bytes`` is ``None`` when the server has not said.
            timeout: deadline for the whole transfer; none by default (a dead member is
                still detected by the connection's keepalive).
        """
        if progress is not None and not callable(progress):
            raise exc.EtcdTypeError("progress must be callable")
        target = os.path.abspath(os.fspath(path))
        directory, name = os.path.split(target)
        deadline = self._maintenance_timeout(timeout, None)
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "wb") as output:
                info = self._receive_snapshot(output, deadline, progress)
                output.flush()
                os.fsync(output.fileno())
            os.replace(temporary, target)
        except BaseException:
            _remove_quietly(temporary)
            raise
        _fsync_directory(directory)
        info.path = target
        return info

    def _receive_snapshot(
        self, output: Any, timeout: float | None, progress: ProgressCallback | None
    ) -> SnapshotInfo:
        transport = self._transport
        method = methods.MAINTENANCE_SNAPSHOT
        deadline = transport.deadline(timeout)
        attempt = 0
        while True:
            attempt += 1
            verifier = SnapshotVerifier()
            header: ResponseHeader | None = None
            version = ""
            call = None
            endpoint = transport.current_endpoint
            try:
                call, endpoint = transport.open_stream(
                    method, pb.SnapshotRequest(), timeout=_remaining(deadline)
                )
                for response in call:
                    if header is None and response.HasField("header"):
                        header = decode_header(response.header)
                    version = version or response.version
                    blob = response.blob
                    output.write(blob)
                    verifier.update(blob)
                    if progress is not None:
                        progress(verifier.size, verifier.size + response.remaining_bytes)
            except (grpc.RpcError, NotConnected) as error:
                code, details = status_of(error)
                mapped = transport.map_error(error, method, endpoint)
                transport.note_failure(endpoint, code, details, pinned=False)
                # Only a transfer that has not started can move to another member.
                if (
                    verifier.size == 0
                    and transport.should_retry_stream(error, attempt)
                    and transport.back_off(attempt, deadline)
                ):
                    log.debug("snapshot from %s failed (%s), retrying", endpoint, code)
                    continue
                raise mapped from error
            finally:
                if call is not None:
                    call.cancel()
            verifier.verify()
            return SnapshotInfo(
                path="",
                size=verifier.size,
                sha256=verifier.sha256,
                revision=header.revision if header is not None else 0,
                endpoint=str(endpoint),
                version=version,
            )


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.001)
