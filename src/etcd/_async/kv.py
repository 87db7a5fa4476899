"""Key-value calls: ``range``, ``put``, ``delete_range``, ``txn`` and their kin.

:class:`AsyncKVMethods` writes them once for every object that can run an
:class:`etcd.Op`: each builds an operation and hands it to ``do``, which
:class:`AsyncKVCalls`, the client's KV part, sends (and :class:`etcd.Namespace` rewrites
first). The options are checked when the operation is built, before anything is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from .. import _core, _wire
from .._core import exceptions as exc
from .._core import validation as check
from .._core.defaults import SortOrder, SortTarget
from .._core.validation import Timeout
from .part import AsyncClientPart

if TYPE_CHECKING:
    from .._core.compare import Compare
    from .._core.keys import KeyArg
    from .._core.kv import LeaseArg, Op, RangeOp, Txn
    from .._core.responses import (
        CompactResponse,
        DeleteRangeResponse,
        KeyValue,
        PutResponse,
        RangeResponse,
        TxnResponse,
    )
    from .coalescing import AsyncCoalescer


class AsyncKVMethods:
    """``range``, ``range_iter``, ``put``, ``delete_range``, ``txn`` and ``transaction``."""

    async def do(self, op: Op, *, timeout: Timeout = check.UNSET) -> Any:
        """Run one operation built with :class:`etcd.Op` and return its typed result."""
        raise NotImplementedError

    async def range(
        self,
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
        timeout: Timeout = check.UNSET,
    ) -> RangeResponse:
        """Read keys (etcd's ``Range``); see :meth:`etcd.Op.range` for the options."""
        op = _core.kv.Op.range(
            key,
            range_end,
            prefix=prefix,
            from_key=from_key,
            limit=limit,
            revision=revision,
            sort_order=sort_order,
            sort_target=sort_target,
            serializable=serializable,
            keys_only=keys_only,
            count_only=count_only,
            min_mod_revision=min_mod_revision,
            max_mod_revision=max_mod_revision,
            min_create_revision=min_create_revision,
            max_create_revision=max_create_revision,
        )
        result: RangeResponse = await self.do(op, timeout=timeout)
        return result

    async def range_iter(
        self,
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        page_size: int = 1000,
        revision: int = 0,
        serializable: bool = False,
        keys_only: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> AsyncIterator[KeyValue]:
        """Walk a range of any size page by page, in key order.

        Each page is one request of at most ``page_size`` keys with its own deadline; every
        page reads the store at the revision of the first one, so the walk is a consistent
        snapshot even while others write (it fails with :class:`etcd.EtcdCompacted` if that
        revision is compacted meanwhile).
        """
        op: RangeOp | None = _core.kv.Op.range(
            key,
            range_end,
            prefix=prefix,
            from_key=from_key,
            limit=check.integer(page_size, "page_size", minimum=1),
            revision=revision,
            serializable=serializable,
            keys_only=keys_only,
        )
        while op is not None:
            page: RangeResponse = await self.do(op, timeout=timeout)
            for kv in page.kvs:
                yield kv
            op = _core.kv.next_page(op, page)

    async def put(
        self,
        key: str | bytes,
        value: str | bytes | None = None,
        *,
        lease: LeaseArg = 0,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> PutResponse:
        """Write a key (etcd's ``Put``); see :meth:`etcd.Op.put` for the options."""
        op = _core.kv.Op.put(
            key,
            value,
            lease=lease,
            prev_kv=prev_kv,
            ignore_value=ignore_value,
            ignore_lease=ignore_lease,
        )
        result: PutResponse = await self.do(op, timeout=timeout)
        return result

    async def delete_range(
        self,
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        prev_kv: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> DeleteRangeResponse:
        """Delete keys (etcd's ``DeleteRange``); see :meth:`etcd.Op.delete_range`."""
        op = _core.kv.Op.delete_range(
            key, range_end, prefix=prefix, from_key=from_key, prev_kv=prev_kv
        )
        result: DeleteRangeResponse = await self.do(op, timeout=timeout)
        return result

    async def txn(
        self,
        compare: Txn | Iterable[Compare] = (),
        success: Iterable[Op] = (),
        failure: Iterable[Op] = (),
        *,
        timeout: Timeout = check.UNSET,
    ) -> TxnResponse:
        """Run a transaction (etcd's ``Txn``): if every comparison in ``compare`` holds, run
        ``success``, else ``failure``, atomically.

        Pass either the three lists or one :class:`etcd.Txn` built with
        ``If/Then/Else``.
        """
        if isinstance(compare, _core.kv.Txn):
            if success or failure:
                raise exc.EtcdValueError("pass either a Txn or the compare/success/failure lists")
            txn = compare
        else:
            txn = _core.kv.Op.txn(compare, success, failure)
        result: TxnResponse = await self.do(txn, timeout=timeout)
        return result

    def transaction(self) -> Txn:
        """A transaction builder bound to this client: ``.If(...).Then(...).Else(...)``,
        then ``.commit()``."""
        return _core.kv.Txn(_executor=self)


class AsyncKVCalls(AsyncKVMethods, AsyncClientPart):
    """The client's KV part: :meth:`do` sends each operation, and :meth:`compact`."""

    __slots__ = ()

    if TYPE_CHECKING:
        _coalescer: AsyncCoalescer | None

        def _prepare(self, op: Op) -> Any: ...

    async def do(self, op: Op, *, timeout: Timeout = check.UNSET) -> Any:
        """Run one operation built with :class:`etcd.Op` and return its typed result."""
        request = self._prepare(op)
        seconds = self._call_timeout(timeout)
        coalescer = self._coalescer
        if coalescer is None or (lane := coalescer.lane_of(op)) is None:
            response = await self._transport.unary(
                op.method, request, timeout=seconds, mutation=op.is_mutation
            )
            return op.decode(response)
        if not coalescer.enter_alone(lane):
            return await coalescer.call(lane, op, request, seconds)
        # A quiet lane: sent here like a plain call, and only counted (every read of a
        # client left as it comes takes this path, so it adds no call of its own).
        try:
            response = await self._transport.unary(
                op.method, request, timeout=seconds, mutation=op.is_mutation
            )
        finally:
            coalescer.exit_alone(lane)
        return op.decode(response)

    async def range_stream(
        self,
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        revision: int = 0,
        serializable: bool = False,
        keys_only: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> AsyncIterator[KeyValue]:
        """Every key of a range, in key order, as etcd 3.7's ``RangeStream`` sends them: in
        chunks of one consistent answer, so that neither side holds a large range whole.

        ``timeout`` bounds the whole stream. Members before etcd 3.7 lack the call:
        :class:`etcd.EtcdNotSupported` says so (:meth:`range_iter` reads a range of any
        size from any release, page by page).
        """
        op = _core.kv.Op.range(
            key,
            range_end,
            prefix=prefix,
            from_key=from_key,
            revision=revision,
            serializable=serializable,
            keys_only=keys_only,
        )
        chunks = self._transport.server_stream(
            _wire.methods.KV_RANGE_STREAM, self._prepare(op), timeout=self._call_timeout(timeout)
        )
        async for chunk in chunks:
            for kv in op.decode(chunk.range_response).kvs:
                yield kv

    async def compact(
        self, revision: int, *, physical: bool = False, timeout: Timeout = check.UNSET
    ) -> CompactResponse:
        """Discard the history before ``revision`` (etcd's ``Compact``).

        With ``physical=True`` the call returns only once the space is reclaimed in the
        backend.
        """
        request = _wire.messages.CompactionRequest(
            revision=check.integer(revision, "revision", minimum=1),
            physical=check.boolean(physical, "physical"),
        )
        response = await self._transport.unary(
            _wire.methods.KV_COMPACT, request, timeout=self._call_timeout(timeout), mutation=True
        )
        return _core.responses.decode_compact(response)
