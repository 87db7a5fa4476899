"""DNS SRV discovery without I/O: which names to ask for, and which endpoints, in which
order, the answers make.

etcd publishes its client URLs as SRV records of ``_etcd-client-ssl._tcp.<domain>``
(``https``) and ``_etcd-client._tcp.<domain>`` (``http``); with a service name ``X`` (etcd's
``--discovery-srv-name``) they are ``_etcd-client-ssl-X._tcp`` and ``_etcd-client-X._tcp``.
python-etcd asked for ``_etcd._tcp.<domain>`` and used its ``protocol`` for the scheme.
The lookups themselves are in :mod:`etcd._dns`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from . import exceptions as exc
from .config import Endpoint, unique

#: The service etcd's client URLs are published under.
CLIENT_SERVICE: Final = "etcd-client"
#: The service python-etcd 0.4.5 asked for (``srv_domain=``).
PYTHON_ETCD_SERVICE: Final = "etcd"
#: The port a name server listens on unless told otherwise.
DNS_PORT: Final = 53

_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_MAX_NAME_LENGTH: Final = 253


@dataclass(frozen=True, slots=True)
class SRVName:
    """One name to ask for SRV records, and whether the members it names speak TLS."""

    name: str
    secure: bool


@dataclass(frozen=True, slots=True)
class SRVRecord:
    """One SRV answer: a member's client port on ``target`` (without the trailing dot)."""

    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class SRVQuery:
    """What to look up: the domain, the service name, and the name servers to ask."""

    domain: str
    service_name: str = ""
    #: Also ask for python-etcd's ``_etcd._tcp`` when etcd's own names have no records.
    python_etcd_fallback: bool = False
    #: The scheme of the members python-etcd's name gives (its ``protocol``).
    python_etcd_secure: bool = False
    #: ``(address, port)`` of the name servers to ask; empty: the system's.
    nameservers: tuple[tuple[str, int], ...] = ()

    @property
    def secure_name(self) -> SRVName:
        return SRVName(srv_name(self.service_name, self.domain, secure=True), True)

    @property
    def plain_name(self) -> SRVName:
        return SRVName(srv_name(self.service_name, self.domain, secure=False), False)

    @property
    def python_etcd_name(self) -> SRVName:
        return SRVName(f"_{PYTHON_ETCD_SERVICE}._tcp.{self.domain}", self.python_etcd_secure)

    def names(self) -> tuple[SRVName, ...]:
        """Every name this query may ask for, in the order they are asked."""
        names = (self.secure_name, self.plain_name)
        return (*names, self.python_etcd_name) if self.python_etcd_fallback else names


@dataclass(frozen=True, slots=True)
class DiscoveredEndpoints:
    """The members the records name: those published for TLS and those without, each in
    the order to try them."""

    domain: str
    secure: tuple[Endpoint, ...]
    plain: tuple[Endpoint, ...]

    @property
    def chosen(self) -> tuple[Endpoint, ...]:
        """What a client connects to: the TLS members when there are any.

        A client uses one scheme for all its members, and a domain that publishes both
        must not be read as an invitation to drop TLS.
        """
        return self.secure or self.plain


def srv_name(service_name: str, domain: str, *, secure: bool) -> str:
    """``_etcd-client[-ssl][-<service_name>]._tcp.<domain>``, as etcd names its records."""
    label = f"{CLIENT_SERVICE}-ssl" if secure else CLIENT_SERVICE
    if service_name:
        label = f"{label}-{service_name}"
    return f"_{label}._tcp.{domain}"


# --- checking the options ---------------------------------------------------------------------


def domain_name(value: object, what: str) -> str:
    """A DNS domain, without its trailing dot."""
    if not isinstance(value, str):
        raise exc.EtcdTypeError(f"{what} must be a str (a DNS domain), not {type(value).__name__}")
    domain = value.strip().rstrip(".")
    if not domain:
        raise exc.EtcdValueError(f"{what} must name a DNS domain, such as 'example.com'")
    labels = domain.split(".")
    if len(domain) > _MAX_NAME_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise exc.EtcdValueError(f"{what}: {value!r} is not a DNS domain name")
    return domain


