"""How Go writes things, for output that is byte for byte etcdctl's (pure, no I/O).

etcdctl prints with Go's ``fmt`` and ``encoding/json``: quoted strings (``%q``), JSON
strings with HTML-safe escapes, durations (``3.82ms``), human sizes (``25 kB``), hex with a
``\\x`` before each byte (``--hex``). Each helper here reproduces one of those.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# --- %q (strconv.Quote) -----------------------------------------------------------------

_SHORT_ESCAPES: Final = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _rune_at(data: bytes, index: int) -> tuple[str | None, int]:
    """The character encoded in UTF-8 at ``index`` and its length; ``None`` if invalid."""
    lead = data[index]
    if lead < 0x80:
        return chr(lead), 1
    if 0xC2 <= lead <= 0xDF:
        size = 2
    elif 0xE0 <= lead <= 0xEF:
        size = 3
    elif 0xF0 <= lead <= 0xF4:
        size = 4
    else:
        return None, 1
    try:
        return data[index : index + size].decode("utf-8"), size
    except UnicodeDecodeError:
        return None, 1


def quote(value: bytes | str) -> str:
    """Go's ``%q`` of a string: double quotes, Go escapes, invalid UTF-8 as ``\\xNN``."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    out = ['"']
    index = 0
    while index < len(data):
        char, size = _rune_at(data, index)
        if char is None:
            out.append(f"\\x{data[index]:02x}")
            index += 1
            continue
        index += size
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


class QuoteError(ValueError):
    """Text that is not a Go quoted string."""


_UNESCAPES: Final = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


def unquote_prefix(text: str) -> tuple[bytes, str]:
    """Read one Go quoted string (``"..."`` with escapes, or a raw `` `...` ``) at the start
    of ``text``; returns its bytes and the text after the closing quote."""
    if text.startswith("`"):
        end = text.find("`", 1)
        if end < 0:
            raise QuoteError("unterminated raw string")
        return text[1:end].encode("utf-8"), text[end + 1 :]
    if not text.startswith('"'):
        raise QuoteError("expected a quoted string")
    out = bytearray()
    index = 1
    while index < len(text):
        char = text[index]
        if char == '"':
            return bytes(out), text[index + 1 :]
        if char == "\n":
            break
        if char != "\\":
            out += char.encode("utf-8")
            index += 1
            continue
        if index + 1 >= len(text):
            break
        kind = text[index + 1]
        if kind in _UNESCAPES:
            out += _UNESCAPES[kind].encode()
            index += 2
            continue
        widths = {"x": 2, "u": 4, "U": 8}
        if kind in widths:
            digits = text[index + 2 : index + 2 + widths[kind]]
            if len(digits) != widths[kind] or not _is_hex(digits):
                raise QuoteError(f"bad \\{kind} escape")
            number = int(digits, 16)
            if kind == "x":
                out.append(number)
            else:
                if number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
                    raise QuoteError(f"bad \\{kind} escape")
                out += chr(number).encode("utf-8")
            index += 2 + widths[kind]
            continue
        if kind in "01234567":
            digits = text[index + 1 : index + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise QuoteError("bad octal escape")
            number = int(digits, 8)
            if number > 255:
                raise QuoteError("bad octal escape")
            out.append(number)
            index += 4
            continue
        raise QuoteError(f"unknown escape \\{kind}")
    raise QuoteError("unterminated quoted string")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


# --- encoding/json strings ----------------------------------------------------------------


def json_string(text: str) -> str:
    """A JSON string as Go's ``encoding/json`` writes it (HTML-safe, ``\\u00XX`` controls)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or char in "<>&" or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


# --- time.Duration.String -----------------------------------------------------------------


def _fraction(value: int, precision: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction digits of ``value`` (trailing zeros dropped) and the rest."""
    digits = []
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        value //= 10
    fraction = "." + "".join(reversed(digits)) if printed else ""
    return fraction, value


def duration(nanoseconds: int) -> str:
    """Go's ``time.Duration.String``: ``"3.821328ms"``, ``"1m30s"``, ``"0s"``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    value = abs(nanoseconds)
    if value < 1_000_000_000:
        if value < 1_000:
            return f"{sign}{value}ns"
        if value < 1_000_000:
            fraction, whole = _fraction(value, 3)
            return f"{sign}{whole}{fraction}µs"
        fraction, whole = _fraction(value, 6)
        return f"{sign}{whole}{fraction}ms"
    fraction, seconds = _fraction(value, 9)
    text = f"{seconds % 60}{fraction}s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        hours = minutes // 60
        if hours:
            text = f"{hours}h{text}"
    return sign + text


# --- github.com/dustin/go-humanize Bytes ---------------------------------------------------

_SI_SIZES: Final = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def humanize_bytes(size: int) -> str:
    """Sizes as etcdctl prints them (SI units, one decimal below 10): ``"25 kB"``."""
    if size < 10:
        return f"{size} B"
    exponent = 0
    scaled = float(size)
    while scaled >= 1000 and exponent < len(_SI_SIZES) - 1:
        scaled /= 1000
        exponent += 1
    value = int(size / 1000**exponent * 10 + 0.5) / 10
    if value < 10:
        return f"{value:.1f} {_SI_SIZES[exponent]}"
    return f"{value:.0f} {_SI_SIZES[exponent]}"


# --- --hex ----------------------------------------------------------------------------------


def hex_escaped(data: bytes) -> bytes:
    """``--hex``: every byte as ``\\xNN`` (``b"k1"`` becomes ``\\x6b\\x31``)."""
    return "".join(f"\\x{byte:02x}" for byte in data).encode("ascii")


# --- strconv parsing ------------------------------------------------------------------------

_TRUE: Final = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE: Final = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"strconv.ParseBool: parsing {quote(text)}: invalid syntax")


def parse_int(text: str, base: int, *, signed: bool = True, bits: int = 64) -> int:
    """Go's ``strconv.ParseInt``/``ParseUint`` with its error messages."""
    function = "strconv.ParseInt" if signed else "strconv.ParseUint"
    body = text
    negative = False
    if signed and body[:1] in ("+", "-"):
        negative = body[0] == "-"
        body = body[1:]
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
    if not body or any(c.lower() not in alphabet for c in body):
        raise ValueError(f"{function}: parsing {quote(text)}: invalid syntax")
    number = int(body, base)
    if negative:
        number = -number
    if signed:
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        low, high = 0, 2**bits - 1
    if not low <= number <= high:
        raise ValueError(f"{function}: parsing {quote(text)}: value out of range")
    return number


# --- display width (github.com/mattn/go-runewidth) -------------------------------------------


def display_width(text: str) -> int:
    """Terminal cells taken by ``text``: wide East Asian characters count two."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width
