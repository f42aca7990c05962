"""A JSON Schema object (with Backstage's `ui:*` hints) turned into form fields.

Backstage's form conventions: https://backstage.io/docs/features/software-templates/writing-templates
(`ui:widget`, `ui:field`, `ui:options`, `ui:help`, `ui:placeholder`, `ui:autofocus`, `ui:readonly`).
Anything the form cannot draw becomes a JSON text box with a note saying why, so a capability stays
orderable and the page never fails.
"""

from __future__ import annotations

import json
from typing import Any

from portal.requests.forms.model import PARAMETERS, Choice, FormField, FormPage, escape_key
from portal.requests.forms.pickers import picker_spec, repo_spec
from portal.requests.inputs import join_path

MAX_FORM_DEPTH = 6
MAX_FIELDS = 300
MAX_CHOICES = 1_000
CHECKBOX_GROUP_LIMIT = 12  # longer lists of choices become a multi-select
STRING_FORMATS = {"email": "email", "uri": "url", "url": "url", "iri": "url", "date": "date",
                  "date-time": "datetime"}
# rjsf's string widgets that name a format (`ui:widget: email`).
UI_WIDGET_FORMATS = {"email": "email", "uri": "url", "url": "url", "date": "date", "datetime": "datetime",
                     "alt-date": "date", "alt-datetime": "datetime"}
# Keywords the form does not draw as inputs; the value is then entered as JSON.
COMPOSITION = ("allOf", "anyOf", "oneOf", "not", "if", "$ref", "dependentSchemas", "dependencies",
               "patternProperties")
PICKERS = {"OwnerPicker": "owner", "EntityPicker": "entity", "OwnedEntityPicker": "entity"}
CONSTRAINT_KEYS = ("minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
                   "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems")


class _Budget:
    """Counts fields so a hostile schema with thousands of properties cannot make a huge page."""

    def __init__(self) -> None:
        self.left = MAX_FIELDS
        self.ids: set[str] = set()

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0

    def unique_id(self, item: FormField) -> None:
        """Names map to ids with some loss (`a.b` nested and `a-b` both read `field-a-b`): number repeats."""
        candidate, number = item.id, 1
        while candidate in self.ids:
            number += 1
            candidate = f"{item.id}-{number}"
        if candidate != item.id:
            item.html_id = candidate
        self.ids.add(candidate)


def page_fields(schema: dict) -> list[FormField]:
    """The fields of one object schema (a form page), in the order its properties are written."""
    return _object_children(schema, PARAMETERS, PARAMETERS, 0, _Budget())


def build_page(schema: dict, index: int, default_title: str) -> FormPage:
    title = schema.get("title") if isinstance(schema.get("title"), str) else None
    description = schema.get("description") if isinstance(schema.get("description"), str) else None
    return FormPage(title or default_title if index == 0 else title or f"Step {index + 1}", description, schema,
                    page_fields(schema))


def _object_children(schema: dict, name: str, api_path: str, depth: int, budget: _Budget,
                     parent_default: object = None) -> list[FormField]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    order = schema.get("ui:order") if isinstance(schema.get("ui:order"), list) else None
    keys = list(properties)
    if order:
        listed = [key for key in order if key in properties]
        keys = listed + [key for key in keys if key not in listed]
    fields = []
    for key in keys:
        if not budget.take():
            fields.append(_note_field(f"{name}.…", api_path, "More fields",
                                      f"This form has more than {MAX_FIELDS} fields; the rest are not shown."))
            break
        child = field_for(str(key), properties[key], f"{name}.{escape_key(str(key))}",
                          join_path(api_path, str(key)), key in required, depth, budget)
        budget.unique_id(child)
        if isinstance(parent_default, dict) and key in parent_default and not child.has_default:
            child.has_default, child.default = True, parent_default[key]  # an object's default fills its fields
        fields.append(child)
    return fields


def _note_field(name: str, api_path: str, label: str, note: str) -> FormField:
    return FormField(name=name, api_path=api_path, widget="note", value_type="none", label=label, note=note)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _value_type(schema: dict) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((item for item in declared if item != "null"), None)
    if isinstance(declared, str):
        return declared
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        first = schema["enum"][0]
        return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(first))
    if isinstance(schema.get("properties"), dict):
        return "object"
    return None


