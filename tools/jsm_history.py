"""Convert a Jira Service Management export to the request history `flowport requests import` reads.

    python -m tools.jsm_history EXPORT.json [EXPORT-2.json ...] --capability ci-pipeline > history.jsonl

An export is what Jira's REST search answers with the status history included, page by page:
`GET /rest/api/3/search?jql=project=ITSM&expand=changelog&fields=*all` (an object with `issues`), a
list of such issues, or one issue per line. Each issue becomes one order: its key is the id, its
reporter the requester, its summary the title, its status changes (changelog items on `status`) the
events, mapped to portal stages with DEFAULT_STAGES and `--status "Name=stage"`; a satisfaction
rating becomes the value when `--time-saved` says what one request saves. docs/requests-import.md
walks through it. Standard library only, so it runs wherever the export is.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

# The statuses of JSM's default service-request workflows, lower-cased, to order stages.
DEFAULT_STAGES = {
    "open": "submitted", "waiting for support": "submitted", "to do": "submitted", "new": "submitted",
    "waiting for approval": "awaiting-approval", "pending approval": "awaiting-approval",
    "in progress": "fulfilling", "work in progress": "fulfilling", "escalated": "fulfilling",
    "waiting for customer": "fulfilling", "pending": "fulfilling",
    "resolved": "delivered", "done": "delivered", "closed": "delivered", "completed": "delivered",
    "canceled": "cancelled", "cancelled": "cancelled", "declined": "rejected", "rejected": "rejected",
    "failed": "failed",
}
_NAME_CHARACTERS = re.compile(r"[^a-z0-9._-]+")


class SkippedIssue(ValueError):
    """An issue the converter cannot express; the message names the issue and the fix."""


def _iso(text: object, key: str, what: str) -> str:
    """Jira's `2025-01-06T09:00:00.000+0100` as `2025-01-06T08:00:00Z` (UTC, as the import expects)."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise SkippedIssue(f"{key}: {what} {str(text)[:40]!r} is not a Jira time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def user_ref(person: object, namespace: str) -> str | None:
    """A catalog user ref for a Jira user: the local part of their e-mail address, else their account id."""
    if not isinstance(person, dict):
        return None
    email = person.get("emailAddress")
    raw = email.split("@", 1)[0] if isinstance(email, str) and "@" in email else person.get("accountId") \
        or person.get("name")
    name = _NAME_CHARACTERS.sub("-", str(raw or "").lower()).strip("-._")[:63]
    return f"user:{namespace}/{name}" if name else None


def _stage(status: object, key: str, stages: dict[str, str]) -> str:
    stage = stages.get(str(status or "").strip().lower())
    if stage is None:
        raise SkippedIssue(f"{key}: status {status!r} has no portal stage; add --status {str(status)!r}=<stage>")
    return stage


def _status_changes(issue: dict) -> list[tuple[str, dict, dict]]:
    """(time, history, item) of every status change in the issue's changelog, oldest first."""
    histories = (issue.get("changelog") or {}).get("histories") or []
    changes = [(history.get("created"), history, item) for history in histories if isinstance(history, dict)
               for item in history.get("items") or [] if isinstance(item, dict)
               and str(item.get("field") or item.get("fieldId") or "").lower() == "status"]
    return sorted(changes, key=lambda change: _iso(change[0], issue.get("key", "?"), "a change's time"))


def _request_type(fields: dict, field: str | None) -> str | None:
    value = fields.get(field) if field else None
    if isinstance(value, dict):
        request_type = value.get("requestType") if isinstance(value.get("requestType"), dict) else value
        return request_type.get("name")
    return value if isinstance(value, str) else None


