"""Client options from the ``ETCDCTL_*`` environment variables, and Go durations as etcdctl
reads them (pure, no I/O)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from .exceptions import EtcdValueError

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str, what: str) -> float:
    """A Go duration (``"5s"``, ``"500ms"``, ``"1m30s"``) or plain seconds, in seconds."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pos, seconds = 0, 0.0
        for part in _DURATION_PART.finditer(value):
            if part.start() != pos:
                break
            seconds += float(part.group(1)) * _UNIT_SECONDS[part.group(2)]
            pos = part.end()
        if pos != len(value) or not value:
            raise EtcdValueError(
                f"{what}: {text!r} is not a duration like '5s' or '500ms'"
            ) from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise EtcdValueError(f"{what}: {text!r} must be a positive duration")
    return seconds


def env_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """Client keyword arguments from the ``ETCDCTL_*`` variables etcdctl users already set."""
    options: dict[str, Any] = {}
    if environ.get("ETCDCTL_ENDPOINTS"):
        options["endpoints"] = [e for e in environ["ETCDCTL_ENDPOINTS"].split(",") if e.strip()]
    if environ.get("ETCDCTL_CACERT"):
        options["ca_cert"] = environ["ETCDCTL_CACERT"]
    cert, key = environ.get("ETCDCTL_CERT"), environ.get("ETCDCTL_KEY")
    if bool(cert) != bool(key):
        raise EtcdValueError("ETCDCTL_CERT and ETCDCTL_KEY must be set together")
    if cert and key:
        options["cert"] = (cert, key)
    user = environ.get("ETCDCTL_USER")
    if user:
        name, sep, password = user.partition(":")
        options["username"] = name
        if sep:
            options["password"] = password
    if environ.get("ETCDCTL_PASSWORD"):
        if not user:
            raise EtcdValueError("ETCDCTL_PASSWORD is set without ETCDCTL_USER")
        options["password"] = environ["ETCDCTL_PASSWORD"]
    if environ.get("ETCDCTL_DIAL_TIMEOUT"):
        options["connect_timeout"] = parse_duration(
            environ["ETCDCTL_DIAL_TIMEOUT"], "ETCDCTL_DIAL_TIMEOUT"
        )
    if environ.get("ETCDCTL_COMMAND_TIMEOUT"):
        options["timeout"] = parse_duration(
            environ["ETCDCTL_COMMAND_TIMEOUT"], "ETCDCTL_COMMAND_TIMEOUT"
        )
    if environ.get("ETCDCTL_DISCOVERY_SRV"):
        # As in etcdctl, the members found in DNS win over ETCDCTL_ENDPOINTS.
        options.pop("endpoints", None)
        options["discovery_srv"] = environ["ETCDCTL_DISCOVERY_SRV"]
        if environ.get("ETCDCTL_DISCOVERY_SRV_NAME"):
            options["discovery_srv_name"] = environ["ETCDCTL_DISCOVERY_SRV_NAME"]
    if any(e.lower().startswith("https://") for e in options.get("endpoints", ())):
        options["protocol"] = "https"
    return options
