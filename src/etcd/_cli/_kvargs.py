"""The options of ``get``, ``put`` and ``del``, and the operations they make (pure).

``txn`` reads the same commands from its input, so both share this module; the checks
and messages are etcdctl's.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from .._core.kv import DeleteRangeOp, Op, PutOp, RangeOp, SortOrder, SortTarget
from ._errors import CLIError, ExitCode, usage
from ._gofmt import parse_int
from ._parser import CommandLine, go_int


def add_get_options(parser: CommandLine) -> None:
    parser.add_argument(
        "--consistency", default="l", help='Linearizable(l) or Serializable(s) (default "l")'
    )
    parser.add_bool("--count-only", help="print only how many keys match")
    parser.add_bool(
        "--from-key",
        help="read every key from the given one on, in byte order",
    )
    parser.add_bool("--keys-only", help="print keys without values")
    parser.add_argument(
        "--limit", type=go_int, default=0, metavar="N", help="return at most this many keys"
    )
    parser.add_argument("--order", default="", help="sort order: ASCEND or DESCEND")
    parser.add_bool("--prefix", help="read every key that starts with the given one")
    parser.add_bool(
        "--print-value-only", help='Only write values when using the "simple" output format'
    )
    parser.add_argument(
        "--rev",
        type=go_int,
        default=0,
        metavar="REV",
        help="read the store as it was at this revision",
    )
    parser.add_argument(
        "--sort-by", default="", help="sort by CREATE, KEY, MODIFY, VALUE or VERSION"
    )
    for name, what in _REVISION_FILTERS.items():
        parser.add_argument(
            f"--{name}", type=go_int, default=0, metavar="REV", help=f"{what} (0: any)"
        )
    parser.add_argument("args", nargs="*", metavar="<key> [range_end]")


# etcdctl 3.6's filters of ``get`` by the keys' revisions.
_REVISION_FILTERS = {
    "min-create-rev": "only keys created at or after this revision",
    "max-create-rev": "only keys created at or before this revision",
    "min-mod-rev": "only keys last modified at or after this revision",
    "max-mod-rev": "only keys last modified at or before this revision",
}


def add_put_options(parser: CommandLine) -> None:
    parser.add_bool("--ignore-lease", help="keep the key's current lease")
    parser.add_bool("--ignore-value", help="keep the key's current value")
    parser.add_argument(
        "--lease", default="0", help='lease ID (in hexadecimal) to attach to the key (default "0")'
    )
    parser.add_bool("--prev-kv", help="also print the key-value as it was before")
    parser.add_argument("args", nargs="*", metavar="<key> <value>")


def add_del_options(parser: CommandLine) -> None:
    parser.add_bool(
        "--from-key",
        help="delete every key from the given one on, in byte order",
    )
    parser.add_bool("--prefix", help="delete every key that starts with the given one")
    parser.add_bool("--prev-kv", help="also print the deleted key-values")
    parser.add_argument("args", nargs="*", metavar="<key> [range_end]")


_SORT_TARGETS = {
    "CREATE": SortTarget.CREATE,
    "KEY": SortTarget.KEY,
    "MODIFY": SortTarget.MOD,
    "VALUE": SortTarget.VALUE,
    "VERSION": SortTarget.VERSION,
    "": SortTarget.KEY,
}
_SORT_ORDERS = {"ASCEND": SortOrder.ASCEND, "DESCEND": SortOrder.DESCEND, "": SortOrder.NONE}


def _range_of(
    args: Sequence[bytes], prefix: bool, from_key: bool
) -> tuple[bytes, bytes | None, bool, bool]:
    """The key, range end, prefix and from-key flags as etcdctl reads them: an empty key
    with ``--prefix`` or ``--from-key`` means every key."""
    key = args[0]
    range_end = args[1] if len(args) > 1 else None
    if range_end is not None and (prefix or from_key):
        raise usage(
            "too many arguments, only accept one argument when `--prefix` or `--from-key` is set"
        )
    if (prefix or from_key) and not key:
        return b"\0", None, False, True
    return key, range_end, prefix, from_key


def range_op(args: Sequence[bytes], options: argparse.Namespace) -> RangeOp:
    """``get``'s arguments as a range operation."""
    if not args:
        raise usage("get command needs one argument as key and an optional argument as range_end")
    if options.prefix and options.from_key:
        raise usage("`--prefix` and `--from-key` cannot be set at the same time, choose one")
    if options.consistency not in ("l", "s"):
        raise CLIError(f'unknown consistency flag "{options.consistency}"', ExitCode.BAD_FEATURE)
    order = _SORT_ORDERS.get(options.order.upper())
    if order is None:
        raise CLIError(f"bad sort order {options.order}", ExitCode.BAD_FEATURE)
    target = _SORT_TARGETS.get(options.sort_by.upper())
    if target is None:
        raise CLIError(f"bad sort target {options.sort_by}", ExitCode.BAD_FEATURE)
    if target is SortTarget.KEY and order is SortOrder.ASCEND:
        # Keys come in ascending order anyway; asking would make the server sort them.
        order = SortOrder.NONE
    if len(args) > 2:
        raise usage("get command needs one argument as key and an optional argument as range_end")
    key, range_end, prefix, from_key = _range_of(args, options.prefix, options.from_key)
    if options.limit < 0:
        raise usage(f"bad limit {options.limit}")
    filters = {name: getattr(options, name.replace("-", "_"), 0) for name in _REVISION_FILTERS}
    for name, revision in filters.items():
        if revision < 0:
            raise usage(f"bad --{name} {revision}")
    return Op.range(
        key,
        range_end,
        prefix=prefix,
        from_key=from_key,
        limit=options.limit,
        revision=max(options.rev, 0),
        sort_order=order,
        sort_target=target,
        serializable=options.consistency == "s",
        keys_only=options.keys_only,
        count_only=options.count_only,
        min_create_revision=filters["min-create-rev"],
        max_create_revision=filters["max-create-rev"],
        min_mod_revision=filters["min-mod-rev"],
        max_mod_revision=filters["max-mod-rev"],
    )


