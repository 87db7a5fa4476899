"""The coalescing bookkeeping, without a server."""

from __future__ import annotations

import pytest

import etcd
from etcd import Op
from etcd._core.coalescing import (
    AUTO_ALONE_UP_TO,
    IN_FLIGHT,
    SMALL_OP_BYTES,
    Lane,
    Pending,
    Queue,
    State,
    batch_request,
    distribute,
    earliest_deadline,
    lane_of,
    read_lane_of,
    refused,
    timed_out,
)
from etcd._wire import messages as pb


class Signal:
    def __init__(self) -> None:
        self.woken = False

    def set(self) -> None:
        self.woken = True


def pending(op, deadline=None):
    return Pending(op, op.to_request(), deadline, Signal())


def test_lanes():
    assert lane_of(Op.range("a")) is Lane.READS
    assert lane_of(Op.range("a", serializable=True)) is Lane.SERIALIZABLE_READS
    assert lane_of(Op.range("a", prefix=True)) is None  # a scan would hold up the others
    assert lane_of(Op.range("a", "b")) is None
    assert lane_of(Op.put("a", "v")) is Lane.WRITES
    assert lane_of(Op.put("a", b"v" * SMALL_OP_BYTES)) is None
    assert lane_of(Op.delete_range("a")) is None
    assert lane_of(etcd.Txn().Then(Op.put("a", "v"))) is None


def test_read_lanes_hold_the_reads_of_lane_of_and_nothing_else():
    reads = [Op.range("a"), Op.range("a", serializable=True), Op.range("a", prefix=True)]
    for read in reads:
        assert read_lane_of(read) is lane_of(read)
    for other in (Op.put("a", "v"), Op.delete_range("a"), etcd.Txn().Then(Op.range("a"))):
        assert read_lane_of(other) is None


@pytest.mark.parametrize(
    ("given", "mode"),
    [(None, "reads"), ("reads", "reads"), ("auto", "auto"), (True, True), (False, False)],
)
def test_the_coalescing_modes_and_the_default(given, mode):
    client = etcd.Client() if given is None else etcd.Client(coalesce=given)
    assert client._config.coalesce == mode
    assert (client._coalescer is None) is (mode is False)
    if client._coalescer is not None:
        assert (client._coalescer.lane_of(Op.put("k", "v")) is None) is (mode == "reads")
        assert client._coalescer.lane_of(Op.range("k")) is Lane.READS
    client.close()


@pytest.mark.parametrize("given", ["always", "READS", 1, None])
def test_an_unknown_coalescing_mode_is_refused_before_anything_is_sent(given):
    with pytest.raises(etcd.EtcdTypeError, match="coalesce must be 'reads', 'auto', True or False"):
        etcd.Client(coalesce=given)


def fill(queue):
    """Fill the lane's room on the wire with leaders, so that the next calls wait."""
    while queue.in_flight < IN_FLIGHT:
        assert queue.arrive(pending(Op.put(f"leader{queue.in_flight}", "v"))) is True


def test_room_is_taken_only_while_the_lane_has_some_and_nobody_waits():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    assert all(queue.take_room() for _ in range(IN_FLIGHT))
    assert queue.take_room() is False
    waiting = pending(Op.range("w"))
    assert queue.arrive(waiting) is False
    leader, expired = queue.hand_off(now=0.0)
    assert leader is waiting and expired == []
    assert queue.take_room() is False  # the lane is full again, with the woken batch
    assert queue.hand_off(now=0.0) == (None, [])
    assert queue.take_room() is True


def test_the_first_calls_lead_and_the_others_wait():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    leaders = [pending(Op.range(f"lead{n}")) for n in range(IN_FLIGHT)]
    for leader in leaders:
        assert queue.arrive(leader) is True
        assert leader.state is State.LEADING and leader.batch == [leader]
    second, third = pending(Op.range("b")), pending(Op.range("c"))
    assert queue.arrive(second) is False and queue.arrive(third) is False
    leader, expired = queue.hand_off(now=0.0)
    assert leader is second and leader.batch == [second, third] and expired == []
    assert (second.state, third.state) == (State.LEADING, State.SENT)
    for _ in range(IN_FLIGHT):
        assert queue.hand_off(now=0.0) == (None, [])
    assert queue.in_flight == 0
    assert queue.arrive(pending(Op.range("d"))) is True


def test_an_adaptive_lane_sends_calls_alone_until_it_holds_more_than_a_few():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000, adaptive=True)
    for _ in range(AUTO_ALONE_UP_TO):
        queue.enter(None)
        assert queue.take_room() is True  # plain calls, however many are in flight
    queue.enter(None)
    waiting = pending(Op.range("w"))
    assert queue.take_room() is False and queue.arrive(waiting) is False  # busy: it waits
    leader, _ = queue.hand_off(now=0.0)
    assert leader is waiting
    for _ in range(AUTO_ALONE_UP_TO):
        queue.exit()
    assert queue.take_room() is True  # quiet again: sent alone


