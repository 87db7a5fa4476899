"""Mirroring between two real, independent single-member clusters: the first copy, every
kind of change afterwards, key rewriting, a replay from a revision, and failures that
stop the mirror and say why."""

import pytest

import etcd
from etcd.testing import EtcdServer

pytestmark = pytest.mark.integration

TIMEOUT = 10


@pytest.fixture(scope="module")
def servers(etcd_binary):
    """A source and a destination, shared by the tests of this module (emptied after each
    test); the tests that disturb a server start their own."""
    with EtcdServer(binary=etcd_binary) as source, EtcdServer(binary=etcd_binary) as destination:
        yield source, destination


@pytest.fixture
async def clients(servers):
    source_server, destination_server = servers
    async with (
        etcd.AsyncClient(endpoints=[source_server.endpoint], timeout=TIMEOUT) as source,
        etcd.AsyncClient(endpoints=[destination_server.endpoint], timeout=TIMEOUT) as destination,
    ):
        yield source, destination
        for client in (source, destination):
            await client.delete_range(etcd.ALL_KEYS)


async def contents(client, prefix=""):
    """Every key of ``client`` (under ``prefix``, if given) and its value."""
    keys = {"key": prefix, "prefix": True} if prefix else {"key": etcd.ALL_KEYS}
    response = await client.range(**keys)
    return {kv.key: kv.value for kv in response.kvs}


async def test_existing_keys_are_copied_then_puts_deletes_and_transactions_follow(clients):
    source, destination = clients
    for i in range(25):
        await source.put(f"/m/{i:02d}", f"value {i}")
    await source.put("/outside", "not mirrored")
    async with source.mirror("/m/", destination, page_size=7) as mirror:
        await mirror.wait_synced(TIMEOUT)
        assert mirror.copied == 25 and mirror.applied == 0
        assert await contents(destination) == await contents(source, "/m/")

        await source.put("/m/new", "n")
        await source.delete_range("/m/0", prefix=True)
        await source.txn(
            [],
            [
                etcd.Op.put("/m/t1", "1"),
                etcd.Op.put("/m/t2", "2"),
                etcd.Op.delete_range("/m/10"),
            ],
            [],
        )
        await source.put("/elsewhere", "x")
        last = await source.put("/m/11", "changed")
        await mirror.wait_for_revision(last.header.revision, TIMEOUT)

        assert await contents(destination) == await contents(source, "/m/")
        assert (await destination.range("/m/11")).kvs[0].value == b"changed"
        # 1 put, 10 deletes, a transaction of 3, 1 put.
        assert mirror.applied == 15 and mirror.processed == 40
        assert mirror.revision >= last.header.revision and mirror.error is None
    assert not mirror.synced
    assert await mirror.wait_stopped(0.1) is True


async def test_a_source_transaction_is_one_destination_transaction(clients):
    source, destination = clients
    async with source.mirror("/t/", destination) as mirror:
        await mirror.wait_synced(TIMEOUT)
        start = (await destination.range("/t/x")).header.revision
        await source.txn([], [etcd.Op.put(f"/t/{i}", str(i)) for i in range(5)], [])
        written = await source.put("/t/last", "1")
        await mirror.wait_for_revision(written.header.revision, TIMEOUT)
    revisions = {kv.mod_revision for kv in (await destination.range("/t/", prefix=True)).kvs}
    # Five keys of one transaction at one revision, then the put at the next.
    assert len(revisions) == 2 and min(revisions) == start + 1


async def test_dest_prefix_moves_the_keys(clients):
    source, destination = clients
    await source.put("o_key1", "val1")
    async with source.mirror("o_", destination, dest_prefix="d_") as mirror:
        await mirror.wait_synced(TIMEOUT)
        await source.put("o_key2", "val2")
        await source.put("o_key3", "val3")
        gone = await source.delete_range("o_key1")
        await mirror.wait_for_revision(gone.header.revision, TIMEOUT)
    assert await contents(destination) == {b"d_key2": b"val2", b"d_key3": b"val3"}


async def test_no_dest_prefix_strips_the_prefix(clients):
    source, destination = clients
    await source.put("o_key1", "val1")
    async with source.mirror("o_", destination, no_dest_prefix=True) as mirror:
        await mirror.wait_synced(TIMEOUT)
        written = await source.put("o_key2", "val2")
        await mirror.wait_for_revision(written.header.revision, TIMEOUT)
    assert await contents(destination) == {b"key1": b"val1", b"key2": b"val2"}


async def test_the_whole_keyspace_under_a_destination_prefix(clients):
    source, destination = clients
    await source.put("a", "1")
    await source.put("/b/c", "2")
    async with source.mirror("", destination, dest_prefix="/backup/") as mirror:
        await mirror.wait_synced(TIMEOUT)
        written = await source.put("z", "3")
        await mirror.wait_for_revision(written.header.revision, TIMEOUT)
    assert await contents(destination) == {
        b"/backup/a": b"1",
        b"/backup//b/c": b"2",
        b"/backup/z": b"3",
    }


async def test_rev_replays_from_that_revision_without_copying(clients):
    source, destination = clients
    await source.put("o_key1", "val1")
    await source.put("o_key2", "val2")
    third = await source.put("o_key3", "val3")
    await source.put("o_key4", "val4")
    async with source.mirror(
        "o_", destination, no_dest_prefix=True, rev=third.header.revision
    ) as mirror:
        await mirror.wait_synced(TIMEOUT)
        last = await source.put("o_key5", "val5")
        await mirror.wait_for_revision(last.header.revision, TIMEOUT)
        assert mirror.copied == 0 and mirror.applied == 3
    assert await contents(destination) == {b"key3": b"val3", b"key4": b"val4", b"key5": b"val5"}


