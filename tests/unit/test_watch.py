"""Watch bookkeeping without a server: resume points, fragments, progress, compaction, cancel."""

import pickle

import pytest

import etcd
from etcd._core.watch import (
    OutcomeKind,
    WatchCursor,
    WatchSpec,
    broadcast_progress_is_reliable,
)
from etcd._wire import messages as pb


def header(revision):
    return pb.ResponseHeader(revision=revision)


def put(key, revision, version=1, value=b"v"):
    kv = pb.KeyValue(
        key=key, value=value, mod_revision=revision, create_revision=revision, version=version
    )
    return pb.Event(type=pb.Event.PUT, kv=kv)


def delete(key, revision, prev_value=None):
    event = pb.Event(type=pb.Event.DELETE, kv=pb.KeyValue(key=key, mod_revision=revision))
    if prev_value is not None:
        event.prev_kv.CopyFrom(pb.KeyValue(key=key, value=prev_value, mod_revision=revision - 1))
    return event


def response(revision, *events, **fields):
    return pb.WatchResponse(header=header(revision), events=list(events), watch_id=1, **fields)


def cursor(**options):
    return WatchCursor(WatchSpec.build(b"/k", prefix=True, **options))


def test_a_watch_from_now_is_pinned_by_its_created_response():
    c = cursor()
    assert c.create_request(1).create_request.start_revision == 0
    outcome = c.on_response(response(41, created=True))
    assert outcome.kind is OutcomeKind.CREATED and c.next_revision == 42
    # Reconnecting before any event must not skip what happens meanwhile.
    assert c.create_request(1).create_request.start_revision == 42


def test_events_move_the_resume_point_past_the_last_delivered_revision():
    c = cursor(start_revision=10)
    outcome = c.on_response(response(12, put(b"/k/a", 10), put(b"/k/b", 12)))
    assert outcome.kind is OutcomeKind.DELIVER
    assert [e.revision for e in outcome.response.events] == [10, 12]
    assert c.next_revision == 13
    assert c.create_request(7).create_request.start_revision == 13
    assert c.create_request(7).create_request.watch_id == 7


def test_one_transaction_is_delivered_whole():
    c = cursor(start_revision=5)
    outcome = c.on_response(response(5, put(b"/k/a", 5), put(b"/k/b", 5), delete(b"/k/c", 5)))
    assert [e.key for e in outcome.response.events] == [b"/k/a", b"/k/b", b"/k/c"]
    assert c.next_revision == 6


def test_events_already_delivered_are_never_repeated():
    c = cursor(start_revision=5)
    c.on_response(response(6, put(b"/k/a", 5), put(b"/k/a", 6)))
    # A server that replays old revisions after a resume: only the new one gets through.
    outcome = c.on_response(response(7, put(b"/k/a", 6), put(b"/k/a", 7)))
    assert [e.revision for e in outcome.response.events] == [7]
    assert c.on_response(response(7, put(b"/k/a", 7))).kind is OutcomeKind.PENDING


def test_fragments_are_joined_before_delivery():
    c = cursor(start_revision=3, fragment=True)
    assert c.on_response(response(3, put(b"/k/a", 3), fragment=True)).kind is OutcomeKind.PENDING
    assert c.on_response(response(3, put(b"/k/b", 3), fragment=True)).kind is OutcomeKind.PENDING
    assert c.next_revision == 3
    outcome = c.on_response(response(3, put(b"/k/c", 3)))
    assert [e.key for e in outcome.response.events] == [b"/k/a", b"/k/b", b"/k/c"]
    assert c.next_revision == 4


def test_a_broken_stream_drops_half_received_fragments():
    c = cursor(start_revision=3, fragment=True)
    c.on_response(response(3, put(b"/k/a", 3), fragment=True))
    c.create_request(1)  # the stream is reopened: the revision will come again, whole
    outcome = c.on_response(response(3, put(b"/k/a", 3), put(b"/k/b", 3)))
    assert [e.key for e in outcome.response.events] == [b"/k/a", b"/k/b"]


def test_progress_notifications_advance_the_resume_point():
    c = cursor(start_revision=3)
    c.on_response(response(3, created=True))
    outcome = c.on_response(response(20))
    assert outcome.kind is OutcomeKind.DELIVER and outcome.response.progress
    assert outcome.response.events == [] and c.next_revision == 21


def test_compaction_is_a_typed_error_with_the_compact_revision():
    c = cursor(start_revision=3)
    outcome = c.on_response(response(50, canceled=True, compact_revision=40), endpoint="m0")
    assert outcome.kind is OutcomeKind.FAILED
    assert isinstance(outcome.error, etcd.EtcdCompacted)
    assert outcome.error.compact_revision == 40
    assert "revision 3" in str(outcome.error) and outcome.error.endpoint == "m0"


def test_server_cancels_carry_the_reason():
    c = cursor()
    denied = c.on_response(
        response(5, created=True, canceled=True, cancel_reason="etcdserver: permission denied")
    )
    assert denied.kind is OutcomeKind.FAILED
    assert isinstance(denied.error, etcd.EtcdPermissionDenied)
    other = cursor().on_response(response(5, canceled=True, cancel_reason="something odd"))
    assert isinstance(other.error, etcd.EtcdWatchCancelled)
    assert "something odd" in str(other.error)


@pytest.mark.parametrize("reason", ["etcdserver: invalid auth token", "etcdserver: no leader"])
def test_cancels_that_a_new_stream_cures_resume(reason):
    c = cursor(start_revision=9)
    outcome = c.on_response(response(9, canceled=True, cancel_reason=reason))
    assert outcome.kind is OutcomeKind.RESUME and c.next_revision == 9


