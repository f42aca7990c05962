"""CDEvents v0.3–v0.5 to flow records, whatever the CloudEvents mode that carried them.

Linking to catalog entities, one rule for every event:
- an event that names a repository on GitHub or GitLab (its url/viewUrl/source, or an id that is such a
  URL) links through `github.com/project-slug` / `gitlab.com/project-slug` = `owner/name`, lower-cased,
  so it meets the records of those tools' own plugins;
- anything else links through `flowport.dev/cdevents-source` = the event's `context.source`, lower-cased
  (e.g. `/event/source/123`): an entity claims a Jenkins, Tekton or Argo CD instance's events by
  annotating that source.

Ids: a pipeline run, change, incident or ticket is its subject (`cdevents:<subject source>:<subject id>`),
so its queued/started/finished (created/merged, detected/resolved …) events update one row. A service
event (deployed/upgraded/rolledback) is one deployment by itself (`cdevents:<context source>:<context id>`);
a rollback is recorded as a successful deployment of the older artifact, which is what it is."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote, urlparse

from portal.flow.payload_shape import readable_errors
from portal.flow.records import FlowRecord, environment_tier, parse_time

SOURCE_ANNOTATION = "flowport.dev/cdevents-source"
_FORGES = {"github": "github.com/project-slug", "gitlab": "gitlab.com/project-slug"}
_OUTCOMES = {"success": "success", "failure": "failure", "error": "failure", "cancel": "cancelled",
             "cancelled": "cancelled", "canceled": "cancelled"}
_CHANGE_STATES = {"created": "open", "merged": "merged", "abandoned": "closed"}
_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


def cdevent_of(payload: object) -> dict | None:
    """The CDEvent itself: the bare body (binary mode) or a structured CloudEvent's `data`."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("context"), dict) and isinstance(payload.get("subject"), dict):
        return payload
    data = payload.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if isinstance(data, dict) and isinstance(data.get("context"), dict) and isinstance(data.get("subject"), dict):
        return data
    return None


def _forge_slug(repository: dict) -> tuple[str, str] | None:
    for candidate in (repository.get("url"), repository.get("viewUrl"), repository.get("source"),
                      repository.get("id")):
        parsed = urlparse(str(candidate or ""))
        host = (parsed.hostname or "").lower()
        forge = next((name for name in _FORGES if host == f"{name}.com" or host.startswith(f"{name}.")), None)
        if forge is None:
            continue
        # GitHub repositories are owner/name; GitLab paths nest groups and end where "/-/" starts.
        path = parsed.path.split("/-/", 1)[0].strip("/").removesuffix(".git")
        path = "/".join(path.split("/")[:2]) if forge == "github" else path
        if path.count("/") >= 1:
            return _FORGES[forge], path.lower()
        # The URL names only the forge: the id or owner/name say which repository.
        name = repository.get("id") if "/" in str(repository.get("id") or "") else None
        if not name and repository.get("owner") and repository.get("name"):
            name = f"{repository['owner']}/{repository['name']}"
        if name:
            return _FORGES[forge], str(name).lower()
    return None


def _repository_name(repository: dict) -> str | None:
    if repository.get("owner") and repository.get("name"):
        return f"{repository['owner']}/{repository['name']}"
    name = repository.get("name") or repository.get("id")
    return str(name) if name is not None else None


def _link(context: dict, content: dict) -> tuple[str | None, str | None]:
    repository = content.get("repository")
    if isinstance(repository, dict):
        slug = _forge_slug(repository)
        if slug:
            return slug
    source = context.get("source")
    return (SOURCE_ANNOTATION, str(source).lower()) if source else (None, None)


def _base(context: dict, content: dict, record_id: str, url: object, connection: str) -> dict:
    annotation, value = _link(context, content)
    return {"id": record_id, "source": "cdevents", "connection": connection, "link_annotation": annotation,
            "link_value": value, "url": url if isinstance(url, str) else None,
            "source_updated_at": parse_time(context.get("timestamp"))}