def service_name(value: object) -> str:
    """etcd's ``--discovery-srv-name``: one DNS label's worth of letters, digits and
    hyphens (``""``: none)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise exc.EtcdTypeError(f"discovery_srv_name must be a str, not {type(value).__name__}")
    if value and not _SERVICE_NAME.match(value):
        raise exc.EtcdValueError(
            f"discovery_srv_name {value!r} must be letters, digits and inner hyphens, "
            "as etcd's --discovery-srv-name"
        )
    return value


def nameserver(text: object) -> tuple[str, int]:
    """``"192.0.2.53"``, ``"192.0.2.53:5353"``, ``"2001:db8::53"`` or ``"[2001:db8::53]:5353"``
    as ``(address, port)``. Name servers are addresses: naming one would need DNS itself."""
    if not isinstance(text, str):
        raise exc.EtcdTypeError(f"a name server must be a str, not {type(text).__name__}")
    value = text.strip()
    address, port_text = value, ""
    if value.startswith("["):
        address, _, rest = value[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise exc.EtcdValueError(f"name server {text!r} is not an address[:port]")
        port_text = rest[1:]
    elif value.count(":") == 1:
        address, _, port_text = value.partition(":")
    import ipaddress  # only discovery with its own name servers needs it

    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise exc.EtcdValueError(
            f"name server {text!r} must be an IP address, with a port if not 53"
        ) from None
    if not port_text:
        return address, DNS_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise exc.EtcdValueError(f"name server {text!r}: port must be 1-65535")
    return address, int(port_text)


def nameservers(value: object) -> tuple[tuple[str, int], ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        raise exc.EtcdTypeError("discovery_nameservers must be a list of 'address[:port]'")
    parsed = tuple(nameserver(item) for item in items)
    if not parsed:
        raise exc.EtcdValueError("discovery_nameservers must name at least one server")
    return parsed


def query_from_options(
    *,
    discovery_srv: object,
    discovery_srv_name: object,
    srv_domain: object,
    discovery_nameservers: object,
    protocol: str,
    endpoints_given: bool,
) -> SRVQuery | None:
    """The lookup the constructor's options ask for, or ``None`` for none."""
    if discovery_srv is not None and srv_domain is not None:
        raise exc.EtcdValueError("give discovery_srv or python-etcd's srv_domain, not both")
    domain_option = "discovery_srv" if srv_domain is None else "srv_domain"
    domain_value = discovery_srv if srv_domain is None else srv_domain
    if domain_value is None:
        if discovery_srv_name is not None or discovery_nameservers is not None:
            raise exc.EtcdValueError(
                "discovery_srv_name and discovery_nameservers need discovery_srv (the domain)"
            )
        return None
    if endpoints_given:
        raise exc.EtcdValueError(f"give endpoints or {domain_option}, not both")
    return SRVQuery(
        domain=domain_name(domain_value, domain_option),
        service_name=service_name(discovery_srv_name),
        python_etcd_fallback=srv_domain is not None,
        python_etcd_secure=protocol == "https",
        nameservers=nameservers(discovery_nameservers),
    )


# --- reading the answers ------------------------------------------------------------------------


def order_records(
    records: Sequence[SRVRecord], rng: random.Random | None = None
) -> list[SRVRecord]:
    """The records in the order to try them, as RFC 2782 has clients choose.

    Lower priorities come first. Within one priority, each next record is drawn at random
    with a chance proportional to its weight, so that many clients spread over the members
    as the weights say (records of weight 0 come last, in random order). A target of
    ``"."`` means the service is not offered there and is dropped.
    """
    draw = rng if rng is not None else random.Random()
    usable = [record for record in records if record.target not in ("", ".")]
    ordered: list[SRVRecord] = []
    for priority in sorted({record.priority for record in usable}):
        group = [record for record in usable if record.priority == priority]
        weighted = [record for record in group if record.weight > 0]
        unweighted = [record for record in group if record.weight == 0]
        while weighted:
            point = draw.uniform(0, sum(record.weight for record in weighted))
            for index, record in enumerate(weighted):
                point -= record.weight
                if point <= 0 or index == len(weighted) - 1:
                    ordered.append(weighted.pop(index))
                    break
        draw.shuffle(unweighted)
        ordered.extend(unweighted)
    return ordered


def endpoints_of(
    records: Sequence[SRVRecord], secure: bool, rng: random.Random | None = None
) -> tuple[Endpoint, ...]:
    """The members the records name, in the order to try them, each once."""
    return unique(
        Endpoint(record.target, record.port, secure) for record in order_records(records, rng)
    )


def not_found(query: SRVQuery, asked: Iterable[SRVName]) -> exc.EtcdDiscoveryNotFound:
    names = ", ".join(name.name for name in asked)
    return exc.EtcdDiscoveryNotFound(
        f"DNS discovery for {query.domain!r}: no SRV records of an etcd member under {names}",
        operation=OPERATION,
    )


#: The ``operation`` of discovery's errors.
OPERATION: Final = "DNS SRV lookup"
