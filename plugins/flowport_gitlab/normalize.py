"""GitLab webhook payloads to flow records (REST v4 objects of the same shape work too).

Records link through `gitlab.com/project-slug` = the project's path_with_namespace, lower-cased.
Ids use GitLab's own notation: `gitlab:<path>!<iid>` for merge requests, `gitlab:<path>#<iid>` for issues,
`gitlab:<path>:pipeline:<id>`, `gitlab:<path>:job:<id>`, `gitlab:<path>:deployment:<id>`,
`gitlab:<path>:commit:<sha>` and `gitlab:<path>:release:<tag>`. A branch Push Hook yields one commit
record per listed commit; a Pipeline Hook yields the pipeline and one run per job in its `builds`, with
the ids a Job Hook gives them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlparse

from portal.flow.payload_shape import readable_errors, require_id, require_object
from portal.flow.records import FlowRecord, environment_tier, first_line, parse_time, pushed_branch

LINK_ANNOTATION = "gitlab.com/project-slug"

_MR_STATES = {"opened": "open", "locked": "open", "merged": "merged", "closed": "closed"}
_ISSUE_STATES = {"opened": "open", "closed": "closed", "reopened": "open"}
# GitLab's numeric state_id: 1 opened, 2 closed, 3 merged, 4 locked.
_STATE_IDS = {1: "open", 2: "closed", 3: "merged", 4: "open"}
_RUN_STATUSES = {
    "success": "success", "failed": "failure", "canceled": "cancelled", "canceling": "cancelled",
    "skipped": "cancelled", "running": "running", "pending": "queued", "created": "queued",
    "waiting_for_resource": "queued", "preparing": "queued", "scheduled": "queued", "manual": "queued",
}
_DEPLOYMENT_STATUSES = {
    "success": "success", "failed": "failure", "canceled": "cancelled", "running": "running",
    "created": "pending", "blocked": "pending", "skipped": "cancelled",
}
# `unknown`: a status this version does not know (e.g. "fail"); kept with its finish time, never `queued`.
_FINISHED = frozenset({"success", "failure", "cancelled", "unknown"})
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


def project_path(payload: dict) -> str | None:
    """The project's path_with_namespace; older Job hooks only name it through repository.homepage."""
    project = payload.get("project")
    if isinstance(project, dict) and project.get("path_with_namespace"):
        return project["path_with_namespace"]
    repository = payload.get("repository") or {}
    for url in (repository.get("homepage"), repository.get("git_http_url")):
        path = urlparse(url or "").path.strip("/").removesuffix(".git")
        if path.count("/") >= 1:
            return path
    return None


def _base(path: str, record_id: str, url: str | None, updated: object, connection: str) -> dict:
    return {
        "id": record_id, "source": "gitlab", "connection": connection, "link_annotation": LINK_ANNOTATION,
        "link_value": path.lower(), "url": url, "source_updated_at": parse_time(updated),
    }


def _author(item: dict, actor: dict, action: str | None) -> str | None:
    """Who opened a merge request or issue: REST objects name them; a hook only gives `author_id` and
    the `user` who acted, who is the author only when their ids match (or, without ids, on `open`)."""
    if isinstance(item.get("author"), dict):
        return item["author"].get("username")
    actor_id, author_id = actor.get("id"), item.get("author_id")
    if actor_id is not None and author_id is not None:
        return actor.get("username") if actor_id == author_id else None
    return actor.get("username") if action == "open" else None


def merge_request_record(path: str, mr: dict, actor: dict | None = None, connection: str = "default") -> FlowRecord:
    """A merge request as a change: open, merged or closed."""
    action = mr.get("action")
    state = _MR_STATES.get(mr.get("state") or "", "open")
    updated = mr.get("updated_at")
    values = _base(path, f"gitlab:{path}!{mr['iid']}", mr.get("url") or mr.get("web_url"), updated, connection)
    merged = state == "merged"
    values.update({
        "repository": path, "number": mr["iid"], "title": mr.get("title"),
        "author": _author(mr, actor or {}, action), "state": state,
        "created_at": parse_time(mr.get("created_at")),
        # Hooks omit merged_at/closed_at; the event's own time is when it happened.
        "merged_at": parse_time(mr.get("merged_at") or (updated if action == "merge" else None)),
        "closed_at": parse_time(mr.get("closed_at") or (updated if action == "close" else None)),
        # No merge commit on fast-forward merges: the squash commit or the last commit lands as is.
        "merge_sha": (mr.get("merge_commit_sha") or mr.get("squash_commit_sha")
                      or (mr.get("last_commit") or {}).get("id") or mr.get("sha")) if merged else None,
        "base_branch": mr.get("target_branch"),
        "head_branch": _head_branch(mr),
    })
    return FlowRecord("change", values)


