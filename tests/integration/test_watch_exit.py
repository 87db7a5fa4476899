"""Sync only: exit and Ctrl+C are about the watch's threads, which asyncio does not have."""

import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration

# A hang is caught by these subprocess timeouts, not by measuring anything.
HANG = 60

LEFT_OPEN = """
import sys, etcd
client = etcd.Client(endpoints=[sys.argv[1]], timeout=5)
watch = client.watch_prefix("/exit/")
assert watch.wait_created(10)
client.put("/exit/k", "v")
assert watch.next_event(10).value == b"v"
with_callback = client.watch_prefix("/exit/", callback=lambda response: None)
assert with_callback.wait_created(10)
lease = client.lease(ttl=30)
print("leaving without close()", flush=True)
"""

BLOCKED = """
import sys, etcd
client = etcd.Client(endpoints=[sys.argv[1]], timeout=5)
watch = client.watch_prefix("/exit/")
assert watch.wait_created(10)
print("watching", flush=True)
for event in watch:
    print("unexpected event", event, flush=True)
"""


def test_a_process_with_an_open_watch_exits_without_close(etcd_server, etcd_client):
    # (etcd_client deletes the script's key afterwards.)
    result = subprocess.run(
        [sys.executable, "-c", LEFT_OPEN, etcd_server.endpoint],
        capture_output=True,
        text=True,
        timeout=HANG,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaving without close()" in result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_ctrl_c_interrupts_a_blocked_watch_loop(etcd_server, tmp_path):
    script = tmp_path / "blocked.py"  # a file, so that the traceback shows its lines
    script.write_text(BLOCKED)
    process = subprocess.Popen(
        [sys.executable, str(script), etcd_server.endpoint],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "watching\n"
        time.sleep(1)  # let it block in the loop (were it not yet, it would still be hit)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=HANG)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # An uncaught KeyboardInterrupt: the traceback, then death by SIGINT, as Python does.
    assert process.returncode == -signal.SIGINT, err
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert "for event in watch:" in err, err
    assert "unexpected event" not in out
