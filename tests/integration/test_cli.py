"""The command-line tool against real etcd, compared with the real etcdctl, command by
command.

Each comparison runs etcdctl 3.5.1 (shipped with etcd) and our tool against the same
server and data, and asserts identical stdout and exit codes. Reads are compared byte for
byte. Writes cannot be: running one after the other, each write lands at its own
revision, so those outputs are compared with the revision numbers masked (and, where
noted, lease or member IDs, which the server picks anew, and durations) - everything
else, field names, order, quoting and encodings included, must still be identical.

Our tool runs in-process (``etcd._cli.run``) where it can, as a subprocess where signals
or concurrency matter (watch, lock, elect, keep-alive).
"""

from __future__ import annotations

import base64
import io
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import etcd
from etcd._cli import run
from etcd.testing import EtcdServer, free_port, make_tls

from ._etcdctl import clean_environment

pytestmark = pytest.mark.integration

FORMATS = ("simple", "json", "fields")


@dataclass
class Result:
    out: bytes
    err: str
    code: int


class Tools:
    """etcdctl and our tool, pointed at the same endpoints."""

    def __init__(self, etcdctl: str, endpoint: str, *flags: str) -> None:
        self.etcdctl = etcdctl
        self.endpoint = endpoint
        self.flags = [f"--endpoints={endpoint}", *flags]

    def theirs(self, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [self.etcdctl, *self.flags, *args],
            input=stdin,
            capture_output=True,
            env=clean_environment(**(env or {})),
            timeout=60,
            check=False,
        )
        return Result(done.stdout, done.stderr.decode(errors="replace"), done.returncode)

    def ours(self, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Result:
        out, err = io.BytesIO(), io.StringIO()
        code = run(
            [*self.flags, *args],
            stdin=io.BytesIO(stdin),
            stdout=out,
            stderr=err,
            environ=clean_environment(**(env or {})),
        )
        return Result(out.getvalue(), err.getvalue(), code)

    def same(
        self,
        *args: str,
        stdin: bytes = b"",
        mask: Callable[[bytes], bytes] | None = None,
        between: Callable[[], object] | None = None,
    ) -> Result:
        """Run both (calling ``between`` in between); assert the same stdout (after
        ``mask``) and exit code."""
        theirs = self.theirs(*args, stdin=stdin)
        if between is not None:
            between()
        ours = self.ours(*args, stdin=stdin)
        left, right = (mask(ours.out), mask(theirs.out)) if mask else (ours.out, theirs.out)
        assert left == right, f"{args}:\nours:   {ours.out!r}\ntheirs: {theirs.out!r}\n{ours.err}"
        assert ours.code == theirs.code, f"{args}: exit {ours.code} != {theirs.code}: {ours.err}"
        if ours.code:
            assert_one_error_line(ours.err)
        return ours

    def client(self, **options: object) -> etcd.Client:
        return etcd.Client(endpoints=[self.endpoint], timeout=10, **options)  # type: ignore[arg-type]


def assert_one_error_line(err: str) -> None:
    """A failure is reported in one line per problem: ``Error: ...``, or as etcdctl
    reports a failed endpoint (``Failed to get the status of endpoint ...``)."""
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(("Error: ", "Failed to ")), err
    assert "Traceback" not in err


_REVISIONS = re.compile(
    rb'("(?:revision|create_revision|mod_revision)":)-?\d+'
    rb'|("(?:Prev)?(?:Revision|CreateRevision|ModRevision)" : )\d+'
)


def mask_revisions(out: bytes) -> bytes:
    return _REVISIONS.sub(lambda m: (m.group(1) or m.group(2)) + b"R", out)


def mask_ids(out: bytes) -> bytes:
    """Lease and member IDs (hex and decimal), which the server picks anew each time."""
    out = mask_revisions(out)
    out = re.sub(rb"\b[0-9a-f]{12,16}\b", b"ID", out)
    return re.sub(rb'("(?:ID|id|lease)":|"ID" : )\d+', rb"\1ID", out)


def sorted_members(out: bytes) -> bytes:
    """A member command's output with IDs masked and, in JSON, members in name order."""
    # etcdctl pads member IDs to 16 columns with spaces ("Member  dcd10e9f86aad7d").
    masked = re.sub(rb"Member +ID", b"Member ID", mask_ids(out))
    if not masked.startswith(b"{"):
        # The member list etcdctl prints for the new member's configuration is in ID order.
        return re.sub(
            rb'(ETCD_INITIAL_CLUSTER=")([^"]*)"',
            lambda m: m.group(1) + b",".join(sorted(m.group(2).split(b","))) + b'"',
            masked,
        )
    document = json.loads(masked.replace(b":ID", b':"ID"'))
    document["members"].sort(key=lambda member: member.get("name", ""))
    return json.dumps(document).encode()


def mask_took(out: bytes) -> bytes:
    """Durations (how long a health check took), and the table padding they change."""
    out = re.sub(rb"\d+(?:\.\d+)?(?:ns|\xc2\xb5s|ms|s)\b", b"T", out)
    return re.sub(rb"-+", b"-", re.sub(rb" +", b" ", out))


@pytest.fixture(scope="module")
def server(etcd_binary: str) -> Iterator[EtcdServer]:
    with EtcdServer(binary=etcd_binary) as member:
        yield member


@pytest.fixture
def tools(etcdctl: str, server: EtcdServer) -> Tools:
    return Tools(etcdctl, server.client_url)


def put(tools: Tools, key: str, value: bytes, *options: str) -> None:
    result = tools.theirs("put", key, *options, stdin=value)
    assert result.code == 0, result.err


class Processes:
    """Long-running commands of either tool, their output in files; all ended after the
    test."""

    def __init__(self, tools: Tools, directory: Path) -> None:
        self.tools = tools
        self.directory = directory
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        with (
            (self.directory / name).open("wb") as out,
            (self.directory / f"{name}.err").open("wb") as err,
        ):
            process = subprocess.Popen(argv, stdout=out, stderr=err, env=clean_environment())
        self.running.append(process)
        return process

    def ours(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        return self.start([sys.executable, "-m", "etcd", *self.tools.flags, *args], name)

    def theirs(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        return self.start([self.tools.etcdctl, *self.tools.flags, *args], name)

    def output(self, name: str) -> bytes:
        return (self.directory / name).read_bytes()

    def wait_output(self, name: str, *marks: bytes) -> None:
        """Wait until ``name`` printed something (one of ``marks``, if given)."""

        def printed() -> bool:
            text = self.output(name)
            return any(mark in text for mark in marks) if marks else bool(text)

        wait_for(printed, f"{name} to print {marks or 'something'}")

    def close(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture
def processes(tools: Tools, tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tools, tmp_path)
    yield started
    started.close()


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def settle(client: etcd.Client, *endpoints: str) -> None:
    """Wait until the members' status stops changing: a member writes its database file a
    moment after answering, and both tools must see the same sizes and indexes."""

    def snapshot() -> list[tuple[int, int, int]]:
        targets: list[str | None] = list(endpoints) or [None]
        statuses = [client.status(endpoint) for endpoint in targets]
        return [(s.db_size, s.db_size_in_use, s.raft_index) for s in statuses]

    previous = snapshot()
    while True:
        time.sleep(0.25)
        current = snapshot()
        if current == previous:
            return
        previous = current


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()


# --- get ------------------------------------------------------------------------------------

GET_CASES = [
    ("get", "g/a"),
    ("get", "g/", "--prefix"),
    ("get", "g/", "--prefix", "--limit", "2"),
    ("get", "g/", "--prefix", "--keys-only"),
    ("get", "g/b", "--from-key"),
    ("get", "g/", "--prefix", "--order", "DESCEND", "--sort-by", "VALUE"),
    ("get", "g/", "--prefix", "--sort-by", "MODIFY", "--order", "descend"),
    ("get", "g/", "--prefix", "--sort-by=create"),
    ("get", "g/a", "g/c"),
    ("get", "g/", "--prefix", "--hex"),
    ("get", "g/", "--prefix", "--consistency=s"),
    ("get", "g/nothing"),
    ("get", "--prefix", "g/", "--keys-only=true", "--limit=1"),
]


def test_get_matches_etcdctl_in_every_format(tools: Tools) -> None:
    put(tools, "g/a", b"1")
    put(tools, "g/b", b"two words")
    put(tools, "g/c", b'\x00\xff"quoted"\n\ttab')
    put(tools, "g/\xc3\xa9", "ünïcödé <&> \u2028".encode())
    with tools.client() as client:
        lease = client.lease_grant(600).id
        put(tools, "g/d", b"leased", f"--lease={lease:x}")
        revision = client.range("g/a").header.revision
    put(tools, "g/a", b"1 again")
    for output in FORMATS:
        for case in GET_CASES:
            tools.same(*case, "-w", output)
        tools.same("get", "g/a", f"--rev={revision - 1}", "-w", output)
    tools.same("get", "g/", "--prefix", "--print-value-only")
    tools.same("get", "g/", "--prefix", "--count-only", "-w", "fields")
    tools.same("get", "--write-out=json", "g/", "--prefix", "--hex")


def test_get_refuses_what_etcdctl_refuses_with_its_exit_codes(tools: Tools) -> None:
    for case in [
        ("get", "g/a", "--count-only"),  # 128: --count-only is only for fields
        ("get", "g/a", "--print-value-only", "-w", "json"),  # 128
        ("get", "g/a", "-w", "table"),  # 4: table not supported
        ("get", "g/a", "-w", "xml"),  # 4: unsupported output format
        ("get", "g/", "--prefix", "--from-key"),  # 128
        ("get", "g/", "--order", "up"),  # 4
        ("get", "g/", "--sort-by", "size"),  # 4
        ("get", "g/", "--consistency", "x"),  # 4
        ("get",),  # 128
        ("get", "g/a", "--rev", "999999"),  # 1: a future revision
    ]:
        tools.same(*case)
    # An unknown flag: exit code 1 as etcdctl (which also prints its usage on stdout).
    unknown = tools.ours("get", "g/a", "--no-such-flag")
    assert unknown.code == tools.theirs("get", "g/a", "--no-such-flag").code == 1
    assert_one_error_line(unknown.err)


# --- put / del ------------------------------------------------------------------------------


def test_put_and_del_match_etcdctl_up_to_revisions(tools: Tools) -> None:
    """Every write runs twice from the same starting state, once per tool: outputs differ
    only in revisions."""
    with tools.client() as client:
        lease = client.lease_grant(600).id
    scenarios: list[tuple[list[bytes], tuple[str, ...], bytes]] = [
        ([], ("put", "pd/k", "v"), b""),
        ([b"v1"], ("put", "pd/k", "v2", "--prev-kv"), b""),
        ([b"v1"], ("put", "pd/k", "--ignore-value", "--prev-kv"), b""),
        ([b"v1"], ("put", "pd/k", "v3", f"--lease={lease:x}", "--prev-kv"), b""),
        ([b"v1"], ("put", "pd/k", "--ignore-lease", "v4", "--prev-kv"), b""),
        ([], ("put", "pd/k"), b"from\nstdin\n"),
        ([], ("put", "pd/k", "--", "-dashed"), b""),
        ([b"v1"], ("del", "pd/k"), b""),
        ([b"v1"], ("del", "pd/", "--prefix", "--prev-kv"), b""),
        ([b"v1"], ("del", "pd/a", "pd/z", "--prev-kv"), b""),
        ([b"v1"], ("del", "pd/j", "--from-key"), b""),
        ([b"v1"], ("del", "pd/missing"), b""),
    ]
    with tools.client() as client:

        def reset(values: list[bytes]) -> None:
            client.delete_range("pd/", prefix=True)
            for value in values:
                client.put("pd/k", value)

        for output in FORMATS:
            for state, args, stdin in scenarios:
                reset(state)
                theirs = tools.theirs("-w", output, *args, stdin=stdin)
                after_theirs = client.range("pd/", prefix=True).kvs
                reset(state)
                ours = tools.ours("-w", output, *args, stdin=stdin)
                after_ours = client.range("pd/", prefix=True).kvs
                assert mask_revisions(ours.out) == mask_revisions(theirs.out), (args, output)
                assert ours.code == theirs.code == 0, ours.err
                assert [(kv.key, kv.value, kv.lease) for kv in after_ours] == [
                    (kv.key, kv.value, kv.lease) for kv in after_theirs
                ]


def test_put_and_del_refuse_what_etcdctl_refuses(tools: Tools) -> None:
    for case in [
        ("put",),
        ("put", "pe/k", "v", "--lease=zz"),
        ("put", "pe/k", "v", "--ignore-value"),
        ("put", "pe/k", "v", "--lease=123"),  # 1: no such lease
        ("put", "pe/missing", "--ignore-value"),  # 1: key not found
        ("del",),
        ("del", "pe/", "--prefix", "--from-key"),
        ("del", "pe/a", "pe/b", "--prefix"),
    ]:
        tools.same(*case)


# --- txn ------------------------------------------------------------------------------------

READ_ONLY_TXNS = [
    'value("t/a") = "1"\nmod("t/b") > "0"\n\nget t/ --prefix\ndel t/none --prev-kv\n\nget t/a\n\n',
    'val("t/a") != "1"\n\nget t/a\n\nget t/ --prefix --keys-only\nget t/b --count-only\n\n',
    'ver("t/a") = "1"\nc("t/a") < "100000"\nm("t/b") > "1"\n\n\n\n',
    '\nget "t/a"\nget "t/b" --limit=1\n\n\n',
    'version("t/missing") = "0"\n\n\n\n',
]


def test_txn_matches_etcdctl(tools: Tools) -> None:
    put(tools, "t/a", b"1")
    put(tools, "t/b", b"two words")
    for output in FORMATS:
        for text in READ_ONLY_TXNS:
            tools.same("txn", "-w", output, stdin=text.encode())
        tools.same("txn", "-i", "-w", output, stdin=READ_ONLY_TXNS[0].encode())
    writing = 'value("t/a") = "1"\n\nput t/c "hello world"\nput t/d x --prev-kv\ndel t/e\n\n\n'
    with tools.client() as client:
        for output in FORMATS:
            client.delete_range("t/c")
            client.delete_range("t/d")
            theirs = tools.theirs("txn", "-w", output, stdin=writing.encode())
            client.delete_range("t/c")
            client.delete_range("t/d")
            ours = tools.ours("txn", "-w", output, stdin=writing.encode())
            assert mask_revisions(ours.out) == mask_revisions(theirs.out)
            assert ours.code == theirs.code == 0


def test_txn_syntax_errors_exit_like_etcdctl(tools: Tools) -> None:
    for text in [
        "",  # EOF: 3
        'value("t/a") = "1"\n\nput t/x y\n\n',  # EOF in the last part: 3
        "bogus\n\n\n\n",  # malformed comparison: 3
        'value("t/a") = unquoted\n\n\n\n',  # 3
        'version("t/a") > "x"\n\n\n\n',  # 3
        "\nfoo a\n\n\n",  # invalid request: 3
        "\nput a\n\n\n",  # put without a value: 128
        "\nput --lease=1 t/x y\n\n\n",  # no such lease: 1
    ]:
        tools.same("txn", stdin=text.encode())


# --- watch ----------------------------------------------------------------------------------


def test_watch_matches_etcdctl_event_for_event(tools: Tools, processes: Processes) -> None:
    """Both tools watch the same changes and must print exactly the same bytes; ours stops
    cleanly (exit 0) on SIGINT and on SIGTERM.

    Every watch starts at the revision of a first change (--rev), and the other changes
    are made only once every watch has printed that one: so whenever each tool
    connected, it sees the first change in a response of the same revision, and the rest
    as they happen.
    """
    with tools.client() as client:
        start = client.put("w/0", "sync").header.revision
        echo = (
            'echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_REVISION"'
        )
        variants = {
            "simple": ("watch", "w/", "--prefix", "--prev-kv", f"--rev={start}"),
            "json": ("watch", "w/", "--prefix", "--prev-kv", f"--rev={start}", "-w", "json"),
            "fields": ("watch", "--prefix", "w/", f"--rev={start}", "-w=fields", "--prev-kv"),
            "hex": ("watch", "w/", "--prefix", f"--rev={start}", "--hex"),
            "exec": ("watch", "w/", "--prefix", f"--rev={start}", "--", "sh", "-c", echo),
        }
        started = {
            name: (processes.theirs(*args, name=f"theirs-{name}"), processes.ours(*args, name=name))
            for name, args in variants.items()
        }
        for name in variants:
            for output in (f"theirs-{name}", name):
                processes.wait_output(output)
        client.put("w/1", "a")
        client.put("w/1", 'b "quoted"\n')
        client.txn([], [etcd.Op.put("w/2", "x"), etcd.Op.put("w/3", "y")], [])
        client.delete_range("w/", prefix=True)
        last = client.put("w/last", "z").header.revision
        for name in variants:
            for output in (f"theirs-{name}", name):
                processes.wait_output(output, b"z", b"eg==", b"\\x7a")
        for index, (name, (theirs, ours)) in enumerate(started.items()):
            stop(theirs)
            assert stop(ours, signal.SIGTERM if index % 2 else signal.SIGINT) == 0
            assert processes.output(name) == processes.output(f"theirs-{name}"), name
        # etcdctl quotes the values it passes (Go's %q), and so do we.
        assert f'"PUT" "w/last" "z" {last}\n'.encode() in processes.output("exec")


def test_watch_of_a_compacted_revision_fails_like_etcdctl(etcdctl, etcd_server_factory) -> None:
    tools = Tools(etcdctl, etcd_server_factory().client_url)
    with tools.client() as client:
        for index in range(3):
            client.put("c/key", str(index))
        revision = client.range("c/key").header.revision
    # Compaction: the same output shape; the revisions compacted differ by one write.
    theirs = tools.theirs("compaction", str(revision - 1))
    with tools.client() as client:
        client.put("c/key", "again")
    ours = tools.ours("compaction", str(revision), "--physical")
    assert theirs.out == f"compacted revision {revision - 1}\n".encode()
    assert ours.out == f"compacted revision {revision}\n".encode()
    tools.same("compaction", str(revision - 1))  # already compacted: 1
    tools.same("compaction", "x")  # not a number: 1
    for output in FORMATS:
        tools.same("watch", "c/key", "--rev=1", "-w", output)  # canceled: exit code 5


# --- leases ---------------------------------------------------------------------------------


def test_lease_commands_match_etcdctl(tools: Tools) -> None:
    with tools.client() as client:
        for output in FORMATS:
            theirs = tools.theirs("lease", "grant", "600", "-w", output)
            ours = tools.ours("lease", "grant", "600", "-w", output)
            assert mask_ids(ours.out) == mask_ids(theirs.out)
        lease = client.lease_grant(900).id
        # One key: the server lists a lease's keys in no fixed order.
        client.put("l/a", "1", lease=lease)
        for output in FORMATS:
            # The remaining TTL is in whole seconds: the two reads could straddle one.
            tools.same("lease", "timetolive", f"{lease:x}", "-w", output,
                       mask=lambda out: re.sub(rb"remaining\(\d+s\)|\"ttl\":\d+|\"TTL\" : \d+",
                                               b"TTL", out))  # fmt: skip
            tools.same("lease", "timetolive", f"{lease:x}", "--keys", "-w", output,
                       mask=lambda out: re.sub(rb"remaining\(\d+s\)|\"ttl\":\d+|\"TTL\" : \d+",
                                               b"TTL", out))  # fmt: skip
            tools.same("lease", "list", "-w", output)
            tools.same("lease", "keep-alive", "--once", f"{lease:x}", "-w", output)
        for output in FORMATS:
            first, second = client.lease_grant(60).id, client.lease_grant(60).id
            theirs = tools.theirs("lease", "revoke", f"{first:x}", "-w", output)
            ours = tools.ours("lease", "revoke", f"{second:x}", "-w", output)
            assert mask_ids(ours.out) == mask_ids(theirs.out)
            tools.same("lease", "timetolive", f"{first:x}", "-w", output)  # already expired
        for case in [
            ("lease", "revoke", f"{first:x}"),  # 1: not found
            ("lease", "revoke", "xyz"),  # 128
            ("lease", "grant"),  # 128
            ("lease", "timetolive"),  # 128
            ("lease", "keep-alive", "--once", f"{first:x}"),  # 2: not found
        ]:
            tools.same(*case)


def test_lease_keep_alive_runs_until_the_lease_is_gone(tools: Tools, processes: Processes) -> None:
    with tools.client() as client:
        lease = client.lease_grant(3).id
        theirs = processes.theirs("lease", "keep-alive", f"{lease:x}", name="theirs")
        ours = processes.ours("lease", "keep-alive", f"{lease:x}", name="ours")
        line = f"lease {lease:016x} keepalived with TTL(3)\n".encode()
        wait_for(lambda: processes.output("ours").count(line) >= 2, "two keep-alives")
        client.lease_revoke(lease)
        assert ours.wait(timeout=15) == 0
        assert theirs.wait(timeout=15) == 0
    for name in ("ours", "theirs"):
        lines = processes.output(name).splitlines(keepends=True)
        assert lines[-1] == f"lease {lease:016x} expired or revoked.\n".encode()
        assert set(lines[:-1]) == {line}
    # Interrupted, it exits 0 at once.
    with tools.client() as client:
        lease = client.lease_grant(30).id
        ours = processes.ours("lease", "keep-alive", f"{lease:x}", "-w", "json", name="json")
        processes.wait_output("json")
        assert stop(ours) == 0
        assert json.loads(processes.output("json").splitlines()[0])["TTL"] == 30


# --- cluster and maintenance ----------------------------------------------------------------


def test_member_commands_match_etcdctl(tools: Tools) -> None:
    for output in (*FORMATS, "table"):
        tools.same("member", "list", "-w", output)
    tools.same("member", "list", "-w", "json", "--hex")
    tools.same("member", "list", "--hex")
    # etcd refuses to add a member again with the peer URL of one just removed: each tool
    # gets its own, and ours is renamed to theirs in its output.
    peers = [f"http://127.0.0.1:{free_port()}" for _ in range(4)]
    with tools.client() as client:

        def applied() -> None:
            """Wait until the last membership change is applied: until then, the leader
            drops a new one (and its caller waits for nothing until its deadline)."""

            def done() -> bool:
                status = client.status()
                return status.raft_applied_index >= status.raft_index

            wait_for(done, "the membership change to apply")

        def learner_id() -> int:
            applied()
            return next(m.id for m in client.member_list().members if m.is_learner)

        for output in ("simple", "json"):
            peer, other = peers.pop(), peers.pop()
            # Only one learner at a time: each tool adds and removes its own, in turn.
            theirs_add = tools.theirs("member", "add", "new", "--learner", f"--peer-urls={peer}",
                                      "-w", output)  # fmt: skip
            assert theirs_add.code == 0, theirs_add.err
            learner = learner_id()
            tools.same("member", "list", "-w", output)
            update = ("member", "update", f"{learner:x}", f"--peer-urls={peer}", "-w", output)
            tools.same(*update, between=applied)
            applied()
            tools.same("member", "promote", f"{learner:x}", "-w", output)  # 1: not in sync
            theirs_remove = tools.theirs("member", "remove", f"{learner:x}", "-w", output)
            applied()
            ours_add = tools.ours("member", "add", "new", "--learner", f"--peer-urls={other}",
                                  "-w", output)  # fmt: skip
            ours_add.out = ours_add.out.replace(other.encode(), peer.encode())
            learner = learner_id()
            ours_remove = tools.ours("member", "remove", f"{learner:x}", "-w", output)
            applied()
            # IDs are random, and members are listed by ID: the learner's place varies.
            assert sorted_members(ours_add.out) == sorted_members(theirs_add.out)
            assert sorted_members(ours_remove.out) == sorted_members(theirs_remove.out)
            assert ours_add.code == ours_remove.code == 0
    for case in [
        ("member", "add"),
        ("member", "add", "x"),
        ("member", "add", "x", "http://127.0.0.1:1"),
        ("member", "remove", "zz"),
        ("member", "remove", "1234"),  # 1: not found
        ("member", "update", "1234"),
    ]:
        tools.same(*case)
    # A format etcdctl has no output for is refused before anything is changed (etcdctl
    # removes the member, then fails to print): same exit code, nothing removed.
    with tools.client() as client:
        member = client.member_list().members[0].id
        refused = tools.ours("member", "remove", f"{member:x}", "-w", "fields")
        assert [m.id for m in client.member_list().members] == [member]
    assert refused.code == 4
    assert_one_error_line(refused.err)


@pytest.mark.etcd_version("3.5", reason="compared with etcdctl 3.5, which fails on older servers")
def test_endpoint_commands_match_etcdctl(tools: Tools) -> None:
    with tools.client() as client:
        settle(client)
    for output in (*FORMATS, "table"):
        tools.same("endpoint", "status", "-w", output)
        tools.same("endpoint", "status", "--cluster", "-w", output)
        tools.same("endpoint", "hashkv", "-w", output)
        tools.same("endpoint", "hashkv", "--cluster", "--rev=1", "-w", output)
        # How long the check took differs from run to run.
        tools.same("endpoint", "health", "-w", output, mask=mask_took)
        tools.same("endpoint", "--cluster", "health", "-w", output, mask=mask_took)
    # A member that fails: its line on stderr, exit code 1, the others printed.
    tools.same("endpoint", "hashkv", "--rev=999999")
    tools.same("endpoint", "hashkv", "--rev=999999", "-w", "json")
    tools.same("defrag")
    tools.same("defrag", "--cluster")
    tools.same("alarm", "list")
    tools.same("alarm", "list", "-w", "json")
    tools.same("alarm", "list", "-w", "fields")
    tools.same("alarm", "disarm")
    tools.same("alarm", "disarm", "-w", "json")
    with tools.client() as client:
        members = client.member_list().members
    tools.same("move-leader", f"{members[0].id:x}")  # to itself: done at once
    tools.same("move-leader", f"{members[0].id:x}", "-w", "json")
    tools.same("move-leader", "1234")  # 1: bad leader transferee
    tools.same("move-leader", f"{members[0].id:x}", "-w", "fields")  # 4


@pytest.mark.etcd_version("3.5", reason="compared with etcdctl 3.5, which fails on older servers")
def test_an_alarm_shows_in_alarm_endpoint_and_health_output(etcdctl, etcd_server_factory) -> None:
    tools = Tools(etcdctl, etcd_server_factory(quota_backend_bytes=64 * 1024).client_url)
    with tools.client() as client:

        def fill_up() -> None:
            """Write until the member raises its NOSPACE alarm (the size it checks against
            its quota lags a little behind the writes)."""
            for index in range(500):
                try:
                    client.put(f"big/{index}", "x" * 8000)
                except etcd.EtcdNoSpace:
                    return
            pytest.fail("the member never ran out of space")

        fill_up()
        settle(client)
        for output in FORMATS:
            tools.same("alarm", "list", "-w", output)
        for output in (*FORMATS, "table"):
            # Its errors column wraps in the table as etcdctl's does.
            tools.same("endpoint", "status", "-w", output)
            tools.same("endpoint", "health", "-w", output, mask=mask_took)
        for output in ("json", "simple"):
            # Disarming clears the alarm; writing over the quota raises it again.
            theirs = tools.theirs("alarm", "disarm", "-w", output)
            fill_up()
            ours = tools.ours("alarm", "disarm", "-w", output)
            assert ours.out == theirs.out
            assert b"NOSPACE" in ours.out or b'"alarm":1' in ours.out
            assert not client.alarms()
            fill_up()


def test_snapshot_save_and_status_match_etcdctl(tools: Tools, tmp_path: Path) -> None:
    put(tools, "s/a", b"1")
    theirs = tools.theirs("snapshot", "save", str(tmp_path / "theirs.db"))
    ours = tools.ours("snapshot", "save", str(tmp_path / "ours.db"))
    assert theirs.out == f"Snapshot saved at {tmp_path / 'theirs.db'}\n".encode()
    assert ours.out == f"Snapshot saved at {tmp_path / 'ours.db'}\n".encode()
    for name in ("theirs.db", "ours.db"):
        for output in (*FORMATS, "table"):
            tools.same("snapshot", "status", str(tmp_path / name), "-w", output)
    tools.same("snapshot", "save")
    tools.same("snapshot", "status", str(tmp_path / "missing.db"))
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    assert tools.ours("snapshot", "status", str(tmp_path / "junk.db")).code == 1


def test_learner_promotion_and_leader_moves_on_two_members(
    etcdctl, etcd_server_factory, etcd_binary
) -> None:
    first = etcd_server_factory(name="first")
    tools = Tools(etcdctl, first.client_url)
    peer_port = free_port()
    peer = f"http://127.0.0.1:{peer_port}"
    added = tools.ours("member", "add", "second", "--learner", f"--peer-urls={peer}")
    assert added.code == 0, added.err
    assert b'ETCD_NAME="second"' in added.out
    second = EtcdServer(
        binary=etcd_binary,
        name="second",
        peer_port=peer_port,
        initial_cluster=f"first={first.peer_url},second={peer}",
        initial_cluster_state="existing",
    )
    second.start(wait=False)
    try:
        with tools.client() as client:
            learner = next(m.id for m in client.member_list().members if m.is_learner)
            deadline = time.monotonic() + 30
            while (promoted := tools.ours("member", "promote", f"{learner:x}")).code:
                assert time.monotonic() < deadline, promoted.err
                time.sleep(0.3)
            cluster_id = client.member_list().header.cluster_id
            assert (
                promoted.out
                == f"Member {learner:16x} promoted in cluster {cluster_id:16x}\n".encode()
            )
            wait_for(second.is_healthy, "the second member")
            settle(client, first.endpoint, second.endpoint)
            both = Tools(etcdctl, f"{first.client_url},{second.client_url}")
            for output in (*FORMATS, "table"):
                tools.same("member", "list", "-w", output)
                both.same("endpoint", "status", "-w", output)
                both.same("endpoint", "hashkv", "-w", output)
            leader = client.status().leader
            other = learner if leader != learner else client.status().header.member_id
            theirs = both.theirs("move-leader", f"{other:x}")
            assert theirs.out == f"Leadership transferred from {leader:x} to {other:x}\n".encode()
            wait_for(lambda: client.status().leader == other, "the new leader")
            ours = both.ours("move-leader", f"{leader:x}")
            assert ours.out == f"Leadership transferred from {other:x} to {leader:x}\n".encode()
    finally:
        second.close()


# --- auth and TLS ---------------------------------------------------------------------------


@pytest.mark.etcd_version("3.5", reason="compared with etcdctl 3.5, which fails on older servers")
def test_auth_user_and_role_commands_match_etcdctl(etcdctl, etcd_server_factory) -> None:
    tools = Tools(etcdctl, etcd_server_factory().client_url)

    def same_but_names(*args: str, stdin: bytes = b"") -> None:
        # Each tool creates its own user or role (named t-... or o-...).
        theirs = tools.theirs(*(a.replace("X-", "t-") for a in args), stdin=stdin)
        ours = tools.ours(*(a.replace("X-", "o-") for a in args), stdin=stdin)
        assert ours.out.replace(b"o-", b"t-") == theirs.out, (args, ours.err)
        assert ours.code == theirs.code, (args, ours.err)

    for output in FORMATS:
        same_but_names("role", "add", f"X-{output}", "-w", output)
        same_but_names("user", "add", f"X-{output}", "--new-user-password=pw", "-w", output)
        same_but_names("user", "add", f"X-{output}2:pw", "-w", output)
        same_but_names("user", "add", f"X-{output}3", "--interactive=false", "-w", output,
                       stdin=b"secret\n")  # fmt: skip
        same_but_names("user", "grant-role", f"X-{output}", f"X-{output}", "-w", output)
        for permission in (("read", "foo"), ("readwrite", "foo", "--prefix"),
                           ("write", "a", "z"), ("WRITE", "b", "--from-key"),
                           ("read", "", "--prefix"), ("write", "\x01")):  # fmt: skip
            same_but_names("role", "grant-permission", f"X-{output}", *permission, "-w", output)
    for output in FORMATS:
        same_but_names("role", "get", f"X-{output}", "-w", output)
        same_but_names("user", "get", f"X-{output}", "--detail", "-w", output)
        tools.same("role", "list", "-w", output)
        tools.same("auth", "status", "-w", output)
    tools.same("user", "list")
    tools.same("user", "list", "-w", "json")
    tools.same("user", "get", "nobody")
    tools.same("role", "get", "nobody")
    tools.same("user", "add")
    tools.same("role", "grant-permission", "r", "execute", "k")
    for output in FORMATS:
        same_but_names("user", "get", f"X-{output}", "-w", output)
        same_but_names("role", "revoke-permission", f"X-{output}", "foo", "-w", output)
        same_but_names("role", "revoke-permission", f"X-{output}", "foo", "--prefix", "-w", output)
        same_but_names("role", "revoke-permission", f"X-{output}", "b", "--from-key", "-w", output)
        same_but_names("role", "revoke-permission", f"X-{output}", "foo", "-w", output)  # 1
        same_but_names("user", "revoke-role", f"X-{output}", f"X-{output}", "-w", output)
        same_but_names("user", "passwd", f"X-{output}", "--interactive=false", "-w", output,
                       stdin=b"newpw\n")  # fmt: skip
        same_but_names("user", "delete", f"X-{output}2", "-w", output)
        same_but_names("role", "delete", f"X-{output}", "-w", output)

    # Enabling: etcdctl gives root the root role itself.
    assert tools.theirs("user", "add", "root:rootpw").code == 0
    theirs = tools.theirs("auth", "enable")
    assert tools.theirs("auth", "disable", "--user=root:rootpw").code == 0
    assert tools.theirs("role", "delete", "root").code == 0
    ours = tools.ours("auth", "enable")
    assert (ours.out, ours.code) == (theirs.out, theirs.code) == (b"Authentication Enabled\n", 0)
    tools.same("auth", "enable")  # already enabled: 1, user name is empty
    tools.same("get", "k")  # 1: user name is empty
    tools.same("get", "k", "--user=root:wrong")  # 2: authentication failed
    tools.same("get", "k", "--user", "root", "--password", "rootpw", "-w", "json")
    tools.same("auth", "status", "--user=root:rootpw", "-w", "json")
    tools.same("put", "k", "v", "--user=t-fields3:secret")  # 1: permission denied
    ours = tools.ours("get", "k", env={"ETCDCTL_USER": "root", "ETCDCTL_PASSWORD": "rootpw"})
    assert ours.code == 0, ours.err
    assert tools.ours("auth", "disable", "--user=root:rootpw").out == b"Authentication Disabled\n"


def test_tls_flags_and_environment_variables(etcdctl, etcd_server_factory, tmp_path) -> None:
    files = make_tls(tmp_path)
    server = etcd_server_factory(tls=files)
    flags = (
        f"--cacert={files.ca_cert}",
        f"--cert={files.client_cert}",
        f"--key={files.client_key}",
    )
    tools = Tools(etcdctl, server.endpoint, *flags)  # no scheme: TLS from the flags
    assert tools.ours("put", "tls/k", "secret").out == b"OK\n"
    for output in FORMATS:
        tools.same("get", "tls/k", "-w", output)
    tools.same("endpoint", "health", mask=mask_took)
    tools.same("member", "list", "-w", "table")
    plain = Tools(etcdctl, server.client_url)
    env = {
        "ETCDCTL_CACERT": files.ca_cert,
        "ETCDCTL_CERT": files.client_cert,
        "ETCDCTL_KEY": files.client_key,
        "ETCDCTL_WRITE_OUT": "json",
        "ETCDCTL_COMMAND_TIMEOUT": "10s",
    }
    assert plain.ours("get", "tls/k", env=env).out == plain.theirs("get", "tls/k", env=env).out
    refused = plain.ours("get", "tls/k", "--dial-timeout=500ms", "--command-timeout=1s")
    assert refused.code == 1
    assert_one_error_line(refused.err)


# --- lock and elect -------------------------------------------------------------------------


def test_lock_runs_a_command_and_excludes_etcdctl(tools: Tools, processes: Processes) -> None:
    show = 'echo "$ETCD_LOCK_KEY $ETCD_LOCK_REV"'
    theirs = tools.theirs("lock", "lk/name", "--", "sh", "-c", show)
    ours = tools.ours("lock", "lk/name", "--", "sh", "-c", show)
    # The key ends in the session's lease ID and the revision is the lock's: both differ.
    assert re.fullmatch(rb"lk/name/[0-9a-f]+ \d+\n", ours.out), ours.out
    assert re.fullmatch(rb"lk/name/[0-9a-f]+ \d+\n", theirs.out), theirs.out
    failing = tools.ours("lock", "lk/name", "false")
    assert failing.code == tools.theirs("lock", "lk/name", "false").code == 1
    assert failing.err == "Error: exit status 1\n"

    held = processes.ours("lock", "lk/held", "-w", "json", name="held")
    processes.wait_output("held")
    key = base64.b64decode(json.loads(processes.output("held"))["kvs"][0]["key"])
    assert key.startswith(b"lk/held/")
    waiting = processes.theirs("lock", "lk/held", "--", "echo", "etcdctl got it", name="waiting")
    time.sleep(0.5)
    assert waiting.poll() is None, "etcdctl took a lock we hold"
    assert stop(held) == 0  # Ctrl+C releases the lock
    assert waiting.wait(timeout=15) == 0
    assert processes.output("waiting") == b"etcdctl got it\n"

    held = processes.ours("lock", "lk/term", name="term")
    processes.wait_output("term")
    assert re.fullmatch(rb"lk/term/[0-9a-f]+\n\n", processes.output("term"))
    assert stop(held, signal.SIGTERM) == 0
    with tools.client() as client:
        assert not client.range("lk/term/", prefix=True).kvs


def test_elect_campaigns_and_observes_like_etcdctl(tools: Tools, processes: Processes) -> None:
    observers = [
        processes.theirs("elect", "-l", "el/name", "-w", "json", name="theirs"),
        processes.ours("elect", "--listen", "el/name", "-w", "json", name="ours"),
    ]
    leader = processes.ours("elect", "el/name", "first", name="leader")
    processes.wait_output("leader")
    assert re.fullmatch(rb"el/name/[0-9a-f]+\nfirst\n", processes.output("leader"))
    for name in ("theirs", "ours"):
        processes.wait_output(name, b"Zmlyc3Q=")  # "first"
    assert stop(leader) == 0  # Ctrl+C resigns
    with tools.client() as client:
        wait_for(lambda: not client.range("el/name/", prefix=True).kvs, "the resignation")
    second = processes.theirs("elect", "el/name", "second", name="second")
    for name in ("theirs", "ours"):
        processes.wait_output(name, b"c2Vjb25k")  # "second"
    stop(second)
    for observer in observers:
        stop(observer)
    assert processes.output("ours") == processes.output("theirs")
    simple = tools.ours("elect", "el/name")
    assert simple.code == 128
    assert_one_error_line(simple.err)


# --- the entry points -----------------------------------------------------------------------


def test_python_m_etcd_and_the_console_script(tools: Tools) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "etcd", "--endpoints", tools.endpoint, "put", "ep/k", "v"],
        capture_output=True,
        timeout=60,
        env=clean_environment(),
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, b"OK\n"), done.stderr
    script = Path(sys.executable).with_name("etcd-client")
    assert script.exists(), "pip install -e . installs the etcd-client console script"
    done = subprocess.run(
        [str(script), "get", "ep/k", "--print-value-only"],
        capture_output=True,
        timeout=60,
        env=clean_environment(ETCDCTL_ENDPOINTS=tools.endpoint),
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, b"v\n"), done.stderr
    done = subprocess.run(
        [str(script), "--endpoints=127.0.0.1:1", "--dial-timeout=200ms",
         "--command-timeout=500ms", "get", "k"],
        capture_output=True, timeout=60, env=clean_environment(), check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == b""
    assert_one_error_line(done.stderr.decode())
    assert len(done.stderr.decode().splitlines()) == 1
