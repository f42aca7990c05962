"""GitLab REST v4 pull sync: merge requests with their commits, pipelines, deployments, issues and
releases of every project the catalog links through `gitlab.com/project-slug`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from urllib.parse import quote

from flowport_gitlab.normalize import (
    LINK_ANNOTATION,
    deployment_record,
    first_commit_record,
    issue_records,
    merge_request_commit_record,
    merge_request_record,
    pipeline_record,
    release_record,
)
from portal.flow.records import FlowRecord, parse_time
from portal.sync.change_commits import CommitsQueue, read_change_commits
from portal.sync.client import TARGET_UNAVAILABLE_STATUSES, SyncClient, SyncHttpError, TargetsUnavailable
from portal.sync.pagination import gitlab_next, walk_newest_first
from portal.sync.state import SyncPage, SyncState

PER_PAGE = 100
# Every list is read most recently updated first: its first page only changes when something did.
_NEWEST_FIRST = f"order_by=updated_at&sort=desc&per_page={PER_PAGE}"


def request_headers(config) -> dict[str, str]:  # noqa: ANN001
    """A personal, group or project access token goes in PRIVATE-TOKEN."""
    headers = {"Accept": "application/json"}
    if config.token is not None:
        headers["PRIVATE-TOKEN"] = config.token.get_secret_value()
    return headers


def rest_deployment_record(path: str, deployment: dict, connection: str = "default") -> FlowRecord:
    """A REST deployment through the hook normalizer: same fields, other names."""
    environment = deployment.get("environment") or {}
    hook_shape = {
        "deployment_id": deployment["id"], "status": deployment.get("status"), "ref": deployment.get("ref"),
        "environment": environment.get("name") if isinstance(environment, dict) else environment,
        "environment_tier": environment.get("tier") if isinstance(environment, dict) else None,
        "status_changed_at": deployment.get("updated_at"), "short_sha": deployment.get("sha"),
        "deployable_url": (deployment.get("deployable") or {}).get("web_url"),
    }
    record = deployment_record(path, hook_shape, connection)
    # REST knows when the deployment started, which a hook only tells while it runs.
    started = parse_time(deployment.get("created_at"))
    return replace(record, values={**record.values, "started_at": started or record.values.get("started_at")})


def rest_issue_records(path: str, issue: dict, connection: str = "default") -> list[FlowRecord]:
    """A REST issue as a work item with its opened (and closed) transitions."""
    records = issue_records(path, {"object_attributes": {**issue, "action": "open"}}, connection)
    if issue.get("state") == "closed":
        records += issue_records(path, {"object_attributes": {**issue, "action": "close"}}, connection)[1:]
    return records


async def sync_gitlab(config, client: SyncClient, state: SyncState, full: bool  # noqa: ANN001
                      ) -> AsyncIterator[SyncPage]:
    """Every linked project's resources, one after another."""
    client.headers.update(request_headers(config))
    api = config.api_url.rstrip("/")
    seen: set[str] = set()
    unavailable: list[str] = []
    for path in state.linked_values(LINK_ANNOTATION):
        if path.lower() in seen:
            continue
        seen.add(path.lower())
        project = GitLabProjectSync(client, state, api, path, config.name)
        try:
            for resource in (project.merge_requests, project.pipelines, project.deployments, project.issues,
                             project.releases):
                async for page in resource():
                    yield page
        except SyncHttpError as error:
            # A moved or private project must not keep the others from syncing.
            if error.status not in TARGET_UNAVAILABLE_STATUSES:
                raise
            unavailable.append(f"{path}: {error}")
    if unavailable:
        raise TargetsUnavailable("; ".join(unavailable))


