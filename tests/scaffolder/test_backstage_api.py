"""/api/scaffolder/v2 in Backstage's shapes: actions, parameter schema, tasks, events, cancel, retry, dry run."""

from __future__ import annotations

import base64

import pytest

from portal.scaffolder.tasks.models import COMPLETED
from tests.requests.factories import OUTSIDER, OWNER, REQUESTER
from tests.scaffolder.conftest import make_template
from tests.scaffolder.tasks.api_support import ADMIN, BASE, client_as, scaffolder_app, start_task  # noqa: F401
from tests.scaffolder.tasks.support import runner_for, task_row


def test_actions_are_listed_with_their_schemas(client_as):
    actions = client_as(REQUESTER).get(f"{BASE}/actions").json()
    by_id = {action["id"]: action for action in actions}
    assert {"debug:log", "debug:wait", "fetch:template", "catalog:write"} <= set(by_id)
    assert by_id["debug:wait"]["schema"]["input"]["properties"]["seconds"]["type"] == "number"
    assert set(by_id["debug:log"]) == {"id", "description", "schema"}
    assert set(by_id["debug:log"]["schema"]) == {"input", "output"}


def test_templating_extensions_list_the_filters_beyond_jinjas(client_as):
    body = client_as(REQUESTER).get(f"{BASE}/templating-extensions").json()
    assert set(body["filters"]) == {"parseRepoUrl", "parseEntityRef", "pick", "projectSlug", "dump"}
    assert body["filters"]["parseRepoUrl"]["description"].startswith("`github.com?owner=o&repo=r`")
    assert body["globals"] == {"functions": {}, "values": {}}


def test_the_parameter_schema_is_the_templates_pages(client_as):
    response = client_as(REQUESTER).get(f"{BASE}/templates/default/template/greeter/parameter-schema")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "greeter"
    assert [step["title"] for step in body["steps"]] == ["Name it"]
    assert body["steps"][0]["schema"]["required"] == ["name"]


@pytest.mark.parametrize("path", ["default/template/missing", "default/component/greeter", "..%2F..%2Fetc/template/x"])
def test_the_parameter_schema_of_something_else_is_a_404(client_as, path):
    response = client_as(REQUESTER).get(f"{BASE}/templates/{path}/parameter-schema")
    assert response.status_code == 404
    assert response.json()["error"]["name"] == "NotFoundError"


def test_a_task_is_created_read_and_listed_in_backstages_shapes(client_as, engine, settings):
    requester = client_as(REQUESTER)
    task_id = start_task(requester)
    task = requester.get(f"{BASE}/tasks/{task_id}").json()
    assert task["id"] == task_id and task["status"] == "open" and task["createdBy"] == REQUESTER
    assert task["spec"]["parameters"] == {"name": "returns"}
    assert task["spec"]["templateInfo"]["entityRef"] == "template:default/greeter"
    assert [step["id"] for step in task["spec"]["steps"]] == ["hello", "done"]
    assert task["createdAt"].endswith("Z") and task["lastHeartbeatAt"] is None

    runner_for(engine, settings).run_once()
    task = requester.get(f"{BASE}/tasks/{task_id}").json()
    assert task["status"] == COMPLETED and task["lastHeartbeatAt"].endswith("Z")
    listed = requester.get(f"{BASE}/tasks", params={"createdBy": REQUESTER}).json()
    assert listed["totalTasks"] == 1 and [t["id"] for t in listed["tasks"]] == [task_id]


def test_the_task_list_filters_by_creator_and_status_and_pages(client_as, engine, settings):
    admin = client_as(ADMIN)
    mine = [start_task(admin, {"name": f"n{i}"}) for i in range(3)]
    theirs = start_task(client_as(REQUESTER))
    runner = runner_for(engine, settings)
    runner.run_once()  # the oldest one completes

    everything = admin.get(f"{BASE}/tasks").json()
    assert everything["totalTasks"] == 4 and [t["id"] for t in everything["tasks"]] == [theirs, *reversed(mine)]
    page = admin.get(f"{BASE}/tasks", params={"createdBy": ADMIN, "limit": 2, "offset": 1}).json()
    assert page["totalTasks"] == 3 and [t["id"] for t in page["tasks"]] == [mine[1], mine[0]]
    done = admin.get(f"{BASE}/tasks", params=[("status", "completed"), ("status", "failed")]).json()
    assert [t["id"] for t in done["tasks"]] == [mine[0]]
    oldest_first = admin.get(f"{BASE}/tasks", params={"order": "asc:created_at", "limit": 1}).json()
    assert [t["id"] for t in oldest_first["tasks"]] == [mine[0]]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 10**20}, {"offset": -1}, {"status": "running"},
                                    {"order": "sideways:created_at"}, {"order": "asc:secret"}])
