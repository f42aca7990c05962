"""Entity references: `[kind:][namespace/]name`, compared lower-cased like Backstage does."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAMESPACE = "default"


class RefError(ValueError):
    """A reference that cannot be parsed."""


@dataclass(frozen=True)
class EntityRef:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        """The lower-cased form used for storage and matching."""
        return str(self).lower()


def parse_ref(
    ref: str | dict,
    default_kind: str | None = None,
    default_namespace: str = DEFAULT_NAMESPACE,
) -> EntityRef:
    """Parse a string or `{kind, namespace, name}` reference, filling in defaults."""
    if isinstance(ref, dict):
        kind = ref.get("kind") or default_kind
        namespace = ref.get("namespace") or default_namespace
        name = ref.get("name")
        if not kind or not name:
            raise RefError(f"Entity reference {ref!r} needs a kind and a name")
        return EntityRef(str(kind), str(namespace), str(name))
    if not isinstance(ref, str) or not ref.strip():
        raise RefError(f"Entity reference must be a non-empty string, got {ref!r}")
    text = ref.strip()
    kind: str | None = default_kind
    colon = text.find(":")
    slash = text.find("/")
    if colon != -1 and (slash == -1 or colon < slash):
        kind, text = text[:colon], text[colon + 1 :]
    namespace = default_namespace
    if "/" in text:
        namespace, text = text.split("/", 1)
    if not kind:
        raise RefError(f"Entity reference {ref!r} has no kind and none could be assumed")
    if not namespace or not text or "/" in text or ":" in text:
        raise RefError(f"Entity reference {ref!r} is malformed")
    return EntityRef(kind, namespace, text)


def entity_ref_of(entity: dict) -> EntityRef:
    """The reference of a full entity descriptor."""
    metadata = entity.get("metadata") or {}
    return EntityRef(
        str(entity.get("kind")),
        str(metadata.get("namespace") or DEFAULT_NAMESPACE),
        str(metadata.get("name")),
    )


def ref_key(ref: str | dict, default_kind: str | None = None, default_namespace: str = DEFAULT_NAMESPACE) -> str:
    """Shortcut: the lower-cased key of a reference."""
    return parse_ref(ref, default_kind, default_namespace).key