class GitLabProjectSync:
    """The resources of one project, each with its own cursor and read newest first."""

    def __init__(self, client: SyncClient, state: SyncState, api: str, path: str, connection: str) -> None:
        self.client, self.state, self.path, self.connection = client, state, path, connection
        self.base = f"{api}/projects/{quote(path, safe='')}"

    def _walk(self, name: str, url: str, to_records: Callable[[dict], list[FlowRecord]],
              stamp: str = "updated_at", extra: Callable[[], dict] = dict,
              cursor: dict | None = None) -> AsyncIterator[SyncPage]:
        async def build(items: list[dict]) -> list[FlowRecord]:
            return [record for item in items for record in to_records(item)]

        resource = f"{self.path}:{name}"
        return walk_newest_first(self.client, resource, url, self.state.cursor(resource) if cursor is None else cursor,
                                 stamp_of=lambda item: item.get(stamp), build=build, next_of=gitlab_next,
                                 extra=extra)

    async def merge_requests(self) -> AsyncIterator[SyncPage]:
        """Merge requests; after each page, the commits of the merge requests it listed."""
        resource = f"{self.path}:merge-requests"
        cursor = self.state.cursor(resource)
        queue = CommitsQueue(cursor)

        def to_records(mr: dict) -> list[FlowRecord]:
            record = merge_request_record(self.path, mr, None, self.connection)
            queue.add({"number": record.values["number"], "branch": record.values["head_branch"]})
            return [record]

        # Merge requests queued by a run that stopped before reading their commits come first.
        async for page in self._merge_request_commits(queue, resource, cursor):
            yield page
        async for page in self._walk("merge-requests", f"{self.base}/merge_requests?{_NEWEST_FIRST}", to_records,
                                     extra=queue.state, cursor=cursor):
            yield page
            async for commits_page in self._merge_request_commits(queue, resource, page.cursor or {}):
                yield commits_page

    def _merge_request_commits(self, queue: CommitsQueue, resource: str, cursor: dict) -> AsyncIterator[SyncPage]:
        def commit_of(entry: dict, commit: dict) -> FlowRecord | None:
            if not commit.get("id"):
                return None
            return merge_request_commit_record(self.path, commit, entry.get("branch"), self.connection)

        return read_change_commits(
            self.client, queue, resource, cursor,
            url_of=lambda entry: f"{self.base}/merge_requests/{entry['number']}/commits?per_page={PER_PAGE}",
            commit_of=commit_of,
            first_commit_of=lambda entry, when: first_commit_record(self.path, entry["number"], when, self.connection),
            label_of=lambda entry: f"merge request {self.path}!{entry['number']}", next_of=gitlab_next)

    def pipelines(self) -> AsyncIterator[SyncPage]:
        return self._walk("pipelines", f"{self.base}/pipelines?{_NEWEST_FIRST}",
                          lambda pipeline: [pipeline_record(self.path, pipeline, self.connection)])

    def deployments(self) -> AsyncIterator[SyncPage]:
        """Deployments, most recently updated first. A finished one whose outcome changes later (a success
        marked failed or canceled) is read again without a look-back window such as GitHub's: GitLab keeps
        the status on the deployment itself and saves the row on every status change, so `updated_at` moves
        and the deployment comes first in this list, however long ago it finished. GitHub adds statuses as
        objects of their own and leaves the deployment untouched, hence its re-reads
        (flowport_github/sync.py)."""
        # `updated_after` is not sent: it filters on the same column, but a URL that changes with the cursor
        # would turn the next unchanged run's free 304 into a 200 that rewrites the deployment at the cursor.
        return self._walk("deployments", f"{self.base}/deployments?{_NEWEST_FIRST}",
                          lambda deployment: [rest_deployment_record(self.path, deployment, self.connection)])

    def issues(self) -> AsyncIterator[SyncPage]:
        return self._walk("issues", f"{self.base}/issues?{_NEWEST_FIRST}",
                          lambda issue: rest_issue_records(self.path, issue, self.connection))

    def releases(self) -> AsyncIterator[SyncPage]:
        """Releases by when they were created (they have no update time): edits of older ones and
        deletions come from the Release Hook (or `flowport sync --full`). A listed release exists, so
        its record is not deleted, even when an earlier one of the same tag was."""
        return self._walk("releases", f"{self.base}/releases?order_by=created_at&sort=desc&per_page={PER_PAGE}",
                          lambda release: [release_record(self.path, release, None, self.connection)]
                          if release.get("tag_name") else [], stamp="created_at")
