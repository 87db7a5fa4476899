"""Throwaway certificate authorities and certificates for TLS tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["TLSFiles", "make_tls"]


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the PEM files made by :func:`make_tls`.

    Pass it as ``tls=`` to :class:`EtcdServer` or :class:`EtcdCluster` to serve clients over
    HTTPS, and give the client files to the client under test.
    """

    ca_cert: str
    """The CA that signed the server's and the client's certificates."""
    server_cert: str
    """The server's certificate, valid for 127.0.0.1 and localhost."""
    server_key: str
    """The server's private key."""
    client_cert: str
    """A client certificate whose common name is ``root``. With authentication enabled,
    etcd takes the common name as the user name."""
    client_key: str
    """The client certificate's private key."""
    client_combined: str
    """The client's key and certificate in one PEM file, as passed with
    ``cert="client.pem"``."""
    other_ca_cert: str
    """A CA that signed nothing here, so trusting only it must make handshakes fail."""
    client_cert_auth: bool = True
    """Whether servers demand and verify client certificates."""


def _import_trustme() -> Any:
    try:
        import trustme
    except ImportError as err:
        raise ImportError(
            "etcd.testing.make_tls needs the trustme package: "
            "pip install 'etcd-client[testing]' (or pip install trustme)"
        ) from err
    return trustme


def make_tls(
    directory: str | os.PathLike[str],
    *,
    client_cert_auth: bool = True,
    hostnames: tuple[str, ...] = ("127.0.0.1", "localhost"),
) -> TLSFiles:
    """Create a CA, a server certificate and a client certificate in ``directory``.

    The certificates come from ``trustme`` and are only good for tests.

    Args:
        directory: where to write the PEM files; created if missing.
        client_cert_auth: whether servers using these files should demand client
            certificates (etcd's ``--client-cert-auth``).
        hostnames: the names and addresses the server certificate is valid for.

    Returns:
        The paths of the files written.

    Raises:
        ImportError: ``trustme`` is not installed.
    """
    trustme = _import_trustme()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    ca = trustme.CA()
    server = ca.issue_cert(*hostnames)
    client = ca.issue_cert("client", common_name="root")
    other_ca = trustme.CA()

    def write(filename: str, *blobs: Any, private: bool = False) -> str:
        path = out / filename
        path.write_bytes(b"".join(blob.bytes() for blob in blobs))
        if private:
            path.chmod(0o600)
        return str(path)

    return TLSFiles(
        ca_cert=write("ca.pem", ca.cert_pem),
        server_cert=write("server.pem", *server.cert_chain_pems),
        server_key=write("server-key.pem", server.private_key_pem, private=True),
        client_cert=write("client.pem", *client.cert_chain_pems),
        client_key=write("client-key.pem", client.private_key_pem, private=True),
        client_combined=write(
            "client-combined.pem", client.private_key_pem, *client.cert_chain_pems, private=True
        ),
        other_ca_cert=write("other-ca.pem", other_ca.cert_pem),
        client_cert_auth=client_cert_auth,
    )
