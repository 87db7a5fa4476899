"""Users, roles and a denied write, end to end, against a throwaway etcd.

Starts an etcd server of its own, creates the ``root`` user with the ``root`` role and
enables authentication; then, as root, gives a ``reader`` user read-only access to the keys
under ``/config/``. The reader can read its keys, and is refused a write and a read
elsewhere.

Run it with ``python examples/auth_roles.py``; it needs an etcd binary (the ``server`` extra
installs one). Real passwords belong in a secret store, not in source code: the ones here
are throwaway values for a throwaway server.
"""

from __future__ import annotations

import secrets

import etcd
from etcd.testing import EtcdServer


def enable_auth(endpoint: str, root_password: str) -> None:
    """Create root (with the root role, which the server insists on) and switch auth on."""
    admin = etcd.Client(endpoints=[endpoint])
    with admin:
        admin.user_add("root", root_password)
        admin.role_add("root")
        admin.user_grant_role("root", "root")
        admin.auth_enable()
        # From here on, this anonymous client is refused: use credentials.


def main() -> int:
    root_password = secrets.token_urlsafe(16)
    reader_password = secrets.token_urlsafe(16)
    with EtcdServer() as server:
        enable_auth(server.endpoint, root_password)
        root = etcd.Client(endpoints=[server.endpoint], username="root", password=root_password)
        with root:
            print(f"auth enabled: {root.auth_status().enabled}")
            root.put("/config/colour", "blue")
            root.put("/secrets/db", "not for readers")

            root.role_add("config-reader")
            root.role_grant_permission("config-reader", "/config/", prefix=True, permission="read")
            root.user_add("reader", reader_password)
            root.user_grant_role("reader", "config-reader")
            for permission in root.role_get("config-reader").permissions:
                print(
                    f"config-reader may {permission.type.name.lower()} "
                    f"{permission.kind} {permission.key.decode()!r}"
                )

            with etcd.Client(
                endpoints=[server.endpoint], username="reader", password=reader_password
            ) as reader:
                value = reader.range("/config/colour").kvs[0].value.decode()
                print(f"reader reads /config/colour = {value!r}")
                try:
                    reader.put("/config/colour", "red")
                except etcd.EtcdPermissionDenied as error:
                    print(f"reader's write refused: {error.details}")
                else:
                    print("the write should have been refused")
                    return 1
                try:
                    reader.range("/secrets/db")
                except etcd.EtcdPermissionDenied:
                    print("reader's read of /secrets/db refused")
                else:
                    print("the read should have been refused")
                    return 1
            assert root.range("/config/colour").kvs[0].value == b"blue"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
