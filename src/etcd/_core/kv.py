"""Operations and transactions: Go's clientv3 ``Op`` and ``Txn`` (pure, no I/O).

Keys are named as :mod:`etcd._core.keys` says, and a transaction's conditions are the
comparisons of :mod:`etcd._core.compare`, imported by the first transaction that has any.

Every object here is an immutable value, checked when it is built, that knows how to
become its protobuf request. Nothing here touches the network: the clients send what these
build.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

from .._wire import messages as pb
from .._wire import methods
from . import responses as _models
from . import validation as check
from .defaults import SortOrder, SortTarget
from .exceptions import EtcdDuplicateKey, EtcdTooManyOps, EtcdTypeError, EtcdValueError
from .keys import ALL_KEYS, KeyArg, KeyRange

if TYPE_CHECKING:
    from .compare import Compare

__all__ = [
    "DeleteRangeOp",
    "Op",
    "PutOp",
    "RangeOp",
    "SortOrder",
    "SortTarget",
    "Txn",
]


# Compared by identity on hot paths: ``limit is _ZERO`` holds for the int 0 (CPython keeps
# one), never for ``False``; a miss only means the slower, complete check.
_ZERO: Final = 0


def _enum_member(enum_type: type[enum.IntEnum], value: object, what: str) -> Any:
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        try:
            return enum_type[value.upper()]
        except KeyError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return enum_type(value)
        except ValueError:
            pass
    names = ", ".join(repr(member.name.lower()) for member in enum_type)
    raise EtcdValueError(f"{what} must be one of {names}, got {value!r}")


class _LeaseLike(Protocol):
    @property
    def id(self) -> int: ...


LeaseArg = int | _LeaseLike


class Op:
    """Base of the operations a transaction can run; build them with the static methods.

    ``Op.range``, ``Op.put``, ``Op.delete_range`` and ``Op.txn`` check their arguments at
    once, so a bad operation fails where it is written, not when it is sent.
    """

    __slots__ = ()

    method: ClassVar[methods.Method]
    mutates: ClassVar[bool]

    def to_request(self) -> Any:
        """The protobuf request this operation sends on its own."""
        raise NotImplementedError

    def to_request_op(self) -> Any:
        """This operation wrapped as a transaction's ``RequestOp``."""
        raise NotImplementedError

    def to_checked_request(self, max_request_bytes: int, max_txn_ops: int) -> Any:
        """The request, refused here if the server would refuse it for its size or for the
        number of operations in a transaction."""
        return self.to_request()

    def decode(self, response: Any) -> Any:
        """The typed result of this operation's own response."""
        raise NotImplementedError

    @property
    def is_mutation(self) -> bool:
        """Whether running this operation can change the store."""
        return self.mutates

    @staticmethod
    def range(
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        limit: int = 0,
        revision: int = 0,
        sort_order: SortOrder | str = SortOrder.NONE,
        sort_target: SortTarget | str = SortTarget.KEY,
        serializable: bool = False,
        keys_only: bool = False,
        count_only: bool = False,
        min_mod_revision: int = 0,
        max_mod_revision: int = 0,
        min_create_revision: int = 0,
        max_create_revision: int = 0,
    ) -> RangeOp:
        """Read a key, a prefix (``prefix=True``), everything from a key on
        (``from_key=True``) or ``[key, range_end)``.

        ``limit`` caps the number of keys returned (0: no cap); ``revision`` reads the store
        as it was then (0: now); ``serializable`` lets the member answer from its own copy
        without asking the leader (faster, possibly stale); ``keys_only`` leaves values out;
        ``count_only`` returns only the count; the min/max revisions filter on the keys'
        modification and creation revisions.
        """
        if (
            range_end is None
            and prefix is False
            and from_key is False
            and limit is _ZERO
            and revision is _ZERO
            and sort_order is SortOrder.NONE
            and sort_target is SortTarget.KEY
            and keys_only is False
            and count_only is False
            and min_mod_revision is _ZERO
            and max_mod_revision is _ZERO
            and min_create_revision is _ZERO
            and max_create_revision is _ZERO
            and (serializable is False or serializable is True)
            and key is not ALL_KEYS
        ):
            # One key with the default options (most reads): nothing else to check. Any
            # other value, even one equal to a default, takes the full path below.
            return RangeOp(check.key_bytes(key), b"", serializable=serializable)
        where = KeyRange.resolve(key, range_end, prefix=prefix, from_key=from_key)
        return RangeOp(
            key=where.key,
            range_end=where.range_end,
            limit=check.integer(limit, "limit", minimum=0),
            revision=check.revision(revision),
            sort_order=_enum_member(SortOrder, sort_order, "sort_order"),
            sort_target=_enum_member(SortTarget, sort_target, "sort_target"),
            serializable=check.boolean(serializable, "serializable"),
            keys_only=check.boolean(keys_only, "keys_only"),
            count_only=check.boolean(count_only, "count_only"),
            min_mod_revision=check.revision(min_mod_revision, "min_mod_revision"),
            max_mod_revision=check.revision(max_mod_revision, "max_mod_revision"),
            min_create_revision=check.revision(min_create_revision, "min_create_revision"),
            max_create_revision=check.revision(max_create_revision, "max_create_revision"),
        )

    @staticmethod
    def put(
        key: str | bytes,
        value: str | bytes | None = None,
        *,
        lease: LeaseArg = 0,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
    ) -> PutOp:
        """Write ``value`` at ``key``.

        ``lease`` attaches the key to a lease (an ID or a lease object); ``prev_kv`` returns
        the previous key-value; ``ignore_value`` keeps the current value (give no value) and
        ``ignore_lease`` keeps the current lease (give no lease), for updating one without
        the other.
        """
        check.boolean(ignore_value, "ignore_value")
        check.boolean(ignore_lease, "ignore_lease")
        if ignore_value:
            if value is not None and value not in ("", b""):
                raise EtcdValueError("ignore_value=True keeps the current value: give no value")
            data = b""
        elif value is None:
            raise EtcdTypeError("put needs a value (or ignore_value=True to keep the current one)")
        else:
            data = check.to_bytes(value, "value")
        lease_id = check.lease_id(lease)
        if ignore_lease and lease_id:
            raise EtcdValueError("ignore_lease=True keeps the current lease: give no lease")
        return PutOp(
            key=check.key_bytes(key),
            value=data,
            lease=lease_id,
            prev_kv=check.boolean(prev_kv, "prev_kv"),
            ignore_value=ignore_value,
            ignore_lease=ignore_lease,
        )

    @staticmethod
    def delete_range(
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        prev_kv: bool = False,
    ) -> DeleteRangeOp:
        """Delete a key, a prefix, everything from a key on, or ``[key, range_end)``;
        ``prev_kv`` returns what was deleted."""
        where = KeyRange.resolve(key, range_end, prefix=prefix, from_key=from_key)
        return DeleteRangeOp(
            key=where.key,
            range_end=where.range_end,
            prev_kv=check.boolean(prev_kv, "prev_kv"),
        )

    @staticmethod
    def txn(
        compare: Iterable[Compare] = (),
        success: Iterable[Op] = (),
        failure: Iterable[Op] = (),
    ) -> Txn:
        """A transaction, usable on its own or nested inside another one."""
        return Txn().If(*compare).Then(*success).Else(*failure)


