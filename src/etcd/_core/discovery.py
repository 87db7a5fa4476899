"""Service discovery without I/O: the key and value of an endpoint, as Go's
``naming/endpoints`` package reads and writes them, and gRPC targets made of endpoints.

An endpoint of service ``S`` at address ``A`` is the key ``S/A``; its value is the JSON
object ``{"Op":0,"Addr":"A","Metadata":...}``, byte for byte what Go's ``encoding/json``
makes of the package's record (fields in that order, no spaces, ``<``, ``>`` and ``&``
escaped, map keys sorted, numbers in Go's notation). Reading follows Go's decoder: field
names match case-insensitively, unknown fields are ignored, and a value Go would refuse
is not an endpoint.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from . import exceptions as exc

__all__ = [
    "GRPC_ROUND_ROBIN",
    "EndpointEvent",
    "EndpointEventType",
    "ServiceEndpoint",
    "grpc_target",
]

#: Options for a grpcio channel that spreads its calls over every address of its target.
GRPC_ROUND_ROBIN: Final = (("grpc.lb_policy_name", "round_robin"),)

# Go's endpoints.Add: the only operation the package writes into a value.
_ADD: Final = 0
_UINT8_MAX: Final = 255


@dataclass(frozen=True)
class ServiceEndpoint:
    """One address of a service, with the metadata registered beside it (any JSON value:
    a ``dict`` for a JSON object, ``None`` when there is none)."""

    address: str
    metadata: Any = None


class EndpointEventType(enum.Enum):
    """Whether an endpoint appeared or went away."""

    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class EndpointEvent:
    """One change of a service's endpoints: ``endpoint`` under ``key`` was added or
    removed at ``revision``. A changed value is a removal of the old endpoint followed
    by the addition of the new one."""

    type: EndpointEventType
    key: str
    endpoint: ServiceEndpoint
    revision: int


@dataclass(frozen=True)
class InvalidEndpoint:
    """A value under a service's prefix that is not an endpoint, and why."""

    reason: str


# --- names -------------------------------------------------------------------------------


def service_name(service: object) -> str:
    if not isinstance(service, str):
        raise exc.EtcdTypeError(f"service must be a str, not {type(service).__name__}")
    if not service:
        raise exc.EtcdValueError("service must not be empty")
    return service


def endpoint_address(address: object) -> str:
    if not isinstance(address, str):
        raise exc.EtcdTypeError(f"address must be a str, not {type(address).__name__}")
    if not address:
        raise exc.EtcdValueError("address must not be empty")
    _go_text(address, "address")
    return address


def service_prefix(service: str) -> str:
    """Where a service's endpoints are: the service name and a slash, by the convention
    of Go's package (which refuses keys outside it)."""
    return f"{service}/"


def endpoint_key(service: str, address: str) -> str:
    return f"{service}/{address}"


# --- writing -----------------------------------------------------------------------------


def encode_endpoint(address: str, metadata: object = None) -> bytes:
    """The value Go's ``Manager.AddEndpoint`` writes for ``address`` and ``metadata``.

    Raises :class:`etcd.EtcdTypeError` (a type JSON cannot hold, a key that is not a str)
    or :class:`etcd.EtcdValueError` (a NaN, a cycle) naming where in ``metadata`` it is.
    """
    parts = ['{"Op":', str(_ADD), ',"Addr":', _go_string(address, "address"), ',"Metadata":']
    _encode(metadata, "metadata", parts, set())
    parts.append("}")
    return "".join(parts).encode("utf-8")


def _encode(value: object, where: str, parts: list[str], open_containers: set[int]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_go_float(value, where))
    elif isinstance(value, str):
        parts.append(_go_string(value, where))
    elif isinstance(value, (Mapping, list, tuple)):
        if id(value) in open_containers:
            raise exc.EtcdValueError(f"{where} contains itself: it cannot be written as JSON")
        open_containers.add(id(value))
        if isinstance(value, Mapping):
            _encode_object(value, where, parts, open_containers)
        else:
            parts.append("[")
            for index, item in enumerate(value):
                if index:
                    parts.append(",")
                _encode(item, f"{where}[{index}]", parts, open_containers)
            parts.append("]")
        open_containers.discard(id(value))
    else:
        raise exc.EtcdTypeError(
            f"{where} is a {type(value).__name__}, which JSON cannot hold (use dicts, lists, "
            "str, int, float, bool and None)"
        )


