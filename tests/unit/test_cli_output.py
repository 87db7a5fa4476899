"""The command-line tool's output formats, without a server.

The expected bytes were printed by the real etcdctl 3.5.1 for the same answers;
tests/integration/test_cli.py compares the two tools live as well.
"""

import pytest

from etcd import (
    Alarm,
    AuthStatus,
    Event,
    EventType,
    KeyValue,
    LeaseGrantResponse,
    LeaseLeasesResponse,
    LeaseTimeToLiveResponse,
    Member,
    MemberListResponse,
    Permission,
    PermissionType,
    PutResponse,
    RangeResponse,
    ResponseHeader,
    Role,
    StatusResponse,
    TxnResponse,
)
from etcd._cli import _gofmt
from etcd._cli.printers import (
    Alarms,
    Health,
    NamedStatus,
    Names,
    SnapshotStatus,
    Unsupported,
    WatchBatch,
    printer,
)
from etcd._cli.printers.table import render, wrap_cell
from etcd._core.responses import DeleteRangeResponse

HEADER = ResponseHeader(17988348542167724747, 10552928183121906622, 3, 2)
FOO = KeyValue(b"foo", b"bar", 2, 2, 1, 0)
FOO2 = KeyValue(b"foo2", b"bar 2", 3, 3, 1, 0)
RANGE = RangeResponse(HEADER, [FOO, FOO2], False, 2)


def out(fmt: str, method: str, *args, **options) -> str:
    written: bytes = getattr(printer(fmt, **options), method)(*args)
    return written.decode()


# --- Go formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        (b"foo", '"foo"'),
        (b'a"b\\c', '"a\\"b\\\\c"'),
        (b"\x00\x01\xff", '"\\x00\\x01\\xff"'),
        (b"\n\t\r\a\b\f\v", '"\\n\\t\\r\\a\\b\\f\\v"'),
        (b"\x7f", '"\\x7f"'),
        ("ünï €".encode(), '"ünï €"'),
        ("\u00a0\u2028".encode(), '"\\u00a0\\u2028"'),
        ("\U0001f600".encode(), '"\U0001f600"'),
        ("\U000e0001".encode(), '"\\U000e0001"'),
        (b"\xe2\x82", '"\\xe2\\x82"'),  # a cut-off character: its bytes
        (b"\xed\xa0\x80", '"\\xed\\xa0\\x80"'),  # a surrogate is not UTF-8
    ],
)
def test_quote_is_gos_percent_q(value, quoted):
    assert _gofmt.quote(value) == quoted


@pytest.mark.parametrize(
    ("text", "value", "rest"),
    [
        ('"k1") = "v"', b"k1", ') = "v"'),
        ('"a\\"b\\\\c\\n\\x00\\u00e9\\101"', b'a"b\\c\n\x00\xc3\xa9A', ""),
        ("`raw \\n`tail", b"raw \\n", "tail"),
    ],
)
def test_unquote_reads_one_go_string(text, value, rest):
    assert _gofmt.unquote_prefix(text) == (value, rest)


@pytest.mark.parametrize("text", ['"open', "bare", '"bad \\q"', '"\\x4"', "`open"])
def test_unquote_refuses_what_go_refuses(text):
    with pytest.raises(_gofmt.QuoteError):
        _gofmt.unquote_prefix(text)


def test_json_strings_are_gos():
    assert _gofmt.json_string('a"b\\c') == '"a\\"b\\\\c"'
    assert _gofmt.json_string("<&>\u2028\u2029") == '"\\u003c\\u0026\\u003e\\u2028\\u2029"'
    assert _gofmt.json_string("\n\r\t\x01\x08\x0c") == '"\\n\\r\\t\\u0001\\u0008\\u000c"'
    assert _gofmt.json_string("ünï") == '"ünï"'


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (0, "0s"),
        (999, "999ns"),
        (1_500, "1.5µs"),
        (3_821_328, "3.821328ms"),
        (10_000_000, "10ms"),
        (1_000_000_000, "1s"),
        (90_500_000_000, "1m30.5s"),
        (3_600_000_000_000, "1h0m0s"),
        (-1_500_000, "-1.5ms"),
    ],
)
def test_durations_are_gos(nanoseconds, text):
    assert _gofmt.duration(nanoseconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (9, "9 B"), (10, "10 B"), (999, "999 B"), (1000, "1.0 kB"), (24576, "25 kB"),
     (315392, "315 kB"), (2_147_483_648, "2.1 GB")],
)  # fmt: skip
def test_sizes_are_humanized_as_etcdctl_does(size, text):
    assert _gofmt.humanize_bytes(size) == text


