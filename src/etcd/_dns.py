"""DNS SRV lookups of a cluster's members, with dnspython (the ``dns`` extra).

Both clients and the command line look up here, once, when they are made: a client's
constructor cannot wait for a coroutine, so the lookup is a plain blocking call with a
deadline. Which names to ask and what the answers mean is decided in
:mod:`etcd._core.srv`; dnspython is imported only when a lookup is made.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

from ._core import exceptions as exc
from ._core import srv
from ._core.deadline import deadline_after, time_left
from ._core.log_fields import log_fields

if TYPE_CHECKING:
    import dns.resolver

log = logging.getLogger("etcd.discovery")

#: What ``pip install`` adds the lookups with.
EXTRA_HINT = "pip install 'etcd-client[dns]'"


def _dnspython() -> Any:
    try:
        import dns.exception
        import dns.nameserver
        import dns.resolver
    except ImportError as error:
        raise exc.EtcdNotSupported(
            f"DNS discovery needs the dnspython package: {EXTRA_HINT}"
        ) from error
    return dns


def look_up(
    query: srv.SRVQuery, timeout: float, rng: random.Random | None = None
) -> srv.DiscoveredEndpoints:
    """The members ``query``'s domain publishes, all lookups within ``timeout`` seconds.

    Raises :class:`etcd.EtcdDiscoveryNotFound` when no name has records,
    :class:`etcd.EtcdDiscoveryTimedOut` when the deadline passes, and
    :class:`etcd.EtcdDiscoveryFailed` for any other failure of DNS (such as a server
    failure): a failed lookup of the TLS records must not leave the plain ones to be used.
    """
    dnspython = _dnspython()
    resolver = _resolver(dnspython, query)
    deadline = deadline_after(timeout)
    asked = [query.secure_name, query.plain_name]
    secure = _records(dnspython, resolver, query, query.secure_name, deadline)
    plain = _records(dnspython, resolver, query, query.plain_name, deadline)
    if not secure and not plain and query.python_etcd_fallback:
        asked.append(query.python_etcd_name)
        found = _records(dnspython, resolver, query, query.python_etcd_name, deadline)
        secure, plain = (found, []) if query.python_etcd_secure else ([], found)
    result = srv.DiscoveredEndpoints(
        query.domain, srv.endpoints_of(secure, True, rng), srv.endpoints_of(plain, False, rng)
    )
    if not result.chosen:
        raise srv.not_found(query, asked)
    log.info(
        "DNS discovery for %s found %s",
        query.domain,
        ", ".join(endpoint.url for endpoint in (*result.secure, *result.plain)),
        extra=log_fields(operation=srv.OPERATION, endpoints=result.chosen),
    )
    return result


def _resolver(dnspython: Any, query: srv.SRVQuery) -> dns.resolver.Resolver:
    if not query.nameservers:
        # dnspython's default resolver: the system's configuration, or whatever the
        # program set as dnspython's default (as python-etcd's lookups used it).
        try:
            return dnspython.resolver.get_default_resolver()  # type: ignore[no-any-return]
        except dnspython.exception.DNSException as error:
            raise exc.EtcdDiscoveryFailed(
                f"DNS discovery for {query.domain!r}: no name server configured "
                f"({type(error).__name__}); pass discovery_nameservers",
                operation=srv.OPERATION,
            ) from error
    resolver = dnspython.resolver.Resolver(configure=False)
    resolver.nameservers = [
        dnspython.nameserver.Do53Nameserver(address, port) for address, port in query.nameservers
    ]
    return resolver  # type: ignore[no-any-return]


def _records(
    dnspython: Any,
    resolver: dns.resolver.Resolver,
    query: srv.SRVQuery,
    name: srv.SRVName,
    deadline: float | None,
) -> list[srv.SRVRecord]:
    left = time_left(deadline)
    prefix = f"DNS discovery for {query.domain!r}: {name.name}"
    if left == 0:
        raise exc.EtcdDiscoveryTimedOut(f"{prefix} had no answer in time", operation=srv.OPERATION)
    try:
        answer = resolver.resolve(
            name.name, "SRV", lifetime=left, search=False, raise_on_no_answer=False
        )
    except dnspython.resolver.NXDOMAIN:
        return []
    except dnspython.exception.Timeout as error:
        raise exc.EtcdDiscoveryTimedOut(
            f"{prefix} had no answer in time", operation=srv.OPERATION
        ) from error
    except dnspython.exception.DNSException as error:
        raise exc.EtcdDiscoveryFailed(
            f"{prefix} failed: {error}", operation=srv.OPERATION
        ) from error
    return [
        srv.SRVRecord(
            record.priority,
            record.weight,
            record.port,
            record.target.to_text(omit_final_dot=True),
        )
        for record in answer
    ]
