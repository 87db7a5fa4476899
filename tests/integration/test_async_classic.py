"""The seed's python-etcd interface, line by line, against a real etcd."""

import time

import pytest

import etcd
from etcd._async.io import join, sleep, spawn

pytestmark = pytest.mark.integration


def port_of(server):
    return int(server.endpoint.rpartition(":")[2])


def later(delay, action, *args):
    """Run ``action(*args)`` in the background after ``delay`` seconds."""

    async def run():
        await sleep(delay)
        await action(*args)

    return spawn(run, name="later")


# --- Create a client object -----------------------------------------------------------------


async def test_the_seed_constructors(etcd_server):
    port = port_of(etcd_server)
    for client in (
        etcd.AsyncClient(port=port),
        etcd.AsyncClient(host="127.0.0.1", port=port),
        etcd.AsyncClient(host="127.0.0.1", port=port, allow_redirect=False),
        etcd.AsyncClient(port=port, allow_reconnect=True),
        etcd.AsyncClient(host=(("127.0.0.1", port),)),
    ):
        async with client:
            await client.set("/seed/ctor", "ok")
            assert (await client.get("/seed/ctor")).value == "ok"


async def test_the_default_endpoint_is_etcds_registered_port():
    client = etcd.AsyncClient()
    assert client.endpoints == ["http://127.0.0.1:2379"]
    await client.close()


# --- Set, get, delete -----------------------------------------------------------------------


async def test_set_stores_text_and_get_returns_it(async_etcd_client):
    result = await async_etcd_client.set("/nodes/n1", 1)
    assert (result.action, result.key, result.value, result.newKey) == (
        "set",
        "/nodes/n1",
        "1",
        True,
    )
    assert (await async_etcd_client.range("/nodes/n1")).kvs[0].value == b"1"
    got = await async_etcd_client.get("/nodes/n1")
    assert got.value == "1"
    assert got.modifiedIndex == got.createdIndex == result.modifiedIndex
    assert got.etcd_index >= got.modifiedIndex
    again = await async_etcd_client.set("/nodes/n1", 2)
    assert again.newKey is False and again._prev_node.value == "1"
    assert again.createdIndex == result.createdIndex


async def test_keys_are_normalised_like_python_etcd(async_etcd_client):
    await async_etcd_client.set("nodes/plain/", "x")
    assert (await async_etcd_client.get("/nodes/plain")).key == "/nodes/plain"


async def test_set_with_ttl_expires_and_reports_the_remaining_ttl(async_etcd_client):
    await async_etcd_client.set("/nodes/n2", 2, ttl=4)
    got = await async_etcd_client.get("/nodes/n2")
    assert got.value == "2"
    assert 0 < got.ttl <= 4
    assert got.expiration.endswith("Z")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            await async_etcd_client.get("/nodes/n2")
        except etcd.EtcdKeyNotFound:
            break
        await sleep(0.5)
    else:
        pytest.fail("the key did not expire")


async def test_rewriting_a_ttl_key_releases_its_lease(async_etcd_client):
    await async_etcd_client.set("/nodes/t", "a", ttl=30)
    first = (await async_etcd_client.get("/nodes/t")).lease
    await async_etcd_client.set("/nodes/t", "b", ttl=30)
    second = (await async_etcd_client.get("/nodes/t")).lease
    await async_etcd_client.set("/nodes/t", "c")
    assert (await async_etcd_client.get("/nodes/t")).ttl is None
    leases = await async_etcd_client._lease_ttls([first, second], 5.0)
    assert leases == {}
    await async_etcd_client.delete("/nodes/t")


async def test_get_of_a_missing_key(async_etcd_client):
    with pytest.raises(etcd.EtcdKeyNotFound) as raised:
        await async_etcd_client.get("/nodes/none")
    assert isinstance(raised.value, KeyError)
    assert isinstance(raised.value, etcd.EtcdException)
    assert "/nodes/none" in str(raised.value)


