"""Watches against a real etcd: every option, one shared stream, cancel, callbacks."""

import logging
import time

import pytest

import etcd
from etcd._async.io import Flag, join, running_workers, sleep, spawn
from etcd._core.watch import broadcast_progress_is_reliable

pytestmark = pytest.mark.integration


async def collect(watch, count, timeout=10):
    events: list[etcd.Event] = []
    deadline = time.monotonic() + timeout
    while len(events) < count:
        response = await watch.next_response(max(0.01, deadline - time.monotonic()))
        events.extend(response.events)
    return events


async def test_watch_a_key(async_etcd_client):
    async with async_etcd_client.watch_stream("/w/k") as watch:
        assert await watch.wait_created(5)
        await async_etcd_client.put("/w/k", "1")
        await async_etcd_client.put("/w/other", "x")
        await async_etcd_client.delete_range("/w/k")
        first, second = await collect(watch, 2)
    assert (first.type, first.key, first.value) == (etcd.EventType.PUT, b"/w/k", b"1")
    assert first.is_create
    assert second.type is etcd.EventType.DELETE and second.key == b"/w/k"


async def test_watch_a_prefix_and_a_range(async_etcd_client):
    async with (
        async_etcd_client.watch_prefix("/w/p/") as by_prefix,
        async_etcd_client.watch_stream("/w/r/b", "/w/r/d") as by_range,
    ):
        await by_prefix.wait_created(5)
        await by_range.wait_created(5)
        for key in ("/w/p/1", "/w/p/2", "/w/r/a", "/w/r/b", "/w/r/c", "/w/r/d"):
            await async_etcd_client.put(key, "v")
        assert [e.key for e in await collect(by_prefix, 2)] == [b"/w/p/1", b"/w/p/2"]
        assert [e.key for e in await collect(by_range, 2)] == [b"/w/r/b", b"/w/r/c"]


async def test_from_key(async_etcd_client):
    async with async_etcd_client.watch_stream("/w/m", from_key=True) as watch:
        await watch.wait_created(5)
        await async_etcd_client.put("/w/a", "before the start key")
        await async_etcd_client.put("/w/z", "after")
        assert [e.key for e in await collect(watch, 1)] == [b"/w/z"]


async def test_start_revision_replays_history_and_prev_kv(async_etcd_client):
    first = (await async_etcd_client.put("/w/h", "1")).header.revision
    await async_etcd_client.put("/w/h", "2")
    await async_etcd_client.delete_range("/w/h")
    async with async_etcd_client.watch_stream("/w/h", start_revision=first, prev_kv=True) as watch:
        events = await collect(watch, 3)
    assert [e.revision for e in events] == [first, first + 1, first + 2]
    assert events[1].prev_kv.value == b"1" and events[2].prev_kv.value == b"2"


async def test_filters(async_etcd_client):
    start = (await async_etcd_client.put("/w/f", "1")).header.revision
    await async_etcd_client.delete_range("/w/f")
    async with async_etcd_client.watch_stream("/w/f", start_revision=start, no_put=True) as deletes:
        assert [e.type for e in await collect(deletes, 1)] == [etcd.EventType.DELETE]
    async with async_etcd_client.watch_stream("/w/f", start_revision=start, no_delete=True) as puts:
        assert [e.type for e in await collect(puts, 1)] == [etcd.EventType.PUT]


async def test_a_transaction_arrives_as_one_response(async_etcd_client):
    async with async_etcd_client.watch_prefix("/w/t/") as watch:
        await watch.wait_created(5)
        await async_etcd_client.txn([], [etcd.Op.put(f"/w/t/{i}", "v") for i in range(5)], [])
        response = await watch.next_response(10)
    assert len(response.events) == 5
    assert len({e.revision for e in response.events}) == 1


async def test_request_progress(async_etcd_client):
    async with async_etcd_client.watch_stream("/w/progress") as watch:
        await watch.wait_created(5)
        revision = (await async_etcd_client.put("/w/elsewhere", "x")).header.revision
        async_etcd_client.request_progress()
        response = await watch.next_response(10)
        assert response.progress and response.events == []
        assert response.revision >= revision
        assert watch.next_revision == response.synced_revision + 1
        # Older members answer before the watch caught up: their answer moves nothing.
        if broadcast_progress_is_reliable((await async_etcd_client.status()).version):
            assert response.synced_revision == response.revision


