"""Namespace rewriting, without a server: requests prefixed, results stripped."""

from __future__ import annotations

from typing import cast

import pytest

import etcd
from etcd import ALL_KEYS, Compare, Op, Txn
from etcd._core.namespace import (
    prefix_compare,
    prefix_op,
    prefix_range,
    strip_event,
    strip_key,
    strip_response,
    strip_watch_response,
)
from etcd._core.responses import (
    DeleteRangeResponse,
    KeyValue,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    TxnResponse,
)
from etcd._core.watch import Event, EventType, WatchResponse
from etcd._sync.namespace import Namespace, _NamespaceClient

P = b"/ns/"
HEADER = ResponseHeader(1, 2, 3, 4)


def _kv(key: bytes) -> KeyValue:
    return KeyValue(key, b"v", 1, 2, 1, 0)


@pytest.mark.parametrize(
    ("key", "range_end", "expected"),
    [
        (b"k", b"", (b"/ns/k", b"")),
        (b"a", b"c", (b"/ns/a", b"/ns/c")),
        (b"k", b"\0", (b"/ns/k", b"/ns0")),  # from_key stops at the end of the namespace
        (b"\0", b"\0", (b"/ns/\0", b"/ns0")),  # ALL_KEYS: the whole namespace
        (b"k", b"l", (b"/ns/k", b"/ns/l")),  # prefix=True
    ],
)
def test_prefix_range(key, range_end, expected):
    assert prefix_range(P, key, range_end) == expected


def test_prefix_range_of_an_all_ff_prefix_runs_to_the_end():
    assert prefix_range(b"\xff", b"\0", b"\0") == (b"\xff\0", b"\0")


def test_prefix_ops_of_every_form():
    assert prefix_op(P, Op.range("k")) == Op.range("/ns/k")
    assert prefix_op(P, Op.range("k", prefix=True)) == Op.range("/ns/k", prefix=True)
    assert prefix_op(P, Op.range("k", from_key=True, limit=3)) == Op.range("/ns/k", "/ns0", limit=3)
    assert prefix_op(P, Op.range(ALL_KEYS, keys_only=True)) == Op.range(
        b"/ns/\0", "/ns0", keys_only=True
    )
    assert prefix_op(P, Op.range("a", "c")) == Op.range("/ns/a", "/ns/c")
    assert prefix_op(P, Op.put("k", "v", lease=5, prev_kv=True)) == Op.put(
        "/ns/k", "v", lease=5, prev_kv=True
    )
    assert prefix_op(P, Op.delete_range(ALL_KEYS, prev_kv=True)) == Op.delete_range(
        b"/ns/\0", "/ns0", prev_kv=True
    )
    assert prefix_op(P, Op.delete_range("d", from_key=True)) == Op.delete_range("/ns/d", "/ns0")


def test_prefix_compares_keep_everything_but_the_keys():
    assert prefix_compare(P, Compare.value("k", "==", "v")) == Compare.value("/ns/k", "==", "v")
    assert prefix_compare(P, Compare.version("k", ">", 0, prefix=True)) == Compare.version(
        "/ns/k", ">", 0, prefix=True
    )
    assert prefix_compare(P, Compare.mod_revision(ALL_KEYS, "<", 9)) == Compare.mod_revision(
        b"/ns/\0", "<", 9, range_end="/ns0"
    )
    original = Compare.lease("k", "!=", 3)
    prefix_compare(P, original)
    assert original.key == b"k"  # untouched: a new Compare was built


def test_prefix_nested_transactions():
    inner = Txn().If(Compare.value("i", "==", "1")).Then(Op.put("j", "2")).Else(Op.range("j"))
    outer = (
        Txn()
        .If(etcd.Version("a") > 0)
        .Then(Op.range("a"), inner)
        .Else(Op.delete_range("b", prefix=True))
    )
    rewritten = prefix_op(P, outer)
    expected_inner = (
        Txn()
        .If(Compare.value("/ns/i", "==", "1"))
        .Then(Op.put("/ns/j", "2"))
        .Else(Op.range("/ns/j"))
    )
    assert rewritten == (
        Txn()
        .If(etcd.Version("/ns/a") > 0)
        .Then(Op.range("/ns/a"), expected_inner)
        .Else(Op.delete_range("/ns/b", prefix=True))
    )
    assert rewritten.to_request() == (
        Txn()
        .If(etcd.Version("/ns/a") > 0)
        .Then(Op.range("/ns/a"), expected_inner)
        .Else(Op.delete_range("/ns/b", prefix=True))
        .to_request()
    )


def test_an_unknown_op_is_refused():
    class Strange(Op):
        pass

    with pytest.raises(etcd.EtcdTypeError, match="cannot run in a namespace"):
        prefix_op(P, Strange())