# RangeOp and PutOp are built on every read and write. A frozen dataclass's own __init__
# sets each field through object.__setattr__ (13 for a read, about 4 µs); theirs store only
# the fields that differ from the defaults, which stay on the class.


@dataclass(frozen=True, init=False)
class RangeOp(Op):
    """A read; build it with :meth:`Op.range`."""

    method: ClassVar[methods.Method] = methods.KV_RANGE
    mutates: ClassVar[bool] = False

    key: bytes
    range_end: bytes
    limit: int = 0
    revision: int = 0
    sort_order: SortOrder = SortOrder.NONE
    sort_target: SortTarget = SortTarget.KEY
    serializable: bool = False
    keys_only: bool = False
    count_only: bool = False
    min_mod_revision: int = 0
    max_mod_revision: int = 0
    min_create_revision: int = 0
    max_create_revision: int = 0

    def __init__(
        self,
        key: bytes,
        range_end: bytes,
        limit: int = 0,
        revision: int = 0,
        sort_order: SortOrder = SortOrder.NONE,
        sort_target: SortTarget = SortTarget.KEY,
        serializable: bool = False,
        keys_only: bool = False,
        count_only: bool = False,
        min_mod_revision: int = 0,
        max_mod_revision: int = 0,
        min_create_revision: int = 0,
        max_create_revision: int = 0,
    ) -> None:
        values = self.__dict__
        values["key"] = key
        values["range_end"] = range_end
        if limit:
            values["limit"] = limit
        if revision:
            values["revision"] = revision
        if sort_order:
            values["sort_order"] = sort_order
        if sort_target:
            values["sort_target"] = sort_target
        if serializable:
            values["serializable"] = serializable
        if keys_only:
            values["keys_only"] = keys_only
        if count_only:
            values["count_only"] = count_only
        if min_mod_revision:
            values["min_mod_revision"] = min_mod_revision
        if max_mod_revision:
            values["max_mod_revision"] = max_mod_revision
        if min_create_revision:
            values["min_create_revision"] = min_create_revision
        if max_create_revision:
            values["max_create_revision"] = max_create_revision

    def to_request(self) -> Any:
        # The instance holds exactly the fields that differ from their defaults, under the
        # wire's names: one constructor call sets them all.
        return pb.RangeRequest(**self.__dict__)

    def to_request_op(self) -> Any:
        return pb.RequestOp(request_range=self.to_request())

    def decode(self, response: Any) -> _models.RangeResponse:
        return _models.decode_range(response)


