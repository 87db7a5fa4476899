# Generated from test_async_watch.py by scripts/generate_sync.py: edit that file,
# then run the script. CI fails when the two differ.
"""Watches against a real etcd: every option, one shared stream, cancel, callbacks."""

import logging
import time

import pytest

import etcd
from etcd._sync_io import Flag, join, running_workers, sleep, spawn

pytestmark = pytest.mark.integration


def collect(watch, count, timeout=10):
    events: list[etcd.Event] = []
    deadline = time.monotonic() + timeout
    while len(events) < count:
        response = watch.next_response(max(0.01, deadline - time.monotonic()))
        events.extend(response.events)
    return events


def test_watch_a_key(etcd_client):
    with etcd_client.watch_stream("/w/k") as watch:
        assert watch.wait_created(5)
        etcd_client.put("/w/k", "1")
        etcd_client.put("/w/other", "x")
        etcd_client.delete_range("/w/k")
        first, second = collect(watch, 2)
    assert (first.type, first.key, first.value) == (etcd.EventType.PUT, b"/w/k", b"1")
    assert first.is_create
    assert second.type is etcd.EventType.DELETE and second.key == b"/w/k"


def test_watch_a_prefix_and_a_range(etcd_client):
    with (
        etcd_client.watch_prefix("/w/p/") as by_prefix,
        etcd_client.watch_stream("/w/r/b", "/w/r/d") as by_range,
    ):
        by_prefix.wait_created(5)
        by_range.wait_created(5)
        for key in ("/w/p/1", "/w/p/2", "/w/r/a", "/w/r/b", "/w/r/c", "/w/r/d"):
            etcd_client.put(key, "v")
        assert [e.key for e in collect(by_prefix, 2)] == [b"/w/p/1", b"/w/p/2"]
        assert [e.key for e in collect(by_range, 2)] == [b"/w/r/b", b"/w/r/c"]


def test_from_key(etcd_client):
    with etcd_client.watch_stream("/w/m", from_key=True) as watch:
        watch.wait_created(5)
        etcd_client.put("/w/a", "before the start key")
        etcd_client.put("/w/z", "after")
        assert [e.key for e in collect(watch, 1)] == [b"/w/z"]


def test_start_revision_replays_history_and_prev_kv(etcd_client):
    first = etcd_client.put("/w/h", "1").header.revision
    etcd_client.put("/w/h", "2")
    etcd_client.delete_range("/w/h")
    with etcd_client.watch_stream("/w/h", start_revision=first, prev_kv=True) as watch:
        events = collect(watch, 3)
    assert [e.revision for e in events] == [first, first + 1, first + 2]
    assert events[1].prev_kv.value == b"1" and events[2].prev_kv.value == b"2"


def test_filters(etcd_client):
    start = etcd_client.put("/w/f", "1").header.revision
    etcd_client.delete_range("/w/f")
    with etcd_client.watch_stream("/w/f", start_revision=start, no_put=True) as deletes:
        assert [e.type for e in collect(deletes, 1)] == [etcd.EventType.DELETE]
    with etcd_client.watch_stream("/w/f", start_revision=start, no_delete=True) as puts:
        assert [e.type for e in collect(puts, 1)] == [etcd.EventType.PUT]


def test_a_transaction_arrives_as_one_response(etcd_client):
    with etcd_client.watch_prefix("/w/t/") as watch:
        watch.wait_created(5)
        etcd_client.txn([], [etcd.Op.put(f"/w/t/{i}", "v") for i in range(5)], [])
        response = watch.next_response(10)
    assert len(response.events) == 5
    assert len({e.revision for e in response.events}) == 1


def test_request_progress(etcd_client):
    with etcd_client.watch_stream("/w/progress") as watch:
        watch.wait_created(5)
        revision = etcd_client.put("/w/elsewhere", "x").header.revision
        etcd_client.request_progress()
        response = watch.next_response(10)
        assert response.progress and response.events == []
        assert response.revision >= revision
        assert watch.next_revision == response.revision + 1


