"""PagerDuty pull sync: incidents of the services the catalog links through `pagerduty.com/service-id`,
from GET /incidents with classic offset pagination (`offset`, `limit`, `more`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from flowport_pagerduty.normalize import LINK_ANNOTATION, incident_record, rest_history
from portal.flow.records import parse_time
from portal.sync.client import SyncClient
from portal.sync.state import SyncPage, SyncState

LIMIT = 100
RESOURCE = "incidents"


def request_headers(config) -> dict[str, str]:  # noqa: ANN001
    """REST API v2 keys go in `Authorization: Token token=…`."""
    headers = {"Accept": "application/vnd.pagerduty+json;version=2"}
    if config.token is not None:
        headers["Authorization"] = f"Token token={config.token.get_secret_value()}"
    return headers


def _params(service_ids: list[str], since: datetime | None, now: datetime, offset: int) -> list[tuple[str, str]]:
    params = [("limit", str(LIMIT)), ("offset", str(offset)), ("sort_by", "created_at:asc"),
              ("time_zone", "UTC"), *(("service_ids[]", service) for service in service_ids)]
    if since is None:
        params.append(("date_range", "all"))
    else:
        params += [("since", since.isoformat()), ("until", now.isoformat())]
    return params


async def sync_pagerduty(config, client: SyncClient, state: SyncState, full: bool  # noqa: ANN001
                         ) -> AsyncIterator[SyncPage]:
    """Incidents created since the cursor, oldest first. The cursor never passes an unresolved
    incident, so it is read again (and its acknowledgement or resolution stored) on later runs."""
    service_ids = sorted({value.upper() for value in state.linked_values(LINK_ANNOTATION)})
    if not service_ids:
        return
    client.headers.update(request_headers(config))
    url = f"{config.api_url.rstrip('/')}/incidents"
    since = parse_time(state.cursor(RESOURCE).get("since"))
    now = datetime.now(UTC)
    offset, newest, oldest_open = 0, since, None
    while True:
        response = await client.get(url, _params(service_ids, since, now, offset))
        result = response.json() or {}
        incidents = result.get("incidents") or []
        for incident in incidents:
            created = parse_time(incident.get("created_at"))
            if created and (newest is None or created > newest):
                newest = created
            if created and incident.get("status") != "resolved" and (oldest_open is None or created < oldest_open):
                oldest_open = created
        mark = min(filter(None, (newest, oldest_open)), default=None)
        records = []
        for incident in incidents:
            if isinstance(incident, dict) and incident.get("id") is not None:
                records += [incident_record(incident, config.name), *rest_history(incident)]
        yield SyncPage(RESOURCE, records, {"since": mark.isoformat() if mark else None})
        if not result.get("more") or not incidents:
            return
        offset += len(incidents)
