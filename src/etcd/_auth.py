"""Authentication administration: users, roles and their key permissions.

The pure half (checking arguments, building requests, decoding answers) has no I/O and is
unit-tested on its own; :class:`AuthMixin` is the thin shell that sends the requests over
the client's transport.

Secrets hygiene: passwords are only ever copied into the request message that carries
them. No result holds one, no error message or log line quotes one, and no ``repr`` here
can show one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from . import _validation as check
from ._exceptions import EtcdTypeError, EtcdValueError
from ._kv import KeyArg, KeyRange, prefix_end
from ._models import ResponseHeader, decode_header
from ._validation import Timeout
from ._wire import messages as pb
from ._wire import methods

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "AuthMixin",
    "AuthStatus",
    "Permission",
    "PermissionType",
    "Role",
    "User",
]


class PermissionType(enum.IntEnum):
    """What a role may do with the keys of a permission (etcd's ``Permission.Type``)."""

    READ = 0
    WRITE = 1
    READWRITE = 2


# --- results ----------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Permission:
    """One key permission of a role: ``type`` on a single key or on ``[key, range_end)``.

    ``range_end`` is empty for a single key and ``b"\\0"`` for "every key from ``key``
    on"; :attr:`kind` tells which of the shapes the permission has.
    """

    type: PermissionType
    key: bytes
    range_end: bytes = b""

    @property
    def kind(self) -> str:
        """``"key"`` (a single key), ``"prefix"`` (every key starting with ``key``),
        ``"from_key"`` (every key from ``key`` on; ``key == b"\\0"`` means all keys)
        or ``"range"`` (the keys in ``[key, range_end)``)."""
        return permission_kind(self.key, self.range_end)

    @property
    def is_single_key(self) -> bool:
        return self.kind == "key"

    @property
    def is_prefix(self) -> bool:
        return self.kind == "prefix"

    def contains(self, key: str | bytes) -> bool:
        """Whether ``key`` is one of the keys this permission covers."""
        return KeyRange(self.key, self.range_end).contains(check.to_bytes(key, "key"))


@dataclass(slots=True)
class AuthStatus:
    """The answer to :meth:`etcd.Client.auth_status`."""

    enabled: bool
    """Whether the cluster requires authentication."""
    auth_revision: int
    """The revision of the users and roles: it grows with every change to them."""
    header: ResponseHeader


@dataclass(slots=True)
class User:
    """A user and the roles granted to it (never its password)."""

    name: str
    roles: list[str] = field(default_factory=list)
    header: ResponseHeader | None = None


@dataclass(slots=True)
class Role:
    """A role and the key permissions granted to it."""

    name: str
    permissions: list[Permission] = field(default_factory=list)
    header: ResponseHeader | None = None


# --- pure checks --------------------------------------------------------------------------------


def check_name(value: object, what: str) -> str:
    """A user or role name: a non-empty ``str``."""
    if not isinstance(value, str):
        raise EtcdTypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise EtcdValueError(f"{what} must not be empty")
    return value


def check_password(value: object, what: str = "password") -> str:
    """A password: a non-empty ``str``. Error messages never include the value."""
    if not isinstance(value, str):
        raise EtcdTypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise EtcdValueError(f"{what} must not be empty")
    return value


_PERMISSION_NAMES: Final = ", ".join(repr(member.name.lower()) for member in PermissionType)


def permission_type(value: object) -> PermissionType:
    """:class:`PermissionType`, or its name (``"read"``, ``"write"``, ``"readwrite"``)."""
    if isinstance(value, PermissionType):
        return value
    if isinstance(value, str):
        try:
            return PermissionType[value.strip().upper().replace("-", "").replace("_", "")]
        except KeyError:
            pass
        raise EtcdValueError(f"permission must be one of {_PERMISSION_NAMES}, got {value!r}")
    raise EtcdTypeError(
        f"permission must be an etcd.PermissionType or one of {_PERMISSION_NAMES}, "
        f"not {type(value).__name__}"
    )


def permission_range(
    key: object,
    range_end: object = None,
    *,
    prefix: bool = False,
    from_key: bool = False,
) -> KeyRange:
    """The keys a permission covers, named like every other range of this client.

    ``etcd.ALL_KEYS`` stands for every key (stored as ``key=b"\\0"``, ``range_end=b"\\0"``).
    """
    return KeyRange.resolve(key, range_end, prefix=prefix, from_key=from_key)


def permission_kind(key: bytes, range_end: bytes) -> str:
    """See :attr:`Permission.kind`."""
    if not range_end:
        return "key"
    if range_end == b"\0":
        return "from_key"
    if range_end == prefix_end(key):
        return "prefix"
    return "range"


# --- requests (pure) ----------------------------------------------------------------------------


def user_add_request(user: object, secret: object, *, no_password: bool) -> Any:
    """``AuthUserAddRequest`` for a user with a password, or with ``no_password=True``."""
    user = check_name(user, "name")
    if check.boolean(no_password, "no_password"):
        if secret is not None:
            raise EtcdValueError("give either a password or no_password=True, not both")
        return pb.AuthUserAddRequest(name=user, options=pb.UserAddOptions(no_password=True))
    if secret is None:
        raise EtcdValueError(
            "give a password, or no_password=True for a user that can only authenticate "
            "with a client certificate"
        )
    return pb.AuthUserAddRequest(
        name=user, password=check_password(secret), options=pb.UserAddOptions(no_password=False)
    )


def change_password_request(user: object, secret: object) -> Any:
    return pb.AuthUserChangePasswordRequest(
        name=check_name(user, "name"), password=check_password(secret)
    )


def grant_permission_request(
    role: object,
    key: object,
    range_end: object = None,
    *,
    prefix: bool = False,
    from_key: bool = False,
    permission: object = PermissionType.READWRITE,
) -> Any:
    kind = permission_type(permission)
    keys = permission_range(key, range_end, prefix=prefix, from_key=from_key)
    return pb.AuthRoleGrantPermissionRequest(
        name=check_name(role, "role"),
        perm=pb.Permission(permType=int(kind), key=keys.key, range_end=keys.range_end),
    )


def revoke_permission_request(
    role: object,
    key: object,
    range_end: object = None,
    *,
    prefix: bool = False,
    from_key: bool = False,
) -> Any:
    keys = permission_range(key, range_end, prefix=prefix, from_key=from_key)
    return pb.AuthRoleRevokePermissionRequest(
        role=check_name(role, "role"), key=keys.key, range_end=keys.range_end
    )


# --- decoding (pure) ----------------------------------------------------------------------------


def decode_auth_status(response: Any) -> AuthStatus:
    return AuthStatus(
        bool(response.enabled), int(response.authRevision), decode_header(response.header)
    )


def decode_permission(message: Any) -> Permission:
    return Permission(
        PermissionType(message.permType), bytes(message.key), bytes(message.range_end)
    )


def decode_user(user: str, response: Any) -> User:
    return User(user, list(response.roles), decode_header(response.header))


def decode_role(role: str, response: Any) -> Role:
    return Role(
        role, [decode_permission(perm) for perm in response.perm], decode_header(response.header)
    )


# --- the client side ----------------------------------------------------------------------------


class AuthMixin:
    """etcd's ``Auth`` service: turning authentication on and off, users and roles.

    Mixed into :class:`etcd.Client`. Changing users and roles needs the ``root`` role once
    authentication is enabled, so these calls are normally made by a client created with
    the root user's name and password.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        _transport: Transport

        def _call_timeout(self, timeout: float | check._Unset | None) -> float | None: ...

    def _auth_call(self, method: Any, request: Any, timeout: Timeout, *, mutation: bool) -> Any:
        return self._transport.unary(
            method, request, timeout=self._call_timeout(timeout), mutation=mutation
        )

    # --- switching authentication on and off -----------------------------------------------

    def auth_enable(self, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Require authentication from now on (etcd's ``AuthEnable``).

        The server refuses unless a ``root`` user exists and has the ``root`` role. From
        then on, requests without credentials fail with :class:`etcd.EtcdAuthError`: use a
        client created with ``username``/``password``.
        """
        response = self._auth_call(
            methods.AUTH_ENABLE, pb.AuthEnableRequest(), timeout, mutation=True
        )
        return decode_header(response.header)

    def auth_disable(self, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Stop requiring authentication (etcd's ``AuthDisable``; needs the root role)."""
        response = self._auth_call(
            methods.AUTH_DISABLE, pb.AuthDisableRequest(), timeout, mutation=True
        )
        return decode_header(response.header)

    def auth_status(self, *, timeout: Timeout = check.UNSET) -> AuthStatus:
        """Whether authentication is enabled, and the revision of the users and roles."""
        response = self._auth_call(
            methods.AUTH_STATUS, pb.AuthStatusRequest(), timeout, mutation=False
        )
        return decode_auth_status(response)

    # --- users ------------------------------------------------------------------------------

    def user_add(
        self,
        name: str,
        password: str | None = None,
        *,
        no_password: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> ResponseHeader:
        """Create a user with a password, or with ``no_password=True`` one that can only
        authenticate with a TLS client certificate whose common name is its name.

        Exactly one of the two must be given; nothing is sent otherwise.
        """
        request = user_add_request(name, password, no_password=no_password)
        response = self._auth_call(methods.AUTH_USER_ADD, request, timeout, mutation=True)
        return decode_header(response.header)

    def user_get(self, name: str, *, timeout: Timeout = check.UNSET) -> User:
        """A user and its roles; :class:`etcd.EtcdException` if there is no such user."""
        user = check_name(name, "name")
        response = self._auth_call(
            methods.AUTH_USER_GET, pb.AuthUserGetRequest(name=user), timeout, mutation=False
        )
        return decode_user(user, response)

    def user_list(self, *, timeout: Timeout = check.UNSET) -> list[str]:
        """The names of every user, sorted."""
        response = self._auth_call(
            methods.AUTH_USER_LIST, pb.AuthUserListRequest(), timeout, mutation=False
        )
        return list(response.users)

    def user_delete(self, name: str, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Delete a user."""
        request = pb.AuthUserDeleteRequest(name=check_name(name, "name"))
        response = self._auth_call(methods.AUTH_USER_DELETE, request, timeout, mutation=True)
        return decode_header(response.header)

    def user_change_password(
        self, name: str, password: str, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Set a new password for a user (its existing tokens stay valid until they expire)."""
        request = change_password_request(name, password)
        response = self._auth_call(
            methods.AUTH_USER_CHANGE_PASSWORD, request, timeout, mutation=True
        )
        return decode_header(response.header)

    def user_grant_role(
        self, name: str, role: str, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Give a user a role (and so its permissions)."""
        request = pb.AuthUserGrantRoleRequest(
            user=check_name(name, "name"), role=check_name(role, "role")
        )
        response = self._auth_call(methods.AUTH_USER_GRANT_ROLE, request, timeout, mutation=True)
        return decode_header(response.header)

    def user_revoke_role(
        self, name: str, role: str, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Take a role away from a user."""
        request = pb.AuthUserRevokeRoleRequest(
            name=check_name(name, "name"), role=check_name(role, "role")
        )
        response = self._auth_call(methods.AUTH_USER_REVOKE_ROLE, request, timeout, mutation=True)
        return decode_header(response.header)

    # --- roles ------------------------------------------------------------------------------

    def role_add(self, name: str, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Create a role without permissions."""
        request = pb.AuthRoleAddRequest(name=check_name(name, "name"))
        response = self._auth_call(methods.AUTH_ROLE_ADD, request, timeout, mutation=True)
        return decode_header(response.header)

    def role_get(self, name: str, *, timeout: Timeout = check.UNSET) -> Role:
        """A role and its key permissions."""
        role = check_name(name, "name")
        response = self._auth_call(
            methods.AUTH_ROLE_GET, pb.AuthRoleGetRequest(role=role), timeout, mutation=False
        )
        return decode_role(role, response)

    def role_list(self, *, timeout: Timeout = check.UNSET) -> list[str]:
        """The names of every role, sorted."""
        response = self._auth_call(
            methods.AUTH_ROLE_LIST, pb.AuthRoleListRequest(), timeout, mutation=False
        )
        return list(response.roles)

    def role_delete(self, name: str, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Delete a role (users that had it lose its permissions)."""
        request = pb.AuthRoleDeleteRequest(role=check_name(name, "name"))
        response = self._auth_call(methods.AUTH_ROLE_DELETE, request, timeout, mutation=True)
        return decode_header(response.header)

    def role_grant_permission(
        self,
        role: str,
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        permission: PermissionType | str = PermissionType.READWRITE,
        timeout: Timeout = check.UNSET,
    ) -> ResponseHeader:
        """Let ``role`` read, write or both (``permission``) a key or a range of keys.

        The keys are named as for :meth:`etcd.Client.range`: one ``key``, ``[key,
        range_end)``, ``prefix=True``, ``from_key=True``, or ``etcd.ALL_KEYS``. Granting
        again on exactly the same keys replaces the permission's type.
        """
        request = grant_permission_request(
            role, key, range_end, prefix=prefix, from_key=from_key, permission=permission
        )
        response = self._auth_call(
            methods.AUTH_ROLE_GRANT_PERMISSION, request, timeout, mutation=True
        )
        return decode_header(response.header)

    def role_revoke_permission(
        self,
        role: str,
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        timeout: Timeout = check.UNSET,
    ) -> ResponseHeader:
        """Remove the permission of ``role`` on exactly these keys (named as when granted)."""
        request = revoke_permission_request(role, key, range_end, prefix=prefix, from_key=from_key)
        response = self._auth_call(
            methods.AUTH_ROLE_REVOKE_PERMISSION, request, timeout, mutation=True
        )
        return decode_header(response.header)
