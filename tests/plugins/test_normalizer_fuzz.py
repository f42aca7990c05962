"""Every normalizer against every real payload of its tool (the shared fixtures), each key deleted or
given a value of another type, one at a time: the outcome is records every table can hold, or a
MalformedPayload whose message says what is wrong, never a KeyError, TypeError or other crash."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowport_cdevents import CDEventsConfig, CDEventsPlugin
from flowport_github import GitHubConfig, GitHubPlugin
from flowport_gitlab import GitLabConfig, GitLabPlugin
from flowport_jira import JiraConfig, JiraPlugin
from flowport_pagerduty import PagerDutyConfig, PagerDutyPlugin
from portal.flow.payload_shape import MalformedPayload
from portal.flow.record_checks import check_record
from portal.flow.records import FlowRecord
from portal.plugins.contract import InboxEvent
from tests.conftest import FIXTURES

PLUGINS = {
    "github": GitHubPlugin(GitHubConfig()), "gitlab": GitLabPlugin(GitLabConfig()),
    "jira": JiraPlugin(JiraConfig()), "pagerduty": PagerDutyPlugin(PagerDutyConfig()),
    "cdevents": CDEventsPlugin(CDEventsConfig()),
}
REPLACEMENTS: list[object] = [None, [], {}, "", "x", 2**64, -1, True, 1.5, "nul\x00byte", ["a", {"b": 1}]]
# How deep keys are changed: the event's own objects and the ones they hold (repository, issue.fields …).
DEPTH = 3


def _github_event(path: Path) -> str:
    # octokit-webhooks/<event>/<action>.payload.json, or <event>.<action>.json elsewhere.
    return path.parent.name if path.parent.parent.name == "octokit-webhooks" else path.name.split(".")[0]


def inbox_event(tool: str, path: Path, payload: object) -> InboxEvent:
    headers: dict[str, str] = {}
    event_type = ""
    if tool == "github":
        event_type = _github_event(path)
        headers = {"x-github-event": event_type}
    elif tool == "jira":
        event_type = str(json.loads(path.read_bytes()).get("webhookEvent"))
    elif tool == "cdevents":
        original = json.loads(path.read_bytes())
        event_type = str((original.get("context") or {}).get("type") or "")
    return InboxEvent(source=tool, connection="default", event_type=event_type, headers=headers, payload=payload)


def key_paths(document: object, prefix: tuple = (), depth: int = DEPTH) -> Iterator[tuple]:
    if depth == 0:
        return
    if isinstance(document, dict):
        for key, value in document.items():
            yield (*prefix, key)
            yield from key_paths(value, (*prefix, key), depth - 1)


def changed(document: dict, path: tuple, replacement: object, delete: bool) -> dict:
    copied = copy.deepcopy(document)
    container = copied
    for key in path[:-1]:
        container = container[key]
    if delete:
        del container[path[-1]]
    else:
        container[path[-1]] = replacement
    return copied


def fixtures_of(tool: str) -> list[Path]:
    return sorted((FIXTURES / tool).rglob("*.json"))


def outcome(tool: str, path: Path, payload: object) -> str:
    """`records` or `malformed: …`; anything else raises and fails the test with the payload change named."""
    try:
        records = PLUGINS[tool].normalize(inbox_event(tool, path, payload))
        assert isinstance(records, list)
        for record in records:
            assert isinstance(record, FlowRecord)
            # What the worker checks before writing: a value no table can hold fails the delivery, named.
            check_record(record)
    except MalformedPayload as error:
        assert str(error).strip(), "a MalformedPayload must say what is wrong"
        return f"malformed: {error}"
    return "records"


@pytest.mark.parametrize("tool", sorted(PLUGINS))
def test_every_key_deleted_or_retyped_is_records_or_a_clear_failure(tool):
    results: dict[str, int] = {}
    cases = 0
    for path in fixtures_of(tool):
        document = json.loads(path.read_bytes())
        assert outcome(tool, path, document) == "records", path  # the real payload itself is fine
        for key_path in key_paths(document):
            for index, replacement in enumerate([None, *REPLACEMENTS]):
                payload = changed(document, key_path, replacement, delete=index == 0)
                try:
                    result = outcome(tool, path, payload)
                except Exception as error:  # noqa: BLE001 - name the payload change that crashed
                    change = "deleted" if index == 0 else f"set to {replacement!r}"
                    pytest.fail(f"{path.relative_to(FIXTURES)}: {'.'.join(map(str, key_path))} {change}: "
                                f"{type(error).__name__}: {error}")
                kind = result.split(":", 1)[0]
                results[kind] = results.get(kind, 0) + 1
                cases += 1
    assert cases > 100 and results.get("records", 0) > 0 and results.get("malformed", 0) > 0, results


@pytest.mark.parametrize("tool", sorted(PLUGINS))
@pytest.mark.parametrize("payload", [None, [], "text", 7, {"unexpected": True}], ids=repr)
def test_payloads_of_the_wrong_shape_give_nothing_or_a_clear_failure(tool, payload):
    path = fixtures_of(tool)[0]
    assert outcome(tool, path, payload) in ("records",) or outcome(tool, path, payload).startswith("malformed: ")