def convert_issue(issue: dict, options: argparse.Namespace) -> dict:
    """One JSM issue as one history line."""
    key = str(issue.get("key") or issue.get("id") or "")
    if not key:
        raise SkippedIssue("an issue without key or id")
    fields = issue.get("fields") or {}
    request_type = _request_type(fields, options.request_type_field)
    capability = options.capabilities.get((request_type or "").lower(), options.capability)
    if not capability:
        raise SkippedIssue(f"{key}: request type {request_type!r} has no capability; "
                           f"add --request-type {str(request_type)!r}=<capability> or --capability")
    created = _iso(fields.get("created"), key, "created")
    requester = user_ref(fields.get("reporter"), options.namespace) or user_ref(fields.get("creator"),
                                                                                  options.namespace)
    if requester is None:
        raise SkippedIssue(f"{key}: no reporter to use as the requester")
    changes = _status_changes(issue)
    first_status = changes[0][2].get("fromString") if changes else (fields.get("status") or {}).get("name")
    events = [{"at": created, "to": _stage(first_status, key, options.stages), "source": "user",
               "note": f"Imported from {key}"}]
    for at, history, item in changes:
        stage = _stage(item.get("toString"), key, options.stages)
        if stage == events[-1]["to"]:
            continue  # two Jira statuses that are one portal stage
        event = {"at": _iso(at, key, "a change's time"), "to": stage, "source": "user",
                 "note": f"{item.get('fromString')} → {item.get('toString')}"}
        if actor := user_ref(history.get("author"), options.namespace):
            event["actor"] = actor
        events.append(event)
    line = {"id": key, "kind": "order", "capability": capability, "requester": requester,
            "title": str(fields.get("summary") or key)[:200], "createdAt": created, "parameters": {},
            "events": events}
    if isinstance(fields.get("issuetype"), dict) and "bug" in str(fields["issuetype"].get("name", "")).lower():
        line["flowItemType"] = "defect"
    rating = (fields.get(options.satisfaction_field) or {}) if options.satisfaction_field else {}
    if options.time_saved and isinstance(rating, dict) and isinstance(rating.get("rating"), int):
        line["value"] = {"rating": rating["rating"], "timeSaved": options.time_saved,
                         "comment": (rating.get("comment") or {}).get("body") if isinstance(rating.get("comment"),
                                                                                           dict) else None}
    return line


def read_issues(paths: Iterable[Path]) -> Iterator[dict]:
    """Issues from search-result pages, lists of issues, or JSON Lines of issues."""
    for path in paths:
        text = path.read_text(encoding="utf-8")
        try:
            documents = [json.loads(text)]
        except json.JSONDecodeError:
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        for document in documents:
            if isinstance(document, dict) and isinstance(document.get("issues"), list):
                yield from document["issues"]
            elif isinstance(document, list):
                yield from document
            elif isinstance(document, dict):
                yield document


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, separator, target = value.rpartition("=")
        if not separator or not name.strip() or not target.strip():
            raise SystemExit(f"{option} takes NAME=VALUE, not {value!r}")
        pairs[name.strip().lower()] = target.strip()
    return pairs


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.jsm_history", description=__doc__.split("\n\n")[0])
    parser.add_argument("exports", nargs="+", type=Path, help="JSM export files (REST search results with changelog)")
    parser.add_argument("--capability", help="capability for issues whose request type is not mapped")
    parser.add_argument("--request-type", action="append", default=[], metavar="NAME=CAPABILITY",
                        help="map a JSM request type to a capability (repeatable)")
    parser.add_argument("--request-type-field", default=None, metavar="FIELD",
                        help="the field holding the request type, e.g. customfield_10010")
    parser.add_argument("--status", action="append", default=[], metavar="NAME=STAGE",
                        help="map a JSM status to a portal stage (repeatable; adds to the defaults)")
    parser.add_argument("--satisfaction-field", default=None, metavar="FIELD",
                        help="the field holding the satisfaction rating, e.g. customfield_10032")
    parser.add_argument("--time-saved", default=None, metavar="DURATION",
                        help="ISO-8601 time one fulfilled request saves (needed to import ratings as value)")
    parser.add_argument("--namespace", default="default", help="catalog namespace of the users")
    options = parser.parse_args(argv)
    options.capabilities = _pairs(options.request_type, "--request-type")
    options.stages = {**DEFAULT_STAGES, **_pairs(options.status, "--status")}
    return options


def convert(issues: Iterable[dict], options: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Write one line per convertible issue to `out`, a reason per other issue to `err`; how many were skipped."""
    skipped = 0
    for issue in issues:
        try:
            out.write(json.dumps(convert_issue(issue, options), ensure_ascii=False) + "\n")
        except SkippedIssue as problem:
            skipped += 1
            err.write(f"skipped {problem}\n")
    return skipped


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    skipped = convert(read_issues(options.exports), options, sys.stdout, sys.stderr)
    return 1 if skipped else 0


if __name__ == "__main__":
    raise SystemExit(main())
