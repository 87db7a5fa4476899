"""Picking free TCP ports on 127.0.0.1."""

from __future__ import annotations

import socket
import threading

__all__ = ["free_port"]

_handed_out: set[int] = set()
_lock = threading.Lock()
_ATTEMPTS = 100


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now.

    The operating system picks the port. A port is never returned twice by the same
    process, so members started together (whose ports are all picked before any of them
    binds) do not collide. Another process may still take the port before it is used.

    Raises:
        OSError: no new free port was found.
    """
    with _lock:
        for _ in range(_ATTEMPTS):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port: int = sock.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise OSError(f"no new free port on 127.0.0.1 after {_ATTEMPTS} attempts")
