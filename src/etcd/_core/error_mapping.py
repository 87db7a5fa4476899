"""From a gRPC status to the most specific :class:`~etcd.EtcdException` (pure, no I/O).

etcd reports its errors as a gRPC status code plus a message that starts with
``etcdserver:``. The message is the precise part, so it is matched first; the status code
decides only when the message is unknown (or comes from gRPC itself, not from etcd).
"""

from __future__ import annotations

from typing import Any

from . import exceptions as exc
from . import versions

# Server messages, without the "etcdserver: " prefix that most of them carry.
_BY_MESSAGE: dict[str, type[exc.EtcdException]] = {
    "mvcc: required revision has been compacted": exc.EtcdCompacted,
    "mvcc: required revision is a future revision": exc.EtcdFutureRevision,
    "mvcc: database space exceeded": exc.EtcdNoSpace,
    "too many requests": exc.EtcdTooManyRequests,
    "request is too large": exc.EtcdRequestTooLarge,
    "too many operations in txn request": exc.EtcdTooManyOps,
    "duplicate key given in txn request": exc.EtcdDuplicateKey,
    "key is not provided": exc.EtcdInvalidArgument,
    "key not found": exc.EtcdKeyNotFound,
    "requested lease not found": exc.EtcdLeaseNotFound,
    "permission denied": exc.EtcdPermissionDenied,
    "invalid auth token": exc.EtcdInvalidAuthToken,
    "authentication failed, invalid user ID or password": exc.EtcdAuthFailed,
    # Sent to a request without credentials when the cluster has authentication enabled.
    "user name is empty": exc.EtcdAuthFailed,
    "auth: authentication failed, password was given for no password user": exc.EtcdAuthFailed,
    "user name not found": exc.EtcdNotFound,
    "role name not found": exc.EtcdNotFound,
    "revision of auth store is old": exc.EtcdAuthRevisionOld,
    # The same, as 3.5 servers word it when a request meets an auth change in flight.
    "auth: revision in header is old": exc.EtcdAuthRevisionOld,
    "authentication is not enabled": exc.EtcdAuthNotEnabled,
    "no leader": exc.EtcdNoLeader,
    "not leader": exc.EtcdNotLeader,
    "leader changed": exc.EtcdLeaderChanged,
    "request timed out": exc.EtcdRequestTimedOut,
    "request timed out, possibly due to previous leader failure": exc.EtcdRequestTimedOut,
    "request timed out, possibly due to connection lost": exc.EtcdRequestTimedOut,
    "request timed out, waiting for the applied index took too long": exc.EtcdRequestTimedOut,
    "server stopped": exc.EtcdUnavailable,
    "unhealthy cluster": exc.EtcdUnavailable,
    # The server's election service.
    "election: not leader": exc.EtcdNotElectionLeader,
    "election: no leader": exc.EtcdElectionNoLeader,
    # Go's context errors, sent as the status text when the server gave up waiting.
    "context deadline exceeded": exc.EtcdTimeout,
    "context canceled": exc.EtcdCancelled,
}

_BY_CODE: dict[str, type[exc.EtcdException]] = {
    "INVALID_ARGUMENT": exc.EtcdInvalidArgument,
    "OUT_OF_RANGE": exc.EtcdRevisionError,
    "NOT_FOUND": exc.EtcdNotFound,
    "ALREADY_EXISTS": exc.EtcdPreconditionFailed,
    "FAILED_PRECONDITION": exc.EtcdPreconditionFailed,
    "PERMISSION_DENIED": exc.EtcdPermissionDenied,
    "UNAUTHENTICATED": exc.EtcdInvalidAuthToken,
    "RESOURCE_EXHAUSTED": exc.EtcdTooManyRequests,
    "UNAVAILABLE": exc.EtcdUnavailable,
    "DEADLINE_EXCEEDED": exc.EtcdTimeout,
    "CANCELLED": exc.EtcdCancelled,
}

# gRPC's own words (not etcd's) for "the connection could not be made": the request never
# left this process, so even a mutation may be retried.
_NOT_SENT_MARKERS = (
    "failed to connect to all addresses",
    "connections to all backends failing",
    "dns resolution failed",
    "name resolution failure",
    "empty address list",
    "channel is in state transient_failure",
    # Raised by the transport itself when a member cannot be reached before the request.
    "no connection within",
    "before sending:",
)

# Server answers that can come after the request was proposed to raft: a mutation may
# nevertheless have been applied.
_AMBIGUOUS_SERVER_MESSAGES = frozenset(
    {
        "leader changed",
        "server stopped",
        "request timed out",
        "request timed out, possibly due to previous leader failure",
        "request timed out, possibly due to connection lost",
        "request timed out, waiting for the applied index took too long",
        "context deadline exceeded",
        # The write that crosses the quota is applied, then answered with this error (the
        # server's quota check runs after the write); later ones are refused unapplied.
        "mvcc: database space exceeded",
    }
)


