"""``-w table``: boxes, byte for byte as etcdctl draws them (pure, no I/O).

Only the tabular answers have a table: members, endpoints and snapshot status.

etcdctl draws its tables with github.com/olekukonko/tablewriter's defaults: a border of
``+``, ``-`` and ``|``, one space of padding, headers centred, cells aligned right, and
cells wider than 30 columns wrapped at spaces so that the lines are as even as possible
(minimum raggedness). :func:`render` lays out tables the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..._core.cluster import MemberListResponse
from .._gofmt import display_width
from .base import (
    Health,
    NamedHash,
    NamedStatus,
    Printer,
    SnapshotStatus,
    hash_rows,
    health_rows,
    member_rows,
    reports_hash_revisions,
    reports_newer_status,
    snapshot_row,
    status_rows,
)

#: Cells wider than this are wrapped at spaces.
MAX_CELL_WIDTH: Final = 30
#: The cost of a line that still overflows (a single word wider than the limit).
_OVERFLOW_PENALTY: Final = 100_000


def _even_lines(words: list[str], limit: int) -> list[list[str]]:
    """Split ``words`` into lines of at most ``limit`` columns, minimising the sum of the
    squared slack of every line but the last (which costs nothing)."""
    count = len(words)
    widths = [display_width(word) for word in words]

    def span(first: int, last: int) -> int:
        """Width of words[first..last] joined by single spaces."""
        return sum(widths[first : last + 1]) + (last - first)

    best_cost = [0] * (count + 1)
    break_after = [count] * (count + 1)
    for first in range(count - 1, -1, -1):
        if span(first, count - 1) <= limit:
            best_cost[first] = 0
            break_after[first] = count
            continue
        best_cost[first] = 2**31 - 1
        for nxt in range(first + 1, count):
            width = span(first, nxt - 1)
            slack = limit - width
            cost = slack * slack + best_cost[nxt]
            if width > limit:
                cost += _OVERFLOW_PENALTY
            if cost < best_cost[first]:
                best_cost[first] = cost
                break_after[first] = nxt
    lines = []
    start = 0
    while start < count:
        lines.append(words[start : break_after[start]])
        start = break_after[start]
    return lines


def wrap_cell(text: str, limit: int) -> list[str]:
    """The lines of a paragraph wrapped at ``limit`` columns (words never split)."""
    words = text.replace("\n", " ").split(" ")
    limit = max([limit, *(display_width(word) for word in words)])
    return [" ".join(line) for line in _even_lines(words, limit)]


def _cell_lines(text: str) -> tuple[list[str], int]:
    """The lines a cell is drawn on, and the column width it needs."""
    lines = text.split("\n")
    width = max(display_width(line) for line in lines)
    width = min(width, MAX_CELL_WIDTH)
    needed = width
    wrapped = wrap_cell(" ".join(lines), width)
    for line in wrapped:
        needed = max(needed, display_width(line))
    return wrapped, needed


def _pad_centre(text: str, width: int) -> str:
    gap = width - display_width(text)
    if gap <= 0:
        return text
    left = gap // 2
    return " " * left + text + " " * (gap - left)


def _pad_left(text: str, width: int) -> str:
    gap = width - display_width(text)
    return " " * gap + text if gap > 0 else text


def render(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The table, with a trailing newline, as etcdctl prints it."""
    widths = [0] * len(header)
    header_cells = []
    for column, title in enumerate(header):
        lines, width = _cell_lines(title)
        header_cells.append(lines)
        widths[column] = max(widths[column], width)
    body = []
    for row in rows:
        cells = []
        for column, text in enumerate(row):
            lines, width = _cell_lines(text)
            cells.append(lines)
            widths[column] = max(widths[column], width)
        body.append(cells)

    border = "+" + "+".join("-" * (width + 2) for width in widths) + "+\n"

    def draw(cells: list[list[str]], centre: bool) -> str:
        height = max(len(lines) for lines in cells)
        text = ""
        for index in range(height):
            parts = []
            for column, lines in enumerate(cells):
                line = lines[index] if index < len(lines) else ""
                padded = (
                    _pad_centre(line, widths[column]) if centre else _pad_left(line, widths[column])
                )
                parts.append(" " + padded + " ")
            text += "|" + "|".join(parts) + "|\n"
        return text

    out = border + draw(header_cells, True) + border
    for cells in body:
        out += draw(cells, False)
    return out + border


# --- the printer ----------------------------------------------------------------------------

_MEMBER_HEADER: Final = ["ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"]
_HEALTH_HEADER: Final = ["ENDPOINT", "HEALTH", "TOOK", "ERROR"]
_STATUS_HEADER: Final = [
    "ENDPOINT",
    "ID",
    "VERSION",
    "DB SIZE",
    "IS LEADER",
    "IS LEARNER",
    "RAFT TERM",
    "RAFT INDEX",
    "RAFT APPLIED INDEX",
    "ERRORS",
]
# What etcdctl 3.6 prints, for members that report what 3.6 added.
_NEWER_STATUS_HEADER: Final = [
    "ENDPOINT",
    "ID",
    "VERSION",
    "STORAGE VERSION",
    "DB SIZE",
    "IN USE",
    "PERCENTAGE NOT IN USE",
    "QUOTA",
    "IS LEADER",
    "IS LEARNER",
    "RAFT TERM",
    "RAFT INDEX",
    "RAFT APPLIED INDEX",
    "ERRORS",
    "DOWNGRADE TARGET VERSION",
    "DOWNGRADE ENABLED",
]
_HASH_HEADER: Final = ["ENDPOINT", "HASH"]
_NEWER_HASH_HEADER: Final = ["ENDPOINT", "HASH", "HASH_REVISION"]
_SNAPSHOT_HEADER: Final = ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"]


class TablePrinter(Printer):
    name = "table"

    def member_list(self, response: MemberListResponse) -> bytes:
        return render(_MEMBER_HEADER, member_rows(response.members)).encode()

    def endpoint_health(self, healths: Sequence[Health]) -> bytes:
        return render(_HEALTH_HEADER, health_rows(healths)).encode()

    def endpoint_status(self, statuses: Sequence[NamedStatus]) -> bytes:
        header = _NEWER_STATUS_HEADER if reports_newer_status(statuses) else _STATUS_HEADER
        return render(header, status_rows(statuses)).encode()

    def endpoint_hashkv(self, hashes: Sequence[NamedHash]) -> bytes:
        header = _NEWER_HASH_HEADER if reports_hash_revisions(hashes) else _HASH_HEADER
        return render(header, hash_rows(hashes)).encode()

    def snapshot_status(self, status: SnapshotStatus) -> bytes:
        return render(_SNAPSHOT_HEADER, [snapshot_row(status)]).encode()
