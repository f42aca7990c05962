"""The flow API: entity linking, paging in both directions, time windows and error shapes."""

import base64
import json
from datetime import timedelta

import pytest

from portal.flow.records import FlowRecord
from tests.flow.factories import (
    GITHUB,
    PAGERDUTY,
    T0,
    all_pages,
    change,
    deployment,
    incident,
    make_component,
    pipeline_run,
    save,
    work_item,
)

REPO = "Codertocat/Hello-World"


@pytest.fixture
def linked(session):
    """Two entities sharing a repository, one with its own repo and a PagerDuty service."""
    make_component(session, "hello-world", {GITHUB: REPO, PAGERDUTY: "PSVC1"})
    make_component(session, "hello-world-docs", {GITHUB: REPO.lower()})
    make_component(session, "other", {GITHUB: "octo/other"})
    make_component(session, "unlinked")
    return session


def test_changes_of_an_entity_carry_every_required_field_and_all_linked_entities(client, linked):
    save(linked, [change(REPO, 1, T0, state="merged", merged_at=T0 + timedelta(hours=2), merge_sha="abc123",
                         first_commit_at=T0 - timedelta(days=1)),
                  change("octo/other", 7, T0)])
    body = client.get("/api/v1/flow/changes", params={"entity": "component:default/hello-world"}).json()
    assert body["totalItems"] == 1 and body["pageInfo"] == {}
    [item] = body["items"]
    assert item["id"] == "github:Codertocat/Hello-World#1"
    assert item["entityRefs"] == ["component:default/hello-world", "component:default/hello-world-docs"]
    assert (item["repository"], item["number"], item["state"], item["mergeSha"]) == (REPO, 1, "merged", "abc123")
    assert item["createdAt"] == "2024-05-01T12:00:00Z"
    assert item["firstCommitAt"] == "2024-04-30T12:00:00Z"
    assert item["mergedAt"] == "2024-05-01T14:00:00Z"
    for key in ("source", "title", "author", "url", "linkAnnotation", "linkValue", "closedAt", "baseBranch"):
        assert key in item


def test_deployments_and_incidents_have_their_required_fields(client, linked):
    save(linked, [deployment(REPO, 42, "prod-eu", T0), incident("PSVC1", 9, T0, resolved_at=T0 + timedelta(hours=1),
                                                                  status="resolved")])
    [dep] = client.get("/api/v1/flow/deployments?entity=component:hello-world").json()["items"]
    assert {k: dep[k] for k in ("environment", "tier", "status", "startedAt", "finishedAt")} == {
        "environment": "prod-eu", "tier": "production", "status": "success",
        "startedAt": "2024-05-01T12:00:00Z", "finishedAt": "2024-05-01T12:05:00Z"}
    assert {"id", "source", "entityRefs", "repository", "sha"} <= dep.keys()
    [inc] = client.get("/api/v1/flow/incidents?entity=component:default/hello-world").json()["items"]
    assert (inc["title"], inc["severity"], inc["resolvedAt"]) == ("Incident 9", "high", "2024-05-01T13:00:00Z")
    assert inc["entityRefs"] == ["component:default/hello-world"]


