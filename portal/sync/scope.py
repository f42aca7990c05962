"""Per-connection sync scope: an optional list of names and glob patterns in a plugin's config that
narrows which catalog-linked values (repositories, projects, services) one connection syncs.

Patterns: `*` and `?` match within one path segment, `**` matches across segments (GitLab subgroups);
matching ignores case. A name without wildcards is also synced when no entity links it yet."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

WILDCARDS = ("*", "?")
# Annotation value -> catalog-linked values, as the runner looks them up (store.linked_values).
Lookup = Callable[[str], list[str]]


@dataclass(frozen=True)
class ScopeOf:
    """Marks a config field as the scope of `annotation`; `shape` is one name with wildcards allowed."""

    annotation: str
    what: str
    shape: re.Pattern[str]
    example: str


def _split(value: Any) -> Any:
    """Env vars and form fields give one string: names separated by commas, spaces or new lines."""
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,]+", value) if part]
    if isinstance(value, (list, tuple)):
        return [str(part).strip() for part in value if str(part).strip()]
    return value


def _checker(marker: ScopeOf) -> Callable[[list[str]], list[str]]:
    def check(values: list[str]) -> list[str]:
        for value in values:
            if not marker.shape.fullmatch(value) or "***" in value:
                raise ValueError(
                    f"{value!r} is not a {marker.what} name or pattern; write it like {marker.example} "
                    f"(* and ? match within one part, ** across parts)")
        return list(dict.fromkeys(values))
    return check


def scope_field(annotation: str, what: str, shape: str, example: str) -> Any:
    """The type of an optional scope list on a config model, e.g. GitHub's `repositories`."""
    marker = ScopeOf(annotation, what, re.compile(shape), example)
    plural = what[:-1] + "ies" if what.endswith("y") else what + "s"
    return Annotated[list[str], BeforeValidator(_split), AfterValidator(_checker(marker)), marker,
                     Field(default_factory=list,
                           description=f"Sync only these {plural}, one per line, e.g. {example} (* and ? match "
                                       f"within one part, ** across parts); empty: every {what} the catalog links")]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A glob as a case-insensitive regular expression."""
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    regex = "".join({"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part)) for part in parts)
    return re.compile(regex, re.IGNORECASE)


@dataclass(frozen=True)
class SyncScope:
    """The patterns one connection syncs for one annotation."""

    annotation: str
    patterns: tuple[str, ...]

    @property
    def literals(self) -> list[str]:
        return [p for p in self.patterns if not any(w in p for w in WILDCARDS)]

    def covers(self, value: str) -> bool:
        return any(compile_pattern(pattern).fullmatch(value) for pattern in self.patterns)

    def select(self, linked: Iterable[str]) -> list[str]:
        """The linked values the patterns match, plus the listed names nothing links yet."""
        chosen = [value for value in linked if self.covers(value)]
        known = {value.lower() for value in chosen}
        chosen += [name for name in self.literals if name.lower() not in known]
        return sorted(chosen)


def scope_of(config: BaseModel) -> SyncScope | None:
    """The connection's scope when its config declares one and lists at least one pattern."""
    for name, field in type(config).model_fields.items():
        marker = next((item for item in field.metadata if isinstance(item, ScopeOf)), None)
        patterns = getattr(config, name, None) if marker else None
        if marker and patterns:
            return SyncScope(marker.annotation, tuple(patterns))
    return None


def scoped_lookup(config: BaseModel, lookup: Lookup) -> Lookup:
    """`lookup`, narrowed to the connection's scope for the annotation the scope is about."""
    scope = scope_of(config)
    if scope is None:
        return lookup
    return lambda annotation: scope.select(lookup(annotation)) if annotation == scope.annotation else lookup(annotation)
