"""The error catalogue: server answers to exception classes (pure)."""

from __future__ import annotations

import pickle

import pytest

import etcd
from etcd._core.error_mapping import classify, map_rpc_error, request_never_sent

from ..differential.python_etcd_names import PYTHON_ETCD_EXCEPTIONS


@pytest.mark.parametrize(
    ("code", "details", "expected"),
    [
        (
            "OUT_OF_RANGE",
            "etcdserver: mvcc: required revision has been compacted",
            etcd.EtcdCompacted,
        ),
        (
            "OUT_OF_RANGE",
            "etcdserver: mvcc: required revision is a future revision",
            etcd.EtcdFutureRevision,
        ),
        ("RESOURCE_EXHAUSTED", "etcdserver: mvcc: database space exceeded", etcd.EtcdNoSpace),
        ("RESOURCE_EXHAUSTED", "etcdserver: too many requests", etcd.EtcdTooManyRequests),
        ("INVALID_ARGUMENT", "etcdserver: request is too large", etcd.EtcdRequestTooLarge),
        ("INVALID_ARGUMENT", "etcdserver: too many operations in txn request", etcd.EtcdTooManyOps),
        (
            "INVALID_ARGUMENT",
            "etcdserver: duplicate key given in txn request",
            etcd.EtcdDuplicateKey,
        ),
        ("NOT_FOUND", "etcdserver: requested lease not found", etcd.EtcdLeaseNotFound),
        ("PERMISSION_DENIED", "etcdserver: permission denied", etcd.EtcdPermissionDenied),
        ("UNAUTHENTICATED", "etcdserver: invalid auth token", etcd.EtcdInvalidAuthToken),
        ("INVALID_ARGUMENT", "etcdserver: revision of auth store is old", etcd.EtcdAuthRevisionOld),
        (
            "INVALID_ARGUMENT",
            "etcdserver: authentication failed, invalid user ID or password",
            etcd.EtcdAuthFailed,
        ),
        ("UNAVAILABLE", "etcdserver: no leader", etcd.EtcdNoLeader),
        ("UNAVAILABLE", "etcdserver: leader changed", etcd.EtcdLeaderChanged),
        ("UNAVAILABLE", "etcdserver: request timed out", etcd.EtcdRequestTimedOut),
        (
            "UNAVAILABLE",
            "etcdserver: request timed out, possibly due to previous leader failure",
            etcd.EtcdRequestTimedOut,
        ),
        (
            "UNAVAILABLE",
            "failed to connect to all addresses; last error: UNKNOWN: refused",
            etcd.EtcdConnectionFailed,
        ),
        ("UNAVAILABLE", "Socket closed", etcd.EtcdUnavailable),
        ("DEADLINE_EXCEEDED", "Deadline Exceeded", etcd.EtcdTimeout),
        (
            "RESOURCE_EXHAUSTED",
            "Received message larger than max (9 vs. 4)",
            etcd.EtcdResponseTooLarge,
        ),
        ("RESOURCE_EXHAUSTED", "Sent message larger than max (9 vs. 4)", etcd.EtcdRequestTooLarge),
        ("FAILED_PRECONDITION", "etcdserver: something new", etcd.EtcdPreconditionFailed),
        ("INTERNAL", "boom", etcd.EtcdServerError),
        ("UNKNOWN", "", etcd.EtcdServerError),
    ],
)
def test_classify(code, details, expected):
    assert classify(code, details) is expected


def test_message_names_operation_endpoint_and_reason():
    error = map_rpc_error(
        "UNAVAILABLE",
        "etcdserver: no leader",
        operation="KV.Put",
        endpoint="127.0.0.1:2379",
        mutation=True,
    )
    assert str(error) == "KV.Put on 127.0.0.1:2379 failed: etcdserver: no leader"
    assert error.operation == "KV.Put"
    assert error.endpoint == "127.0.0.1:2379"
    assert error.code == "UNAVAILABLE"
    assert not error.outcome_unknown


@pytest.mark.parametrize(
    ("code", "details", "mutation", "unknown"),
    [
        ("DEADLINE_EXCEEDED", "Deadline Exceeded", True, True),
        ("DEADLINE_EXCEEDED", "Deadline Exceeded", False, False),
        ("UNAVAILABLE", "etcdserver: leader changed", True, True),
        ("UNAVAILABLE", "etcdserver: request timed out", True, True),
        ("UNAVAILABLE", "Connection reset by peer", True, True),
        ("UNAVAILABLE", "failed to connect to all addresses", True, False),
        ("UNAVAILABLE", "etcdserver: no leader", True, False),
        ("INVALID_ARGUMENT", "etcdserver: request is too large", True, False),
        # etcd applies the write that crosses the quota, then answers it with NOSPACE.
        ("RESOURCE_EXHAUSTED", "etcdserver: mvcc: database space exceeded", True, True),
        ("RESOURCE_EXHAUSTED", "etcdserver: mvcc: database space exceeded", False, False),
    ],
)
def test_outcome_unknown_only_when_a_mutation_may_have_applied(code, details, mutation, unknown):
    error = map_rpc_error(code, details, operation="KV.Put", endpoint="e", mutation=mutation)
    assert error.outcome_unknown is unknown
    assert ("may or may not have been applied" in str(error)) is unknown


def test_never_sent_detection():
    assert request_never_sent("UNAVAILABLE", "failed to connect to all addresses; last error: x")
    assert not request_never_sent("UNAVAILABLE", "Socket closed")
    assert not request_never_sent("DEADLINE_EXCEEDED", "failed to connect to all addresses")


