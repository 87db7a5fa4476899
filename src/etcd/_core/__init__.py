"""The I/O-free core: configuration, validation, operations, typed results and the pure
halves of every concern. Imports neither :mod:`etcd._async` nor :mod:`etcd._sync`.

The modules in :data:`_ON_FIRST_USE` are not needed to make or import a client, only by
some of its calls: code that reaches them as ``_core.<module>.<name>`` imports them the
first time that line runs, and from then on the lookup is a plain attribute.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import classic as classic
    from . import classic_writes as classic_writes
    from . import compare as compare
    from . import config as config
    from . import environment as environment
    from . import events as events
    from . import kv as kv
    from . import responses as responses

_ON_FIRST_USE = frozenset(
    {"classic", "classic_writes", "compare", "config", "environment", "events", "kv", "responses"}
)


def __getattr__(name: str) -> Any:
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # Importing a submodule also sets it as this package's attribute.
    return importlib.import_module(f"{__name__}.{name}")
