"""Client configuration: endpoints, TLS material, limits, channel options (pure, no network).

Everything a client needs to know before it connects is decided here, once, so that the
sync and asyncio clients share it and the hot path only reads precomputed values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from .._version import __version__
from . import validation as check
from .defaults import DEFAULT_CONNECT_TIMEOUT as DEFAULT_CONNECT_TIMEOUT
from .defaults import DEFAULT_HOST as DEFAULT_HOST
from .defaults import DEFAULT_MAX_RECEIVE_BYTES as DEFAULT_MAX_RECEIVE_BYTES
from .defaults import DEFAULT_PORT as DEFAULT_PORT
from .defaults import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from .exceptions import EtcdTypeError, EtcdValueError
from .log_fields import log_fields

if TYPE_CHECKING:
    from .tls import TLSMaterial

log = logging.getLogger("etcd.config")

#: The gRPC server inside etcd accepts the request limit plus this much framing.
_SEND_LIMIT_MARGIN: Final = 512 * 1024
#: HTTP/2 keepalive: etcd refuses pings more often than every 5 s by default.
DEFAULT_KEEPALIVE_TIME: Final = 10.0
DEFAULT_KEEPALIVE_TIMEOUT: Final = 5.0

USER_AGENT: Final = f"etcd-client-python/{__version__}"

#: ``coalesce=``: ``"reads"`` (the default) and ``"auto"`` coalesce only under load, reads
#: alone or reads and small writes; ``True`` whenever two requests of a kind are out.
CoalesceMode: TypeAlias = bool | Literal["auto", "reads"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One member's client address."""

    host: str
    port: int
    secure: bool = False
    #: The address as gRPC wants it (computed once: every call looks it up).
    target: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        host = f"[{self.host}]" if ":" in self.host else self.host
        object.__setattr__(self, "target", f"{host}:{self.port}")

    @property
    def url(self) -> str:
        """The address as etcd prints it (``http://127.0.0.1:2379``)."""
        return f"{'https' if self.secure else 'http'}://{self.target}"

    def __str__(self) -> str:
        return self.target


_URL = re.compile(r"^(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://)?(?P<rest>[^/?#]*)/?$")


def parse_endpoint(text: str, *, default_secure: bool = False) -> Endpoint:
    """``host:port``, ``http://host:port``, ``https://host:port``, ``[::1]:2379``, or a bare
    host (port 2379)."""
    if not isinstance(text, str):
        raise EtcdTypeError(f"endpoint must be a str, not {type(text).__name__}")
    match = _URL.match(text.strip())
    if not match or not match.group("rest"):
        raise EtcdValueError(f"endpoint {text!r} is not of the form [http[s]://]host[:port]")
    scheme = (match.group("scheme") or "").lower()
    if scheme not in ("", "http", "https", "unix", "unixs"):
        raise EtcdValueError(f"endpoint {text!r}: unknown scheme {scheme!r}")
    if scheme.startswith("unix"):
        raise EtcdValueError(f"endpoint {text!r}: unix sockets are not supported")
    secure = scheme == "https" if scheme else default_secure
    rest = match.group("rest")
    host, port = _split_host_port(rest, text)
    return Endpoint(host, port, secure)


def _split_host_port(rest: str, original: str) -> tuple[str, int]:
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise EtcdValueError(f"endpoint {original!r}: unclosed '['")
        host, tail = rest[1:close], rest[close + 1 :]
        port_text = tail[1:] if tail.startswith(":") else ""
        if tail and not tail.startswith(":"):
            raise EtcdValueError(f"endpoint {original!r}: unexpected {tail!r} after the host")
    elif rest.count(":") > 1:
        # "::1:2379" is both a valid address and an address plus a port: refuse to guess.
        raise EtcdValueError(
            f"endpoint {original!r}: write IPv6 addresses in brackets, e.g. [::1]:2379"
        )
    else:
        host, _, port_text = rest.partition(":")
    if not host:
        raise EtcdValueError(f"endpoint {original!r} has no host")
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise EtcdValueError(f"endpoint {original!r}: port must be 1-65535")
    return host, int(port_text)


