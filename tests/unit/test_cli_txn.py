"""etcdctl's transaction syntax, read by the command-line tool (no server)."""

import pytest

from etcd import Compare, DeleteRangeOp, PutOp, RangeOp, SortOrder, SortTarget
from etcd._cli._errors import CLIError, ExitCode
from etcd._cli._txn import PROMPTS, TxnSyntaxError, argify, parse_compare, parse_op, read_txn


def test_argify_splits_and_unquotes():
    assert argify('put k "hello world"') == ["put", "k", "hello world"]
    assert argify("put k 'single quoted'") == ["put", "k", "single quoted"]
    assert argify('put "a\\"b" "tab\\there"') == ["put", 'a"b', "tab\there"]
    assert argify("get  k   --prefix ") == ["get", "k", "--prefix"]
    assert argify('put k a"b') == ["put", "k", 'a"b']


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('value("k") = "v"', Compare.value(b"k", "=", b"v")),
        ('val("k") != "two words"', Compare.value(b"k", "!=", b"two words")),
        ('version("k") > "0"', Compare.version(b"k", ">", 0)),
        ('ver("k") = "3"', Compare.version(b"k", "=", 3)),
        ('create("k") < "100"', Compare.create_revision(b"k", "<", 100)),
        ('c("k") = "0"', Compare.create_revision(b"k", "=", 0)),
        ('mod("k") > "5"', Compare.mod_revision(b"k", ">", 5)),
        ('m("k")   >   "5"', Compare.mod_revision(b"k", ">", 5)),
        ('lease("k") = "694d77aa9e38260f"', Compare.lease(b"k", "=", 0x694D77AA9E38260F)),
        ('value("k\\x00") = "\\n"', Compare.value(b"k\x00", "=", b"\n")),
        ("value(`raw`) = `v`", Compare.value(b"raw", "=", b"v")),
    ],
)
def test_comparisons(line, expected):
    assert parse_compare(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bogus", "malformed comparison: bogus"),
        ('value("k") = v', 'malformed comparison: value("k") = v; got value("k") = ""'),
        ('value("k" = "v"', "malformed comparison"),
        ('version("k") > "x"', 'invalid txn compare request: version("k") > "x"'),
        ('size("k") > "1"', "unknown target size"),
        ('value("k") ~ "v"', "unknown operator ~"),
        ('lease("k") = "xyz"', "invalid txn compare request"),
        ('value("") = "v"', "invalid txn compare request"),
    ],
)
def test_bad_comparisons_exit_3(line, message):
    with pytest.raises(
        TxnSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as caught:
        parse_compare(line)
    assert caught.value.code == ExitCode.INVALID_INPUT


def test_operations_take_their_commands_options():
    get = parse_op("get k --prefix --limit=2 --sort-by=MODIFY --order=descend --keys-only")
    assert isinstance(get, RangeOp)
    assert (get.key, get.range_end, get.limit, get.keys_only) == (b"k", b"l", 2, True)
    assert (get.sort_target, get.sort_order) == (SortTarget.MOD, SortOrder.DESCEND)
    ranged, everything = parse_op("get k z"), parse_op('get "" --prefix')
    assert isinstance(ranged, RangeOp) and isinstance(everything, RangeOp)
    assert (ranged.range_end, everything.key) == (b"z", b"\0")
    put = parse_op('put k "hello world" --prev-kv --lease=ff')
    assert isinstance(put, PutOp)
    assert (put.key, put.value, put.prev_kv, put.lease) == (b"k", b"hello world", True, 255)
    keep = parse_op("put k --ignore-value")
    assert isinstance(keep, PutOp) and keep.ignore_value
    delete = parse_op("del k --from-key --prev-kv")
    assert isinstance(delete, DeleteRangeOp)
    assert (delete.range_end, delete.prev_kv) == (b"\0", True)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("get", ExitCode.INVALID_INPUT),  # fewer than two words
        ("foo k", ExitCode.INVALID_INPUT),
        ("get k --no-such-flag", ExitCode.INVALID_INPUT),
        ("put k", ExitCode.BAD_ARGS),  # as etcdctl: put's own argument check
        ("put k v --lease=zz", ExitCode.BAD_ARGS),
        ("get k --prefix --from-key", ExitCode.BAD_ARGS),
        ("get k --order=up", ExitCode.BAD_FEATURE),
    ],
)
def test_bad_operations(line, code):
    with pytest.raises(CLIError) as caught:
        parse_op(line)
    assert caught.value.code == code


def test_a_whole_transaction_with_prompts():
    text = 'mod("a") > "0"\nvalue("b") = "x"\n\nput a 1\n  del b  \n\nget a\n\n'
    prompts = []
    txn = read_txn(iter(text.splitlines(keepends=True)), prompts.append)
    assert prompts == list(PROMPTS)
    assert txn.compare == (Compare.mod_revision(b"a", ">", 0), Compare.value(b"b", "=", b"x"))
    assert [type(op) for op in txn.success] == [PutOp, DeleteRangeOp]
    assert [type(op) for op in txn.failure] == [RangeOp]
    empty = read_txn(iter(["\n", "\n", "\n"]))
    assert (empty.compare, empty.success, empty.failure) == ((), (), ())


@pytest.mark.parametrize("text", ["", 'value("a") = "1"\n\nput a b\n\n', "\n\nget a"])
def test_a_transaction_must_end_every_part_with_an_empty_line(text):
    with pytest.raises(TxnSyntaxError, match="EOF"):
        read_txn(iter(text.splitlines(keepends=True)))
