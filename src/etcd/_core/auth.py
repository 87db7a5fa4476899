"""Users, roles and permissions: results, checks and request builders (pure, no I/O)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .._wire import messages as pb
from . import validation as check
from .exceptions import EtcdTypeError, EtcdValueError
from .keys import KeyRange, prefix_end
from .responses import ResponseHeader, decode_header

if TYPE_CHECKING:
    pass


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
