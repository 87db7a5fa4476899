"""What every part of the client may use of the client it is mixed into.

:class:`etcd.AsyncClient` is composed of one part per concern (KV, watches, leases, the
python-etcd layer, cluster, maintenance, auth, and the factories of locks, elections,
STM and namespaces), each a mixin in its own module. A part reaches the rest of the
client only through what :class:`AsyncClientPart` declares, or through the parts it is
built on, which it names as its bases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._core.config import ClientConfig
    from .._core.validation import Timeout
    from .io import Lock
    from .transport import AsyncTransport


class AsyncClientPart:
    """The base of each part of :class:`etcd.AsyncClient`."""

    __slots__ = ()

    if TYPE_CHECKING:
        _transport: AsyncTransport
        _config: ClientConfig
        # Guards the streams and services that parts make on first use.
        _made_on_first_use: Lock

        def _call_timeout(self, timeout: Timeout) -> float | None: ...
