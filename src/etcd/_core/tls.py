"""TLS material: certificates, keys and trusted roots, read from their files once (pure, no
network).

Only a client that talks TLS loads this module.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

from .exceptions import EtcdTypeError, EtcdValueError

_PEM_BLOCK = re.compile(
    rb"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\r?\n.*?-----END (?P=label)-----\r?\n?", re.DOTALL
)


@dataclass(frozen=True, slots=True, repr=False)
class TLSMaterial:
    """What gRPC needs for TLS, read from the files once."""

    root_certificates: bytes | None = None
    private_key: bytes | None = None
    certificate_chain: bytes | None = None
    server_name: str | None = None
    custom_ca: bool = False

    def __repr__(self) -> str:
        return (
            f"TLSMaterial(custom_ca={self.custom_ca}, "
            f"client_cert={self.certificate_chain is not None})"
        )


def _read(path: object, what: str) -> bytes:
    if not isinstance(path, (str, os.PathLike)):
        raise EtcdTypeError(f"{what} must be a file path, not {type(path).__name__}")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as err:
        raise EtcdValueError(
            f"cannot read {what} file {os.fspath(path)!r}: {err.strerror}"
        ) from err


def split_combined_pem(data: bytes, path: str) -> tuple[bytes, bytes]:
    """(certificate chain, private key) from one PEM file holding both."""
    certs: list[bytes] = []
    keys: list[bytes] = []
    for block in _PEM_BLOCK.finditer(data):
        label = block.group("label")
        text = block.group(0).rstrip(b"\r\n") + b"\n"
        if label == b"CERTIFICATE":
            certs.append(text)
        elif label.endswith(b"PRIVATE KEY"):
            keys.append(text)
    if not certs or len(keys) != 1:
        raise EtcdValueError(
            f"cert file {path!r} must hold a certificate and exactly one private key when "
            f"given alone (found {len(certs)} certificate(s), {len(keys)} key(s)); or pass "
            "cert=(certificate_file, key_file)"
        )
    return b"".join(certs), keys[0]


@functools.cache
def system_roots() -> bytes | None:
    """The operating system's trusted CA bundle (``SSL_CERT_FILE`` wins), read once.

    ``None`` (gRPC's own bundled roots) when the system has no bundle file, or when
    ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`` names the roots gRPC is to use.
    """
    if os.environ.get("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"):
        return None
    import ssl  # only TLS clients without a CA file pay for it

    cafile = ssl.get_default_verify_paths().cafile
    if cafile is None:
        return None
    try:
        with open(cafile, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def load_tls(
    *,
    cert: object = None,
    ca_cert: object = None,
    server_name: str | None = None,
) -> TLSMaterial:
    """Read the client certificate (a ``(cert, key)`` pair or one combined PEM file) and the
    CA bundle; ``None`` for the CA means the system's trusted roots."""
    roots = _read(ca_cert, "ca_cert") if ca_cert is not None else system_roots()
    chain: bytes | None = None
    key: bytes | None = None
    if isinstance(cert, tuple):
        if len(cert) != 2:
            raise EtcdValueError("cert as a tuple must be (certificate_file, key_file)")
        chain = _read(cert[0], "cert")
        key = _read(cert[1], "cert key")
    elif cert is not None:
        chain, key = split_combined_pem(_read(cert, "cert"), str(cert))
    return TLSMaterial(roots, key, chain, server_name, custom_ca=ca_cert is not None)
