"""Release pull sync against the stubbed GitHub and GitLab APIs: pages, 304s and what is stored."""

from __future__ import annotations

import asyncio
import json
import random

from sqlalchemy import select
from sqlmodel import Session

from flowport_gitlab import GitLabConfig, GitLabPlugin
from portal.flow.models import FlowRelease
from portal.sync.models import SyncStateRow
from portal.sync.runner import sync_connection
from tests.sync.conftest import link_component
from tests.sync.fake_github import REPO_BASE, SLUG, make_release
from tests.sync.fake_gitlab import PROJECT, FakeGitLab
from tests.sync.fake_gitlab import make_release as make_gitlab_release

RELEASES = f"{REPO_BASE}/releases"


def sync(engine, plugin, transport, clock):
    return asyncio.run(sync_connection(engine, plugin, transport=transport, sleep=clock.sleep, clock=clock,
                                       rng=random.Random(1)))


def releases(engine) -> dict[str, FlowRelease]:
    with Session(engine) as session:
        return {row.tag: row for row in session.execute(select(FlowRelease)).scalars().all()}


def cursor(engine, resource: str) -> dict:
    with Session(engine) as session:
        row = session.execute(select(SyncStateRow).where(SyncStateRow.resource == resource)).scalar_one()
    return json.loads(row.cursor)


def release_pages(github) -> list[str]:
    return [path for path in github.paths() if path.split("?")[0] == RELEASES]


def test_github_releases_are_read_over_pages_and_an_unchanged_list_costs_one_304(
        engine, linked_repo, github, github_plugin, clock):
    github.releases = [make_release(n, created_minutes=n * 10) for n in range(1, 6)]
    github.releases[0]["target_commitish"] = "c" * 40
    report = sync(engine, github_plugin, github.transport(), clock)
    assert report.ok, report.error
    assert release_pages(github) == [f"{RELEASES}?page=1", f"{RELEASES}?page=2", f"{RELEASES}?page=3"]
    stored = releases(engine)
    assert sorted(stored) == ["v1.1", "v1.2", "v1.3", "v1.4", "v1.5"]
    first = stored["v1.1"]
    # Ids as the webhook gives them (the repository spelled by GitHub, from the release's API URL).
    assert first.id == f"github:{SLUG}:release:1" and first.repository == SLUG
    assert (first.sha, first.target, first.author, first.draft) == ("c" * 40, "c" * 40, "Codertocat", False)
    assert (first.link_annotation, first.link_value) == ("github.com/project-slug", SLUG.lower())
    assert stored["v1.2"].sha is None and stored["v1.2"].target == "master"
    assert cursor(engine, f"{SLUG}:releases") == {"since": "2024-03-01T12:50:00+00:00"}

    github.requests.clear()
    report = sync(engine, github_plugin, github.transport(), clock)
    assert release_pages(github) == [f"{RELEASES}?page=1"]
    assert github.requests[-1].headers.get("if-none-match")
    assert report.not_modified == report.requests and report.records == 0


def test_a_new_release_and_a_published_draft_are_picked_up_from_the_first_page(
        engine, linked_repo, github, github_plugin, clock):
    github.releases = [make_release(n, created_minutes=n * 10) for n in range(1, 5)]
    github.releases.append(make_release(5, created_minutes=45, draft=True))
    sync(engine, github_plugin, github.transport(), clock)
    assert releases(engine)["v1.5"].draft and releases(engine)["v1.5"].published_at is None

    # The draft is published later, and a new release is made.
    github.releases[-1] = make_release(5, created_minutes=45, published_minutes=90)
    github.releases.append(make_release(6, created_minutes=80))
    github.requests.clear()
    sync(engine, github_plugin, github.transport(), clock)
    # Newest created first: page 1 holds both (6 and 5), page 2 reaches the older v1.4 and ends the walk.
    assert release_pages(github) == [f"{RELEASES}?page=1", f"{RELEASES}?page=2"]
    stored = releases(engine)
    assert len(stored) == 6
    assert (stored["v1.5"].draft, stored["v1.5"].published_at.isoformat()) == (False, "2024-03-01T13:30:00+00:00")
    assert cursor(engine, f"{SLUG}:releases") == {"since": "2024-03-01T13:30:00+00:00"}


def test_gitlab_releases_are_read_newest_created_first(engine, clock):
    link_component(engine, "gitlab-test", {"gitlab.com/project-slug": PROJECT})
    gitlab = FakeGitLab(page_size=2)
    gitlab.releases = [make_gitlab_release(f"v2.{n}", created=n * 10) for n in range(1, 4)]
    report = sync(engine, GitLabPlugin(GitLabConfig(token="glpat-test")), gitlab.transport(), clock)
    assert report.ok, report.error
    listed = [r for r in gitlab.requests if r.url.path.endswith("/releases")]
    assert [r.url.params.get("page", "1") for r in listed] == ["1", "2"]
    assert (listed[0].url.params["order_by"], listed[0].url.params["sort"]) == ("created_at", "desc")
    stored = releases(engine)
    assert sorted(stored) == ["v2.1", "v2.2", "v2.3"]
    release = stored["v2.3"]
    assert release.id == f"gitlab:{PROJECT}:release:v2.3"
    assert (release.sha, release.author, release.deleted, release.draft) == ("b" * 40, "root", False, False)
    assert release.url == f"https://gitlab.example.com/{PROJECT}/-/releases/v2.3"
    assert release.published_at.isoformat() == "2024-03-01T12:30:00+00:00"

    gitlab.requests.clear()
    report = sync(engine, GitLabPlugin(GitLabConfig(token="glpat-test")), gitlab.transport(), clock)
    assert [r.url.path.rsplit("/", 1)[1] for r in gitlab.requests] == [
        "merge_requests", "pipelines", "deployments", "issues", "releases"]
    assert report.not_modified == 5 and report.records == 0


def test_a_gitlab_release_deleted_by_its_hook_is_back_when_the_api_lists_its_tag(engine, clock):
    from flowport_gitlab.normalize import release_record
    from portal.flow.writer import write_records

    link_component(engine, "gitlab-test", {"gitlab.com/project-slug": PROJECT})
    with Session(engine) as session:
        write_records(session, [release_record(PROJECT, make_gitlab_release("v3.0", created=0), "delete")])
        session.commit()
    assert releases(engine)["v3.0"].deleted
    gitlab = FakeGitLab()
    gitlab.releases = [make_gitlab_release("v3.0", created=30)]
    sync(engine, GitLabPlugin(GitLabConfig()), gitlab.transport(), clock)
    assert not releases(engine)["v3.0"].deleted
