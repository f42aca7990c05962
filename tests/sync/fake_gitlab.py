"""A stub of GitLab's REST v4 API (httpx.MockTransport) for one project, serving objects adapted from the
real hook payloads in the shared fixtures: X-Next-Page (and optionally Link) pagination, RateLimit-*
headers with 429s once the quota is spent, ETags and 304s, scripted failures."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from email.utils import formatdate

import httpx

from tests.conftest import FIXTURES
from tests.sync.fake_github import stamp
from tests.sync.fake_tool import FakeTool

PROJECT = "gitlabhq/gitlab-test"
BASE = "/api/v4/projects/gitlabhq%2Fgitlab-test"
_GO_GITLAB = FIXTURES / "gitlab" / "go-gitlab"


def _payload(name: str) -> dict:
    return json.loads((_GO_GITLAB / name).read_text())


def make_mr(iid: int, updated: int, merged: bool = False, source_branch: str = "ms-viewport") -> dict:
    """A REST merge request from the Merge Request Hook fixture's object_attributes (same fields)."""
    mr = copy.deepcopy(_payload("merge_request.json")["object_attributes"])
    mr.pop("action")
    mr.update(iid=iid, id=9000 + iid, updated_at=stamp(updated), created_at=stamp(updated - 60),
              state="merged" if merged else "opened", merged_at=stamp(updated) if merged else None,
              web_url=mr.pop("url"), merge_commit_sha="a" * 40 if merged else None,
              author={"username": "root"}, source_branch=source_branch)
    return mr


def make_mr_commit(sha: str, authored: int, message: str = "fixed readme\n") -> dict:
    """A commit as REST's merge_requests/:iid/commits lists it, from a Push Hook fixture commit (same
    author and message) under REST's field names (GitLab's API docs: authored_date, author_name, web_url)."""
    hook = _payload("push.json")["commits"][1]
    return {
        "id": sha, "short_id": sha[:8], "title": message.strip().splitlines()[0], "message": message,
        "author_name": hook["author"]["name"], "author_email": hook["author"]["email"],
        "authored_date": stamp(authored), "committer_name": hook["author"]["name"],
        "committer_email": hook["author"]["email"], "committed_date": stamp(authored),
        "created_at": stamp(authored), "parent_ids": [],
        "web_url": f"https://gitlab.example.com/{PROJECT}/-/commit/{sha}",
    }


def make_release(tag: str, created: int, released: int | None = None, sha: str = "b" * 40) -> dict:
    """A REST release as GitLab's Releases API lists it (no fixture exists: fields from GitLab's API docs)."""
    return {
        "tag_name": tag, "name": f"Release {tag}", "description": "## Changes", "created_at": stamp(created),
        "released_at": stamp(released if released is not None else created), "upcoming_release": False,
        "author": {"id": 1, "username": "root", "name": "Administrator"},
        "commit": {"id": sha, "short_id": sha[:8], "title": "Release", "authored_date": stamp(created - 5)},
        "_links": {"self": f"https://gitlab.example.com/{PROJECT}/-/releases/{tag}"},
    }


def make_deployment(deployment_id: int, status: str, created: str, updated: str,
                    environment: str = "production") -> dict:
    """A REST deployment (GitLab's API docs: List project deployments) built from the Deployment Hook
    fixture's deployment, job, commit and user; `created`/`updated` are ISO times with milliseconds, as
    GitLab sends them. The job (`deployable`) is the one that ran it, ended with the same status."""
    hook = _payload("deployment.json")
    sha = hook["commit_url"].rsplit("/", 1)[1]
    user = {key: hook["user"][key] for key in ("id", "name", "username", "avatar_url")}
    user.update(state="active", web_url=hook["user_url"])
    return {
        "id": deployment_id, "iid": deployment_id, "ref": hook["ref"], "sha": sha,
        "created_at": created, "updated_at": updated, "status": status, "user": user,
        "environment": {"id": 9, "name": environment, "slug": environment,
                        "external_url": hook["environment_external_url"], "tier": environment},
        "deployable": {
            "id": hook["deployable_id"] + deployment_id, "status": status, "stage": "deploy", "name": "deploy",
            "ref": hook["ref"], "tag": True, "coverage": None, "allow_failure": False, "created_at": created,
            "started_at": created, "finished_at": updated if status in ("success", "failed", "canceled") else None,
            "web_url": f"{hook['project']['web_url']}/-/jobs/{hook['deployable_id'] + deployment_id}",
            "user": user,
            "commit": {"id": sha, "short_id": hook["short_sha"], "title": hook["commit_title"],
                       "message": hook["commit_title"]},
            "pipeline": {"id": 700 + deployment_id, "sha": sha, "ref": hook["ref"], "status": status},
        },
    }


def change_deployment_status(deployment: dict, status: str, at: str) -> None:
    """What GitLab does when a deployment's status changes (its model's state machine, e.g. through
    `PUT /projects/:id/deployments/:deployment_id`): the row is saved, so `updated_at` moves to `at`."""
    deployment.update(status=status, updated_at=at)


