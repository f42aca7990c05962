"""catalog:register: registers a repository's catalog-info.yaml as a catalog location, through the same
function POST /api/catalog/locations calls (portal.catalog.ingest.register_location, confined to the roots).

A local repository published by publish:git is read from its checkout under `<data dir>/git-checkouts`:
that folder is added to the file-location roots for this registration only, so a template can register
what it published but no other file outside FLOWPORT_FILE_LOCATION_ROOTS (or its default).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlsplit

from portal.catalog import ingest
from portal.catalog.ingest.confinement import file_location_roots
from portal.scaffolder.actions.contract import Action, ActionContext, ActionError
from portal.scaffolder.actions.git_remotes import checkout_area
from portal.scaffolder.actions.paths import safe_relative_path
from portal.scaffolder.actions.services import action_session, outbound_client, settings_of

DEFAULT_CATALOG_INFO_PATH = "/catalog-info.yaml"


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme.lower() in ("http", "https")


def _location_of(ctx: ActionContext) -> tuple[str, str]:
    """(type, target) of the location to register, from catalogInfoUrl or repoContentsUrl + catalogInfoPath."""
    where = ctx.step_label
    if "catalogInfoUrl" in ctx.input:
        target = ctx.input["catalogInfoUrl"]
    else:
        base = ctx.input["repoContentsUrl"]
        path = safe_relative_path(ctx.input.get("catalogInfoPath", DEFAULT_CATALOG_INFO_PATH).lstrip("/"),
                                  f"{where}: input.catalogInfoPath")
        if not path.parts:
            raise ActionError(f"{where}: input.catalogInfoPath must name a file")
        target = f"{base.rstrip('/')}/{path.as_posix()}"
    if "\x00" in target:
        raise ActionError(f"{where}: the catalog-info location contains a NUL byte")
    if _is_url(target):
        return "url", target
    if target.lower().startswith("file://"):
        if urlsplit(target).netloc not in ("", "localhost"):
            raise ActionError(f"{where}: {target!r} names a file on another host")
        target = unquote(urlsplit(target).path)
    if not os.path.isabs(target):
        raise ActionError(f"{where}: {target!r} is neither an http(s) URL nor an absolute path")
    return "file", target


class CatalogRegister(Action):
    id = "catalog:register"
    description = "Registers a catalog-info.yaml (a URL, or a file of a repository published here) in the catalog."
    input_schema = {
        "type": "object", "additionalProperties": False,
        "oneOf": [{"required": ["catalogInfoUrl"]}, {"required": ["repoContentsUrl"]}],
        "properties": {
            "catalogInfoUrl": {"type": "string", "minLength": 1, "maxLength": 2000},
            "repoContentsUrl": {"type": "string", "minLength": 1, "maxLength": 2000},
            "catalogInfoPath": {"type": "string", "maxLength": 1000, "default": DEFAULT_CATALOG_INFO_PATH},
            "optional": {"type": "boolean", "description": "Carry on when the location cannot be registered"},
        },
    }
    output_schema = {"type": "object", "properties": {"entityRef": {"type": "string"},
                                                     "catalogInfoUrl": {"type": "string"}}}

    def run(self, ctx: ActionContext) -> None:
        settings = settings_of(ctx, self.id)
        location_type, target = _location_of(ctx)
        ctx.output("catalogInfoUrl", target)
        ctx.log(f"Registering {location_type} location {target} in the catalog")
        try:
            refs = self._register(ctx, settings, location_type, target)
        except (ingest.LocationError, ingest.LocationExistsError) as error:
            if ctx.input.get("optional"):
                ctx.log(f"Not registered, and the step is optional: {error}")
                return
            raise ActionError(f"{ctx.step_label}: {error}") from None
        entity_ref = next((ref for ref in refs if not ref.startswith("location:")), refs[0] if refs else None)
        if entity_ref:
            ctx.output("entityRef", entity_ref)
            ctx.log(f"Registered {entity_ref}")

    def _register(self, ctx: ActionContext, settings: Any, location_type: str, target: str) -> list[str]:
        confined = settings.model_copy(update={
            "file_location_roots": [*file_location_roots(settings), str(checkout_area(settings))]})
        with outbound_client(ctx, self.id, settings.url_timeout) as http, action_session(ctx, self.id) as session:
            result = ingest.register_location(session, confined, http, location_type, target, confine_to_roots=True)
            refs = list(result.entity_refs)
            if result.report.errors and not any(not ref.startswith("location:") for ref in refs):
                # Nothing usable was read: leave the catalog as it was (raising rolls the session back).
                problems = "; ".join(str(problem) for problem in result.report.errors[:3])
                raise ingest.LocationError(f"{target} gives no entity: {problems}")
        for problem in result.report.errors[:10]:
            ctx.log(f"Registered with a problem: {problem}")
        return refs
