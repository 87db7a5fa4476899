"""``make-mirror`` against real etcd, and beside the real etcdctl.

The interoperation tests run etcdctl's make-mirror between two clusters and ours between
two others, make the same changes on both sources, and require both destinations to end
with the same keys and values (and both tools to print the same running total). The
other tests cover what etcdctl 3.5 lacks (``--rev``, ``--dest-endpoints``,
``--max-txn-ops``), stopping on signals, and failures.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import etcd
from etcd.testing import EtcdServer

from ._etcdctl import clean_environment

pytestmark = pytest.mark.integration

TIMEOUT = 10.0
# etcdctl prints the running total every 30 seconds.
REPORT_INTERVAL = 30.0


class MirrorProcess:
    """One tool's make-mirror from ``source`` to ``destination``, its output in files."""

    def __init__(
        self,
        tool: list[str],
        source: EtcdServer,
        destination: EtcdServer,
        flags: tuple[str, ...],
        directory: Path,
        name: str,
        *,
        destination_argument: bool = True,
    ) -> None:
        self.source = source
        self.destination = destination
        self.out_path = directory / f"{name}.out"
        self.err_path = directory / f"{name}.err"
        argv = [*tool, f"--endpoints={source.endpoint}", "make-mirror", *flags]
        if destination_argument:
            argv.append(destination.endpoint)
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(argv, stdout=out, stderr=err, env=clean_environment())

    def output(self) -> bytes:
        return self.out_path.read_bytes()

    def errors(self) -> str:
        return self.err_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def mirrors(tmp_path: Path) -> Iterator[list[MirrorProcess]]:
    started: list[MirrorProcess] = []
    yield started
    for mirror in started:
        if mirror.process.poll() is None:
            mirror.process.kill()
        mirror.process.wait()


def ours() -> list[str]:
    return [sys.executable, "-m", "etcd"]


def contents(server: EtcdServer) -> dict[bytes, bytes]:
    with etcd.Client(endpoints=[server.endpoint], timeout=TIMEOUT) as client:
        return {kv.key: kv.value for kv in client.range(etcd.ALL_KEYS).kvs}


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def wait_for_contents(server: EtcdServer, expected: dict[bytes, bytes]) -> None:
    wait_for(lambda: contents(server) == expected, f"the destination to hold {expected}")


def same_changes(*servers: EtcdServer, prefix: str) -> None:
    """Puts, an overwrite, deletes, a transaction and a deleted sub-prefix under ``prefix``
    (and a put outside it), the same on every server."""
    for server in servers:
        with etcd.Client(endpoints=[server.endpoint], timeout=TIMEOUT) as client:
            client.put(f"{prefix}key4", "val4")
            client.put(f"{prefix}key1", "val1 changed")
            client.delete_range(f"{prefix}key2")
            client.txn(
                [],
                [
                    etcd.Op.put(f"{prefix}t/a", "A"),
                    etcd.Op.put(f"{prefix}t/b", "B"),
                    etcd.Op.put(f"{prefix}t/c", b"\x00\xff binary"),
                    etcd.Op.delete_range(f"{prefix}key3"),
                ],
                [],
            )
            client.delete_range(f"{prefix}t/c")
            client.put("outside", "not mirrored")


def seed(*servers: EtcdServer, prefix: str) -> None:
    for server in servers:
        with etcd.Client(endpoints=[server.endpoint], timeout=TIMEOUT) as client:
            for index in (1, 2, 3):
                client.put(f"{prefix}key{index}", f"val{index}")


def expected_after_changes(dest_prefix: str) -> dict[bytes, bytes]:
    return {
        f"{dest_prefix}key1".encode(): b"val1 changed",
        f"{dest_prefix}key4".encode(): b"val4",
        f"{dest_prefix}t/a".encode(): b"A",
        f"{dest_prefix}t/b".encode(): b"B",
    }


def run_both(
    etcdctl: str,
    factory: Callable[..., EtcdServer],
    directory: Path,
    mirrors: list[MirrorProcess],
    flags: tuple[str, ...],
) -> tuple[MirrorProcess, MirrorProcess]:
    """etcdctl's make-mirror between two fresh clusters, ours between two others."""
    theirs = MirrorProcess([etcdctl], factory(), factory(), flags, directory, "theirs")
    mirrors.append(theirs)
    mine = MirrorProcess(ours(), factory(), factory(), flags, directory, "ours")
    mirrors.append(mine)
    return theirs, mine


