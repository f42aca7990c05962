"""GitHub webhook payloads (and REST objects of the same shape) to flow records.

Ids: `github:<owner/repo>#<number>` for pull requests, `github:<owner/repo>#issue-<number>` for issues,
`github:<owner/repo>:<deployment|run|check_suite|commit|release>:<id or sha>` for the rest. A branch push
yields one commit record per pushed commit; tag pushes, branch deletions and pings yield none."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from portal.flow.payload_shape import readable_errors
from portal.flow.records import FlowRecord, environment_tier, first_line, parse_time, pushed_branch

LINK_ANNOTATION = "github.com/project-slug"

_DEPLOYMENT_STATES = {
    "success": "success", "failure": "failure", "error": "failure", "in_progress": "running",
    "queued": "pending", "pending": "pending", "inactive": None,  # inactive = superseded, keep outcome
}
_RUN_CONCLUSIONS = {
    "success": "success", "failure": "failure", "timed_out": "failure", "startup_failure": "failure",
    "cancelled": "cancelled", "skipped": "cancelled", "neutral": "success", "stale": "cancelled",
}
# Conclusions that do not end the run: it waits for someone (an approval), then runs under the same id.
_WAITING_CONCLUSIONS = frozenset({"action_required"})


# A full commit id (SHA-1, or SHA-256 for repositories using it), as opposed to a branch name.
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


def _base(repo: dict, record_id: str, url: str | None, updated: object) -> dict:
    return {
        "id": record_id, "source": "github", "link_annotation": LINK_ANNOTATION,
        "link_value": repo["full_name"].lower(), "url": url, "source_updated_at": parse_time(updated),
    }


def pull_request_record(repo: dict, pr: dict, connection: str = "default") -> FlowRecord:
    """A PR as a change: merged, closed or open."""
    state = "merged" if pr.get("merged") or pr.get("merged_at") else pr.get("state", "open")
    state = state if state in ("open", "closed", "merged") else "open"
    values = _base(repo, f"github:{repo['full_name']}#{pr['number']}", pr.get("html_url"), pr.get("updated_at"))
    values.update({
        "connection": connection, "repository": repo["full_name"], "number": pr["number"],
        "title": pr.get("title"), "author": (pr.get("user") or {}).get("login"), "state": state,
        "created_at": parse_time(pr.get("created_at")), "merged_at": parse_time(pr.get("merged_at")),
        # A reopened PR keeps no close time (lifecycle.py clears the stored one too).
        "closed_at": parse_time(pr.get("closed_at")) if state != "open" else None,
        # GitHub fills merge_commit_sha with a test-merge commit on open PRs: only trust it once merged.
        "merge_sha": pr.get("merge_commit_sha") if state == "merged" else None,
        "base_branch": (pr.get("base") or {}).get("ref"),
        "head_branch": _head_branch(repo, pr.get("head") or {}),
    })
    return FlowRecord("change", values)


def _head_branch(repo: dict, head: dict) -> str | None:
    """The PR's source branch, when it lives in this repository: a fork's pushes never reach its hooks,
    and its `main` must not be mistaken for this repository's."""
    if "repo" in head:
        head_repo = (head.get("repo") or {}).get("full_name")  # None once the fork is deleted
        if not head_repo or head_repo.lower() != repo["full_name"].lower():
            return None
    return head.get("ref")


def push_records(repo: dict, payload: dict, connection: str = "default") -> list[FlowRecord]:
    """One commit record per commit of a branch push (the head commit when the list is empty)."""
    branch = pushed_branch(payload.get("ref"))
    if branch is None or payload.get("deleted"):
        return []
    commits = [c for c in payload.get("commits") or [] if isinstance(c, dict) and c.get("id")]
    head = payload.get("head_commit")
    if not commits and isinstance(head, dict) and head.get("id"):
        commits = [head]
    # In push events repository.pushed_at is the time of this push (epoch seconds).
    pushed = parse_time(repo.get("pushed_at"))
    return [commit_record(repo, commit, branch, pushed, connection) for commit in commits]


def commit_record(repo: dict, commit: dict, branch: str, pushed: object, connection: str = "default") -> FlowRecord:
    """A pushed commit; its branch and push time are those of the first push that brought it."""
    author = commit.get("author") or {}
    values = _base(repo, f"github:{repo['full_name']}:commit:{commit['id']}", commit.get("url"), pushed)
    values.update({
        "connection": connection, "repository": repo["full_name"], "sha": commit["id"],
        "title": first_line(commit.get("message")), "author": author.get("username") or author.get("name"),
        "authored_at": parse_time(commit.get("timestamp")),
    })
    # Insert-only: the push merging a branch lists its commits again, and must not move them to the base branch.
    return FlowRecord("commit", values, defaults={"branch": branch, "pushed_at": parse_time(pushed)})


