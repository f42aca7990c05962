"""`flowport requests import FILE`: JSON Lines history, idempotent, every bad line reported by number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from portal.requests import history_import_lines
from portal.requests.models import Request, RequestEvent
from tests.requests.factories import seed_request_catalog
from tests.test_cli import run_cli

ORDER = {
    "id": "PLAT-101", "kind": "order", "capability": "ci-pipeline", "requester": "user:default/rui.requester",
    "title": "CI for billing", "createdAt": "2025-01-06T09:00:00Z",
    "parameters": {"repository": "northwind/billing", "language": "python"},
    "events": [
        {"at": "2025-01-06T09:30:00Z", "from": "submitted", "to": "fulfilling", "source": "automation"},
        {"at": "2025-01-06T10:00:00Z", "from": "fulfilling", "to": "delivered", "workTime": "PT20M",
         "actor": "user:default/olga.owner", "note": "pipeline created"},
        {"at": "2025-01-07T08:00:00Z", "to": "fulfilling", "note": "wrong runner image"},
        {"at": "2025-01-07T09:00:00Z", "to": "delivered", "workTime": 900},
        {"at": "2025-01-20T12:00:00Z", "to": "in-use"},
        {"at": "2025-02-01T12:00:00Z", "to": "value-confirmed"},
    ],
    "value": {"rating": 4, "timeSaved": "PT6H", "comment": "saves a day a month"},
}
IDEA = {
    "id": 4711, "kind": "idea", "product": "platformproduct:default/delivery-platform",
    "requester": "rui.requester", "title": "Preview environments", "createdAt": "2025-02-01T00:00:00Z",
    "flowItemType": "feature",
    "events": [{"at": "2025-02-01T00:00:00Z", "to": "submitted"},
               {"at": "2025-02-03T00:00:00Z", "from": "submitted", "to": "triaged"}],
}
BARE_ORDER = {"id": "PLAT-102", "kind": "order", "capability": "capability:default/feature-flags",
              "requester": "user:default/otto.outsider", "createdAt": "2025-03-01T00:00:00Z"}


def _line(document: object) -> str:
    return json.dumps(document)


def _with(**changes: object) -> str:
    return _line({**ORDER, "id": "PLAT-BAD", **changes})


def _event_change(index: int, **changes: object) -> str:
    events = [dict(event) for event in ORDER["events"]]
    events[index].update(changes)
    return _with(events=events)


@pytest.fixture
def cli_env(database_url, session) -> dict[str, str]:
    seed_request_catalog(session)
    return {"FLOWPORT_DATABASE_URL": database_url}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _counts(engine) -> tuple[int, int]:  # noqa: ANN001
    with Session(engine) as session:
        return (session.execute(select(func.count()).select_from(Request)).scalar_one(),
                session.execute(select(func.count()).select_from(RequestEvent)).scalar_one())


def test_a_history_is_imported_with_its_events_rework_and_value(tmp_path, cli_env, engine, client):
    result = run_cli(["requests", "import", str(_write(tmp_path, [_line(ORDER), "", _line(IDEA),
                                                                 _line(BARE_ORDER)]))], cli_env)
    assert result.exit_code == 0, result.output
    assert "3 requests imported, 0 already imported (unchanged), 0 lines not imported" in result.stdout
    with Session(engine) as session:
        order = session.execute(select(Request).where(Request.title == "CI for billing")).scalar_one()
    body = client.get(f"/api/v1/requests/{order.public_id}").json()
    assert body["stage"] == "value-confirmed" and body["capability"] == "capability:default/ci-pipeline"
    assert body["product"] == "platformproduct:default/delivery-platform"
    assert body["createdAt"] == "2025-01-06T09:00:00Z" and body["targetLeadTime"] == "PT30M"
    assert body["value"]["rating"] == 4 and body["value"]["timeSaved"] == "PT6H"
    assert [(e["from"], e["to"], e["workTimeSeconds"], e["rework"]) for e in body["events"]] == [
        (None, "submitted", None, False), ("submitted", "fulfilling", None, False),
        ("fulfilling", "delivered", 1200, False), ("delivered", "fulfilling", None, True),
        ("fulfilling", "delivered", 900, False), ("delivered", "in-use", None, False),
        ("in-use", "value-confirmed", None, False)]
    assert body["events"][2]["actor"] == "user:default/olga.owner"
    assert body["events"][4]["actor"] == "user:default/rui.requester"  # no actor: the requester
    assert body["events"][1]["source"] == "automation"
    # Delivered at 10:00 on the first day, reopened, delivered again: the target clock ended the second time.
    assert body["breached"] is True
    ideas = client.get("/api/v1/requests", params={"kind": "idea"}).json()["items"]
    assert [(idea["title"], idea["stage"], len(idea["events"]) if "events" in idea else None)
            for idea in ideas][0][:2] == ("Preview environments", "triaged")
    bare = client.get("/api/v1/requests", params={"capability": "feature-flags"}).json()["items"][0]
    assert bare["stage"] == "submitted" and bare["title"] == "Feature flags"


def test_importing_the_same_file_twice_changes_nothing(tmp_path, cli_env, engine):
    path = _write(tmp_path, [_line(ORDER), _line(IDEA)])
    first = run_cli(["requests", "import", str(path)], cli_env)
    after_first = _counts(engine)
    second = run_cli(["requests", "import", str(path)], cli_env)
    assert first.exit_code == second.exit_code == 0, second.output
    assert _counts(engine) == after_first == (2, 9)
    assert "0 requests imported, 2 already imported (unchanged)" in second.stdout


def test_an_id_seen_before_with_other_content_is_reported_and_left_alone(tmp_path, cli_env, engine):
    run_cli(["requests", "import", str(_write(tmp_path, [_line(ORDER)]))], cli_env)
    changed = _line({**ORDER, "title": "CI for billing (edited)"})
    result = run_cli(["requests", "import", str(_write(tmp_path, [changed]))], cli_env)
    assert result.exit_code == 1
    assert "history.jsonl:1: id 'PLAT-101' was imported before as REQ-" in result.stderr
    with Session(engine) as session:
        assert session.execute(select(Request.title)).scalar_one() == "CI for billing"


HOSTILE_LINES = [
    ("{not json", "not JSON"),
    ("[1, 2]", "one JSON object, not list"),
    (_with(title="evil\u0000title"), "NUL"),
    (_with(kind="epic"), "kind must be one of order, idea"),
    (_with(capability="no-such-thing"), "capability capability:default/no-such-thing is not in the catalog"),
    (_with(capability="../../etc/passwd"), "capability"),
    (_with(capability="component:default/billing"), "a capability ref is needed"),
    (_with(product="platformproduct:default/runtime-platform"), "product does not match"),
    (_with(requester=None), "requester"),
    (_with(requester=42), "requester must be a user ref"),
    (_with(createdAt="yesterday"), "createdAt='yesterday' is not an ISO-8601 time"),
    (_with(createdAt="99999-01-01T00:00:00Z"), "not an ISO-8601 time"),
    (_with(createdAt="2999-01-01T00:00:00Z"), "between 1990 and now"),
    (_with(createdAt=1_700_000_000), "createdAt must be an ISO-8601 time"),
    (_with(parameters=[1]), "parameters must be a JSON object"),
    (_with(flowItemType="epic"), "flowItemType"),
    (_with(title="x" * 201), "title is longer than 200"),
    (_with(events={"at": "2025-01-06T09:30:00Z"}), "events must be a list"),
    (_with(events=["submitted"]), "each of events must be an object"),
    (_event_change(0, to="launched"), "events[0].to 'launched' is not a stage of this order"),
    (_event_change(0, **{"from": "triaged"}), "events[0].from 'triaged' is not a stage"),
    (_event_change(1, **{"from": "submitted"}), "events[1].from is 'submitted' but the request was in 'fulfilling'"),
    (_event_change(1, at="2025-01-06T09:00:00Z"), "events[1].at is before the event that precedes it"),
    (_event_change(1, at="2025-01-06T10:29:00+01:00"), "events[1].at is before"),  # 09:29Z, before 09:30Z
    (_event_change(1, workTime="P1Y"), "events[1].workTime"),
    (_event_change(1, workTime="PT-5M"), "events[1].workTime"),
    (_event_change(1, workTime=-1), "between zero and a year"),
    (_event_change(1, workTime=2**64), "between zero and a year"),
    (_event_change(1, workTime=1.5), "whole seconds"),
    (_event_change(1, workTime="P" + "9" * 400 + "D"), "events[1].workTime"),
    (_event_change(1, source="cron"), "events[1].source must be one of"),
    (_event_change(1, actor="javascript:alert(1)"), "events[1].actor"),
    (_with(events=[*ORDER["events"], {"at": "2025-02-02T00:00:00Z", "to": "failed"}]), "events[6]: The order is finished"),
    (_event_change(0, to="submitted"), "already in stage 'submitted'"),
    (_with(value={"rating": True, "timeSaved": "PT1H"}), "value.rating must be a whole number"),
    (_with(value={"rating": 6, "timeSaved": "PT1H"}), "value.rating"),
    (_with(value={"rating": 3, "timeSaved": "P2Y"}), "value.timeSaved"),
    (_with(value={"rating": 3, "timeSaved": 3600}), "value.timeSaved must be an ISO-8601 duration"),
    (_with(id=None), "id is missing"),
    (_with(id="x" * 201), "id is longer than 200"),
    ('{"id": "N", "kind": "order", "rating": NaN}', "NaN is not a JSON number"),
    ("[" * 100 + "]" * 100, "nests too deep"),
]


def test_each_bad_line_is_reported_with_its_number_and_the_good_ones_are_imported(tmp_path, cli_env, engine):
    lines = [_line(ORDER)] + [line for line, _ in HOSTILE_LINES] + [_line(IDEA)]
    result = run_cli(["requests", "import", str(_write(tmp_path, lines))], cli_env)
    assert result.exit_code == 1
    for number, (_, reason) in enumerate(HOSTILE_LINES, start=2):
        reported = [line for line in result.stderr.splitlines() if line.startswith(f"{tmp_path}/history.jsonl:{number}: ")]
        assert len(reported) == 1 and reason in reported[0], (number, reason, reported)
    assert "Traceback" not in result.output
    assert f"2 requests imported, 0 already imported (unchanged), {len(HOSTILE_LINES)} lines not imported" \
        in result.stdout
    assert _counts(engine)[0] == 2


def test_overlong_and_non_utf8_lines_are_reported_without_stopping(tmp_path, cli_env, engine, monkeypatch):
    monkeypatch.setattr(history_import_lines, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr("portal.requests.history_import.MAX_LINE_BYTES", 4096)
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"\n".join([_with(description="d" * 9000).encode(), b'{"id": "\xff\xfe"}', _line(IDEA).encode()]))
    result = run_cli(["requests", "import", str(path)], cli_env)
    assert result.exit_code == 1
    assert f"{path}:1: the line is longer than 4,096 bytes" in result.stderr
    assert f"{path}:2: the line is not UTF-8 text" in result.stderr
    assert "1 request imported" in result.stdout


def test_a_missing_or_too_large_file_is_one_error_line(tmp_path, cli_env, monkeypatch):
    missing = run_cli(["requests", "import", str(tmp_path / "nope.jsonl")], cli_env)
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: cannot read")
    monkeypatch.setattr("portal.cli_requests.MAX_FILE_BYTES", 10)
    large = run_cli(["requests", "import", str(_write(tmp_path, [_line(ORDER)]))], cli_env)
    assert large.exit_code == 1 and "split it into files of at most 10 bytes" in large.stderr


def test_a_long_file_commits_as_it_goes_and_shows_progress(tmp_path, cli_env, engine, monkeypatch):
    monkeypatch.setattr("portal.cli_requests.COMMIT_EVERY", 7)
    lines = [_line({**BARE_ORDER, "id": f"BULK-{number}"}) for number in range(30)]
    result = run_cli(["requests", "import", str(_write(tmp_path, lines))], cli_env)
    assert result.exit_code == 0, result.output
    assert "Importing history.jsonl" in result.stderr
    assert _counts(engine) == (30, 30)


def test_standard_input_is_read_with_dash(cli_env, engine):
    import os

    from typer.testing import CliRunner

    from portal.cli import app

    env = {key: None for key in os.environ if key.startswith("FLOWPORT_")} | cli_env
    result = CliRunner().invoke(app, ["requests", "import", "-"], input=_line(IDEA) + "\n", env=env)
    assert result.exit_code == 0, result.output
    assert "1 request imported" in result.stdout
    assert _counts(engine) == (1, 2)


def test_numbers_beyond_what_json_and_the_database_hold_are_reported(tmp_path, cli_env, engine):
    # 1e400 is valid JSON that Python reads as infinity.
    overflowing_rating = _with(value={"rating": 1, "timeSaved": "PT1H"}).replace('"rating": 1', '"rating": 1e400')
    lines = ['{"id": ' + "9" * 5000 + "}", overflowing_rating, _with(parameters={"retries": 2**70}), _line(IDEA)]
    result = run_cli(["requests", "import", str(_write(tmp_path, lines))], cli_env)
    assert result.exit_code == 1
    assert f"{tmp_path}/history.jsonl:1: not JSON" in result.stderr
    assert f"{tmp_path}/history.jsonl:2: value.rating must be a whole number" in result.stderr
    # A big integer inside parameters is kept as JSON, as the API keeps it.
    assert "history.jsonl:3:" not in result.stderr
    assert "2 requests imported" in result.stdout
