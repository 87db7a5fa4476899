"""The python-etcd layer's pure parts: keys, values, directory trees, write conditions."""

import pytest

import etcd
from etcd._core import classic, classic_writes
from etcd._core.client import ContainsMixin
from etcd._core.responses import KeyValue, RangeResponse, ResponseHeader, TxnResponse


def kv(key, value="v", create=1, mod=1, lease=0):
    return KeyValue(key.encode(), value.encode(), create, mod, 1, lease)


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("nodes/n1", "/nodes/n1"),
        ("/nodes/n1/", "/nodes/n1"),
        ("/", "/"),
        (b"/b", "/b"),
        ("//", "/"),
    ],
)
def test_keys_are_normalised_like_python_etcd(given, normalised):
    assert classic.normalize_key(given) == normalised


def test_bad_keys_and_values():
    with pytest.raises(etcd.EtcdTypeError):
        classic.normalize_key(1)
    with pytest.raises(etcd.EtcdValueError):
        classic.normalize_key(b"\xff")
    with pytest.raises(etcd.EtcdValueError, match="None"):
        classic.value_text(None)


def test_values_are_stored_as_text():
    assert classic.value_text(1) == b"1"
    assert classic.value_text(2.5) == b"2.5"
    assert classic.value_text("é") == "é".encode()
    assert classic.value_text(b"\x00") == b"\x00"


def test_a_plain_listing_has_direct_children_and_directory_entries():
    kvs = [kv("/n/a", create=3, mod=3), kv("/n/sub/x", create=4, mod=9), kv("/n/sub/y/z", mod=5)]
    node = classic.directory_node("/n", kvs, recursive=False, ttls={})
    assert node["dir"] and node["createdIndex"] == 1 and node["modifiedIndex"] == 9
    assert [(c["key"], c.get("dir", False)) for c in node["nodes"]] == [
        ("/n/a", False),
        ("/n/sub", True),
    ]
    sub = node["nodes"][1]
    assert sub["nodes"] == [] and sub["modifiedIndex"] == 9


def test_a_recursive_listing_is_the_whole_tree_sorted():
    kvs = [kv("/n/b"), kv("/n/a/y"), kv("/n/a/x/deep")]
    result = etcd.EtcdResult("get", classic.directory_node("/n", kvs, recursive=True, ttls={}))
    assert [r.key for r in result.get_subtree()] == [
        "/n",
        "/n/a",
        "/n/a/x",
        "/n/a/x/deep",
        "/n/a/y",
        "/n/b",
    ]
    assert [r.key for r in result.leaves] == ["/n/a/x/deep", "/n/a/y", "/n/b"]
    assert list(result.children) == list(result.leaves)


def test_an_empty_directory_does_not_exist():
    assert classic.directory_node("/n", [kv("/nx")], recursive=False, ttls={}) is None


def test_ttls_reach_the_nodes():
    node = classic.directory_node("/n", [kv("/n/a", lease=7)], recursive=False, ttls={7: 30})
    leaf = node["nodes"][0]
    assert leaf["ttl"] == 30 and leaf["expiration"].endswith("Z")


def test_subtree_range_and_membership():
    key, end = classic.subtree_range("/n")
    assert (key, end) == (b"/n", b"/n0")
    assert classic.in_subtree("/n", b"/n", recursive=False)
    assert not classic.in_subtree("/n", b"/n/a", recursive=False)
    assert classic.in_subtree("/n", b"/n/a", recursive=True)
    assert not classic.in_subtree("/n", b"/n-x", recursive=True)


@pytest.mark.parametrize(
    ("options", "action", "targets"),
    [
        ({}, "set", []),
        ({"prev_exist": False}, "create", [("CREATE", "EQUAL")]),
        ({"prev_exist": True}, "update", [("CREATE", "GREATER")]),
        ({"prev_value": b"4"}, "compareAndSwap", [("CREATE", "GREATER"), ("VALUE", "EQUAL")]),
        ({"prev_index": 9}, "compareAndSwap", [("CREATE", "GREATER"), ("MOD", "EQUAL")]),
    ],
)
def test_write_conditions(options, action, targets):
    condition = classic_writes.WriteCondition(**options)
    assert condition.action == action
    compares = condition.compares(b"/k")
    assert [(c.target.name, c.result.name) for c in compares] == targets


def test_write_condition_failures_are_python_etcds_errors():
    current = kv("/k", value="2", mod=5)
    assert isinstance(
        classic_writes.WriteCondition(prev_value=b"4").failure("/k", current),
        etcd.EtcdCompareFailed,
    )
    assert isinstance(
        classic_writes.WriteCondition(prev_exist=False).failure("/k", current),
        etcd.EtcdAlreadyExist,
    )
    assert isinstance(
        classic_writes.WriteCondition(prev_index=3).failure("/k", None), etcd.EtcdKeyNotFound
    )
    message = str(
        classic_writes.WriteCondition(prev_value=b"4", prev_index=3).failure("/k", current)
    )
    assert "'4' != '2'" in message and "3 != 5" in message


def test_write_condition_validation():
    with pytest.raises(etcd.EtcdValueError):
        classic_writes.WriteCondition.build(None, 0, None)
    with pytest.raises(etcd.EtcdTypeError):
        classic_writes.WriteCondition.build(None, None, "yes")