def test_progress_notify_is_accepted(etcd_client):
    with etcd_client.watch_stream("/w/pn", progress_notify=True) as watch:
        watch.wait_created(5)
        etcd_client.put("/w/pn", "x")
        assert collect(watch, 1)[0].value == b"x"


def test_progress_notify_delivers_the_servers_progress_notifications(etcd_server_factory):
    server = etcd_server_factory(extra_args=["--experimental-watch-progress-notify-interval=1s"])
    with etcd.Client(endpoints=[server.endpoint], timeout=10) as client:
        notified = client.watch_stream("/w/pn", progress_notify=True)
        # On the same stream: the server notifies only the watch that asked. (The client's
        # own progress requests, sent on a silent stream, would answer both.)
        silent = client.watch_stream("/w/pn-silent")
        try:
            assert notified.wait_created(10)
            assert silent.wait_created(10)
            assert client._watcher.streams_opened == 1
            revision = client.put("/w/elsewhere", "x").header.revision
            progress = []
            while len(progress) < 3:
                response = notified.next_response(30)
                assert response.progress and response.events == [], response
                progress.append(response)
            assert all(each.revision >= revision for each in progress)
            assert notified.next_revision >= revision + 1
            with pytest.raises(etcd.EtcdWatchTimedOut):
                silent.next_response(0)
            # Events still arrive, and are not marked as progress.
            client.put("/w/pn", "after")
            while not (response := notified.next_response(10)).events:
                assert response.progress
            assert not response.progress and response.events[0].value == b"after"
        finally:
            notified.cancel()
            silent.cancel()


def test_fragmented_revisions_are_joined(etcd_server_factory):
    server = etcd_server_factory()
    with etcd.Client(endpoints=[server.endpoint], timeout=20) as client:
        old, new = b"o" * (700 * 1024), b"n" * (700 * 1024)
        for i in range(2):
            client.put(f"/w/big/{i}", old)
        with client.watch_prefix("/w/big/", fragment=True, prev_kv=True) as watch:
            watch.wait_created(5)
            # One revision whose events, with their previous values, weigh 2.8 MiB: more
            # than the server sends at once, so it arrives in fragments.
            client.txn([], [etcd.Op.put(f"/w/big/{i}", new) for i in range(2)], [])
            response = watch.next_response(20)
        assert [e.key for e in response.events] == [b"/w/big/0", b"/w/big/1"]
        assert all(e.value == new and e.prev_kv.value == old for e in response.events)


def test_many_watches_share_one_stream(etcd_client):
    watches = [etcd_client.watch_stream(f"/w/many/{i}") for i in range(20)]
    try:
        for watch in watches:
            assert watch.wait_created(10)
        assert running_workers("etcd-watch-stream") == 1
        for i in range(20):
            etcd_client.put(f"/w/many/{i}", str(i))
        for i, watch in enumerate(watches):
            assert collect(watch, 1)[0].value == str(i).encode()
    finally:
        for watch in watches:
            watch.cancel()


def test_cancel_on_exit_ends_iteration(etcd_client):
    with etcd_client.watch_stream("/w/c") as watch:
        watch.wait_created(5)
    assert [event for event in watch] == []
    etcd_client.put("/w/c", "after the cancel")
    deadline = time.monotonic() + 5
    while running_workers("etcd-watch-stream"):
        assert time.monotonic() < deadline, "the stream thread outlived its last watch"
        sleep(0.05)


def test_iteration_with_for(etcd_client):
    seen = []
    with etcd_client.watch_prefix("/w/for/") as watch:
        watch.wait_created(5)
        for i in range(3):
            etcd_client.put(f"/w/for/{i}", "v")
        for event in watch:
            seen.append(event.key)
            if len(seen) == 3:
                break
    assert seen == [b"/w/for/0", b"/w/for/1", b"/w/for/2"]


