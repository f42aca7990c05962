"""From JSON values back to what a form shows: defaults as posted strings, and values for the review page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from portal.requests.forms.model import FormField
from portal.requests.forms.schema_fields import choice_key

MASK = "••••••••"


def default_raw(fields: Sequence[FormField]) -> dict[str, list[str]]:
    """The strings a fresh form shows: each field's `default`, written the way the form posts it."""
    raw: dict[str, list[str]] = {}
    for top in fields:
        for item in top.walk():
            if item.has_default and item.widget not in ("fieldset", "password"):
                raw.update(_default_strings(item, item.default))
    return raw


def _default_strings(item: FormField, value: Any) -> dict[str, list[str]]:
    widget = item.widget
    if widget == "checkbox":
        return {item.name: ["true"]} if value is True else {}
    if widget in ("checkboxes", "multiselect"):
        return {item.name: [choice_key(entry) for entry in value]} if isinstance(value, list) else {}
    if widget in ("select", "radio"):
        return {item.name: [choice_key(value)]}
    if widget == "lines":
        return {item.name: ["\n".join(str(entry) for entry in value)]} if isinstance(value, list) else {}
    if widget == "json":
        return {item.name: [json.dumps(value, indent=2)]}
    if widget == "repo-url" and isinstance(value, str) and "?" in value:
        host, _, query = value.partition("?")
        parts = parse_qs(query)
        return {f"{item.name}.host": [host], f"{item.name}.owner": parts.get("owner", [""])[:1],
                f"{item.name}.repo": parts.get("repo", [""])[:1]}
    if isinstance(value, bool):
        return {item.name: ["true" if value else "false"]}
    if isinstance(value, (str, int, float)):
        return {item.name: [str(value)]}
    return {}


def shown_text(item: FormField, raw: Mapping[str, Sequence[str]]) -> str:
    """The value an input shows (the first posted string); a datetime without seconds for `datetime-local`."""
    values = raw.get(item.name) or [""]
    text = values[0]
    if item.widget == "datetime" and text:
        return _local_minutes(text)
    return text


def _local_minutes(text: str) -> str:
    """A date-time as `datetime-local` shows it: UTC (the form reads it back as UTC), to the minute."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # as typed, so the person sees what the error beside it is about
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M")


def review_text(item: FormField, value: Any) -> str:
    """A value as the review page lists it: secrets masked, choices by their label."""
    if item.secret:
        return MASK if value not in (None, "") else "—"
    if value is None:
        return "—"
    labels = {choice.key: choice.label for choice in item.choices}
    if item.widget in ("select", "radio") and choice_key(value) in labels:
        return labels[choice_key(value)]
    if isinstance(value, list):
        return ", ".join(labels.get(choice_key(entry), _plain(entry)) for entry in value) or "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return _plain(value)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def review_rows(fields: Sequence[FormField], values: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(label, shown value) for every field of a page, nested fields labelled `Parent › Child`."""
    rows = []
    for item in fields:
        if item.widget in ("note", "hidden"):
            continue
        key = item.key
        label = f"{prefix}{item.label}"
        value = values.get(key) if isinstance(values, Mapping) else None
        if item.widget == "fieldset":
            rows.extend(review_rows(item.children, value if isinstance(value, Mapping) else {}, f"{label} › "))
        else:
            rows.append((label, review_text(item, value)))
    return rows
