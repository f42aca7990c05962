"""Load and check a `scaffolder.backstage.io/v1beta3` Template entity (as the catalog stores it).

Format: https://backstage.io/docs/features/software-templates/writing-templates
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from jsonschema import Draft7Validator, ValidationError

TEMPLATE_API_VERSION = "scaffolder.backstage.io/v1beta3"
MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
DEFAULT_PAGE_TITLE = "Please enter the following information"
OUTPUT_LINK_KEYS = frozenset({"title", "url", "entityRef", "icon"})
OUTPUT_TEXT_KEYS = frozenset({"title", "content", "default"})
STEP_KEYS = frozenset({"id", "name", "action", "input", "if", "backstage:permissions"})


class KnownActions(Protocol):
    """Anything that can say whether an action id exists (an ActionRegistry)."""

    def knows(self, action_id: str) -> bool: ...

    def ids(self) -> list[str]: ...


class TemplateError(ValueError):
    """A template failed its checks; `problems` lists each one (step, parameter path, why)."""

    def __init__(self, template: str, problems: list[str]) -> None:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"Template {template} is invalid:\n{listed}")
        self.template = template
        self.problems = problems


@dataclass(frozen=True)
class TemplateStep:
    """One step of `spec.steps`; `index` is its position (from 0), for messages."""

    index: int
    action: str
    id: str | None = None
    name: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    condition: Any = None
    has_condition: bool = False

    @property
    def run_id(self) -> str:
        """The id events and outputs use: the step's own, or `step-<n>` as Backstage gives one without."""
        return self.id or f"step-{self.index + 1}"

    @property
    def label(self) -> str:
        return f"step '{self.id}' (#{self.index + 1})" if self.id else f"step #{self.index + 1}"


@dataclass(frozen=True)
class ParameterPage:
    """One page of `spec.parameters`: a JSON Schema object with `ui:*` hints."""

    title: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Template:
    """A checked template: its pages, steps and (unrendered) output."""

    ref: str
    name: str
    title: str
    description: str | None
    pages: tuple[ParameterPage, ...]
    steps: tuple[TemplateStep, ...]
    output: dict[str, Any]
    base_path: Path | None
    entity: dict[str, Any]