def test_bad_list_queries_are_400s(client_as, params):
    response = client_as(REQUESTER).get(f"{BASE}/tasks", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["name"] == "InputError"


def test_values_that_do_not_fit_the_parameters_are_refused_naming_each_field(client_as):
    response = client_as(REQUESTER).post(f"{BASE}/tasks", json={
        "templateRef": "template:default/greeter", "values": {"name": "../../etc", "port": 2**64}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert {detail["path"] for detail in error["details"]} == {"name", "port"}
    assert "name" in error["message"] and "port" in error["message"]


@pytest.mark.parametrize(("body", "status"), [
    ({"templateRef": "template:default/missing", "values": {}}, 404),
    ({"templateRef": "component:default/greeter", "values": {}}, 400),
    ({"templateRef": "template:default/greeter", "values": "name=x"}, 422),
    ({"templateRef": 42, "values": {}}, 422),
    ({"values": {"name": "x"}}, 422),
    ({"templateRef": "template:default/greeter", "values": {"name": "x"}, "secrets": {"token": 1}}, 422),
    ({"templateRef": "x" * 500, "values": {}}, 422),
])
def test_hostile_task_bodies_get_a_clear_4xx(client_as, body, status):
    response = client_as(REQUESTER).post(f"{BASE}/tasks", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


def test_a_body_with_a_nul_character_is_refused(client_as):
    response = client_as(REQUESTER).post(f"{BASE}/tasks", json={"templateRef": "template:default/greeter",
                                                                "values": {"name": "a\u0000b"}})
    assert response.status_code == 400 and "NUL" in response.json()["error"]["message"]


def test_values_nested_too_deeply_are_refused(client_as):
    nested: dict = {"name": "deep"}
    for _ in range(15):
        nested = {"inner": nested}
    response = client_as(REQUESTER).post(f"{BASE}/tasks", json={"templateRef": "template:default/greeter",
                                                                "values": {"name": "ok", "extra": nested}})
    assert response.status_code == 400, response.text


def test_events_are_listed_after_an_event_id(client_as, engine, settings):
    requester = client_as(REQUESTER)
    task_id = start_task(requester)
    runner_for(engine, settings).run_once()
    events = requester.get(f"{BASE}/tasks/{task_id}/events").json()
    assert events[-1]["type"] == "completion" and events[0]["taskId"] == task_id
    assert set(events[0]) == {"id", "taskId", "body", "type", "createdAt"}
    later = requester.get(f"{BASE}/tasks/{task_id}/events", params={"after": events[2]["id"]}).json()
    assert later == events[3:]
    for after in (-1, 2**63, "abc"):
        assert requester.get(f"{BASE}/tasks/{task_id}/events", params={"after": after}).status_code == 400


def _parse_sse(text: str) -> list[dict]:
    messages = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        messages.append(fields)
    return messages


def test_the_event_stream_sends_every_event_with_ids_and_ends_after_completion(client_as, engine, settings):
    import json

    requester = client_as(REQUESTER)
    task_id = start_task(requester)
    runner_for(engine, settings).run_once()

    response = requester.get(f"{BASE}/tasks/{task_id}/eventstream")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    messages = _parse_sse(response.text)
    events = requester.get(f"{BASE}/tasks/{task_id}/events").json()
    assert [json.loads(m["data"]) for m in messages] == events
    assert [m["event"] for m in messages] == [e["type"] for e in events]
    assert [int(m["id"]) for m in messages] == [e["id"] for e in events]

    resumed = _parse_sse(requester.get(f"{BASE}/tasks/{task_id}/eventstream",
                                       params={"after": events[-3]["id"]}).text)
    assert [int(m["id"]) for m in resumed] == [e["id"] for e in events[-2:]]
    by_header = _parse_sse(requester.get(f"{BASE}/tasks/{task_id}/eventstream",
                                         headers={"Last-Event-ID": str(events[-2]["id"])}).text)
    assert [m["event"] for m in by_header] == ["completion"]
    assert requester.get(f"{BASE}/tasks/{task_id}/eventstream", params={"after": events[-1]["id"]}).text == ""
    bad = requester.get(f"{BASE}/tasks/{task_id}/eventstream", headers={"Last-Event-ID": "../1"})
    assert bad.status_code == 400


def test_the_event_stream_follows_a_running_task_live(client_as, engine, settings):
    import json

    requester = client_as(REQUESTER)
    task_id = start_task(requester)
    runner = runner_for(engine, settings).start()  # runs while the stream is open
    try:
        with requester.stream("GET", f"{BASE}/tasks/{task_id}/eventstream") as response:
            text = "".join(response.iter_text())
    finally:
        runner.stop()
    messages = _parse_sse(text)
    assert messages[-1]["event"] == "completion"
    assert json.loads(messages[-1]["data"])["body"]["status"] == "completed"


def test_cancel_and_retry_answer_in_backstages_shapes(client_as, engine, settings):
    requester = client_as(REQUESTER)
    task_id = start_task(requester)
    assert requester.post(f"{BASE}/tasks/{task_id}/cancel").json() == {"status": "cancelled"}
    assert requester.get(f"{BASE}/tasks/{task_id}").json()["status"] == "cancelled"
    again = requester.post(f"{BASE}/tasks/{task_id}/cancel")
    assert again.status_code == 409 and again.json()["error"]["name"] == "ConflictError"

    retried = requester.post(f"{BASE}/tasks/{task_id}/retry", json={})
    assert retried.status_code == 201 and retried.json() == {"id": task_id}
    runner_for(engine, settings).run_once()
    assert task_row(engine, task_id).status == COMPLETED
    assert requester.post(f"{BASE}/tasks/{task_id}/retry").status_code == 409


def test_a_task_is_seen_only_by_its_creator_people_who_see_its_request_and_admins(client_as, engine, settings):
    requester = client_as(REQUESTER)
    own = start_task(requester)
    order = requester.post("/api/v1/requests", json={"kind": "order", "capability": "greeting-repo",
                                                     "parameters": {"name": "ordered"}}).json()
    runner = runner_for(engine, settings)
    runner.run_once()
    runner.run_once()  # both finished, so their event streams end
    for person, visible in ((REQUESTER, {own, order["taskId"]}), (ADMIN, {own, order["taskId"]}),
                            (OUTSIDER, {order["taskId"]}), (OWNER, {order["taskId"]})):
        client = client_as(person)
        listed = client.get(f"{BASE}/tasks").json()
        assert {t["id"] for t in listed["tasks"]} == visible, person
        assert listed["totalTasks"] == len(visible)
        assert client.get(f"{BASE}/tasks/{own}").status_code == (200 if own in visible else 404)
        assert client.get(f"{BASE}/tasks/{own}/events").status_code == (200 if own in visible else 404)
        assert client.get(f"{BASE}/tasks/{own}/eventstream").status_code == (200 if own in visible else 404)
    outsider = client_as(OUTSIDER)
    assert outsider.post(f"{BASE}/tasks/{own}/retry").status_code == 404
    assert outsider.post(f"{BASE}/tasks/{order['taskId']}/retry").status_code == 403  # sees it, did not start it
    assert client_as(ADMIN).post(f"{BASE}/tasks/{own}/retry").status_code == 409  # allowed, but it completed


def test_a_dry_run_answers_log_files_output_and_steps(client_as):
    template = make_template(
        steps=[{"id": "write", "action": "catalog:write",
                "input": {"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                                     "metadata": {"name": "${{ parameters.name }}"}}}},
               {"id": "say", "action": "debug:log", "input": {"message": "token ${{ secrets.token }}"}}],
        parameters={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        output={"text": [{"title": "Name", "content": "${{ parameters.name }}"}]})
    response = client_as(REQUESTER).post(f"{BASE}/dry-run", json={
        "template": template, "values": {"name": "returns"}, "secrets": {"token": "hunter2-secret"},
        "directoryContents": [{"path": "README.md", "base64Content": base64.b64encode(b"# hi").decode()}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [f["path"] for f in body["directoryContents"]] == ["catalog-info.yaml"]
    assert b"name: returns" in base64.b64decode(body["directoryContents"][0]["base64Content"])
    assert body["output"] == {"text": [{"title": "Name", "content": "returns"}]}
    assert [step["id"] for step in body["steps"]] == ["write", "say"]
    messages = [entry["body"]["message"] for entry in body["log"]]
    assert "token ***" in messages and "hunter2-secret" not in response.text


@pytest.mark.parametrize(("body", "message"), [
    ({"template": {"kind": "Component"}, "values": {}}, "apiVersion must be"),
    ({"template": make_template(parameters={"type": "object", "required": ["name"]}), "values": {}}, "name"),
    ({"template": make_template(), "values": {}, "directoryContents": [{"path": "../x", "base64Content": ""}]}, ".."),
    ({"template": make_template(steps=[{"action": "debug:wait", "input": {"minutes": 11}}]), "values": {}},
     "dry run failed"),
])
def test_a_bad_dry_run_is_a_400_saying_why(client_as, body, message):
    response = client_as(REQUESTER).post(f"{BASE}/dry-run", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]


def test_values_larger_than_64_kib_are_refused_naming_the_limit(client_as):
    response = client_as(REQUESTER).post(f"{BASE}/tasks", json={"templateRef": "template:default/greeter",
                                                                "values": {"name": "ok", "notes": "x" * 70_000}})
    assert response.status_code == 400
    assert "65,536 are accepted" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [[], {"secrets": "token"}, {"secrets": {str(i): "s" for i in range(101)}}])
def test_a_hostile_retry_body_is_refused(client_as, engine, settings, body):
    requester = client_as(REQUESTER)
    task_id = start_task(requester)
    requester.post(f"{BASE}/tasks/{task_id}/cancel")
    response = requester.post(f"{BASE}/tasks/{task_id}/retry", json=body)
    assert response.status_code == 422, response.text
    assert requester.get(f"{BASE}/tasks/{task_id}").json()["status"] == "cancelled"


@pytest.mark.parametrize("task_id", ["../../etc/passwd", "x" * 5000, "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_odd_task_ids_are_404s(client_as, task_id):
    requester = client_as(REQUESTER)
    for method, suffix in (("GET", ""), ("GET", "/events"), ("GET", "/eventstream"), ("POST", "/cancel"),
                           ("POST", "/retry")):
        response = requester.request(method, f"{BASE}/tasks/{task_id}{suffix}")
        assert response.status_code == 404, (method, suffix, response.text)
