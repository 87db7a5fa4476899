"""Operations, comparisons and transactions: built, checked and encoded without a server."""

from __future__ import annotations

import dataclasses

import pytest

import etcd
from etcd import ALL_KEYS, Compare, Op, Txn
from etcd._core.keys import KeyRange
from etcd._core.kv import next_page
from etcd._core.responses import KeyValue, KeyValues, RangeResponse, ResponseHeader, decode_range
from etcd._wire import messages as pb


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        (b"a", b"b"),
        (b"a\xff", b"b"),
        (b"\xff\xff", b"\0"),
        (b"/dir/", b"/dir0"),
        (b"ab\xfe", b"ab\xff"),
    ],
)
def test_prefix_end(prefix, end):
    assert etcd.prefix_end(prefix) == end


def test_key_range_forms():
    assert KeyRange.resolve("k") == KeyRange(b"k")
    assert KeyRange.resolve("k", prefix=True) == KeyRange(b"k", b"l")
    assert KeyRange.resolve("k", from_key=True) == KeyRange(b"k", b"\0")
    assert KeyRange.resolve("a", "c") == KeyRange(b"a", b"c")
    assert KeyRange.resolve(ALL_KEYS) == KeyRange(b"\0", b"\0")


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("",), {}, "must not be empty"),
        ((b"",), {"prefix": True}, "must not be empty"),
        (("k", "a"), {}, "must sort after"),
        (("k", "k"), {}, "must sort after"),
        (("k", "z"), {"prefix": True}, "only one"),
        ((ALL_KEYS,), {"prefix": True}, "ALL_KEYS"),
        ((None,), {}, "must be str or bytes"),
        ((5,), {}, "must be str or bytes"),
        (({"k": 1},), {}, "must be str or bytes"),
        (("k",), {"prefix": 1}, "must be a bool"),
    ],
)
def test_bad_ranges_are_refused_before_sending(args, kwargs, match):
    with pytest.raises(etcd.EtcdException, match=match):
        KeyRange.resolve(*args, **kwargs)


def test_range_op_checks_every_option():
    with pytest.raises(etcd.EtcdValueError, match="limit must not be negative"):
        Op.range("k", limit=-1)
    with pytest.raises(etcd.EtcdValueError, match="revision must not be negative"):
        Op.range("k", revision=-5)
    with pytest.raises(etcd.EtcdValueError, match="sort_order"):
        Op.range("k", sort_order="sideways")
    with pytest.raises(etcd.EtcdValueError, match="sort_target"):
        Op.range("k", sort_target=9)  # type: ignore[arg-type]
    with pytest.raises(etcd.EtcdTypeError, match="limit must be an int"):
        Op.range("k", limit=True)
    with pytest.raises(etcd.EtcdValueError, match="between"):
        Op.range("k", limit=2**63)


def test_range_op_encodes_every_field():
    op = Op.range(
        "a",
        "z",
        limit=3,
        revision=7,
        sort_order="descend",
        sort_target=etcd.SortTarget.MOD,
        serializable=True,
        keys_only=True,
        count_only=True,
        min_mod_revision=1,
        max_mod_revision=2,
        min_create_revision=3,
        max_create_revision=4,
    )
    request = op.to_request()
    assert (request.key, request.range_end, request.limit, request.revision) == (b"a", b"z", 3, 7)
    assert (request.sort_order, request.sort_target) == (2, 3)
    assert request.serializable and request.keys_only and request.count_only
    assert (request.min_mod_revision, request.max_mod_revision) == (1, 2)
    assert (request.min_create_revision, request.max_create_revision) == (3, 4)
    assert not op.is_mutation


def test_put_op():
    op = Op.put("k", "välue", lease=7, prev_kv=True)
    request = op.to_request()
    assert (request.key, request.value, request.lease, request.prev_kv) == (
        b"k",
        "välue".encode(),
        7,
        True,
    )
    assert op.is_mutation
    assert "välue" not in repr(op) and "bytes" in repr(op)