def test_strip_key():
    assert strip_key(P, b"/ns/a/b") == b"a/b"
    assert strip_key(P, b"/other") == b"/other"


def test_strip_every_kind_of_response():
    ranged = strip_response(P, RangeResponse(HEADER, [_kv(b"/ns/a"), _kv(b"/ns/b")], True, 7))
    assert [kv.key for kv in ranged.kvs] == [b"a", b"b"]
    assert (ranged.header, ranged.more, ranged.count) == (HEADER, True, 7)
    assert strip_response(P, PutResponse(HEADER, _kv(b"/ns/p"))).prev_kv.key == b"p"
    assert strip_response(P, PutResponse(HEADER)).prev_kv is None
    deleted = strip_response(P, DeleteRangeResponse(HEADER, 1, [_kv(b"/ns/d")]))
    assert (deleted.deleted, deleted.prev_kvs[0].key) == (1, b"d")
    nested = TxnResponse(
        HEADER,
        True,
        [
            RangeResponse(HEADER, [_kv(b"/ns/x")]),
            TxnResponse(HEADER, False, [DeleteRangeResponse(HEADER, 1, [_kv(b"/ns/y")])]),
        ],
    )
    stripped = strip_response(P, nested)
    assert stripped.responses[0].kvs[0].key == b"x"
    assert stripped.responses[1].responses[0].prev_kvs[0].key == b"y"
    assert nested.responses[0].kvs[0].key == b"/ns/x"  # the original is not changed


def test_strip_events_and_watch_responses():
    event = Event(EventType.DELETE, _kv(b"/ns/k"), _kv(b"/ns/k"))
    assert strip_event(P, event).key == b"k"
    assert strip_event(P, event).prev_kv.key == b"k"
    assert strip_event(P, Event(EventType.PUT, _kv(b"/ns/k"))).prev_kv is None
    response = strip_watch_response(P, WatchResponse(HEADER, [event], progress=False))
    assert [e.key for e in response.events] == [b"k"]
    assert response.header == HEADER
    assert strip_watch_response(P, WatchResponse(HEADER, [], progress=True)).progress


class Recorder:
    """Stands for a client: records what the namespace sends."""

    def __init__(self) -> None:
        self.sent: list[object] = []

    def do(self, op, *, timeout=None):
        self.sent.append(op)
        if isinstance(op, etcd.RangeOp):
            return RangeResponse(HEADER, [_kv(op.key)])
        if isinstance(op, Txn):
            return TxnResponse(HEADER, True, [])
        return PutResponse(HEADER)

    def compact(self, revision, *, physical=False, timeout=None):
        self.sent.append(("compact", revision, physical))


def _namespace(client: Recorder, prefix: str | bytes) -> Namespace:
    return Namespace(cast(_NamespaceClient, client), prefix)


def test_namespace_sends_prefixed_and_returns_stripped():
    client = Recorder()
    ns = _namespace(client, "/ns/")
    assert ns.prefix == b"/ns/"
    assert ns.range("k").kvs[0].key == b"k"
    ns.put("k", "v")
    ns.txn([Compare.value("k", "==", "v")], [Op.put("k", "w")])
    ns.transaction().If(Compare.version("k", ">", 0)).Then(Op.delete_range("k")).commit()
    ns.compact(5)
    assert client.sent == [
        Op.range("/ns/k"),
        Op.put("/ns/k", "v"),
        Op.txn([Compare.value("/ns/k", "==", "v")], [Op.put("/ns/k", "w")]),
        Op.txn([Compare.version("/ns/k", ">", 0)], [Op.delete_range("/ns/k")]),
        ("compact", 5, False),
    ]


def test_nested_namespaces_concatenate():
    client = Recorder()
    inner = _namespace(client, "/a/").namespace("b/")
    assert inner.prefix == b"/a/b/"
    assert inner.range(ALL_KEYS).kvs[0].key == b"\0"
    assert client.sent == [Op.range(b"/a/b/\0", "/a/b0")]


def test_namespace_argument_checks():
    with pytest.raises(etcd.EtcdValueError, match="namespace prefix must not be empty"):
        _namespace(Recorder(), "")
    with pytest.raises(etcd.EtcdTypeError):
        _namespace(Recorder(), 5)  # type: ignore[arg-type]
    ns = _namespace(Recorder(), "/ns/")
    with pytest.raises(etcd.EtcdValueError, match="either a Txn"):
        ns.txn(Txn(), [Op.put("k", "v")])
    with pytest.raises(etcd.EtcdTypeError):
        ns.do("range")  # type: ignore[arg-type]
    with pytest.raises(etcd.EtcdValueError):
        ns.range(ALL_KEYS, prefix=True)
