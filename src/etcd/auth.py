"""python-etcd's ``etcd.auth``: users, roles and the switch of authentication, on etcd v3.

::

    from etcd import auth

    user = auth.EtcdUser(client, "app")
    user.password = "secret"
    user.roles = {"app-rw"}
    user.write()

    role = auth.EtcdRole(client, "app-rw")
    role.grant("/app/*", "RW")
    role.write()

    auth.Auth(client).active = True

Users and roles are etcd v3's, so ``etcdctl user get app`` shows the same. A v2 path
pattern becomes a v3 key range: ``/app/config`` one key, ``/app/*`` every key starting
with ``/app/``, ``*`` every key; a pattern with a ``*`` elsewhere cannot be kept and
raises :class:`etcd.EtcdNotSupported` (see :mod:`etcd._core.classic_auth`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from ._core import classic_auth
from ._core import exceptions as exc
from ._core.auth import PermissionType

if TYPE_CHECKING:
    from ._sync.client import Client

__all__ = ["Auth", "EtcdAuthBase", "EtcdRole", "EtcdUser"]


@contextmanager
def _missing_is_key_not_found(entity: str, name: str) -> Iterator[None]:
    # python-etcd raised EtcdKeyNotFound (v2's 404) for a user or role that is not there.
    try:
        yield
    except exc.EtcdNotFound as error:
        raise exc.EtcdKeyNotFound(f"{entity} {name!r} not found") from error


class EtcdAuthBase:
    """What users and roles share: a name, and ``read``/``write``/``delete`` of it."""

    entity: ClassVar[str] = "entity"

    def __init__(self, client: Client, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise exc.EtcdValueError(f"a {self.entity} name must be a non-empty str")
        self.client = client
        self.name = name

    @property
    def names(self) -> list[str]:
        """The names of every user (or role) of the cluster."""
        raise NotImplementedError

    def read(self) -> None:
        """Load this user or role from etcd (:class:`etcd.EtcdKeyNotFound` if missing)."""
        raise NotImplementedError

    def write(self) -> None:
        """Create or change this user or role in etcd to match this object."""
        raise NotImplementedError

    def delete(self) -> None:
        """Delete this user or role (:class:`etcd.EtcdKeyNotFound` if missing)."""
        raise NotImplementedError

    def _exists(self) -> bool:
        return self.name in self.names

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class EtcdUser(EtcdAuthBase):
    """A user: its roles, and a password that is only ever written, never read."""

    entity = "user"

    def __init__(self, client: Client, name: str) -> None:
        super().__init__(client, name)
        self._roles: set[str] = set()
        self._password: str | None = None

    @property
    def names(self) -> list[str]:
        return self.client.user_list()

    @property
    def roles(self) -> set[str]:
        return self._roles

    @roles.setter
    def roles(self, roles: Iterable[str]) -> None:
        self._roles = set(roles)

    @property
    def password(self) -> None:
        """Always ``None``: a password is written (set this), never read back."""
        return None

    @password.setter
    def password(self, password: str) -> None:
        self._password = password

    def read(self) -> None:
        with _missing_is_key_not_found("user", self.name):
            self.roles = self.client.user_get(self.name).roles

    def write(self) -> None:
        # The password is forgotten whatever happens, so that it does not linger here.
        password, self._password = self._password, None
        if not self._exists():
            if password is None:
                raise exc.EtcdValueError(f"the new user {self.name!r} needs a password")
            self.client.user_add(self.name, password)
            before: set[str] = set()
        else:
            if password is not None:
                self.client.user_change_password(self.name, password)
            before = set(self.client.user_get(self.name).roles)
        for role in sorted(self._roles - before):
            self.client.user_grant_role(self.name, role)
        for role in sorted(before - self._roles):
            self.client.user_revoke_role(self.name, role)

    def delete(self) -> None:
        with _missing_is_key_not_found("user", self.name):
            self.client.user_delete(self.name)

    def __str__(self) -> str:
        return json.dumps({"user": self.name, "roles": sorted(self._roles)})


class EtcdRole(EtcdAuthBase):
    """A role: the key paths it may read and write, as python-etcd's patterns."""

    entity = "role"

    def __init__(self, client: Client, name: str) -> None:
        super().__init__(client, name)
        self._read_paths: set[str] = set()
        self._write_paths: set[str] = set()

    @property
    def names(self) -> list[str]:
        return self.client.role_list()

    def _permissions(self) -> dict[str, PermissionType]:
        with _missing_is_key_not_found("role", self.name):
            role = self.client.role_get(self.name)
        return {classic_auth.pattern_of(p): p.type for p in role.permissions}

    def read(self) -> None:
        permissions = self._permissions()
        self._read_paths = {
            path for path, kind in permissions.items() if kind != PermissionType.WRITE
        }
        self._write_paths = {
            path for path, kind in permissions.items() if kind != PermissionType.READ
        }

    def write(self) -> None:
        if not self._exists():
            classic_auth.grants_of({}, self._read_paths, self._write_paths)  # checks first
            self.client.role_add(self.name)
            before: dict[str, PermissionType] = {}
        else:
            before = self._permissions()
        for change in classic_auth.grants_of(before, self._read_paths, self._write_paths):
            key, range_end = classic_auth.range_of(change.path)
            if change.type is None:
                self.client.role_revoke_permission(self.name, key, range_end or None)
            else:
                self.client.role_grant_permission(
                    self.name, key, range_end or None, permission=change.type
                )

    def delete(self) -> None:
        with _missing_is_key_not_found("role", self.name):
            self.client.role_delete(self.name)

    def grant(self, path: str, permission: str) -> None:
        """Let the role read (``"R"``), write (``"W"``) or both (``"RW"``) ``path``."""
        classic_auth.range_of(path)
        if "R" in permission.upper():
            self._read_paths.add(path)
        if "W" in permission.upper():
            self._write_paths.add(path)

    def revoke(self, path: str, permission: str) -> None:
        """Take back reading (``"R"``), writing (``"W"``) or both (``"RW"``) of ``path``."""
        if "R" in permission.upper():
            self._read_paths.discard(path)
        if "W" in permission.upper():
            self._write_paths.discard(path)

    @property
    def acls(self) -> dict[str, str]:
        """Each path with ``"R"``, ``"W"`` or ``"RW"``."""
        acls = dict.fromkeys(self._read_paths, "R")
        for path in self._write_paths:
            acls[path] = acls.get(path, "") + "W"
        return acls

    @acls.setter
    def acls(self, acls: dict[str, str]) -> None:
        self._read_paths, self._write_paths = set(), set()
        for path, permission in acls.items():
            self.grant(path, permission)

    def __str__(self) -> str:
        return json.dumps({"role": self.name, "acls": self.acls})


class Auth:
    """Whether the cluster requires authentication: read or set ``active``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @property
    def active(self) -> bool:
        return self.client.auth_status().enabled

    @active.setter
    def active(self, value: Any) -> None:
        if bool(value) == self.active:
            return
        if value:
            self.client.auth_enable()
        else:
            self.client.auth_disable()
