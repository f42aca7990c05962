"""One line of a request history (JSON Lines) checked and turned into plain data ready to store.

The format is in docs/requests-import.md. Every problem raises `LineProblem` naming the field
(`events[2].to`) and what to do, so the importer can report the line and go on with the next one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from portal.catalog.refs import RefError, parse_ref
from portal.flow.records import parse_time
from portal.requests.durations import DurationError, parse_duration
from portal.requests.inputs import json_problems, text_problem
from portal.requests.models import EVENT_SOURCES, FLOW_ITEM_TYPES, KINDS
from portal.requests.offerings import Offering, OfferingRefError, normalize_ref
from portal.requests.stages import StageError, ValueStream
from portal.web.input_checks import json_has_nul, json_too_deep

MAX_LINE_BYTES = 1024 * 1024
MAX_EVENTS = 1000
MAX_ID_LENGTH = 200
MAX_TITLE_LENGTH = 200
MAX_NOTE_LENGTH = 10_000
MAX_SECONDS = 366 * 86_400  # workTime and timeSaved: a year, as the API allows
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Backstage's rule for names and namespaces.
USER_PART = re.compile(r"[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?", re.ASCII)


class LineProblem(ValueError):
    """Why a line cannot be imported, for people."""


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    from_stage: str | None
    to_stage: str
    actor: str
    source: str
    note: str | None
    work_time_seconds: int | None
    is_rework: bool


@dataclass
class HistoryRecord:
    """A request from a history line, checked against the catalog and its value stream."""

    source_id: str
    digest: str
    kind: str
    offering: Offering
    requester: str
    title: str
    description: str | None
    created_at: datetime
    flow_item_type: str
    parameters: dict | None
    events: list[HistoryEvent] = field(default_factory=list)
    value: dict | None = None


def digest_of(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def parse_line(raw: bytes) -> dict:
    """The JSON object on a line; LineProblem for anything else."""
    if len(raw) > MAX_LINE_BYTES:
        raise LineProblem(f"the line is longer than {MAX_LINE_BYTES:,} bytes")
    if json_has_nul(raw):
        raise LineProblem("the line contains a NUL character (\\u0000), which cannot be stored")
    if json_too_deep(raw):
        raise LineProblem("the JSON nests too deep")
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise LineProblem("the line is not UTF-8 text") from None
    except ValueError as error:
        raise LineProblem(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise LineProblem(f"a line must hold one JSON object, not {type(document).__name__}")
    return document


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _text(document: dict, name: str, *, required: bool = True, limit: int = MAX_TITLE_LENGTH) -> str | None:
    value = document.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise LineProblem(f"{name} is missing")
        return None
    if not isinstance(value, str):
        raise LineProblem(f"{name} must be text, not {type(value).__name__}")
    if problem := text_problem(value):
        raise LineProblem(f"{name} {problem}")
    if len(value) > limit:
        raise LineProblem(f"{name} is longer than {limit:,} characters")
    return value.strip()


def _time(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise LineProblem(f"{name} must be an ISO-8601 time such as 2024-05-01T10:00:00Z")
    try:
        parsed = parse_time(value)
    except (OverflowError, ValueError, OSError):
        parsed = None
    if parsed is None:
        raise LineProblem(f"{name}={value[:40]!r} is not an ISO-8601 time such as 2024-05-01T10:00:00Z")
    parsed = parsed.astimezone(UTC)
    if not EARLIEST <= parsed <= datetime.now(UTC):
        raise LineProblem(f"{name}={value[:40]!r} is not between 1990 and now")
    return parsed


def _seconds(value: object, name: str) -> int:
    """An ISO-8601 duration (`PT45M`) or whole seconds, between zero and a year."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise LineProblem(f"{name} must be an ISO-8601 duration such as PT45M, or whole seconds")
    if isinstance(value, int):
        seconds = value
    else:
        try:
            seconds = round(parse_duration(value))
        except (DurationError, OverflowError) as error:
            raise LineProblem(f"{name} {error}") from None
    if not 0 <= seconds <= MAX_SECONDS:
        raise LineProblem(f"{name} must be between zero and a year (P366D)")
    return seconds


