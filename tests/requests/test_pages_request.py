"""The request page /requests/REQ-<n>: header, waiting on, timeline, approvals, moves and value, as people see them."""

from __future__ import annotations

import pytest

from portal.requests.models import Request
from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER, capability, store
from tests.requests.page_clients import (  # noqa: F401 - fixtures
    HTML,
    JSON,
    STRANGER,
    involved_app,
    move,
    page,
    person,
    post_form,
    raise_idea,
    raise_order,
    stage_of,
    text_of,
)


def test_the_page_shows_header_waiting_on_and_timeline(person):
    request_id = raise_order(person(REQUESTER), value_hypothesis="Canary releases cut failed deployments by half")
    text = text_of(page(person(REQUESTER), f"/requests/{request_id}"))
    assert f"{request_id} · Order" in text
    assert "Progressive delivery" in text
    assert "Stage awaiting-approval" in text
    assert "rui.requester" in text
    assert "Waiting on The approvers: team-sre" in text
    assert "2 days — within target" in text
    assert "Canary releases cut failed deployments by half" in text
    assert "awaiting-approval by rui.requester (user) Ordered" in text


def test_the_page_links_its_json_twin_and_answers_json_when_asked(person):
    client = person(REQUESTER)
    request_id = raise_order(client)
    html = page(client, f"/requests/{request_id}")
    assert f'<link rel="alternate" type="application/json" href="/api/v1/requests/{request_id}">' in html
    twin = client.get(f"/requests/{request_id}", headers=JSON)
    assert twin.status_code == 200
    assert twin.json() == client.get(f"/api/v1/requests/{request_id}").json()


def test_an_approver_sees_the_buttons_and_approves_without_javascript(person):
    request_id = raise_order(person(REQUESTER))
    approver = person(APPROVER)
    assert 'value="approve"' in page(approver, f"/requests/{request_id}")
    response = post_form(approver, f"/requests/{request_id}/decision", {"decision": "approve", "reason": ""})
    assert response.headers["location"] == f"/requests/{request_id}"
    text = text_of(page(approver, f"/requests/{request_id}"))
    assert "Stage fulfilling" in text
    assert "awaiting-approval → fulfilling by sami.approver (user) Approved" in text


def test_a_rejection_without_reason_is_a_readable_422_and_changes_nothing(person):
    request_id = raise_order(person(REQUESTER))
    approver = person(APPROVER)
    response = post_form(approver, f"/requests/{request_id}/decision", {"decision": "reject"}, status=422)
    assert "A rejection needs a reason" in response.text and "Traceback" not in response.text
    assert stage_of(approver, request_id) == "awaiting-approval"
    post_form(approver, f"/requests/{request_id}/decision", {"decision": "reject", "reason": "Needs SLOs first"})
    assert stage_of(approver, request_id) == "rejected"


@pytest.mark.parametrize("who", [OUTSIDER, OWNER, REQUESTER])
def test_a_non_approver_sees_no_buttons_and_gets_a_403_page(person, who):
    request_id = raise_order(person(REQUESTER))
    client = person(who)
    assert 'value="approve"' not in page(client, f"/requests/{request_id}")
    response = post_form(client, f"/requests/{request_id}/decision", {"decision": "approve"}, status=403)
    assert "Only members of group:default/team-sre may decide" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert stage_of(client, request_id) == "awaiting-approval"


def test_a_stranger_gets_404_for_the_page_and_every_form(person):
    request_id = raise_order(person(REQUESTER))
    stranger = person(STRANGER)
    assert "There is no request" in page(stranger, f"/requests/{request_id}", status=404)
    assert stranger.get(f"/requests/{request_id}", headers=JSON).status_code == 404
    for path, data in (("decision", {"decision": "approve"}), ("transition", {"to": "cancelled"}),
                       ("value", {"rating": "5", "time_saved": "PT1H"}), ("comments", {"body": "hi"}),
                       ("vote", {})):
        post_form(stranger, f"/requests/{request_id}/{path}", data, status=404)
    assert stage_of(person(REQUESTER), request_id) == "awaiting-approval"


@pytest.mark.parametrize("bad_id", ["REQ-0", "REQ-99999999999", "REQ-2147483648", "..%2F..%2Fetc", "REQ-%E2%91%A0",
                                    "42", "REQ-1%00"])
def test_ids_that_are_no_request_are_a_404_page(person, bad_id):
    response = person(REQUESTER).get(f"/requests/{bad_id}", headers=HTML)
    assert response.status_code in (400, 404)
    assert "Traceback" not in response.text