async def test_delete(async_etcd_client):
    await async_etcd_client.set("/nodes/n1", 1)
    result = await async_etcd_client.delete("/nodes/n1")
    assert result.action == "delete" and result._prev_node.value == "1"
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.get("/nodes/n1")
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.delete("/nodes/n1")


async def test_delete_of_a_directory(async_etcd_client):
    await async_etcd_client.set("/dir/a", 1)
    await async_etcd_client.set("/dir/sub/b", 2)
    await async_etcd_client.set("/dirt", "neighbour")
    with pytest.raises(etcd.EtcdNotFile):
        await async_etcd_client.delete("/dir")
    with pytest.raises(etcd.EtcdDirNotEmpty):
        await async_etcd_client.delete("/dir", dir=True)
    result = await async_etcd_client.delete("/dir", recursive=True)
    assert result.dir and result.action == "delete"
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.get("/dir")
    assert (await async_etcd_client.get("/dirt")).value == "neighbour"


async def test_pop(async_etcd_client):
    await async_etcd_client.set("/nodes/p", "v")
    assert (await async_etcd_client.pop("/nodes/p")).value == "v"


# --- Test and set ---------------------------------------------------------------------------


async def test_test_and_set(async_etcd_client):
    await async_etcd_client.set("/nodes/n2", 4)
    result = await async_etcd_client.test_and_set("/nodes/n2", 2, 4)
    assert result.action == "compareAndSwap" and result.value == "2"
    with pytest.raises(etcd.EtcdCompareFailed) as raised:
        await async_etcd_client.test_and_set("/nodes/n2", 3, 4)
    assert isinstance(raised.value, ValueError)
    assert (await async_etcd_client.get("/nodes/n2")).value == "2"
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.test_and_set("/nodes/none", 1, 0)
    assert not (await async_etcd_client.range("/nodes/none")).kvs


async def test_test_and_set_is_atomic_under_contention(async_etcd_client):
    await async_etcd_client.set("/counter", 0)
    wins = []

    async def bump():
        for _ in range(20):
            while True:
                current = (await async_etcd_client.get("/counter")).value
                try:
                    await async_etcd_client.test_and_set("/counter", int(current) + 1, current)
                    wins.append(1)
                    break
                except etcd.EtcdCompareFailed:
                    continue

    workers = [spawn(bump, name="bump") for _ in range(4)]
    for worker in workers:
        await join(worker, 120)
    assert (await async_etcd_client.get("/counter")).value == "80" and len(wins) == 80


async def test_failed_test_and_set_with_ttl_leaks_no_lease(async_etcd_client):
    await async_etcd_client.set("/nodes/cas", "a")
    before = await async_etcd_client._transport.unary(
        etcd._wire.methods.LEASE_LEASES,
        etcd._wire.messages.LeaseLeasesRequest(),
        timeout=5,
        mutation=False,
    )
    with pytest.raises(etcd.EtcdCompareFailed):
        await async_etcd_client.test_and_set("/nodes/cas", "b", "zzz", ttl=60)
    after = await async_etcd_client._transport.unary(
        etcd._wire.methods.LEASE_LEASES,
        etcd._wire.messages.LeaseLeasesRequest(),
        timeout=5,
        mutation=False,
    )
    assert len(after.leases) == len(before.leases)


# --- Watch ----------------------------------------------------------------------------------


async def test_watch_returns_the_next_change(async_etcd_client):
    await async_etcd_client.set("/nodes/n1", "old")
    timer = later(0.3, async_etcd_client.set, "/nodes/n1", "new")
    change = await async_etcd_client.watch("/nodes/n1")
    await join(timer, 10)
    assert (change.action, change.key, change.value) == ("set", "/nodes/n1", "new")
    assert change._prev_node.value == "old"
    assert change.modifiedIndex == (await async_etcd_client.get("/nodes/n1")).modifiedIndex