def _subject_id(context: dict, subject: dict) -> str:
    return f"cdevents:{subject.get('source') or context.get('source')}:{subject['id']}"


def change_record(context: dict, subject: dict, predicate: str, connection: str) -> list[FlowRecord]:
    """A change (pull/merge request) event: created opens it, merged merges it, abandoned closes it."""
    content = subject.get("content") or {}
    repository = content.get("repository") if isinstance(content.get("repository"), dict) else {}
    at = parse_time(context.get("timestamp"))
    values = _base(context, content, _subject_id(context, subject), content.get("url") or content.get("uri"),
                   connection)
    state = _CHANGE_STATES.get(predicate)  # reviewed/updated keep the state the change had
    values.update({
        "repository": _repository_name(repository) or subject.get("source") or context.get("source"),
        "number": int(subject["id"]) if str(subject["id"]).isdigit() else None, "title": content.get("title"),
        "author": content.get("author") or content.get("creator"), "state": state,
        "created_at": at if predicate == "created" else None,
        "merged_at": at if predicate == "merged" else None,
        "closed_at": at if predicate == "abandoned" else None,
        "merge_sha": content.get("mergeCommit") or content.get("sha") if predicate == "merged" else None,
    })
    return [FlowRecord("change", values, defaults={"state": "open"})]


def pipelinerun_record(context: dict, subject: dict, predicate: str, connection: str) -> list[FlowRecord]:
    """A pipeline run: queued, started, then finished with an outcome."""
    content = subject.get("content") or {}
    at = parse_time(context.get("timestamp"))
    if predicate == "finished":
        outcome = content.get("outcome")
        if outcome:
            # An outcome outside the spec's list is an honest `unknown`, not a success.
            status = _OUTCOMES.get(str(outcome).lower(), "unknown")
        else:
            status = "failure" if content.get("errors") else "success"
    else:
        status = "running" if predicate == "started" else "queued"
    values = _base(context, content, _subject_id(context, subject), content.get("uri") or content.get("url"),
                   connection)
    values.update({
        "name": content.get("pipelineName"), "status": status,
        "started_at": at if predicate == "started" else None,
        "finished_at": at if predicate == "finished" else None,
    })
    return [FlowRecord("pipeline_run", values)]


def _artifact_sha(artifact_id: str) -> str | None:
    # Only a git commit can be matched with a change's merge sha; an image digest cannot.
    version = artifact_id.rsplit("@", 1)[-1].split("?", 1)[0] if "@" in artifact_id else ""
    return version if _COMMIT_SHA.match(version) else None


def service_record(context: dict, subject: dict, predicate: str, connection: str) -> list[FlowRecord]:
    """A service deployed, upgraded or rolled back: one finished, successful deployment."""
    content = subject.get("content") or {}
    environment = content.get("environment") or {}
    name = environment.get("id") or environment.get("source") or "unknown"
    artifact = unquote(str(content.get("artifactId") or "")) or None
    at = parse_time(context.get("timestamp"))
    values = _base(context, content, f"cdevents:{context.get('source')}:{context['id']}", None, connection)
    values.update({
        "environment": name, "tier": environment_tier(name),
        "sha": _artifact_sha(artifact) if artifact else None, "ref": artifact[:400] if artifact else None,
        # The event reports a moment, not a span: the deployment starts and finishes then.
        "status": "success", "started_at": at, "finished_at": at,
    })
    return [FlowRecord("deployment", values)]


