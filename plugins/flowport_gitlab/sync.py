"""GitLab REST v4 pull sync: merge requests, pipelines, deployments and issues of every project the
catalog links through `gitlab.com/project-slug`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from urllib.parse import quote

from flowport_gitlab.normalize import (
    LINK_ANNOTATION,
    deployment_record,
    issue_records,
    merge_request_record,
    pipeline_record,
)
from portal.flow.records import FlowRecord, parse_time
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
        base = f"{api}/projects/{quote(path, safe='')}"
        resources: list[tuple[str, str, Callable[[dict], list[FlowRecord]]]] = [
            ("merge-requests", f"{base}/merge_requests?{_NEWEST_FIRST}",
             lambda mr, p=path: [merge_request_record(p, mr, None, config.name)]),
            ("pipelines", f"{base}/pipelines?{_NEWEST_FIRST}",
             lambda pipeline, p=path: [pipeline_record(p, pipeline, config.name)]),
            ("deployments", f"{base}/deployments?{_NEWEST_FIRST}",
             lambda deployment, p=path: [rest_deployment_record(p, deployment, config.name)]),
            ("issues", f"{base}/issues?{_NEWEST_FIRST}",
             lambda issue, p=path: rest_issue_records(p, issue, config.name)),
        ]
        try:
            for name, url, to_records in resources:
                async def build(items: list[dict], to_records=to_records) -> list[FlowRecord]:
                    return [record for item in items for record in to_records(item)]

                resource = f"{path}:{name}"
                async for page in walk_newest_first(client, resource, url, state.cursor(resource),
                                                    stamp_of=lambda item: item.get("updated_at"), build=build,
                                                    next_of=gitlab_next):
                    yield page
        except SyncHttpError as error:
            # A moved or private project must not keep the others from syncing.
            if error.status not in TARGET_UNAVAILABLE_STATUSES:
                raise
            unavailable.append(f"{path}: {error}")
    if unavailable:
        raise TargetsUnavailable("; ".join(unavailable))
