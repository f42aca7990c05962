"""GitHub push deliveries into commit records, release deliveries into release records, and the head
branch of pull requests (webhook and sync)."""

import asyncio
import copy
import hashlib
import hmac
import json
import random
import uuid

import pytest

from flowport_github import GitHubConfig, GitHubPlugin
from flowport_github.normalize import normalize_event
from portal.app import create_app
from portal.flow.models import FlowChange, FlowCommit, FlowRelease
from portal.sync.runner import sync_connection
from tests.conftest import FIXTURES
from tests.sync.conftest import link_component
from tests.sync.fake_github import SLUG, FakeClock, FakeGitHub, make_pull
from tests.webhooks.support import all_rows, at, post_and_process

SECRET = "gh-normalize-secret"
EXAMPLES = FIXTURES / "github" / "octokit-webhooks"
SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", SECRET)
    return create_app(settings)


def fixture(path: str) -> dict:
    return json.loads((EXAMPLES / path).read_bytes())


def signed(event: str, payload: dict) -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    return body, {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                  "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def deliver(app, *events: tuple[str, dict]):  # noqa: ANN001
    return post_and_process(app, "/webhooks/github", [signed(event, payload) for event, payload in events])


def push(ref: str = "refs/heads/master", **changes) -> dict:
    payload = fixture("push/with-new-branch.payload.json")
    payload.update(ref=ref, **changes)
    return payload


def test_a_branch_push_gives_one_commit_record_per_pushed_commit(app, engine):
    report = deliver(app, ("push", push()))
    assert (report.processed, report.failed, report.records) == (1, 0, 1)
    [commit] = all_rows(engine, FlowCommit)
    assert commit.id == f"github:Codertocat/Hello-World:commit:{SHA}"
    assert (commit.source, commit.repository, commit.sha, commit.branch) == (
        "github", "Codertocat/Hello-World", SHA, "master")
    assert (commit.title, commit.author) == ("Initial commit", "Codertocat")
    assert commit.authored_at == at("2019-05-15T15:19:25+00:00")
    assert commit.pushed_at == at("2019-05-15T15:20:57+00:00")  # repository.pushed_at, epoch seconds
    assert (commit.link_annotation, commit.link_value) == ("github.com/project-slug", "codertocat/hello-world")
    assert commit.url == f"https://github.com/Codertocat/Hello-World/commit/{SHA}"


def test_several_commits_each_get_a_record_with_the_first_line_as_title(app, engine):
    payload = push()
    second = copy.deepcopy(payload["commits"][0])
    second.update(id="a" * 40, message="Fix the build\n\nLonger explanation.", timestamp="2019-05-15T17:19:30+02:00")
    payload["commits"].append(second)
    deliver(app, ("push", payload))
    commits = {commit.sha: commit for commit in all_rows(engine, FlowCommit)}
    assert set(commits) == {SHA, "a" * 40}
    assert commits["a" * 40].title == "Fix the build"
    assert commits["a" * 40].authored_at == at("2019-05-15T15:19:30+00:00")


def test_a_push_without_commits_records_its_head_commit(app, engine):
    deliver(app, ("push", push(ref="refs/heads/release", commits=[])))
    [commit] = all_rows(engine, FlowCommit)
    assert (commit.sha, commit.branch, commit.title) == (SHA, "release", "Initial commit")


@pytest.mark.parametrize("payload", [
    push(ref="refs/tags/v1.0.0"),
    push(deleted=True, after="0" * 40, commits=[], head_commit=None),
    push(ref="refs/heads/gone", deleted=True),
])
def test_tag_pushes_and_branch_deletions_give_nothing(app, engine, payload):
    report = deliver(app, ("push", payload))
    assert (report.processed, report.failed, report.records) == (1, 0, 0)
    assert all_rows(engine, FlowCommit) == []


@pytest.mark.parametrize("together", [True, False])
def test_a_commit_keeps_the_branch_and_time_of_its_first_push(app, engine, together):
    feature = push(ref="refs/heads/changes")
    merged = push(ref="refs/heads/master")
    merged["repository"]["pushed_at"] = 1557940000  # the merge, later
    if together:
        deliver(app, ("push", feature), ("push", merged))
    else:
        deliver(app, ("push", feature))
        deliver(app, ("push", merged))
    [commit] = all_rows(engine, FlowCommit)
    assert (commit.branch, commit.pushed_at) == ("changes", at("2019-05-15T15:20:57+00:00"))


def test_pull_requests_know_their_head_branch(app, engine):
    deliver(app, ("pull_request", fixture("pull_request/opened.payload.json")))
    [change] = all_rows(engine, FlowChange)
    assert (change.head_branch, change.base_branch) == ("changes", "master")


def test_a_pull_request_from_a_fork_has_no_head_branch():
    payload = fixture("pull_request/opened.payload.json")
    payload["pull_request"]["head"]["repo"]["full_name"] = "someone/Hello-World"
    [record] = normalize_event("pull_request", payload)
    assert record.values["head_branch"] is None
    payload["pull_request"]["head"]["repo"] = None  # the fork was deleted
    [record] = normalize_event("pull_request", payload)
    assert record.values["head_branch"] is None


def test_pull_sync_fills_the_head_branch(engine):
    link_component(engine, "hello-world", {"github.com/project-slug": SLUG})
    github = FakeGitHub(page_size=2)
    github.pulls = [make_pull(1, updated_minutes=10), make_pull(2, updated_minutes=20, merged=True)]
    github.pulls[1]["head"]["ref"] = "fix-readme"
    clock = FakeClock()
    report = asyncio.run(sync_connection(engine, GitHubPlugin(GitHubConfig(name="default")),
                                         transport=github.transport(), sleep=clock.sleep, clock=clock,
                                         rng=random.Random(1)))
    assert report.ok, report.error
    assert {c.number: c.head_branch for c in all_rows(engine, FlowChange)} == {1: "changes", 2: "fix-readme"}


def release(action: str = "published", **changes) -> dict:
    payload = fixture("release/published.payload.json")
    payload["action"] = action
    payload["release"].update(changes)
    return payload


RELEASE_ID = "github:Codertocat/Hello-World:release:17372790"


def test_a_published_release_gives_a_release_record(app, engine):
    report = deliver(app, ("release", release()))
    assert (report.processed, report.failed, report.records) == (1, 0, 1)
    [stored] = all_rows(engine, FlowRelease)
    assert stored.id == RELEASE_ID
    assert (stored.source, stored.repository, stored.tag, stored.author) == (
        "github", "Codertocat/Hello-World", "0.0.1", "Codertocat")
    # An empty name means GitHub shows the tag; target_commitish names a branch, so no sha.
    assert (stored.name, stored.target, stored.sha) == (None, "master", None)
    assert (stored.draft, stored.prerelease, stored.deleted) == (False, False, False)
    assert stored.created_at == at("2019-05-15T15:19:25+00:00")
    assert stored.published_at == at("2019-05-15T15:20:53+00:00")
    assert stored.url == "https://github.com/Codertocat/Hello-World/releases/tag/0.0.1"
    assert (stored.link_annotation, stored.link_value) == ("github.com/project-slug", "codertocat/hello-world")


def test_a_release_cut_from_a_commit_has_its_sha():
    [record] = normalize_event("release", release(target_commitish=SHA))
    assert (record.values["target"], record.values["sha"]) == (SHA, SHA)
    [record] = normalize_event("release", release(target_commitish=SHA[:7]))
    assert record.values["sha"] is None  # an abbreviated sha may as well be a branch name


def test_a_draft_then_its_publication_update_one_row(app, engine):
    deliver(app, ("release", release("created", draft=True, published_at=None, name="First")))
    [draft] = all_rows(engine, FlowRelease)
    assert (draft.draft, draft.published_at, draft.name) == (True, None, "First")
    deliver(app, ("release", release("published", name="First")))
    [published] = all_rows(engine, FlowRelease)
    assert (published.draft, published.published_at) == (False, at("2019-05-15T15:20:53+00:00"))


def test_a_deleted_release_keeps_its_row_and_is_not_brought_back_by_a_replayed_event(app, engine):
    deliver(app, ("release", release("prereleased", prerelease=True)), ("release", release("deleted", prerelease=True)))
    [deleted] = all_rows(engine, FlowRelease)
    assert (deleted.deleted, deleted.prerelease, deleted.tag) == (True, True, "0.0.1")
    deliver(app, ("release", release("edited", name="Renamed")))
    [after] = all_rows(engine, FlowRelease)
    assert (after.deleted, after.name) == (True, "Renamed")