def test_a_quiet_adaptive_lane_counts_its_calls_and_nothing_else():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000, adaptive=True)
    for _ in range(AUTO_ALONE_UP_TO - 1):
        assert queue.enter_alone() is True
    assert queue.in_flight == 0 and not queue.waiting  # no turn taken, none to hand on
    assert queue.enter_alone() is True  # the eighth is still plain
    assert queue.enter_alone() is False  # the ninth coalesces
    queue.enter(None)
    assert queue.take_room() is True and queue.should_gather() is True
    for _ in range(AUTO_ALONE_UP_TO):
        queue.exit()
    assert queue.calls == 1 and queue.in_flight == 1


def test_an_adaptive_lane_with_calls_waiting_sends_no_newcomer_ahead_of_them():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000, adaptive=True)
    for _ in range(AUTO_ALONE_UP_TO + IN_FLIGHT):
        queue.enter(None)
        queue.take_room()
    waiting = pending(Op.range("w"))
    assert queue.arrive(waiting) is False
    for _ in range(AUTO_ALONE_UP_TO + IN_FLIGHT - 1):
        queue.exit()
    assert queue.calls == 1 and queue.enter_alone() is False


def test_a_fixed_lane_never_sends_a_call_outside_its_turns():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    assert queue.enter_alone() is False and queue.calls == 0


def test_a_handed_off_lane_with_nobody_waiting_frees_its_turn():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    assert queue.take_room() is True
    assert queue.hand_off(now=0.0) == (None, []) and queue.in_flight == 0


def test_a_fixed_lane_lets_two_out_however_few_calls_it_holds():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    queue.enter(None)
    assert all(queue.take_room() for _ in range(IN_FLIGHT))
    assert queue.take_room() is False


def test_a_call_that_finds_room_gathers_only_when_more_calls_are_under_way_than_fit():
    fixed = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    adaptive = Queue(Lane.READS, max_ops=128, max_bytes=10_000, adaptive=True)
    for queue, alone_up_to in ((fixed, IN_FLIGHT), (adaptive, AUTO_ALONE_UP_TO)):
        for _ in range(alone_up_to):
            queue.enter(None)
        assert queue.should_gather() is False
        queue.enter(None)
        assert queue.should_gather() is True


def test_a_call_that_found_room_takes_the_queued_calls_along():
    queue = Queue(Lane.WRITES, max_ops=3, max_bytes=10_000)
    assert queue.take_room() and queue.take_room()
    leader = pending(Op.put("a", "v"))
    queue.lead(leader)
    late = pending(Op.put("late", "v"), deadline=5.0)
    same_key, b, c, d = (pending(Op.put(k, "v")) for k in ("a", "b", "c", "d"))
    for call in (late, same_key, b, c, d):
        assert queue.arrive(call) is False
    expired = queue.gather(leader, now=10.0)
    assert expired == [late] and late.state is State.DONE
    # Its own key is taken: the second write of "a" waits for the next batch.
    assert leader.state is State.LEADING and leader.batch == [leader, b, c]
    assert b.state is State.SENT and c.state is State.SENT
    assert list(queue.waiting) == [same_key, d]
    nobody = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    alone = pending(Op.range("x"))
    assert nobody.take_room()
    nobody.lead(alone)
    assert nobody.gather(alone, now=0.0) == [] and alone.batch == [alone]


def test_a_waiting_read_needs_no_timer_unless_a_call_before_it_has_a_later_deadline():
    reads = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    # One timeout for every call: each read is woken in time by the requests before it.
    assert [reads.enter(deadline) for deadline in (5.0, 5.0, 6.0)] == [False, False, False]
    assert reads.enter(5.5) is True  # a call before it may be on the wire until 6.0
    assert reads.enter(None) is False  # no deadline to keep
    assert reads.enter(100.0) is True  # a call before it has no deadline at all
    for _ in range(6):
        reads.exit()
    assert reads.enter(1.0) is False  # the lane was idle: nothing is on the wire
    reads.in_flight = 1
    reads.exit()
    assert reads.enter(0.5) is True  # a request is still on the wire: the lane remembers
    writes = Queue(Lane.WRITES, max_ops=128, max_bytes=10_000)
    assert writes.enter(5.0) is True and writes.enter(6.0) is True  # writes can be passed
    assert writes.enter(None) is False