@pytest.mark.timeout(120)
def test_make_mirror_matches_etcdctl_and_prints_the_same_running_total(
    etcdctl, etcd_server_factory, tmp_path, mirrors
) -> None:
    """Both tools copy the same keys, follow the same changes, and print the same running
    total, in the same format, after 30 seconds."""
    sources_seeded = [etcd_server_factory() for _ in range(2)]
    seed(*sources_seeded, prefix="m/")
    theirs = MirrorProcess(
        [etcdctl], sources_seeded[0], etcd_server_factory(), ("--prefix", "m/"), tmp_path, "theirs"
    )
    mirrors.append(theirs)
    mine = MirrorProcess(
        ours(), sources_seeded[1], etcd_server_factory(), ("--prefix", "m/"), tmp_path, "ours"
    )
    mirrors.append(mine)
    started = time.monotonic()
    copied = {f"m/key{i}".encode(): f"val{i}".encode() for i in (1, 2, 3)}
    for mirror in (theirs, mine):
        wait_for_contents(mirror.destination, copied)
    same_changes(theirs.source, mine.source, prefix="m/")
    for mirror in (theirs, mine):
        wait_for_contents(mirror.destination, expected_after_changes("m/"))
    assert contents(theirs.destination) == contents(mine.destination)

    # Both print the running total once 30 seconds have passed: 3 keys copied, then
    # 1 + 1 + 1 + 4 + 1 changes.
    remaining = REPORT_INTERVAL + 15 - (time.monotonic() - started)
    for mirror in (theirs, mine):
        wait_for(mirror.output, "the running total", timeout=remaining)
    assert mine.output() == theirs.output() == b"11\n"
    assert mine.stop(signal.SIGINT) == 0
    theirs.stop()
    assert mine.errors() == ""


@pytest.mark.parametrize(
    ("flags", "source_prefix", "dest_prefix"),
    [
        (("--prefix", "o_", "--dest-prefix", "d_"), "o_", "d_"),
        (("--prefix", "o_", "--no-dest-prefix"), "o_", ""),
        (
            ("--prefix", "/a/", "--dest-prefix=/b/c/", "--dest-insecure-transport=true"),
            "/a/",
            "/b/c/",
        ),
    ],
    ids=["dest-prefix", "no-dest-prefix", "nested-dest-prefix"],
)
def test_make_mirror_rewrites_keys_as_etcdctl_does(
    etcdctl, etcd_server_factory, tmp_path, mirrors, flags, source_prefix, dest_prefix
) -> None:
    theirs, mine = run_both(etcdctl, etcd_server_factory, tmp_path, mirrors, flags)
    seed(theirs.source, mine.source, prefix=source_prefix)
    copied = {f"{dest_prefix}key{i}".encode(): f"val{i}".encode() for i in (1, 2, 3)}
    for mirror in (theirs, mine):
        wait_for_contents(mirror.destination, copied)
    same_changes(theirs.source, mine.source, prefix=source_prefix)
    for mirror in (theirs, mine):
        wait_for_contents(mirror.destination, expected_after_changes(dest_prefix))
    assert contents(theirs.destination) == contents(mine.destination)
    assert mine.stop(signal.SIGTERM) == 0
    assert mine.errors() == ""


def test_bad_arguments_are_refused_like_etcdctl(etcdctl, etcd_server_factory) -> None:
    source = etcd_server_factory()
    cases = [
        ("make-mirror",),
        ("make-mirror", "127.0.0.1:1", "127.0.0.1:2"),
        ("make-mirror", "--dest-prefix", "d_", "--no-dest-prefix", "127.0.0.1:1"),
    ]
    for args in cases:
        results = []
        for tool in ([etcdctl], ours()):
            done = subprocess.run(
                [*tool, f"--endpoints={source.endpoint}", *args],
                capture_output=True,
                env=clean_environment(),
                timeout=60,
                check=False,
            )
            results.append((done.returncode, done.stdout, done.stderr.decode().strip()))
        assert results[0] == results[1], args
        assert results[1][0] == 128