def test_go_integer_and_boolean_parsing():
    assert _gofmt.parse_int("ff", 16) == 255
    assert _gofmt.parse_int("-10", 10) == -10
    with pytest.raises(ValueError, match=r'strconv.ParseInt: parsing "zz": invalid syntax'):
        _gofmt.parse_int("zz", 16)
    with pytest.raises(ValueError, match="value out of range"):
        _gofmt.parse_int("ffffffffffffffff", 16)
    assert _gofmt.parse_int("ffffffffffffffff", 16, signed=False) == 2**64 - 1
    assert _gofmt.parse_bool("T") is True
    assert _gofmt.parse_bool("false") is False
    with pytest.raises(ValueError):
        _gofmt.parse_bool("yes")


def test_hex_prefixes_every_byte():
    assert _gofmt.hex_escaped(b"k1") == b"\\x6b\\x31"
    assert _gofmt.hex_escaped(b"") == b""


def test_display_width_counts_wide_characters_twice():
    assert _gofmt.display_width("abc") == 3
    assert _gofmt.display_width("日本") == 4
    assert _gofmt.display_width("e\u0301") == 1


# --- tables -----------------------------------------------------------------------------------


def test_table_layout_is_etcdctls():
    text = render(
        ["ID", "STATUS", "NAME"], [["927388454f308bbe", "started", "default"], ["1", "x", ""]]
    )
    assert text == (
        "+------------------+---------+---------+\n"
        "|        ID        | STATUS  |  NAME   |\n"
        "+------------------+---------+---------+\n"
        "| 927388454f308bbe | started | default |\n"
        "|                1 |       x |         |\n"
        "+------------------+---------+---------+\n"
    )


def test_long_cells_wrap_at_spaces_into_even_lines():
    # etcdctl's ERRORS column for a NOSPACE alarm.
    cell = "memberID:17457945785857666952 alarm:NOSPACE "
    assert wrap_cell(cell, 30) == ["memberID:17457945785857666952", "alarm:NOSPACE "]
    text = render(["ERRORS"], [[cell]])
    assert text.splitlines()[1:5] == [
        "|             ERRORS             |",
        "+--------------------------------+",
        "|  memberID:17457945785857666952 |",
        "|                 alarm:NOSPACE  |",
    ]
    # Minimum raggedness, not greedy filling: the lines come out even.
    assert wrap_cell("aaa bb cc ddddd", 6) == ["aaa", "bb cc", "ddddd"]
    # A word longer than the limit is never split.
    assert wrap_cell("x" * 40, 30) == ["x" * 40]


def test_a_table_without_rows_has_its_header():
    assert render(["HASH"], []) == "+------+\n| HASH |\n+------+\n+------+\n"


# --- the printers -----------------------------------------------------------------------------


def test_get_in_each_format():
    assert out("simple", "get", RANGE) == "foo\nbar\nfoo2\nbar 2\n"
    assert out("simple", "get", RANGE, hex_output=True) == (
        "\\x66\\x6f\\x6f\n\\x62\\x61\\x72\n\\x66\\x6f\\x6f\\x32\n\\x62\\x61\\x72\\x20\\x32\n"
    )
    assert out("simple", "get", RANGE, value_only=True) == "bar\nbar 2\n"
    assert out("json", "get", RANGE) == (
        '{"header":{"cluster_id":17988348542167724747,"member_id":10552928183121906622,'
        '"revision":3,"raft_term":2},"kvs":[{"key":"Zm9v","create_revision":2,'
        '"mod_revision":2,"version":1,"value":"YmFy"},{"key":"Zm9vMg==","create_revision":3,'
        '"mod_revision":3,"version":1,"value":"YmFyIDI="}],"count":2}\n'
    )
    assert out("fields", "get", RangeResponse(HEADER, [FOO], True, 3)) == (
        '"ClusterID" : 17988348542167724747\n"MemberID" : 10552928183121906622\n'
        '"Revision" : 3\n"RaftTerm" : 2\n"Key" : "foo"\n"CreateRevision" : 2\n'
        '"ModRevision" : 2\n"Version" : 1\n"Value" : "bar"\n"Lease" : 0\n'
        '"More" : true\n"Count" : 3\n'
    )
    with pytest.raises(Unsupported, match="table not supported as output format"):
        out("table", "get", RANGE)


