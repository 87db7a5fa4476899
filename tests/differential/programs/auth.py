"""etcd.auth: roles with path permissions, users with roles, read back, changed, deleted."""

import etcd
from etcd import auth

client = etcd.Client(host=harness.host, port=harness.port)

role = auth.EtcdRole(client, "differential-rw")
role.grant("/differential/app/*", "RW")
role.grant("/differential/config", "R")
role.write()
read_role = auth.EtcdRole(client, "differential-rw")
read_role.read()
harness.record("acls", sorted(read_role.acls.items()))
harness.record("role listed", "differential-rw" in read_role.names)

user = auth.EtcdUser(client, "differential-user")
user.password = "secret"
user.roles = {"differential-rw"}
user.write()


def roles_of(name):
    read_user = auth.EtcdUser(client, name)
    read_user.read()
    return sorted(read_user.roles)


harness.attempt("roles", lambda: roles_of("differential-user"))
harness.record("password is not read back", user.password)
harness.record("user listed", "differential-user" in user.names)

read_role.revoke("/differential/config", "R")
read_role.write()
again = auth.EtcdRole(client, "differential-rw")
again.read()
harness.record("acls after revoke", sorted(again.acls.items()))
user.roles = set()
harness.attempt("remove the roles", user.write)
harness.attempt("roles after removal", lambda: roles_of("differential-user"))

harness.attempt("read a missing user", lambda: auth.EtcdUser(client, "nobody").read())
harness.attempt("read a missing role", lambda: auth.EtcdRole(client, "nothing").read())
harness.attempt("delete a missing user", lambda: auth.EtcdUser(client, "nobody").delete())
user.delete()
harness.attempt("read the deleted user", lambda: auth.EtcdUser(client, "differential-user").read())
again.delete()
harness.record("auth active", auth.Auth(client).active)
