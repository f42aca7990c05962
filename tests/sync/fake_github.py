"""A stub of GitHub's REST API (httpx.MockTransport) serving objects adapted from the real webhook
payloads in the shared fixtures: pages with Link headers, ETags and 304s, and scripted failures."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import FIXTURES
from tests.sync.fake_tool import FakeTool

API = "https://api.github.com"
SLUG = "Codertocat/Hello-World"
REPO_BASE = f"/repos/{SLUG}"
PULLS = f"{REPO_BASE}/pulls"
_EXAMPLES = FIXTURES / "github" / "octokit-webhooks"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _payload(path: str) -> dict:
    return json.loads((_EXAMPLES / path).read_text())


def stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_pull(number: int, updated_minutes: int, merged: bool = False) -> dict:
    """A REST pull request (the webhook's `pull_request` object has the same shape)."""
    pull = copy.deepcopy(_payload("pull_request/closed.payload.json")["pull_request"])
    pull.update(number=number, id=1000 + number, title=f"Change {number}", state="closed" if merged else "open",
                created_at=stamp(updated_minutes - 60), updated_at=stamp(updated_minutes),
                html_url=f"https://github.com/{SLUG}/pull/{number}",
                merged_at=stamp(updated_minutes) if merged else None, closed_at=stamp(updated_minutes) if merged else None)
    pull.pop("merged", None)  # the list endpoint does not include `merged`, only `merged_at`
    return pull


def make_deployment(deployment_id: int, created_minutes: int, environment: str = "production") -> dict:
    deployment = copy.deepcopy(_payload("deployment/payload.json")["deployment"])
    deployment.update(id=deployment_id, environment=environment, created_at=stamp(created_minutes),
                      updated_at=stamp(created_minutes),
                      url=f"{API}{REPO_BASE}/deployments/{deployment_id}",
                      statuses_url=f"{API}{REPO_BASE}/deployments/{deployment_id}/statuses")
    return deployment


def make_status(status_id: int, state: str, created_minutes: int) -> dict:
    status = copy.deepcopy(_payload("deployment_status/payload.json")["deployment_status"])
    status.update(id=status_id, state=state, created_at=stamp(created_minutes), updated_at=stamp(created_minutes))
    return status


def make_run(run_id: int, created_minutes: int, status: str = "completed") -> dict:
    run = copy.deepcopy(_payload("workflow_run/completed.payload.json")["workflow_run"])
    run["repository"]["full_name"] = SLUG
    run.update(id=run_id, status=status, conclusion="success" if status == "completed" else None,
               created_at=stamp(created_minutes), run_started_at=stamp(created_minutes),
               updated_at=stamp(created_minutes + 5))
    return run


def make_issue(number: int, updated_minutes: int, closed: bool = False) -> dict:
    issue = copy.deepcopy(_payload("issues/opened.payload.json")["issue"])
    issue.update(number=number, id=5000 + number, state="closed" if closed else "open",
                 created_at=stamp(updated_minutes - 30), updated_at=stamp(updated_minutes),
                 closed_at=stamp(updated_minutes) if closed else None)
    return issue


def make_commit(sha: str, authored_minutes: int, message: str = "Initial commit") -> dict:
    """A commit as REST's pulls/{n}/commits lists it, built from the push fixture's head commit (same
    person and message, REST's field names: sha, commit.author.date, author.login)."""
    push = _payload("push/with-new-branch.payload.json")
    head, sender = push["head_commit"], push["sender"]
    person = {"name": head["author"]["name"], "email": head["author"]["email"], "date": stamp(authored_minutes)}
    return {
        "sha": sha, "url": f"{API}{REPO_BASE}/commits/{sha}", "html_url": f"https://github.com/{SLUG}/commit/{sha}",
        "commit": {"author": person, "committer": dict(person), "message": message, "comment_count": 0,
                   "tree": {"sha": head["tree_id"], "url": f"{API}{REPO_BASE}/git/trees/{head['tree_id']}"}},
        "author": copy.deepcopy(sender), "committer": copy.deepcopy(sender), "parents": [],
    }


def make_release(release_id: int, created_minutes: int, published_minutes: int | None = None,
                 draft: bool = False, tag: str | None = None) -> dict:
    """A REST release (the webhook's `release` object has the same shape); unpublished when `draft`."""
    release = copy.deepcopy(_payload("release/published.payload.json")["release"])
    tag = tag or f"v1.{release_id}"
    release.update(id=release_id, tag_name=tag, name=f"Release {tag}", draft=draft, created_at=stamp(created_minutes),
                   published_at=None if draft else stamp(published_minutes if published_minutes is not None
                                                          else created_minutes),
                   url=f"{API}{REPO_BASE}/releases/{release_id}",
                   html_url=f"https://github.com/{SLUG}/releases/tag/{tag}")
    return release


class FakeGitHub(FakeTool):
    """Serves lists newest first in pages of `page_size`, answering If-None-Match with 304."""

    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.pulls: list[dict] = []
        self.deployments: list[dict] = []
        self.statuses: dict[int, list[dict]] = {}
        self.runs: list[dict] = []
        self.issues: list[dict] = []
        self.releases: list[dict] = []
        # Commits of each pull request, oldest first as GitHub lists them; a pull request without an entry
        # has one commit, authored an hour before it was opened.
        self.pull_commits: dict[int, list[dict]] = {}
        # What X-RateLimit-Remaining / -Reset say on every answer.
        self.rate_remaining, self.rate_reset = 4990, 4102444800

    def answer(self, request: httpx.Request) -> httpx.Response:
        # GitHub Enterprise Server serves the same API under /api/v3.
        path = request.url.path.removeprefix("/api/v3")
        lists: dict[str, tuple[list[dict], Callable[[list[dict]], object], str]] = {
            f"{REPO_BASE}/pulls": (self.pulls, lambda page: page, "updated_at"),
            f"{REPO_BASE}/issues": (self.issues, lambda page: page, "updated_at"),
            f"{REPO_BASE}/deployments": (self.deployments, lambda page: page, "created_at"),
            f"{REPO_BASE}/releases": (self.releases, lambda page: page, "created_at"),
            f"{REPO_BASE}/actions/runs": (
                self.runs, lambda page: {"total_count": len(self.runs), "workflow_runs": page}, "created_at"),
        }
        if path in lists:
            items, wrap, order = lists[path]
            ordered = sorted(items, key=lambda item: item[order], reverse=True)
            return self._page(request, ordered, wrap)
        if path.startswith(f"{PULLS}/") and path.endswith("/commits"):
            commits = self._commits_of(int(path.split("/")[-2]))
            if commits is None:
                return httpx.Response(404, json={"message": "Not Found"})
            return self._page(request, commits, lambda page: page)
        if path.startswith(f"{REPO_BASE}/deployments/") and path.endswith("/statuses"):
            deployment_id = int(path.split("/")[-2])
            newest_first = sorted(self.statuses.get(deployment_id, []), key=lambda s: s["created_at"], reverse=True)
            return self._json(request, newest_first, {})
        return httpx.Response(404, json={"message": "Not Found",
                                         "documentation_url": "https://docs.github.com/rest"})

    def _commits_of(self, number: int) -> list[dict] | None:
        if number in self.pull_commits:
            return self.pull_commits[number]
        pull = next((pull for pull in self.pulls if pull["number"] == number), None)
        if pull is None:
            return None
        opened = (datetime.strptime(pull["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - T0)
        return [make_commit(f"{number:040x}", int(opened.total_seconds() // 60) - 60)]

    def _page(self, request: httpx.Request, items: list[dict], wrap: Callable[[list[dict]], object]) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        last = max(1, -(-len(items) // self.page_size))
        chunk = items[(page - 1) * self.page_size: page * self.page_size]
        links = []
        if page < last:
            links.append(f'<{request.url.copy_set_param("page", str(page + 1))}>; rel="next"')
            links.append(f'<{request.url.copy_set_param("page", str(last))}>; rel="last"')
        headers = {"Link": ", ".join(links)} if links else {}
        return self._json(request, wrap(chunk), headers)

    def _json(self, request: httpx.Request, body: object, headers: dict) -> httpx.Response:
        content = json.dumps(body).encode()
        etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'
        common = {"ETag": etag, "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(self.rate_remaining),
                  "X-RateLimit-Reset": str(self.rate_reset), **headers}
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers=common)
        return httpx.Response(200, content=content, headers={**common, "Content-Type": "application/json"})

    def paths(self) -> list[str]:
        """Requested paths with their page number, in order, for request-count assertions."""
        return [f"{r.url.path}?page={r.url.params.get('page', '1')}" for r in self.requests]


class FakeClock:
    """An injectable clock whose sleep advances time instead of waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