class FakeGitLab(FakeTool):
    """Serves the project's lists in pages of `page_size` in the order asked for (newest first, ties by id
    as GitLab breaks them), and each merge request's commits newest first as GitLab does; If-None-Match is
    answered with 304. With `link_header` the next page is also named in `Link` (GitLab sends both). With
    `rate_limit` and a `clock`, each window of 60 clock seconds allows that many requests; past it GitLab
    answers 429 with Retry-After until the window resets."""

    def __init__(self, page_size: int = 2, *, link_header: bool = False, rate_limit: int = 2000,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.page_size, self.link_header = page_size, link_header
        self.rate_limit, self.clock = rate_limit, clock or (lambda: 1_700_000_000.0)
        self._window_end, self._used = 0.0, 0
        # Called with each request before it is answered (a test changes the tool between two pages).
        self.before_answer: list[Callable[[httpx.Request], None]] = []
        self.merge_requests: list[dict] = []
        self.pipelines: list[dict] = []
        self.deployments: list[dict] = []
        self.issues: list[dict] = []
        self.releases: list[dict] = []
        # Commits of each merge request, oldest first here; served newest first.
        self.mr_commits: dict[int, list[dict]] = {}

    def answer(self, request: httpx.Request) -> httpx.Response:
        limited = self._spend_quota()
        if limited is not None:
            return limited
        for change in self.before_answer:
            change(request)
        path = request.url.raw_path.decode().split("?")[0]
        lists = {f"{BASE}/merge_requests": (self.merge_requests, "updated_at"),
                 f"{BASE}/pipelines": (self.pipelines, "updated_at"),
                 f"{BASE}/deployments": (self.deployments, "updated_at"),
                 f"{BASE}/issues": (self.issues, "updated_at"),
                 f"{BASE}/releases": (self.releases, "created_at")}
        if path in lists:
            items, order = lists[path]
            # The order asked for (order_by, sort), as GitLab honours it; ties by id.
            order = request.url.params.get("order_by", order)
            descending = request.url.params.get("sort", "desc") == "desc"
            return self._page(request, sorted(items, key=lambda item: (item.get(order) or "", item.get("id") or 0),
                                              reverse=descending))
        if path.startswith(f"{BASE}/merge_requests/") and path.endswith("/commits"):
            iid = int(path.split("/")[-2])
            if iid not in self.mr_commits:
                return httpx.Response(404, json={"message": "404 Not found"})
            return self._page(request, list(reversed(self.mr_commits[iid])))
        return httpx.Response(404, json={"message": "404 Project Not Found"})

    def _page(self, request: httpx.Request, items: list[dict]) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        chunk = items[(page - 1) * self.page_size: page * self.page_size]
        has_next = page * self.page_size < len(items)
        content = json.dumps(chunk).encode()
        etag = 'W/"' + hashlib.sha256(content).hexdigest()[:20] + '"'
        headers = {"ETag": etag, "X-Next-Page": str(page + 1) if has_next else "", "X-Page": str(page),
                   "X-Per-Page": str(self.page_size), "X-Prev-Page": str(page - 1) if page > 1 else "",
                   "X-Total": str(len(items)), "X-Total-Pages": str(max(1, -(-len(items) // self.page_size))),
                   **self._rate_headers()}
        if self.link_header:
            links = {"first": 1, "last": max(1, -(-len(items) // self.page_size))}
            if has_next:
                links = {"next": page + 1, **links}
            headers["Link"] = ", ".join(f'<{request.url.copy_set_param("page", n)}>; rel="{rel}"'
                                        for rel, n in links.items())
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers=headers)
        return httpx.Response(200, content=content, headers={**headers, "Content-Type": "application/json"})

    def _spend_quota(self) -> httpx.Response | None:
        """GitLab's rate limit: a 429 with Retry-After once the window's requests are spent."""
        now = self.clock()
        if now >= self._window_end:
            self._window_end, self._used = now + 60, 0
        if self._used >= self.rate_limit:
            return httpx.Response(429, headers={"Retry-After": str(int(self._window_end - now) + 1),
                                                **self._rate_headers()},
                                  json={"message": "Retry later"})
        self._used += 1
        return None

    def _rate_headers(self) -> dict[str, str]:
        """The RateLimit-* headers GitLab.com sends (reset as epoch seconds, and as an HTTP date)."""
        return {"RateLimit-Limit": str(self.rate_limit), "RateLimit-Observed": str(self._used),
                "RateLimit-Remaining": str(max(0, self.rate_limit - self._used)),
                "RateLimit-Reset": str(int(self._window_end)),
                "RateLimit-ResetTime": formatdate(self._window_end, usegmt=True)}

    def paths(self) -> list[str]:
        """Requested paths (decoded) with their page number, in order."""
        return [f"{r.url.path}?page={r.url.params.get('page', '1')}" for r in self.requests]
