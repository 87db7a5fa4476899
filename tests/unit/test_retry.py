"""The retry policy (pure)."""

from __future__ import annotations

import random

from etcd import RetryPolicy

POLICY = RetryPolicy()
NOT_SENT = "failed to connect to all addresses; last error: UNAVAILABLE: Connection refused"


def test_reads_retry_on_unavailable():
    assert POLICY.should_retry("UNAVAILABLE", "Socket closed", mutation=False, attempt=1)
    assert POLICY.should_retry("UNAVAILABLE", "etcdserver: no leader", mutation=False, attempt=1)


def test_mutations_retry_only_when_never_sent():
    assert POLICY.should_retry("UNAVAILABLE", NOT_SENT, mutation=True, attempt=1)
    assert not POLICY.should_retry("UNAVAILABLE", "Socket closed", mutation=True, attempt=1)
    assert not POLICY.should_retry(
        "UNAVAILABLE", "etcdserver: leader changed", mutation=True, attempt=1
    )
    assert not POLICY.should_retry("DEADLINE_EXCEEDED", "", mutation=True, attempt=1)


def test_mutation_retry_can_be_switched_off():
    strict = RetryPolicy(retry_mutations_when_not_sent=False)
    assert not strict.should_retry("UNAVAILABLE", NOT_SENT, mutation=True, attempt=1)


def test_definite_errors_are_not_retried():
    for code, details in [
        ("INVALID_ARGUMENT", "etcdserver: request is too large"),
        ("OUT_OF_RANGE", "etcdserver: mvcc: required revision has been compacted"),
        ("DEADLINE_EXCEEDED", "Deadline Exceeded"),
    ]:
        assert not POLICY.should_retry(code, details, mutation=False, attempt=1)


def test_attempts_are_bounded():
    assert not POLICY.should_retry(
        "UNAVAILABLE", NOT_SENT, mutation=False, attempt=POLICY.max_attempts
    )


def test_backoff_grows_is_capped_and_jittered():
    rand = random.Random(7)
    delays = [POLICY.delay(n, rand) for n in range(1, 12)]
    assert 0.025 * 0.9 <= delays[0] <= 0.025 * 1.1
    assert delays[1] > delays[0]
    assert all(d <= POLICY.max_delay * 1.1 for d in delays)
    assert delays[-1] >= POLICY.max_delay * 0.9


def test_another_member_is_ready_unless_every_other_failed_recently():
    from etcd._core.retry import another_member_ready

    targets = ["a", "b", "c"]
    assert another_member_ready(targets, "a", {}, now=100.0)
    assert another_member_ready(targets, "a", {"a": 99.0, "b": 99.0}, now=100.0)
    assert another_member_ready(targets, "a", {"b": 99.0, "c": 90.0}, now=100.0)  # c: long ago
    assert not another_member_ready(targets, "a", {"b": 99.0, "c": 98.0}, now=100.0)
    assert not another_member_ready(["a"], "a", {}, now=100.0)


def test_the_next_endpoint_skips_members_that_failed_recently():
    from etcd._core.retry import next_endpoint

    targets = ["a", "b", "c"]
    assert next_endpoint(targets, 0, {}, now=100.0) == 1
    assert next_endpoint(targets, 0, {"b": 98.0}, now=100.0) == 2
    assert next_endpoint(targets, 0, {"b": 90.0}, now=100.0) == 1  # long ago: fine again
    # Everyone else failed recently: the oldest failure is the best bet.
    assert next_endpoint(targets, 0, {"b": 99.0, "c": 97.0}, now=100.0) == 2
    assert next_endpoint(["a"], 0, {}, now=1.0) == 0