def lease_id(text: str, what: str = "bad lease ID") -> int:
    """A lease ID in hex, as etcdctl reads it."""
    try:
        return parse_int(text, 16)
    except ValueError as error:
        raise usage(f"{what} ({error}), expecting ID in Hex") from None


def put_op(
    args: Sequence[bytes],
    options: argparse.Namespace,
    read_value: Callable[[], bytes] | None = None,
) -> PutOp:
    """``put``'s arguments as a put operation; ``read_value`` reads the value from stdin
    when it is not an argument."""
    missing = "put command needs 1 argument and input from stdin or 2 arguments"
    if not args:
        raise usage(missing)
    if options.ignore_value and len(args) > 1:
        raise usage("put command needs only 1 argument when 'ignore-value' is set")
    if len(args) > 2:
        raise usage(
            f"put command takes a key and a value, not {len(args)} arguments "
            "(quote a value that holds spaces)"
        )
    value: bytes | None = None
    if not options.ignore_value:
        if len(args) > 1:
            value = args[1]
        else:
            value = read_value() if read_value is not None else b""
            if not value:
                raise usage(missing)
    lease = lease_id(options.lease)
    return Op.put(
        args[0],
        value,
        lease=lease,
        prev_kv=options.prev_kv,
        ignore_value=options.ignore_value,
        ignore_lease=options.ignore_lease,
    )


def delete_op(args: Sequence[bytes], options: argparse.Namespace) -> DeleteRangeOp:
    """``del``'s arguments as a delete operation."""
    if not args or len(args) > 2:
        raise usage("del command needs one argument as key and an optional argument as range_end")
    if options.prefix and options.from_key:
        raise usage("`--prefix` and `--from-key` cannot be set at the same time, choose one")
    key, range_end, prefix, from_key = _range_of(args, options.prefix, options.from_key)
    return Op.delete_range(
        key, range_end, prefix=prefix, from_key=from_key, prev_kv=options.prev_kv
    )


def kv_parser(kind: str) -> CommandLine:
    """A parser of ``get``, ``put`` or ``del`` options alone (for ``txn``)."""
    parser = CommandLine(prog=kind, usage=kind)
    {"get": add_get_options, "put": add_put_options, "del": add_del_options}[kind](parser)
    return parser