def test_put_accepts_a_lease_object():
    @dataclasses.dataclass
    class Lease:
        id: int

    assert Op.put("k", "v", lease=Lease(42)).lease == 42


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"value": None}, etcd.EtcdTypeError, "needs a value"),
        ({"value": 1}, etcd.EtcdTypeError, "value must be str or bytes"),
        ({"value": "v", "ignore_value": True}, etcd.EtcdValueError, "ignore_value"),
        ({"value": "v", "lease": 5, "ignore_lease": True}, etcd.EtcdValueError, "ignore_lease"),
        ({"value": "v", "lease": -1}, etcd.EtcdValueError, "lease must not be negative"),
        ({"value": "v", "lease": 2**64}, etcd.EtcdValueError, "between"),
    ],
)
def test_put_op_refuses(kwargs, error, match):
    with pytest.raises(error, match=match):
        Op.put("k", **kwargs)


def test_put_ignore_value_and_lease():
    request = Op.put("k", ignore_value=True, ignore_lease=True).to_request()
    assert request.ignore_value and request.ignore_lease and request.value == b""


def test_delete_op():
    request = Op.delete_range("/dir/", prefix=True, prev_kv=True).to_request()
    assert (request.key, request.range_end, request.prev_kv) == (b"/dir/", b"/dir0", True)


@pytest.mark.parametrize(
    ("compare", "target", "result", "field", "value"),
    [
        (Compare.value("k", "==", "v"), 3, 0, "value", b"v"),
        (Compare.version("k", ">", 1), 0, 1, "version", 1),
        (Compare.create_revision("k", "<", 5), 1, 2, "create_revision", 5),
        (Compare.mod_revision("k", "!=", 6), 2, 3, "mod_revision", 6),
        (Compare.lease("k", "=", 9), 4, 0, "lease", 9),
        (etcd.Value("k") == "v", 3, 0, "value", b"v"),
        (etcd.Version("k") > 1, 0, 1, "version", 1),
        (etcd.CreateRevision("k") < 5, 1, 2, "create_revision", 5),
        (etcd.ModRevision("k") != 6, 2, 3, "mod_revision", 6),
        (etcd.LeaseValue("k") == 9, 4, 0, "lease", 9),
    ],
)
def test_compare_encoding(compare, target, result, field, value):
    message = compare.to_pb()
    assert (message.target, message.result, message.key) == (target, result, b"k")
    assert message.WhichOneof("target_union") == field
    assert getattr(message, field) == value