def _head_branch(mr: dict) -> str | None:
    """The MR's source branch, unless it comes from a fork (whose pushes this project's hooks never see)."""
    source, target = mr.get("source_project_id"), mr.get("target_project_id")
    if source is not None and target is not None and source != target:
        return None
    return mr.get("source_branch")


def _run_status(status: object) -> str:
    """GitLab's pipeline/job status in Flowport's words; one GitLab adds later is `unknown` (no status at
    all is still `queued`: a hook without one is about a run that has not started)."""
    if not status:
        return "queued"
    return _RUN_STATUSES.get(status, "unknown") if isinstance(status, str) else "unknown"


def _run_times(status: str, started: object, finished: object) -> tuple:
    return parse_time(started), parse_time(finished) if status in _FINISHED else None


def pipeline_record(path: str, pipeline: dict, connection: str = "default") -> FlowRecord:
    """A pipeline as a pipeline run."""
    status = _run_status(pipeline.get("status"))
    started, finished = _run_times(status, pipeline.get("started_at") or pipeline.get("created_at"),
                                   pipeline.get("finished_at"))
    updated = pipeline.get("updated_at") or pipeline.get("finished_at") or pipeline.get("created_at")
    values = _base(path, f"gitlab:{path}:pipeline:{pipeline['id']}", pipeline.get("url") or pipeline.get("web_url"),
                   updated, connection)
    values.update({
        "repository": path, "name": pipeline.get("name") or "pipeline", "ref": pipeline.get("ref"),
        "sha": pipeline.get("sha"), "status": status, "started_at": started, "finished_at": finished,
    })
    return FlowRecord("pipeline_run", values)


def job_record(path: str, job: dict, connection: str = "default") -> FlowRecord:
    """A Job Hook (object_kind build) as a pipeline run of its own, named after the job."""
    status = _run_status(job.get("build_status"))
    started, finished = _run_times(status, job.get("build_started_at") or job.get("build_created_at"),
                                   job.get("build_finished_at"))
    updated = job.get("build_finished_at") or job.get("build_started_at") or job.get("build_created_at")
    homepage = (job.get("repository") or {}).get("homepage")
    values = _base(path, f"gitlab:{path}:job:{job['build_id']}",
                   f"{homepage}/-/jobs/{job['build_id']}" if homepage else None, updated, connection)
    values.update({
        "repository": path, "name": job.get("build_name"), "ref": job.get("ref"), "sha": job.get("sha"),
        "status": status, "started_at": started, "finished_at": finished,
    })
    return FlowRecord("pipeline_run", values)


def pipeline_hook_records(path: str, payload: dict, connection: str = "default") -> list[FlowRecord]:
    """A Pipeline Hook: the pipeline, and each of its `builds` as the Job Hook for that job would give it."""
    pipeline = payload["object_attributes"]
    records = [pipeline_record(path, pipeline, connection)]
    homepage = (payload.get("project") or {}).get("web_url")
    for build in payload.get("builds") or []:
        if not isinstance(build, dict) or build.get("id") is None:
            continue
        records.append(job_record(path, {
            "build_id": build["id"], "build_name": build.get("name"), "build_status": build.get("status"),
            "build_created_at": build.get("created_at"), "build_started_at": build.get("started_at"),
            "build_finished_at": build.get("finished_at"), "ref": pipeline.get("ref"), "sha": pipeline.get("sha"),
            "repository": {"homepage": homepage},
        }, connection))
    return records


def push_records(path: str, payload: dict, connection: str = "default") -> list[FlowRecord]:
    """One commit record per commit a branch Push Hook lists (GitLab lists at most the latest 20)."""
    branch = pushed_branch(payload.get("ref"))
    if branch is None or set(payload.get("after") or "x") == {"0"}:  # a tag, or a deleted branch
        return []
    records = []
    for commit in payload.get("commits") or []:
        if not isinstance(commit, dict) or not commit.get("id"):
            continue
        values = _base(path, f"gitlab:{path}:commit:{commit['id']}", commit.get("url"), None, connection)
        values.update({
            "repository": path, "sha": commit["id"],
            "title": first_line(commit.get("message")) or commit.get("title"),
            "author": (commit.get("author") or {}).get("name"), "authored_at": parse_time(commit.get("timestamp")),
        })
        # The hook does not say when the push happened; the branch is that of the first push seen.
        records.append(FlowRecord("commit", values, defaults={"branch": branch, "pushed_at": None}))
    return records


def merge_request_commit_record(path: str, commit: dict, branch: str | None,
                                connection: str = "default") -> FlowRecord:
    """A commit of a merge request as REST's merge_requests/:iid/commits lists it: the same record as when
    it is pushed. Its branch (the MR's source branch) only fills a new row, so a push seen earlier keeps its own."""
    values = _base(path, f"gitlab:{path}:commit:{commit['id']}", commit.get("web_url"), None, connection)
    values.update({
        "repository": path, "sha": commit["id"], "title": first_line(commit.get("message")) or commit.get("title"),
        "author": commit.get("author_name"), "authored_at": parse_time(commit.get("authored_date")),
    })
    return FlowRecord("commit", values, defaults={"branch": branch, "pushed_at": None})


