"""The recognisers of etcd's known bugs, on made-up histories (no etcd needed): stale
reads after a frozen leader resumes, and members whose histories diverged after a
crash."""

from __future__ import annotations

import itertools

import pytest

from .history import READ, WRITE, History, Operation
from .linearizability import check_history
from .workload import (
    DIVERGED_MEMBERS,
    STALE_READS_AFTER_RESUME,
    Ack,
    ReadInfo,
    WatchedEvent,
    known_buggy_release,
    recognise_diverged_members,
    recognise_stale_reads_after_resume,
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
def test_the_versions_known_for_the_bugs(version: str, known: bool) -> None:
    assert known_buggy_release(version) is known


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


# --- members whose histories diverged ---------------------------------------------------


def put(revision: int, value: str, key: str = "p/k") -> WatchedEvent:
    return WatchedEvent(revision, key, value, "PUT")


#: Member a's history; member b applied the write at revision 11 twice, so from there on
#: its revisions are one higher (what a restarted 3.5.1 member was seen to do).
AGREED = [put(10, "v1"), put(11, "v2")]
MEMBER_A = [*AGREED, put(12, "v3"), put(13, "v4")]
MEMBER_B = [*AGREED, put(12, "v2"), put(13, "v3"), put(14, "v4")]
DIVERGED = {"a": MEMBER_A, "b": MEMBER_B}
#: A watcher on member a until revision 12, then on member b (which it asked for what
#: came after 12).
WATCHED = [*MEMBER_A[:3], put(13, "v3"), put(14, "v4")]


def test_members_that_recorded_one_change_at_two_revisions_are_recognised() -> None:
    acks = [Ack(12, "p/k", "v3", 1), Ack(14, "p/k", "v4", 2)]
    bug = recognise_diverged_members(WATCHED, acks, DIVERGED, "3.5.1")
    assert bug is not None
    assert bug.name == DIVERGED_MEMBERS
    assert bug.ops == ()
    assert "p/k=v2 at revisions [11, 12]" in bug.describe()
    assert bug.describe().startswith("KNOWN SERVER BUG (etcd 3.5.1)")


def test_members_that_agree_excuse_nothing() -> None:
    agreed = {"a": MEMBER_A, "b": list(MEMBER_A)}
    watched = [put(10, "v1"), put(12, "v3"), put(13, "v4")]  # the client lost v2
    assert recognise_diverged_members(watched, [], agreed, "3.5.1") is None


def test_a_version_without_the_bug_excuses_nothing_even_when_members_diverge() -> None:
    assert recognise_diverged_members(WATCHED, [], DIVERGED, "3.5.3") is None
    assert recognise_diverged_members(WATCHED, [], DIVERGED, "3.4.23") is None


@pytest.mark.parametrize(
    "watched",
    [
        pytest.param([*WATCHED[:2], put(14, "v4")], id="a change missed"),
        pytest.param([*WATCHED[:4], put(15, "v4")], id="an event no member recorded"),
        pytest.param([*WATCHED[:3], put(14, "v4"), put(13, "v3")], id="revisions going back"),
        pytest.param([*WATCHED, put(14, "v4")], id="an event delivered twice"),
    ],
)
def test_a_watcher_that_did_not_relay_faithfully_is_not_excused(
    watched: list[WatchedEvent],
) -> None:
    assert recognise_diverged_members(watched, [], DIVERGED, "3.5.1") is None


def test_an_acknowledgement_no_member_recorded_is_not_excused() -> None:
    acks = [Ack(15, "p/k", "v4", 1)]
    assert recognise_diverged_members(WATCHED, acks, DIVERGED, "3.5.1") is None
