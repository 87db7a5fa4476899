"""Logical operations (a call with its retries, a lock acquire, an election campaign, an
STM run) reported to a client's event listeners, timed from start to end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from .._core.event_hub import EventHub, Operation

T = TypeVar("T")


async def run_operation(
    hub: EventHub | None,
    kind: str,
    name: str,
    work: Callable[[Operation | None], Awaitable[T]],
    *,
    key: bytes | None = None,
    attributes: Mapping[str, int | str] | None = None,
) -> T:
    """``await work(operation)``, reported as one operation when anyone listens (then
    ``operation`` is the :class:`Operation` to add attributes to; ``None`` otherwise)."""
    if hub is None or not hub.active:
        return await work(None)
    operation = Operation(hub, kind, name, key=key, attributes=attributes)
    try:
        result = await work(operation)
    except BaseException as error:
        operation.end(error)
        raise
    operation.end()
    return result