def incident_record(context: dict, subject: dict, predicate: str, connection: str) -> list[FlowRecord]:
    """An incident detected or reported (open), then resolved; a `detected`/`reported` newer than the
    resolution reopens it (portal/flow/lifecycle.py clears its resolved_at). Each event is also kept in
    the incident's history."""
    content = subject.get("content") or {}
    at = parse_time(context.get("timestamp"))
    opened = predicate in ("detected", "reported")
    if not opened and predicate != "resolved":
        return []
    status = "triggered" if opened else "resolved"
    record_id = _subject_id(context, subject)
    values = _base(context, content, record_id, content.get("ticketURI"), connection)
    values.update({
        # The resolved event describes the recovery, not the incident: keep the opening description.
        "title": content.get("description") if opened else None,
        "severity": content.get("severity"),
        "status": status,
        # The earliest detection wins (lifecycle.py): a reopening detection does not move the start.
        "created_at": at if opened else None, "resolved_at": at if predicate == "resolved" else None,
    })
    records = [FlowRecord("incident", values)]
    if at is not None:
        records.append(FlowRecord("incident_event", {"incident_id": record_id, "event": predicate, "status": status,
                                                     "at": at, "actor": None}))
    return records


def ticket_records(context: dict, subject: dict, predicate: str, connection: str) -> list[FlowRecord]:
    """A ticket as a work item, with the open/close transition its event represents."""
    content = subject.get("content") or {}
    at = parse_time(context.get("timestamp"))
    item_id = _subject_id(context, subject)
    status = {"created": "open", "closed": "closed"}.get(predicate)
    values = _base(context, content, item_id, content.get("uri"), connection)
    values.update({
        "key": str(subject["id"]), "title": content.get("summary"), "item_type": content.get("ticketType"),
        "status": status, "status_category": {"open": "todo", "closed": "done"}.get(status or ""),
        "created_at": at if predicate == "created" else None,
        "resolved_at": at if predicate == "closed" else None, "deleted": False,
        # Who opened the ticket; the closed event's `updatedBy` closed it and is not its author.
        "author": content.get("creator") if isinstance(content.get("creator"), str) else None,
    })
    records = [FlowRecord("work_item", values, defaults={"status": "open", "status_category": "todo"})]
    if status and at:
        records.append(FlowRecord("transition", {
            "work_item_id": item_id, "from_status": "open" if status == "closed" else None, "to_status": status,
            "at": at, "author": content.get("updatedBy") if status == "closed" else content.get("creator"),
        }))
    return records


# CDEvents subjects (and subject.predicate pairs) Flowport turns into flow records.
USED_SUBJECTS = ("change", "pipelinerun", "service.deployed", "service.upgraded", "service.rolledback",
                 "incident", "ticket")


def is_used(event_type: str) -> bool:
    """Whether events of this type (dev.cdevents.<subject>.<predicate>.<version>) become records."""
    parts = event_type.split(".")
    if len(parts) < 4 or parts[:2] != ["dev", "cdevents"]:
        return False
    subject, predicate = parts[2], parts[3]
    return subject in USED_SUBJECTS or f"{subject}.{predicate}" in USED_SUBJECTS


_HANDLERS = {"change": change_record, "pipelinerun": pipelinerun_record, "incident": incident_record,
             "ticket": ticket_records}
_SERVICE_PREDICATES = ("deployed", "upgraded", "rolledback")


@readable_errors("CDEvents")
def normalize_event(payload: object, connection: str = "default", event_type: str = "") -> list[FlowRecord]:
    """Records for one delivery; [] for CDEvents Flowport does not model (artifacts, builds, tests …)."""
    event = cdevent_of(payload)
    if event is None:
        return []
    context, subject = event["context"], event["subject"]
    parts = str(context.get("type") or event_type).split(".")
    if len(parts) < 4 or parts[:2] != ["dev", "cdevents"] or subject.get("id") in (None, ""):
        return []
    kind, predicate = parts[2], parts[3]
    if kind == "service":
        return service_record(context, subject, predicate, connection) if predicate in _SERVICE_PREDICATES else []
    handler = _HANDLERS.get(kind)
    return handler(context, subject, predicate, connection) if handler else []
