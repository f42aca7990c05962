"""The field model a JSON Schema becomes: what each input is, how it is labelled and what it accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from portal.catalog.query_filters import FilterGroup

PARAMETERS = "parameters"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

@dataclass(frozen=True)
class Choice:
    """One allowed value: `key` is what the form posts, `value` the JSON value it stands for."""

    key: str
    value: Any
    label: str


@dataclass(frozen=True)
class PickerSpec:
    """Where a picker's options come from: catalog filter groups (OR-ed) and the ref defaults."""

    picks: str  # "owner" or "entity"
    filters: tuple[tuple[tuple[str, tuple[str, ...] | None], ...], ...]
    default_kind: str | None = None
    default_namespace: str = "default"
    # Backstage's `allowArbitraryValues`: here a picked ref must be in the catalog unless this is set.
    arbitrary: bool = False

    def filter_groups(self) -> list[FilterGroup]:
        return [{key: list(values) if values is not None else None for key, values in group}
                for group in self.filters]


@dataclass(frozen=True)
class RepoSpec:
    """A RepoUrlPicker's limits: the hosts and owners it offers (empty: any)."""

    allowed_hosts: tuple[str, ...] = ()
    allowed_owners: tuple[str, ...] = ()


@dataclass
class FormField:
    """One input (or a fieldset of them) drawn from a schema property."""

    name: str  # the form name, `parameters.database.size`
    api_path: str  # the path the API names in its errors for this value
    widget: str
    value_type: str
    label: str
    description: str | None = None
    help: str | None = None
    placeholder: str | None = None
    required: bool = False
    has_default: bool = False
    default: Any = None
    choices: tuple[Choice, ...] = ()
    constraints: dict[str, Any] = field(default_factory=dict)
    autofocus: bool = False
    readonly: bool = False
    children: list[FormField] = field(default_factory=list)
    note: str | None = None
    picker: PickerSpec | None = None
    repo: RepoSpec | None = None
    item_type: str | None = None
    html_id: str | None = None  # set when the id made from the name is already taken on the page

    @property
    def id(self) -> str:
        """An HTML id made from the name: labels, error messages and the summary's links point at it."""
        if self.html_id:
            return self.html_id
        if self.name.startswith(PARAMETERS + "."):
            return "field-" + _ID_UNSAFE.sub("-", self.name.removeprefix(PARAMETERS + "."))
        return "order-" + _ID_UNSAFE.sub("-", self.name)

    @property
    def key(self) -> str:
        """The property name this field holds (its name's last segment, unescaped)."""
        return unescape_key(self.name.rsplit(".", 1)[-1])

    @property
    def secret(self) -> bool:
        return self.widget == "password"

    def walk(self):  # noqa: ANN201 - a generator of fields
        """This field and every field inside it."""
        yield self
        for child in self.children:
            yield from child.walk()

    def as_json(self) -> dict:
        """The field as the JSON twin shows it to clients that draw their own forms."""
        answer: dict[str, Any] = {"name": self.name, "path": self.api_path, "widget": self.widget,
                                  "type": self.value_type, "label": self.label, "required": self.required}
        for key, value in (("description", self.description), ("help", self.help),
                           ("placeholder", self.placeholder), ("note", self.note), ("itemType", self.item_type)):
            if value:
                answer[key] = value
        if self.has_default and not self.secret:
            answer["default"] = self.default
        if self.choices:
            answer["choices"] = [{"value": choice.value, "label": choice.label} for choice in self.choices]
        if self.constraints:
            answer["constraints"] = self.constraints
        if self.autofocus:
            answer["autofocus"] = True
        if self.readonly:
            answer["readonly"] = True
        if self.picker is not None:
            answer["picker"] = {"picks": self.picker.picks, "catalogFilter": self.picker.filter_groups(),
                                "defaultKind": self.picker.default_kind,
                                "allowArbitraryValues": self.picker.arbitrary}
        if self.repo is not None:
            answer["repo"] = {"allowedHosts": list(self.repo.allowed_hosts),
                              "allowedOwners": list(self.repo.allowed_owners)}
        if self.children:
            answer["fields"] = [child.as_json() for child in self.children]
        return answer


@dataclass
class FormPage:
    """One page of a form: a title and the fields of one object schema."""

    title: str
    description: str | None
    schema: dict
    fields: list[FormField]

    def all_fields(self) -> list[FormField]:
        return [item for top in self.fields for item in top.walk()]

    def as_json(self) -> dict:
        answer: dict[str, Any] = {"title": self.title, "fields": [item.as_json() for item in self.fields]}
        if self.description:
            answer["description"] = self.description
        return answer


def escape_key(key: str) -> str:
    """A property name as one segment of a dotted form name (`~` and `.` escaped as in JSON Pointer)."""
    return key.replace("~", "~0").replace(".", "~1")


def unescape_key(segment: str) -> str:
    return segment.replace("~1", ".").replace("~0", "~")
