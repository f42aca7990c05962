"""Per-connection scope lists: two GitHub connections each sync only their own repositories, and the
Jira, PagerDuty and GitLab lists narrow (or add to) what the catalog links."""

from __future__ import annotations

import asyncio
import copy
import json
import random
from urllib.parse import unquote

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from flowport_github import GitHubConfig, GitHubPlugin
from flowport_gitlab import GitLabConfig, GitLabPlugin
from flowport_jira import JiraConfig, JiraPlugin
from flowport_pagerduty import PagerDutyConfig, PagerDutyPlugin
from portal.flow.models import FlowChange
from portal.plugins.registry import build_registry
from portal.sync.runner import sync_connection
from portal.sync.scope import SyncScope, compile_pattern
from tests.sync.conftest import link_component
from tests.sync.fake_github import FakeClock, make_pull

GHE = "https://ghe.example.com/api/v3"
# Which repositories each host really has; anything else answers 404 as GitHub does.
HOSTS = {"api.github.com": {"codertocat/hello-world", "octo-org/api"},
         "ghe.example.com": {"ghe-org/payments", "ghe-org/ledger"}}


def github_hosts(seen: list[httpx.Request]) -> httpx.MockTransport:
    """github.com and a GitHub Enterprise host: one pull request per repository, empty other lists."""
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path.removeprefix("/api/v3")
        owner, name, resource = (path.split("/", 5) + ["", ""])[2:5]
        slug = f"{owner}/{name}"
        if slug.lower() not in HOSTS.get(request.url.host, set()):
            return httpx.Response(404, json={"message": "Not Found"})
        if resource == "pulls":
            pull = copy.deepcopy(make_pull(1, 10))
            pull["base"]["repo"]["full_name"] = slug
            return httpx.Response(200, json=[pull])
        return httpx.Response(200, json={"total_count": 0, "workflow_runs": []} if resource == "actions" else [])

    return httpx.MockTransport(handle)


def run(engine, plugin, transport):
    clock = FakeClock()
    return asyncio.run(sync_connection(engine, plugin, transport=transport, sleep=clock.sleep, clock=clock,
                                       rng=random.Random(2)))


def repos_requested(seen: list[httpx.Request]) -> set[str]:
    return {f"{r.url.host}:" + "/".join(r.url.path.removeprefix("/api/v3").split("/")[2:4]) for r in seen}


@pytest.fixture
def linked(engine):
    """The catalog links repositories of both hosts, and one that neither connection lists."""
    for name, slug in [("hello", "Codertocat/Hello-World"), ("api", "octo-org/api"),
                       ("payments", "ghe-org/payments"), ("stranger", "someone-else/tool")]:
        link_component(engine, name, {"github.com/project-slug": slug})


def test_two_github_connections_each_sync_only_their_repositories(engine, linked):
    dotcom = GitHubPlugin(GitHubConfig(name="default", token="ghp_1",
                                       repositories=["Codertocat/*", "octo-org/api"]))
    enterprise = GitHubPlugin(GitHubConfig(name="enterprise", api_url=GHE, token="ghe_2",
                                           repositories="ghe-org/*, ghe-org/ledger"))
    seen_dotcom: list[httpx.Request] = []
    seen_enterprise: list[httpx.Request] = []

    first = run(engine, dotcom, github_hosts(seen_dotcom))
    second = run(engine, enterprise, github_hosts(seen_enterprise))

    assert first.ok and second.ok, (first.error, second.error)
    assert repos_requested(seen_dotcom) == {"api.github.com:Codertocat/Hello-World", "api.github.com:octo-org/api"}
    # ghe-org/ledger is listed by name, so it is synced although no entity links it yet.
    assert repos_requested(seen_enterprise) == {"ghe.example.com:ghe-org/payments", "ghe.example.com:ghe-org/ledger"}
    assert all(r.headers["authorization"] == "Bearer ghe_2" for r in seen_enterprise)
    # Five lists and one pull request's commits per repository, no 404 anywhere.
    assert len(seen_dotcom) == len(seen_enterprise) == 12
    with Session(engine) as session:
        changes = session.execute(select(FlowChange.repository, FlowChange.connection)).all()
    assert sorted(changes) == [("Codertocat/Hello-World", "default"), ("ghe-org/ledger", "enterprise"),
                               ("ghe-org/payments", "enterprise"), ("octo-org/api", "default")]


