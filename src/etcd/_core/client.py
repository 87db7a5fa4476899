"""What the sync and asyncio clients share: configuration and request preparation, no I/O."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from .. import _core
from . import defaults
from . import exceptions as exc
from . import validation as check
from .retry import DEFAULT_RETRY_POLICY, RetryPolicy

if TYPE_CHECKING:
    from . import srv
    from .config import ClientConfig, Endpoint
    from .kv import Op

_Self = TypeVar("_Self", bound="BaseClient")


class BaseClient:
    """Configuration and the I/O-free half of every call."""

    _config: ClientConfig
    _retry_policy: RetryPolicy

    def __init__(
        self,
        host: str | tuple[tuple[str, int], ...] = defaults.DEFAULT_HOST,
        port: int = defaults.DEFAULT_PORT,
        *,
        endpoints: Sequence[str] | str | None = None,
        protocol: str = "http",
        cert: str | tuple[str, str] | None = None,
        ca_cert: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float | None = defaults.DEFAULT_TIMEOUT,
        read_timeout: float | check._Unset | None = check.UNSET,
        connect_timeout: float = defaults.DEFAULT_CONNECT_TIMEOUT,
        allow_redirect: bool = True,
        allow_reconnect: bool = False,
        max_request_bytes: int = check.DEFAULT_MAX_REQUEST_BYTES,
        max_receive_bytes: int = defaults.DEFAULT_MAX_RECEIVE_BYTES,
        max_txn_ops: int = check.DEFAULT_MAX_TXN_OPS,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        token: str | None = None,
        tls_server_name: str | None = None,
        insecure: bool = False,
        auto_sync_interval: float | None = None,
        # config.CoalesceMode spelled out: the documented signature must name the modes.
        coalesce: bool | Literal["auto", "reads"] = "reads",
        lock_prefix: str | None = None,
        interceptors: Sequence[Any] = (),
        discovery_srv: str | None = None,
        discovery_srv_name: str | None = None,
        discovery_nameservers: Sequence[str] | str | None = None,
        srv_domain: str | None = None,
    ) -> None:
        if not isinstance(read_timeout, check._Unset):
            # python-etcd's name for the per-call timeout, where 0 meant "no timeout".
            from .classic import means_no_timeout

            timeout = None if means_no_timeout(read_timeout) else read_timeout
        discovery_options = (discovery_srv, discovery_srv_name, discovery_nameservers, srv_domain)
        query = None
        if any(option is not None for option in discovery_options):
            # Imported here: the SRV rules are needed only by clients that look up DNS.
            from . import srv

            query = srv.query_from_options(
                discovery_srv=discovery_srv,
                discovery_srv_name=discovery_srv_name,
                srv_domain=srv_domain,
                discovery_nameservers=discovery_nameservers,
                protocol=protocol,
                endpoints_given=endpoints is not None,
            )
        if query is not None:
            # Checked first: the lookup's deadline is the client's own per-call one.
            lookup_timeout = check.timeout(timeout)
            found = self._look_up_members(
                query, defaults.DEFAULT_TIMEOUT if lookup_timeout is None else lookup_timeout
            )
            endpoints = [endpoint.url for endpoint in found]
        self._config = _core.config.build_config(
            host=host,
            port=port,
            protocol=protocol,
            endpoints=endpoints,
            cert=cert,
            ca_cert=ca_cert,
            username=username,
            password=password,
            timeout=timeout,
            connect_timeout=connect_timeout,
            allow_redirect=allow_redirect,
            allow_reconnect=allow_reconnect,
            max_request_bytes=max_request_bytes,
            max_receive_bytes=max_receive_bytes,
            max_txn_ops=max_txn_ops,
            token=token,
            server_name=tls_server_name,
            insecure=insecure,
            coalesce=coalesce,
            interceptors=interceptors,
        )
        if not isinstance(retry_policy, RetryPolicy):
            raise check.EtcdTypeError("retry_policy must be an etcd.RetryPolicy")
        self._retry_policy = retry_policy
        self._auto_sync_interval = check.timeout(auto_sync_interval, "auto_sync_interval")
        if lock_prefix is not None and not isinstance(lock_prefix, str):
            raise check.EtcdTypeError("lock_prefix must be a str, such as '/_locks'")
        self._lock_prefix = lock_prefix
        self._start()

    def _start(self) -> None:
        """Set up the I/O side (without connecting yet)."""

    def _look_up_members(self, query: srv.SRVQuery, timeout: float) -> tuple[Endpoint, ...]:
        """The members ``query``'s domain publishes in DNS (the I/O side looks them up)."""
        raise NotImplementedError

    @classmethod
    def from_env(
        cls: type[_Self], environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> _Self:
        """A client configured from etcdctl's environment variables.

        Reads ``ETCDCTL_ENDPOINTS``, ``ETCDCTL_CACERT``, ``ETCDCTL_CERT``, ``ETCDCTL_KEY``,
        ``ETCDCTL_USER`` (``name`` or ``name:password``), ``ETCDCTL_PASSWORD``,
        ``ETCDCTL_DIAL_TIMEOUT``, ``ETCDCTL_COMMAND_TIMEOUT``, ``ETCDCTL_DISCOVERY_SRV`` and
        ``ETCDCTL_DISCOVERY_SRV_NAME`` (the members found in DNS win over
        ``ETCDCTL_ENDPOINTS``, as in etcdctl); keyword arguments win.
        """
        options = _core.environment.env_options(os.environ if environ is None else environ)
        options.update(overrides)
        return cls(**options)

    @property
    def lock_prefix(self) -> str | None:
        """What the names of this client's locks start with (python-etcd's option).

        ``None`` (the default): a lock's name is its key prefix as given, as with Go's
        ``concurrency.Mutex`` and ``etcdctl lock``. With ``lock_prefix="/_locks"``,
        ``client.lock("job")`` and ``etcd.Lock(client, "job")`` lock ``/_locks/job``.
        """
        return self._lock_prefix

    @property
    def config(self) -> ClientConfig:
        """The configuration this client was built with (read-only)."""
        return self._config

    def _call_timeout(self, timeout: float | check._Unset | None) -> float | None:
        if isinstance(timeout, check._Unset):
            return self._config.timeout
        return check.timeout(timeout)

    def _prepare(self, op: Op) -> Any:
        """The request for ``op``, refused here if the server would refuse it."""
        if type(op) is _core.kv.RangeOp:
            return op.to_request()  # the most common call, and nothing to check
        if not isinstance(op, _core.kv.Op):
            raise check.EtcdTypeError(
                f"expected an operation built with etcd.Op, not {type(op).__name__}"
            )
        config = self._config
        return op.to_checked_request(config.max_request_bytes, config.max_txn_ops)

    def _describe(self) -> str:
        urls = ",".join(e.url for e in self._endpoints_for_repr())
        user = f" user={self._config.username!r}" if self._config.username else ""
        return f"<{type(self).__name__} endpoints={urls}{user}>"

    def _endpoints_for_repr(self) -> tuple[Endpoint, ...]:
        return self._config.endpoints

    def __repr__(self) -> str:
        return self._describe()


# --- key in client ---------------------------------------------------------------------------


class _Contains(Protocol):
    def contains(self, key: str) -> bool: ...


class ContainsMixin:
    """python-etcd's ``key in client``, for the sync client."""

    def __contains__(self: _Contains, key: str) -> bool:
        return self.contains(key)


class AsyncContainsMixin:
    """``key in client`` on the asyncio client, where ``in`` cannot wait for an answer."""

    def __contains__(self, key: object) -> bool:
        raise exc.EtcdTypeError(
            "`key in client` cannot wait for etcd on an asyncio client: use "
            "`await client.contains(key)`"
        )