def first_commit_record(path: str, iid: int, first_commit_at: datetime, connection: str = "default") -> FlowRecord:
    """Sets the first commit time of a merge request already stored (by the page that listed it)."""
    values = _base(path, f"gitlab:{path}!{iid}", None, None, connection)
    values.update({"repository": path, "number": iid, "first_commit_at": first_commit_at})
    # `state` is required of a new row but must not touch the stored one: insert-only.
    return FlowRecord("change", values, defaults={"state": "open"})


def release_record(path: str, release: dict, action: str | None = None, connection: str = "default") -> FlowRecord:
    """A Release Hook or a REST release. GitLab names a release by its tag, so one deleted and created
    again for the same tag is the same record: every event says whether it is deleted."""
    tag = release.get("tag") or release.get("tag_name")
    url = release.get("url") or (release.get("_links") or {}).get("self")
    values = _base(path, f"gitlab:{path}:release:{tag}", url, None, connection)
    values.update({
        "repository": path, "tag": tag, "name": release.get("name"),
        "sha": (release.get("commit") or {}).get("id"),
        # The hook does not say who released (its commit author is not that person); REST does.
        "author": (release.get("author") or {}).get("username"),
        # GitLab has neither drafts nor pre-releases.
        "draft": False, "prerelease": False,
        "created_at": parse_time(release.get("created_at")), "published_at": parse_time(release.get("released_at")),
        "deleted": action == "delete",
    })
    return FlowRecord("release", values)


def _deployment_sha(payload: dict) -> str | None:
    # The hook only carries the short sha; the commit URL ends with the full one.
    tail = (payload.get("commit_url") or "").rstrip("/").rsplit("/", 1)[-1]
    return tail if _FULL_SHA.match(tail) else payload.get("short_sha")


def deployment_record(path: str, payload: dict, connection: str = "default") -> FlowRecord:
    """A Deployment Hook: one row per deployment id, its status following the hooks."""
    environment = payload.get("environment") or "unknown"
    raw_status = payload.get("status")
    status = _DEPLOYMENT_STATUSES.get(raw_status, "unknown") if isinstance(raw_status, str) and raw_status else None
    changed = parse_time(payload.get("status_changed_at"))
    values = _base(path, f"gitlab:{path}:deployment:{payload['deployment_id']}",
                   payload.get("deployable_url"), changed, connection)
    values.update({
        "repository": path, "environment": environment,
        # GitLab sends the environment's declared tier in newer versions: it beats guessing from the name.
        "tier": payload.get("environment_tier") or environment_tier(environment),
        "sha": _deployment_sha(payload), "ref": payload.get("ref"), "status": status,
        "started_at": changed if status == "running" else None,
        "finished_at": changed if status in _FINISHED else None,
    })
    # A deployment seen only once it finished still gets a start time, so it sorts and filters.
    return FlowRecord("deployment", values, defaults={"status": "pending", "started_at": changed})


def _state_change(payload: dict) -> tuple[str | None, str | None]:
    changes = payload.get("changes") or {}
    if isinstance(changes.get("state"), dict):
        change = changes["state"]
        return _ISSUE_STATES.get(change.get("previous") or ""), _ISSUE_STATES.get(change.get("current") or "")
    if isinstance(changes.get("state_id"), dict):
        change = changes["state_id"]
        return _STATE_IDS.get(change.get("previous")), _STATE_IDS.get(change.get("current"))
    return None, None


def issue_records(path: str, payload: dict, connection: str = "default") -> list[FlowRecord]:
    """An issue as a work item, plus the transition an open, close or reopen represents; an incident
    (issue type `incident`, or an `incident` label) is also an incident record with its history."""
    issue = require_object(payload, "object_attributes", "GitLab issue hook")
    iid = require_id(issue, "iid", "GitLab issue hook object_attributes")
    item_id = f"gitlab:{path}#{iid}"
    state = _ISSUE_STATES.get(issue.get("state") or "", "open")
    actor = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    values = _base(path, item_id, issue.get("url") or issue.get("web_url"), issue.get("updated_at"), connection)
    values.update({
        "key": f"{path}#{iid}", "title": issue.get("title"),
        "item_type": (issue.get("type") or issue.get("issue_type") or "issue").lower(),
        "status": state, "status_category": "done" if state == "closed" else "todo",
        "created_at": parse_time(issue.get("created_at")),
        # GitLab may keep the old closed_at on a reopened issue: only a closed issue has a resolution.
        "resolved_at": parse_time(issue.get("closed_at")) if state == "closed" else None,
        "deleted": False, "author": _author(issue, actor, issue.get("action")),
    })
    records = [FlowRecord("work_item", values)]
    moments = {"open": (None, "open", issue.get("created_at")),
               "close": ("open", "closed", issue.get("closed_at") or issue.get("updated_at")),
               "reopen": ("closed", "open", issue.get("updated_at"))}
    previous, current = _state_change(payload)
    default_from, default_to, at = moments.get(issue.get("action"), (None, None, issue.get("updated_at")))
    to_status = current or default_to
    if to_status and parse_time(at) and previous != to_status:
        # A transition's author is whoever made it (the hook's user), not the issue's author.
        records.append(FlowRecord("transition", {
            "work_item_id": item_id, "from_status": previous or default_from, "to_status": to_status,
            "at": parse_time(at), "author": actor.get("username"),
        }))
    if is_incident(issue, payload):
        records += incident_records(path, payload, issue, item_id, connection)
    return records


