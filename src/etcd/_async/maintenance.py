"""Maintenance: status, alarms, defragmentation, hashes, leadership transfer, snapshots.

The results, the snapshot checksum and the argument checks are pure, in
:mod:`etcd._core.maintenance`; this part of the client makes the calls.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import grpc

from .. import _core, _wire
from .._core import exceptions as exc
from .._core import validation as check
from .._core.deadline import deadline_after, time_left
from .._core.error_mapping import NotConnected, operation_name, status_of
from .._core.log_fields import log_fields
from .._core.validation import Timeout
from .cluster import list_members
from .io import map_concurrently, messages
from .part import AsyncClientPart

# The models are imported by the calls that use them: most programs never make these
# calls, and they keep ``import etcd`` light.
if TYPE_CHECKING:
    from .._core.config import Endpoint
    from .._core.maintenance import (
        Alarm,
        DowngradeResponse,
        EndpointStatus,
        HashKVResponse,
        HashResponse,
        ProgressCallback,
        SnapshotInfo,
        StatusResponse,
    )
    from .._core.responses import ResponseHeader

log = logging.getLogger("etcd.maintenance")


class AsyncMaintenanceCalls(AsyncClientPart):
    """Maintenance calls, mixed into :class:`etcd.Client`."""

    def _endpoint(self, endpoint: str | Endpoint | None) -> Endpoint | None:
        if endpoint is None or isinstance(endpoint, _core.config.Endpoint):
            return endpoint
        return _core.config.parse_endpoint(endpoint, default_secure=self._transport.config.secure)

    def _maintenance_timeout(self, timeout: Timeout, default: float | None) -> float | None:
        if isinstance(timeout, check._Unset):
            client_default = self._call_timeout(timeout)
            if default is None or client_default is None:
                return default
            return max(default, client_default)
        return self._call_timeout(timeout)

    # --- status -------------------------------------------------------------------------

    async def status(
        self, endpoint: str | Endpoint | None = None, *, timeout: Timeout = check.UNSET
    ) -> StatusResponse:
        """The status of one member: ``endpoint`` (``"host:port"`` or a URL), or the
        member in use when omitted."""
        from .._core.maintenance import decode_status

        pinned = self._endpoint(endpoint)
        response = await self._transport.unary(
            _wire.methods.MAINTENANCE_STATUS,
            _wire.messages.StatusRequest(),
            timeout=self._call_timeout(timeout),
            mutation=False,
            endpoint=pinned,
        )
        answered = pinned if pinned is not None else self._transport.current_endpoint
        return decode_status(response, str(answered))

    async def status_all(self, *, timeout: Timeout = check.UNSET) -> list[EndpointStatus]:
        """The status of every endpoint of the client, asked in parallel.

        Never raises for a member that fails: its entry carries the error instead
        (``entry.error``), and the others their status (``entry.status``).
        """
        from .._core.maintenance import EndpointStatus

        deadline = self._call_timeout(timeout)
        endpoints = self._transport.endpoints

        async def one(endpoint: Endpoint) -> EndpointStatus:
            try:
                return EndpointStatus(str(endpoint), await self.status(endpoint, timeout=deadline))
            except exc.EtcdException as error:
                return EndpointStatus(str(endpoint), error=error)

        return await map_concurrently(one, endpoints, name="etcd-status")

    # --- alarms ---------------------------------------------------------------------------

    async def _alarm(
        self, action: int, member_id: int, alarm: int, timeout: Timeout
    ) -> list[Alarm]:
        from .._core.maintenance import decode_alarms

        response = await self._transport.unary(
            _wire.methods.MAINTENANCE_ALARM,
            _wire.messages.AlarmRequest(action=action, memberID=member_id, alarm=alarm),
            timeout=self._call_timeout(timeout),
            mutation=action != _wire.messages.AlarmRequest.GET,
        )
        return decode_alarms(response)

    async def alarms(self, *, timeout: Timeout = check.UNSET) -> list[Alarm]:
        """The alarms raised in the cluster, as ``(member_id, alarm)`` pairs."""
        return await self._alarm(_wire.messages.AlarmRequest.GET, 0, 0, timeout)

    async def disarm(
        self, member_id: int = 0, alarm: str | int = "NONE", *, timeout: Timeout = check.UNSET
    ) -> list[Alarm]:
        """Clear the alarm ``alarm`` of member ``member_id``; returns the alarms cleared.

        With neither given, clears every alarm (:meth:`disarm_all`). Clearing ``NOSPACE``
        only helps once space was freed (compact, then defragment), or it is raised again.
        """
        from .._core.maintenance import alarm_type

        member = check.integer(member_id, "member_id", minimum=0, maximum=check.UINT64_MAX)
        kind = alarm_type(alarm)
        if member == 0 and kind == 0:
            return await self.disarm_all(timeout=timeout)
        return await self._alarm(_wire.messages.AlarmRequest.DEACTIVATE, member, kind, timeout)

    async def disarm_all(self, *, timeout: Timeout = check.UNSET) -> list[Alarm]:
        """Clear every alarm raised in the cluster; returns the alarms cleared."""
        from .._core.maintenance import alarm_type

        cleared: list[Alarm] = []
        for raised in await self.alarms(timeout=timeout):
            cleared += await self._alarm(
                _wire.messages.AlarmRequest.DEACTIVATE,
                raised.member_id,
                alarm_type(raised.alarm),
                timeout,
            )
        return cleared

    # --- per-member maintenance -----------------------------------------------------------

    async def defragment(
        self, endpoint: str | Endpoint | None = None, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Defragment one member's database (``endpoint``, or the member in use).

        The member serves nothing while it rewrites its database file, so defragment
        members one at a time. The default deadline is 60 s (or the client's, if longer).
        """
        from .._core.maintenance import DEFRAGMENT_TIMEOUT

        response = await self._transport.unary(
            _wire.methods.MAINTENANCE_DEFRAGMENT,
            _wire.messages.DefragmentRequest(),
            timeout=self._maintenance_timeout(timeout, DEFRAGMENT_TIMEOUT),
            mutation=False,
            endpoint=self._endpoint(endpoint),
        )
        return _core.responses.decode_header(response.header)

    async def hash(
        self, endpoint: str | Endpoint | None = None, *, timeout: Timeout = check.UNSET
    ) -> HashResponse:
        """The hash of one member's whole backend (for debugging; prefer :meth:`hash_kv`)."""
        from .._core.maintenance import decode_hash

        response = await self._transport.unary(
            _wire.methods.MAINTENANCE_HASH,
            _wire.messages.HashRequest(),
            timeout=self._call_timeout(timeout),
            mutation=False,
            endpoint=self._endpoint(endpoint),
        )
        return decode_hash(response)

    async def hash_kv(
        self,
        revision: int = 0,
        endpoint: str | Endpoint | None = None,
        *,
        timeout: Timeout = check.UNSET,
    ) -> HashKVResponse:
        """The hash of one member's key history up to ``revision`` (0: the latest).

        Consistent members give equal hashes for the same revision.
        """
        from .._core.maintenance import decode_hash_kv

        response = await self._transport.unary(
            _wire.methods.MAINTENANCE_HASH_KV,
            _wire.messages.HashKVRequest(revision=check.revision(revision)),
            timeout=self._call_timeout(timeout),
            mutation=False,
            endpoint=self._endpoint(endpoint),
        )
        return decode_hash_kv(response)

    async def move_leader(
        self, target_member_id: int, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Hand the cluster's leadership to the voting member ``target_member_id``.

        The request must reach the current leader: it is found from the member in use's
        status and the member list, and the call is sent to it directly.
        """
        from .._core.cluster import check_member_id, leader_endpoint

        target = check_member_id(target_member_id, "target_member_id")
        deadline = self._call_timeout(timeout)
        leader_id = (await self.status(timeout=deadline)).leader
        if leader_id == 0:
            current = str(self._transport.current_endpoint)
            raise exc.EtcdNoLeader(f"{current} knows no leader right now", endpoint=current)
        members = (await list_members(self._transport, deadline)).members
        leader = leader_endpoint(members, leader_id, secure=self._transport.config.secure)
        if leader is None:
            raise exc.EtcdUnavailable(
                f"the leader {leader_id:x} advertises no client URL this client can use"
            )
        response = await self._transport.unary(
            _wire.methods.MAINTENANCE_MOVE_LEADER,
            _wire.messages.MoveLeaderRequest(targetID=target),
            timeout=deadline,
            mutation=True,
            endpoint=leader,
        )
        return _core.responses.decode_header(response.header)

    async def downgrade(
        self, action: str | int, version: str = "", *, timeout: Timeout = check.UNSET
    ) -> DowngradeResponse:
        """Validate, enable or cancel a downgrade of the cluster to ``version`` (``"3.4"``).

        ``action`` is ``"VALIDATE"``, ``"ENABLE"`` or ``"CANCEL"``. Servers refuse what they
        cannot do (a version they cannot go to, no downgrade in progress) with an
        :class:`etcd.EtcdException` subclass.
        """
        from .._core.maintenance import DOWNGRADE_ACTIONS, DowngradeResponse, downgrade_action

        kind = downgrade_action(action)
        if not isinstance(version, str):
            raise exc.EtcdTypeError(f"version must be a str, not {type(version).__name__}")
        if kind != _wire.messages.DowngradeRequest.CANCEL and not version:
            raise exc.EtcdValueError(f"{DOWNGRADE_ACTIONS[kind]} needs a target version")
        response = await self._transport.unary(
            _wire.methods.MAINTENANCE_DOWNGRADE,
            _wire.messages.DowngradeRequest(action=kind, version=version),
            timeout=self._call_timeout(timeout),
            mutation=kind != _wire.messages.DowngradeRequest.VALIDATE,
        )
        return DowngradeResponse(_core.responses.decode_header(response.header), response.version)

    # --- snapshot -------------------------------------------------------------------------

    async def snapshot(
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
        from .._core.maintenance import _fsync_directory, _remove_quietly

        if progress is not None and not callable(progress):
            raise exc.EtcdTypeError("progress must be callable")
        target = os.path.abspath(os.fspath(path))
        directory, name = os.path.split(target)
        deadline = self._maintenance_timeout(timeout, None)
        import tempfile  # only snapshots need it; kept off the import of the package

        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "wb") as output:
                info = await self._receive_snapshot(output, deadline, progress)
                output.flush()
                os.fsync(output.fileno())
            os.replace(temporary, target)
        except BaseException:
            _remove_quietly(temporary)
            raise
        _fsync_directory(directory)
        info.path = target
        return info

    async def _receive_snapshot(
        self, output: Any, timeout: float | None, progress: ProgressCallback | None
    ) -> SnapshotInfo:
        from .._core.maintenance import SnapshotInfo, SnapshotVerifier

        transport = self._transport
        method = _wire.methods.MAINTENANCE_SNAPSHOT
        deadline = deadline_after(timeout)
        attempt = 0
        while True:
            attempt += 1
            verifier = SnapshotVerifier()
            header: ResponseHeader | None = None
            version = ""
            call = None
            endpoint = transport.current_endpoint
            try:
                call, endpoint = await transport.open_stream(
                    method, _wire.messages.SnapshotRequest(), timeout=time_left(deadline)
                )
                async for response in messages(call):
                    if header is None and response.HasField("header"):
                        header = _core.responses.decode_header(response.header)
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
                    and await transport.back_off(attempt, deadline)
                ):
                    log.debug(
                        "snapshot from %s failed (%s), retrying",
                        endpoint,
                        code,
                        extra=log_fields(
                            operation=operation_name(method),
                            endpoint=endpoint,
                            attempt=attempt,
                            code=code,
                            error=mapped,
                        ),
                    )
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