def pull_request_commit_record(repo: dict, item: dict, branch: str | None, connection: str = "default") -> FlowRecord:
    """A commit of a pull request as REST's pulls/{n}/commits lists it: the same record as when it is pushed.
    Its branch (the PR's head branch) only fills a new row, so a push seen earlier keeps its own."""
    commit = item.get("commit") or {}
    author = commit.get("author") or {}
    values = _base(repo, f"github:{repo['full_name']}:commit:{item['sha']}", item.get("html_url"), None)
    values.update({
        "connection": connection, "repository": repo["full_name"], "sha": item["sha"],
        "title": first_line(commit.get("message")),
        "author": (item.get("author") or {}).get("login") or author.get("name"),
        "authored_at": parse_time(author.get("date")),
    })
    return FlowRecord("commit", values, defaults={"branch": branch, "pushed_at": None})


def first_commit_record(repo: dict, number: int, first_commit_at: datetime,
                        connection: str = "default") -> FlowRecord:
    """Sets the first commit time of a pull request already stored (by the page that listed it)."""
    values = _base(repo, f"github:{repo['full_name']}#{number}", None, None)
    values.update({"connection": connection, "repository": repo["full_name"], "number": number,
                   "first_commit_at": first_commit_at})
    # `state` is required of a new row but must not touch the stored one: insert-only.
    return FlowRecord("change", values, defaults={"state": "open"})


def release_record(repo: dict, release: dict, action: str | None = None, connection: str = "default") -> FlowRecord:
    """A release (drafts included). `deleted` keeps the row and flags it: GitHub never reuses a release id,
    so nothing can bring a deleted one back, and an event replayed later must not either."""
    target = release.get("target_commitish")
    values = _base(repo, f"github:{repo['full_name']}:release:{release['id']}", release.get("html_url"), None)
    values.update({
        "connection": connection, "repository": repo["full_name"], "tag": release["tag_name"],
        "name": release.get("name") or None, "target": target,
        # target_commitish is usually a branch (the release was cut from its head, which moves on).
        "sha": target if isinstance(target, str) and _FULL_SHA.match(target) else None,
        "author": (release.get("author") or {}).get("login"),
        "draft": release.get("draft"), "prerelease": release.get("prerelease"),
        "created_at": parse_time(release.get("created_at")), "published_at": parse_time(release.get("published_at")),
        "deleted": True if action == "deleted" else None,
    })
    return FlowRecord("release", values, defaults={"draft": False, "prerelease": False, "deleted": False})


def deployment_record(repo: dict, deployment: dict, status: dict | None = None,
                      connection: str = "default") -> FlowRecord:
    """A deployment, with the outcome of a deployment_status when there is one."""
    environment = (status or {}).get("environment") or deployment.get("environment") or "unknown"
    updated = (status or deployment).get("updated_at") or (status or deployment).get("created_at")
    values = _base(repo, f"github:{repo['full_name']}:deployment:{deployment['id']}",
                   (status or {}).get("target_url") or deployment.get("url"), updated)
    # A state GitHub adds later is stored as `unknown` (with its time), never as a pending deployment.
    outcome = _DEPLOYMENT_STATES.get(status.get("state"), "unknown") if status else None
    values.update({
        "connection": connection, "repository": repo["full_name"], "environment": environment,
        "tier": environment_tier(environment), "sha": deployment.get("sha"), "ref": deployment.get("ref"),
        "status": outcome, "started_at": parse_time(deployment.get("created_at")),
        "finished_at": parse_time(status.get("created_at")) if outcome in ("success", "failure", "unknown") else None,
    })
    # A bare deployment event says nothing about the outcome: "pending" only for a new row.
    return FlowRecord("deployment", values, defaults={"status": "pending"})


def _run_status(status: str | None, conclusion: str | None) -> str:
    if status == "completed":
        if conclusion in _WAITING_CONCLUSIONS:
            return "queued"
        # A conclusion GitHub adds later is an honest `unknown`, not a failure.
        return _RUN_CONCLUSIONS.get(conclusion or "", "unknown")
    if status in ("action_required", "waiting", "requested", "pending", "queued"):
        return "queued"
    return "running" if status == "in_progress" else "queued"


def _workflow_name(run: dict, workflow: dict | None) -> str:
    """The workflow's name: `workflow_run.name` (REST and webhooks), else the event's `workflow.name`, else
    its file. Never `display_title`: that is the commit title or PR title that triggered the run."""
    for name in (run.get("name"), (workflow or {}).get("name")):
        if isinstance(name, str) and name.strip():
            return name
    path = run.get("path") or (workflow or {}).get("path")
    return path.rsplit("/", 1)[-1] if isinstance(path, str) and path else "workflow"


