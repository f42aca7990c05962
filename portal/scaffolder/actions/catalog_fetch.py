"""catalog:fetch: reads one entity (`entityRef` → `entity`) or several (`entityRefs` → `entities`) from the
catalog, as Backstage's action of that name; an unknown entity fails the step unless `optional`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.catalog.models import CatalogEntity
from portal.catalog.refs import DEFAULT_NAMESPACE, RefError, parse_ref
from portal.catalog.store import assemble
from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.services import action_session

MAX_REFS = 100
REF = {"type": "string", "minLength": 1, "maxLength": 500}


class CatalogFetch(Action):
    id = "catalog:fetch"
    description = "Reads an entity (entityRef) or several (entityRefs) from the catalog."
    input_schema = {
        "type": "object", "additionalProperties": False,
        "oneOf": [{"required": ["entityRef"]}, {"required": ["entityRefs"]}],
        "properties": {
            "entityRef": REF,
            "entityRefs": {"type": "array", "items": REF, "maxItems": MAX_REFS},
            "optional": {"type": "boolean", "description": "Answer null for an unknown entity instead of failing"},
            "defaultKind": {"type": "string", "minLength": 1, "maxLength": 100},
            "defaultNamespace": {"type": "string", "minLength": 1, "maxLength": 100},
        },
    }
    output_schema = {"type": "object", "properties": {"entity": {"type": "object"},
                                                     "entities": {"type": "array"}}}
    # Reading has no side effect, but a dry run has no database to read (dry_run.py passes no services).
    supports_dry_run = False

    def run(self, ctx: ActionContext) -> None:
        many = "entityRefs" in ctx.input
        raw_refs = ctx.input["entityRefs"] if many else [ctx.input["entityRef"]]
        optional = bool(ctx.input.get("optional"))
        # With `optional`, a malformed reference is one more entity not found, not the end of the others.
        keys = [self._key(ctx, raw, optional) for raw in raw_refs]
        found = self._read(ctx, [key for key in keys if key])
        missing = [raw for raw, key in zip(raw_refs, keys, strict=True) if key not in found]
        if missing and not optional:
            raise ActionError(f"{ctx.step_label}: no entity {', '.join(map(repr, missing))} in the catalog")
        entities = [found.get(key) if key else None for key in keys]
        if many:
            ctx.output("entities", entities)
        elif entities[0] is not None:
            ctx.output("entity", entities[0])
        ctx.log(f"Read {len(found)} of {len(keys)} entities from the catalog")

    def _key(self, ctx: ActionContext, raw: str, optional: bool) -> str | None:
        try:
            return parse_ref(raw, ctx.input.get("defaultKind"),
                             ctx.input.get("defaultNamespace") or DEFAULT_NAMESPACE).key
        except RefError as error:
            if optional:
                ctx.log(f"Skipping: {error}")
                return None
            raise ActionError(f"{ctx.step_label}: {error}") from None

    def _read(self, ctx: ActionContext, keys: list[str]) -> dict[str, dict[str, Any]]:
        with action_session(ctx, self.id) as session:
            rows = session.execute(select(CatalogEntity).where(CatalogEntity.entity_ref.in_(set(keys)))).scalars().all()
            return {entity_key(entity): entity for entity in assemble(session, list(rows))}


def entity_key(entity: dict[str, Any]) -> str:
    metadata = entity["metadata"]
    return f"{entity['kind']}:{metadata.get('namespace') or DEFAULT_NAMESPACE}/{metadata['name']}".lower()
