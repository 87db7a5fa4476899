"""The command-line tool's parsing, options, errors and exit codes, without a server."""

import io
import os
import signal
import sys
import time
import types

import pytest

from etcd._cli import COMMANDS, run
from etcd._cli._commands_auth import permission_range
from etcd._cli._commands_cluster import make_progress
from etcd._cli._context import Context, Interrupted, interruptible
from etcd._cli._errors import CLIError, ExitCode
from etcd._cli._parser import (
    CommandLine,
    build_parser,
    find_command,
    resolve_globals,
)
from etcd._cli._snapshot import Crc32c, SnapshotError, status


def cli(*argv, stdin=b"", environ=None):
    out, err = io.BytesIO(), io.StringIO()
    code = run(list(argv), stdin=io.BytesIO(stdin), stdout=out, stderr=err, environ=environ or {})
    return code, out.getvalue().decode(), err.getvalue()


def one_error(err):
    assert len(err.splitlines()) == 1, err
    assert err.startswith("Error: "), err
    assert "Traceback" not in err


# --- finding the command ----------------------------------------------------------------------


def command(*path):
    found = find_command(list(path), COMMANDS).command
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("argv", "path", "rest"),
    [
        (["get", "k"], ("get",), ["k"]),
        (["-w", "json", "get", "k", "--prefix"], ("get",), ["-w", "json", "k", "--prefix"]),
        (["--endpoints", "a:1", "lease", "--hex", "grant", "10"], ("lease", "grant"),
         ["--endpoints", "a:1", "--hex", "10"]),
        (["--hex", "member", "list"], ("member", "list"), ["--hex"]),
        (["endpoint", "--cluster", "status"], ("endpoint", "status"), ["--cluster"]),
        (["--dial-timeout=1s", "put", "k", "v"], ("put",), ["--dial-timeout=1s", "k", "v"]),
    ],
)  # fmt: skip
def test_commands_are_found_among_global_flags(argv, path, rest):
    found = find_command(argv, COMMANDS)
    assert found.command is not None and found.command.path == path
    assert found.tokens == rest


def test_what_follows_dashes_is_kept_apart():
    found = find_command(["watch", "k", "--", "echo", "-n", "x"], COMMANDS)
    assert (found.tokens, found.after_dashes) == (["k"], ["echo", "-n", "x"])


def test_unknown_commands_and_groups():
    assert find_command(["frobnicate"], COMMANDS).unknown == "frobnicate"
    found = find_command(["lease", "frob"], COMMANDS)
    assert (found.group, found.unknown) == ("lease", "frob")
    assert find_command(["lease"], COMMANDS).group == "lease"
    assert find_command(["help", "lease", "grant"], COMMANDS).help_for == ["lease", "grant"]


def test_every_command_has_a_parser_with_the_global_flags():
    for command in COMMANDS:
        text = build_parser("etcd-client", command).format_help()
        assert "ETCDCTL_ENDPOINTS" in text and "ETCDCTL_WRITE_OUT" in text, command.name


# --- options --------------------------------------------------------------------------------


def test_booleans_take_cobras_explicit_values():
    parser = build_parser("p", command("get"))
    options = parser.parse(["k", "--prefix=true", "--keys-only=false", "--hex=1"])
    assert (options.prefix, options.keys_only, options.hex) == (True, False, True)
    options = parser.parse(["--insecure-transport=false", "k"])
    assert options.insecure_transport is False
    with pytest.raises(CLIError, match='invalid argument "maybe" for "--prefix" flag'):
        parser.parse(["k", "--prefix=maybe"])


def test_flags_win_over_the_environment_which_wins_over_defaults():
    parser = build_parser("p", command("get"))
    environ = {
        "ETCDCTL_ENDPOINTS": "a:1,b:2",
        "ETCDCTL_COMMAND_TIMEOUT": "750ms",
        "ETCDCTL_WRITE_OUT": "json",
        "ETCDCTL_HEX": "true",
    }
    options = resolve_globals(parser.parse(["k"]), environ)
    assert options.endpoints == ["a:1", "b:2"]
    assert options.command_timeout == 0.75
    assert (options.write_out, options.hex, options.dial_timeout) == ("json", True, 2.0)
    flagged = parser.parse(["k", "--endpoints=c:3", "--endpoints", "d:4", "-w", "fields"])
    options = resolve_globals(flagged, environ)
    assert options.endpoints == ["c:3", "d:4"]
    assert options.write_out == "fields"
    with pytest.raises(CLIError, match="ETCDCTL_DIAL_TIMEOUT"):
        resolve_globals(parser.parse(["k"]), {"ETCDCTL_DIAL_TIMEOUT": "soon"})


