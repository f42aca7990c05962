"""The task log without JavaScript (/requests/REQ-<n>/log) and the feature detection of the log section."""

from __future__ import annotations

from portal.requests.models import Request
from tests.requests.browser.fake_task_events import FakeTaskApi, mount, task_events
from tests.requests.factories import REQUESTER
from tests.requests.page_clients import STRANGER, involved_app, page, person, raise_order, text_of  # noqa: F401

TASK = "5b0e6f1c-2d4a-4c3e-9f8a-1a2b3c4d5e6f"


def with_task(session, public_id: str, task_id: str = TASK) -> None:
    row = session.get(Request, int(public_id.removeprefix("REQ-")))
    row.task_id = task_id
    session.add(row)
    session.commit()


def test_the_log_page_lists_the_runners_events(involved_app, person, session):
    mount(involved_app, FakeTaskApi({TASK: task_events(TASK, [("fetch", "Fetching skeleton"),
                                                              ("publish", "<b>Pushed</b> to northwind/orders")])}))
    client = person(REQUESTER)
    request_id = raise_order(client, "new-python-service")
    with_task(session, request_id)
    html = page(client, f"/requests/{request_id}/log")
    assert "[fetch] Fetching skeleton" in text_of(html)
    assert "&lt;b&gt;Pushed&lt;/b&gt; to northwind/orders" in html
    assert "Finished: completed" in html
    assert f'href="/api/scaffolder/v2/tasks/{TASK}/events"' in html
    assert "no task runner" not in page(client, f"/requests/{request_id}")


def test_a_task_that_is_not_there_is_said_plainly(person, session):
    client = person(REQUESTER)
    request_id = raise_order(client, "new-python-service")
    with_task(session, request_id)  # names a task id the (real) task runner never had
    html = page(client, f"/requests/{request_id}/log")
    assert f"Task {TASK} is not there" in html and "Traceback" not in html
    assert "(no task runner is installed here)" not in page(client, f"/requests/{request_id}")


def test_an_unknown_task_is_reported_not_crashed(involved_app, person, session):
    mount(involved_app, FakeTaskApi({}))
    client = person(REQUESTER)
    request_id = raise_order(client, "new-python-service")
    with_task(session, request_id, "gone-task")
    assert "Task gone-task is not there" in page(client, f"/requests/{request_id}/log")


def test_a_request_without_a_task_has_no_log(person):
    client = person(REQUESTER)
    request_id = raise_order(client, "new-python-service")
    assert "has no task" in page(client, f"/requests/{request_id}/log", status=404)


def test_strangers_get_404_for_the_log(involved_app, person, session):
    mount(involved_app, FakeTaskApi({TASK: task_events(TASK, [("fetch", "secret-ish line")])}))
    request_id = raise_order(person(REQUESTER), "new-python-service")
    with_task(session, request_id)
    html = page(person(STRANGER), f"/requests/{request_id}/log", status=404)
    assert "secret-ish line" not in html


def test_task_ids_with_slashes_stay_inside_the_task_api(involved_app, person, session):
    fake = mount(involved_app, FakeTaskApi({}))
    client = person(REQUESTER)
    request_id = raise_order(client, "new-python-service")
    with_task(session, request_id, "../../../admin/audit")
    html = page(client, f"/requests/{request_id}")
    assert 'data-stream-url="/api/scaffolder/v2/tasks/..%2F..%2F..%2Fadmin%2Faudit/eventstream"' in html
    assert "is not there" in page(client, f"/requests/{request_id}/log")
    assert fake.stream_requests == []


def test_malformed_events_do_not_hide_the_good_ones(involved_app, person, session):
    events = task_events(TASK, [("fetch", "first good line"), ("publish", "second good line")])
    events[1:1] = [{"id": 2, "type": "log", "body": "not an object"}, {"id": 3, "type": "log", "body": None},
                   {"id": 4, "type": "log", "body": {"message": {"nested": True}, "stepId": ["x"]}}]
    mount(involved_app, FakeTaskApi({TASK: events}))
    client = person(REQUESTER)
    request_id = raise_order(client, "new-python-service")
    with_task(session, request_id)
    text = text_of(page(client, f"/requests/{request_id}/log"))
    assert "[fetch] first good line" in text and "[publish] second good line" in text
    assert "Finished: completed" in text
