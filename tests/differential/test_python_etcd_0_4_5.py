"""The differential test: the same python-etcd programs, run by python-etcd 0.4.5 itself
against etcd 3.5 with its v2 API, and by this project against the v3 API of the same kind
of server, must see the same values, indexes in the same order, the same directory
listings and the same exception classes.

Each program in ``programs/`` runs in a subprocess of its own per side (both libraries are
imported as ``etcd``): python-etcd's with python-etcd 0.4.5, installed from PyPI into a
cached directory, first on ``PYTHONPATH``. ``runner.py`` records what the program saw as
JSON. Every difference that remains is in ``KNOWN_DIFFERENCES``, with its reason, and in
the list of differences in docs/python-etcd.rst; the test fails on any other, and on a
known one that is gone (so that the list stays true).
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .._dns_server import Record, dns_server

pytestmark = [
    pytest.mark.integration,
    # The differences listed are etcd 3.5's (its v2 API refuses a directory a new TTL).
    pytest.mark.etcd_version("3.5", reason="the known differences are those seen on etcd 3.5"),
]

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "runner.py"
PROGRAMS = sorted((HERE / "programs").glob("*.py"))
ROOT = HERE.parent.parent
SOURCE = ROOT / "src" / "etcd"

# python-etcd 0.4.5 with the urllib3 and dnspython of its time (it predates urllib3 2 and
# calls dnspython 1's resolver.query).
PYTHON_ETCD = ("python-etcd==0.4.5", "urllib3<2", "dnspython<2")

# Each difference that remains: the program, the labels of the records where it shows,
# and why. docs/python-etcd.rst lists the same ones.
REASSIGNED_CREATED_INDEX = (
    "v2's set replaced the node, so a key set again got the set's index as its "
    "createdIndex; a v3 key keeps its create revision until it is deleted"
)
KNOWN_DIFFERENCES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "keys_and_values",
        ("set a number", "test_and_set", "prevIndex", "update(result)", "pop"),
        REASSIGNED_CREATED_INDEX,
    ),
    ("watch_wait_index", ("watch(index=first + 1)", "a deletion"), REASSIGNED_CREATED_INDEX),
    (
        "watch_wait_index",
        ("a compare-and-swap",),
        "a v3 watch reports puts, not how they were made: every write is seen as 'set'",
    ),
    (
        "directories",
        ("delete recursively", "a directory made by a key below it"),
        "nothing is stored for a directory made by writing below it: its indexes are derived "
        "from the keys below it, and its deletion has no createdIndex",
    ),
    (
        "directories",
        ("it, once its last key is gone",),
        "v2 kept directories made by writing below them; here one vanishes with its last key",
    ),
    (
        "ttls",
        ("ttl of a key below it",),
        "keys below a directory with a TTL share its lease, so they show its TTL",
    ),
    (
        "ttls",
        ("a new ttl for the directory", "refresh the directory"),
        "etcd 3.5's v2 API refuses a new TTL for a directory (EtcdException: 'Raft Internal "
        "Error ... Not a file'), both as write(dir=True, prevExist=True) and as refresh; "
        "here both give it the new TTL, as etcd's v2 documentation describes",
    ),
    (
        "auth",
        ("role listed", "user listed", "roles", "remove the roles", "roles after removal"),
        "python-etcd 0.4.5 reads the user and role listings of etcd before 2.2: from later "
        "servers its names are objects, and reading a user's roles fails with TypeError",
    ),
    (
        "srv_domain",
        ("srv_domain without allow_reconnect",),
        "python-etcd 0.4.5 refused its own list of discovered members unless "
        "allow_reconnect=True; here no allow_reconnect is needed",
    ),
    (
        "srv_domain",
        ("a domain without records",),
        "python-etcd 0.4.5 logged a failed lookup and used host/port (127.0.0.1:4001), "
        "failing later with EtcdException; here the constructor raises "
        "EtcdDiscoveryNotFound, an EtcdConnectionFailed",
    ),
)


def known_differences(program: str) -> set[str]:
    return {label for name, labels, _ in KNOWN_DIFFERENCES if name == program for label in labels}


@pytest.fixture(scope="session")
def python_etcd_path(request: pytest.FixtureRequest) -> str:
    """A directory holding python-etcd 0.4.5, installed once and kept between runs."""
    cache = getattr(request.config, "cache", None)
    root = (
        Path(cache.mkdir("python-etcd-0.4.5"))
        if cache is not None
        else Path(tempfile.gettempdir()) / "etcd-client-python-etcd-0.4.5"
    )
    root.mkdir(parents=True, exist_ok=True)
    target = root / "site"
    with _locked(root / ".lock"):
        if not (target / "etcd" / "client.py").exists():
            staging = Path(tempfile.mkdtemp(dir=root))
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-warn-script-location",
                    "--target",
                    str(staging),
                    *PYTHON_ETCD,
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                shutil.rmtree(staging, ignore_errors=True)
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                pytest.skip(f"python-etcd 0.4.5 could not be installed from PyPI: {last}")
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    return str(target)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Test workers (pytest-xdist) share the cache: one installs, the others wait.
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def dns():
    with dns_server() as server:
        yield server


def run_program(
    program: Path, library_path: str | None, settings: dict[str, Any], work: Path
) -> dict[str, Any]:
    settings_file = work / "settings.json"
    output_file = work / "output.json"
    settings_file.write_text(json.dumps(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCDCTL_", "ETCD_"))}
    # python-etcd first when it is the side run; the repository's root for the runner's
    # own helpers (it holds no package named etcd).
    paths = [library_path] if library_path is not None else []
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT)])
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(program), str(settings_file), str(output_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(output_file.read_text())
    assert "crashed" not in outcome, outcome["crashed"]
    return outcome


INDEX_KINDS = ("index", "created")


def _walk_indexes(value: Any, found: dict[str, set[int]]) -> None:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in INDEX_KINDS:
            kind, number = next(iter(value.items()))
            if number is not None:
                found[kind].add(number)
            return
        for item in value.values():
            _walk_indexes(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk_indexes(item, found)


def indexes_as_order(records: list[list[Any]], left_out: set[str]) -> list[list[Any]]:
    """The records with each index replaced by its place among the program's indexes of
    its kind: v2 indexes and v3 revisions count differently, but must come in the same
    order. The places are taken among the records not in ``left_out`` (the known
    differences), so that one derived index does not move every other; an index that is
    not among them gets a place between two (``n + 0.5``)."""
    found: dict[str, set[int]] = {kind: set() for kind in INDEX_KINDS}
    _walk_indexes([value for label, value in records if label not in left_out], found)
    ordered = {kind: sorted(numbers) for kind, numbers in found.items()}

    def place(kind: str, number: int | None) -> float | None:
        if number is None:
            return None
        below = bisect.bisect_left(ordered[kind], number)
        exact = below < len(ordered[kind]) and ordered[kind][below] == number
        return float(below) if exact else below - 0.5

    def replace(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and next(iter(value)) in INDEX_KINDS:
                kind, number = next(iter(value.items()))
                return {kind: place(kind, number)}
            return {key: replace(item) for key, item in value.items()}
        if isinstance(value, list):
            return [replace(item) for item in value]
        return value

    return [[label, replace(value)] for label, value in records]


def what_differs(theirs: Any, ours: Any) -> Any:
    """The parts of two recorded values that differ, as ``[python-etcd's, ours]``."""
    if isinstance(theirs, dict) and isinstance(ours, dict) and set(theirs) == set(ours):
        return {
            key: what_differs(theirs[key], ours[key]) for key in theirs if theirs[key] != ours[key]
        }
    return [theirs, ours]


def settings_for(server: Any, domain: str, dns_port: int) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": server.client_port,
        "prefix": "/differential",
        "srv_domain": domain,
        "missing_domain": "missing.differential.test",
        "dns_port": dns_port,
    }


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_python_etcd_programs_see_the_same(
    program, python_etcd_path, etcd_server_factory, dns, tmp_path
):
    v2_server = etcd_server_factory(extra_args=["--enable-v2=true"])
    v3_server = etcd_server_factory(extra_args=["--enable-v2=true"])
    # The DNS data python-etcd users published: python-etcd's own name, for each side.
    dns.publish(f"_etcd._tcp.{program.stem}.v2.test", Record(v2_server.client_port))
    dns.publish(f"_etcd._tcp.{program.stem}.v3.test", Record(v3_server.client_port))
    (tmp_path / "python-etcd").mkdir()
    (tmp_path / "etcd-client").mkdir()
    theirs = run_program(
        program,
        python_etcd_path,
        settings_for(v2_server, f"{program.stem}.v2.test", dns.port),
        tmp_path / "python-etcd",
    )
    ours = run_program(
        program,
        None,
        settings_for(v3_server, f"{program.stem}.v3.test", dns.port),
        tmp_path / "etcd-client",
    )
    assert theirs["library"].startswith(python_etcd_path)
    assert Path(ours["library"]).resolve().parent == SOURCE

    expected = known_differences(program.stem)
    their_records = indexes_as_order(theirs["records"], expected)
    our_records = indexes_as_order(ours["records"], expected)
    assert [label for label, _ in our_records] == [label for label, _ in their_records]
    differences = {
        label: what_differs(their_value, our_value)
        for (label, their_value), (_, our_value) in zip(their_records, our_records, strict=True)
        if their_value != our_value
    }
    unexpected = {label: seen for label, seen in differences.items() if label not in expected}
    assert not unexpected, json.dumps(unexpected)
    assert set(differences) == expected, (
        f"differences no longer seen: {expected - set(differences)}"
    )
