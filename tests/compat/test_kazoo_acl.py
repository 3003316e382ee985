"""kazoo: ACLs, digest auth and the super user."""

import pytest
from kazoo.exceptions import BadVersionError, InvalidACLError, NoAuthError
from kazoo.security import (
    CREATOR_ALL_ACL,
    OPEN_ACL_UNSAFE,
    READ_ACL_UNSAFE,
    ACL,
    Id,
    Permissions,
    make_digest_acl,
)

from zkharness import SUPER_PASSWORD, SUPER_USER, digest


def authed(client_factory, user, password):
    c = client_factory()
    c.add_auth("digest", "%s:%s" % (user, password))
    return c


def test_digest_acl_refuses_wrong_and_allows_right(zk, client_factory, base):
    acl = make_digest_acl("alice", "secret", all=True)
    zk.create(base + "/locked", b"private", acl=[acl])
    anon = client_factory()
    wrong = authed(client_factory, "alice", "guess")
    right = authed(client_factory, "alice", "secret")
    for c in (anon, wrong):
        with pytest.raises(NoAuthError):
            c.get(base + "/locked")
        with pytest.raises(NoAuthError):
            c.set(base + "/locked", b"x")
        with pytest.raises(NoAuthError):
            c.get_children(base + "/locked")
        with pytest.raises(NoAuthError):
            c.create(base + "/locked/kid")
        assert c.exists(base + "/locked") is not None  # exists needs no permission
    assert right.get(base + "/locked")[0] == b"private"
    right.set(base + "/locked", b"changed")
    right.create(base + "/locked/kid")
    assert zk.exists(base + "/locked").version == 1


def test_digest_id_format(zk, base):
    acl = make_digest_acl("bob", "pw", read=True, write=True)
    zk.create(base + "/n", acl=[acl])
    # getACL needs READ or ADMIN on the node (3.8)
    with pytest.raises(NoAuthError):
        zk.get_acls(base + "/n")
    zk.add_auth("digest", "bob:pw")
    acls, st = zk.get_acls(base + "/n")
    assert len(acls) == 1
    assert acls[0].id.scheme == "digest"
    # without ADMIN on the node, ZooKeeper masks the digest: "bob:x"
    assert acls[0].id.id == "bob:x"
    assert acls[0].perms == Permissions.READ | Permissions.WRITE
    assert st.aversion == 0
    zk.create(base + "/m", acl=[make_digest_acl("bob", "pw", all=True)])
    acls, _ = zk.get_acls(base + "/m")
    assert acls[0].id.id == digest("bob", "pw")  # with ADMIN: the real digest


def test_get_and_set_acls(zk, base):
    zk.create(base + "/n", b"d")
    acls, st = zk.get_acls(base + "/n")
    assert acls == OPEN_ACL_UNSAFE or list(acls) == list(OPEN_ACL_UNSAFE)
    with pytest.raises(BadVersionError):
        zk.set_acls(base + "/n", READ_ACL_UNSAFE, version=3)
    st2 = zk.set_acls(base + "/n", READ_ACL_UNSAFE, version=0)
    assert st2.aversion == 1 and st2.version == 0
    # ADMIN is checked before the version: NoAuth, not BadVersion
    with pytest.raises(NoAuthError):
        zk.set_acls(base + "/n", OPEN_ACL_UNSAFE, version=0)
    with pytest.raises(NoAuthError):
        zk.set(base + "/n", b"x")  # read-only now
    assert zk.get(base + "/n")[0] == b"d"
    with pytest.raises(NoAuthError):
        zk.set_acls(base + "/n", OPEN_ACL_UNSAFE)  # needs ADMIN


def test_super_user_bypasses_acls(zk, client_factory, base):
    zk.create(base + "/n", b"d", acl=[make_digest_acl("carol", "pw", all=True)])
    su = authed(client_factory, SUPER_USER, SUPER_PASSWORD)
    assert su.get(base + "/n")[0] == b"d"
    su.set(base + "/n", b"by-super")
    su.set_acls(base + "/n", READ_ACL_UNSAFE)
    assert zk.get(base + "/n")[0] == b"by-super"
    su.delete(base + "/n")
    assert zk.exists(base + "/n") is None


def test_wrong_super_password_is_not_super(zk, client_factory, base):
    zk.create(base + "/n", acl=[make_digest_acl("dave", "pw", all=True)])
    c = authed(client_factory, SUPER_USER, "not-" + SUPER_PASSWORD)
    with pytest.raises(NoAuthError):
        c.get(base + "/n")


def test_creator_acl_needs_auth(zk, client_factory, base):
    with pytest.raises(InvalidACLError):
        zk.create(base + "/n", acl=CREATOR_ALL_ACL)
    c = authed(client_factory, "erin", "pw")
    c.create(base + "/n", b"mine", acl=CREATOR_ALL_ACL)
    acls, _ = c.get_acls(base + "/n")
    assert [(a.id.scheme, a.id.id, a.perms) for a in acls] == [
        ("digest", digest("erin", "pw"), Permissions.ALL)
    ]
    with pytest.raises(NoAuthError):
        zk.get(base + "/n")


def test_delete_needs_parent_delete_permission(zk, base):
    no_delete = ACL(Permissions.ALL & ~Permissions.DELETE, Id("world", "anyone"))
    zk.create(base + "/p", acl=[no_delete])
    zk.create(base + "/p/kid")
    with pytest.raises(NoAuthError):
        zk.delete(base + "/p/kid")
    assert zk.exists(base + "/p/kid")


def test_invalid_acl_scheme(zk, base):
    with pytest.raises(InvalidACLError):
        zk.create(base + "/n", acl=[ACL(Permissions.ALL, Id("nosuchscheme", "x"))])
    with pytest.raises(InvalidACLError):  # a digest id must be user:hash
        zk.create(base + "/n", acl=[ACL(Permissions.ALL, Id("digest", "no-colon"))])
    assert zk.exists(base + "/n") is None