def _encode_object(
    value: Mapping[Any, Any], where: str, parts: list[str], open_containers: set[int]
) -> None:
    for key in value:
        if not isinstance(key, str):
            raise exc.EtcdTypeError(
                f"{where} has the key {key!r}: the keys of a JSON object must be str"
            )
    parts.append("{")
    # Go writes a map's keys sorted by their bytes: UTF-8 sorts as the code points do.
    for index, key in enumerate(sorted(value)):
        if index:
            parts.append(",")
        parts.append(_go_string(key, f"a key of {where}"))
        parts.append(":")
        _encode(value[key], f"{where}[{key!r}]", parts, open_containers)
    parts.append("}")


# What Go's encoder writes for characters it escapes, beyond the quote and the backslash:
# control characters, and the ones an HTML page or a JavaScript string could misread.
_GO_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_ESCAPES.update(
    {chr(code): f"\\u{code:04x}" for code in range(0x20) if chr(code) not in _GO_ESCAPES}
)
_ESCAPE_TABLE: Final = str.maketrans(_GO_ESCAPES)


def _go_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise exc.EtcdValueError(
            f"{where} is not valid Unicode (it holds a lone surrogate)"
        ) from None


def _go_string(text: str, where: str) -> str:
    _go_text(text, where)
    return f'"{text.translate(_ESCAPE_TABLE)}"'


def _go_float(number: float, where: str) -> str:
    if math.isnan(number) or math.isinf(number):
        raise exc.EtcdValueError(f"{where} is {number!r}, which JSON cannot hold")
    if number == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    # The shortest digits that read back as the same number (Python's repr and Go agree),
    # placed as Go places them: plainly from 1e-6 up to 1e21, else with an exponent.
    digits, exponent = _shortest_digits(abs(number))
    if 1e-6 <= abs(number) < 1e21:
        point = len(digits) + exponent
        if point <= 0:
            text = "0." + "0" * -point + digits
        elif point >= len(digits):
            text = digits + "0" * (point - len(digits))
        else:
            text = digits[:point] + "." + digits[point:]
    else:
        power = len(digits) - 1 + exponent
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
        if power < 0 and abs(power) < 10:
            text = f"{mantissa}e-{abs(power)}"
    return ("-" if number < 0 else "") + text


def _shortest_digits(number: float) -> tuple[str, int]:
    """``(digits, exponent)`` with ``number == int(digits) * 10**exponent``, the digits
    as few as read back as ``number``."""
    mantissa, _, power = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    digits = (whole + fraction).lstrip("0")
    exponent = (int(power) if power else 0) - len(fraction)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return stripped, exponent


# --- reading -----------------------------------------------------------------------------


