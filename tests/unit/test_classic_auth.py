"""v2 permission patterns as v3 key ranges."""

import pytest

import etcd
from etcd._core import classic_auth
from etcd._core.auth import Permission, PermissionType


@pytest.mark.parametrize(
    ("pattern", "key_range"),
    [("/a", (b"/a", b"")), ("/a/*", (b"/a/", b"/a0")), ("*", (b"\0", b"\0"))],
)
def test_patterns_and_ranges_map_both_ways(pattern, key_range):
    assert classic_auth.range_of(pattern) == key_range
    permission = Permission(PermissionType.READ, *key_range)
    assert classic_auth.pattern_of(permission) == pattern


def test_what_cannot_be_mapped_says_why():
    with pytest.raises(etcd.EtcdNotSupported, match="'\\*' before its end"):
        classic_auth.range_of("/a/*/b")
    with pytest.raises(etcd.EtcdValueError):
        classic_auth.range_of("")
    with pytest.raises(etcd.EtcdNotSupported, match="no v2 path pattern"):
        classic_auth.pattern_of(Permission(PermissionType.READ, b"/a", b"/c"))


def test_grants_turn_one_set_of_paths_into_another():
    before = {"/gone": PermissionType.READ, "/same": PermissionType.READ}
    changes = classic_auth.grants_of(before, read={"/same", "/both"}, write={"/both"})
    assert [(c.path, c.type) for c in changes] == [
        ("/gone", None),
        ("/both", PermissionType.READWRITE),
    ]
    with pytest.raises(etcd.EtcdNotSupported):
        classic_auth.grants_of({}, read={"/a/*/b"}, write=())
