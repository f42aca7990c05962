"""A change's firstCommitAt: stored when a tool sends it, else derived from the pushes of its head branch."""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal.app import create_app
from tests.conftest import FIXTURES
from tests.flow.factories import GITHUB, T0, change, commit, make_component, save
from tests.webhooks.support import post_and_process

SECRET = "first-commit-secret"
TOKEN = "first-commit-token"
REPO = "Codertocat/Hello-World"
ENTITY = "component:default/hello-world"


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setenv("FLOWPORT_GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("FLOWPORT_GITLAB_WEBHOOK_SECRET", TOKEN)
    return create_app(settings)


@pytest.fixture
def linked(session):
    make_component(session, "hello-world", {GITHUB: REPO, "gitlab.com/project-slug": "gitlabhq/gitlab-test"})
    return session


def first_commit_of(client, number: int | None = None) -> str | None:
    items = client.get("/api/v1/flow/changes", params={"entity": ENTITY}).json()["items"]
    [item] = [item for item in items if number is None or item["number"] == number]
    return item["firstCommitAt"]


# --- Through the webhooks ----------------------------------------------------------------------


def github(event: str, path: str, **changes) -> tuple[bytes, dict]:
    payload = json.loads((FIXTURES / "github" / "octokit-webhooks" / path).read_bytes())
    payload.update(changes)
    body = json.dumps(payload).encode()
    return body, {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                  "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


# The octokit push example, made a push to the branch the opened PR example comes from.
PUSH = ("push", "push/with-new-branch.payload.json", {"ref": "refs/heads/changes"})
PR_OPENED = ("pull_request", "pull_request/opened.payload.json", {})


@pytest.mark.parametrize("order", [(PUSH, PR_OPENED), (PR_OPENED, PUSH)], ids=["push-first", "pr-first"])
def test_github_push_and_pull_request_in_either_order(app, client, linked, order):
    for event, path, changes in order:
        # Separate worker runs, so the second delivery meets the first one's stored record.
        assert post_and_process(app, "/webhooks/github", [github(event, path, **changes)]).processed == 1
    assert first_commit_of(client) == "2019-05-15T15:19:25Z"


def test_github_pull_request_without_a_push_of_its_branch_has_no_first_commit(app, client, linked):
    post_and_process(app, "/webhooks/github", [github("push", "push/with-new-branch.payload.json"),  # master
                                               github("pull_request", "pull_request/opened.payload.json")])
    assert first_commit_of(client) is None


def gitlab(event: str, path: str, **changes) -> tuple[bytes, dict]:
    payload = json.loads((FIXTURES / "gitlab" / path).read_bytes())
    payload.update(changes)
    return json.dumps(payload).encode(), {"X-Gitlab-Event": event, "X-Gitlab-Token": TOKEN,
                                          "Idempotency-Key": str(uuid.uuid4())}


def gitlab_push() -> tuple[bytes, dict]:
    """The go-gitlab push example, made a push to the merge request example's source branch and project."""
    project = json.loads((FIXTURES / "gitlab/go-gitlab/merge_request.json").read_bytes())["project"]
    return gitlab("Push Hook", "go-gitlab/push.json", ref="refs/heads/ms-viewport", project=project)


@pytest.mark.parametrize("push_first", [True, False])
def test_gitlab_push_and_merge_request_in_either_order(app, client, linked, push_first):
    mr = gitlab("Merge Request Hook", "go-gitlab/merge_request.json")
    for delivery in ([gitlab_push(), mr] if push_first else [mr, gitlab_push()]):
        assert post_and_process(app, "/webhooks/gitlab", [delivery]).processed == 1
    # No push time from GitLab: the author times bound the commits (both are before the MR).
    assert first_commit_of(client) == "2011-12-12T12:27:31Z"


# --- The derivation rules ----------------------------------------------------------------------


def test_a_stored_first_commit_wins_over_pushes(client, linked):
    save(linked, [change(REPO, 1, T0, head_branch="f", first_commit_at=T0 - timedelta(days=3)),
                  commit(REPO, "a" * 40, "f", T0 - timedelta(days=5), T0 - timedelta(days=5))])
    assert first_commit_of(client) == "2024-04-28T12:00:00Z"


def test_only_commits_of_the_same_repository_source_and_head_branch_count(client, linked):
    save(linked, [
        change(REPO, 1, T0, head_branch="feature"),
        commit(REPO, "1" * 40, "feature", T0 - timedelta(hours=5), T0 - timedelta(hours=4)),
        commit(REPO, "2" * 40, "feature", T0 - timedelta(hours=3), T0 - timedelta(hours=2)),
        commit(REPO, "3" * 40, "main", T0 - timedelta(days=9), T0 - timedelta(days=9)),
        commit("octo/other", "4" * 40, "feature", T0 - timedelta(days=9), T0 - timedelta(days=9)),
        commit(REPO, "5" * 40, "feature", T0 - timedelta(days=9), T0 - timedelta(days=9),
               id=f"gitlab:{REPO}:commit:{'5' * 40}", source="gitlab"),
    ])
    assert first_commit_of(client) == "2024-05-01T07:00:00Z"


def test_commits_pushed_after_the_merge_or_close_do_not_count(client, linked):
    save(linked, [
        change(REPO, 1, T0, state="merged", merged_at=T0 + timedelta(hours=1), head_branch="feature"),
        change(REPO, 2, T0, state="closed", closed_at=T0 + timedelta(hours=1), head_branch="spike"),
        change(REPO, 3, T0, head_branch="later"),
        # Authored before, but only pushed after the change was merged or closed.
        commit(REPO, "1" * 40, "feature", T0 - timedelta(days=1), T0 + timedelta(hours=2)),
        commit(REPO, "2" * 40, "feature", T0 - timedelta(hours=1), T0),
        commit(REPO, "3" * 40, "spike", T0 - timedelta(days=1), T0 + timedelta(hours=2)),
        # An open change counts what is pushed until now; GitLab-style commits without a push time use
        # their author time.
        commit(REPO, "4" * 40, "later", datetime.now(UTC) + timedelta(days=1)),
        commit(REPO, "5" * 40, "later", T0 - timedelta(hours=6)),
    ])
    assert first_commit_of(client, 1) == "2024-05-01T11:00:00Z"
    assert first_commit_of(client, 2) is None
    assert first_commit_of(client, 3) == "2024-05-01T06:00:00Z"


def test_a_long_lived_branch_gives_each_change_only_what_was_pushed_after_the_previous_merge(client, linked):
    save(linked, [
        change(REPO, 1, T0 - timedelta(days=10), state="merged", merged_at=T0 - timedelta(days=2),
               head_branch="develop"),
        change(REPO, 2, T0, head_branch="develop"),
        commit(REPO, "1" * 40, "develop", T0 - timedelta(days=12), T0 - timedelta(days=12)),
        commit(REPO, "2" * 40, "develop", T0 - timedelta(days=3), T0 - timedelta(days=1)),  # pushed after #1 merged
        commit(REPO, "3" * 40, "develop", T0 - timedelta(hours=1), T0 - timedelta(hours=1)),
    ])
    assert first_commit_of(client, 1) == "2024-04-19T12:00:00Z"
    assert first_commit_of(client, 2) == "2024-04-28T12:00:00Z"


def test_a_change_without_a_head_branch_has_no_derived_first_commit(client, linked):
    save(linked, [change(REPO, 1, T0), commit(REPO, "1" * 40, None, T0 - timedelta(hours=1))])
    assert first_commit_of(client) is None


def test_the_summary_shows_the_derived_first_commit_too(client, linked):
    save(linked, [change(REPO, 1, T0, head_branch="feature"),
                  commit(REPO, "1" * 40, "feature", T0 - timedelta(hours=5), T0 - timedelta(hours=4))])
    [item] = client.get("/api/v1/flow/summary", params={"entity": ENTITY}).json()["recentChanges"]
    assert item["firstCommitAt"] == "2024-05-01T07:00:00Z"