@dataclass(frozen=True, init=False)
class PutOp(Op):
    """A write; build it with :meth:`Op.put`."""

    method: ClassVar[methods.Method] = methods.KV_PUT
    mutates: ClassVar[bool] = True

    key: bytes
    value: bytes
    lease: int = 0
    prev_kv: bool = False
    ignore_value: bool = False
    ignore_lease: bool = False

    def __init__(
        self,
        key: bytes,
        value: bytes,
        lease: int = 0,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
    ) -> None:
        values = self.__dict__
        values["key"] = key
        values["value"] = value
        if lease:
            values["lease"] = lease
        if prev_kv:
            values["prev_kv"] = prev_kv
        if ignore_value:
            values["ignore_value"] = ignore_value
        if ignore_lease:
            values["ignore_lease"] = ignore_lease

    def to_request(self) -> Any:
        # As RangeOp's: the instance holds the non-default fields under the wire's names.
        return pb.PutRequest(**self.__dict__)

    def to_checked_request(self, max_request_bytes: int, max_txn_ops: int) -> Any:
        # The exact size only matters near the limit: measuring it on every write would not.
        if len(self.value) + len(self.key) > max_request_bytes - 64:
            request = self.to_request()
            check.check_request_size(request.ByteSize(), max_request_bytes, "put request")
            return request
        return self.to_request()

    def to_request_op(self) -> Any:
        return pb.RequestOp(request_put=self.to_request())

    def decode(self, response: Any) -> _models.PutResponse:
        return _models.decode_put(response)

    def __repr__(self) -> str:
        # Values can be large or secret: show their size, not their bytes.
        return (
            f"PutOp(key={self.key!r}, value=<{len(self.value)} bytes>, lease={self.lease}, "
            f"prev_kv={self.prev_kv}, ignore_value={self.ignore_value}, "
            f"ignore_lease={self.ignore_lease})"
        )


@dataclass(frozen=True, slots=True)
class DeleteRangeOp(Op):
    """A delete; build it with :meth:`Op.delete_range`."""

    method: ClassVar[methods.Method] = methods.KV_DELETE_RANGE
    mutates: ClassVar[bool] = True

    key: bytes
    range_end: bytes
    prev_kv: bool = False

    def to_request(self) -> Any:
        return pb.DeleteRangeRequest(key=self.key, range_end=self.range_end, prev_kv=self.prev_kv)

    def to_request_op(self) -> Any:
        return pb.RequestOp(request_delete_range=self.to_request())

    def decode(self, response: Any) -> _models.DeleteRangeResponse:
        return _models.decode_delete_range(response)


# --- transactions -----------------------------------------------------------------------------


class _TxnExecutor(Protocol):
    def txn(self, txn: Txn, *, timeout: float | check._Unset | None = ...) -> Any: ...