def strip_server_prefix(details: str) -> str:
    """The server message without its ``etcdserver:`` prefix."""
    text = details.strip()
    if text.startswith("etcdserver:"):
        text = text[len("etcdserver:") :].strip()
    return text


def request_never_sent(code: str, details: str) -> bool:
    """True when gRPC failed before the request could leave this process."""
    if code != "UNAVAILABLE":
        return False
    lowered = details.lower()
    return any(marker in lowered for marker in _NOT_SENT_MARKERS)


def classify(code: str, details: str) -> type[exc.EtcdException]:
    """The exception class for a gRPC status code name and its details."""
    cls = _BY_MESSAGE.get(strip_server_prefix(details))
    if cls is not None:
        return cls
    lowered = details.lower()
    if code == "RESOURCE_EXHAUSTED":
        if "received message larger than max" in lowered:
            return exc.EtcdResponseTooLarge
        if "sent message larger than max" in lowered:
            return exc.EtcdRequestTooLarge
    if code == "UNAVAILABLE" and request_never_sent(code, details):
        return exc.EtcdConnectionFailed
    return _BY_CODE.get(code, exc.EtcdServerError)


# What gRPC's TLS failures mean for the person configuring the client.
_TLS_HINTS = (
    (
        "hostname verification",
        "the server's certificate is for another host name: connect by a name it lists, "
        "or pass tls_server_name=",
    ),
    (
        "certificate_verify_failed",
        "the server's certificate is not signed by a trusted CA: pass ca_cert= with the CA "
        "that signed it",
    ),
    (
        "alert_bad_certificate",
        "the server refused this client's certificate (or its absence): pass cert= with a "
        "certificate signed by a CA the server trusts",
    ),
    (
        "alert_certificate_required",
        "the server requires a client certificate: pass cert=",
    ),
    ("wrong_version_number", "the server does not speak TLS here: use http://, not https://"),
    (
        # What gRPC reports when a server built with an older Go (etcd 3.4) ends a TLS 1.3
        # session right after the handshake, as it does when it refuses a client's
        # certificate, or its absence.
        "tsi_data_corrupted",
        "the server closed the TLS session right after the handshake: it most likely "
        "refused this client's certificate (or its absence): pass cert= with a certificate "
        "signed by a CA the server trusts",
    ),
)


def tls_hint(details: str) -> str | None:
    lowered = details.lower()
    for marker, hint in _TLS_HINTS:
        if marker in lowered:
            return hint
    return None


def map_rpc_error(
    code: str,
    details: str,
    *,
    operation: str,
    endpoint: str,
    mutation: bool,
    server_version: str | None = None,
) -> exc.EtcdException:
    """Build the exception for a failed call (the caller raises it ``from`` the gRPC error).

    ``mutation`` marks calls that change the store: for those, an error that does not prove
    the request was refused is flagged ``outcome_unknown``. ``server_version``, the
    member's own, names what an older member lacks.
    """
    if code == "UNIMPLEMENTED" and operation in versions.ADDED_IN:
        return versions.not_supported(operation, endpoint, server_version, code=code)
    cls = classify(code, details)
    outcome_unknown = mutation and _is_ambiguous(code, details)
    reason = details or code
    message = f"{operation} on {endpoint} failed: {reason}"
    if cls is exc.EtcdTimeout:
        message = f"{operation} on {endpoint} timed out: {reason}"
    if outcome_unknown:
        message += " (the request may or may not have been applied)"
    hint = tls_hint(details)
    if hint:
        message += f" ({hint})"
    return cls(
        message,
        operation=operation,
        endpoint=endpoint,
        code=code,
        details=details,
        outcome_unknown=outcome_unknown,
    )


def _is_ambiguous(code: str, details: str) -> bool:
    if strip_server_prefix(details) in _AMBIGUOUS_SERVER_MESSAGES:
        return True
    if code == "DEADLINE_EXCEEDED" or code == "CANCELLED":
        return True
    if code == "UNAVAILABLE":
        # A plain "unavailable" from gRPC (connection reset, closed, GOAWAY) after sending is
        # ambiguous; etcd's other unavailable answers ("no leader", "unhealthy cluster")
        # come before the request is proposed, so they are definite.
        return not details.startswith("etcdserver:") and not request_never_sent(code, details)
    return False


class NotConnected(Exception):
    """A member could not be reached before the request was sent; nothing was sent."""

    def details(self) -> str:
        return f"before sending: {self.args[0]}"


class StreamStalled(NotConnected):
    """A stream's member stopped answering (the stream is cut and reopened elsewhere)."""

    def details(self) -> str:
        return str(self.args[0])


def status_of(error: Any) -> tuple[str, str]:
    """The status code's name and the message of a gRPC error (or of :class:`NotConnected`)."""
    if isinstance(error, NotConnected):
        return "UNAVAILABLE", error.details()
    code = error.code()
    name = code.name if code is not None else "UNKNOWN"
    return name, error.details() or ""


def operation_name(method: Any) -> str:
    """``KV.Range`` for ``/etcdserverpb.KV/Range``."""
    return f"{method.service.rpartition('.')[2]}.{method.name}"