async def test_watch_sees_deletes_and_expiries(async_etcd_client):
    await async_etcd_client.set("/nodes/d", "x")
    timer = later(0.3, async_etcd_client.delete, "/nodes/d")
    change = await async_etcd_client.watch("/nodes/d", timeout=10)
    await join(timer, 10)
    assert change.action == "delete" and change.value is None
    await async_etcd_client.set("/nodes/e", "x", ttl=2)
    change = await async_etcd_client.watch("/nodes/e", timeout=20)
    assert change.action == "expire" and change._prev_node.value == "x"


async def test_watch_with_index_replays_history(async_etcd_client):
    first = (await async_etcd_client.set("/nodes/h", "1")).modifiedIndex
    await async_etcd_client.set("/nodes/h", "2")
    assert (await async_etcd_client.watch("/nodes/h", index=first)).value == "1"
    assert (await async_etcd_client.watch("/nodes/h", index=first + 1)).value == "2"


async def test_watch_timeout(async_etcd_client):
    with pytest.raises(etcd.EtcdWatchTimedOut) as raised:
        await async_etcd_client.watch("/nodes/quiet", timeout=0.5)
    assert isinstance(raised.value, TimeoutError)
    assert "/nodes/quiet" in str(raised.value)


async def test_recursive_watch_ignores_neighbours(async_etcd_client):
    async def neighbour_then_child():
        await async_etcd_client.set("/nodes-x", 1)
        await async_etcd_client.set("/nodes/a/b", 2)

    timer = later(0.3, neighbour_then_child)
    change = await async_etcd_client.watch("/nodes", recursive=True, timeout=10)
    await join(timer, 10)
    assert change.key == "/nodes/a/b"


async def test_watch_never_misses_a_change_made_after_the_call_started(async_etcd_client):
    # The change lands before the watch stream is even open: the watch still returns it.
    original = async_etcd_client._transport.open_stream

    async def slow_open(*args, **kwargs):
        await async_etcd_client.set("/nodes/race", "made while connecting")
        return await original(*args, **kwargs)

    async_etcd_client._transport.open_stream = slow_open
    try:
        change = await async_etcd_client.watch("/nodes/race", timeout=10)
    finally:
        async_etcd_client._transport.open_stream = original
    assert change.value == "made while connecting"


async def test_watch_of_a_compacted_index(async_etcd_client):
    first = (await async_etcd_client.set("/nodes/c", "1")).modifiedIndex
    latest = (await async_etcd_client.set("/nodes/c", "2")).modifiedIndex
    await async_etcd_client.compact(latest)
    with pytest.raises(etcd.EtcdCompacted) as raised:
        await async_etcd_client.watch("/nodes/c", index=first, timeout=10)
    assert raised.value.compact_revision == latest + 1 or raised.value.compact_revision == latest
    assert etcd.EtcdEventIndexCleared is etcd.EtcdCompacted


async def test_eternal_watch_delivers_every_change_once_in_order(async_etcd_client):
    start = (await async_etcd_client.set("/feed/x", "0")).modifiedIndex + 1
    for i in range(1, 6):
        await async_etcd_client.set("/feed/x", str(i))
    changes = async_etcd_client.eternal_watch("/feed/x", index=start)
    assert [(await anext(changes)).value for _ in range(5)] == ["1", "2", "3", "4", "5"]
    await changes.aclose()


async def test_eternal_watch_keeps_every_event_of_one_revision(async_etcd_client):
    start = (await async_etcd_client.range("/txn")).header.revision + 1
    await async_etcd_client.txn([], [etcd.Op.put("/txn/a", "1"), etcd.Op.put("/txn/b", "2")], [])
    changes = async_etcd_client.eternal_watch("/txn", index=start, recursive=True)
    assert [(await anext(changes)).key for _ in range(2)] == ["/txn/a", "/txn/b"]
    await changes.aclose()


# --- List sub keys --------------------------------------------------------------------------