async def test_progress_notify_is_accepted(async_etcd_client):
    async with async_etcd_client.watch_stream("/w/pn", progress_notify=True) as watch:
        await watch.wait_created(5)
        await async_etcd_client.put("/w/pn", "x")
        assert (await collect(watch, 1))[0].value == b"x"


async def test_progress_notify_delivers_the_servers_progress_notifications(etcd_server_factory):
    server = etcd_server_factory(extra_args=["--experimental-watch-progress-notify-interval=1s"])
    async with etcd.AsyncClient(endpoints=[server.endpoint], timeout=10) as client:
        notified = client.watch_stream("/w/pn", progress_notify=True)
        # On the same stream: the server notifies only the watch that asked. (The client's
        # own progress requests, sent on a silent stream, would answer both.)
        silent = client.watch_stream("/w/pn-silent")
        try:
            assert await notified.wait_created(10)
            assert await silent.wait_created(10)
            assert client._watcher.streams_opened == 1
            revision = (await client.put("/w/elsewhere", "x")).header.revision
            progress = []
            while len(progress) < 3:
                response = await notified.next_response(30)
                assert response.progress and response.events == [], response
                progress.append(response)
            assert all(each.revision >= revision for each in progress)
            assert notified.next_revision >= revision + 1
            with pytest.raises(etcd.EtcdWatchTimedOut):
                await silent.next_response(0)
            # Events still arrive, and are not marked as progress.
            await client.put("/w/pn", "after")
            while not (response := await notified.next_response(10)).events:
                assert response.progress
            assert not response.progress and response.events[0].value == b"after"
        finally:
            notified.cancel()
            silent.cancel()


async def test_fragmented_revisions_are_joined(etcd_server_factory):
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint], timeout=20) as client:
        old, new = b"o" * (700 * 1024), b"n" * (700 * 1024)
        for i in range(2):
            await client.put(f"/w/big/{i}", old)
        async with client.watch_prefix("/w/big/", fragment=True, prev_kv=True) as watch:
            await watch.wait_created(5)
            # One revision whose events, with their previous values, weigh 2.8 MiB: more
            # than the server sends at once, so it arrives in fragments.
            await client.txn([], [etcd.Op.put(f"/w/big/{i}", new) for i in range(2)], [])
            response = await watch.next_response(20)
        assert [e.key for e in response.events] == [b"/w/big/0", b"/w/big/1"]
        assert all(e.value == new and e.prev_kv.value == old for e in response.events)


async def test_many_watches_share_one_stream(async_etcd_client):
    watches = [async_etcd_client.watch_stream(f"/w/many/{i}") for i in range(20)]
    try:
        for watch in watches:
            assert await watch.wait_created(10)
        assert running_workers("etcd-watch-stream") == 1
        for i in range(20):
            await async_etcd_client.put(f"/w/many/{i}", str(i))
        for i, watch in enumerate(watches):
            assert (await collect(watch, 1))[0].value == str(i).encode()
    finally:
        for watch in watches:
            watch.cancel()


async def test_cancel_on_exit_ends_iteration(async_etcd_client):
    async with async_etcd_client.watch_stream("/w/c") as watch:
        await watch.wait_created(5)
    assert [event async for event in watch] == []
    await async_etcd_client.put("/w/c", "after the cancel")
    deadline = time.monotonic() + 5
    while running_workers("etcd-watch-stream"):
        assert time.monotonic() < deadline, "the stream task outlived its last watch"
        await sleep(0.05)


async def test_iteration_with_for(async_etcd_client):
    seen = []
    async with async_etcd_client.watch_prefix("/w/for/") as watch:
        await watch.wait_created(5)
        for i in range(3):
            await async_etcd_client.put(f"/w/for/{i}", "v")
        async for event in watch:
            seen.append(event.key)
            if len(seen) == 3:
                break
    assert seen == [b"/w/for/0", b"/w/for/1", b"/w/for/2"]


async def test_callbacks_and_a_callback_that_raises(async_etcd_client, caplog):
    received: list[bytes] = []
    done = Flag()

    def callback(response):
        received.extend(e.value for e in response.events)
        if len(received) == 1:
            raise RuntimeError("a bug in the user's callback")
        if len(received) == 3:
            done.set()

    caplog.set_level(logging.ERROR, logger="etcd")
    watch = async_etcd_client.watch_prefix("/w/cb/", callback=callback)
    try:
        await watch.wait_created(5)
        for i in range(3):
            await async_etcd_client.put(f"/w/cb/{i}", str(i))
        assert await done.wait(10)
    finally:
        watch.cancel()
    assert received == [b"0", b"1", b"2"]
    assert "a bug in the user's callback" in caplog.text