@dataclass(frozen=True)
class FieldError:
    """A value that does not fit the template's parameters: `path` is dotted (`owner`, `repo.name`)."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


def template_ref(entity: Mapping[str, Any]) -> str:
    """`template:<namespace>/<name>` of an entity, for messages."""
    metadata = entity.get("metadata") if isinstance(entity.get("metadata"), Mapping) else {}
    namespace = metadata.get("namespace") or "default"
    return f"template:{namespace}/{metadata.get('name') or '<unnamed>'}"


def load_template(entity: Mapping[str, Any], actions: KnownActions, base_path: Path | None = None) -> Template:
    """Check a Template entity and return its typed model; raise TemplateError listing every problem."""
    ref = template_ref(entity)
    problems = list(_envelope_problems(entity))
    spec = entity.get("spec") if isinstance(entity.get("spec"), Mapping) else {}
    try:
        pages, page_problems = _load_pages(spec.get("parameters"))
    except RecursionError:
        raise TemplateError(ref, ["spec.parameters is nested too deeply to check"]) from None
    steps, step_problems = _load_steps(spec.get("steps"), actions)
    problems += page_problems + step_problems + _output_problems(spec.get("output"))
    if problems:
        raise TemplateError(ref, problems)
    metadata = entity["metadata"]
    return Template(
        ref=ref, name=metadata["name"], title=metadata.get("title") or metadata["name"],
        description=metadata.get("description"), pages=tuple(pages), steps=tuple(steps),
        output=dict(spec.get("output") or {}), base_path=base_path or _base_path_of(metadata),
        entity=dict(entity),
    )


def _envelope_problems(entity: Mapping[str, Any]) -> Iterator[str]:
    if entity.get("apiVersion") != TEMPLATE_API_VERSION:
        yield f"apiVersion must be {TEMPLATE_API_VERSION!r}, got {entity.get('apiVersion')!r}"
    if entity.get("kind") != "Template":
        yield f"kind must be 'Template', got {entity.get('kind')!r}"
    metadata = entity.get("metadata")
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        yield "metadata.name is missing"
    if not isinstance(entity.get("spec"), Mapping):
        yield "spec is missing or not an object"


def _base_path_of(metadata: Mapping[str, Any]) -> Path | None:
    # The catalog records where the template was read from; only files on disk give a skeleton folder.
    annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), Mapping) else {}
    location = annotations.get(MANAGED_BY_LOCATION)
    if isinstance(location, str) and location.startswith("file:"):
        return Path(location.removeprefix("file:")).parent
    return None


def _load_pages(parameters: Any) -> tuple[list[ParameterPage], list[str]]:
    if parameters is None:
        return [], []
    raw_pages = parameters if isinstance(parameters, list) else [parameters]
    pages, problems = [], []
    for index, page in enumerate(raw_pages):
        where = f"spec.parameters[{index}]" if isinstance(parameters, list) else "spec.parameters"
        if not isinstance(page, Mapping):
            problems.append(f"{where}: a parameter page must be an object (a JSON Schema), got {type(page).__name__}")
            continue
        problems += [f"{where}{problem}" for problem in schema_problems(page)]
        pages.append(ParameterPage(title=str(page.get("title") or DEFAULT_PAGE_TITLE), schema=dict(page)))
    return pages, problems


def schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Why a JSON Schema is not a valid draft-7 schema (empty when it is), with the path to each problem."""
    validator = Draft7Validator(Draft7Validator.META_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    problems = [f"{_json_path(error.absolute_path)}: invalid JSON Schema: {error.message}"
                for error in validator.iter_errors(schema)]
    problems += [f"{path}: $ref {ref!r} must point inside the template (start with '#')"
                 for path, ref in _refs(schema, "") if not str(ref).startswith("#")]
    return problems


def _refs(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "$ref":
                yield f"{path}.$ref", item
            else:
                yield from _refs(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _refs(item, f"{path}[{index}]")


def _json_path(parts: Iterable[Any]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)


def _load_steps(raw_steps: Any, actions: KnownActions) -> tuple[list[TemplateStep], list[str]]:
    if raw_steps is None:
        return [], []
    if not isinstance(raw_steps, list):
        return [], [f"spec.steps must be a list of steps, got {type(raw_steps).__name__}"]
    steps, problems, seen_ids = [], [], set()
    for index, raw in enumerate(raw_steps):
        if not isinstance(raw, Mapping):
            problems.append(f"step #{index + 1}: a step must be an object, got {type(raw).__name__}")
            continue
        step = TemplateStep(
            index=index, action=raw.get("action") or "", id=raw.get("id"), name=raw.get("name"),
            input=dict(raw.get("input") or {}) if isinstance(raw.get("input", {}), Mapping) else {},
            condition=raw.get("if"), has_condition="if" in raw,
        )
        problems += [f"{step.label}: {problem}" for problem in _step_problems(raw, step, actions, seen_ids)]
        if isinstance(step.id, str):
            seen_ids.add(step.id)
        steps.append(step)
    return steps, problems


def _step_problems(raw: Mapping[str, Any], step: TemplateStep, actions: KnownActions, seen_ids: set[str]) -> Iterator[str]:
    if step.id is not None and (not isinstance(step.id, str) or not step.id):
        yield "id must be a non-empty string"
    elif step.id in seen_ids:
        yield f"duplicate step id {step.id!r}; step ids must be unique (later steps read steps.<id>.output)"
    if not isinstance(raw.get("action"), str) or not raw["action"]:
        yield "has no action; every step names one, e.g. action: fetch:template"
    elif not actions.knows(raw["action"]):
        yield f"unknown action {raw['action']!r}; known actions: {', '.join(sorted(actions.ids()))}"
    if "input" in raw and raw["input"] is not None and not isinstance(raw["input"], Mapping):
        yield "input must be an object"
    if "each" in raw:
        yield "each (repeating a step over a list) is not supported yet; write one step per item"
    for key in sorted(set(raw) - STEP_KEYS - {"each"}):
        yield f"unknown key {key!r} (a step has id, name, action, input and if)"


def _output_problems(output: Any) -> list[str]:
    if output is None:
        return []
    if not isinstance(output, Mapping):
        return ["spec.output must be an object with links and text"]
    problems = []
    for key, allowed in (("links", OUTPUT_LINK_KEYS), ("text", OUTPUT_TEXT_KEYS)):
        entries = output.get(key, [])
        if not isinstance(entries, list):
            problems.append(f"spec.output.{key} must be a list")
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                problems.append(f"spec.output.{key}[{index}] must be an object")
            elif unknown := sorted(set(entry) - allowed):
                problems.append(f"spec.output.{key}[{index}]: unknown keys {unknown}; allowed: {sorted(allowed)}")
    return problems


def parameter_schema(template: Template) -> dict[str, Any]:
    """Backstage's `GET templates/{ns}/{kind}/{name}/parameter-schema` answer."""
    answer: dict[str, Any] = {"title": template.title}
    if template.description:
        answer["description"] = template.description
    answer["steps"] = [_page_answer(page) for page in template.pages]
    return answer


def _page_answer(page: ParameterPage) -> dict[str, Any]:
    answer: dict[str, Any] = {"title": page.title}
    if page.schema.get("description"):
        answer["description"] = page.schema["description"]
    answer["schema"] = page.schema
    return answer


def validate_values(template: Template, values: Mapping[str, Any]) -> list[FieldError]:
    """Every way `values` fails the template's pages (each page is checked against all values)."""
    if not isinstance(values, Mapping):
        return [FieldError("(values)", f"values must be an object, got {type(values).__name__}")]
    errors: dict[tuple[str, str], FieldError] = {}
    try:
        for page in template.pages:
            validator = Draft7Validator(page.schema, format_checker=Draft7Validator.FORMAT_CHECKER)
            for error in validator.iter_errors(dict(values)):
                for field_error in _field_errors(error):
                    errors.setdefault((field_error.path, field_error.message), field_error)
    except RecursionError:
        return [FieldError("(values)", "values are nested too deeply to check")]
    return sorted(errors.values(), key=lambda e: e.path)


def _field_errors(error: ValidationError) -> Iterator[FieldError]:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        for name in error.validator_value:
            if name not in error.instance and f"'{name}'" in error.message:
                yield FieldError(f"{path}.{name}" if path else name, f"{name} is required")
        return
    yield FieldError(path or "(values)", error.message)