async def test_listing_a_directory(async_etcd_client):
    await async_etcd_client.set("/nodes/n1", 1)
    await async_etcd_client.set("/nodes/n2", 2)
    await async_etcd_client.set("/nodes/sub/deep", 3)
    await async_etcd_client.set("/nodesX", "not a child")
    listing = await async_etcd_client.get("/nodes")
    assert listing.dir and listing.value is None
    children = list(listing.children)
    assert [(c.key, c.dir, c.value) for c in children] == [
        ("/nodes/n1", False, "1"),
        ("/nodes/n2", False, "2"),
        ("/nodes/sub", True, None),
    ]
    every = await async_etcd_client.get("/nodes", recursive=True)
    assert [c.key for c in every.leaves] == ["/nodes/n1", "/nodes/n2", "/nodes/sub/deep"]
    assert [c.key for c in every.get_subtree()] == [
        "/nodes",
        "/nodes/n1",
        "/nodes/n2",
        "/nodes/sub",
        "/nodes/sub/deep",
    ]
    assert (await async_etcd_client.read("/nodes", recursive=True, sorted=True)).dir


async def test_listing_the_root(async_etcd_client):
    await async_etcd_client.set("/a", 1)
    await async_etcd_client.set("/b/c", 2)
    assert [c.key for c in (await async_etcd_client.get("/")).children] == ["/a", "/b"]


# --- python-etcd's write options --------------------------------------------------------------


async def test_write_conditions(async_etcd_client):
    created = await async_etcd_client.write("/w", "1", prevExist=False)
    assert created.action == "create" and created.newKey
    with pytest.raises(etcd.EtcdAlreadyExist):
        await async_etcd_client.write("/w", "x", prevExist=False)
    assert (await async_etcd_client.write("/w", "2", prevExist=True)).action == "update"
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.write("/w-none", "x", prevExist=True)
    current = await async_etcd_client.get("/w")
    assert (await async_etcd_client.write("/w", "3", prevIndex=current.modifiedIndex)).value == "3"
    with pytest.raises(etcd.EtcdCompareFailed):
        await async_etcd_client.write("/w", "4", prevIndex=current.modifiedIndex)
    with pytest.raises(etcd.EtcdCompareFailed):
        await async_etcd_client.delete("/w", prevValue="nope")
    assert (await async_etcd_client.delete("/w", prevValue="3")).action == "compareAndDelete"


async def test_update_is_a_compare_and_swap_on_the_index(async_etcd_client):
    await async_etcd_client.set("/u", "a")
    result = await async_etcd_client.get("/u")
    result.value = "b"
    await async_etcd_client.update(result)
    assert (await async_etcd_client.get("/u")).value == "b"
    result.value = "c"
    with pytest.raises(etcd.EtcdCompareFailed):
        await async_etcd_client.update(result)


async def test_append_makes_in_order_keys(async_etcd_client):
    keys = [(await async_etcd_client.write("/queue", f"job{i}", append=True)).key for i in range(5)]
    assert keys == sorted(keys) and len(set(keys)) == 5
    assert all(key.startswith("/queue/") and len(key) == len("/queue/") + 20 for key in keys)
    assert [c.value for c in (await async_etcd_client.get("/queue")).children] == [
        f"job{i}" for i in range(5)
    ]


async def test_refresh_resets_the_ttl_and_keeps_the_value(async_etcd_client):
    await async_etcd_client.set("/r", "v", ttl=5)
    refreshed = await async_etcd_client.refresh("/r", ttl=60)
    assert refreshed.value == "v" and refreshed.ttl == 60
    assert (await async_etcd_client.get("/r")).ttl > 50
    with pytest.raises(etcd.EtcdKeyNotFound):
        await async_etcd_client.refresh("/r-none", ttl=5)


async def test_bad_values_and_ttls_are_refused_with_a_reason(async_etcd_client):
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.set("/d", None)
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.set("/d", "v", ttl=0)
    with pytest.raises(etcd.EtcdTypeError):
        await async_etcd_client.set("/d", "v", ttl="10")


# --- machines, leader, stats ----------------------------------------------------------------


