"""Exceptions raised by :mod:`etcd.testing`."""

from __future__ import annotations

__all__ = ["EtcdBinaryNotFound", "EtcdStartError"]


class EtcdBinaryNotFound(FileNotFoundError):
    """No usable etcd (or etcdctl) executable was found.

    The message lists every place that was searched and how to install one.
    """


class EtcdStartError(RuntimeError):
    """An etcd member did not start, or did not become healthy in time.

    The message holds the command line and the last lines of the member's log.
    """