def test_decoded_events():
    c = cursor(start_revision=1)
    (event,) = c.on_response(response(2, delete(b"/k/a", 2, prev_value=b"old"))).response.events
    assert event.type is etcd.EventType.DELETE and event.prev_kv.value == b"old"
    (created,) = c.on_response(response(3, put(b"/k/a", 3))).response.events
    assert created.is_create and created.value == b"v"


def test_a_received_event_equals_the_same_event_built_by_hand():
    c = cursor(start_revision=1)
    (received,) = c.on_response(response(2, put(b"/k/a", 2, value=b"x"))).response.events
    (deleted,) = c.on_response(response(3, delete(b"/k/a", 3, prev_value=b"x"))).response.events
    kv = etcd.KeyValue(b"/k/a", b"x", 2, 2, 1, 0)
    built = etcd.Event(etcd.EventType.PUT, kv)
    assert received == built and repr(received) == repr(built)
    assert received.key == b"/k/a" and received.revision == 2 and received.prev_kv is None
    assert deleted.prev_kv == etcd.KeyValue(b"/k/a", b"x", 0, 2, 0, 0)
    assert deleted != received and deleted.type is etcd.EventType.DELETE
    assert pickle.loads(pickle.dumps(deleted)) == deleted
    match received:
        case etcd.Event(etcd.EventType.PUT, etcd.KeyValue(key=key)):
            assert key == b"/k/a"
        case _:
            pytest.fail("an event matches by type, kv and prev_kv")


def test_a_replayed_revision_inside_a_fragmented_response_is_dropped():
    c = cursor(start_revision=4, fragment=True)
    c.on_response(response(4, put(b"/k/a", 4)))
    c.on_response(response(5, put(b"/k/a", 4), fragment=True))
    outcome = c.on_response(response(5, put(b"/k/b", 5)))
    assert [(e.key, e.revision) for e in outcome.response.events] == [(b"/k/b", 5)]
    assert c.next_revision == 6


def test_watch_specs_are_checked_when_built():
    with pytest.raises(etcd.EtcdValueError):
        WatchSpec.build("")
    with pytest.raises(etcd.EtcdValueError):
        WatchSpec.build("/k", start_revision=-1)
    with pytest.raises(etcd.EtcdValueError):
        WatchSpec.build("/k", no_put=True, no_delete=True)
    with pytest.raises(etcd.EtcdTypeError):
        WatchSpec.build("/k", prev_kv="yes")  # type: ignore[arg-type]
    spec = WatchSpec.build("/k", no_delete=True, progress_notify=True)
    request = WatchCursor(spec).create_request(3).create_request
    assert list(request.filters) == [pb.WatchCreateRequest.NODELETE]
    assert request.progress_notify and request.range_end == b""


def test_a_progress_notification_before_creation_is_not_trusted():
    c = cursor(start_revision=5)
    # The stream's progress answer reaches a watch still being created with a past start:
    # its events from 5 on must still come.
    assert c.on_response(response(20)).kind is OutcomeKind.PENDING
    assert c.next_revision == 5
    c.on_response(response(20, created=True))
    assert c.on_response(response(20, put(b"/k/a", 6))).response.events[0].revision == 6


def test_stream_liveness():
    from etcd._core.watch import StreamLiveness

    live = StreamLiveness(interval=10, grace=5, now=0)
    assert live.check(9) is None
    assert live.check(10) == "probe"
    assert live.check(14) is None
    live.heard(14)
    assert live.check(20) is None
    assert live.check(24) == "probe"
    assert live.check(29) == "dead"


def test_a_progress_answer_to_the_whole_stream_moves_a_watch_only_where_it_is_reliable():
    # etcd before 3.5.8 answers a stream's progress request at once with the store's
    # revision, even to a watch still being sent older history.
    c = cursor(start_revision=10)
    c.on_response(response(500, created=True))
    broadcast = pb.WatchResponse(header=header(500), watch_id=-1)
    outcome = c.on_response(broadcast, reliable_broadcast=False)
    assert outcome.response.progress and outcome.response.synced_revision == 9
    assert c.next_revision == 10
    late = c.on_response(response(500, put(b"/k/a", 11)))
    assert [e.revision for e in late.response.events] == [11] and c.next_revision == 12
    c.on_response(broadcast, reliable_broadcast=True)
    assert c.next_revision == 501


def test_a_watchs_own_progress_notification_is_always_reliable():
    c = cursor(start_revision=10)
    c.on_response(response(500, created=True))
    outcome = c.on_response(response(40))
    assert outcome.response.progress and outcome.response.synced_revision == 40
    assert c.next_revision == 41


def test_history_in_batches_vouches_only_for_its_last_event():
    # A resumed watch gets history in batches stamped with the store's current revision.
    c = cursor(start_revision=10)
    c.on_response(response(3000, created=True))
    first = c.on_response(response(3000, put(b"/k/a", 10), put(b"/k/b", 1009)))
    assert first.response.revision == 3000 and first.response.synced_revision == 1009
    second = c.on_response(response(3000, put(b"/k/c", 1500)))
    assert [e.revision for e in second.response.events] == [1500]


@pytest.mark.parametrize(
    ("version", "reliable"),
    [
        ("3.5.8", True),
        ("3.5.13", True),
        ("3.6.0", True),
        ("3.5.7", False),
        ("3.5.1", False),
        ("3.4.25", True),
        ("3.4.24", False),
        ("3.4.23", False),
        ("3.7.0-alpha.0", True),
        ("", False),
        (None, False),
        ("garbage", False),
    ],
)
def test_which_servers_answer_a_stream_progress_request_reliably(version, reliable):
    assert broadcast_progress_is_reliable(version) is reliable
