"""``benchmarks/RESULTS.md`` holds the figures of several benchmarks: each writes its own
section, between two marker lines, and leaves the others' as they are."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, lines: list[str]) -> None:
    """Replace the section ``name`` of RESULTS.md with ``lines`` (added at the end the
    first time)."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    section = "\n".join([begin, *lines, end])
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1]
        text = before + section + after
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")
