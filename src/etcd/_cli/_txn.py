"""etcdctl's transaction syntax, read into an :class:`etcd.Txn` (pure, no I/O).

The input has three parts, each ended by an empty line: the comparisons, the operations
run when they all hold, and those run otherwise::

    mod("key1") > "0"
    value("key2") = "expected"

    put key1 "new value"
    del key2 --prev-kv

    get key1

A comparison is ``target("key") op "operand"``: ``value``/``val``, ``version``/``ver``,
``create``/``c``, ``mod``/``m`` or ``lease`` (a lease ID in hex), with ``=``, ``!=``,
``<`` or ``>``; key and operand are Go quoted strings. An operation is a ``get``, ``put``
or ``del`` command line with its options; arguments may be quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final

from .._core.compare import Compare
from .._core.exceptions import EtcdException
from .._core.kv import Op, Txn
from ._errors import CLIError, ExitCode
from ._gofmt import QuoteError, parse_int, quote, unquote_prefix
from ._kvargs import delete_op, kv_parser, put_op, range_op

_SPACES: Final = " \t\r\f\v"
# A double-quoted string with escapes, a single-quoted one, or a run of non-spaces.
_ARGUMENT: Final = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^'\" \t\n\f\r][^ \t\n\f\r]*")

PROMPTS: Final = (
    "compares:",
    "success requests (get, put, del):",
    "failure requests (get, put, del):",
)


class TxnSyntaxError(CLIError):
    """Input that is not a transaction (etcdctl's exit code 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.INVALID_INPUT)


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def argify(line: str) -> list[str]:
    """Split an operation line into arguments; quotes group and are removed."""
    args = []
    for token in _ARGUMENT.findall(line):
        if token.startswith("'"):
            token = token[1:-1]
        elif token.startswith('"'):
            try:
                value, _ = unquote_prefix(token)
            except QuoteError as error:
                raise TxnSyntaxError(f"bad quoted argument {token}: {error}") from None
            token = value.decode("utf-8", "surrogateescape")
        args.append(token)
    return args


_INTEGER_TARGETS: Final[dict[str, Callable[[bytes, str, int], Compare]]] = {
    "ver": Compare.version,
    "version": Compare.version,
    "c": Compare.create_revision,
    "create": Compare.create_revision,
    "m": Compare.mod_revision,
    "mod": Compare.mod_revision,
}
_RELATIONS: Final = frozenset({"=", "==", "!=", "<", ">"})


def parse_compare(line: str) -> Compare:
    """One comparison line, such as ``mod("key") > "5"``."""
    target, paren, rest = line.partition("(")
    if not paren:
        raise TxnSyntaxError(f"malformed comparison: {line}")
    key = relation = operand = b""
    parsed = 0
    try:
        key, rest = unquote_prefix(rest.lstrip(_SPACES))
        if not rest.startswith(")"):
            raise QuoteError("expected )")
        parsed = 1
        rest = rest[1:].lstrip(_SPACES)
        match = re.match(r"[^\s]+", rest)
        if match is None:
            raise QuoteError("expected an operator")
        relation = encode(match.group(0))
        parsed = 2
        operand, _ = unquote_prefix(rest[match.end() :].lstrip(_SPACES))
        parsed = 3
    except QuoteError:
        pass
    if parsed != 3:
        got = f"{target}({quote(key)}) {relation.decode(errors='replace')} {quote(operand)}"
        raise TxnSyntaxError(f"malformed comparison: {line}; got {got}")
    symbol = relation.decode("utf-8", "replace")
    if symbol not in _RELATIONS:
        raise TxnSyntaxError(f"invalid txn compare request: {line} (unknown operator {symbol})")
    try:
        if target in _INTEGER_TARGETS:
            try:
                number = parse_int(operand.decode("ascii", "replace"), 10)
            except ValueError:
                raise TxnSyntaxError(f"invalid txn compare request: {line}") from None
            return _INTEGER_TARGETS[target](key, symbol, number)
        if target in ("val", "value"):
            return Compare.value(key, symbol, operand)
        if target == "lease":
            try:
                lease = parse_int(operand.decode("ascii", "replace"), 16)
            except ValueError:
                raise TxnSyntaxError(f"invalid txn compare request: {line}") from None
            return Compare.lease(key, symbol, lease)
    except EtcdException as error:
        raise TxnSyntaxError(f"invalid txn compare request: {line} ({error})") from None
    raise TxnSyntaxError(f"malformed comparison: {line} (unknown target {target})")


def parse_op(line: str) -> Op:
    """One operation line: ``get``, ``put`` or ``del`` with its arguments and options."""
    args = argify(line)
    if len(args) < 2:
        raise TxnSyntaxError(f"invalid txn compare request: {line}")
    kind, rest = args[0], args[1:]
    if kind not in ("get", "put", "del"):
        raise TxnSyntaxError(f"invalid txn request: {line}")
    parser = kv_parser(kind)
    try:
        options = parser.parse(rest)
    except CLIError:
        raise TxnSyntaxError(f"invalid txn request: {line}") from None
    if options.help:
        raise TxnSyntaxError(f"invalid txn request: {line}")
    positional = [encode(arg) for arg in options.args]
    try:
        if kind == "get":
            return range_op(positional, options)
        if kind == "put":
            return put_op(positional, options)
        return delete_op(positional, options)
    except EtcdException as error:
        raise TxnSyntaxError(f"invalid txn request: {line} ({error})") from None


def _section(lines: Iterator[str]) -> Iterator[str]:
    """The lines of one part, up to the empty line that ends it."""
    for raw in lines:
        line = raw.strip()
        if not line:
            return
        yield line
    raise TxnSyntaxError("EOF")


def read_txn(lines: Iterator[str], prompt: Callable[[str], None] | None = None) -> Txn:
    """Read a transaction from ``lines`` (without their line ends or with them).

    ``prompt`` is called with each part's heading first (``txn --interactive``).
    """
    if prompt is not None:
        prompt(PROMPTS[0])
    compares = [parse_compare(line) for line in _section(lines)]
    if prompt is not None:
        prompt(PROMPTS[1])
    success = [parse_op(line) for line in _section(lines)]
    if prompt is not None:
        prompt(PROMPTS[2])
    failure = [parse_op(line) for line in _section(lines)]
    return Txn().If(*compares).Then(*success).Else(*failure)