def test_owners_move_a_request_with_a_note_and_work_time(person):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    owner = person(OWNER)
    html = page(owner, f"/requests/{request_id}")
    assert 'name="to"' in html and "Waiting on The owners: team-dx" in text_of(html)
    post_form(owner, f"/requests/{request_id}/transition", {"to": "fulfilling", "note": "On it", "work_time": ""})
    post_form(owner, f"/requests/{request_id}/transition", {"to": "delivered", "note": "Flags ready",
                                                             "work_time": "PT2H"})
    event = owner.get(f"/api/v1/requests/{request_id}").json()["events"][-1]
    assert (event["to"], event["note"], event["workTimeSeconds"]) == ("delivered", "Flags ready", 7200)
    post_form(owner, f"/requests/{request_id}/transition", {"to": "fulfilling", "note": "Broken"})
    assert "rework" in page(owner, f"/requests/{request_id}")


@pytest.mark.parametrize("work_time", ["two hours", "P1Y", "PT99999999999999999999H", "-PT1H"])
def test_a_bad_work_time_is_a_readable_422(person, work_time):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    owner = person(OWNER)
    response = post_form(owner, f"/requests/{request_id}/transition", {"to": "fulfilling", "work_time": work_time},
                         status=422)
    assert "workTime" in response.text
    assert stage_of(owner, request_id) == "submitted"


def test_a_requester_may_only_cancel_and_others_may_not_move(person):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    requester = person(REQUESTER)
    html = page(requester, f"/requests/{request_id}")
    assert '<option value="cancelled">' in html and '<option value="fulfilling">' not in html
    response = post_form(requester, f"/requests/{request_id}/transition", {"to": "delivered"}, status=403)
    assert "Only members of group:default/team-dx may move" in response.text
    assert 'name="to"' not in page(person(OUTSIDER), f"/requests/{request_id}")
    post_form(requester, f"/requests/{request_id}/transition", {"to": "cancelled", "note": "Not needed"})
    assert stage_of(requester, request_id) == "cancelled"


def test_an_unknown_stage_is_a_422_page_naming_the_stages(person):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    response = post_form(person(OWNER), f"/requests/{request_id}/transition", {"to": "../../etc/passwd"}, status=422)
    assert "is not a stage of this order" in response.text


def test_the_requester_confirms_value_after_delivery(person):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    owner, requester = person(OWNER), person(REQUESTER)
    assert 'action="/requests/%s/value"' % request_id not in page(requester, f"/requests/{request_id}")
    move(owner, request_id, "delivered")
    html = page(requester, f"/requests/{request_id}")
    assert f'action="/requests/{request_id}/value"' in html
    assert "Waiting on You, the requester" in text_of(html)
    assert f'action="/requests/{request_id}/value"' not in page(owner, f"/requests/{request_id}")
    post_form(requester, f"/requests/{request_id}/value", {"rating": "4", "time_saved": "PT6H", "comment": "Great"})
    text = text_of(page(requester, f"/requests/{request_id}"))
    assert "Rating 4/5" in text and "Time saved 6 hours" in text and "Stage value-confirmed" in text


@pytest.mark.parametrize("rating,time_saved,expected", [
    ("0", "PT1H", "rating"), ("6", "PT1H", "rating"), ("four", "PT1H", "rating"),
    ("99999", "PT1H", "rating"), ("3", "P2Y", "timeSaved"), ("3", "P400D", "timeSaved"), ("3", "soon", "timeSaved"),
])
def test_bad_value_answers_are_readable_422s(person, rating, time_saved, expected):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    move(person(OWNER), request_id, "delivered")
    requester = person(REQUESTER)
    response = post_form(requester, f"/requests/{request_id}/value", {"rating": rating, "time_saved": time_saved},
                         status=422)
    assert expected in response.text
    assert stage_of(requester, request_id) == "delivered"


def test_someone_else_may_not_confirm_value(person):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    move(person(OWNER), request_id, "delivered")
    response = post_form(person(OUTSIDER), f"/requests/{request_id}/value", {"rating": "5", "time_saved": "PT1H"},
                         status=403)
    assert "Only the requester" in response.text


def test_waiting_on_automation_for_an_automated_order(person):
    request_id = raise_order(person(REQUESTER), "new-python-service")
    assert "Waiting on Automation" in text_of(page(person(REQUESTER), f"/requests/{request_id}"))


def test_secret_parameters_are_masked(person, session):
    store(session, [capability("database-credentials", "manual", inputs={
        "type": "object",
        "properties": {
            "database": {"type": "string"},
            "adminPassword": {"type": "string", "ui:widget": "password"},
            "rotation": {"type": "object", "properties": {"vaultKey": {"type": "string", "ui:field": "Secret"}}},
            "apiToken": {"type": "string"},
        }})])
    client = person(REQUESTER)
    request_id = raise_order(client, "database-credentials", parameters={
        "database": "orders", "adminPassword": "hunter2-secret", "rotation": {"vaultKey": "vk-1234567"},
        "apiToken": "tok-abcdef"})
    html = page(client, f"/requests/{request_id}")
    assert "orders" in html
    for secret in ("hunter2-secret", "vk-1234567", "tok-abcdef"):
        assert secret not in html
    assert html.count("••••••") == 3