def is_incident(issue: dict, payload: dict) -> bool:
    """An incident issue: GitLab's issue type `incident` (hooks: `type`, REST: `issue_type`), or a label
    named `incident` for projects that mark incidents by label."""
    if str(issue.get("type") or issue.get("issue_type") or "").lower() == "incident":
        return True
    labels = [*(payload.get("labels") or []), *(issue.get("labels") or [])]
    return any(str(label.get("title") if isinstance(label, dict) else label).lower() == "incident"
               for label in labels)


_ESCALATION_STATUSES = {"triggered": "triggered", "acknowledged": "acknowledged"}


def incident_records(path: str, payload: dict, issue: dict, record_id: str, connection: str) -> list[FlowRecord]:
    """The incident an incident issue is: closed = resolved (its closed_at the resolution), a reopen
    clears the resolution; GitLab's escalation status says whether it is acknowledged."""
    closed = issue.get("state") == "closed"
    status = "resolved" if closed else _ESCALATION_STATUSES.get(issue.get("escalation_status") or "", "triggered")
    resolved = parse_time(issue.get("closed_at") or (issue.get("updated_at") if closed else None))
    assignees = payload.get("assignees")
    values = _base(path, record_id, issue.get("url") or issue.get("web_url"), issue.get("updated_at"), connection)
    values.update({
        "title": issue.get("title"), "severity": issue.get("severity"), "status": status,
        "created_at": parse_time(issue.get("created_at")),
        "resolved_at": resolved if closed else None,
        "assignees": json.dumps([a.get("username") or a.get("name") for a in assignees if isinstance(a, dict)])
        if isinstance(assignees, list) else None,
    })
    records = [FlowRecord("incident", values, defaults={"status": "triggered"})]
    action = issue.get("action")
    moment = {"open": ("triggered", issue.get("created_at")), "close": ("resolved", resolved),
              "reopen": ("triggered", issue.get("updated_at"))}.get(action)
    if moment is None and isinstance((payload.get("changes") or {}).get("escalation_status"), dict):
        action, moment = "escalation", (status, issue.get("updated_at"))
    if moment is not None and parse_time(moment[1]):
        actor = payload.get("user") if isinstance(payload.get("user"), dict) else {}
        records.append(FlowRecord("incident_event", {
            "incident_id": record_id, "event": action, "status": moment[0], "at": parse_time(moment[1]),
            "actor": actor.get("username")}))
    return records


def merge_request_hook_records(path: str, payload: dict, connection: str = "default") -> list[FlowRecord]:
    """A Merge Request Hook; one without an object_attributes object or an iid fails with that key named."""
    attributes = require_object(payload, "object_attributes", "GitLab merge request hook")
    require_id(attributes, "iid", "GitLab merge request hook object_attributes")
    actor = payload.get("user") if isinstance(payload.get("user"), dict) else None
    return [merge_request_record(path, attributes, actor, connection)]


@readable_errors("GitLab")
def normalize_event(payload: dict, connection: str = "default") -> list[FlowRecord]:
    """Records for one hook delivery, chosen by its object_kind."""
    if not isinstance(payload, dict):
        return []
    handler = _HANDLERS.get(payload.get("object_kind") or "")
    path = project_path(payload)
    if handler is None or path is None:
        return []
    return handler(path, payload, connection)


_HANDLERS: dict[str, Callable[[str, dict, str], list[FlowRecord]]] = {
    "merge_request": merge_request_hook_records,
    "pipeline": pipeline_hook_records,
    "push": push_records,
    "build": lambda p, d, c: [job_record(p, d, c)],
    "deployment": lambda p, d, c: [deployment_record(p, d, c)],
    "issue": issue_records,
    "release": lambda p, d, c: [release_record(p, d, d.get("action"), c)] if d.get("tag") else [],
}