def test_an_empty_get_leaves_out_what_go_leaves_out():
    empty = RangeResponse(HEADER, [], False, 0)
    assert out("simple", "get", empty) == ""
    assert out("json", "get", empty) == (
        '{"header":{"cluster_id":17988348542167724747,"member_id":10552928183121906622,'
        '"revision":3,"raft_term":2}}\n'
    )


def test_put_and_delete_with_previous_values():
    previous = KeyValue(b"k1", b"v1", 4, 6, 3, 0)
    assert out("simple", "put", PutResponse(HEADER, previous)) == "OK\nk1\nv1\n"
    assert out("json", "put", PutResponse(HEADER, previous)).endswith(
        ',"prev_kv":{"key":"azE=","create_revision":4,"mod_revision":6,"version":3,'
        '"value":"djE="}}\n'
    )
    assert out("fields", "put", PutResponse(HEADER, previous)).endswith(
        '"PrevKey" : "k1"\n"PrevCreateRevision" : 4\n"PrevModRevision" : 6\n'
        '"PrevVersion" : 3\n"PrevValue" : "v1"\n"PrevLease" : 0\n'
    )
    deleted = DeleteRangeResponse(HEADER, 1, [previous])
    assert out("simple", "delete", deleted) == "1\nk1\nv1\n"
    assert out("json", "delete", DeleteRangeResponse(HEADER, 0, [])).endswith('"raft_term":2}}\n')


def test_txn_nests_responses_as_etcdctl():
    inner = ResponseHeader(0, 0, 29, 0)
    response = TxnResponse(
        HEADER,
        True,
        [PutResponse(inner), RangeResponse(inner, [FOO], False, 1), DeleteRangeResponse(inner)],
    )
    assert out("simple", "txn", response) == "SUCCESS\n\nOK\n\nfoo\nbar\n\n0\n"
    assert out("json", "txn", response).endswith(
        '"succeeded":true,"responses":[{"Response":{"response_put":{"header":{"revision":29}}}},'
        '{"Response":{"response_range":{"header":{"revision":29},"kvs":[{"key":"Zm9v",'
        '"create_revision":2,"mod_revision":2,"version":1,"value":"YmFy"}],"count":1}}},'
        '{"Response":{"response_delete_range":{"header":{"revision":29}}}}]}\n'
    )
    failed = out("fields", "txn", TxnResponse(HEADER, False, [PutResponse(inner)]))
    assert failed.endswith(
        '"Succeeded" : false\n"ClusterID" : 0\n"MemberID" : 0\n"Revision" : 29\n"RaftTerm" : 0\n'
    )


def test_watch_events():
    deleted = Event(
        EventType.DELETE, KeyValue(b"w1", b"", 0, 34, 0, 0), KeyValue(b"w1", b"b", 32, 33, 2, 0)
    )
    batch = WatchBatch(ResponseHeader(1, 2, 34, 2), [deleted])
    assert out("simple", "watch", batch) == "DELETE\nw1\nb\nw1\n\n"
    assert out("json", "watch", batch) == (
        '{"Header":{"cluster_id":1,"member_id":2,"revision":34,"raft_term":2},'
        '"Events":[{"type":1,"kv":{"key":"dzE=","mod_revision":34},"prev_kv":{"key":"dzE=",'
        '"create_revision":32,"mod_revision":33,"version":2,"value":"Yg=="}}],'
        '"CompactRevision":0,"Canceled":false,"Created":false}\n'
    )
    canceled = WatchBatch(ResponseHeader(1, 2, 0, 2), [], compact_revision=5, canceled=True)
    assert out("json", "watch", canceled) == (
        '{"Header":{"cluster_id":1,"member_id":2,"raft_term":2},"Events":[],'
        '"CompactRevision":5,"Canceled":true,"Created":false}\n'
    )
    assert out("fields", "watch", batch).splitlines()[4] == '"Type" : DELETE'