def context(*argv, stdin=b"", environ=None):
    parser = build_parser("p", command("get"))
    options = resolve_globals(parser.parse(["k", *argv]), environ or {})
    return Context(
        options,
        stdin=io.BytesIO(stdin),
        stdout=io.BytesIO(),
        stderr=io.StringIO(),
        environ=environ or {},
        prog="p",
    )


def test_client_options_follow_etcdctls_rules():
    plain = context().client_options()
    assert plain["endpoints"] == ["127.0.0.1:2379"]
    assert plain["protocol"] == "http"
    assert (plain["timeout"], plain["connect_timeout"]) == (5.0, 2.0)
    tls = context("--cacert=ca.pem", "--cert=c.pem", "--key=k.pem").client_options()
    assert (tls["protocol"], tls["ca_cert"], tls["cert"]) == ("https", "ca.pem", ("c.pem", "k.pem"))
    assert context("--endpoints=https://h:1").client_options()["protocol"] == "https"
    assert context("--user=root:pw").client_options()["password"] == "pw"
    assert context("--user=root", "--password=a:b").client_options()["password"] == "a:b"
    # No terminal: the password is read from stdin.
    assert context("--user=root", stdin=b"secret\n").client_options()["password"] == "secret"
    for argv, code in [
        (["--cert=c.pem"], ExitCode.BAD_ARGS),
        (["--password=x"], ExitCode.BAD_ARGS),
        (["--user=a:b", "--password=c"], ExitCode.BAD_ARGS),
        (["--insecure-skip-tls-verify"], ExitCode.BAD_FEATURE),
        # Refused before any lookup: not a domain, not a service name.
        (["--discovery-srv=not a domain"], ExitCode.BAD_ARGS),
        (["--discovery-srv=example.com", "--discovery-srv-name=a.b"], ExitCode.BAD_ARGS),
    ]:
        with pytest.raises(CLIError) as caught:
            context(*argv).client_options()
        assert caught.value.code == code


def test_permission_ranges_as_etcdctl_names_them():
    assert permission_range(["k"], False, False) == (b"k", b"")
    assert permission_range(["k"], True, False) == (b"k", b"l")
    assert permission_range(["k"], False, True) == (b"k", b"\0")
    assert permission_range([""], True, False) == (b"\0", b"\0")
    assert permission_range([""], False, False) == (b"\0", b"")
    assert permission_range(["a", "z"], False, False) == (b"a", b"z")
    with pytest.raises(CLIError):
        permission_range(["a", "z"], True, False)


# --- whole command lines, no server needed ----------------------------------------------------


def test_help_everywhere():
    code, out, _ = cli()
    assert code == 0 and "COMMANDS:" in out and "ETCDCTL_COMMAND_TIMEOUT" in out
    assert cli("--help")[1] == out
    code, out, _ = cli("get", "--help")
    assert code == 0 and "--print-value-only" in out and "ETCDCTL_ENDPOINTS" in out
    assert cli("help", "get")[1] == out
    assert "lease keep-alive" in cli("lease")[1]
    assert "lease keep-alive" in cli("help", "lease")[1]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["frobnicate"], ExitCode.ERROR),
        (["lease", "frob"], ExitCode.ERROR),
        (["get"], ExitCode.BAD_ARGS),
        (["get", "k", "--bogus"], ExitCode.ERROR),
        (["get", "k", "--limit=x"], ExitCode.ERROR),
        (["get", "k", "-w", "xml"], ExitCode.BAD_FEATURE),
        (["get", "k", "-w", "protobuf"], ExitCode.BAD_FEATURE),
        (["get", "k", "-w", "table"], ExitCode.BAD_FEATURE),
        (["get", "k", "--count-only"], ExitCode.BAD_ARGS),
        (["put", "k", "v", "--lease=zz"], ExitCode.BAD_ARGS),
        (["put", "k", "v", "extra"], ExitCode.BAD_ARGS),
        (["del", "a", "b", "c"], ExitCode.BAD_ARGS),
        (["lease", "revoke", "xyz"], ExitCode.BAD_ARGS),
        (["lease", "grant", "ten"], ExitCode.BAD_ARGS),
        (["member", "remove", "zz"], ExitCode.BAD_ARGS),
        (["member", "add", "m"], ExitCode.BAD_ARGS),
        (["watch"], ExitCode.BAD_ARGS),
        (["watch", "a", "b", "c"], ExitCode.BAD_ARGS),
        (["watch", "k", "--"], ExitCode.BAD_ARGS),
        (["txn"], ExitCode.INVALID_INPUT),
        (["lock"], ExitCode.BAD_ARGS),
        (["elect", "name"], ExitCode.BAD_ARGS),
        (["role", "grant-permission", "r", "execute", "k"], ExitCode.BAD_ARGS),
        (["user", "add", ":pw"], ExitCode.BAD_ARGS),
        (["snapshot", "save", "a", "--endpoints=a:1,b:2"], ExitCode.BAD_ARGS),
        (["defrag", "--data-dir=/tmp/x"], ExitCode.BAD_FEATURE),
        (["--dial-timeout=never", "get", "k"], ExitCode.ERROR),
    ],
)
def test_errors_are_one_line_with_etcdctls_exit_codes(argv, code):
    result, out, err = cli(*argv)
    assert result == code, err
    assert out == ""
    one_error(err)


