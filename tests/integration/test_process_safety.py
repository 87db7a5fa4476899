"""fork() and threads: a client never hangs or aborts, and gives back what it took."""

import os
import sys
import threading
import time

import pytest

import etcd

pytestmark = [pytest.mark.integration, pytest.mark.faults]

FORKER = """
import os, sys, etcd
endpoint = sys.argv[1]
client = etcd.Client(endpoints=[endpoint], timeout=5)
client.put("/fork/parent", "1")
watch = client.watch_stream("/fork/parent")
watch.wait_created(5)
lease = client.lease(ttl=5)
codes = []
for number in range(20):
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            client.range("/fork/parent")
            code = 3                      # the parent's client must refuse, not hang
        except etcd.EtcdForkedClient:
            pass
        try:
            with etcd.Client(endpoints=[endpoint], timeout=5) as fresh:
                fresh.put(f"/fork/child/{number}", "ok")
        except Exception as error:
            print("child", number, type(error).__name__, error, flush=True)
            code = 4
        os._exit(code)
    codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print("codes", codes, flush=True)
print("children", client.range("/fork/child/", prefix=True, count_only=True).count, flush=True)
client.put("/fork/parent", "2")
print("watch", watch.next_event(10).value.decode(), flush=True)
print("lease", not lease.lost, flush=True)
client.close()
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_children_get_a_clear_error_and_the_parent_goes_on(etcd_server):
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", FORKER, etcd_server.endpoint],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "codes [" + ", ".join(["0"] * 20) + "]" in result.stdout
    assert "children 20" in result.stdout
    assert "watch 2" in result.stdout and "lease True" in result.stdout


def _open_fds():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_sixteen_threads_share_one_client_through_reconnects(etcd_server_factory):
    import gc
    import tracemalloc

    server = etcd_server_factory()
    # What the first call of a process imports is not what the client keeps.
    with etcd.Client(endpoints=[server.endpoint]) as first:
        first.put("/threads/first", "v")
        first.range("/threads/first")
    tracemalloc.start()
    baseline_threads = threading.active_count()
    baseline_fds = _open_fds()
    baseline_memory = tracemalloc.get_traced_memory()[0]
    client = etcd.Client(endpoints=[server.endpoint], timeout=5, connect_timeout=1)
    errors: list[BaseException] = []
    done = threading.Event()
    counts = [0] * 16

    def work(number):
        while not done.is_set():
            try:
                client.put(f"/threads/{number}", str(counts[number]))
                assert (
                    client.range(f"/threads/{number}").kvs[0].value == str(counts[number]).encode()
                )
                counts[number] += 1
            except etcd.EtcdConnectionFailed:
                time.sleep(0.05)  # the member is restarting: expected, and typed
            except BaseException as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for _ in range(3):
        time.sleep(0.5)
        server.kill()
        server.restart()
    time.sleep(0.5)
    done.set()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert errors == []
    assert all(count > 0 for count in counts)
    client.close()
    deadline = time.monotonic() + 10
    while threading.active_count() > baseline_threads and time.monotonic() < deadline:
        time.sleep(0.1)
    assert threading.active_count() <= baseline_threads
    # gRPC may keep a few process-wide descriptors (its event engine) after first use.
    assert _open_fds() <= baseline_fds + 8
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - baseline_memory
    tracemalloc.stop()
    print(f"after 16 threads and 3 restarts: {sum(counts)} round trips, {grown} bytes kept")
    assert grown < 2 * 1024 * 1024