@dataclass(frozen=True, slots=True)
class Txn(Op):
    """A transaction: ``If`` every comparison holds ``Then`` run these operations ``Else``
    those, atomically, in one revision.

    Build it as in Go's clientv3, in that order, each part at most once::

        txn = etcd.Txn().If(etcd.Value("k") == "old").Then(etcd.Op.put("k", "new"))

    Each call returns a new ``Txn``. ``client.transaction()`` gives one bound to the client,
    whose :meth:`commit` sends it; an unbound one is sent with ``client.txn(txn)`` or nested
    in another transaction.
    """

    method: ClassVar[methods.Method] = methods.KV_TXN
    mutates: ClassVar[bool] = True

    compare: tuple[Compare, ...] = ()
    success: tuple[Op, ...] = ()
    failure: tuple[Op, ...] = ()
    _stage: int = field(default=0, repr=False, compare=False)
    _executor: _TxnExecutor | None = field(default=None, repr=False, compare=False)

    def If(self, *compares: Compare) -> Txn:
        """The conditions, all of which must hold for ``Then`` to run."""
        if self._stage >= 1:
            raise EtcdValueError("If() must come first and only once (If, then Then, then Else)")
        from .compare import Compare  # already built: its objects are what If() is given

        for item in compares:
            if not isinstance(item, Compare):
                raise EtcdTypeError(f"If() takes Compare objects, not {type(item).__name__}")
        return replace(self, compare=tuple(compares), _stage=1)

    def Then(self, *ops: Op) -> Txn:
        """The operations to run when every condition holds."""
        if self._stage >= 2:
            raise EtcdValueError("Then() comes once, after If() and before Else()")
        return replace(self, success=_check_ops(ops, "Then"), _stage=2)

    def Else(self, *ops: Op) -> Txn:
        """The operations to run when a condition fails."""
        if self._stage >= 3:
            raise EtcdValueError("Else() comes once, last")
        return replace(self, failure=_check_ops(ops, "Else"), _stage=3)

    def commit(self, *, timeout: float | check._Unset | None = check.UNSET) -> Any:
        """Send the transaction with the client it is bound to.

        Returns its :class:`etcd.TxnResponse`; from an :class:`etcd.AsyncClient`, a
        coroutine to await for it.
        """
        if self._executor is None:
            raise EtcdValueError(
                "this Txn is not bound to a client: use client.transaction(), or send it "
                "with client.txn(txn)"
            )
        return self._executor.txn(self, timeout=timeout)

    @property
    def is_mutation(self) -> bool:
        return any(op.is_mutation for op in (*self.success, *self.failure))

    def check_limits(self, max_ops: int) -> None:
        """Refuse what the server would refuse: too many operations, or a key written twice
        in one branch."""
        for name, items in (
            ("compare", self.compare),
            ("success", self.success),
            ("failure", self.failure),
        ):
            if len(items) > max_ops:
                raise EtcdTooManyOps(
                    f"transaction has {len(items)} {name} entries; the server accepts at most "
                    f"{max_ops} (etcd's --max-txn-ops)"
                )
        for branch in (self.success, self.failure):
            _check_branch_keys(branch)
            for op in branch:
                if isinstance(op, Txn):
                    op.check_limits(max_ops)

    def to_request(self) -> Any:
        return pb.TxnRequest(
            compare=[c.to_pb() for c in self.compare],
            success=[op.to_request_op() for op in self.success],
            failure=[op.to_request_op() for op in self.failure],
        )

    def to_checked_request(self, max_request_bytes: int, max_txn_ops: int) -> Any:
        self.check_limits(max_txn_ops)
        request = self.to_request()
        check.check_request_size(request.ByteSize(), max_request_bytes, "transaction")
        return request

    def to_request_op(self) -> Any:
        return pb.RequestOp(request_txn=self.to_request())

    def decode(self, response: Any) -> _models.TxnResponse:
        return _models.decode_txn(response)


def next_page(op: RangeOp, response: _models.RangeResponse) -> RangeOp | None:
    """The request for the page after ``response``, pinned to the first page's revision;
    ``None`` when the range is exhausted."""
    if not response.more or not response.kvs:
        return None
    return replace(
        op,
        key=response.kvs[-1].key + b"\0",
        revision=op.revision or response.header.revision,
    )


def _check_ops(ops: tuple[object, ...], where: str) -> tuple[Op, ...]:
    for item in ops:
        if not isinstance(item, Op):
            raise EtcdTypeError(
                f"{where}() takes operations built with etcd.Op, not {type(item).__name__}"
            )
    return ops  # type: ignore[return-value]


def _check_branch_keys(branch: tuple[Op, ...]) -> None:
    puts: set[bytes] = set()
    deletes: list[KeyRange] = []
    for op in branch:
        if isinstance(op, PutOp):
            if op.key in puts:
                raise EtcdDuplicateKey(f"transaction branch puts key {op.key!r} twice")
            puts.add(op.key)
        elif isinstance(op, DeleteRangeOp):
            deletes.append(KeyRange(op.key, op.range_end))
    for key in puts:
        for where in deletes:
            if where.contains(key):
                raise EtcdDuplicateKey(f"transaction branch both puts and deletes key {key!r}")
