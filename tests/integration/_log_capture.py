"""Every log record of the client's loggers, at every level, kept whole: for the tests
that prove a secret never reaches the logs."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

# The attributes every LogRecord has; the others came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", (), None))) | {
    "message",
    "asctime",
}

# etcd's simple tokens: 16 random letters, a dot, a counter. A JWT is three base64url
# parts; the tests use simple tokens, whose lifetime can be made short.
SIMPLE_TOKEN = re.compile(r"\b[A-Za-z]{16}\.\d+\b")


class Everything(logging.Handler):
    """Keeps each record as all the text it could ever be shown as: its message and
    arguments, the formatted message, its ``extra`` fields, and its exception or stack
    with the traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []
        self._formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        parts = [
            str(record.msg),
            repr(record.args),
            record.getMessage(),
            self._formatter.format(record),
            repr(extra_fields(record)),
        ]
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        self.records.append(record)
        self.texts.append("\n".join(parts))

    def text(self) -> str:
        return "\n".join(self.texts)


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


@contextmanager
def everything_logged() -> Iterator[Everything]:
    """Every ``etcd*`` logger at DEBUG, into one handler, for the time of the block."""
    handler = Everything()
    root = logging.getLogger("etcd")
    loggers = [root] + [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if name.startswith("etcd.")
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def assert_no_secret(text: str, secrets: Iterable[str]) -> None:
    """Neither any of ``secrets`` nor anything shaped like a token is in ``text``."""
    for secret in secrets:
        assert secret, "an empty secret proves nothing"
        assert secret not in text, f"a secret was shown: ...{_around(text, secret)}..."
    token = SIMPLE_TOKEN.search(text)
    assert token is None, f"something like a token was shown: {token.group()!r}"


def _around(text: str, secret: str) -> str:
    at = text.index(secret)
    return text[max(0, at - 80) : at].replace(secret, "<SECRET>")