def test_without_lists_both_connections_try_every_linked_repository(engine, linked):
    """Today's behaviour when no list is given (and why the lists exist): 404s for the other host's repos."""
    seen: list[httpx.Request] = []
    report = run(engine, GitHubPlugin(GitHubConfig(name="enterprise", api_url=GHE)), github_hosts(seen))
    assert report.error.startswith("TargetsUnavailable: Codertocat/Hello-World: HTTP 404")
    assert repos_requested(seen) >= {"ghe.example.com:octo-org/api", "ghe.example.com:someone-else/tool"}


def test_jira_projects_narrow_the_search_and_add_unlinked_keys(engine):
    link_component(engine, "bbcom", {"jira/project-key": "BBCOM"})
    link_component(engine, "ops", {"jira/project-key": "OPS"})
    bodies: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"issues": [], "isLast": True})

    plugin = JiraPlugin(JiraConfig(site_url="https://acme.atlassian.net", projects=["bb*", "NEW"]))
    assert run(engine, plugin, httpx.MockTransport(handle)).ok
    assert bodies[0]["jql"] == 'project in ("BBCOM", "NEW") ORDER BY updated ASC'


def test_pagerduty_services_narrow_the_incident_query(engine):
    link_component(engine, "pig", {"pagerduty.com/service-id": "PA2P440"})
    link_component(engine, "other", {"pagerduty.com/service-id": "POTHER1"})
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"incidents": [], "more": False})

    assert run(engine, PagerDutyPlugin(PagerDutyConfig(services=["PA2P440"])), httpx.MockTransport(handle)).ok
    assert seen[0].url.params.get_list("service_ids[]") == ["PA2P440"]


def test_gitlab_double_star_covers_subgroups(engine):
    for name, path in [("a", "platform/api"), ("b", "platform/infra/terraform"), ("c", "sales/crm")]:
        link_component(engine, name, {"gitlab.com/project-slug": path})
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    assert run(engine, GitLabPlugin(GitLabConfig(repositories=["platform/**"])), httpx.MockTransport(handle)).ok
    projects = {unquote(r.url.raw_path.decode().split("/")[4]) for r in seen}
    assert projects == {"platform/api", "platform/infra/terraform"}


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("octo-org/*", "Octo-Org/API", True),
    ("octo-org/*", "octo-org/sub/api", False),
    ("group/**", "group/sub/api", True),
    ("svc-?", "svc-1", True),
    ("svc-?", "svc-12", False),
    ("a.b/c", "aXb/c", False),
])
def test_patterns_match_per_segment_and_ignore_case(pattern, value, matches):
    assert bool(compile_pattern(pattern).fullmatch(value)) is matches


def test_a_scope_keeps_matching_links_and_adds_listed_names():
    scope = SyncScope("github.com/project-slug", ("octo-org/*", "Other/Repo", "octo-org/api"))
    assert scope.select(["octo-org/API", "other/repo", "else/x"]) == ["octo-org/API", "other/repo"]
    assert scope.select([]) == ["Other/Repo", "octo-org/api"]


@pytest.mark.parametrize(("model", "field", "bad"), [
    (GitHubConfig, "repositories", "octo-org"),
    (GitHubConfig, "repositories", "octo org/api"),
    (GitHubConfig, "repositories", "a/b/c"),
    (GitLabConfig, "repositories", "/group/project"),
    (JiraConfig, "projects", "1ABC"),
    (PagerDutyConfig, "services", "P-1"),
])
def test_bad_patterns_are_refused_with_the_field_and_an_example(model, field, bad):
    with pytest.raises(ValidationError) as raised:
        model(**{field: [bad]})
    [problem] = raised.value.errors()
    assert problem["loc"] == (field,)
    assert repr(bad) in problem["msg"] and "write it like" in problem["msg"]


def test_env_vars_give_the_lists_comma_separated():
    registry = build_registry({"FLOWPORT_GITHUB_TOKEN": "t", "FLOWPORT_GITHUB_REPOSITORIES": "octo-org/*, octo-org/api",
                               "FLOWPORT_JIRA_PROJECTS": "SHIP,OPS", "FLOWPORT_PAGERDUTY_SERVICES": "PSHIP01"})
    assert registry.connection("github").config.repositories == ["octo-org/*", "octo-org/api"]
    assert registry.connection("jira").config.projects == ["SHIP", "OPS"]
    assert registry.connection("pagerduty").config.services == ["PSHIP01"]


def test_a_bad_env_list_is_shown_on_the_plugin_status():
    registry = build_registry({"FLOWPORT_GITHUB_REPOSITORIES": "not-a-repo"})
    assert registry.connection("github") is None
    assert "'not-a-repo' is not a repository name or pattern" in registry.status["github"].error