def parse_endpoint(value: bytes) -> ServiceEndpoint | InvalidEndpoint:
    """What Go's package reads from a value: the endpoint, or why it is not one (Go's
    decoder would refuse it, or it names no address)."""
    text = value.decode("utf-8", errors="replace")
    try:
        document = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_refuse_constant)
    except ValueError as error:
        return InvalidEndpoint(f"not JSON ({error})")
    if document is None:
        return InvalidEndpoint("null, not an endpoint object")
    if not isinstance(document, _Pairs):
        return InvalidEndpoint(f"a JSON {_json_kind(document)}, not an endpoint object")
    address: object = ""
    metadata: object = None
    operation: object = _ADD
    for name, field in document:
        # Go matches a field name regardless of case; a later duplicate wins.
        folded = name.casefold()
        if folded == "addr":
            address = "" if field is None else field
        elif folded == "metadata":
            metadata = field
        elif folded == "op":
            operation = _ADD if field is None else field
    if not isinstance(address, str):
        return InvalidEndpoint(f"Addr is a JSON {_json_kind(address)}, not a string")
    if not _is_uint8(operation):
        return InvalidEndpoint(f"Op is {json.dumps(_plain(operation))}, not an operation number")
    if not address:
        return InvalidEndpoint("no address (Addr is missing or empty)")
    return ServiceEndpoint(address, _plain(metadata))


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as read: its fields in order, duplicates kept (Go's decoder sets
    each field in turn, so the last of two wins)."""


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _is_uint8(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value == int(value) and 0 <= value <= _UINT8_MAX


def _plain(value: object) -> Any:
    """A decoded value with its objects as dicts."""
    if isinstance(value, _Pairs):
        return {key: _plain(item) for key, item in value}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, _Pairs):
        return "object"
    return "array"


def endpoint_events(
    key: str,
    old: ServiceEndpoint | InvalidEndpoint | None,
    new: ServiceEndpoint | InvalidEndpoint | None,
    revision: int,
) -> list[EndpointEvent]:
    """What a change of ``key`` from ``old`` to ``new`` (``None``: no key) means for the
    service's endpoints."""
    before = old if isinstance(old, ServiceEndpoint) else None
    after = new if isinstance(new, ServiceEndpoint) else None
    if before == after:
        return []
    events = []
    if before is not None:
        events.append(EndpointEvent(EndpointEventType.REMOVED, key, before, revision))
    if after is not None:
        events.append(EndpointEvent(EndpointEventType.ADDED, key, after, revision))
    return events


# --- gRPC --------------------------------------------------------------------------------


def grpc_target(endpoints: Iterable[ServiceEndpoint | str]) -> str:
    """A grpcio channel target holding every address: ``ipv4:10.0.0.1:50051,10.0.0.2:50051``
    or ``ipv6:[fd00::1]:50051,[fd00::2]:50051``.

    Each address must be an IP address and a port (``[...]`` around an IPv6 address), all
    of one family: grpcio's multi-address targets take nothing else. A host name, a
    missing port, an IPv6 zone or a mix of IPv4 and IPv6 raises
    :class:`etcd.EtcdValueError`, as does an empty list. Repeated addresses appear once.
    Give the channel :data:`etcd.GRPC_ROUND_ROBIN` as its options to spread calls over
    all of them (grpcio's default uses the first that answers).
    """
    addresses: list[str] = []
    families: set[int] = set()
    for item in endpoints:
        address = item.address if isinstance(item, ServiceEndpoint) else item
        if not isinstance(address, str):
            raise exc.EtcdTypeError(
                f"an endpoint is a ServiceEndpoint or an address str, not {type(item).__name__}"
            )
        family, normalised = _ip_and_port(address)
        families.add(family)
        if normalised not in addresses:
            addresses.append(normalised)
    if not addresses:
        raise exc.EtcdValueError("no endpoints: a gRPC target needs at least one address")
    if len(families) > 1:
        raise exc.EtcdValueError(
            "the endpoints mix IPv4 and IPv6 addresses: a grpcio target holds one family only"
        )
    return f"ipv{families.pop()}:{','.join(addresses)}"


def _ip_and_port(address: str) -> tuple[int, str]:
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit() or not 0 < int(port) <= 65535:
        raise exc.EtcdValueError(
            f"endpoint address {address!r} has no port: a gRPC target needs host:port"
        )
    bracketed = host.startswith("[") and host.endswith("]")
    literal = host[1:-1] if bracketed else host
    try:
        ip = ipaddress.ip_address(literal)
    except ValueError:
        raise exc.EtcdValueError(
            f"endpoint address {address!r} is not an IP address and a port: grpcio's "
            "multi-address targets take IP addresses only (resolve host names first, or "
            "connect to one name with a 'dns:' target)"
        ) from None
    if ip.version == 6:
        if not bracketed:
            raise exc.EtcdValueError(
                f"endpoint address {address!r}: an IPv6 address with a port is written "
                "[address]:port"
            )
        if "%" in literal:
            raise exc.EtcdValueError(
                f"endpoint address {address!r} has an IPv6 zone, which grpcio targets cannot hold"
            )
        return 6, f"[{ip}]:{int(port)}"
    if bracketed:
        raise exc.EtcdValueError(f"endpoint address {address!r}: brackets are for IPv6 addresses")
    return 4, f"{ip}:{int(port)}"
