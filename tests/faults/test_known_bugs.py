"""The recogniser of etcd's stale reads after a frozen leader resumes, on made-up
histories (no etcd needed)."""

from __future__ import annotations

import itertools

import pytest

from .history import READ, WRITE, History, Operation
from .linearizability import check_history
from .workload import (
    STALE_READS_AFTER_RESUME,
    ReadInfo,
    recognise_stale_reads_after_resume,
    stale_reads_after_resume_is_known,
)

OLD_LEADER = 7
OTHER = 8


def made_up(stale_by: int | None) -> tuple[list[Operation], dict[int, ReadInfo], float]:
    """``a`` then ``b`` written; a read after both returns ``b`` (by ``OTHER``), then a
    read by ``stale_by`` returns the overwritten ``a`` (none when ``stale_by`` is None).
    Returns the operations, who served each read, and when the old leader resumed."""
    ticks = itertools.count(1)
    history = History(clock=lambda: float(next(ticks)))
    reads: dict[int, ReadInfo] = {}
    with history.record(1, WRITE, "k", "a"):
        pass
    with history.record(1, WRITE, "k", "b"):
        pass
    resumed = float(next(ticks))  # 5: the old leader continues here
    with history.record(2, READ, "k") as fresh:
        fresh.output = "b"
    reads[fresh.op.index] = ReadInfo(OTHER, 3)
    if stale_by is not None:
        with history.record(3, READ, "k") as stale:
            stale.output = "a"
        reads[stale.op.index] = ReadInfo(stale_by, 2)
    return history.operations(), reads, resumed


def recognise(
    ops: list[Operation], reads: dict[int, ReadInfo], resumed: float, version: str = "3.5.1"
) -> object:
    return recognise_stale_reads_after_resume(
        ops, reads, member_id=OLD_LEADER, resumed=resumed, version=version
    )


@pytest.mark.parametrize(
    ("version", "known"),
    [
        ("3.5.0", True),
        ("3.5.1", True),
        ("v3.5.2", True),
        ("3.5.3", False),
        ("3.5.10", False),
        ("3.4.18", False),
        ("3.6.0", False),
        ("", False),
        ("not a version", False),
    ],
)
def test_the_versions_known_for_the_bug(version: str, known: bool) -> None:
    assert stale_reads_after_resume_is_known(version) is known


def test_a_stale_read_by_the_resumed_old_leader_is_recognised() -> None:
    ops, reads, resumed = made_up(stale_by=OLD_LEADER)
    assert check_history(ops).verdict == "illegal"
    bug = recognise_stale_reads_after_resume(
        ops, reads, member_id=OLD_LEADER, resumed=resumed, version="3.5.1"
    )
    assert bug is not None
    assert bug.name == STALE_READS_AFTER_RESUME
    assert bug.version == "3.5.1"
    assert [(op.kind, op.output) for op in bug.ops] == [(READ, "a")]
    assert "KNOWN SERVER BUG (etcd 3.5.1)" in bug.describe()


def test_without_the_stale_read_there_is_nothing_to_excuse() -> None:
    ops, reads, resumed = made_up(stale_by=None)
    assert check_history(ops).ok
    assert recognise(ops, reads, resumed) is None


def test_a_version_without_the_bug_excuses_nothing() -> None:
    ops, reads, resumed = made_up(stale_by=OLD_LEADER)
    assert recognise(ops, reads, resumed, version="3.5.3") is None
    assert recognise(ops, reads, resumed, version="3.6.0") is None


def test_a_stale_read_served_by_another_member_is_not_excused() -> None:
    ops, reads, resumed = made_up(stale_by=OTHER)
    assert check_history(ops).verdict == "illegal"
    assert recognise(ops, reads, resumed) is None


def test_a_stale_read_before_the_resume_is_not_excused() -> None:
    ops, reads, _ = made_up(stale_by=OLD_LEADER)
    assert recognise(ops, reads, resumed=ops[-1].returned + 1) is None


def test_a_violation_beyond_the_old_leader_reads_is_not_excused() -> None:
    ops, reads, resumed = made_up(stale_by=OLD_LEADER)
    # A lost write as well: the last read by another member sees nothing at all.
    ticks = itertools.count(100)
    history = History(clock=lambda: float(next(ticks)))
    with history.record(4, READ, "k") as lost:
        lost.output = None
    extra = history.operations()[0]
    extra.index = max(op.index for op in ops) + 1
    reads[extra.index] = ReadInfo(OTHER, 4)
    assert recognise([*ops, extra], reads, resumed) is None
