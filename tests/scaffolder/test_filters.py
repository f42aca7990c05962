from __future__ import annotations

import pytest

from portal.scaffolder.filters import FilterError, dump, parse_entity_ref, parse_repo_url, pick, project_slug


def test_parse_repo_url_reads_host_and_query():
    assert parse_repo_url("github.com?repo=x&owner=y") == {"host": "github.com", "owner": "y", "repo": "x"}
    assert parse_repo_url("gitlab.example:8443?owner=g&repo=r") == {
        "host": "gitlab.example:8443", "owner": "g", "repo": "r"}


def test_parse_repo_url_keeps_organization_workspace_and_project():
    assert parse_repo_url("bitbucket.org?workspace=w&project=p&repo=r") == {
        "host": "bitbucket.org", "workspace": "w", "project": "p", "repo": "r"}
    assert parse_repo_url("dev.azure.com?organization=o&project=p&repo=r") == {
        "host": "dev.azure.com", "organization": "o", "project": "p", "repo": "r"}


@pytest.mark.parametrize(("url", "why"), [
    ("github.com?owner=y", "missing repo"),
    ("github.com?repo=x", "missing owner"),
    ("bitbucket.org?repo=x", "missing workspace"),
    ("?owner=y&repo=x", "does not start with a host"),
    ("user@github.com?owner=y&repo=x", "does not start with a host"),
    ("", "needs a location"),
    (None, "an undefined value"),
])
def test_parse_repo_url_refuses_incomplete_locations(url, why):
    with pytest.raises(FilterError, match=why):
        parse_repo_url(url)


def test_project_slug_is_owner_and_repo():
    assert project_slug("github.com?owner=northwind&repo=returns") == "northwind/returns"


@pytest.mark.parametrize(("ref", "options", "expected"), [
    ("group:default/team-a", {}, ("group", "default", "team-a")),
    ("Group:ops/team-a", {}, ("Group", "ops", "team-a")),
    ("group:team-a", {}, ("group", "default", "team-a")),
    ("team-a", {"defaultKind": "group"}, ("group", "default", "team-a")),
    ("team-a", {"defaultKind": "group", "defaultNamespace": "ops"}, ("group", "ops", "team-a")),
    ("ops/team-a", {"defaultKind": "group"}, ("group", "ops", "team-a")),
    ("component:default/a:b", {}, ("component", "default", "a:b")),
    ({"kind": "user", "name": "ann"}, {}, ("user", "default", "ann")),
])
def test_parse_entity_ref(ref, options, expected):
    assert parse_entity_ref(ref, options) == dict(zip(("kind", "namespace", "name"), expected, strict=True))


def test_parse_entity_ref_takes_keyword_options_too():
    assert parse_entity_ref("team-a", defaultKind="group")["kind"] == "group"


@pytest.mark.parametrize(("ref", "why"), [
    ("team-a", "has no kind"),
    (":team-a", "empty kind"),
    ("group:a/b/c", "not of the form"),
    ("group:/b", "not of the form"),
    ("group:default/", "has no name"),
    ("", "needs a reference"),
    (42, "needs a reference"),
])
def test_parse_entity_ref_refuses_malformed_references(ref, why):
    with pytest.raises(FilterError, match=why):
        parse_entity_ref(ref)


def test_pick_follows_dotted_paths_and_gives_nothing_when_absent():
    value = {"a": {"b": [{"c": 1}]}}
    assert pick(value, "a.b.0.c") == 1
    assert pick(value, "a") == {"b": [{"c": 1}]}
    assert pick(value, "a.x") is None
    assert pick("text", "a") is None


def test_dump_is_compact_json_unless_indented():
    assert dump({"a": (1, 2), "b": None}) == '{"a":[1,2],"b":null}'
    assert dump([1], indent=2) == "[\n  1\n]"
