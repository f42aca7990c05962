"""The admin role: FLOWPORT_ADMINS parsed strictly; groups resolved with their parents, cycles included."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from portal.auth.admins import is_admin
from portal.catalog.group_tree import groups_with_parents
from portal.auth.identity import identity_for_user
from portal.catalog.store import PreparedEntity, write_entities
from portal.settings import Settings
from tests.auth.people import seed_org


def test_admin_refs_are_normalized_and_anything_else_is_refused():
    settings = Settings(env="test", admins=" User:Alice , group:ops/Platform-Admins,")
    assert settings.admins == ["user:default/alice", "group:ops/platform-admins"]
    for bad in ("alice", "component:default/x", "user:default/", "user:a/b/c", "group:*"):
        with pytest.raises(ValidationError, match="not a user or group ref"):
            Settings(env="test", admins=bad)


@pytest.mark.parametrize("prefix", ["", "FLOWPORT_", "flowport_secret_", "A", "FLOWPORT SECRET"])
def test_the_env_prefix_cannot_be_widened_to_every_variable(prefix):
    with pytest.raises(ValidationError, match="upper-case"):
        Settings(env="test", secret_env_prefix=prefix)


def test_groups_include_every_parent_whichever_side_declared_the_link(session):
    seed_org(session)
    assert groups_with_parents(session, ["group:default/team-runtime"]) == {
        "group:default/team-runtime", "group:default/platform-engineering", "group:default/platform-admins"}
    assert groups_with_parents(session, ["group:default/team-shipments"]) == {"group:default/team-shipments"}


def test_a_cycle_of_groups_ends(session):
    cycle = [{"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": name},
              "spec": {"type": "team", "children": [], "parent": parent}}
             for name, parent in (("a", "b"), ("b", "c"), ("c", "a"))]
    write_entities(session, [PreparedEntity(item, "file:/x.yaml", "file:/x.yaml") for item in cycle])
    session.commit()
    assert groups_with_parents(session, ["group:default/a"]) == {f"group:default/{n}" for n in "abc"}


def test_identity_knows_whether_the_user_is_an_admin(session):
    seed_org(session)
    admins = ["group:default/platform-admins"]
    assert identity_for_user(session, "user:default/alice", admins).is_admin
    assert not identity_for_user(session, "user:default/bruno", admins).is_admin
    assert not identity_for_user(session, "user:default/alice").is_admin
    assert not is_admin(session, "user:default/bruno", [], [])
