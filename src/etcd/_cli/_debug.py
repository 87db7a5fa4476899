"""``--debug``: a line on stderr for each RPC the command makes, and for each retry,
fail-over, login again and stream event on the way.

The lines are log records of ``etcd.cli`` (with the structured fields of the other
loggers), made by a listener on the client's events: the command line sees what any
program could. Nothing in them comes from a request or a response, so no key, value,
password or token can appear.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from .._core import events
from .._core.log_fields import log_fields

__all__ = ["trace", "wants_debug"]

log = logging.getLogger("etcd.cli")

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def trace(event: object) -> None:
    """Log one line for ``event`` (an event listener, added inline so that the lines keep
    their order among the other log records)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    line = _describe(event)
    if line is not None:
        text, fields = line
        log.debug("%s", text, extra=fields)


def _describe(event: object) -> tuple[str, dict[str, object]] | None:
    if isinstance(event, events.OperationEnded):
        what = f"rpc {event.name}" if event.kind == "call" else event.name
        parts = [what]
        if event.endpoint:
            parts.append(f"endpoint={event.endpoint}")
        parts.append(f"duration={_milliseconds(event.duration)}")
        if event.attempts > 1:
            parts.append(f"attempts={event.attempts}")
        parts.append(f"outcome={event.error_type or 'ok'}")
        return " ".join(parts), log_fields(
            operation=event.name,
            endpoint=event.endpoint,
            attempt=event.attempts,
            duration=event.duration,
            outcome=event.error_type or "ok",
        )
    if isinstance(event, events.Retry):
        return (
            f"retry {event.name} endpoint={event.endpoint} attempt={event.attempt} "
            f"code={event.code} error={event.error_type} delay={_milliseconds(event.delay)}",
            log_fields(
                operation=event.name,
                endpoint=event.endpoint,
                attempt=event.attempt,
                code=event.code,
                delay=event.delay,
            ),
        )
    if isinstance(event, events.Failover):
        return (
            f"fail-over from={event.from_endpoint} to={event.to_endpoint} code={event.code}",
            log_fields(
                endpoint=event.from_endpoint, next_endpoint=event.to_endpoint, code=event.code
            ),
        )
    if isinstance(event, events.Reauthenticated):
        return (
            f"login again endpoint={event.endpoint} (the token was refused)",
            log_fields(endpoint=event.endpoint),
        )
    if isinstance(event, events.EndpointsChanged):
        return (
            f"endpoints changed to {','.join(event.after)} (were {','.join(event.before)})",
            log_fields(endpoints=event.after),
        )
    if isinstance(event, events.WatchResumed):
        return (
            f"watch resumed watch_id={event.watch_id} revision={event.revision}",
            log_fields(watch_id=event.watch_id, revision=event.revision),
        )
    if isinstance(event, events.WatchCompacted):
        return (
            f"watch compacted watch_id={event.watch_id} revision={event.revision} "
            f"compact_revision={event.compact_revision}",
            log_fields(watch_id=event.watch_id, revision=event.revision),
        )
    if isinstance(event, events.WatchDelivered):
        return (
            f"watch delivered watch_id={event.watch_id} events={event.events}",
            log_fields(watch_id=event.watch_id, count=event.events),
        )
    if isinstance(event, events.KeepAliveAnswered):
        return (
            f"keep-alive lease_id={event.lease_id:x} endpoint={event.endpoint} "
            f"duration={_milliseconds(event.round_trip)}",
            log_fields(lease_id=event.lease_id, endpoint=event.endpoint, duration=event.round_trip),
        )
    if isinstance(event, events.LeaseLost):
        return (
            f"lease lost lease_id={event.lease_id:x} ({event.reason})",
            log_fields(lease_id=event.lease_id),
        )
    if isinstance(event, events.StmRetry):
        return f"stm retry attempt={event.attempt}", log_fields(attempt=event.attempt)
    return None  # starts (the end says it all), coalesced batches (the CLI sends none)


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f}ms"


def wants_debug(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether a command line asked for ``--debug`` (or ``ETCDCTL_DEBUG``), for errors that
    happen before its options are known."""
    for arg in argv:
        if arg == "--":
            break
        if arg == "--debug" or (arg.startswith("--debug=") and arg[8:] in _TRUE):
            return True
    return environ.get("ETCDCTL_DEBUG", "") in _TRUE
