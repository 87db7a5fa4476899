"""The synchronous client."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

from . import _exceptions as exc
from . import _validation as check
from ._base import BaseClient
from ._config import Endpoint
from ._kv import (
    Compare,
    KeyArg,
    LeaseArg,
    Op,
    RangeOp,
    SortOrder,
    SortTarget,
    Txn,
    next_page,
)
from ._models import (
    CompactResponse,
    DeleteRangeResponse,
    KeyValue,
    PutResponse,
    RangeResponse,
    TxnResponse,
    decode_compact,
)
from ._transport import Transport
from ._wire import messages as pb
from ._wire import methods

Timeout = float | None | check._Unset


class Client(BaseClient):
    """A client for an etcd cluster (v3 API, over gRPC). Thread-safe.

    ::

        client = etcd.Client()                                   # 127.0.0.1:2379
        client = etcd.Client(host="10.0.0.5", port=2379)
        client = etcd.Client(endpoints=["https://a:2379", "https://b:2379"],
                             ca_cert="ca.pem", cert=("client.pem", "client-key.pem"))

    Construction does no network I/O: the first call connects. Every call has a deadline:
    ``timeout`` seconds (5 by default) unless the call passes its own ``timeout=``; pass
    ``timeout=None`` explicitly for none. Calls that fail raise subclasses of
    :class:`etcd.EtcdException`.

    All arguments but ``host`` and ``port`` are keyword-only.

    Args:
        host: a host name or address, or python-etcd's tuple of ``(host, port)`` pairs.
        port: the client port (2379, etcd's registered port).
        endpoints: ``["host:port", "https://host:port", ...]``; wins over ``host``/``port``.
        protocol: ``"http"`` or ``"https"`` for endpoints given without a scheme.
        cert: a client certificate: ``(cert_file, key_file)`` or one PEM file holding both.
        ca_cert: the CA bundle that signed the server's certificate (default: system roots).
        username: etcd user, for clusters with authentication enabled.
        password: that user's password.
        timeout: the default per-call deadline in seconds (``read_timeout`` is an alias).
        connect_timeout: how long to wait for a connection before moving on.
        allow_redirect: ``False`` makes members without a leader refuse requests
            (etcd's require-leader) instead of answering stale or waiting.
        allow_reconnect: move to another member when the one in use fails.
        max_request_bytes: the server's request limit, checked before sending (1.5 MiB).
        max_receive_bytes: the largest answer accepted (2 GiB).
        max_txn_ops: the server's limit of operations per transaction (128).
        retry_policy: how failed calls are retried (:class:`etcd.RetryPolicy`).
    """

    _transport: Transport

    def _start(self) -> None:
        self._transport = Transport(self._config, self._retry_policy)

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection. The client cannot be used afterwards."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def endpoints(self) -> list[str]:
        """The URLs of the members this client talks to."""
        return [endpoint.url for endpoint in self._transport.endpoints]

    def _endpoints_for_repr(self) -> tuple[Endpoint, ...]:
        return self._transport.endpoints

    # --- the generic call ---------------------------------------------------------------

    def do(self, op: Op, *, timeout: Timeout = check.UNSET) -> Any:
        """Run one operation built with :class:`etcd.Op` and return its typed result."""
        request = self._prepare(op)
        response = self._transport.unary(
            op.method, request, timeout=self._call_timeout(timeout), mutation=op.is_mutation
        )
        return op.decode(response)

    # --- KV -----------------------------------------------------------------------------

    def range(
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
        op = Op.range(
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
        result: RangeResponse = self.do(op, timeout=timeout)
        return result

    def range_iter(
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
    ) -> Iterator[KeyValue]:
        """Walk a range of any size page by page, in key order.

        Each page is one request of at most ``page_size`` keys with its own deadline; every
        page reads the store at the revision of the first one, so the walk is a consistent
        snapshot even while others write (it fails with :class:`etcd.EtcdCompacted` if that
        revision is compacted meanwhile).
        """
        op: RangeOp | None = Op.range(
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
            page: RangeResponse = self.do(op, timeout=timeout)
            yield from page.kvs
            op = next_page(op, page)

    def put(
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
        op = Op.put(
            key,
            value,
            lease=lease,
            prev_kv=prev_kv,
            ignore_value=ignore_value,
            ignore_lease=ignore_lease,
        )
        result: PutResponse = self.do(op, timeout=timeout)
        return result

    def delete_range(
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
        op = Op.delete_range(key, range_end, prefix=prefix, from_key=from_key, prev_kv=prev_kv)
        result: DeleteRangeResponse = self.do(op, timeout=timeout)
        return result

    def txn(
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
        if isinstance(compare, Txn):
            if success or failure:
                raise exc.EtcdValueError("pass either a Txn or the compare/success/failure lists")
            txn = compare
        else:
            txn = Op.txn(compare, success, failure)
        result: TxnResponse = self.do(txn, timeout=timeout)
        return result

    def transaction(self) -> Txn:
        """A transaction builder bound to this client: ``.If(...).Then(...).Else(...)``,
        then ``.commit()``."""
        return Txn(_executor=self)

    def compact(
        self, revision: int, *, physical: bool = False, timeout: Timeout = check.UNSET
    ) -> CompactResponse:
        """Discard the history before ``revision`` (etcd's ``Compact``).

        With ``physical=True`` the call returns only once the space is reclaimed in the
        backend.
        """
        request = pb.CompactionRequest(
            revision=check.integer(revision, "revision", minimum=1),
            physical=check.boolean(physical, "physical"),
        )
        response = self._transport.unary(
            methods.KV_COMPACT, request, timeout=self._call_timeout(timeout), mutation=True
        )
        return decode_compact(response)