def test_callbacks_and_a_callback_that_raises(etcd_client, caplog):
    received: list[bytes] = []
    done = Flag()

    def callback(response):
        received.extend(e.value for e in response.events)
        if len(received) == 1:
            raise RuntimeError("a bug in the user's callback")
        if len(received) == 3:
            done.set()

    caplog.set_level(logging.ERROR, logger="etcd")
    watch = etcd_client.watch_prefix("/w/cb/", callback=callback)
    try:
        watch.wait_created(5)
        for i in range(3):
            etcd_client.put(f"/w/cb/{i}", str(i))
        assert done.wait(10)
    finally:
        watch.cancel()
    assert received == [b"0", b"1", b"2"]
    assert "a bug in the user's callback" in caplog.text


def test_on_error_receives_the_error_that_ends_a_watch(etcd_client):
    first = etcd_client.put("/w/oe", "1").header.revision
    latest = etcd_client.put("/w/oe", "2").header.revision
    etcd_client.compact(latest)
    errors: list[etcd.EtcdException] = []
    got = Flag()

    def on_error(error):
        errors.append(error)
        got.set()

    etcd_client.watch_stream(
        "/w/oe", start_revision=first, callback=lambda response: None, on_error=on_error
    )
    assert got.wait(10)
    assert isinstance(errors[0], etcd.EtcdCompacted)


def test_compacted_start_revision_is_a_typed_error(etcd_client):
    first = etcd_client.put("/w/cmp", "1").header.revision
    latest = etcd_client.put("/w/cmp", "2").header.revision
    etcd_client.compact(latest)
    with etcd_client.watch_stream("/w/cmp", start_revision=first) as watch:
        with pytest.raises(etcd.EtcdCompacted) as raised:
            next(watch)
    assert raised.value.compact_revision == latest


def test_watch_once(etcd_client):
    def put_later():
        sleep(0.3)
        etcd_client.put("/w/once", "v")

    writer = spawn(put_later, name="writer")
    event = etcd_client.watch_once("/w/once", timeout=10)
    join(writer, 10)
    assert event.value == b"v"
    with pytest.raises(etcd.EtcdWatchTimedOut):
        etcd_client.watch_once("/w/never", timeout=0.3)


def test_closing_the_client_ends_watches_promptly(etcd_server):
    client = etcd.Client(endpoints=[etcd_server.endpoint])
    watch = client.watch_stream("/w/close")
    watch.wait_created(5)
    client.close()
    with pytest.raises(etcd.EtcdClientClosed):
        next(watch)
    with pytest.raises(etcd.EtcdClientClosed):
        client.watch_stream("/w/close")


def test_a_created_and_cancelled_watch_reports_the_servers_reason(etcd_server_factory):
    from etcd._wire import messages as pb
    from etcd._wire import methods

    server = etcd_server_factory()
    with etcd.Client(endpoints=[server.endpoint]) as admin:

        def call(method, request):
            return admin._transport.unary(method, request, timeout=5, mutation=True)

        call(methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="root", password="pw"))
        call(methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="root"))
        call(methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="root", role="root"))
        call(methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="bob", password="pw"))
        call(methods.AUTH_ENABLE, pb.AuthEnableRequest())
    with etcd.Client(endpoints=[server.endpoint], username="bob", password="pw") as bob:
        with bob.watch_stream("/secret") as watch:
            with pytest.raises(etcd.EtcdPermissionDenied) as raised:
                next(watch)
        assert "permission denied" in str(raised.value)


def test_an_idle_watch_keeps_its_stream(etcd_client):
    # Liveness probes and keepalive pings on a quiet stream stay within the server's ping
    # policy: the stream is never torn down while nothing happens.
    with etcd_client.watch_stream("/w/idle") as watch:
        assert watch.wait_created(5)
        sleep(25)
        etcd_client.put("/w/idle", "still here")
        assert collect(watch, 1)[0].value == b"still here"
    assert etcd_client._watcher.streams_opened == 1
