"""Checks on what callers send: text the databases can store, JSON of bounded size and depth, and
order parameters against the capability's JSON Schema, every problem named by its field path."""

from __future__ import annotations

import functools
import json
import math
import re
from datetime import datetime
from urllib.parse import urlsplit
from dataclasses import dataclass
from typing import Annotated, Any

from jsonschema import exceptions as schema_exceptions
from jsonschema import FormatChecker, validators
from pydantic import AfterValidator

MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 12
MAX_REPORTED_PROBLEMS = 50
MAX_MESSAGE_LENGTH = 300


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field, at a path such as `parameters.environments[1]`."""

    path: str
    message: str

    def as_json(self) -> dict:
        return {"path": self.path, "message": self.message}


class RequestProblem(Exception):
    """A refused call: the HTTP status, a sentence for people and, for input errors, each field's problem."""

    def __init__(self, status: int, message: str, details: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


def text_problem(value: str) -> str | None:
    """Why the databases could not store this text, or None: PostgreSQL refuses NUL characters in text,
    and a lone surrogate (JSON allows `\\ud800`) has no UTF-8 encoding."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate)"
    return None


def _storable_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


StorableText = Annotated[str, AfterValidator(_storable_text)]


def join_path(base: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{base}[{part}]"
    return f"{base}.{part}" if base else str(part)


def json_problems(value: Any, path: str) -> list[FieldProblem]:
    """Problems of a JSON document the database will store: unstorable text, NaN/Infinity (not JSON,
    though Python's parser takes them), nesting deeper than MAX_JSON_DEPTH, more than MAX_JSON_BYTES."""
    problems: list[FieldProblem] = []
    pending: list[tuple[Any, str, int]] = [(value, path, 0)]
    while pending and len(problems) < MAX_REPORTED_PROBLEMS:
        item, where, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            problems.append(FieldProblem(where, f"is nested more than {MAX_JSON_DEPTH} levels deep"))
        elif isinstance(item, str):
            if problem := text_problem(item):
                problems.append(FieldProblem(where, problem))
        elif isinstance(item, float) and not math.isfinite(item):
            problems.append(FieldProblem(where, "must be a finite number (NaN and Infinity are not JSON)"))
        elif isinstance(item, dict):
            for key, child in item.items():
                if problem := text_problem(key):
                    problems.append(FieldProblem(where, f"has a key that {problem}"))
                else:
                    pending.append((child, join_path(where, key), depth + 1))
        elif isinstance(item, list):
            pending.extend((child, join_path(where, index), depth + 1) for index, child in enumerate(item))
    if not problems:
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > MAX_JSON_BYTES:
            problems.append(FieldProblem(path, f"is {size:,} bytes of JSON; at most {MAX_JSON_BYTES:,} are accepted"))
    return problems


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_LENGTH else message[: MAX_MESSAGE_LENGTH - 1] + "…"


def _error_path(error: schema_exceptions.ValidationError, base: str) -> str:
    path = base
    for part in error.absolute_path:
        path = join_path(path, part)
    if error.validator == "required" and isinstance(error.instance, dict):
        # One error per missing property, each message starting with the property's repr.
        missing = next((name for name in error.validator_value if error.message.startswith(repr(name))), None)
        if missing is not None:
            path = join_path(path, missing)
    return path


def schema_is_usable(schema: object) -> str | None:
    """Why a capability's `inputs` is not a JSON Schema this portal can check against, or None."""
    if not isinstance(schema, (dict, bool)):
        return "is not a JSON Schema object"
    try:
        validators.validator_for(schema, default=validators.Draft202012Validator).check_schema(schema)
    except schema_exceptions.SchemaError as error:
        return _short(error.message)
    return None


# jsonschema checks `uri` and `date-time` only when optional packages are installed; without them any
# text passes, so `javascript:alert(1)` would be a valid `format: uri`. Checked here instead.
_LINK_SCHEMES = ("http", "https")


def _is_link(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats apply to strings only; the type keyword judges the rest
    parsed = urlsplit(value)
    return parsed.scheme.lower() in _LINK_SCHEMES and bool(parsed.netloc) and not any(c.isspace() for c in value)


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    # RFC 3339: a date, `T` (or a space), a time and an offset (`Z` or ±hh:mm).
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@functools.cache
def _format_checker(base: FormatChecker) -> FormatChecker:
    checker = FormatChecker(formats=list(base.checkers))
    checker.checkers = dict(base.checkers)
    checker.checks("uri")(_is_link)
    checker.checks("date-time")(_is_date_time)
    return checker


def parameter_problems(schema: dict | bool, parameters: Any, base: str = "parameters") -> list[FieldProblem]:
    """Every way `parameters` breaks `schema` (formats included), ordered by path."""
    validator_class = validators.validator_for(schema, default=validators.Draft202012Validator)
    validator = validator_class(schema, format_checker=_format_checker(validator_class.FORMAT_CHECKER))
    problems = []
    for error in validator.iter_errors(parameters):
        problems.append(FieldProblem(_error_path(error, base), _short(error.message)))
        if len(problems) >= MAX_REPORTED_PROBLEMS:
            break
    return sorted(problems, key=lambda problem: problem.path)
