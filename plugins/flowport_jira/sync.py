"""Jira Cloud pull sync: issues of the projects the catalog links through `jira/project-key`, found
with the enhanced JQL search (POST /rest/api/3/search/jql, nextPageToken) and their status history."""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from flowport_jira.normalize import LINK_ANNOTATION, history_transitions, work_item_record
from portal.flow.records import FlowRecord, parse_time
from portal.sync.client import SyncClient
from portal.sync.state import SyncPage, SyncState

MAX_RESULTS = 100
FIELDS = ["summary", "status", "issuetype", "project", "created", "updated", "resolutiondate", "reporter", "creator"]
# Minutes read again before the cursor: Jira's search index lags edits by a little.
OVERLAP_MINUTES = 2
RESOURCE = "issues"


def request_headers(config) -> dict[str, str]:  # noqa: ANN001
    """Cloud: basic auth with the account's email and API token; Data Center: a bearer PAT."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if config.token is not None:
        token = config.token.get_secret_value()
        if config.email:
            pair = base64.b64encode(f"{config.email}:{token}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        else:
            headers["Authorization"] = f"Bearer {token}"
    return headers


def search_jql(project_keys: list[str], since: datetime | None, now: datetime) -> str:
    """Oldest change first, so a cursor at the last stored issue resumes without gaps. A relative
    `-Nm` bound is used because absolute JQL times are read in the account's own time zone."""
    projects = ", ".join(f'"{key}"' for key in project_keys)
    jql = f"project in ({projects})"
    if since is not None:
        minutes = math.ceil(max(0.0, (now - since).total_seconds()) / 60) + OVERLAP_MINUTES
        jql += f" AND updated >= -{minutes}m"
    return jql + " ORDER BY updated ASC"


def issue_records(issue: dict, connection: str) -> list[FlowRecord]:
    """An issue's work item and every status change in its changelog."""
    item = work_item_record(issue, connection)
    histories = (issue.get("changelog") or {}).get("histories") or []
    return [item, *history_transitions(item.values["id"], histories)]


async def sync_jira(config, client: SyncClient, state: SyncState, full: bool  # noqa: ANN001
                    ) -> AsyncIterator[SyncPage]:
    """One search over all linked projects, page by page; the cursor is the newest `updated` stored."""
    keys = sorted({key.upper() for key in state.linked_values(LINK_ANNOTATION)})
    if not keys:
        return
    client.headers.update(request_headers(config))
    url = f"{config.site_url.rstrip('/')}/rest/api/3/search/jql"
    since = parse_time(state.cursor(RESOURCE).get("since"))
    body: dict = {"jql": search_jql(keys, since, datetime.now(UTC)), "maxResults": MAX_RESULTS,
                  "fields": FIELDS, "expand": "changelog"}
    while True:
        response = await client.post(url, body)
        result = response.json() or {}
        issues = result.get("issues") or []
        records = [record for issue in issues for record in issue_records(issue, config.name)]
        stamps = [parse_time((issue.get("fields") or {}).get("updated")) for issue in issues]
        newest = max(filter(None, stamps), default=None)
        since = max(filter(None, (since, newest)), default=None)
        yield SyncPage(RESOURCE, records, {"since": since.isoformat() if since else None})
        token = result.get("nextPageToken")
        if result.get("isLast") is True or not token or not issues:
            return
        body = {**body, "nextPageToken": token}