def test_leases():
    grant = LeaseGrantResponse(HEADER, 0x0BBEA2186790E94E, 100)
    assert out("simple", "lease_grant", grant) == "lease 0bbea2186790e94e granted with TTL(100s)\n"
    assert out("json", "lease_grant", grant) == (
        '{"cluster_id":17988348542167724747,"member_id":10552928183121906622,"revision":3,'
        '"raft_term":2,"ID":846292005692696910,"TTL":100,"Error":""}\n'
    )
    alive = LeaseTimeToLiveResponse(HEADER, 0x0BBEA2186790E954, 49, 50, [b"lk", b"lk2"])
    assert out("simple", "lease_time_to_live", alive, True) == (
        "lease 0bbea2186790e954 granted with TTL(50s), remaining(49s), attached keys([lk lk2])\n"
    )
    assert out("json", "lease_time_to_live", alive, False).endswith(
        '"id":846292005692696916,"ttl":49,"granted-ttl":50,"keys":["bGs=","bGsy"]}\n'
    )
    gone = LeaseTimeToLiveResponse(HEADER, 0x0BBEA2186790E954, -1, 0, [])
    assert out("simple", "lease_time_to_live", gone, False) == (
        "lease 0bbea2186790e954 already expired\n"
    )
    assert out("json", "lease_time_to_live", gone, False).endswith(
        '"ttl":-1,"granted-ttl":0,"keys":null}\n'
    )
    listed = LeaseLeasesResponse(HEADER, [1, 2])
    assert out("simple", "lease_list", listed) == (
        "found 2 leases\n0000000000000001\n0000000000000002\n"
    )
    assert out("json", "lease_list", LeaseLeasesResponse(HEADER, [])).endswith('"leases":[]}\n')


MEMBERS = MemberListResponse(
    ResponseHeader(17988348542167724747, 10552928183121906622, 0, 2),
    [
        Member(0x6D5E8369A2AC4355, "", ("http://127.0.0.1:12387",), (), True),
        Member(
            0x927388454F308BBE,
            "default",
            ("http://127.0.0.1:54349",),
            ("http://127.0.0.1:56871",),
        ),
    ],
)


def test_member_list_in_each_format():
    assert out("simple", "member_list", MEMBERS) == (
        "6d5e8369a2ac4355, unstarted, , http://127.0.0.1:12387, , true\n"
        "927388454f308bbe, started, default, http://127.0.0.1:54349, http://127.0.0.1:56871, "
        "false\n"
    )
    assert out("json", "member_list", MEMBERS) == (
        '{"header":{"cluster_id":17988348542167724747,"member_id":10552928183121906622,'
        '"raft_term":2},"members":[{"ID":7880880887668949845,"peerURLs":'
        '["http://127.0.0.1:12387"],"isLearner":true},{"ID":10552928183121906622,'
        '"name":"default","peerURLs":["http://127.0.0.1:54349"],"clientURLs":'
        '["http://127.0.0.1:56871"]}]}\n'
    )
    assert out("json", "member_list", MEMBERS, hex_output=True) == (
        '{"header":{"cluster_id":"f9a373b157d2b2cb","member_id":"927388454f308bbe",'
        '"raft_term":2},"members":[{"ID":"6d5e8369a2ac4355","name":"","peerURLs":'
        '["http://127.0.0.1:12387"],"clientURLS":null},{"ID":"927388454f308bbe",'
        '"name":"default","peerURLs":["http://127.0.0.1:54349"],"clientURLS":'
        '["http://127.0.0.1:56871"]}]}\n'
    )
    assert out("fields", "member_list", MEMBERS).endswith(
        '"ID" : 10552928183121906622\n"Name" : "default"\n"PeerURL" : "http://127.0.0.1:54349"\n'
        '"ClientURL" : "http://127.0.0.1:56871"\n"IsLearner" : false\n\n'
    )
    assert out("table", "member_list", MEMBERS) == (
        "+------------------+-----------+---------+------------------------+"
        "------------------------+------------+\n"
        "|        ID        |  STATUS   |  NAME   |       PEER ADDRS       |"
        "      CLIENT ADDRS      | IS LEARNER |\n"
        "+------------------+-----------+---------+------------------------+"
        "------------------------+------------+\n"
        "| 6d5e8369a2ac4355 | unstarted |         | http://127.0.0.1:12387 |"
        "                        |       true |\n"
        "| 927388454f308bbe |   started | default | http://127.0.0.1:54349 |"
        " http://127.0.0.1:56871 |      false |\n"
        "+------------------+-----------+---------+------------------------+"
        "------------------------+------------+\n"
    )


