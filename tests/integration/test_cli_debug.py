"""``--debug`` against real etcd: a line per RPC with its endpoint, duration and outcome,
the retries and fail-overs on the way, accepted wherever etcdctl accepts the flag, and
never a key, a value, a password or a token."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import etcd
from etcd._cli import run
from etcd._core.versions import release
from etcd.testing import EtcdServer, enable_auth, free_port

from ._etcdctl import clean_environment
from ._log_capture import assert_no_secret, everything_logged, extra_fields

pytestmark = pytest.mark.integration

DURATION = r"\d+\.\dms"


@dataclass
class Result:
    out: bytes
    err: str
    code: int


def ours(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Result:
    out, err = io.BytesIO(), io.StringIO()
    code = run(
        list(args),
        stdin=io.BytesIO(stdin),
        stdout=out,
        stderr=err,
        environ=clean_environment(**(env or {})),
    )
    return Result(out.getvalue(), err.getvalue(), code)


def theirs(etcdctl: str, *args: str, env: dict[str, str] | None = None) -> Result:
    done = subprocess.run(
        [etcdctl, *args],
        capture_output=True,
        env=clean_environment(**(env or {})),
        timeout=60,
        check=False,
    )
    return Result(done.stdout, done.stderr.decode(errors="replace"), done.returncode)


def traced(err: str) -> list[str]:
    """The trace lines of ``--debug`` output, without their time and logger."""
    return [line.partition("etcd.cli: ")[2] for line in err.splitlines() if "etcd.cli: " in line]


@pytest.fixture(scope="module")
def server(etcd_binary: str) -> Iterator[EtcdServer]:
    with EtcdServer(binary=etcd_binary) as member:
        yield member


def test_each_rpc_is_traced_with_its_endpoint_duration_and_outcome(server: EtcdServer) -> None:
    at = f"--endpoints={server.endpoint}"
    put = ours(at, "put", "debug/secret-key", "debug-secret-value", "--debug")
    assert (put.out, put.code) == (b"OK\n", 0)
    assert re.fullmatch(
        rf"rpc KV\.Put endpoint={re.escape(server.endpoint)} duration={DURATION} outcome=ok",
        traced(put.err)[0],
    )
    get = ours(at, "get", "debug/secret-key", "--debug")
    assert get.out == ours(at, "get", "debug/secret-key").out  # stdout is left alone
    assert [line.split()[:3] for line in traced(get.err)] == [
        ["rpc", "KV.Range", f"endpoint={server.endpoint}"]
    ]
    # Keys and values stay out of the trace: it is made to be pasted into bug reports.
    for result in (put, get):
        assert "secret-key" not in result.err and "secret-value" not in result.err


def test_a_failing_command_shows_the_error_outcome(server: EtcdServer) -> None:
    failed = ours(f"--endpoints={server.endpoint}", "lease", "revoke", "1234", "--debug")
    assert failed.code == 1
    (line,) = traced(failed.err)
    assert re.fullmatch(
        rf"rpc Lease\.LeaseRevoke endpoint={re.escape(server.endpoint)} "
        rf"duration={DURATION} outcome=EtcdLeaseNotFound",
        line,
    )
    assert failed.err.splitlines()[-1].startswith("Error: ")


def test_retries_and_fail_overs_are_traced(server: EtcdServer) -> None:
    dead = f"127.0.0.1:{free_port()}"
    with everything_logged() as logged:
        result = ours(f"--endpoints={dead},{server.endpoint}", "get", "k", "--debug")
    assert result.code == 0, result.err
    # The client's own records say the same in their structured fields.
    fields = [extra_fields(record) for record in logged.records]
    assert {
        "etcd_endpoint": dead,
        "etcd_next_endpoint": server.endpoint,
        "etcd_code": "UNAVAILABLE",
    } in fields
    retried = next(f for f in fields if f.get("etcd_delay") and "etcd_outcome" not in f)
    assert retried["etcd_operation"] == "KV.Range"
    assert (retried["etcd_endpoint"], retried["etcd_attempt"]) == (dead, 1)
    lines = traced(result.err)
    assert f"fail-over from={dead} to={server.endpoint} code=UNAVAILABLE" in lines
    assert any(
        line.startswith(f"retry KV.Range endpoint={dead} attempt=1 code=UNAVAILABLE ")
        for line in lines
    )
    assert re.fullmatch(
        rf"rpc KV\.Range endpoint={re.escape(server.endpoint)} duration={DURATION} "
        rf"attempts=2 outcome=ok",
        lines[-1],
    )


# Where etcdctl 3.5 takes --debug: a global flag anywhere on the line, with or without a
# value, or ETCDCTL_DEBUG with one of Go's boolean spellings.
DEBUG_FORMS: list[tuple[tuple[str, ...], dict[str, str], bool]] = [
    (("--debug", "get", "k"), {}, True),
    (("get", "--debug", "k"), {}, True),
    (("get", "k", "--debug"), {}, True),
    (("--debug=true", "get", "k"), {}, True),
    (("get", "k", "--debug=false"), {}, False),
    (("get", "k"), {"ETCDCTL_DEBUG": "true"}, True),
    (("get", "k"), {"ETCDCTL_DEBUG": "1"}, True),
    (("get", "k"), {"ETCDCTL_DEBUG": "false"}, False),
]


@pytest.mark.parametrize(("args", "env", "debug"), DEBUG_FORMS)
def test_debug_is_taken_where_etcdctl_takes_it(
    etcdctl: str, server: EtcdServer, args: tuple[str, ...], env: dict[str, str], debug: bool
) -> None:
    at = f"--endpoints={server.endpoint}"
    mine, reference = ours(at, *args, env=env), theirs(etcdctl, at, *args, env=env)
    assert (mine.out, mine.code) == (reference.out, reference.code), mine.err
    assert bool(reference.err) is debug  # etcdctl prints its debug output, or nothing
    assert bool(traced(mine.err)) is debug


# --- secrets --------------------------------------------------------------------------------

ROOT_PASSWORD = "r00t-cli-secret-pw"
BOB_PASSWORD = "b0b-cli-secret-pw"
NEW_BOB_PASSWORD = "n3w-b0b-cli-secret-pw"
WRONG_PASSWORD = "wr0ng-cli-secret-pw"
TOKEN_TTL = 2
PAST_TTL = TOKEN_TTL + 1.5


def test_debug_shows_no_password_and_no_token(etcd_server_factory, tmp_path: Path) -> None:
    server = etcd_server_factory(auth_token="simple", auth_token_ttl=TOKEN_TTL)
    enable_auth([server.endpoint], ROOT_PASSWORD)
    at = f"--endpoints={server.endpoint}"
    root = f"--user=root:{ROOT_PASSWORD}"
    outputs: list[str] = []
    with everything_logged() as logged:
        for args, stdin, env, code in [
            ((root, "put", "k", "v"), b"", {}, 0),
            (("--user", "root", "--password", ROOT_PASSWORD, "get", "k"), b"", {}, 0),
            (("get", "k"), b"", {"ETCDCTL_USER": "root", "ETCDCTL_PASSWORD": ROOT_PASSWORD}, 0),
            (("--user=root", "get", "k"), ROOT_PASSWORD.encode() + b"\n", {}, 0),
            ((root, "user", "add", f"bob:{BOB_PASSWORD}"), b"", {}, 0),
            (
                (root, "user", "passwd", "bob", "--interactive=false"),
                NEW_BOB_PASSWORD.encode() + b"\n",
                {},
                0,
            ),
            ((f"--user=bob:{NEW_BOB_PASSWORD}", "put", "k", "no"), b"", {}, 1),  # denied
            ((f"--user=root:{WRONG_PASSWORD}", "get", "k"), b"", {}, 2),  # wrong password
        ]:
            result = ours(at, "--debug", *args, stdin=stdin, env=env)
            assert result.code == code, (args, result.err)
            outputs += [result.out.decode(errors="replace"), result.err]
        watch_output = watch_across_token_expiries(server, tmp_path)
    outputs.append(watch_output)
    everything = "\n".join([*outputs, logged.text()])
    assert_no_secret(everything, [ROOT_PASSWORD, BOB_PASSWORD, NEW_BOB_PASSWORD, WRONG_PASSWORD])
    # It traced what it was run for, failures included.
    for expected in (
        "rpc Auth.UserAdd ",
        "rpc Auth.UserChangePassword ",
        "outcome=EtcdPermissionDenied",
        "authenticated as 'root'",
        "Error: etcdserver: authentication failed, invalid user ID or password",
    ):
        assert expected in everything, expected
    if server_release(server) >= (3, 5):
        # etcd 3.4 keeps serving a watch stream whose token expired: nothing logs in again.
        assert "logging in again" in everything


def watch_across_token_expiries(server: EtcdServer, directory: Path) -> str:
    """Run ``watch -i --debug``, and add a watch once the token has expired under it (the
    client logs in again); what it printed."""
    at, root = f"--endpoints={server.endpoint}", f"--user=root:{ROOT_PASSWORD}"
    out_path, err_path = directory / "watch.out", directory / "watch.err"

    def put(key: str, value: str) -> int:
        """Write, and return the revision written (the watch starts there: no race)."""
        result = ours(at, root, "put", key, value, "-w", "json")
        assert result.code == 0, result.err
        return int(json.loads(result.out)["header"]["revision"])

    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "etcd", at, "--debug", root, "watch", "-i"],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            env=clean_environment(),
        )
    assert process.stdin is not None
    try:
        for key in ("w1", "w2"):
            revision = put(key, f"{key}-value")
            process.stdin.write(f"watch {key} --rev {revision}\n".encode())
            process.stdin.flush()
            wait_for(lambda key=key: f"\n{key}\n" in out_path.read_text())
            time.sleep(PAST_TTL)  # the token expires under the open stream
    finally:
        process.stdin.close()
        process.send_signal(signal.SIGINT)
        process.wait(15)
    return out_path.read_text() + err_path.read_text()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def server_release(server: EtcdServer) -> tuple[int, int]:
    with etcd.Client(endpoints=[server.endpoint], username="root", password=ROOT_PASSWORD) as c:
        return release(c.status().version) or (0, 0)
