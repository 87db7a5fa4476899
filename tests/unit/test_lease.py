"""Keep-alive scheduling and lock/election recipes, without a server."""

import etcd
from etcd._core import concurrency as recipes
from etcd._core.lease import KeepAliveSchedule
from etcd._core.responses import KeyValue, PutResponse, RangeResponse, ResponseHeader, TxnResponse


def test_a_lease_is_refreshed_a_third_of_its_ttl_after_each_refresh():
    schedule = KeepAliveSchedule(7, ttl=30, now=100.0)
    assert not schedule.due(109.9) and schedule.due(110.0)
    schedule.sent(110.0)
    assert not schedule.due(111.0)  # an answer is awaited
    assert schedule.confirmed(30, 110.5)
    assert schedule.next_send == 120.5 and schedule.expires_at == 140.5


def test_a_lease_without_confirmed_refresh_for_a_whole_ttl_is_expired():
    schedule = KeepAliveSchedule(7, ttl=9, now=0.0)
    schedule.sent(3.0)
    assert not schedule.expired(8.9)
    assert schedule.expired(9.0)


def test_an_answer_with_no_ttl_means_the_lease_is_gone():
    schedule = KeepAliveSchedule(7, ttl=9, now=0.0)
    schedule.sent(3.0)
    assert not schedule.confirmed(0, 3.1)


def test_an_unanswered_refresh_marks_the_stream_stuck():
    schedule = KeepAliveSchedule(7, ttl=30, now=0.0)
    schedule.sent(10.0)
    assert not schedule.unanswered(14.9, grace=5.0)
    assert schedule.unanswered(15.1, grace=5.0)
    schedule.resend_now(16.0)
    assert schedule.due(16.0)


def test_keys_follow_gos_scheme():
    prefix = recipes.name_prefix("my-lock")
    assert prefix == b"my-lock/"
    assert recipes.contender_key(prefix, 0x694D5BB6E7D1B20A) == b"my-lock/694d5bb6e7d1b20a"


def test_the_queue_is_read_in_creation_order():
    first = recipes.first_created(b"l/")
    assert first.range_end == b"l0" and first.limit == 1
    assert first.sort_target == etcd.SortTarget.CREATE and first.sort_order == etcd.SortOrder.ASCEND
    last = recipes.last_created_before(b"l/", 41)
    assert last.sort_order == etcd.SortOrder.DESCEND and last.max_create_revision == 41


def header(revision):
    return ResponseHeader(1, 1, revision, 1)


def kv(key, create, value=b""):
    return KeyValue(key, value, create, create, 1, 5)


def test_enqueued_when_first_and_when_already_queued():
    owner = RangeResponse(header(10), [kv(b"l/a", 10)], False, 1)
    mine = recipes.enqueued(
        b"l/a", b"", TxnResponse(header(10), True, [PutResponse(header(10)), owner])
    )
    assert mine.revision == 10 and mine.is_first
    again = RangeResponse(header(12), [kv(b"l/b", 11, b"v")], False, 1)
    queued = recipes.enqueued(b"l/b", b"w", TxnResponse(header(12), False, [again, owner]))
    assert queued.revision == 11 and queued.value == b"v" and not queued.is_first


def test_fencing_compare():
    compare = recipes.holds(b"l/a", 10)
    assert compare.target == etcd.CompareTarget.CREATE and compare.operand == 10