def _ref(value: object, name: str, kind: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 400 or text_problem(value):
        raise LineProblem(f"{name} must be an entity ref such as {kind}:default/name")
    try:
        return normalize_ref(value.strip(), kind)
    except OfferingRefError as error:
        raise LineProblem(f"{name}: {error}") from None


def _actor(value: object, name: str, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip() or len(value) > 400 or text_problem(value):
        raise LineProblem(f"{name} must be a user ref such as user:default/jane.doe")
    try:
        parsed = parse_ref(value.strip(), default_kind="user")
    except RefError as error:
        raise LineProblem(f"{name}: {error}") from None
    if parsed.kind.lower() != "user" or not USER_PART.fullmatch(parsed.namespace) or \
            not USER_PART.fullmatch(parsed.name):
        raise LineProblem(f"{name} must be a user ref such as user:default/jane.doe")
    return parsed.key


def _offering(document: dict, kind: str, find: Callable[[str, str], Offering | None]) -> Offering:
    if kind == "order":
        ref = _ref(document.get("capability"), "capability", "capability")
        offering = find("capability", ref)
        if offering is None:
            raise LineProblem(f"capability {ref} is not in the catalog; import its descriptor first")
        if document.get("product") is not None and _ref(document["product"], "product",
                                                       "platformproduct") != offering.product_ref:
            raise LineProblem(f"product does not match {ref}'s product ({offering.product_ref})")
        return offering
    ref = _ref(document.get("product"), "product", "platformproduct")
    offering = find("product", ref)
    if offering is None:
        raise LineProblem(f"platform product {ref} is not in the catalog; import its descriptor first")
    return offering


def _events(items: object, stream: ValueStream, created_at: datetime, requester: str) -> list[HistoryEvent]:
    """The timeline: an intake event at createdAt (unless the first event is one), then each move checked
    against the value stream in order of time."""
    if items is None:
        items = []
    if not isinstance(items, list) or len(items) > MAX_EVENTS:
        raise LineProblem(f"events must be a list of at most {MAX_EVENTS} events")
    if any(not isinstance(item, dict) for item in items):
        raise LineProblem("each of events must be an object {at, from, to, actor, source, note, workTime}")
    events: list[HistoryEvent] = []
    if not items or items[0].get("from") is not None:
        first = items[0]["from"] if items else stream.initial
        if not isinstance(first, str) or stream.stage(first) is None:
            raise LineProblem(f"events[0].from {str(first)[:60]!r} is not a stage of this {stream.kind}")
        events.append(HistoryEvent(created_at, None, first, requester, "user", "Imported", None, False))
    for index, item in enumerate(items):
        events.append(_event(item, f"events[{index}]", stream, events, created_at, requester))
    return events


def _event(item: dict, where: str, stream: ValueStream, earlier: list[HistoryEvent], created_at: datetime,
           requester: str) -> HistoryEvent:
    at = _time(item.get("at"), f"{where}.at")
    to = item.get("to")
    if not isinstance(to, str) or stream.stage(to) is None:
        known = ", ".join(stage.id for stage in stream.stages)
        raise LineProblem(f"{where}.to {str(to)[:60]!r} is not a stage of this {stream.kind}; stages are: {known}")
    source = item.get("source", "user")
    if source not in EVENT_SOURCES:
        raise LineProblem(f"{where}.source must be one of {', '.join(EVENT_SOURCES)}")
    note = _text(item, "note", required=False, limit=MAX_NOTE_LENGTH)
    work = None if item.get("workTime") is None else _seconds(item["workTime"], f"{where}.workTime")
    actor = _actor(item.get("actor"), f"{where}.actor", requester)
    if not earlier:  # the intake event itself
        if at != created_at:
            raise LineProblem(f"{where} has no from, so it is the intake; its at must equal createdAt")
        return HistoryEvent(at, None, to, actor, source, note, work, False)
    previous = earlier[-1]
    if at < previous.at:
        raise LineProblem(f"{where}.at is before the event that precedes it; events must be in order of time")
    if item.get("from") is not None and item["from"] != previous.to_stage:
        raise LineProblem(f"{where}.from is {str(item['from'])[:60]!r} but the request was in {previous.to_stage!r}")
    last_main = next((event.to_stage for event in reversed(earlier) if event.to_stage in stream.main_line), None)
    try:
        rework = stream.check_move(previous.to_stage, to, last_main)
    except StageError as error:
        raise LineProblem(f"{where}: {error.message}") from None
    return HistoryEvent(at, previous.to_stage, to, actor, source, note, work, rework)


def _value(document: object) -> dict | None:
    if document is None:
        return None
    if not isinstance(document, dict):
        raise LineProblem("value must be an object {rating, timeSaved, comment}")
    rating = document.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise LineProblem("value.rating must be a whole number from 1 to 5")
    saved = document.get("timeSaved")
    if not isinstance(saved, str):
        raise LineProblem("value.timeSaved must be an ISO-8601 duration such as PT6H")
    return {"rating": rating, "timeSaved": saved, "timeSavedSeconds": _seconds(saved, "value.timeSaved"),
            "comment": _text(document, "comment", required=False, limit=MAX_NOTE_LENGTH)}


def history_record(document: dict, find: Callable[[str, str], Offering | None]) -> HistoryRecord:
    """The request a parsed line describes; `find(kind, ref)` looks up a capability or product."""
    source_id = document.get("id")
    if isinstance(source_id, int) and not isinstance(source_id, bool):
        source_id = str(source_id)
    source_id = _text({"id": source_id}, "id", limit=MAX_ID_LENGTH)
    kind = document.get("kind")
    if kind not in KINDS:
        raise LineProblem(f"kind must be one of {', '.join(KINDS)}")
    offering = _offering(document, kind, find)
    requester = _actor(document.get("requester"), "requester", "")
    if not requester:
        raise LineProblem("requester is missing")
    created_at = _time(document.get("createdAt"), "createdAt")
    flow_item_type = document.get("flowItemType", "feature")
    if flow_item_type not in FLOW_ITEM_TYPES:
        raise LineProblem(f"flowItemType must be one of {', '.join(FLOW_ITEM_TYPES)}")
    parameters = document.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise LineProblem("parameters must be a JSON object")
    if parameters and (problems := json_problems(parameters, "parameters")):
        raise LineProblem(f"{problems[0].path} {problems[0].message}")
    title = _text(document, "title", required=kind == "idea")
    if title is None:
        metadata = (offering.capability or {}).get("metadata") or {}
        title = str(metadata.get("title") or metadata.get("name") or offering.capability_ref)[:MAX_TITLE_LENGTH]
    return HistoryRecord(
        source_id=source_id, digest=digest_of(document), kind=kind, offering=offering, requester=requester,
        title=title, description=_text(document, "description", required=False, limit=MAX_NOTE_LENGTH),
        created_at=created_at, flow_item_type=flow_item_type, parameters=parameters,
        events=_events(document.get("events"), offering.value_stream(kind), created_at, requester),
        value=_value(document.get("value")))