async def test_a_revision_larger_than_max_txn_ops_is_applied_in_parts(clients):
    source, destination = clients
    for i in range(7):
        await source.put(f"/big/{i}", "x")
    async with source.mirror("/big/", destination, max_txn_ops=3) as mirror:
        await mirror.wait_synced(TIMEOUT)
        assert await contents(destination) == await contents(source, "/big/")
        gone = await source.delete_range("/big/", prefix=True)
        await mirror.wait_for_revision(gone.header.revision, TIMEOUT)
        assert mirror.applied == 7
    assert await contents(destination) == {}


async def test_a_mirror_within_one_cluster_must_not_feed_itself(clients):
    source, _ = clients
    with pytest.raises(etcd.EtcdValueError, match="overlap"):
        source.mirror("/a/", source, dest_prefix="/a/copy/")
    await source.put("/a/k", "v")
    async with source.mirror("/a/", source, dest_prefix="/b/") as mirror:
        await mirror.wait_synced(TIMEOUT)
        written = await source.put("/a/j", "w")
        await mirror.wait_for_revision(written.header.revision, TIMEOUT)
    assert await contents(source, "/b/") == {b"/b/k": b"v", b"/b/j": b"w"}


async def test_a_compacted_start_revision_stops_the_mirror_with_the_reason(clients):
    source, destination = clients
    first = await source.put("/c/k", "1")
    latest = await source.put("/c/k", "2")
    await source.compact(latest.header.revision)
    mirror = source.mirror("/c/", destination, rev=first.header.revision)
    await mirror.start()
    with pytest.raises(etcd.EtcdCompacted):
        await mirror.wait_stopped(TIMEOUT)
    assert isinstance(mirror.error, etcd.EtcdCompacted)
    with pytest.raises(etcd.EtcdCompacted):
        await mirror.wait_for_revision(latest.header.revision, TIMEOUT)
    await mirror.close()
    assert await contents(destination) == {}


async def test_a_destination_that_refuses_the_writes_stops_the_mirror(etcd_server_factory):
    source_server, destination_server = etcd_server_factory(), etcd_server_factory()
    async with etcd.AsyncClient(endpoints=[destination_server.endpoint]) as root:
        await root.user_add("root", "rootpw")
        await root.user_grant_role("root", "root")
        await root.user_add("reader", "readerpw")
        await root.role_add("reading")
        await root.role_grant_permission("reading", "/", prefix=True, permission="read")
        await root.user_grant_role("reader", "reading")
        await root.auth_enable()
    async with (
        etcd.AsyncClient(endpoints=[source_server.endpoint], timeout=TIMEOUT) as source,
        etcd.AsyncClient(
            endpoints=[destination_server.endpoint],
            username="reader",
            password="readerpw",
            timeout=TIMEOUT,
        ) as destination,
    ):
        await source.put("/r/k", "v")
        mirror = source.mirror("/r/", destination)
        await mirror.start()
        with pytest.raises(etcd.EtcdPermissionDenied):
            await mirror.wait_synced(TIMEOUT)
        assert isinstance(mirror.error, etcd.EtcdPermissionDenied)
        assert "failed" in repr(mirror)
        await mirror.close()


async def test_a_destination_outage_is_waited_out(etcd_server_factory):
    source_server, destination_server = etcd_server_factory(), etcd_server_factory()
    async with (
        etcd.AsyncClient(endpoints=[source_server.endpoint], timeout=TIMEOUT) as source,
        etcd.AsyncClient(endpoints=[destination_server.endpoint], timeout=1) as destination,
    ):
        async with source.mirror("/o/", destination) as mirror:
            await mirror.wait_synced(TIMEOUT)
            destination_server.pause()
            try:
                for i in range(5):
                    await source.put(f"/o/{i}", str(i))
                written = await source.put("/o/last", "x")
                with pytest.raises(etcd.EtcdTimeout):
                    await mirror.wait_for_revision(written.header.revision, 2)
            finally:
                destination_server.resume()
            await mirror.wait_for_revision(written.header.revision, 30)
            assert mirror.error is None
        assert await contents(destination) == await contents(source, "/o/")


async def test_give_up_after_ends_a_mirror_whose_destination_stays_away(etcd_server_factory):
    source_server, destination_server = etcd_server_factory(), etcd_server_factory()
    async with (
        etcd.AsyncClient(endpoints=[source_server.endpoint], timeout=TIMEOUT) as source,
        etcd.AsyncClient(endpoints=[destination_server.endpoint], timeout=0.5) as destination,
    ):
        await source.put("/g/k", "v")
        destination_server.pause()
        try:
            mirror = source.mirror("/g/", destination, give_up_after=1.5)
            await mirror.start()
            with pytest.raises(etcd.EtcdConnectionFailed):
                await mirror.wait_stopped(30)
            assert isinstance(mirror.error, etcd.EtcdConnectionFailed)
            await mirror.close()
        finally:
            destination_server.resume()


async def test_a_namespace_of_the_destination_receives_the_keys_under_its_prefix(clients):
    source, destination = clients
    await source.put("/n/a", "1")
    async with source.mirror("/n/", destination.namespace("/tenant")) as mirror:
        await mirror.wait_synced(TIMEOUT)
        written = await source.txn([], [etcd.Op.put("/n/b", "2"), etcd.Op.delete_range("/n/a")], [])
        await mirror.wait_for_revision(written.header.revision, TIMEOUT)
    assert await contents(destination) == {b"/tenant/n/b": b"2"}
