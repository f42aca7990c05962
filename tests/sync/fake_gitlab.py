"""A stub of GitLab's REST v4 API (httpx.MockTransport) for one project, serving objects adapted from the
real hook payloads in the shared fixtures: X-Next-Page pagination, ETags and 304s, scripted failures."""

from __future__ import annotations

import copy
import hashlib
import json

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


class FakeGitLab(FakeTool):
    """Serves the project's lists in pages of `page_size` in the order asked for (newest first), and
    each merge request's commits newest first as GitLab does; If-None-Match is answered with 304."""

    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.merge_requests: list[dict] = []
        self.pipelines: list[dict] = []
        self.deployments: list[dict] = []
        self.issues: list[dict] = []
        self.releases: list[dict] = []
        # Commits of each merge request, oldest first here; served newest first.
        self.mr_commits: dict[int, list[dict]] = {}

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        lists = {f"{BASE}/merge_requests": (self.merge_requests, "updated_at"),
                 f"{BASE}/pipelines": (self.pipelines, "updated_at"),
                 f"{BASE}/deployments": (self.deployments, "updated_at"),
                 f"{BASE}/issues": (self.issues, "updated_at"),
                 f"{BASE}/releases": (self.releases, "created_at")}
        if path in lists:
            items, order = lists[path]
            return self._page(request, sorted(items, key=lambda item: item[order], reverse=True))
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
                   "X-Total-Pages": str(max(1, -(-len(items) // self.page_size))), "RateLimit-Remaining": "500"}
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers=headers)
        return httpx.Response(200, content=content, headers={**headers, "Content-Type": "application/json"})

    def paths(self) -> list[str]:
        """Requested paths (decoded) with their page number, in order."""
        return [f"{r.url.path}?page={r.url.params.get('page', '1')}" for r in self.requests]