def test_builtin_bases_for_python_etcd_and_plain_python_code():
    assert issubclass(etcd.EtcdKeyNotFound, KeyError)
    assert issubclass(etcd.EtcdKeyNotFound, etcd.EtcdException)
    assert issubclass(etcd.EtcdCompareFailed, ValueError)
    assert issubclass(etcd.EtcdTimeout, TimeoutError)
    assert issubclass(etcd.EtcdTimeout, etcd.EtcdConnectionFailed)
    assert issubclass(etcd.EtcdWatchTimedOut, etcd.EtcdConnectionFailed)
    assert issubclass(etcd.EtcdConnectionFailed, ConnectionError)
    assert issubclass(etcd.EtcdPermissionDenied, PermissionError)
    assert issubclass(etcd.EtcdTypeError, TypeError)


def test_key_error_message_is_not_quoted():
    assert str(etcd.EtcdKeyNotFound("Key not found : /a")) == "Key not found : /a"


def test_exceptions_pickle_with_their_context():
    error = etcd.EtcdNoLeader("x failed", operation="KV.Put", endpoint="e", code="UNAVAILABLE")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is etcd.EtcdNoLeader
    assert (copy.message, copy.operation, copy.endpoint, copy.code) == (
        "x failed",
        "KV.Put",
        "e",
        "UNAVAILABLE",
    )


def test_exceptions_and_all_keys_pickled_by_the_previous_layout_still_load():
    # Written by the release whose modules were etcd._exceptions and etcd._kv.
    error = pickle.loads(
        b"\x80\x02cetcd._exceptions\n_rebuild\nq\x00(cetcd\nEtcdKeyNotFound\nq\x01X\x12\x00"
        b"\x00\x00Key not found : /aq\x02X\x08\x00\x00\x00KV.Rangeq\x03X\x0e\x00\x00\x00"
        b"127.0.0.1:2379q\x04NN\x89tq\x05Rq\x06."
    )
    assert type(error) is etcd.EtcdKeyNotFound
    assert (error.message, error.operation, error.endpoint) == (
        "Key not found : /a",
        "KV.Range",
        "127.0.0.1:2379",
    )
    assert pickle.loads(b"\x80\x02cetcd._kv\nALL_KEYS\nq\x00.") is etcd.ALL_KEYS


def test_all_keys_pickles_under_its_public_name():
    assert b"etcd._core" not in pickle.dumps(etcd.ALL_KEYS, protocol=2)
    assert pickle.loads(pickle.dumps(etcd.ALL_KEYS)) is etcd.ALL_KEYS


def test_os_error_subclasses_keep_the_message():
    error = etcd.EtcdTimeout("KV.Range on e timed out", operation="KV.Range")
    assert str(error) == "KV.Range on e timed out"
    assert error.args == ("KV.Range on e timed out",)


def test_gos_context_errors_from_the_server():
    from etcd._core.error_mapping import map_rpc_error

    error = map_rpc_error(
        "UNKNOWN", "context deadline exceeded", operation="KV.Put", endpoint="m", mutation=True
    )
    assert isinstance(error, etcd.EtcdTimeout) and error.outcome_unknown
    assert isinstance(
        map_rpc_error(
            "UNKNOWN", "context canceled", operation="KV.Range", endpoint="m", mutation=False
        ),
        etcd.EtcdCancelled,
    )


def test_failures_before_sending_are_never_ambiguous():
    from etcd._core.error_mapping import (
        NotConnected,
        StreamStalled,
        map_rpc_error,
        request_never_sent,
        status_of,
    )

    code, details = status_of(NotConnected("Socket closed"))
    assert request_never_sent(code, details)
    error = map_rpc_error(code, details, operation="KV.Put", endpoint="m", mutation=True)
    assert isinstance(error, etcd.EtcdConnectionFailed) and not error.outcome_unknown
    code, details = status_of(StreamStalled("the member stopped answering"))
    assert not request_never_sent(code, details)


def test_python_etcds_remaining_names():
    # Every exception python-etcd 0.4.5 defined exists, with python-etcd's bases.
    assert issubclass(etcd.EtcdRootReadOnly, etcd.EtcdKeyError)
    assert issubclass(etcd.EtcdRootReadOnly, KeyError)
    assert issubclass(etcd.EtcdClusterIdChanged, etcd.EtcdException)
    assert etcd.EtcdWatcherCleared is etcd.EtcdWatchCancelled
    assert etcd.EtcdLockExpired is etcd.EtcdLeaseExpired
    for name in PYTHON_ETCD_EXCEPTIONS:
        assert issubclass(getattr(etcd, name), etcd.EtcdException), name
        assert name in etcd.__all__, name


def test_a_watch_the_server_ends_is_python_etcds_watcher_cleared():
    from etcd._core.watch import WatchSpec, _cancel_error

    error = _cancel_error("etcdserver: something new", "m:2379", WatchSpec.build("/k"))
    assert isinstance(error, etcd.EtcdWatcherCleared)
    assert "something new" in str(error)


def test_connection_failures_keep_python_etcds_cause():
    cause = OSError("refused")
    try:
        raise etcd.EtcdConnectionFailed("no member reachable") from cause
    except etcd.EtcdConnectionFailed as error:
        assert error.cause is cause
    assert etcd.EtcdTimeout("t").cause is None
