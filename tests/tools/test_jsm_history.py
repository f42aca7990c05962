"""tools/jsm_history.py: a JSM REST search export (with changelog) becomes an importable request history."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from portal.requests.history_import import HistoryImporter
from portal.requests.models import Request, RequestEvent
from tests.requests.factories import seed_request_catalog
from tools.jsm_history import convert, parse_arguments, read_issues


def _status(at: str, old: str, new: str, author: str = "olga.owner@northwind.example") -> dict:
    return {"id": at[-6:], "created": at, "author": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": author,
                                                     "displayName": "Olga Owner"},
            "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": old,
                       "to": "3", "toString": new}]}


def _issue(key: str, summary: str, request_type: str, created: str, histories: list[dict], **fields) -> dict:
    return {"expand": "operations,changelog", "id": str(10000 + int(key.split("-")[1])),
            "self": f"https://northwind.atlassian.net/rest/api/3/issue/{key}", "key": key,
            "fields": {"summary": summary, "created": created, "issuetype": {"name": "Service Request"},
                       "status": {"name": "Resolved"},
                       "reporter": {"accountId": "5b10a2844c20165700ede21g", "emailAddress": "Rui.Requester@northwind.example",
                                    "displayName": "Rui Requester"},
                       "customfield_10010": {"requestType": {"id": "12", "name": request_type}}, **fields},
            "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}}


SEARCH_PAGE = {
    "expand": "schema,names", "startAt": 0, "maxResults": 50, "total": 3,
    "issues": [
        _issue("ITSM-7", "New CI pipeline for billing", "Get a CI pipeline", "2025-01-06T10:00:00.000+0100", [
            _status("2025-01-06T10:20:00.000+0100", "Waiting for support", "In Progress"),
            _status("2025-01-06T12:00:00.000+0100", "In Progress", "Waiting for customer"),
            _status("2025-01-07T09:00:00.000+0100", "Waiting for customer", "Resolved"),
            _status("2025-01-08T09:00:00.000+0100", "Resolved", "Closed"),
        ], customfield_10032={"rating": 5}),
        _issue("ITSM-8", "Feature flags for checkout", "Feature flags", "2025-01-09T08:00:00.000+0000", [
            _status("2025-01-09T09:00:00.000+0000", "Waiting for support", "Declined"),
        ]),
        _issue("ITSM-9", "Something odd", "Get a CI pipeline", "2025-01-10T08:00:00.000+0000", [
            _status("2025-01-10T09:00:00.000+0000", "Waiting for support", "Escalated to vendor"),
        ]),
    ],
}
ARGUMENTS = ["--request-type", "Get a CI pipeline=ci-pipeline", "--request-type", "Feature flags=feature-flags",
             "--request-type-field", "customfield_10010", "--satisfaction-field", "customfield_10032",
             "--time-saved", "PT4H"]


def _convert(tmp_path, arguments=ARGUMENTS) -> tuple[list[dict], str, int]:  # noqa: ANN001
    export = tmp_path / "export.json"
    export.write_text(json.dumps(SEARCH_PAGE), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    skipped = convert(read_issues([export]), parse_arguments([str(export), *arguments]), out, err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue(), skipped


def test_issues_become_orders_with_mapped_stages(tmp_path):
    lines, errors, skipped = _convert(tmp_path)
    assert skipped == 1 and errors == ("skipped ITSM-9: status 'Escalated to vendor' has no portal stage; "
                                       "add --status 'Escalated to vendor'=<stage>\n")
    first = lines[0]
    assert first["id"] == "ITSM-7" and first["capability"] == "ci-pipeline"
    assert first["requester"] == "user:default/rui.requester"
    assert first["createdAt"] == "2025-01-06T09:00:00.000Z"
    # Waiting for customer is still fulfilling, and Resolved → Closed is one stage: both moves are dropped.
    assert [(event["at"], event["to"]) for event in first["events"]] == [
        ("2025-01-06T09:00:00.000Z", "submitted"), ("2025-01-06T09:20:00.000Z", "fulfilling"),
        ("2025-01-07T08:00:00.000Z", "delivered")]
    assert first["events"][1]["actor"] == "user:default/olga.owner"
    assert first["value"] == {"rating": 5, "timeSaved": "PT4H", "comment": None}
    assert lines[1]["capability"] == "feature-flags" and lines[1]["events"][-1]["to"] == "rejected"


def test_an_extra_status_mapping_converts_the_odd_one(tmp_path):
    lines, errors, skipped = _convert(tmp_path, [*ARGUMENTS, "--status", "Escalated to vendor=fulfilling"])
    assert skipped == 0 and errors == ""
    assert lines[2]["events"][-1]["to"] == "fulfilling"


def test_the_converted_history_imports(tmp_path, session):
    seed_request_catalog(session)
    lines, _, _ = _convert(tmp_path)
    report = HistoryImporter(session).import_lines(
        (number, json.dumps(line).encode()) for number, line in enumerate(lines, start=1))
    session.commit()
    assert report.imported == 2 and report.failures == []
    titles = dict(session.execute(select(Request.title, Request.stage)).all())
    assert titles == {"New CI pipeline for billing": "delivered", "Feature flags for checkout": "rejected"}
    assert session.execute(select(RequestEvent.id)).all().__len__() == 5