def test_compare_is_an_immutable_value():
    base = Compare.version("k", "=", 0)
    ranged = base.with_prefix()
    assert base.range_end == b"" and ranged.range_end == b"l"
    assert base == Compare.version("k", "==", 0)
    assert hash(base) == hash(Compare.version("k", "==", 0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.key = b"x"  # type: ignore[misc]
    assert Compare.mod_revision("a", "<", 3).with_range("c").range_end == b"c"
    assert (etcd.Version("a", prefix=True) == 0).range_end == b"b"


def test_compare_refuses_bad_input():
    with pytest.raises(etcd.EtcdValueError, match="comparison must be one of"):
        Compare.value("k", "<=", "v")
    with pytest.raises(etcd.EtcdTypeError):
        Compare.version("k", "==", "1")  # type: ignore[arg-type]
    with pytest.raises(etcd.EtcdValueError):
        Compare.version("", "==", 1)


def test_txn_builder_order_is_enforced_and_immutable():
    empty = Txn()
    built = empty.If(etcd.Value("k") == "a").Then(Op.put("k", "b")).Else(Op.range("k"))
    assert empty.compare == () and len(built.compare) == 1
    with pytest.raises(etcd.EtcdValueError):
        built.If()
    with pytest.raises(etcd.EtcdValueError):
        Txn().Then().If()
    with pytest.raises(etcd.EtcdValueError):
        Txn().Else().Then()
    with pytest.raises(etcd.EtcdTypeError):
        Txn().If("k == a")  # type: ignore[arg-type]
    with pytest.raises(etcd.EtcdTypeError):
        Txn().Then(("put", "k"))  # type: ignore[arg-type]


def test_unbound_txn_cannot_commit():
    with pytest.raises(etcd.EtcdValueError, match="not bound"):
        Txn().commit()


def test_nested_txn_encoding():
    inner = Op.txn([etcd.Version("x") == 0], [Op.put("x", "1")], [])
    outer = Op.txn([], [inner, Op.delete_range("y")], [Op.range("z")])
    request = outer.to_request()
    assert request.success[0].WhichOneof("request") == "request_txn"
    assert request.success[0].request_txn.success[0].request_put.key == b"x"
    assert request.success[1].WhichOneof("request") == "request_delete_range"
    assert request.failure[0].WhichOneof("request") == "request_range"
    assert outer.is_mutation
    assert not Op.txn([], [Op.range("a")], [Op.range("b")]).is_mutation


def test_txn_limits():
    too_many = Op.txn([], [Op.put(f"k{i}", "v") for i in range(129)], [])
    with pytest.raises(etcd.EtcdTooManyOps, match="129 success entries"):
        too_many.check_limits(128)
    Op.txn([], [Op.put(f"k{i}", "v") for i in range(128)], []).check_limits(128)
    with pytest.raises(etcd.EtcdDuplicateKey, match="twice"):
        Op.txn([], [Op.put("k", "1"), Op.put("k", "2")], []).check_limits(128)
    with pytest.raises(etcd.EtcdDuplicateKey, match="puts and deletes"):
        Op.txn([], [Op.put("a/1", "1"), Op.delete_range("a/", prefix=True)], []).check_limits(128)
    nested = Op.txn([], [Op.txn([], [Op.put("k", "1"), Op.put("k", "2")], [])], [])
    with pytest.raises(etcd.EtcdDuplicateKey):
        nested.check_limits(128)
    # The same key in the two branches is fine: only one runs.
    Op.txn([], [Op.put("k", "1")], [Op.put("k", "2")]).check_limits(128)


def _page(keys, more, revision=10):
    kvs = [KeyValue(k, b"", 1, 1, 1, 0) for k in keys]
    return RangeResponse(ResponseHeader(1, 1, revision, 1), kvs, more, 99)


def test_next_page_pins_the_first_revision_and_moves_past_the_last_key():
    op = Op.range("a", prefix=True, limit=2)
    following = next_page(op, _page([b"a1", b"a2"], True, revision=10))
    assert following is not None
    assert (following.key, following.range_end, following.revision) == (b"a2\0", b"b", 10)
    later = next_page(following, _page([b"a3", b"a4"], True, revision=12))
    assert later is not None and later.revision == 10
    assert next_page(later, _page([b"a5"], False)) is None


def test_range_answers_decode_each_key_when_it_is_first_read():
    raw = pb.RangeResponse(
        header=pb.ResponseHeader(revision=9),
        kvs=[pb.KeyValue(key=b"k%d" % i, value=b"v", mod_revision=i + 1) for i in range(3)],
        count=3,
    )
    answer = decode_range(raw)
    kvs = answer.kvs
    assert isinstance(kvs, KeyValues) and len(kvs) == 3 and answer.count == 3
    assert kvs[0] is kvs[0]  # decoded once
    assert kvs[-1].key == b"k2" and kvs[-1].mod_revision == 3
    assert [kv.key for kv in kvs[1:]] == [b"k1", b"k2"]
    assert [kv.key for kv in kvs] == [b"k0", b"k1", b"k2"]
    expected = [KeyValue(b"k%d" % i, b"v", 0, i + 1, 0, 0) for i in range(3)]
    assert kvs == expected and expected == kvs and kvs != expected[:2]
    assert repr(kvs) == repr(expected)
    with pytest.raises(IndexError):
        kvs[3]
    assert not decode_range(pb.RangeResponse()).kvs