def test_our_own_flags_are_checked_before_anything_is_sent(etcd_server_factory) -> None:
    source = etcd_server_factory()
    for args, message in [
        (("--max-txn-ops", "0", "127.0.0.1:1"), "max_txn_ops"),
        (("--max-txn-ops", "-1", "127.0.0.1:1"), "ParseUint"),
        (("--rev", "-3", "127.0.0.1:1"), "rev must not be negative"),
        (("--dest-endpoints", "127.0.0.1:1", "127.0.0.1:2"), "either as an argument"),
    ]:
        done = subprocess.run(
            [*ours(), f"--endpoints={source.endpoint}", "make-mirror", *args],
            capture_output=True,
            env=clean_environment(),
            timeout=60,
            check=False,
        )
        assert done.returncode != 0 and done.stdout == b"", args
        error = done.stderr.decode()
        assert error.startswith("Error: ") and message in error, (args, error)
        assert len(error.splitlines()) == 1


def test_rev_replays_from_a_revision_to_dest_endpoints(
    etcd_server_factory, tmp_path, mirrors
) -> None:
    """Our ``--rev`` and ``--dest-endpoints`` (etcdctl 3.6's ``--rev``, without its
    full copy at ``--rev=1``): the changes from that revision on, nothing before."""
    source, destination = etcd_server_factory(), etcd_server_factory()
    with etcd.Client(endpoints=[source.endpoint], timeout=TIMEOUT) as client:
        client.put("o_key1", "val1")
        client.put("o_key2", "val2")
        third = client.put("o_key3", "val3").header.revision
        client.put("o_key4", "val4")
    flags = (
        "--prefix=o_",
        "--no-dest-prefix",
        f"--rev={third}",
        "--max-txn-ops=2",
        f"--dest-endpoints={destination.endpoint}",
    )
    mine = MirrorProcess(
        ours(), source, destination, flags, tmp_path, "ours", destination_argument=False
    )
    mirrors.append(mine)
    wait_for_contents(destination, {b"key3": b"val3", b"key4": b"val4"})
    with etcd.Client(endpoints=[source.endpoint], timeout=TIMEOUT) as client:
        client.txn([], [etcd.Op.put(f"o_t{i}", str(i)) for i in range(5)], [])
    wait_for_contents(
        destination,
        {
            b"key3": b"val3",
            b"key4": b"val4",
            **{f"t{i}".encode(): str(i).encode() for i in range(5)},
        },
    )
    assert mine.stop(signal.SIGTERM) == 0
    assert (mine.output(), mine.errors()) == (b"", "")


def test_a_compacted_history_ends_make_mirror_with_etcdctls_error(
    etcd_server_factory, tmp_path, mirrors
) -> None:
    source, destination = etcd_server_factory(), etcd_server_factory()
    with etcd.Client(endpoints=[source.endpoint], timeout=TIMEOUT) as client:
        first = client.put("c/k", "1").header.revision
        client.compact(client.put("c/k", "2").header.revision)
    mine = MirrorProcess(
        ours(), source, destination, ("--prefix=c/", f"--rev={first}"), tmp_path, "ours"
    )
    mirrors.append(mine)
    assert mine.process.wait(timeout=30) == 1
    assert mine.errors() == "Error: etcdserver: mvcc: required revision has been compacted\n"


def test_make_mirror_writes_as_the_destination_user(etcd_server_factory, tmp_path, mirrors) -> None:
    source, destination = etcd_server_factory(), etcd_server_factory()
    with etcd.Client(endpoints=[destination.endpoint], timeout=TIMEOUT) as root:
        root.user_add("root", "rootpw")
        root.user_grant_role("root", "root")
        root.auth_enable()
    with etcd.Client(endpoints=[source.endpoint], timeout=TIMEOUT) as client:
        client.put("u/k", "v")
    mine = MirrorProcess(
        ours(),
        source,
        destination,
        ("--prefix=u/", "--dest-user=root", "--dest-password=rootpw"),
        tmp_path,
        "ours",
    )
    mirrors.append(mine)

    def mirrored() -> bool:
        with etcd.Client(
            endpoints=[destination.endpoint], username="root", password="rootpw", timeout=TIMEOUT
        ) as client:
            return client.range("u/k").kvs[0].value == b"v" if client.range("u/k").kvs else False

    wait_for(mirrored, "the key to reach the destination")
    assert mine.stop(signal.SIGINT) == 0