def test_member_ids_are_padded_to_16_in_simple_messages():
    removed = printer("simple").member_remove(0xDCD10E9F86AAD7D, MEMBERS)  # type: ignore[arg-type]
    assert removed == b"Member  dcd10e9f86aad7d removed from cluster f9a373b157d2b2cb\n"


def test_endpoint_status_and_health():
    status = StatusResponse(
        header=ResponseHeader(17449359764274137211, 17457945785857666952, 32, 2),
        endpoint="127.0.0.1:45387",
        version="3.5.1",
        db_size=315392,
        db_size_in_use=311296,
        leader=17457945785857666952,
        raft_index=43,
        raft_term=2,
        raft_applied_index=43,
        errors=["memberID:17457945785857666952 alarm:NOSPACE "],
    )
    named = [NamedStatus("http://127.0.0.1:45387", status)]
    assert out("simple", "endpoint_status", named) == (
        "http://127.0.0.1:45387, f24715323212ef88, 3.5.1, 315 kB, true, false, 2, 43, 43, "
        "memberID:17457945785857666952 alarm:NOSPACE \n"
    )
    assert out("json", "endpoint_status", named).endswith(
        '"raftAppliedIndex":43,"errors":["memberID:17457945785857666952 alarm:NOSPACE "],'
        '"dbSizeInUse":311296}}]\n'
    )
    assert out("fields", "endpoint_status", named).endswith(
        '"Errors" : [memberID:17457945785857666952 alarm:NOSPACE ]\n'
        '"Endpoint" : "http://127.0.0.1:45387"\n\n'
    )
    table = out("table", "endpoint_status", named).splitlines()
    assert table[3].endswith("|                 43 |  memberID:17457945785857666952 |")
    assert table[4].endswith("|                    |                 alarm:NOSPACE  |")
    assert out("json", "endpoint_status", []) == "[]\n"

    healthy = Health("http://127.0.0.1:2379", True, "3.8ms")
    sick = Health("http://127.0.0.1:2380", False, "4ms", "Active Alarm(s): NOSPACE ")
    assert out("simple", "endpoint_health", [healthy, sick]) == (
        "http://127.0.0.1:2379 is healthy: successfully committed proposal: took = 3.8ms\n"
    )
    assert out("json", "endpoint_health", [healthy, sick]) == (
        '[{"endpoint":"http://127.0.0.1:2379","health":true,"took":"3.8ms"},'
        '{"endpoint":"http://127.0.0.1:2380","health":false,"took":"4ms",'
        '"error":"Active Alarm(s): NOSPACE "}]\n'
    )
    assert out("fields", "endpoint_health", [healthy]) == (
        '"Endpoint" : "http://127.0.0.1:2379"\n"Health" : true\n"Took" : 3.8ms\n"Error" : \n\n'
    )


def test_alarms():
    raised = Alarms(HEADER, [Alarm(17457945785857666952, "NOSPACE")])
    assert out("simple", "alarm", raised) == "memberID:17457945785857666952 alarm:NOSPACE \n"
    assert out("json", "alarm", raised).endswith(
        '"alarms":[{"memberID":17457945785857666952,"alarm":1}]}\n'
    )
    assert out("fields", "alarm", raised).endswith(
        '"MemberID" : 17457945785857666952\n"AlarmType" : NOSPACE\n\n'
    )
    assert out("json", "alarm", Alarms(None, [])) == "{}\n"


def test_move_leader_without_a_header_prints_an_empty_object():
    assert out("json", "move_leader", 1, 1, ResponseHeader(0, 0, 0, 0)) == "{}\n"
    assert out("simple", "move_leader", 0xAB, 0xCD, HEADER) == (
        "Leadership transferred from ab to cd\n"
    )


