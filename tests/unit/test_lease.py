"""Keep-alive scheduling and lock/election recipes, without a server."""

from unittest import mock

import etcd
from etcd._core import concurrency as recipes
from etcd._core.lease import KeepAliveSchedule, KeepAliveTimetable
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


def test_a_timetable_refreshes_a_new_lease_at_once_and_then_a_third_of_its_ttl_later():
    timetable = KeepAliveTimetable(grace=5.0)
    timetable.add(7, ttl=30, now=100.0)
    turn = timetable.poll(100.0)
    assert turn.due == [7] and not turn.expired and not turn.stalled
    assert timetable.confirm(7, 30, 100.5) == 0.5
    assert timetable.poll(110.0).due == []
    assert timetable.poll(110.5).due == [7]


def test_a_timetable_wakes_for_the_next_lease_due_not_for_answers_it_had():
    timetable = KeepAliveTimetable(grace=5.0)
    timetable.add(1, ttl=30, now=0.0)
    timetable.add(2, ttl=60, now=0.0)
    assert timetable.poll(0.0).due == [1, 2]
    timetable.confirm(1, 30, 0.1)
    turn = timetable.poll(0.2)
    # Lease 2 awaits its answer (stuck after 5 s); lease 1 is due at 10.1.
    assert turn.due == [] and turn.wake_at == 5.0
    timetable.confirm(2, 60, 0.3)
    assert timetable.poll(0.4).wake_at == 10.1


def test_a_turn_looks_only_at_the_leases_due():
    timetable = KeepAliveTimetable(grace=5.0)
    for lease_id in range(1000):
        timetable.add(lease_id, ttl=30, now=float(lease_id) / 100)
        timetable.poll(float(lease_id) / 100)
        timetable.confirm(lease_id, 30, float(lease_id) / 100)
    with mock.patch.object(
        KeepAliveSchedule, "due", autospec=True, side_effect=KeepAliveSchedule.due
    ) as due:
        turn = timetable.poll(10.05)  # leases 0 to 5 are due (added at 0.00 to 0.05)
    assert turn.due == [0, 1, 2, 3, 4, 5]
    assert due.call_count == 6


def test_a_timetable_forgets_expired_and_removed_leases():
    timetable = KeepAliveTimetable(grace=5.0)
    timetable.add(1, ttl=9, now=0.0)
    timetable.add(2, ttl=9, now=0.0)
    timetable.poll(0.0)
    timetable.confirm(1, 9, 0.1)
    timetable.confirm(2, 9, 0.1)
    timetable.remove(2)
    turn = timetable.poll(9.2)  # not refreshed since 0.1: gone after 9 s
    assert [schedule.lease_id for schedule in turn.expired] == [1] and turn.due == []
    assert len(timetable) == 0 and turn.wake_at is None


def test_a_timetable_says_when_the_stream_stalls_and_refreshes_all_on_a_new_one():
    timetable = KeepAliveTimetable(grace=2.0)
    timetable.add(1, ttl=30, now=0.0)
    timetable.add(2, ttl=30, now=0.0)
    timetable.poll(0.0)
    timetable.confirm(1, 30, 0.1)
    assert not timetable.poll(1.9).stalled
    assert timetable.poll(2.1).stalled
    timetable.resend_all(2.2)
    assert timetable.poll(2.2).due == [1, 2]


def test_an_answer_that_the_lease_is_gone_forgets_it():
    timetable = KeepAliveTimetable(grace=5.0)
    timetable.add(1, ttl=30, now=0.0)
    timetable.poll(0.0)
    assert timetable.confirm(1, 0, 0.1) is None
    assert 1 not in timetable and timetable.poll(20.0).due == []


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
