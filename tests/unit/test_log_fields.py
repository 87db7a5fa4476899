"""The structured fields of log records, and the ``--debug`` trace built from events."""

import logging

import pytest

from etcd._cli._debug import trace, wants_debug
from etcd._core.config import parse_endpoint
from etcd._core.exceptions import EtcdLeaseNotFound
from etcd._core.log_fields import FIELD_NAMES, log_fields
from etcd.events import (
    CoalescedBatch,
    Failover,
    LeaseLost,
    OperationEnded,
    OperationStarted,
    Reauthenticated,
    Retry,
)


def test_no_field_can_collide_with_a_log_record_attribute():
    record = logging.LogRecord("etcd", logging.INFO, "path", 1, "message", (), None)
    reserved = set(vars(record)) | {"message", "asctime"}
    assert FIELD_NAMES.isdisjoint(reserved)
    assert all(name.startswith("etcd_") for name in FIELD_NAMES)
    # logging itself accepts every one of them as extra=.
    logger = logging.getLogger("etcd.test")
    made = logger.makeRecord(
        "etcd.test", logging.INFO, "p", 1, "m", (), None, extra=dict.fromkeys(FIELD_NAMES, 1)
    )
    assert all(getattr(made, name) == 1 for name in FIELD_NAMES)


def test_every_field_given_is_named_and_the_others_left_out():
    everything = log_fields(
        operation="KV.Range",
        endpoint=parse_endpoint("http://127.0.0.1:2379"),
        next_endpoint="127.0.0.1:2479",
        endpoints=[parse_endpoint("127.0.0.1:2379")],
        attempt=2,
        failures=3,
        code="UNAVAILABLE",
        error=EtcdLeaseNotFound("gone"),
        delay=0.05,
        duration=0.01,
        outcome="ok",
        user="root",
        stream="watch stream",
        lease_id=7,
        watch_id=1,
        revision=12,
        prefix=b"/app/\xff",
        key="/app/k",
        service="api",
        count=4,
    )
    assert set(everything) == FIELD_NAMES
    assert everything["etcd_endpoint"] == "127.0.0.1:2379"
    assert everything["etcd_endpoints"] == ("127.0.0.1:2379",)
    assert everything["etcd_error_type"] == "EtcdLeaseNotFound"
    assert everything["etcd_prefix"] == "/app/\\xff"
    assert log_fields() == {}
    assert log_fields(attempt=0, endpoint=None) == {"etcd_attempt": 0}


@pytest.fixture
def trace_records(caplog):
    caplog.set_level(logging.DEBUG, logger="etcd.cli")
    return caplog


def test_the_trace_has_a_line_per_rpc_and_per_retry_fail_over_and_login(trace_records):
    trace(OperationStarted(1, "call", "KV.Range", key=b"/secret/key"))
    trace(Retry(1, "KV.Range", "127.0.0.1:1", 1, "UNAVAILABLE", "EtcdConnectionFailed", 0.025))
    trace(Failover("127.0.0.1:1", "127.0.0.1:2", "UNAVAILABLE"))
    trace(Reauthenticated("127.0.0.1:2"))
    trace(OperationEnded(1, "call", "KV.Range", 0.0123, None, "127.0.0.1:2", 2))
    trace(OperationEnded(2, "call", "KV.Put", 0.002, "EtcdPermissionDenied", "127.0.0.1:2"))
    trace(OperationEnded(3, "lock.acquire", "lock.acquire", 1.5))
    trace(LeaseLost(0x1F, "expired"))
    trace(CoalescedBatch("get", 3))
    assert [record.getMessage() for record in trace_records.records] == [
        "retry KV.Range endpoint=127.0.0.1:1 attempt=1 code=UNAVAILABLE "
        "error=EtcdConnectionFailed delay=25.0ms",
        "fail-over from=127.0.0.1:1 to=127.0.0.1:2 code=UNAVAILABLE",
        "login again endpoint=127.0.0.1:2 (the token was refused)",
        "rpc KV.Range endpoint=127.0.0.1:2 duration=12.3ms attempts=2 outcome=ok",
        "rpc KV.Put endpoint=127.0.0.1:2 duration=2.0ms outcome=EtcdPermissionDenied",
        "lock.acquire duration=1500.0ms outcome=ok",
        "lease lost lease_id=1f (expired)",
    ]
    ended = trace_records.records[3]
    assert (ended.etcd_operation, ended.etcd_endpoint, ended.etcd_outcome) == (
        "KV.Range",
        "127.0.0.1:2",
        "ok",
    )
    assert "secret" not in trace_records.text


def test_debug_is_recognised_before_the_options_are_parsed():
    assert wants_debug(["get", "k", "--debug"], {})
    assert wants_debug(["--debug=true", "get"], {})
    assert wants_debug(["get"], {"ETCDCTL_DEBUG": "1"})
    assert not wants_debug(["get", "--debug=false"], {})
    assert not wants_debug(["watch", "k", "--", "echo", "--debug"], {})
    assert not wants_debug(["get"], {"ETCDCTL_DEBUG": "false"})
