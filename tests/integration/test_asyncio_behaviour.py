"""What only the asyncio client has to show: cancellation, and a loop that never blocks.

Everything else the asyncio client does is tested by the ``test_async_*`` twins of the
sync tests.
"""

import asyncio
import os
import subprocess
import sys

import pytest

import etcd

pytestmark = pytest.mark.integration


async def test_many_calls_in_flight_from_one_loop(async_etcd_client):
    await asyncio.gather(*(async_etcd_client.put(f"/aio/many/{i}", str(i)) for i in range(200)))
    got = await async_etcd_client.range("/aio/many/", prefix=True, count_only=True)
    assert got.count == 200


async def test_a_call_cancelled_in_flight_leaves_the_client_usable(etcd_server_factory):
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint], timeout=30) as client:
        await client.put("/aio/k", "before")
        server.pause()
        try:
            call = asyncio.ensure_future(client.range("/aio/k"))
            await asyncio.sleep(0.3)
            assert not call.done()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        finally:
            server.resume()
        assert (await client.range("/aio/k")).kvs[0].value == b"before"
        await client.put("/aio/k", "after")
        assert (await client.range("/aio/k")).kvs[0].value == b"after"


async def test_cancelled_coalesced_calls_leave_the_others_answered(etcd_server_factory):
    """The first call leads the batch the others wait for; cancelling it, or any of them,
    must strand nobody, and the lane must stay usable."""
    server = etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[server.endpoint], coalesce=True) as client:
        for i in range(30):
            await client.put(f"/aio/co/{i}", str(i))
        server.pause()
        try:
            calls = [asyncio.ensure_future(client.range(f"/aio/co/{i}")) for i in range(30)]
            await asyncio.sleep(0.3)
            assert not any(call.done() for call in calls)
            cancelled = set(range(0, 30, 3))
            for i in cancelled:
                calls[i].cancel()
        finally:
            server.resume()
        answers = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 20)
        for i, answer in enumerate(answers):
            if i in cancelled:
                assert isinstance(answer, asyncio.CancelledError)
            else:
                assert answer.kvs[0].value == str(i).encode(), (i, answer)
        again = await asyncio.gather(*(client.range(f"/aio/co/{i}") for i in range(30)))
        assert [a.kvs[0].value for a in again] == [str(i).encode() for i in range(30)]


async def test_a_cancelled_watch_wait_leaves_the_watch_and_the_client_usable(async_etcd_client):
    async with async_etcd_client.watch_stream("/aio/w") as watch:
        assert await watch.wait_created(10)
        waiting = asyncio.ensure_future(watch.next_event())
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await async_etcd_client.put("/aio/w", "v")
        event = await watch.next_event(10)
        assert event.value == b"v"


async def test_a_cancelled_python_etcd_watch_leaves_the_client_usable(async_etcd_client):
    waiting = asyncio.ensure_future(async_etcd_client.watch("/aio/classic"))
    await asyncio.sleep(0.3)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    later = asyncio.ensure_future(async_etcd_client.watch("/aio/classic", timeout=10))
    await asyncio.sleep(0.3)
    await async_etcd_client.set("/aio/classic", "x")
    assert (await later).value == "x"


async def test_the_loop_runs_other_tasks_while_a_call_waits_for_a_member(etcd_server_factory):
    stuck = etcd_server_factory()
    stuck.pause()
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beating = asyncio.ensure_future(heartbeat())
    try:
        client = etcd.AsyncClient(endpoints=[stuck.endpoint], timeout=1.0, connect_timeout=0.5)
        async with client:
            with pytest.raises((etcd.EtcdConnectionFailed, etcd.EtcdTimeout)):
                await client.range("/aio/stuck")
    finally:
        beating.cancel()
        stuck.resume()
    # The call waited for the paused member without holding up the event loop.
    assert ticks > 0


async def test_a_lease_lost_in_the_background_reaches_its_owner(async_etcd_client):
    lost: list[etcd.EtcdLeaseExpired] = []
    lease = await async_etcd_client.lease(ttl=5, on_lost=lost.append)
    # Revoked by someone else: the keep-alive task learns it and tells the owner.
    async with etcd.AsyncClient(endpoints=async_etcd_client.endpoints) as other:
        await other.lease_revoke(lease.id)
    assert await lease.wait_lost(15)
    await asyncio.sleep(0)
    assert lost and isinstance(lost[0], etcd.EtcdLeaseExpired)
    with pytest.raises(etcd.EtcdLeaseExpired):
        await async_etcd_client.put("/aio/leased", "v", lease=lease)


ASYNC_FORKER = """
import asyncio, os, sys, etcd

async def main(endpoint):
    client = etcd.AsyncClient(endpoints=[endpoint], timeout=5)
    await client.put("/fork/parent", "1")
    watch = client.watch_stream("/fork/parent")
    await watch.wait_created(5)
    lease = await client.lease(ttl=5)
    codes = []
    for number in range(20):
        pid = os.fork()
        if pid == 0:
            code = 3                          # the parent's client must refuse, not hang
            try:
                await client.range("/fork/parent")
            except etcd.EtcdForkedClient:
                code = 0
            os._exit(code)
        status = await asyncio.to_thread(os.waitpid, pid, 0)
        codes.append(os.waitstatus_to_exitcode(status[1]))
    print("codes", codes, flush=True)
    await client.put("/fork/parent", "2")
    print("watch", (await watch.next_event(10)).value.decode(), flush=True)
    print("lease", not lease.lost, flush=True)
    await client.close()

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_is_refused_the_parents_client(etcd_server):
    # gRPC's own fork handlers do not support its asyncio stack and can crash a child
    # forked while asyncio calls run; docs/asyncio.rst tells users to turn them off.
    environment = dict(os.environ, GRPC_ENABLE_FORK_SUPPORT="0")
    result = subprocess.run(
        [sys.executable, "-c", ASYNC_FORKER, etcd_server.endpoint],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "codes [" + ", ".join(["0"] * 20) + "]" in result.stdout
    assert "watch 2" in result.stdout and "lease True" in result.stdout


async def test_a_client_with_dns_discovery_can_be_built_off_the_loop(etcd_server):
    # The lookup blocks its constructor; built in a thread, it leaves the loop free.
    from .._dns_server import Record, dns_server

    with dns_server() as dns:
        dns.publish("_etcd-client._tcp.aio.example.test", Record(etcd_server.client_port))
        client = await asyncio.to_thread(
            etcd.AsyncClient,
            discovery_srv="aio.example.test",
            discovery_nameservers=[dns.nameserver],
        )
    async with client:
        await client.put("/aio/discovered", "v")
        assert (await client.range("/aio/discovered")).kvs[0].value == b"v"