async def test_machines_leader_and_version_on_one_member(async_etcd_client, etcd_server):
    assert await async_etcd_client.machines == [etcd_server.client_url]
    leader = await async_etcd_client.leader
    assert leader.client_urls == (etcd_server.client_url,)
    assert leader["clientURLs"] == [etcd_server.client_url] and leader["name"] == leader.name
    assert leader["id"] == f"{leader.id:x}"
    assert (await async_etcd_client.version).startswith("3.")
    assert (await async_etcd_client.stats)["state"] == "StateLeader"
    assert list(await async_etcd_client.members) == [f"{leader.id:x}"]


# --- the rest of python-etcd 0.4.5's surface ---------------------------------------------------


async def test_contains_answers_python_etcds_key_in_client(async_etcd_client):
    await async_etcd_client.set("/in/key", "v")
    await async_etcd_client.set("/in/dir/child", "v")
    assert await async_etcd_client.contains("/in/key")
    assert await async_etcd_client.contains("in/dir/")
    assert await async_etcd_client.contains("/")
    assert not await async_etcd_client.contains("/in/none")
    assert not await async_etcd_client.contains("/in/ke")
    # The sync twin of this test takes the second branch: there `in` answers. The coroutine
    # client cannot wait inside `in`, and says what to call instead.
    if type(async_etcd_client).__name__.startswith("Async"):
        with pytest.raises(etcd.EtcdTypeError, match=r"contains\(key\)"):
            "/in/key" in async_etcd_client  # noqa: B015
    else:
        assert "/in/key" in async_etcd_client
        assert "/in/dir" in async_etcd_client
        assert "/in/none" not in async_etcd_client


async def test_python_etcds_client_attributes(etcd_server):
    port = port_of(etcd_server)
    async with etcd.AsyncClient(
        host="127.0.0.1", port=port, read_timeout=7, allow_redirect=False, allow_reconnect=True
    ) as client:
        assert (client.host, client.port, client.protocol) == ("127.0.0.1", port, "http")
        assert client.base_uri == etcd_server.client_url
        assert client.read_timeout == 7
        assert (client.allow_redirect, client.allow_reconnect) == (False, True)
        await client.set("/attrs", "v")
    async with etcd.AsyncClient(port=port, timeout=None) as client:
        assert client.read_timeout is None
        assert (client.allow_redirect, client.allow_reconnect) == (True, False)


async def test_v2_statistics_that_v3_lacks_are_refused_with_a_reason(async_etcd_client):
    for name in ("leader_stats", "store_stats", "cluster_version"):
        with pytest.raises(etcd.EtcdNotSupported, match=name) as raised:
            getattr(async_etcd_client, name)
        assert isinstance(raised.value, NotImplementedError)
    assert (await async_etcd_client.version).startswith("3.")


async def test_the_root_is_read_only_as_on_etcd_v2(async_etcd_client):
    await async_etcd_client.set("/root/k", "v")
    with pytest.raises(etcd.EtcdRootReadOnly) as raised:
        await async_etcd_client.set("/", "x")
    assert isinstance(raised.value, etcd.EtcdKeyError)
    with pytest.raises(etcd.EtcdRootReadOnly):
        await async_etcd_client.write("", "x", prevExist=False)
    with pytest.raises(etcd.EtcdRootReadOnly):
        await async_etcd_client.refresh("/", ttl=5)
    with pytest.raises(etcd.EtcdRootReadOnly):
        await async_etcd_client.delete("/", recursive=True)
    assert (await async_etcd_client.get("/root/k")).value == "v"
    assert not (await async_etcd_client.range("/")).kvs
    # Appending below the root makes a key of its own, as v2's POST to / did.
    appended = await async_etcd_client.write("/", "job", append=True)
    assert appended.key.startswith("/0") and (await async_etcd_client.get(appended.key)).value