def test_titles_notes_and_hypotheses_are_escaped(person):
    client = person(REQUESTER)
    request_id = raise_order(client, "feature-flags", title="<script>alert(1)</script>",
                             value_hypothesis="<img src=x onerror=alert(2)>")
    post_form(person(OWNER), f"/requests/{request_id}/transition",
              {"to": "fulfilling", "note": '"><svg onload=alert(3)>'})
    html = page(client, f"/requests/{request_id}")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<svg onload" not in html


def test_forms_without_a_csrf_token_are_refused(person):
    request_id = raise_order(person(REQUESTER))
    approver = person(APPROVER)
    approver.headers.pop("X-CSRF-Token")
    response = approver.post(f"/requests/{request_id}/decision", data={"decision": "approve"}, headers=HTML,
                             follow_redirects=False)
    assert response.status_code == 403 and "CSRF" in response.text
    response = approver.post(f"/requests/{request_id}/decision",
                             data={"decision": "approve", "csrf_token": "forged"}, headers=HTML)
    assert response.status_code == 403
    assert stage_of(approver, request_id) == "awaiting-approval"


def test_oversized_and_nul_form_values_are_refused(person):
    request_id = raise_order(person(REQUESTER), "feature-flags")
    owner = person(OWNER)
    response = owner.post(f"/requests/{request_id}/transition", data={"to": "fulfilling", "note": "x" * 2001},
                          headers=HTML)
    assert response.status_code == 400 and "Traceback" not in response.text
    response = owner.post(f"/requests/{request_id}/transition", data={"to": "fulfilling", "note": "a\x00b"},
                          headers=HTML)
    assert response.status_code == 400
    assert stage_of(owner, request_id) == "submitted"


def test_an_idea_page_takes_votes_and_comments(person):
    idea = raise_idea(person(REQUESTER))
    voter = person(OUTSIDER)
    post_form(voter, f"/requests/{idea}/vote", {"next": "https://evil.example/"})
    assert voter.get(f"/api/v1/requests/{idea}").json()["votes"] == 1
    for hostile in ("//evil.example", "javascript:alert(1)", "/\\evil.example", "https://evil.example/x"):
        response = post_form(voter, f"/requests/{idea}/vote", {"next": hostile})
        assert response.headers["location"] == f"/requests/{idea}"
    assert voter.get(f"/api/v1/requests/{idea}").json()["votes"] == 1
    post_form(voter, f"/requests/{idea}/comments", {"body": "<b>yes</b> please"})
    html = page(voter, f"/requests/{idea}")
    assert "&lt;b&gt;yes&lt;/b&gt; please" in html and "You voted" in html


def test_a_vote_through_htmx_answers_the_fragment(person):
    idea = raise_idea(person(REQUESTER))
    voter = person(OUTSIDER)
    response = voter.post(f"/requests/{idea}/vote", data={}, headers={**HTML, "HX-Request": "true"})
    assert response.status_code == 200
    assert 'class="idea-votes"' in response.text and "<html" not in response.text
    assert 'aria-label="1 vote"' in response.text


def test_orders_take_no_votes(person):
    request_id = raise_order(person(REQUESTER))
    response = post_form(person(REQUESTER), f"/requests/{request_id}/vote", {}, status=409)
    assert "Only ideas take votes" in response.text


def test_the_log_section_appears_only_with_a_task(person, session):
    client = person(REQUESTER)
    request_id = raise_order(client, "new-python-service")
    assert 'id="task-log"' not in page(client, f"/requests/{request_id}")
    row = session.get(Request, int(request_id.removeprefix("REQ-")))
    row.task_id = "7f3c9a2e-task"
    session.add(row)
    session.commit()
    html = page(client, f"/requests/{request_id}")
    assert 'data-stream-url="/api/scaffolder/v2/tasks/7f3c9a2e-task/eventstream"' in html
    assert '<script src="/static/request_log.js" defer></script>' in html


def test_an_unknown_decision_is_a_422_for_approvers_and_a_403_for_others(person):
    request_id = raise_order(person(REQUESTER))
    response = post_form(person(APPROVER), f"/requests/{request_id}/decision", {"decision": "maybe"}, status=422)
    assert "decision must be approve or reject" in response.text
    post_form(person(OUTSIDER), f"/requests/{request_id}/decision", {"decision": "maybe"}, status=403)
