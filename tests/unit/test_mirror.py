"""The mirror's pure half: its arguments, the key rewriting, and how keys and changes are
grouped into destination transactions."""

import pytest

import etcd
from etcd._core.keys import ALL_KEYS
from etcd._core.kv import DeleteRangeOp, PutOp
from etcd._core.mirror import (
    DestinationTxn,
    MirrorSettings,
    copy_transactions,
    event_transactions,
    txn_byte_budget,
)
from etcd._core.responses import KeyValue
from etcd._core.watch import Event, EventType

BIG_BUDGET = 1 << 20


def kv(key, value=b"v", revision=5):
    return KeyValue(key, value, revision, revision, 1, 0)


def put(key, revision, value=b"v"):
    return Event(EventType.PUT, KeyValue(key, value, revision, revision, 1, 7))


def delete(key, revision):
    return Event(EventType.DELETE, KeyValue(key, b"", 0, revision, 0, 0))


def shape(txns):
    """Each transaction as (revision, complete, [(kind, key, value)])."""
    out = []
    for txn in txns:
        ops: list[tuple[str, bytes, bytes | None]] = []
        for op in txn.ops:
            if isinstance(op, PutOp):
                ops.append(("put", op.key, op.value))
            else:
                assert isinstance(op, DeleteRangeOp) and op.range_end == b""
                ops.append(("del", op.key, None))
        out.append((txn.revision, txn.completes_revision, ops))
    return out


# --- arguments ---------------------------------------------------------------------------------


def test_the_destination_prefix_defaults_to_the_source_prefix_as_in_etcdctl():
    settings = MirrorSettings.build("/a/")
    assert settings.dest_prefix == b"/a/" and settings.destination_key(b"/a/k") == b"/a/k"
    # An empty destination prefix is "not given", as etcdctl reads --dest-prefix="".
    assert MirrorSettings.build("/a/", dest_prefix="").dest_prefix == b"/a/"


def test_dest_prefix_replaces_the_source_prefix_and_no_dest_prefix_strips_it():
    moved = MirrorSettings.build("o_", dest_prefix="d_")
    assert moved.destination_key(b"o_key1") == b"d_key1"
    # Only the leading prefix is replaced, never a later occurrence.
    assert moved.destination_key(b"o_x/o_y") == b"d_x/o_y"
    stripped = MirrorSettings.build("o_", no_dest_prefix=True)
    assert stripped.dest_prefix == b"" and stripped.destination_key(b"o_key1") == b"key1"
    assert MirrorSettings.build(b"\xff/", dest_prefix=b"\x00/").destination_key(b"\xff/k") == (
        b"\x00/k"
    )


def test_the_whole_keyspace_can_be_mirrored_under_a_destination_prefix():
    settings = MirrorSettings.build("", dest_prefix="/backup")
    assert settings.destination_key(b"/x") == b"/backup/x"
    assert settings.source_keys() == (ALL_KEYS, False)
    first = settings.first_page()
    assert (first.key, first.range_end) == (b"\0", b"\0")
    assert MirrorSettings.build("/p/").source_keys() == (b"/p/", True)


def test_dest_prefix_and_no_dest_prefix_together_are_refused():
    with pytest.raises(etcd.EtcdValueError, match="cannot be set at the same time"):
        MirrorSettings.build("/a/", dest_prefix="/b/", no_dest_prefix=True)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_txn_ops": 0}, etcd.EtcdValueError),
        ({"max_txn_ops": "128"}, etcd.EtcdTypeError),
        ({"max_txn_ops": True}, etcd.EtcdTypeError),
        ({"rev": -1}, etcd.EtcdValueError),
        ({"page_size": 0}, etcd.EtcdValueError),
        ({"no_dest_prefix": 1}, etcd.EtcdTypeError),
        ({"dest_prefix": 5}, etcd.EtcdTypeError),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(options, error):
    with pytest.raises(error):
        MirrorSettings.build("/a/", **options)
    with pytest.raises(etcd.EtcdTypeError):
        MirrorSettings.build(None)  # type: ignore[arg-type]


def test_a_start_revision_means_no_copy_first():
    assert MirrorSettings.build("/a/").copies_first
    replay = MirrorSettings.build("/a/", rev=42)
    assert not replay.copies_first and replay.start_revision == 42


def test_the_key_that_is_the_prefix_itself_cannot_lose_it():
    settings = MirrorSettings.build("/a", no_dest_prefix=True)
    with pytest.raises(etcd.EtcdValueError, match="empty key"):
        settings.destination_key(b"/a")


def test_overlapping_prefixes_feed_themselves_on_one_cluster():
    assert MirrorSettings.build("/a/", dest_prefix="/a/b/").feeds_itself()
    assert MirrorSettings.build("/a/b/", dest_prefix="/a/").feeds_itself()
    assert MirrorSettings.build("/a/").feeds_itself()
    assert MirrorSettings.build("", dest_prefix="/x/").feeds_itself()
    assert not MirrorSettings.build("/a/", dest_prefix="/b/").feeds_itself()


