"""A client's ``retry_policy`` is the one applied: with endpoints that refuse connections
listed before a live member, how far a call gets depends on the policy's
``max_attempts`` and ``retry_mutations_when_not_sent``, and nothing else."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

import etcd
from etcd.testing import EtcdServer, free_port

from .workload import SendCounter

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def client(endpoints: list[str], policy: etcd.RetryPolicy | None = None) -> etcd.Client:
    if policy is None:  # the client's own default
        return etcd.Client(endpoints=endpoints, timeout=5, connect_timeout=0.5)
    return etcd.Client(endpoints=endpoints, timeout=5, connect_timeout=0.5, retry_policy=policy)


def outcome(call: Callable[[], object]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        call()
    except etcd.EtcdException as error:
        return f"{type(error).__name__} on {error.endpoint}", time.monotonic() - started
    return "ok", time.monotonic() - started


def test_a_custom_retry_policy_is_applied(etcd_server: EtcdServer) -> None:
    dead = [f"127.0.0.1:{free_port()}" for _ in range(2)]  # nothing listens: refused
    endpoints = [*dead, etcd_server.endpoint]
    key = f"retry/{uuid.uuid4().hex[:8]}"
    seen: dict[str, tuple[str, float]] = {}

    # The default policy fails over both dead endpoints and reads from the live one.
    with client(endpoints) as default:
        seen["default: range"] = outcome(lambda: default.range(key))
    assert seen["default: range"][0] == "ok"

    # One attempt: the read fails on the first dead endpoint, without failing over...
    with client(endpoints, etcd.RetryPolicy(max_attempts=1)) as single:
        with pytest.raises(etcd.EtcdConnectionFailed) as first:
            single.range(key)
        seen["max_attempts=1: range"] = outcome(lambda: single.range(key))
        seen["max_attempts=1: range, 3rd call"] = outcome(lambda: single.range(key))
    assert first.value.endpoint == dead[0]
    assert not first.value.outcome_unknown
    # ... but each failure moves the client on, so the next calls start further along.
    assert seen["max_attempts=1: range"][0] == f"EtcdConnectionFailed on {dead[1]}"
    assert seen["max_attempts=1: range, 3rd call"][0] == "ok"

    # Two attempts reach the second dead endpoint, three the live member.
    with client(endpoints, etcd.RetryPolicy(max_attempts=2)) as two:
        seen["max_attempts=2: range"] = outcome(lambda: two.range(key))
    assert seen["max_attempts=2: range"][0] == f"EtcdConnectionFailed on {dead[1]}"
    with client(endpoints, etcd.RetryPolicy(max_attempts=3)) as three:
        seen["max_attempts=3: range"] = outcome(lambda: three.range(key))
    assert seen["max_attempts=3: range"][0] == "ok"

    # A put that never left the client is retried by default (it cannot have landed)...
    with client(endpoints) as default:
        counter = SendCounter(default, ["KV.Put"])
        seen["default: put"] = outcome(lambda: default.put(key, "default"))
    assert seen["default: put"][0] == "ok"
    assert counter.sent("KV.Put") == 1
    # ... and not with retry_mutations_when_not_sent=False, while reads still are.
    strict_policy = etcd.RetryPolicy(retry_mutations_when_not_sent=False)
    with client(endpoints, strict_policy) as strict:
        counter = SendCounter(strict, ["KV.Put"])
        started = time.monotonic()
        with pytest.raises(etcd.EtcdConnectionFailed) as refused:
            strict.put(key, "strict")
        seen["retry_mutations_when_not_sent=False: put"] = (
            f"{type(refused.value).__name__} on {refused.value.endpoint}",
            time.monotonic() - started,
        )
        seen["retry_mutations_when_not_sent=False: range"] = outcome(lambda: strict.range(key))
    assert refused.value.endpoint == dead[0]
    assert not refused.value.outcome_unknown
    assert counter.sent("KV.Put") == 0
    assert seen["retry_mutations_when_not_sent=False: range"][0] == "ok"

    with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as direct:
        assert direct.range(key).kvs[0].value == b"default"
        direct.delete_range(key)
    print(
        f"\n[retry policy] endpoints: 2 refusing ({', '.join(dead)}), then the live member"
        + "".join(f"\n  {name}: {what} ({seconds:.3f}s)" for name, (what, seconds) in seen.items())
    )