async def test_a_timeout_of_zero_means_none_in_the_python_etcd_calls_only(async_etcd_client):
    written = await async_etcd_client.set("/zero", "1", timeout=0)
    assert (await async_etcd_client.read("/zero", timeout=0)).value == "1"
    assert await async_etcd_client.contains("/zero", timeout=0)
    assert (await async_etcd_client.test_and_set("/zero", "2", "1", timeout=0)).value == "2"
    timer = later(0.3, async_etcd_client.set, "/zero", "3")
    change = await async_etcd_client.watch("/zero", timeout=0)
    await join(timer, 10)
    assert change.value == "3"
    replay = await async_etcd_client.read(
        "/zero", wait=True, waitIndex=written.modifiedIndex, timeout=0
    )
    assert replay.value == "1"
    assert (await async_etcd_client.delete("/zero", timeout=0)).action == "delete"
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.range("/zero", timeout=0)
    with pytest.raises(etcd.EtcdValueError):
        await async_etcd_client.watch_once("/zero", timeout=0)


async def test_read_with_wait_is_a_watch(async_etcd_client):
    first = (await async_etcd_client.set("/rw", "1")).modifiedIndex
    second = (await async_etcd_client.set("/rw", "2")).modifiedIndex
    replay = await async_etcd_client.read("/rw", wait=True, waitIndex=first, timeout=10)
    assert (replay.action, replay.value, replay.modifiedIndex) == ("set", "1", first)
    assert replay._prev_node is None
    following = await async_etcd_client.read("/rw", wait=True, waitIndex=first + 1, timeout=10)
    assert (following.value, following._prev_node.value) == ("2", "1")
    assert following.modifiedIndex == second
    timer = later(0.3, async_etcd_client.set, "/rwd/child", "3")
    below = await async_etcd_client.read("/rwd", wait=True, recursive=True, timeout=10)
    await join(timer, 10)
    assert (below.key, below.value, below.newKey) == ("/rwd/child", "3", True)
    with pytest.raises(etcd.EtcdWatchTimedOut):
        await async_etcd_client.read("/rw", wait=True, waitIndex=second + 2, timeout=0.5)


async def test_a_replaced_cluster_is_python_etcds_cluster_id_changed(etcd_server_factory):
    old, new = etcd_server_factory(), etcd_server_factory()
    async with etcd.AsyncClient(
        endpoints=[old.endpoint, new.endpoint], timeout=10, connect_timeout=1
    ) as client:
        assert client.expected_cluster_id is None
        await client.set("/cluster", "old")
        assert (await client.get("/cluster")).value == "old"
        learned = client.expected_cluster_id
        assert learned is not None
        old.kill()
        with pytest.raises(etcd.EtcdClusterIdChanged) as raised:
            await client.get("/cluster")
        replacement = client.expected_cluster_id
        assert replacement != learned
        assert learned in str(raised.value) and replacement in str(raised.value)
        # Raised once: from then on the replacement is the cluster, with its own data.
        with pytest.raises(etcd.EtcdKeyNotFound):
            await client.get("/cluster")
    async with etcd.AsyncClient(endpoints=[new.endpoint], timeout=10) as client:
        client.expected_cluster_id = learned
        # Writes are not checked (python-etcd's concern is an index read on the old cluster);
        # a watch from such an index is.
        await client.set("/cluster", "new")
        with pytest.raises(etcd.EtcdClusterIdChanged):
            await client.watch("/cluster", index=1, timeout=10)
        assert client.expected_cluster_id == replacement


async def test_a_v3_lock_lost_while_waiting_is_python_etcds_lock_expired(async_etcd_client):
    holder = async_etcd_client.lock("/locks/job")
    assert await holder.acquire(timeout=10)
    session = await async_etcd_client.session(ttl=30)
    waiter = async_etcd_client.lock("/locks/job", session=session)
    raised = []

    async def wait_for_the_lock():
        try:
            await waiter.acquire(timeout=30)
        except etcd.EtcdLockExpired as error:
            raised.append(error)

    worker = spawn(wait_for_the_lock, name="waiter")
    while waiter.key is None:
        await sleep(0.05)
    await async_etcd_client.lease_revoke(session.lease_id)
    await holder.release()
    await join(worker, 30)
    assert raised and isinstance(raised[0], etcd.EtcdLeaseExpired)
    await session.close()
