"""Deadlines (pure): a timeout becomes an instant once, and what is left of it never goes
below zero."""

from __future__ import annotations

import time

import pytest

from etcd._core.deadline import deadline_after, deadline_passed, time_left


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return now


def test_no_timeout_is_no_deadline():
    assert deadline_after(None) is None
    assert time_left(None) is None
    assert not deadline_passed(None)


def test_a_deadline_counts_down_to_zero_and_stays_there(clock):
    deadline = deadline_after(2.5)
    assert deadline == 102.5
    assert time_left(deadline) == 2.5
    assert not deadline_passed(deadline)
    clock[0] = 102.0
    assert time_left(deadline) == 0.5
    clock[0] = 102.5
    assert time_left(deadline) == 0.0
    assert deadline_passed(deadline)
    clock[0] = 200.0
    assert time_left(deadline) == 0.0
    assert deadline_passed(deadline)


def test_a_zero_timeout_has_passed_at_once(clock):
    deadline = deadline_after(0)
    assert deadline_passed(deadline)
    assert time_left(deadline) == 0.0


def test_nothing_left_exactly_when_the_deadline_passed():
    for timeout in (0.0, 1e-9, 0.01):
        deadline = deadline_after(timeout)
        left = time_left(deadline)
        assert left is not None and left >= 0.0
        time.sleep(0.02)
        assert time_left(deadline) == 0.0 and deadline_passed(deadline)