def test_more_operations_than_the_destination_client_sends_are_refused():
    settings = MirrorSettings.build("/a/", max_txn_ops=500)
    with pytest.raises(etcd.EtcdValueError, match="max_txn_ops"):
        settings.check_destination_limit(128)
    settings.check_destination_limit(None)
    settings.check_destination_limit(1000)


def test_the_byte_budget_stays_under_the_request_limit():
    assert 0 < txn_byte_budget(None) < 1_572_864
    assert txn_byte_budget(10_000) < 10_000
    assert txn_byte_budget(1) == 1


# --- the copy ----------------------------------------------------------------------------------


def test_the_copy_is_puts_in_transactions_of_at_most_max_txn_ops():
    settings = MirrorSettings.build("/s/", dest_prefix="/d/", max_txn_ops=2)
    kvs = [kv(b"/s/1", b"a"), kv(b"/s/2", b"b"), kv(b"/s/3", b"c")]
    txns = copy_transactions(settings, kvs, 9, BIG_BUDGET)
    assert [len(txn) for txn in txns] == [2, 1]
    assert [op for _, _, ops in shape(txns) for op in ops] == [
        ("put", b"/d/1", b"a"),
        ("put", b"/d/2", b"b"),
        ("put", b"/d/3", b"c"),
    ]
    # All of it is the source as of one revision; values are copied without leases.
    assert {txn.revision for txn in txns} == {9}
    assert all(isinstance(op, PutOp) and op.lease == 0 for txn in txns for op in txn.ops)
    assert copy_transactions(settings, [], 9, BIG_BUDGET) == []


def test_large_values_split_the_copy_by_bytes_too():
    settings = MirrorSettings.build("/s/")
    kvs = [kv(f"/s/{i}".encode(), b"x" * 400) for i in range(5)]
    txns = copy_transactions(settings, kvs, 3, 1000)
    assert [len(txn) for txn in txns] == [2, 2, 1]
    # A single value larger than the budget still goes, alone.
    alone = copy_transactions(settings, [kv(b"/s/big", b"x" * 5000), kv(b"/s/b")], 3, 1000)
    assert [len(txn) for txn in alone] == [1, 1]


# --- the changes -------------------------------------------------------------------------------


def test_each_source_revision_is_one_destination_transaction():
    settings = MirrorSettings.build("/s/", dest_prefix="/d/")
    events = [
        put(b"/s/a", 10, b"1"),
        put(b"/s/b", 11, b"2"),
        delete(b"/s/a", 11),
        put(b"/s/c", 11, b"3"),
        delete(b"/s/b", 12),
    ]
    assert shape(event_transactions(settings, events, BIG_BUDGET)) == [
        (10, True, [("put", b"/d/a", b"1")]),
        (11, True, [("put", b"/d/b", b"2"), ("del", b"/d/a", None), ("put", b"/d/c", b"3")]),
        (12, True, [("del", b"/d/b", None)]),
    ]


def test_a_revision_larger_than_max_txn_ops_is_split_in_order():
    # A deleted prefix of five keys is five events at one revision.
    settings = MirrorSettings.build("/s/", max_txn_ops=2)
    events = [delete(f"/s/{i}".encode(), 20) for i in range(5)] + [put(b"/s/z", 21)]
    txns = event_transactions(settings, events, BIG_BUDGET)
    assert [(t.revision, t.completes_revision, len(t)) for t in txns] == [
        (20, False, 2),
        (20, False, 2),
        (20, True, 1),
        (21, True, 1),
    ]
    keys = [key for _, _, ops in shape(txns[:3]) for _, key, _ in ops]
    assert keys == [f"/s/{i}".encode() for i in range(5)]


def test_a_revision_never_shares_a_transaction_even_with_room_left():
    settings = MirrorSettings.build("/s/", max_txn_ops=128)
    events = [put(f"/s/{i}".encode(), 30 + i) for i in range(4)]
    txns = event_transactions(settings, events, BIG_BUDGET)
    assert [t.revision for t in txns] == [30, 31, 32, 33]
    assert all(t.completes_revision for t in txns)


def test_the_changes_keep_no_lease_and_drop_the_source_prefix_when_asked():
    settings = MirrorSettings.build("/s/", no_dest_prefix=True)
    (txn,) = event_transactions(settings, [put(b"/s/k", 4, b"v")], BIG_BUDGET)
    (op,) = txn.ops
    assert isinstance(op, PutOp) and (op.key, op.value, op.lease) == (b"k", b"v", 0)


def test_a_transaction_can_be_built_from_every_group():
    settings = MirrorSettings.build("/s/", max_txn_ops=3)
    events = [put(f"/s/{i}".encode(), 8) for i in range(7)]
    for txn in event_transactions(settings, events, BIG_BUDGET):
        assert isinstance(txn, DestinationTxn)
        built = etcd.Op.txn((), txn.ops, ())
        built.check_limits(3)
