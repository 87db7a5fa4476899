"""The output formats of ``-w simple|json|fields|table``, byte for byte etcdctl's (pure).

One module per format (:mod:`.simple`, :mod:`.json`, :mod:`.fields`, :mod:`.table`), each
with its :class:`Printer`; :mod:`.base` holds the interface and the records that commands
pass in. :func:`printer` makes the printer of a format.
"""

from __future__ import annotations

from typing import Final

from .base import (
    Alarms,
    Health,
    NamedHash,
    NamedStatus,
    Names,
    Observed,
    Printer,
    SnapshotStatus,
    Unsupported,
    WatchBatch,
)
from .fields import FieldsPrinter
from .json import JsonPrinter
from .simple import SimplePrinter
from .table import TablePrinter

__all__ = [
    "FORMATS",
    "Alarms",
    "Health",
    "NamedHash",
    "NamedStatus",
    "Names",
    "Observed",
    "Printer",
    "SnapshotStatus",
    "Unsupported",
    "WatchBatch",
    "printer",
]

FORMATS: Final = ("simple", "json", "fields", "table")

_PRINTERS: Final[dict[str, type[Printer]]] = {
    "simple": SimplePrinter,
    "json": JsonPrinter,
    "fields": FieldsPrinter,
    "table": TablePrinter,
}


def printer(output_format: str, *, hex_output: bool = False, value_only: bool = False) -> Printer:
    """The printer of ``output_format`` (one of :data:`FORMATS`)."""
    try:
        cls = _PRINTERS[output_format]
    except KeyError:
        raise ValueError(f"unknown output format {output_format!r}") from None
    return cls(hex_output=hex_output, value_only=value_only)
