"""The global options a command runs with: every global flag after its ``ETCDCTL_*``
fallback.

:mod:`._parser` resolves them and :mod:`._context` carries them to the commands. They live
apart from both because the parser imports the context (its commands are functions of a
context), so the context must not import the parser.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class GlobalOptions:
    """The global flags after the environment fallback."""

    endpoints: list[str]
    dial_timeout: float
    command_timeout: float
    keepalive_time: float
    keepalive_timeout: float
    cacert: str
    cert: str
    key: str
    insecure_transport: bool
    insecure_skip_tls_verify: bool
    user: str
    password: str
    write_out: str
    auth_jwt_token: str
    max_request_bytes: int
    max_recv_bytes: int
    hex: bool
    debug: bool
    discovery_srv: str
    discovery_srv_name: str
    insecure_discovery: bool
    endpoints_from_flag: bool = False
