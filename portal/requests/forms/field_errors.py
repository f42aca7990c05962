"""Problems (as the requests API names them, `parameters.db.size`) placed next to the fields they are about."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from portal.requests.forms.model import FormField
from portal.requests.inputs import FieldProblem

_LAST_SEGMENT = re.compile(r"(\[\d+\]|\.[^.\[]*)$")
_REQUIRED = re.compile(r"^'.*' is a required property$", re.DOTALL)


@dataclass
class FormErrors:
    """Messages per field name, and those no field can show (listed in the summary only)."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    summary: list[tuple[str, str, str]] = field(default_factory=list)  # (field id, label, message)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    def as_json(self) -> list[dict]:
        return [{"field": label, "message": message} for _, label, message in self.summary] + \
               [{"message": message} for message in self.general]


def readable(problem: FieldProblem) -> str:
    """jsonschema's wording, made into something that reads well beside a field."""
    if _REQUIRED.match(problem.message):
        return "This field is required."
    message = problem.message
    return message[0].upper() + message[1:] if message else "Is not valid."


def place_errors(problems: Iterable[FieldProblem], fields: Sequence[FormField]) -> FormErrors:
    """Each problem beside its field, or the nearest enclosing one (list items, nested values)."""
    by_path = {item.api_path: item for top in fields for item in top.walk()}
    errors = FormErrors()
    shown: set[tuple[str, str]] = set()
    for problem in problems:
        target = _nearest(problem.path, by_path)
        message = readable(problem)
        if target is None:
            errors.general.append(f"{problem.path}: {message}" if problem.path else message)
            continue
        if (target.name, message) in shown:
            continue  # a value's type problem and jsonschema's `required` can both name one field
        shown.add((target.name, message))
        errors.by_field.setdefault(target.name, []).append(message)
        errors.summary.append((target.id, target.label, message))
    return errors


def _nearest(path: str, by_path: dict[str, FormField]) -> FormField | None:
    while path:
        if path in by_path:
            return by_path[path]
        shorter = _LAST_SEGMENT.sub("", path)
        if shorter == path:
            return None
        path = shorter
    return None



def after_reading_problems(reading: Sequence[FieldProblem], checked: Sequence[FieldProblem]) -> list[FieldProblem]:
    """Reading problems first, then the schema's problems about other values: a value that could not be
    read is absent to the schema, and "is required" would only repeat the reading problem."""
    unreadable = {problem.path for problem in reading}
    return [*reading, *(problem for problem in checked if problem.path not in unreadable)]