def resolve_endpoints(
    host: object,
    port: object,
    protocol: str,
    endpoints: Sequence[str] | str | None,
) -> tuple[Endpoint, ...]:
    """The endpoints named by the constructor's arguments.

    ``endpoints`` wins; otherwise ``host``/``port`` as python-etcd took them: one host, or a
    tuple of ``(host, port)`` pairs.
    """
    if protocol not in ("http", "https"):
        raise EtcdValueError(f"protocol must be 'http' or 'https', got {protocol!r}")
    secure = protocol == "https"
    if endpoints is not None:
        items = [endpoints] if isinstance(endpoints, str) else list(endpoints)
        if not items:
            raise EtcdValueError("endpoints must name at least one member")
        parsed = tuple(parse_endpoint(item, default_secure=secure) for item in items)
    elif isinstance(host, tuple) and host and all(isinstance(h, tuple) for h in host):
        parsed = tuple(Endpoint(_host_text(h[0]), _port(h[1]), secure) for h in host if len(h) == 2)
        if len(parsed) != len(host):
            raise EtcdValueError("host as a tuple must hold (host, port) pairs")
    else:
        parsed = (Endpoint(_host_text(host), _port(port), secure),)
    kinds = {e.secure for e in parsed}
    if len(kinds) > 1:
        raise EtcdValueError("endpoints mix http and https; use one scheme for all")
    return unique(parsed)


def _host_text(host: object) -> str:
    if not isinstance(host, str) or not host:
        raise EtcdTypeError(f"host must be a non-empty str, not {host!r}")
    return host.strip("[]")


def _port(port: object) -> int:
    return check.integer(port, "port", minimum=1, maximum=65535)


# --- the whole configuration ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything a client decided at construction."""

    endpoints: tuple[Endpoint, ...]
    timeout: float | None = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    require_leader: bool = False
    allow_reconnect: bool = False
    tls: TLSMaterial | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    max_request_bytes: int = check.DEFAULT_MAX_REQUEST_BYTES
    max_receive_bytes: int = DEFAULT_MAX_RECEIVE_BYTES
    max_txn_ops: int = check.DEFAULT_MAX_TXN_OPS
    keepalive_time: float = DEFAULT_KEEPALIVE_TIME
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT
    coalesce: CoalesceMode = "reads"
    # gRPC client interceptors, applied to every channel; checked by the I/O layer, which
    # knows gRPC's interceptor classes.
    interceptors: tuple[Any, ...] = ()

    @property
    def secure(self) -> bool:
        return self.endpoints[0].secure

    def channel_options(self) -> list[tuple[str, Any]]:
        """gRPC channel arguments, each set on purpose."""
        options: list[tuple[str, Any]] = [
            # Large prefix reads must work: gRPC's 4 MiB receive default is far too low.
            ("grpc.max_receive_message_length", self.max_receive_bytes),
            ("grpc.max_send_message_length", self.max_request_bytes + _SEND_LIMIT_MARGIN),
            # Find dead members: ping every keepalive_time while calls or streams are open,
            # never on an idle connection (etcd answers that with GOAWAY too_many_pings).
            ("grpc.keepalive_time_ms", int(self.keepalive_time * 1000)),
            ("grpc.keepalive_timeout_ms", int(self.keepalive_timeout * 1000)),
            ("grpc.keepalive_permit_without_calls", 0),
            ("grpc.http2.max_pings_without_data", 0),
            # An idle watch sends no data; without this, gRPC spaces such pings 5 min apart
            # and a frozen member would hold the watch that long.
            ("grpc.http2.min_time_between_pings_ms", int(self.keepalive_time * 1000)),
            # Come back quickly once a member returns (gRPC's default backoff grows to 120 s).
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 2000),
            # Each client owns its connections: nothing shared across clients or processes.
            ("grpc.use_local_subchannel_pool", 1),
            ("grpc.primary_user_agent", USER_AGENT),
        ]
        if self.tls is not None and self.tls.server_name:
            options.append(("grpc.ssl_target_name_override", self.tls.server_name))
        return options


