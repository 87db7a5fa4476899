"""Write the synchronous I/O shell from the asyncio one.

The asyncio modules (``src/etcd/_async_*.py``) are the source. Each one becomes the
sync module of the same name without the ``_async`` (``_async_transport.py`` becomes
``_transport.py``; the tests likewise, ``test_async_kv.py`` becomes ``test_kv.py``) by
removing ``async`` and ``await`` and renaming the asyncio names to
their sync twins (``AsyncClient`` to ``Client``, ``__aenter__`` to ``__enter__``,
``_async_io`` to ``_sync_io`` ...). The two primitive modules, ``_async_io.py`` (asyncio)
and ``_sync_io.py`` (threads), are written by hand and give both shells the same names.

Usage: ``python scripts/generate_sync.py`` rewrites the sync modules;
``--check`` only reports the ones that differ from what would be written (for CI).
"""

from __future__ import annotations

import argparse
import io
import keyword
import re
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "etcd"
HAND_WRITTEN = {"_async_io.py"}

# Whole-name replacements; any other ``AsyncName`` loses its ``Async``.
NAMES = {
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "StopAsyncIteration": "StopIteration",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "asynccontextmanager": "contextmanager",
    "aclosing": "closing",
    "_async_io": "_sync_io",
    "iscoroutinefunction": "callable",
    "anext": "next",
    "aclose": "close",
}
# The same changes inside strings and comments (docstrings speak of the sync API).
TEXT = [
    (re.compile(r"\bawait\s+"), ""),
    (re.compile(r"\basync (for|with|def)\b"), r"\1"),
    (re.compile(r"\b(_?)Async([A-Z]\w*)"), r"\1\2"),
    (re.compile(r"\b_async_(\w+)"), r"_\1"),
    (re.compile(r"\basync_(\w+)"), r"\1"),
    (re.compile(r"__a(enter|exit|iter|next)__"), r"__\1__"),
    (re.compile(r"\bStopAsyncIteration\b"), "StopIteration"),
    (re.compile(r"\basyncio\b"), "sync"),
    (re.compile(r"\ban event loop task\b"), "a thread"),
    (re.compile(r"\btask\b"), "thread"),
    (re.compile(r"\btasks\b"), "threads"),
]
HEADER = (
    "# Generated from {source} by scripts/generate_sync.py: edit that file,\n"
    "# then run the script. CI fails when the two differ.\n"
)


def rename(name: str) -> str:
    if name in NAMES:
        return NAMES[name]
    if re.fullmatch(r"_?Async[A-Z]\w*", name):
        return name.replace("Async", "", 1)
    if name.startswith("_async_"):
        return "_" + name[len("_async_") :]
    if name.startswith("async_"):
        return name[len("async_") :]
    return name


def rewrite_text(text: str) -> str:
    for pattern, replacement in TEXT:
        text = pattern.sub(replacement, text)
    return text


def unasync(source: str) -> str:
    """The sync twin of one asyncio module's text (before formatting)."""
    source = re.sub(r"AsyncGenerator\[([^\[\]]+), None\]", r"Generator[\1, None, None]", source)
    # What a coroutine function returns, a plain function returns directly.
    source = re.sub(r"\bAwaitable\[([\w.]+)\]", r"\1", source)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def position(row: int, column: int) -> int:
        return offsets[row - 1] + column

    out: list[str] = []
    cursor = 0
    skip_space = False
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    dropped = _redundant_parentheses(tokens)
    for index, token in enumerate(tokens):
        if index in dropped:
            out.append(source[cursor : position(*token.start)])
            cursor = position(*token.end)
            continue
        start = position(*token.start)
        end = position(*token.end)
        gap = source[cursor:start]
        if skip_space:
            gap = gap.lstrip(" ")
            skip_space = False
        out.append(gap)
        text = token.string
        if token.type == tokenize.NAME and text in ("async", "await"):
            skip_space = True
            text = ""
        elif token.type == tokenize.NAME:
            text = rename(text)
        elif tokenize.tok_name[token.type] in ("STRING", "COMMENT", "FSTRING_MIDDLE"):
            text = rewrite_text(text)
        out.append(text)
        cursor = end
    out.append(source[cursor:])
    return "".join(out)


def _redundant_parentheses(tokens: list[tokenize.TokenInfo]) -> set[int]:
    """The parentheses of ``(await call(...)).attribute``, needless once ``await`` is gone.

    Only when nothing but a dotted call chain stands inside, so dropping them cannot
    change what the expression means.
    """
    dropped: set[int] = set()
    for start, token in enumerate(tokens[:-1]):
        following = next(
            (t for t in tokens[start + 1 :] if t.type not in (tokenize.NL, tokenize.COMMENT)), None
        )
        if token.string != "(" or following is None or following.string != "await":
            continue
        before = tokens[start - 1] if start else None
        if before is not None and (
            before.string in (")", "]")
            or (before.type == tokenize.NAME and not keyword.iskeyword(before.string))
        ):
            continue  # the parentheses of a call: they stay
        depth = 0
        for end in range(start, len(tokens)):
            text = tokens[end].string
            if text in "([{":
                depth += 1
            elif text in ")]}":
                depth -= 1
                if depth == 0:
                    break
            elif depth == 1 and tokens[end].string != "await":
                if tokens[end].type == tokenize.OP and text != ".":
                    break
                if tokens[end].type == tokenize.NAME and keyword.iskeyword(text):
                    break
        else:
            continue
        # Across lines, the parentheses are what lets the expression span them.
        if depth == 0 and tokens[end].string == ")" and token.start[0] == tokens[end].end[0]:
            dropped.update((start, end))
    return dropped


def generated(source_path: Path, target: Path) -> str:
    text = unasync(source_path.read_text())
    if re.search(r"^\s*(import asyncio|from asyncio)|\basyncio\.", text, re.MULTILINE):
        raise SystemExit(f"{source_path.name}: asyncio is used outside _async_io.py")
    text = HEADER.format(source=source_path.name) + text
    fix = ["check", "--fix-only", "--unsafe-fixes", "--select", "I,F401,UP028"]
    fixed = _ruff(fix, text, target) or text
    return _ruff(["format"], fixed, target)


def _ruff(arguments: list[str], text: str, target: Path) -> str:
    """``ruff`` on text, with the settings that apply to ``target`` (its output; empty
    when a check found nothing to fix)."""
    command = [sys.executable, "-m", "ruff", *arguments, "--stdin-filename", str(target), "-"]
    result = subprocess.run(command, input=text, capture_output=True, text=True)
    if result.returncode != 0 and arguments[0] == "format":
        raise SystemExit(f"{target.name}: ruff could not format the output:\n{result.stderr}")
    return result.stdout


def pairs() -> list[tuple[Path, Path]]:
    """Each asyncio source and the sync file written from it: the shell's modules, and
    the test modules (``test_async_kv.py`` gives ``test_kv.py``)."""
    found = []
    for source in sorted(PACKAGE.glob("_async_*.py")):
        if source.name in HAND_WRITTEN:
            continue
        found.append((source, source.with_name("_" + source.name[len("_async_") :])))
    for source in sorted((ROOT / "tests").rglob("test_async_*.py")):
        found.append((source, source.with_name("test_" + source.name[len("test_async_") :])))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    args = parser.parse_args()
    stale = []
    for source, target in pairs():
        text = generated(source, target)
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target)
        if not args.check:
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    if args.check and stale:
        names = ", ".join(str(path.relative_to(ROOT)) for path in stale)
        print(f"out of date (run scripts/generate_sync.py): {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