async def test_on_error_receives_the_error_that_ends_a_watch(async_etcd_client):
    first = (await async_etcd_client.put("/w/oe", "1")).header.revision
    latest = (await async_etcd_client.put("/w/oe", "2")).header.revision
    await async_etcd_client.compact(latest)
    errors: list[etcd.EtcdException] = []
    got = Flag()

    def on_error(error):
        errors.append(error)
        got.set()

    async_etcd_client.watch_stream(
        "/w/oe", start_revision=first, callback=lambda response: None, on_error=on_error
    )
    assert await got.wait(10)
    assert isinstance(errors[0], etcd.EtcdCompacted)


async def test_compacted_start_revision_is_a_typed_error(async_etcd_client):
    first = (await async_etcd_client.put("/w/cmp", "1")).header.revision
    latest = (await async_etcd_client.put("/w/cmp", "2")).header.revision
    await async_etcd_client.compact(latest)
    async with async_etcd_client.watch_stream("/w/cmp", start_revision=first) as watch:
        with pytest.raises(etcd.EtcdCompacted) as raised:
            await anext(watch)
    assert raised.value.compact_revision == latest


async def test_watch_once(async_etcd_client):
    async def put_later():
        await sleep(0.3)
        await async_etcd_client.put("/w/once", "v")

    writer = spawn(put_later, name="writer")
    event = await async_etcd_client.watch_once("/w/once", timeout=10)
    await join(writer, 10)
    assert event.value == b"v"
    with pytest.raises(etcd.EtcdWatchTimedOut):
        await async_etcd_client.watch_once("/w/never", timeout=0.3)


async def test_closing_the_client_ends_watches_promptly(etcd_server):
    client = etcd.AsyncClient(endpoints=[etcd_server.endpoint])
    watch = client.watch_stream("/w/close")
    await watch.wait_created(5)
    await client.close()
    with pytest.raises(etcd.EtcdClientClosed):
        await anext(watch)
    with pytest.raises(etcd.EtcdClientClosed):
        client.watch_stream("/w/close")


async def test_a_created_and_cancelled_watch_reports_the_servers_reason(etcd_server_factory):
    from etcd._wire import messages as pb
    from etcd._wire import methods

    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint]) as admin:

        async def call(method, request):
            return await admin._transport.unary(method, request, timeout=5, mutation=True)

        await call(methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="root", password="pw"))
        await call(methods.AUTH_ROLE_ADD, pb.AuthRoleAddRequest(name="root"))
        await call(
            methods.AUTH_USER_GRANT_ROLE, pb.AuthUserGrantRoleRequest(user="root", role="root")
        )
        await call(methods.AUTH_USER_ADD, pb.AuthUserAddRequest(name="bob", password="pw"))
        await call(methods.AUTH_ENABLE, pb.AuthEnableRequest())
    async with etcd.AsyncClient(endpoints=[server.endpoint], username="bob", password="pw") as bob:
        async with bob.watch_stream("/secret") as watch:
            with pytest.raises(etcd.EtcdPermissionDenied) as raised:
                await anext(watch)
        assert "permission denied" in str(raised.value)


async def test_an_idle_watch_keeps_its_stream(async_etcd_client):
    # Liveness probes and keepalive pings on a quiet stream stay within the server's ping
    # policy: the stream is never torn down while nothing happens.
    async with async_etcd_client.watch_stream("/w/idle") as watch:
        assert await watch.wait_created(5)
        await sleep(25)
        await async_etcd_client.put("/w/idle", "still here")
        assert (await collect(watch, 1))[0].value == b"still here"
    assert async_etcd_client._watcher.streams_opened == 1


async def test_a_progress_request_while_a_watch_catches_up_loses_nothing(async_etcd_client):
    # etcd before 3.5.8 answers at once with the store's revision, while the watch is
    # still being sent the history below it: that answer must not make history look sent.
    client = async_etcd_client
    start = (await client.put("/w/catch-up/first", "0")).header.revision
    for batch in range(20):
        ops = [etcd.Op.put(f"/w/catch-up/{batch}-{i}", "v") for i in range(100)]
        await client.txn([], ops, [])
    async with client.watch_prefix("/w/catch-up/", start_revision=start) as watch:
        client.request_progress()
        events = await collect(watch, 2001, timeout=30)
    assert len(events) == 2001 and events[0].revision == start
    assert [e.revision for e in events] == sorted(e.revision for e in events)