def _run_times(run: dict, finished_run: bool) -> tuple:
    """Start and finish of a run; a start after the finish (a re-run's run_started_at) falls back to created_at."""
    finished = parse_time(run.get("updated_at")) if finished_run else None
    started = parse_time(run.get("run_started_at")) or parse_time(run.get("created_at"))
    if finished is not None and started is not None and started > finished:
        created = parse_time(run.get("created_at"))
        started = created if created is not None and created <= finished else None
    return started, finished


def workflow_run_record(repo: dict, run: dict, connection: str = "default", workflow: dict | None = None) -> FlowRecord:
    status = _run_status(run.get("status"), run.get("conclusion"))
    started, finished = _run_times(run, finished_run=run.get("status") == "completed" and status != "queued")
    values = _base(repo, f"github:{repo['full_name']}:run:{run['id']}", run.get("html_url"), run.get("updated_at"))
    values.update({
        "connection": connection, "repository": repo["full_name"], "name": _workflow_name(run, workflow),
        "ref": run.get("head_branch"), "sha": run.get("head_sha"), "status": status,
        "started_at": started, "finished_at": finished,
    })
    return FlowRecord("pipeline_run", values)


def check_suite_record(repo: dict, suite: dict, connection: str = "default") -> FlowRecord:
    status = _run_status(suite.get("status"), suite.get("conclusion"))
    app_name = (suite.get("app") or {}).get("name") or "checks"
    values = _base(repo, f"github:{repo['full_name']}:check_suite:{suite['id']}", suite.get("url"),
                   suite.get("updated_at"))
    values.update({
        "connection": connection, "repository": repo["full_name"], "name": app_name,
        "ref": suite.get("head_branch"), "sha": suite.get("head_sha"), "status": status,
        "started_at": parse_time(suite.get("created_at")),
        "finished_at": parse_time(suite.get("updated_at")) if suite.get("status") == "completed" else None,
    })
    return FlowRecord("pipeline_run", values)


def _login(user: object) -> str | None:
    return user.get("login") if isinstance(user, dict) else None


def issue_records(repo: dict, issue: dict, action: str | None, connection: str = "default",
                  actor: dict | None = None) -> list[FlowRecord]:
    """An issue as a work item, plus the transition this event represents. The item's author is
    `issue.user`; a transition's author is whoever made it (`actor`: the webhook's sender, REST's
    closed_by), so a close by someone else is never put on the author."""
    item_id = f"github:{repo['full_name']}#issue-{issue['number']}"
    state = issue.get("state", "open")
    values = _base(repo, item_id, issue.get("html_url"), issue.get("updated_at"))
    values.update({
        "connection": connection, "key": f"{repo['full_name']}#{issue['number']}", "title": issue.get("title"),
        "item_type": "issue", "status": state, "status_category": "done" if state == "closed" else "todo",
        "created_at": parse_time(issue.get("created_at")),
        # A reopened issue may still show its old closed_at: only a closed issue is resolved.
        "resolved_at": parse_time(issue.get("closed_at")) if state == "closed" else None,
        "deleted": action == "deleted", "author": _login(issue.get("user")),
    })
    records = [FlowRecord("work_item", values)]
    moments = {"opened": ("open", None, issue.get("created_at")),
               "closed": ("closed", "open", issue.get("closed_at")),
               "reopened": ("open", "closed", issue.get("updated_at"))}
    if action in moments:
        to_status, from_status, at = moments[action]
        if parse_time(at):
            records.append(FlowRecord("transition", {
                "work_item_id": item_id, "from_status": from_status, "to_status": to_status,
                "at": parse_time(at),
                "author": _login(issue.get("user")) if action == "opened" else _login(actor),
            }))
    return records


@readable_errors("GitHub")
def normalize_event(event_name: str, payload: dict, connection: str = "default") -> list[FlowRecord]:
    """Records for one webhook event (`event_name` is X-GitHub-Event without the action)."""
    repo = payload.get("repository")
    handler = _HANDLERS.get(event_name)
    if handler is None or not isinstance(repo, dict):
        return []
    return handler(repo, payload, connection)


_HANDLERS: dict[str, Callable[[dict, dict, str], list[FlowRecord]]] = {
    "pull_request": lambda r, p, c: [pull_request_record(r, p["pull_request"], c)],
    "push": push_records,
    "deployment": lambda r, p, c: [deployment_record(r, p["deployment"], None, c)],
    "deployment_status": lambda r, p, c: [deployment_record(r, p["deployment"], p["deployment_status"], c)],
    "workflow_run": lambda r, p, c: [workflow_run_record(r, p["workflow_run"], c, p.get("workflow"))],
    "check_suite": lambda r, p, c: [check_suite_record(r, p["check_suite"], c)],
    "issues": lambda r, p, c: issue_records(r, p["issue"], p.get("action"), c, p.get("sender")),
    "release": lambda r, p, c: [release_record(r, p["release"], p.get("action"), c)],
}
