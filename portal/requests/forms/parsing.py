"""Posted form values (every value a string) turned back into the typed JSON a schema describes.

Each value that cannot become its type is a problem named by the field's API path (the path the
requests API uses), never an exception; one bad field leaves the good ones beside it intact.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from portal.catalog.validation import is_object_name
from portal.requests.forms.model import FormField, PickerSpec
from portal.requests.forms.pickers import normalize_picked
from portal.requests.inputs import FieldProblem, text_problem

Raw = Mapping[str, Sequence[str]]

MAX_TEXT_CHARS = 10_000
MAX_NUMBER_CHARS = 100
MAX_ARRAY_ITEMS = 500
INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: Python's int() also reads "٣" as 3
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
URL_SCHEMES = frozenset({"http", "https"})
_REPO_PART = re.compile(r"[A-Za-z0-9._-]{1,100}")
TRUE_TEXTS = frozenset({"true", "on", "1", "yes"})


class _Refused(ValueError):
    """A value that cannot become its field's type; the message completes "<field> …"."""


@dataclass
class Parsed:
    """Typed values, problems by API path, and the picked refs to look up in the catalog."""

    values: dict = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)
    picked: dict[str, tuple[str, PickerSpec]] = field(default_factory=dict)


def parse_fields(fields: Sequence[FormField], raw: Raw) -> Parsed:
    """The values of `fields` from a posted form (`raw`: name -> posted strings)."""
    parsed = Parsed()
    parsed.values = _parse_object(fields, raw, parsed)
    return parsed


def _parse_object(fields: Sequence[FormField], raw: Raw, parsed: Parsed) -> dict:
    values: dict = {}
    for item in fields:
        if item.widget == "note":
            continue
        key = item.key
        try:
            present, value = _parse_field(item, raw, parsed)
        except _Refused as refused:
            parsed.problems.append(FieldProblem(item.api_path, str(refused)))
            continue
        if present:
            values[key] = value
    return values


def _first(raw: Raw, name: str) -> str | None:
    values = raw.get(name)
    return values[0] if values else None


def _parse_field(item: FormField, raw: Raw, parsed: Parsed) -> tuple[bool, Any]:
    if item.readonly:
        return item.has_default, item.default  # people cannot change a read-only value, so a post cannot either
    widget = item.widget
    if widget == "fieldset":
        children = _parse_object(item.children, raw, parsed)
        return bool(children) or item.required, children
    if widget == "checkbox":
        return True, (_first(raw, item.name) or "").strip().lower() in TRUE_TEXTS
    if widget in ("checkboxes", "multiselect"):
        posted = [value for value in raw.get(item.name, ()) if value != ""]
        if not posted:
            return False, None
        _check_count(len(posted))
        return True, [_choice_value(item, value) for value in posted]
    if widget == "repo-url":
        return _repo_url(item, raw)
    text = _first(raw, item.name)
    if text is None or (text.strip() == "" and widget != "password"):
        if widget == "hidden" and item.has_default:
            return True, item.default
        return False, None
    if text == "":
        return False, None
    _check_text(text)
    return True, _typed(item, text, parsed)


