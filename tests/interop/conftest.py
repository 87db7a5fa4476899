"""Fixtures of the interop tests: the Go program, built once per test session.

It needs Go and etcd's Go sources (the clientv3 client and its recipes) in GOPATH form;
without them every interop test is skipped, or fails when ``ETCD_CLIENT_REQUIRE_GO=1``
(as in CI). ``ETCD_CLIENT_GO`` names another ``go`` executable, and ``ETCD_CLIENT_GOPATH``
another folder holding the sources (``src/go.etcd.io/etcd/...``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

import etcd
from etcd.testing import EtcdServer

from ..integration._etcdctl import clean_environment
from ._go import SOURCE, GoProgram

MISSING = (
    "needs Go and etcd's Go sources (Debian: golang-go golang-etcd-server-dev); "
    ".ci/run installs them"
)
DEFAULT_GOPATH = "/usr/share/gocode"
# The packages the program imports, below GOPATH/src.
PACKAGES = [
    "go.etcd.io/etcd/clientv3/concurrency",
    "go.etcd.io/etcd/clientv3/naming/endpoints",
    "go.etcd.io/etcd/contrib/recipes",
]


def _missing(detail: str) -> NoReturn:
    message = f"{MISSING} ({detail})"
    if os.environ.get("ETCD_CLIENT_REQUIRE_GO") == "1":
        pytest.fail(f"ETCD_CLIENT_REQUIRE_GO=1, but this test {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def go_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go program, built from ``go/interop.go`` once per test run (xdist's workers
    share the build: the first one builds it, the others wait for it)."""
    go = os.environ.get("ETCD_CLIENT_GO") or shutil.which("go")
    if not go:
        _missing("no go on the PATH")
    gopath = os.environ.get("ETCD_CLIENT_GOPATH") or DEFAULT_GOPATH
    absent = [name for name in PACKAGES if not (Path(gopath) / "src" / name).is_dir()]
    if absent:
        _missing(f"{', '.join(absent)} not in {gopath}/src")
    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent  # the folder of the whole run, above each worker's
    output = run_dir / "go-interop" / "interop"
    with open(run_dir / "go-interop.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not output.exists():
            _build(go, gopath, output, tmp_path_factory)
    return output


def _build(go: str, gopath: str, output: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    # A pure Go build (no cgo) needs no C compiler.
    env = clean_environment(GOPATH=gopath, GO111MODULE="off", GOFLAGS="", CGO_ENABLED="0")
    if not any(env.get(name) for name in ("GOCACHE", "XDG_CACHE_HOME", "HOME")):
        env["GOCACHE"] = str(tmp_path_factory.mktemp("go-cache"))
    output.parent.mkdir(exist_ok=True)
    partial = output.with_suffix(".partial")
    try:
        built = subprocess.run(
            [go, "build", "-o", str(partial), str(SOURCE)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except OSError as error:
        _missing(f"{go} does not run: {error}")
    if built.returncode != 0:
        pytest.fail(f"building {SOURCE} failed:\n{built.stdout}{built.stderr}", pytrace=False)
    partial.rename(output)


_PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.stash[_PASSED] = report.passed
    return report


@pytest.fixture
def go(
    go_binary: Path, etcd_server: EtcdServer, request: pytest.FixtureRequest
) -> Iterator[GoProgram]:
    """The Go program pointed at ``etcd_server``; what a test started is killed after it.

    Both sides must end their sessions: a lease left behind would outlive the test on the
    shared member. After a test that passed, a lease it left is a failure; those it left
    are revoked anyway.
    """
    with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as client:
        before = set(client.lease_leases().ids)
    program = GoProgram(go_binary, etcd_server.client_url)
    try:
        yield program
    finally:
        program.stop_all()
    with etcd.Client(endpoints=[etcd_server.endpoint], timeout=10) as client:
        left = [lease for lease in client.lease_leases().ids if lease not in before]
        for lease in left:
            with contextlib.suppress(etcd.EtcdLeaseNotFound):  # it expired meanwhile
                client.lease_revoke(lease)
    if request.node.stash.get(_PASSED, False):
        assert not left, f"the test left {len(left)} leases behind"
