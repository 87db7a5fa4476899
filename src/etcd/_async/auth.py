"""Authentication administration: users, roles and their key permissions.

The pure half (checking arguments, building requests, decoding answers) has no I/O and is
unit-tested on its own; :class:`AsyncAuthCalls` is the thin part that sends the requests over
the client's transport.

Secrets hygiene: passwords are only ever copied into the request message that carries
them. No result holds one, no error message or log line quotes one, and no ``repr`` here
can show one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import _core, _wire
from .._core import exceptions as exc
from .._core import validation as check
from .._core.validation import Timeout
from .part import AsyncClientPart

# The models are imported by the calls that use them: most programs never make these
# calls, and they keep ``import etcd`` light.
if TYPE_CHECKING:
    from .._core.auth import AuthStatus, PermissionType, Role, User
    from .._core.keys import KeyArg
    from .._core.responses import ResponseHeader


class AsyncAuthCalls(AsyncClientPart):
    """etcd's ``Auth`` service: turning authentication on and off, users and roles.

    Mixed into :class:`etcd.Client`. Changing users and roles needs the ``root`` role once
    authentication is enabled, so these calls are normally made by a client created with
    the root user's name and password.
    """

    __slots__ = ()

    async def _auth_call(
        self, method: Any, request: Any, timeout: Timeout, *, mutation: bool
    ) -> Any:
        return await self._transport.unary(
            method, request, timeout=self._call_timeout(timeout), mutation=mutation
        )

    # --- switching authentication on and off -----------------------------------------------

    async def auth_enable(self, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Require authentication from now on (etcd's ``AuthEnable``).

        The server refuses unless a ``root`` user exists and has the ``root`` role. From
        then on, requests without credentials fail with :class:`etcd.EtcdAuthError`: use a
        client created with ``username``/``password``.
        """
        response = await self._auth_call(
            _wire.methods.AUTH_ENABLE, _wire.messages.AuthEnableRequest(), timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def auth_disable(self, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Stop requiring authentication (etcd's ``AuthDisable``; needs the root role)."""
        response = await self._auth_call(
            _wire.methods.AUTH_DISABLE, _wire.messages.AuthDisableRequest(), timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def auth_status(self, *, timeout: Timeout = check.UNSET) -> AuthStatus:
        """Whether authentication is enabled, and the revision of the users and roles.

        Members before etcd 3.5 have no such call: there, whether a login is refused as
        "not enabled" tells, and ``auth_revision`` is 0 (unknown).
        """
        from .._core.auth import AuthStatus, decode_auth_status

        try:
            response = await self._auth_call(
                _wire.methods.AUTH_STATUS,
                _wire.messages.AuthStatusRequest(),
                timeout,
                mutation=False,
            )
        except exc.EtcdNotSupported:
            # A login no user can pass: refused as not enabled, or as a wrong password.
            probe = _wire.messages.AuthenticateRequest(name="\0", password="")
            try:
                answer = await self._auth_call(
                    _wire.methods.AUTH_AUTHENTICATE, probe, timeout, mutation=False
                )
            except exc.EtcdAuthNotEnabled:
                return AuthStatus(
                    False, 0, _core.responses.decode_header(_wire.messages.ResponseHeader())
                )
            except exc.EtcdAuthFailed:
                return AuthStatus(
                    True, 0, _core.responses.decode_header(_wire.messages.ResponseHeader())
                )
            return AuthStatus(True, 0, _core.responses.decode_header(answer.header))
        return decode_auth_status(response)

    # --- users ------------------------------------------------------------------------------

    async def user_add(
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
        from .._core.auth import user_add_request

        request = user_add_request(name, password, no_password=no_password)
        response = await self._auth_call(
            _wire.methods.AUTH_USER_ADD, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def user_get(self, name: str, *, timeout: Timeout = check.UNSET) -> User:
        """A user and its roles; :class:`etcd.EtcdException` if there is no such user."""
        from .._core.auth import check_name, decode_user

        user = check_name(name, "name")
        response = await self._auth_call(
            _wire.methods.AUTH_USER_GET,
            _wire.messages.AuthUserGetRequest(name=user),
            timeout,
            mutation=False,
        )
        return decode_user(user, response)

    async def user_list(self, *, timeout: Timeout = check.UNSET) -> list[str]:
        """The names of every user, sorted."""
        response = await self._auth_call(
            _wire.methods.AUTH_USER_LIST,
            _wire.messages.AuthUserListRequest(),
            timeout,
            mutation=False,
        )
        return list(response.users)

    async def user_delete(self, name: str, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Delete a user."""
        from .._core.auth import check_name

        request = _wire.messages.AuthUserDeleteRequest(name=check_name(name, "name"))
        response = await self._auth_call(
            _wire.methods.AUTH_USER_DELETE, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def user_change_password(
        self, name: str, password: str, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Set a new password for a user (its existing tokens stay valid until they expire)."""
        from .._core.auth import change_password_request

        request = change_password_request(name, password)
        response = await self._auth_call(
            _wire.methods.AUTH_USER_CHANGE_PASSWORD, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def user_grant_role(
        self, name: str, role: str, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Give a user a role (and so its permissions)."""
        from .._core.auth import check_name

        request = _wire.messages.AuthUserGrantRoleRequest(
            user=check_name(name, "name"), role=check_name(role, "role")
        )
        response = await self._auth_call(
            _wire.methods.AUTH_USER_GRANT_ROLE, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def user_revoke_role(
        self, name: str, role: str, *, timeout: Timeout = check.UNSET
    ) -> ResponseHeader:
        """Take a role away from a user."""
        from .._core.auth import check_name

        request = _wire.messages.AuthUserRevokeRoleRequest(
            name=check_name(name, "name"), role=check_name(role, "role")
        )
        response = await self._auth_call(
            _wire.methods.AUTH_USER_REVOKE_ROLE, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    # --- roles ------------------------------------------------------------------------------

    async def role_add(self, name: str, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Create a role without permissions."""
        from .._core.auth import check_name

        request = _wire.messages.AuthRoleAddRequest(name=check_name(name, "name"))
        response = await self._auth_call(
            _wire.methods.AUTH_ROLE_ADD, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def role_get(self, name: str, *, timeout: Timeout = check.UNSET) -> Role:
        """A role and its key permissions."""
        from .._core.auth import check_name, decode_role

        role = check_name(name, "name")
        response = await self._auth_call(
            _wire.methods.AUTH_ROLE_GET,
            _wire.messages.AuthRoleGetRequest(role=role),
            timeout,
            mutation=False,
        )
        return decode_role(role, response)

    async def role_list(self, *, timeout: Timeout = check.UNSET) -> list[str]:
        """The names of every role, sorted."""
        response = await self._auth_call(
            _wire.methods.AUTH_ROLE_LIST,
            _wire.messages.AuthRoleListRequest(),
            timeout,
            mutation=False,
        )
        return list(response.roles)

    async def role_delete(self, name: str, *, timeout: Timeout = check.UNSET) -> ResponseHeader:
        """Delete a role (users that had it lose its permissions)."""
        from .._core.auth import check_name

        request = _wire.messages.AuthRoleDeleteRequest(role=check_name(name, "name"))
        response = await self._auth_call(
            _wire.methods.AUTH_ROLE_DELETE, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def role_grant_permission(
        self,
        role: str,
        key: KeyArg,
        range_end: str | bytes | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        permission: PermissionType | str = "readwrite",
        timeout: Timeout = check.UNSET,
    ) -> ResponseHeader:
        """Let ``role`` read, write or both (``permission``) a key or a range of keys.

        The keys are named as for :meth:`etcd.Client.range`: one ``key``, ``[key,
        range_end)``, ``prefix=True``, ``from_key=True``, or ``etcd.ALL_KEYS``. Granting
        again on exactly the same keys replaces the permission's type.
        """
        from .._core.auth import grant_permission_request

        request = grant_permission_request(
            role, key, range_end, prefix=prefix, from_key=from_key, permission=permission
        )
        response = await self._auth_call(
            _wire.methods.AUTH_ROLE_GRANT_PERMISSION, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)

    async def role_revoke_permission(
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
        from .._core.auth import revoke_permission_request

        request = revoke_permission_request(role, key, range_end, prefix=prefix, from_key=from_key)
        response = await self._auth_call(
            _wire.methods.AUTH_ROLE_REVOKE_PERMISSION, request, timeout, mutation=True
        )
        return _core.responses.decode_header(response.header)
