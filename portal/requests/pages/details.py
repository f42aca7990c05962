"""What the request page shows beside the stored row: who it waits on, its age, masked parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from portal.flow.query import as_utc
from portal.requests.models import Request, RequestEvent
from portal.requests.offerings import Offering, load_entity, normalize_ref, OfferingRefError

MASK = "••••••"
# Field names that hold secrets even when the schema does not say so (defence in depth).
SECRET_NAMES = re.compile(r"(password|passwd|secret|token|api[-_]?key|private[-_]?key)", re.IGNORECASE)
SECRET_WIDGETS = {("ui:widget", "password"), ("ui:field", "Secret")}
VALUE_STAGES = ("delivered", "in-use")


@dataclass(frozen=True)
class WaitingOn:
    """Who moves the request on next, and since when it has been waiting for them."""

    who: str            # approvers | owners | automation | requester | nobody
    groups: tuple[str, ...]
    since: datetime | None
    stage_type: str     # wait | work


def waiting_on(row: Request, offering: Offering, last_event: RequestEvent | None) -> WaitingOn:
    """From the current stage and the capability's fulfilment: whose turn it is."""
    stream = offering.value_stream(row.kind)
    stage = stream.stage(row.stage)
    since = as_utc(last_event.at) if last_event else as_utc(row.updated_at)
    stage_type = stage.type if stage else "wait"
    if stage is None or stage.terminal or row.stage == stream.final:
        return WaitingOn("nobody", (), since, stage_type)
    if row.kind == "order":
        if row.stage == "awaiting-approval":
            return WaitingOn("approvers", (offering.approvers,) if offering.approvers else (), since, stage_type)
        if row.stage in VALUE_STAGES:
            return WaitingOn("requester", (), since, stage_type)
        automated = offering.fulfillment_mode != "manual"
        before_delivery = stream.main_line.index(row.stage) < stream.main_line.index(stream.delivery_stage) \
            if row.stage in stream.main_line and stream.delivery_stage in stream.main_line else True
        if automated and before_delivery and row.stage in ("submitted", "fulfilling"):
            return WaitingOn("automation", (), since, stage_type)
    return WaitingOn("owners", offering.owners, since, stage_type)


def age_text(seconds: float) -> str:
    """A rough age for people: "3 minutes", "5 hours", "2 days"."""
    seconds = max(0, int(seconds))
    for size, word in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            amount = seconds // size
            return f"{amount} {word}{'s' if amount != 1 else ''}"
    return "less than a minute"


def seconds_since(at: datetime | None, now: datetime | None = None) -> float:
    if at is None:
        return 0.0
    return ((now or datetime.now(UTC)) - as_utc(at)).total_seconds()


def _secret_paths(schema: object, prefix: tuple = ()) -> set[tuple]:
    """Property paths whose schema marks them secret (ui:widget password, ui:field Secret)."""
    found: set[tuple] = set()
    if not isinstance(schema, dict):
        return found
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            if not isinstance(child, dict):
                continue
            if any(child.get(key) == value for key, value in SECRET_WIDGETS):
                found.add((*prefix, name))
            found |= _secret_paths(child, (*prefix, name))
    # Array items share their array's path: indexes are left out when paths are compared.
    found |= _secret_paths(schema.get("items"), prefix)
    return found


def parameter_schemas(session: Session, offering: Offering) -> list[dict]:
    """The schemas a request's parameters were asked with: the capability's inputs and its template's
    parameter steps (a Template's spec.parameters is one schema or a list of them)."""
    schemas: list[dict] = []
    if isinstance(offering.inputs_schema, dict):
        schemas.append(offering.inputs_schema)
    template = offering.fulfillment.get("template")
    if isinstance(template, str):
        try:
            entity = load_entity(session, normalize_ref(template, "template"))
        except OfferingRefError:
            entity = None
        steps = ((entity or {}).get("spec") or {}).get("parameters")
        steps = steps if isinstance(steps, list) else [steps]
        schemas.extend(step for step in steps if isinstance(step, dict))
    return schemas


def masked_parameters(parameters: object, schemas: list[dict]) -> list[tuple[str, str, bool]]:
    """(path, shown value, masked?) for each leaf parameter, secrets replaced by MASK."""
    secret = set().union(*(_secret_paths(schema) for schema in schemas)) if schemas else set()
    rows: list[tuple[str, str, bool]] = []

    def walk(value: object, path: tuple) -> None:
        named = [part for part in path if not isinstance(part, int)]
        hidden = tuple(named) in secret or (named and SECRET_NAMES.search(str(named[-1])))
        if hidden:
            rows.append((_path_text(path), MASK, True))
        elif isinstance(value, dict) and value:
            for key, child in value.items():
                walk(child, (*path, key))
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            for index, child in enumerate(value):
                walk(child, (*path, index))
        else:
            shown = value if isinstance(value, str) else _compact(value)
            rows.append((_path_text(path), shown, False))

    if isinstance(parameters, dict):
        for key, child in parameters.items():
            walk(child, (key,))
    return rows


def _path_text(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _compact(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
