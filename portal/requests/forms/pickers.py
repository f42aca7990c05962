"""OwnerPicker and EntityPicker options from the catalog, and RepoUrlPicker limits.

Backstage's pickers keep an entity ref (`group:default/team-a`) and narrow the choice with
`ui:options.catalogFilter` (or the older `allowedKinds`); OwnerPicker offers groups and users by default.
A page loads each distinct filter's options in one catalog query; a catalog with more matches than a
select can hold gets a text box with a datalist that HTMX refreshes as people type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session

from portal.catalog.query import EntityQuery, get_by_refs, query_entities
from portal.catalog.refs import DEFAULT_NAMESPACE, RefError, parse_ref
from portal.errors import CatalogApiError
from portal.requests.forms.model import Choice, FormField, PickerSpec, RepoSpec
from portal.web.humanize import display_name

PICKER_LIMIT = 100
MAX_FILTER_GROUPS = 10
MAX_FILTER_KEYS = 20
MAX_FILTER_VALUES = 50
MAX_SEARCH_CHARS = 100
OWNER_KINDS = ("Group", "User")
OPTION_FIELDS = ["kind", "metadata.name", "metadata.namespace", "metadata.title", "spec.profile.displayName"]
SEARCH_FIELDS = ["metadata.name", "metadata.title"]


def _filter_values(value: object) -> tuple[str, ...] | None | bool:
    """A catalogFilter value: a string, a list of strings, or `{exists: true}`; False when unusable."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return tuple(value[:MAX_FILTER_VALUES])
    if isinstance(value, dict) and value.get("exists") is True:
        return None
    return False


def _filter_groups(raw: object) -> tuple:
    groups = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    converted = []
    for group in groups[:MAX_FILTER_GROUPS]:
        if not isinstance(group, dict):
            continue
        pairs = []
        for key, value in list(group.items())[:MAX_FILTER_KEYS]:
            values = _filter_values(value)
            if isinstance(key, str) and key and values is not False:
                pairs.append((key, values))
        if pairs:
            converted.append(tuple(pairs))
    return tuple(converted)


def picker_spec(picks: str, options: dict) -> PickerSpec:
    """The picker described by a field's `ui:options`."""
    filters = _filter_groups(options.get("catalogFilter"))
    kinds = options.get("allowedKinds")
    if not filters and isinstance(kinds, list) and kinds and all(isinstance(kind, str) for kind in kinds):
        filters = ((("kind", tuple(kinds[:MAX_FILTER_VALUES])),),)
    if not filters and picks == "owner":
        filters = ((("kind", OWNER_KINDS),),)
    default_kind = options.get("defaultKind") if isinstance(options.get("defaultKind"), str) else None
    if default_kind is None:
        kinds_named = {value for group in filters for key, values in group if key == "kind" for value in values or ()}
        default_kind = next(iter(kinds_named)) if len(kinds_named) == 1 else None
    namespace = options.get("defaultNamespace")
    return PickerSpec(picks, filters, default_kind,
                      namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE,
                      options.get("allowArbitraryValues") is True)


def repo_spec(options: dict) -> RepoSpec:
    def strings(key: str) -> tuple[str, ...]:
        value = options.get(key)
        return tuple(item for item in value if isinstance(item, str))[:MAX_FILTER_VALUES] if isinstance(value, list) else ()

    return RepoSpec(strings("allowedHosts"), strings("allowedOwners"))


def stringify_ref(entity: dict) -> str:
    """Backstage's stringified ref: kind lower-cased, namespace and name as written."""
    metadata = entity.get("metadata") or {}
    return f"{str(entity.get('kind', '')).lower()}:{metadata.get('namespace') or DEFAULT_NAMESPACE}/{metadata.get('name')}"


def option_of(entity: dict) -> Choice:
    ref = stringify_ref(entity)
    title = display_name(entity)
    name = (entity.get("metadata") or {}).get("name")
    return Choice(ref, ref, f"{title} ({ref})" if title and title != name else ref)


@dataclass(frozen=True)
class PickerOptions:
    """The options a picker offers; `complete` is False when the catalog holds more than were loaded."""

    choices: tuple[Choice, ...]
    complete: bool


def _query(session: Session, spec: PickerSpec, term: str | None) -> PickerOptions:
    query = EntityQuery(filters=spec.filter_groups(), fields=OPTION_FIELDS, limit=PICKER_LIMIT,
                        order_fields=[("metadata.name", "asc")], count_total=False,
                        full_text_term=term or None, full_text_fields=SEARCH_FIELDS if term else None)
    try:
        page = query_entities(session, query)
    except CatalogApiError:
        return PickerOptions((), True)  # a filter the catalog refuses offers nothing rather than failing the page
    return PickerOptions(tuple(option_of(entity) for entity in page.items), page.next_cursor is None)


def load_picker_options(session: Session, fields: Iterable[FormField]) -> dict[str, PickerOptions]:
    """Options for every picker among `fields`, one catalog query per distinct filter."""
    by_filter: dict[tuple, PickerOptions] = {}
    answer = {}
    for item in fields:
        if item.picker is None:
            continue
        if item.picker.filters not in by_filter:
            by_filter[item.picker.filters] = _query(session, item.picker, None)
        answer[item.name] = by_filter[item.picker.filters]
    return answer


def search_picker_options(session: Session, spec: PickerSpec, term: str) -> PickerOptions:
    """Options whose name or title holds `term` (the HTMX search of large catalogs)."""
    return _query(session, spec, term.strip()[:MAX_SEARCH_CHARS])


def normalize_picked(value: str, spec: PickerSpec) -> str:
    """A typed or picked ref in its stringified form; ValueError with a readable reason when it is not one."""
    try:
        ref = parse_ref(value, default_kind=spec.default_kind, default_namespace=spec.default_namespace)
    except RefError:
        example = f"{(spec.default_kind or 'group').lower()}:default/team-a"
        raise ValueError(f"is not an entity reference such as {example}") from None
    return f"{ref.kind.lower()}:{ref.namespace}/{ref.name}"


def missing_from_catalog(session: Session, picked: dict[str, tuple[str, PickerSpec]]) -> dict[str, str]:
    """Field name -> problem for picked refs the catalog does not hold (or that the picker's filter excludes)."""
    problems = {}
    by_filter: dict[tuple, list[tuple[str, str]]] = {}
    specs = {}
    for name, (ref, spec) in picked.items():
        if spec.arbitrary:
            continue
        by_filter.setdefault(spec.filters, []).append((name, ref))
        specs[spec.filters] = spec
    for filters, entries in by_filter.items():
        found = get_by_refs(session, [ref for _, ref in entries], ["kind"], specs[filters].filter_groups() or None)
        for (name, ref), entity in zip(entries, found):
            if entity is None:
                what = "owner (group or user)" if specs[filters].picks == "owner" else "entity this field accepts"
                problems[name] = f"The catalog has no {what} called {ref}"
    return problems
