"""Typed results, and their decoders from protobuf responses (pure, no I/O).

Results are plain slotted objects: users never see protobuf messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Union, overload

__all__ = [
    "CompactResponse",
    "DeleteRangeResponse",
    "KeyValue",
    "KeyValues",
    "PutResponse",
    "RangeResponse",
    "ResponseHeader",
    "TxnResponse",
    "decode_compact",
    "decode_delete_range",
    "decode_header",
    "decode_kv",
    "decode_put",
    "decode_range",
    "decode_txn",
]


@dataclass(slots=True)
class ResponseHeader:
    """Metadata every answer carries."""

    cluster_id: int
    """The cluster's ID."""
    member_id: int
    """The ID of the member that answered."""
    revision: int
    """The store's revision when the request was served."""
    raft_term: int
    """The raft term when the request was served."""


@dataclass(slots=True)
class KeyValue:
    """One key and its value, with its metadata."""

    key: bytes
    value: bytes
    create_revision: int
    """Revision of the store when the key was last created (0 for a deleted key)."""
    mod_revision: int
    """Revision of the store when the key was last modified."""
    version: int
    """Number of modifications since creation (0 for a deleted key)."""
    lease: int
    """ID of the lease the key is attached to, 0 for none."""


class KeyValues(Sequence[KeyValue]):
    """The keys of a range answer: a read-only list, each key decoded when first read.

    A range of many keys costs no more than its protobuf parsing until the keys are used,
    and ``len()``, ``kvs[0]`` or a scan that stops early pay only for what they touch.
    """

    __slots__ = ("_decoded", "_raw")

    def __init__(self, raw: Sequence[Any]) -> None:
        self._raw = raw
        self._decoded: list[KeyValue | None] = [None] * len(raw)

    def __len__(self) -> int:
        return len(self._decoded)

    @overload
    def __getitem__(self, index: int) -> KeyValue: ...

    @overload
    def __getitem__(self, index: slice) -> list[KeyValue]: ...

    def __getitem__(self, index: int | slice) -> KeyValue | list[KeyValue]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._decoded)))]
        kv = self._decoded[index]
        if kv is None:
            kv = self._decoded[index] = decode_kv(self._raw[index])
        return kv

    def __iter__(self) -> Iterator[KeyValue]:
        for i in range(len(self._decoded)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a list's equality, so a list's hash

    def __repr__(self) -> str:
        return repr(list(self))


@dataclass(slots=True)
class RangeResponse:
    """The answer to :meth:`etcd.Client.range`."""

    header: ResponseHeader
    kvs: Sequence[KeyValue] = field(default_factory=list)
    """The keys found, in the order asked for (by key unless sorted otherwise)."""
    more: bool = False
    """True when ``limit`` cut the answer short."""
    count: int = 0
    """How many keys are in the range (all of them, not only the ones returned)."""


@dataclass(slots=True)
class PutResponse:
    """The answer to :meth:`etcd.Client.put`."""

    header: ResponseHeader
    prev_kv: KeyValue | None = None
    """The key as it was before, when ``prev_kv=True`` was asked and it existed."""


@dataclass(slots=True)
class DeleteRangeResponse:
    """The answer to :meth:`etcd.Client.delete_range`."""

    header: ResponseHeader
    deleted: int = 0
    """How many keys were deleted."""
    prev_kvs: list[KeyValue] = field(default_factory=list)
    """The deleted keys, when ``prev_kv=True`` was asked."""


OpResponse = Union[RangeResponse, PutResponse, DeleteRangeResponse, "TxnResponse"]


@dataclass(slots=True)
class TxnResponse:
    """The answer to a transaction."""

    header: ResponseHeader
    succeeded: bool
    """True when every comparison held (the ``success`` branch ran)."""
    responses: list[OpResponse] = field(default_factory=list)
    """One answer per operation of the branch that ran, in order."""


@dataclass(slots=True)
class CompactResponse:
    """The answer to :meth:`etcd.Client.compact`."""

    header: ResponseHeader


def decode_header(header: Any) -> ResponseHeader:
    return ResponseHeader(header.cluster_id, header.member_id, header.revision, header.raft_term)


def decode_kv(kv: Any) -> KeyValue:
    return KeyValue(kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)


def decode_range(response: Any) -> RangeResponse:
    return RangeResponse(
        decode_header(response.header),
        KeyValues(response.kvs),
        response.more,
        response.count,
    )


def decode_put(response: Any) -> PutResponse:
    prev = decode_kv(response.prev_kv) if response.HasField("prev_kv") else None
    return PutResponse(decode_header(response.header), prev)


def decode_delete_range(response: Any) -> DeleteRangeResponse:
    return DeleteRangeResponse(
        decode_header(response.header),
        response.deleted,
        [decode_kv(kv) for kv in response.prev_kvs],
    )


def decode_compact(response: Any) -> CompactResponse:
    return CompactResponse(decode_header(response.header))


def decode_txn(response: Any) -> TxnResponse:
    return TxnResponse(
        decode_header(response.header),
        response.succeeded,
        [_decode_response_op(op) for op in response.responses],
    )


def _decode_response_op(op: Any) -> OpResponse:
    kind = op.WhichOneof("response")
    if kind == "response_range":
        return decode_range(op.response_range)
    if kind == "response_put":
        return decode_put(op.response_put)
    if kind == "response_delete_range":
        return decode_delete_range(op.response_delete_range)
    if kind == "response_txn":
        return decode_txn(op.response_txn)
    raise ValueError(f"unknown transaction response kind {kind!r}")