def choice_key(value: Any) -> str:
    """What a select option posts for a JSON value: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _choices(schema: dict) -> tuple[Choice, ...] | None:
    """Allowed values from `enum` (labels from `enumNames`) or from `oneOf`/`anyOf` of `const`s with titles."""
    if isinstance(schema.get("enum"), list):
        values = schema["enum"][:MAX_CHOICES]
        names = schema.get("enumNames") if isinstance(schema.get("enumNames"), list) else []
        labels = [str(names[i]) if i < len(names) and names[i] is not None else _label_of(v)
                  for i, v in enumerate(values)]
        return tuple(Choice(choice_key(value), value, label) for value, label in zip(values, labels))
    for keyword in ("oneOf", "anyOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return tuple(Choice(choice_key(o["const"]), o["const"], str(o.get("title") or _label_of(o["const"])))
                         for o in options[:MAX_CHOICES])
    return None


def _label_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _unsupported(schema: dict) -> str | None:
    used = [keyword for keyword in COMPOSITION if keyword in schema]
    if used and _choices(schema) is None:
        return f"uses {', '.join(used)}, which this form cannot draw"
    return None


def field_for(key: str, schema: Any, name: str, api_path: str, required: bool, depth: int,
              budget: _Budget) -> FormField:
    """The field for one property schema."""
    if not isinstance(schema, dict):
        schema = {} if schema is True else {"not": {}}
    options = schema.get("ui:options") if isinstance(schema.get("ui:options"), dict) else {}
    base = FormField(
        name=name, api_path=api_path, widget="text", value_type=_value_type(schema) or "any",
        label=_text(schema.get("ui:title")) or _text(schema.get("title")) or key.strip() or "Unnamed field",
        description=_text(schema.get("ui:description")) or _text(schema.get("description")),
        help=_text(schema.get("ui:help")), placeholder=_text(schema.get("ui:placeholder")), required=required,
        has_default="default" in schema, default=schema.get("default"),
        constraints={k: schema[k] for k in CONSTRAINT_KEYS if k in schema},
        autofocus=schema.get("ui:autofocus") is True,
        readonly=schema.get("ui:readonly") is True or schema.get("ui:disabled") is True,
    )
    if (problem := _unsupported(schema)) is not None:
        return _as_json_field(base, problem)
    widget = _text(schema.get("ui:widget"))  # anything but a string (a list, an object) names no widget
    ui_field = _text(schema.get("ui:field"))
    if ui_field in PICKERS and base.value_type in ("string", "any"):
        base.widget, base.value_type = f"{PICKERS[ui_field]}-picker", "string"
        base.picker = picker_spec(PICKERS[ui_field], options)
        return base
    if ui_field == "EntityNamePicker" and base.value_type in ("string", "any"):
        base.widget, base.value_type = "entity-name", "string"
        return base
    if ui_field == "RepoUrlPicker" and base.value_type in ("string", "any"):
        base.widget, base.value_type, base.repo = "repo-url", "string", repo_spec(options)
        return base
    if widget == "hidden":
        base.widget = "hidden"
        return base
    kind = base.value_type
    if kind == "object":
        return _object_field(base, schema, depth, budget)
    if kind == "array":
        return _array_field(base, schema, widget)
    choices = _choices(schema)
    if choices is not None:
        base.choices = choices
        base.widget = "radio" if widget == "radio" else "select"
    elif kind == "boolean":
        if widget in ("radio", "select"):
            base.widget = widget
            base.choices = (Choice("true", True, "Yes"), Choice("false", False, "No"))
        else:
            base.widget = "checkbox"
    elif kind in ("integer", "number"):
        base.widget = kind
    elif kind == "string":
        base.widget = _string_widget(schema, widget)
    else:
        return _as_json_field(base, f"has type {json.dumps(schema.get('type', 'any'))}, which this form cannot "
                                    "draw as one input")
    if isinstance(ui_field, str):
        base.note = f"Backstage draws this with {ui_field[:60]}; here it is a plain input."
    return base


def _string_widget(schema: dict, widget: object) -> str:
    if widget in ("textarea", "password"):
        return str(widget)
    if widget in UI_WIDGET_FORMATS:
        return UI_WIDGET_FORMATS[widget]
    return STRING_FORMATS.get(str(schema.get("format")), "text")


def _as_json_field(base: FormField, problem: str) -> FormField:
    base.widget, base.value_type = "json", "any"
    base.note = f"This field {problem}; enter its value as JSON."
    return base


def _object_field(base: FormField, schema: dict, depth: int, budget: _Budget) -> FormField:
    if depth >= MAX_FORM_DEPTH:
        return _as_json_field(base, f"is nested more than {MAX_FORM_DEPTH} levels deep")
    if not isinstance(schema.get("properties"), dict):
        return _as_json_field(base, "is an object without listed properties")
    base.widget = "fieldset"
    base.children = _object_children(schema, base.name, base.api_path, depth + 1, budget, base.default)
    return base


def _array_field(base: FormField, schema: dict, widget: object) -> FormField:
    items = schema.get("items") if isinstance(schema.get("items"), dict) else None
    if items is None:
        return _as_json_field(base, "is a list whose items are not described by one schema")
    choices = _choices(items)
    if choices is not None:
        base.choices = choices
        wants_select = widget == "select" or (widget != "checkboxes" and len(choices) > CHECKBOX_GROUP_LIMIT)
        base.widget = "multiselect" if wants_select else "checkboxes"
        base.item_type = _value_type(items) or "any"
        return base
    item_type = _value_type(items)
    if item_type in ("string", "integer", "number") and not _unsupported(items):
        base.widget, base.item_type = "lines", item_type
        base.note = "One value per line."
        return base
    return _as_json_field(base, "is a list of objects or lists")
