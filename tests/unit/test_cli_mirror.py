"""``make-mirror``'s arguments and flags, checked before any connection is made."""

import argparse
import io

import pytest

from etcd._cli import run
from etcd._cli._commands_mirror import _destination_credentials, _destination_endpoints
from etcd._cli._errors import ExitCode

# Nothing listens there: every case below must be refused before anything is sent.
NOWHERE = "--endpoints=127.0.0.1:1"


def cli(*argv, stdin=b""):
    out, err = io.BytesIO(), io.StringIO()
    code = run([NOWHERE, *argv], stdin=io.BytesIO(stdin), stdout=out, stderr=err, environ={})
    return code, out.getvalue().decode(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("make-mirror",), "make-mirror takes one destination argument"),
        (("make-mirror", "a:1", "b:2"), "make-mirror takes one destination argument"),
        (
            ("make-mirror", "--dest-prefix=d_", "--no-dest-prefix", "127.0.0.1:2"),
            "`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one",
        ),
        (
            ("make-mirror", "--dest-endpoints=127.0.0.1:2", "127.0.0.1:3"),
            "give the destination either as an argument or with --dest-endpoints",
        ),
        (("make-mirror", "--max-txn-ops=0", "127.0.0.1:2"), "max_txn_ops must be between 1"),
        (("make-mirror", "--rev=-1", "127.0.0.1:2"), "rev must not be negative"),
        (
            ("make-mirror", "--dest-cert=c.pem", "127.0.0.1:2"),
            "--dest-cert and --dest-key must be given together",
        ),
    ],
)
def test_bad_arguments_exit_with_etcdctls_code_before_connecting(argv, message):
    code, out, err = cli(*argv)
    assert (code, out) == (ExitCode.BAD_ARGS, "")
    assert err.startswith(f"Error: {message}") and len(err.splitlines()) == 1, err


def test_a_flag_value_that_is_not_a_number_is_refused():
    code, out, err = cli("make-mirror", "--max-txn-ops=-1", "127.0.0.1:2")
    assert code == ExitCode.ERROR and out == ""
    assert "strconv.ParseUint" in err and len(err.splitlines()) == 1


def test_the_help_lists_etcdctls_flags():
    code, out, _ = cli("make-mirror", "--help")
    assert code == 0
    for flag in (
        "--prefix",
        "--dest-prefix",
        "--no-dest-prefix",
        "--max-txn-ops",
        "--rev",
        "--dest-endpoints",
        "--dest-cacert",
        "--dest-cert",
        "--dest-key",
        "--dest-insecure-transport",
        "--dest-user",
        "--dest-password",
    ):
        assert flag in out, flag


def options(**values):
    defaults = {"args": [], "dest_endpoints": [], "dest_user": "", "dest_password": ""}
    return argparse.Namespace(**{**defaults, **values})


def test_the_destination_is_the_argument_or_the_listed_endpoints():
    assert _destination_endpoints(options(args=["127.0.0.1:2"])) == ["127.0.0.1:2"]
    listed = options(dest_endpoints=["127.0.0.1:2, 127.0.0.1:3", "127.0.0.1:4"])
    assert _destination_endpoints(listed) == ["127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"]


def test_destination_credentials_are_read_as_etcdctl_reads_them():
    def never(prompt):
        raise AssertionError("no password should be asked for")

    assert _destination_credentials(options(), never) == ("", "")
    assert _destination_credentials(options(dest_user="u:p"), never) == ("u", "p")
    # With --dest-password, --dest-user is the whole name, colon included.
    with_password = options(dest_user="u:x", dest_password="p")
    assert _destination_credentials(with_password, never) == ("u:x", "p")
    prompts = []

    def ask(prompt):
        prompts.append(prompt)
        return "typed"

    assert _destination_credentials(options(dest_user="u"), ask) == ("u", "typed")
    assert prompts == ["Destination Password: "]