def _check_text(text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise _Refused(f"is {len(text):,} characters long; at most {MAX_TEXT_CHARS:,} are accepted")
    if problem := text_problem(text):
        raise _Refused(problem)


def _check_count(count: int) -> None:
    if count > MAX_ARRAY_ITEMS:
        raise _Refused(f"has {count:,} items; at most {MAX_ARRAY_ITEMS:,} are accepted")


def _typed(item: FormField, text: str, parsed: Parsed) -> Any:
    widget = item.widget
    if widget in ("select", "radio"):
        return _choice_value(item, text)
    if widget in ("owner-picker", "entity-picker"):
        try:
            ref = normalize_picked(text.strip(), item.picker)  # type: ignore[arg-type]
        except ValueError as error:
            raise _Refused(str(error)) from None
        parsed.picked[item.name] = (ref, item.picker)  # type: ignore[assignment]
        return ref
    if widget == "lines":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        _check_count(len(lines))
        return [scalar(item.item_type or "string", line) for line in lines]
    if widget == "json":
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:
            raise _Refused(f"is not valid JSON ({str(error)[:120]})") from None
    if widget == "textarea":
        return text.replace("\r\n", "\n")
    if widget == "password":
        return text
    if widget == "url":
        return safe_url(text.strip())
    if widget == "entity-name" and not is_object_name(text.strip()):
        raise _Refused("must be a catalog name: up to 63 letters, digits, '-', '_' or '.', "
                       "starting and ending with a letter or digit")
    if widget == "datetime":
        return rfc3339(text.strip())
    return scalar(item.value_type, text.strip())


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _choice_value(item: FormField, key: str) -> Any:
    for choice in item.choices:
        if choice.key == key:
            return choice.value
    raise _Refused(f"{key[:60]!r} is not one of the choices")


def scalar(value_type: str, text: str) -> Any:
    """A single text as `value_type`: integers within 64 bits, finite numbers, true/false, or the text."""
    if value_type == "integer":
        if len(text) > MAX_NUMBER_CHARS or not _INTEGER.fullmatch(text):
            raise _Refused(f"{text[:40]!r} is not a whole number")
        number = int(text)
        if abs(number) > INT64_MAX:
            raise _Refused("is too large: whole numbers must fit in 64 bits (±9,223,372,036,854,775,807)")
        return number
    if value_type == "number":
        if len(text) > MAX_NUMBER_CHARS or not _NUMBER.fullmatch(text):
            raise _Refused(f"{text[:40]!r} is not a number")
        if _INTEGER.fullmatch(text):
            return scalar("integer", text)
        number = float(text)
        if not math.isfinite(number):
            raise _Refused(f"{text[:40]!r} is too large to be a number")
        return number
    if value_type == "boolean":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise _Refused("must be true or false")
        return lowered == "true"
    return text


def safe_url(text: str) -> str:
    """An absolute http(s) URL; other schemes (`javascript:`, `data:`, `file:`) are refused."""
    scheme = _SCHEME.match(text)
    if scheme is None:
        raise _Refused("must be an absolute URL such as https://example.com/path")
    if scheme.group(1).lower() not in URL_SCHEMES:
        raise _Refused(f"must be an http or https URL; {scheme.group(1)[:20]}: links are not accepted")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise _Refused("must not contain spaces or control characters")
    try:
        host = urlsplit(text).hostname
    except ValueError:
        host = None
    if not host:
        raise _Refused("must name a host, e.g. https://example.com/path")
    return text


def rfc3339(text: str) -> str:
    """A date and time as RFC 3339; a browser's `datetime-local` value (no offset) is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _Refused(f"{text[:40]!r} is not a date and time such as 2026-12-24T09:30") from None
    if len(text) > 40 or "T" not in text.upper():
        raise _Refused(f"{text[:40]!r} is not a date and time such as 2026-12-24T09:30")
    if moment.tzinfo is None:
        return moment.isoformat(timespec="seconds") + "Z"
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _repo_url(item: FormField, raw: Raw) -> tuple[bool, Any]:
    """Backstage's RepoUrlPicker value: `host?owner=o&repo=r`."""
    parts = {part: (_first(raw, f"{item.name}.{part}") or "").strip() for part in ("host", "owner", "repo")}
    if not any(parts.values()):
        return False, None
    for part, text in parts.items():
        if not text:
            raise _Refused(f"needs a {'repository name' if part == 'repo' else part}")
        _check_text(text)
    spec = item.repo
    if spec and spec.allowed_hosts and parts["host"] not in spec.allowed_hosts:
        raise _Refused(f"host must be one of {', '.join(spec.allowed_hosts)}")
    if spec and spec.allowed_owners and parts["owner"] not in spec.allowed_owners:
        raise _Refused(f"owner must be one of {', '.join(spec.allowed_owners)}")
    for part in ("owner", "repo"):
        if not _REPO_PART.fullmatch(parts[part]) or parts[part] in (".", ".."):
            raise _Refused(f"{part} may hold letters, digits, '.', '_' and '-' only")
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}(:\d{1,5})?", parts["host"]):
        raise _Refused("host must be a host name such as github.com")
    return True, f"{parts['host']}?{urlencode({'owner': parts['owner'], 'repo': parts['repo']})}"


def posted_names(item: FormField) -> list[str]:
    """The form names one field posts under (a RepoUrlPicker posts three)."""
    if item.widget == "repo-url":
        return [f"{item.name}.{part}" for part in ("host", "owner", "repo")]
    return [item.name]


def raw_of(fields: Sequence[FormField], form: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The posted strings of `fields` only (other names are ignored), as a plain dict for the draft."""
    names = {name for top in fields for item in top.walk() for name in posted_names(item)}
    return {name: list(form[name]) for name in names if name in form}