def test_a_watch_key_from_the_environment_conflicts_with_an_argument():
    code, _, err = cli("watch", "k", environ={"ETCDCTL_WATCH_KEY": "other"})
    assert code == ExitCode.BAD_ARGS
    assert "conflicting environment key" in err


def test_version():
    code, out, _ = cli("version")
    assert code == 0
    assert out.splitlines()[0].startswith("etcd-client version: ")
    assert out.splitlines()[1] == "API version: 3.5"


def test_importing_etcd_does_not_import_the_command_line_tool():
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", "import sys, etcd; print('etcd._cli' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "False"


# --- snapshot status and the progress bar -------------------------------------------------------


def test_crc32c_check_value():
    crc = Crc32c()
    crc.update(b"1234")
    crc.update(b"56789")
    assert crc.value == 0xE3069283


def test_crc32c_in_any_pieces_equals_the_bit_by_bit_definition():
    data = bytes((index * 37 + 11) % 256 for index in range(1000))
    expected = 0xFFFFFFFF
    for byte in data:
        expected ^= byte
        for _ in range(8):
            expected = (expected >> 1) ^ 0x82F63B78 if expected & 1 else expected >> 1
    for cut in (0, 1, 7, 8, 9, 500, 999):
        crc = Crc32c()
        crc.update(data[:cut])
        crc.update(data[cut:])
        assert crc.value == expected ^ 0xFFFFFFFF


def test_a_file_that_is_not_a_snapshot_is_refused(tmp_path):
    with pytest.raises(SnapshotError, match="not an etcd snapshot"):
        status(b"\0" * 8192)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"junk")
    code, _, err = cli("snapshot", "status", str(junk))
    assert code == ExitCode.ERROR
    one_error(err)
    code, _, err = cli("snapshot", "status", str(tmp_path / "missing.db"))
    assert code == ExitCode.ERROR
    one_error(err)


def test_without_tqdm_the_progress_bar_is_a_one_line_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    stream = io.StringIO()
    assert make_progress(stream) is None
    assert len(stream.getvalue().splitlines()) == 1
    assert "tqdm" in stream.getvalue()


def test_with_tqdm_the_progress_bar_follows_the_transfer(monkeypatch):
    updates: list[object] = []

    class FakeBar:
        def __init__(self, **options):
            self.total = options["total"]
            self.closed = False

        def update(self, count):
            updates.append((count, self.total))

        def close(self):
            updates.append("closed")

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeBar))
    progress = make_progress(io.StringIO())
    assert progress is not None
    progress(100, 300)
    progress(300, 300)
    assert updates == [(100, 300), (200, 300), "closed"]


# --- signals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_long_running_commands_turn_signals_into_a_clean_stop(sig):
    before = signal.getsignal(sig)
    with pytest.raises(Interrupted), interruptible():
        os.kill(os.getpid(), sig)
        time.sleep(5)  # the handler interrupts this at once
    assert signal.getsignal(sig) == before


def test_a_bool_flag_parser_on_its_own():
    parser = CommandLine(prog="t", usage="t")
    parser.add_bool("-l", "--listen", help="x")
    assert parser.parse(["--listen=false"]).listen is False
    assert parser.parse(["-l"]).listen is True