def test_append_names_sort_in_creation_order():
    first, _ = classic_writes.append_txn("/q", 99, b"a", 0, (0,))
    second, _ = classic_writes.append_txn("/q", 100, b"b", 0, (0,))
    assert first == "/q/00000000000000000100" and first < second


def test_member_is_an_object_and_a_python_etcd_mapping():
    member = classic.Member(255, "m0", ("http://p",), ("http://c",))
    assert member["id"] == "ff" and member.id == 255
    assert member["clientURLs"] == ["http://c"] and member["peerURLs"] == ["http://p"]
    assert member.get("nope", 1) == 1 and "name" in member
    assert set(member.keys()) >= {"id", "clientURLs"}
    with pytest.raises(KeyError):
        member["nope"]


def test_results_compare_by_content():
    a = etcd.EtcdResult("get", {"key": "/a", "value": "1", "modifiedIndex": 2})
    b = etcd.EtcdResult("get", {"key": "/a", "value": "1", "modifiedIndex": 2})
    assert a == b and a.raw_value == b"1"
    b.value = "2"
    assert a != b
    assert "key='/a'" in repr(a)


def test_a_key_with_a_value_and_keys_below_is_listed_once():
    kvs = [kv("/n/both", value="own"), kv("/n/both/child"), kv("/n/k")]
    for recursive in (False, True):
        node = classic.directory_node("/n", kvs, recursive=recursive, ttls={})
        keys = [c["key"] for c in node["nodes"]]
        assert keys == ["/n/both", "/n/k"]
        both = node["nodes"][0]
        assert both["dir"] and both["value"] == "own"
    reversed_order = classic.directory_node("/n", [kvs[1], kvs[0]], recursive=True, ttls={})
    assert [c["key"] for c in reversed_order["nodes"]] == ["/n/both"]
    assert reversed_order["nodes"][0]["value"] == "own"


def test_the_root_is_refused_and_other_keys_are_not():
    with pytest.raises(etcd.EtcdRootReadOnly, match="Root is read only"):
        classic.refuse_root("/")
    classic.refuse_root("/a")


@pytest.mark.parametrize(
    ("timeout", "none"),
    [(0, True), (0.0, True), (None, False), (1, False), (False, False), ("0", False)],
)
def test_only_python_etcds_zero_means_no_timeout(timeout, none):
    assert classic.means_no_timeout(timeout) is none


def test_expected_cluster_ids_are_hex_as_etcd_prints_them():
    assert classic.parse_cluster_id("cdf818194e3a8c32") == 0xCDF818194E3A8C32
    assert classic.parse_cluster_id(255) == 255
    assert classic.parse_cluster_id(None) is None
    with pytest.raises(etcd.EtcdValueError, match="hex"):
        classic.parse_cluster_id("not hex")
    with pytest.raises(etcd.EtcdValueError):
        classic.parse_cluster_id("0")
    with pytest.raises(etcd.EtcdTypeError):
        classic.parse_cluster_id(True)


def test_a_changed_cluster_id_is_an_error_once_something_was_expected():
    assert classic.cluster_id_change(None, 7) is None
    assert classic.cluster_id_change(7, 7) is None
    assert classic.cluster_id_change(7, 0) is None
    error = classic.cluster_id_change(0xAB, 0xCD, endpoint="127.0.0.1:2379")
    assert isinstance(error, etcd.EtcdClusterIdChanged)
    assert "ab" in str(error) and "cd" in str(error) and error.endpoint == "127.0.0.1:2379"


def contains_answer(exact_count, below_keys):
    header = ResponseHeader(1, 1, 5, 1)
    return TxnResponse(
        header,
        True,
        [
            RangeResponse(header, count=exact_count),
            RangeResponse(header, kvs=[kv(k) for k in below_keys], count=len(below_keys)),
        ],
    )


def test_contains_reads_the_key_and_one_key_below_it_at_once():
    txn = classic.contains_txn("/d")
    request = txn.to_request()
    assert not request.compare and len(request.success) == 2
    exact, below = (op.request_range for op in request.success)
    assert (exact.key, exact.range_end, exact.count_only) == (b"/d", b"", True)
    assert (below.key, below.range_end, below.limit, below.keys_only) == (b"/d/", b"/d0", 1, True)
    assert classic.contains_result("/d", contains_answer(1, []))
    assert classic.contains_result("/d", contains_answer(0, ["/d/x"]))
    assert not classic.contains_result("/d", contains_answer(0, []))
    assert classic.contains_result("/", contains_answer(0, []))


def test_key_in_client_asks_the_sync_client_and_refuses_on_the_asyncio_one():
    class Answering(ContainsMixin):
        def __init__(self):
            self.asked = []

        def contains(self, key):
            self.asked.append(key)
            return key == "/yes"

    answering = Answering()
    assert "/yes" in answering and "/no" not in answering
    assert answering.asked == ["/yes", "/no"]
    client = etcd.AsyncClient(port=1)
    with pytest.raises(etcd.EtcdTypeError, match=r"await client\.contains\(key\)"):
        "/k" in client  # noqa: B015
    assert issubclass(etcd.Client, ContainsMixin)


def test_read_timeout_zero_means_no_deadline_as_in_python_etcd():
    with etcd.Client(read_timeout=0) as client:
        assert client.config.timeout is None
    with etcd.Client(read_timeout=3) as client:
        assert client.config.timeout == 3