def test_paging_forwards_and_back_visits_every_record_once_newest_first(client, linked):
    # Two records share each timestamp so the id tie-break matters.
    save(linked, [change(REPO, n, T0 + timedelta(hours=n // 2)) for n in range(1, 12)])
    seen, pages, url = [], [], "/api/v1/flow/changes?entity=component:default/hello-world&limit=4"
    while url:
        body = client.get(url).json()
        assert body["totalItems"] == 11
        pages.append(body)
        seen += [item["number"] for item in body["items"]]
        cursor = body["pageInfo"].get("nextCursor")
        url = f"/api/v1/flow/changes?cursor={cursor}&limit=4" if cursor else None
    assert [len(p["items"]) for p in pages] == [4, 4, 3]
    assert seen == [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert "prevCursor" not in pages[0]["pageInfo"]
    back = client.get(f"/api/v1/flow/changes?cursor={pages[2]['pageInfo']['prevCursor']}&limit=4").json()
    assert [item["number"] for item in back["items"]] == [7, 6, 5, 4]
    first = client.get(f"/api/v1/flow/changes?cursor={back['pageInfo']['prevCursor']}&limit=4").json()
    assert [item["number"] for item in first["items"]] == [11, 10, 9, 8]
    assert "prevCursor" not in first["pageInfo"]


def test_since_and_until_filter_on_the_main_time_and_stick_to_the_cursor(client, linked):
    save(linked, [pipeline_run(REPO, n, "success", T0 + timedelta(days=n)) for n in range(10)])
    params = {"entity": "component:default/hello-world", "since": "2024-05-03T12:00:00Z",
              "until": "2024-05-08T12:00:00+00:00", "limit": 2}
    body = client.get("/api/v1/flow/pipeline-runs", params=params).json()
    assert body["totalItems"] == 5
    assert all_pages(client, "/api/v1/flow/pipeline-runs", body, "id") == [f"github:{REPO}:run:{n}" for n in (6, 5, 4, 3, 2)]


def test_without_an_entity_every_record_is_listed(client, linked):
    save(linked, [change(REPO, 1, T0), change("octo/other", 2, T0 + timedelta(hours=1))])
    body = client.get("/api/v1/flow/changes").json()
    assert [item["entityRefs"] for item in body["items"]] == [
        ["component:default/other"], ["component:default/hello-world", "component:default/hello-world-docs"]]


def test_an_entity_without_link_annotations_has_no_records(client, linked):
    save(linked, [change(REPO, 1, T0)])
    body = client.get("/api/v1/flow/changes?entity=component:default/unlinked").json()
    assert body == {"items": [], "totalItems": 0, "pageInfo": {}}


def test_work_items_expose_their_transitions(client, linked):
    make_component(linked, "tickets", {"jira/project-key": "FLOW"})
    save(linked, [work_item("FLOW", "FLOW-1", T0),
                  FlowRecord("transition", {"work_item_id": "jira:FLOW-1", "from_status": None, "to_status": "To Do",
                                            "at": T0}),
                  FlowRecord("transition", {"work_item_id": "jira:FLOW-1", "from_status": "To Do",
                                            "to_status": "In Progress", "at": T0 + timedelta(hours=3),
                                            "author": "alice"})])
    [item] = client.get("/api/v1/flow/work-items?entity=component:default/tickets").json()["items"]
    assert (item["key"], item["statusCategory"], item["entityRefs"]) == ("FLOW-1", "todo", ["component:default/tickets"])
    body = client.get(f"/api/v1/flow/work-items/{item['id']}/transitions").json()
    assert [(t["fromStatus"], t["toStatus"], t["at"]) for t in body["items"]] == [
        (None, "To Do", "2024-05-01T12:00:00Z"), ("To Do", "In Progress", "2024-05-01T15:00:00Z")]
    assert client.get("/api/v1/flow/work-items/jira:NOPE-1/transitions").status_code == 404


def test_an_unknown_entity_is_a_404_in_the_error_shape(client, linked):
    response = client.get("/api/v1/flow/deployments?entity=component:default/ghost")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == {"name": "NotFoundError", "message": "No entity component:default/ghost in the catalog"}
    assert body["response"] == {"statusCode": 404}


@pytest.mark.parametrize("query, words", [
    ("since=last-tuesday", "since='last-tuesday' is not a time"),
    ("until=2024-13-45", "until='2024-13-45' is not a time"),
    ("cursor=not-a-cursor", "Malformed cursor"),
    ("cursor=" + "W1tb" * 2000, "Malformed cursor"),  # JSON nested 6,000 deep
    ("limit=0", "limit"),
    ("limit=9223372036854775808", "limit"),
])
def test_bad_parameters_are_a_400_naming_the_problem(client, linked, query, words):
    response = client.get(f"/api/v1/flow/changes?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["name"] == "InputError"
    assert words in response.json()["error"]["message"]


def test_a_cursor_of_one_collection_is_refused_by_another(client, linked):
    save(linked, [change(REPO, n, T0 + timedelta(hours=n)) for n in range(3)])
    cursor = client.get("/api/v1/flow/changes?limit=1").json()["pageInfo"]["nextCursor"]
    response = client.get(f"/api/v1/flow/deployments?cursor={cursor}")
    assert response.status_code == 400
    assert "pages through changes" in response.json()["error"]["message"]


def test_an_unknown_collection_is_refused(client, linked):
    assert client.get("/api/v1/flow/tickets").status_code == 400


def test_a_nul_hidden_in_a_cursor_is_refused(client, linked):
    save(linked, [change(REPO, n, T0 + timedelta(hours=n)) for n in range(1, 4)])
    body = client.get("/api/v1/flow/changes?entity=component:default/hello-world&limit=1").json()
    token = body["pageInfo"]["nextCursor"]
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload["e"] = "component:default/hello\x00world"
    hidden = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    response = client.get(f"/api/v1/flow/changes?cursor={hidden}&limit=1")
    assert response.status_code == 400 and "Malformed cursor" in response.json()["error"]["message"]