def test_auth_outputs():
    role = Role(
        "r0",
        [
            Permission(PermissionType.READ, b"\0", b"\0"),
            Permission(PermissionType.WRITE, b"\x01\xff"),
            Permission(PermissionType.READWRITE, b"x", b"y"),
            Permission(PermissionType.WRITE, b"a", b"z"),
        ],
        HEADER,
    )
    assert printer("simple").role_get(role) == (
        b"Role r0\nKV Read:\n\t[\x00, <open ended>\n\t[x, y) (prefix x)\n"
        b"KV Write:\n\t\x01\xff\n\t[x, y) (prefix x)\n\t[a, z)\n"
    )
    assert out("json", "role_get", role).endswith(
        '"perm":[{"key":"AA==","range_end":"AA=="},{"permType":1,"key":"Af8="},'
        '{"permType":2,"key":"eA==","range_end":"eQ=="},'
        '{"permType":1,"key":"YQ==","range_end":"eg=="}]}\n'
    )
    assert '"PermType" :  READ\n"Key" : "\\x00"\n"RangeEnd" : "\\x00"\n' in out(
        "fields", "role_get", role
    )
    names = Names(HEADER, ["r0", "root"])
    assert out("fields", "role_list", names).endswith('"Roles" : "r0" "root"\n')
    assert out("json", "user_list", names).endswith('"users":["r0","root"]}\n')
    status = AuthStatus(False, 30, HEADER)
    assert out("simple", "auth_status", status) == (
        "Authentication Status: false\nAuthRevision: 30\n"
    )
    assert out("json", "auth_status", status).endswith('"raft_term":2},"authRevision":30}\n')
    revoked = printer("simple").role_revoke_permission("r", b"b", b"\0", HEADER)
    assert revoked == b"Permission of range [b, <open ended> is revoked from role r\n"
    with pytest.raises(Unsupported, match="fields not supported"):
        out("fields", "user_list", names)


def test_snapshot_status():
    status = SnapshotStatus(0x957A2861, 39, 54, 24576)
    assert out("simple", "snapshot_status", status) == "957a2861, 39, 54, 25 kB\n"
    assert out("json", "snapshot_status", status) == (
        '{"hash":2507810913,"revision":39,"totalKey":54,"totalSize":24576}\n'
    )
    assert out("fields", "snapshot_status", status) == (
        '"Hash" : 2507810913\n"Revision" : 39\n"Keys" : 54\n"Size" : 24576\n'
    )
    assert out("table", "snapshot_status", status) == (
        "+----------+----------+------------+------------+\n"
        "|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |\n"
        "+----------+----------+------------+------------+\n"
        "| 957a2861 |       39 |         54 |      25 kB |\n"
        "+----------+----------+------------+------------+\n"
    )


def test_supports_tells_which_outputs_a_format_defines():
    assert printer("table").supports("member_list")
    assert not printer("table").supports("get")
    assert not printer("fields").supports("member_add")
    assert printer("json").supports("member_add")
    with pytest.raises(ValueError):
        printer("xml")


def test_endpoint_status_from_etcd_3_6_has_etcdctl_3_6_s_columns():
    from etcd import DowngradeInfo

    status = StatusResponse(
        header=ResponseHeader(17449359764274137211, 17457945785857666952, 32, 2),
        endpoint="127.0.0.1:2379",
        version="3.6.5",
        db_size=400_000,
        db_size_in_use=300_000,
        leader=17457945785857666952,
        raft_index=43,
        raft_term=2,
        raft_applied_index=43,
        db_size_quota=2_147_483_648,
        storage_version="3.6.0",
        downgrade=DowngradeInfo(True, "3.5.0"),
    )
    named = [NamedStatus("http://127.0.0.1:2379", status)]
    assert out("simple", "endpoint_status", named) == (
        "http://127.0.0.1:2379, f24715323212ef88, 3.6.5, 3.6.0, 400 kB, 300 kB, 25%, 2.1 GB, "
        "true, false, 2, 43, 43, , 3.5.0, true\n"
    )
    table = out("table", "endpoint_status", named).splitlines()
    assert "STORAGE VERSION" in table[1] and "DOWNGRADE ENABLED" in table[1]
    assert out("json", "endpoint_status", named).endswith(
        '"dbSizeInUse":300000,"storageVersion":"3.6.0","dbSizeQuota":2147483648,'
        '"downgradeInfo":{"enabled":true,"targetVersion":"3.5.0"}}}]\n'
    )
    fields = out("fields", "endpoint_status", named)
    assert '"StorageVersion" : "3.6.0"\n' in fields
    assert fields.endswith('"DowngradeTargetVersion" : "3.5.0"\n"DowngradeEnabled" : true\n\n')