def test_a_batch_respects_the_operation_and_byte_limits():
    queue = Queue(Lane.WRITES, max_ops=3, max_bytes=1000)
    fill(queue)
    calls = [pending(Op.put(f"k{i}", "v" * 100)) for i in range(6)]
    for call in calls:
        queue.arrive(call)
    leader, _ = queue.hand_off(now=0.0)
    assert leader is not None and leader.batch == calls[:3]
    small = Queue(Lane.WRITES, max_ops=128, max_bytes=300)
    fill(small)
    for call in calls:
        small.arrive(call)
    leader, _ = small.hand_off(now=0.0)
    assert leader is not None and leader.batch == calls[:2]
    assert list(small.waiting) == calls[2:]


def test_writes_to_one_key_go_in_separate_batches_in_arrival_order():
    queue = Queue(Lane.WRITES, max_ops=128, max_bytes=10_000)
    fill(queue)
    a1, b, a2, a3 = (pending(Op.put(k, "v")) for k in ("a", "b", "a", "a"))
    for call in (a1, b, a2, a3):
        queue.arrive(call)
    leader, _ = queue.hand_off(now=0.0)
    assert leader is not None and leader.batch == [a1, b]
    assert list(queue.waiting) == [a2, a3]
    leader, _ = queue.hand_off(now=0.0)
    assert leader is not None and leader.batch == [a2]
    leader, _ = queue.hand_off(now=0.0)
    assert leader is not None and leader.batch == [a3]


def test_calls_past_their_deadline_are_taken_out_not_sent():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    fill(queue)
    late, on_time = pending(Op.range("a"), deadline=5.0), pending(Op.range("b"), deadline=20.0)
    queue.arrive(late)
    queue.arrive(on_time)
    leader, expired = queue.hand_off(now=10.0)
    assert leader is on_time and expired == [late] and late.state is State.DONE
    assert earliest_deadline([pending(Op.range("c")), late]) == 5.0
    assert earliest_deadline([pending(Op.range("c"))]) is None


def test_a_caller_that_gives_up_leaves_the_queue():
    queue = Queue(Lane.READS, max_ops=128, max_bytes=10_000)
    lead, waiting = pending(Op.range("lead")), pending(Op.range("a"))
    queue.arrive(lead)
    fill(queue)
    queue.arrive(waiting)
    assert queue.leave(waiting) is True and not queue.waiting
    assert queue.leave(lead) is False


def test_the_transaction_and_its_answers():
    calls = [pending(Op.range(k)) for k in ("a", "b")]
    request = batch_request(calls)
    assert [op.request_range.key for op in request.success] == [b"a", b"b"]
    assert not request.compare and not request.failure
    header = pb.ResponseHeader(revision=42, member_id=7)
    answer = pb.TxnResponse(header=header, succeeded=True)
    for key in (b"a", b"b"):
        kv = pb.KeyValue(key=key, value=b"v", mod_revision=3)
        answer.responses.add().response_range.CopyFrom(pb.RangeResponse(kvs=[kv], count=1))
    distribute(calls, answer)
    for call, key in zip(calls, (b"a", b"b"), strict=True):
        result = call.outcome()
        assert call.state is State.DONE
        assert result.kvs[0].key == key and result.header.revision == 42

    writes = [pending(Op.put(k, "v")) for k in ("a", "b")]
    assert [op.request_put.key for op in batch_request(writes).success] == [b"a", b"b"]
    answer = pb.TxnResponse(header=header, succeeded=True)
    for _ in writes:
        answer.responses.add().response_put.CopyFrom(pb.PutResponse())
    distribute(writes, answer)
    assert [w.outcome().header.revision for w in writes] == [42, 42]


def test_a_refused_batch_sends_each_call_again_unless_a_write_may_have_landed():
    reads = [pending(Op.range("a")), pending(Op.range("b"))]
    refused(reads, etcd.EtcdTimeout("late", outcome_unknown=False))
    assert all(r.state is State.ALONE for r in reads)
    writes = [pending(Op.put("a", "v")), pending(Op.put("b", "v"))]
    refused(writes, etcd.EtcdLeaseNotFound("no lease"))
    assert all(w.state is State.ALONE for w in writes)
    unknown = etcd.EtcdTimeout("late", outcome_unknown=True)
    writes = [pending(Op.put("a", "v")), pending(Op.put("b", "v"))]
    refused(writes, unknown)
    for write in writes:
        with pytest.raises(etcd.EtcdTimeout):
            write.outcome()


def test_the_timeout_of_a_waiting_call():
    write = pending(Op.put("a", "v"))
    error = timed_out(write, "127.0.0.1:2379", sent=True)
    assert error.outcome_unknown and error.operation == "KV.Put"
    assert "127.0.0.1:2379" in str(error) and "on the wire" in str(error)
    assert not timed_out(write, "127.0.0.1:2379", sent=False).outcome_unknown
    assert not timed_out(pending(Op.range("a")), "e", sent=True).outcome_unknown
