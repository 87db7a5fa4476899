"""Rewriting keys for a namespace: the semantics of Go's ``namespace`` package (pure).

Every key sent gets the namespace's prefix and every key returned loses it; ranges that
would reach past the namespace (``etcd.ALL_KEYS``, ``from_key``, a ``range_end`` of
``\\0``) stop at its end instead, so nothing outside is ever seen or touched. The shells
(:mod:`etcd._async.namespace`) only wire these functions to a client.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar, overload

from . import exceptions as exc
from .compare import Compare
from .keys import prefix_end
from .kv import DeleteRangeOp, Op, PutOp, RangeOp, Txn
from .responses import (
    DeleteRangeResponse,
    KeyValue,
    OpResponse,
    PutResponse,
    RangeResponse,
    TxnResponse,
)
from .watch import Event, WatchResponse

# --- pure rewriting: requests ------------------------------------------------------------------


def prefix_range(prefix: bytes, key: bytes, range_end: bytes = b"") -> tuple[bytes, bytes]:
    """``[key, range_end)`` of a namespace, as keys of the whole store.

    A single key (``range_end`` empty) is prefixed; so is an explicit ``range_end``. A
    ``range_end`` of ``\\0`` ("to the end of the key space") becomes the end of the
    namespace, and ``etcd.ALL_KEYS`` (``key`` and ``range_end`` both ``\\0``) every key of
    the namespace.
    """
    if range_end == b"\0":
        # Relative keys are never empty: the one key equal to the prefix stays out of view.
        start = prefix + b"\0" if key == b"\0" else prefix + key
        return start, prefix_end(prefix)
    return prefix + key, (prefix + range_end if range_end else b"")


def prefix_compare(prefix: bytes, compare: Compare) -> Compare:
    """``compare`` on the namespace's keys (its key and range rewritten)."""
    key, range_end = prefix_range(prefix, compare.key, compare.range_end)
    return replace(compare, key=key, range_end=range_end)


_AnyOp = TypeVar("_AnyOp", RangeOp, PutOp, DeleteRangeOp, Txn)


@overload
def prefix_op(prefix: bytes, op: _AnyOp) -> _AnyOp: ...
@overload
def prefix_op(prefix: bytes, op: Op) -> Op: ...
def prefix_op(prefix: bytes, op: Op) -> Op:
    """``op`` on the namespace's keys; a transaction is rewritten all the way down."""
    if isinstance(op, (RangeOp, DeleteRangeOp)):
        key, range_end = prefix_range(prefix, op.key, op.range_end)
        return replace(op, key=key, range_end=range_end)
    if isinstance(op, PutOp):
        return replace(op, key=prefix + op.key)
    if isinstance(op, Txn):
        return Txn(
            compare=tuple(prefix_compare(prefix, item) for item in op.compare),
            success=tuple(prefix_op(prefix, item) for item in op.success),
            failure=tuple(prefix_op(prefix, item) for item in op.failure),
            _stage=3,
        )
    raise exc.EtcdTypeError(f"{type(op).__name__} cannot run in a namespace")


# --- pure rewriting: results -------------------------------------------------------------------


def strip_key(prefix: bytes, key: bytes) -> bytes:
    """``key`` relative to the namespace (a key outside it is left whole)."""
    return key[len(prefix) :] if key.startswith(prefix) else key


def strip_kv(prefix: bytes, kv: KeyValue) -> KeyValue:
    return replace(kv, key=strip_key(prefix, kv.key))


def _strip_optional(prefix: bytes, kv: KeyValue | None) -> KeyValue | None:
    return None if kv is None else strip_kv(prefix, kv)


_AnyResponse = TypeVar("_AnyResponse", RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse)


def strip_response(prefix: bytes, response: _AnyResponse) -> _AnyResponse:
    """A result with the prefix taken off every key it holds (a new object)."""
    result: _AnyResponse = strip_any(prefix, response)
    return result


def strip_any(prefix: bytes, response: OpResponse) -> Any:
    if isinstance(response, RangeResponse):
        return replace(response, kvs=[strip_kv(prefix, kv) for kv in response.kvs])
    if isinstance(response, PutResponse):
        return replace(response, prev_kv=_strip_optional(prefix, response.prev_kv))
    if isinstance(response, DeleteRangeResponse):
        return replace(response, prev_kvs=[strip_kv(prefix, kv) for kv in response.prev_kvs])
    if isinstance(response, TxnResponse):
        return replace(response, responses=[strip_any(prefix, item) for item in response.responses])
    raise exc.EtcdTypeError(f"cannot strip a namespace from {type(response).__name__}")


def strip_event(prefix: bytes, event: Event) -> Event:
    return Event(event.type, strip_kv(prefix, event.kv), _strip_optional(prefix, event.prev_kv))


def strip_watch_response(prefix: bytes, response: WatchResponse) -> WatchResponse:
    return WatchResponse(
        response.header,
        [strip_event(prefix, event) for event in response.events],
        response.progress,
        response.synced_revision,
    )
