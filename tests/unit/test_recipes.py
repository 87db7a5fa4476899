"""The keys and transactions of Go's recipes, without a server."""

import pytest

import etcd
from etcd._core import recipes
from etcd._core.responses import KeyValue, RangeResponse, ResponseHeader


def listing(*keys):
    kvs = [KeyValue(key, b"", 1, 1, 1, 0) for key in keys]
    return RangeResponse(ResponseHeader(0, 0, 7, 0), kvs, False, len(kvs))


def test_unique_keys_are_the_prefix_and_the_time_in_nanoseconds():
    assert recipes.unique_key(b"jobs", 1733550000123456789) == b"jobs/1733550000123456789"


def test_priority_prefixes_have_five_digits():
    assert recipes.priority_prefix(b"q", 0) == b"q/00000"
    assert recipes.priority_prefix(b"q", 65535) == b"q/65535"
    for bad in (-1, 65536):
        with pytest.raises(etcd.EtcdValueError):
            recipes.priority_prefix(b"q", bad)
    for wrong_type in (True, 1.0, "1", None):
        with pytest.raises(etcd.EtcdTypeError):
            recipes.priority_prefix(b"q", wrong_type)


def test_the_next_sequence_number_follows_the_last_key():
    assert recipes.next_sequential_key(b"q/00001", listing()) == b"q/00001/0000000000000000"
    last = listing(b"q/00001/0000000000000041")
    assert recipes.next_sequential_key(b"q/00001", last) == b"q/00001/0000000000000042"
    with pytest.raises(etcd.EtcdException, match="sequence number"):
        recipes.next_sequential_key(b"q/00001", listing(b"q/00001/x"))


def test_a_sequential_put_is_fenced_by_the_priority_s_marker():
    txn = recipes.sequential_put_txn(b"q/00001", b"q/00001/0000000000000003", b"v", 41)
    (compare,) = txn.compare
    assert compare.key == b"__q/00001"
    assert (compare.target.name, compare.result.name, compare.operand) == ("MOD", "LESS", 42)
    assert [op.key for op in txn.success] == [  # type: ignore[attr-defined]
        b"__q/00001",
        b"q/00001/0000000000000003",
    ]


def test_leaving_order_is_by_modification_revision():
    kvs = [KeyValue(b"b/waiters/2", b"", 5, 5, 1, 0), KeyValue(b"b/waiters/1", b"", 3, 3, 1, 0)]
    lowest, highest, ours_is_lowest = recipes.leaving_order(kvs, b"b/waiters/1")
    assert (lowest.key, highest.key, ours_is_lowest) == (b"b/waiters/1", b"b/waiters/2", True)


def test_counts_are_checked():
    assert recipes.check_count(3) == 3
    with pytest.raises(etcd.EtcdValueError):
        recipes.check_count(0)
    with pytest.raises(etcd.EtcdTypeError):
        recipes.check_count(True)