def build_config(
    *,
    host: object,
    port: object,
    protocol: str,
    endpoints: Sequence[str] | str | None,
    cert: object,
    ca_cert: object,
    username: str | None,
    password: str | None,
    timeout: object,
    connect_timeout: object,
    allow_redirect: object,
    allow_reconnect: object,
    max_request_bytes: object,
    max_receive_bytes: object,
    max_txn_ops: object,
    server_name: str | None = None,
    token: str | None = None,
    insecure: object = False,
    coalesce: object = "reads",
    interceptors: object = (),
) -> ClientConfig:
    """Check the constructor's arguments and decide the configuration."""
    resolved = resolve_endpoints(host, port, protocol, endpoints)
    secure = resolved[0].secure
    if token is not None and (not isinstance(token, str) or not token):
        raise EtcdTypeError("token must be a non-empty str")
    if token is not None and username is not None:
        raise EtcdValueError("give either a token or a username and password, not both")
    if server_name is not None and not secure:
        raise EtcdValueError("tls_server_name is for TLS: pass protocol='https'")
    check_credentials_transport(
        resolved, bool(username or token), check.boolean(insecure, "insecure")
    )
    if (cert is not None or ca_cert is not None) and not secure:
        raise EtcdValueError(
            "cert/ca_cert are for TLS: pass protocol='https' or https:// endpoints"
        )
    if username is not None and not isinstance(username, str):
        raise EtcdTypeError("username must be a str")
    if password is not None and not isinstance(password, str):
        raise EtcdTypeError("password must be a str")
    if password is not None and not username:
        raise EtcdValueError("password given without username")
    if username and password is None:
        raise EtcdValueError("username given without password")
    connect = check.timeout(connect_timeout, "connect_timeout")
    return ClientConfig(
        endpoints=resolved,
        timeout=check.timeout(timeout),
        connect_timeout=connect if connect is not None else DEFAULT_CONNECT_TIMEOUT,
        require_leader=not check.boolean(allow_redirect, "allow_redirect"),
        allow_reconnect=check.boolean(allow_reconnect, "allow_reconnect"),
        tls=_load_tls(cert, ca_cert, server_name) if secure else None,
        username=username,
        password=password,
        token=token,
        max_request_bytes=check.integer(max_request_bytes, "max_request_bytes", minimum=1),
        max_receive_bytes=check.integer(
            max_receive_bytes, "max_receive_bytes", minimum=1, maximum=2**31 - 1
        ),
        max_txn_ops=check.integer(max_txn_ops, "max_txn_ops", minimum=1),
        coalesce=coalesce_mode(coalesce),
        interceptors=interceptor_list(interceptors),
    )


def coalesce_mode(value: object) -> CoalesceMode:
    """``False``, ``True``, ``"auto"`` or ``"reads"`` (see :mod:`etcd._core.coalescing`)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("auto", "reads"):
        return "auto" if value == "auto" else "reads"
    raise EtcdTypeError(
        f"coalesce must be 'reads', 'auto', True or False, not {value!r}"
        if isinstance(value, str)
        else f"coalesce must be 'reads', 'auto', True or False, not {type(value).__name__}"
    )


def interceptor_list(interceptors: object) -> tuple[Any, ...]:
    """``interceptors=`` as a tuple (whether each is one of gRPC's kinds is for the I/O
    layer to say)."""
    if interceptors is None:
        return ()
    if isinstance(interceptors, (str, bytes)) or not isinstance(interceptors, Iterable):
        raise EtcdTypeError("interceptors must be a list of gRPC client interceptors")
    return tuple(interceptors)


_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    import ipaddress  # rarely needed; kept off the import of the package

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_credentials_transport(
    endpoints: Sequence[Endpoint], has_credentials: bool, insecure: bool
) -> None:
    """Refuse to send credentials in clear text across a network unless told to, loudly.

    Plain HTTP to this machine is fine; a password or token sent to another host without
    TLS can be read by anyone on the path.
    """
    if not has_credentials:
        return
    exposed = [e for e in endpoints if not e.secure and not is_loopback(e.host)]
    if not exposed:
        return
    if not insecure:
        raise EtcdValueError(
            f"credentials would travel unencrypted to {exposed[0]}: use https endpoints "
            "(protocol='https'), or pass insecure=True to accept that risk"
        )
    log.warning(
        "insecure=True: credentials are sent unencrypted to %s",
        ", ".join(str(e) for e in exposed),
        extra=log_fields(endpoints=exposed),
    )


def unique(items: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    """Endpoints in order, without repeats."""
    return tuple({item.target: item for item in items}.values())


def endpoint_or_none(url: str) -> Endpoint | None:
    try:
        return parse_endpoint(url)
    except (EtcdTypeError, EtcdValueError):
        log.debug("ignoring the unusable client URL %r of a member", url)
        return None


def _load_tls(cert: object, ca_cert: object, server_name: str | None) -> TLSMaterial:
    from .tls import load_tls  # a plain-text client never reads certificates

    return load_tls(cert=cert, ca_cert=ca_cert, server_name=server_name)
