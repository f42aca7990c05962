"""Backstage's built-in template filters: parseRepoUrl, parseEntityRef, pick, projectSlug (and Nunjucks' dump).

Behaviour follows https://backstage.io/docs/features/software-templates/templating-extensions .
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Undefined

REPO_URL_KEYS = ("owner", "repo", "organization", "workspace", "project")
HOST_PATTERN = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class FilterError(ValueError):
    """A filter was given a value it cannot work with."""


def parse_repo_url(repo_url: Any) -> dict[str, str]:
    """`github.com?owner=o&repo=r` → `{host, owner, repo}` (plus organization, workspace, project when given)."""
    if not isinstance(repo_url, str) or not repo_url.strip():
        raise FilterError(f"parseRepoUrl needs a location like 'github.com?owner=o&repo=r', got {_shown(repo_url)}")
    parts = urlsplit(f"https://{repo_url}")
    if not HOST_PATTERN.match(parts.netloc or ""):
        raise FilterError(f"parseRepoUrl: {repo_url!r} does not start with a host name such as github.com")
    query = parse_qs(parts.query)
    spec = {"host": parts.netloc}
    spec.update({key: query[key][0] for key in REPO_URL_KEYS if query.get(key, [""])[0]})
    for missing in _missing_repo_url_keys(spec):
        raise FilterError(f"parseRepoUrl: {repo_url!r} is missing {missing}")
    return spec


def _missing_repo_url_keys(spec: Mapping[str, str]) -> list[str]:
    # Backstage decides by the host's integration type; without integrations we go by the host name.
    host = spec["host"].lower()
    needed = ["repo"]
    if "bitbucket" in host:
        needed.append("workspace" if host == "bitbucket.org" else "project")
    elif host == "dev.azure.com" or host.endswith(".visualstudio.com"):
        needed.append("organization")
    else:
        needed.append("owner")
    return [key for key in needed if key not in spec]


def project_slug(repo_url: Any) -> str:
    """`github.com?owner=o&repo=r` → `o/r`, as Backstage's projectSlug filter."""
    spec = parse_repo_url(repo_url)
    owner = spec.get("owner") or spec.get("workspace") or spec.get("organization")
    return f"{owner}/{spec['repo']}"


def parse_entity_ref(ref: Any, options: Mapping[str, Any] | None = None, **keyword_options: Any) -> dict[str, str]:
    """`group:default/team-a` → `{kind, namespace, name}`, with optional `defaultKind` and `defaultNamespace`."""
    merged = {**(options if isinstance(options, Mapping) else {}), **keyword_options}
    default_kind = merged.get("defaultKind")
    default_namespace = merged.get("defaultNamespace") or "default"
    if isinstance(ref, Mapping):
        kind, namespace, name = ref.get("kind"), ref.get("namespace"), ref.get("name")
    elif isinstance(ref, str) and ref.strip():
        kind, namespace, name = _split_entity_ref(ref.strip())
    else:
        raise FilterError(f"parseEntityRef needs a reference like 'group:default/team-a', got {_shown(ref)}")
    kind = kind or default_kind
    if not kind:
        raise FilterError(f"parseEntityRef: {ref!r} has no kind (e.g. 'component:'); give one or a defaultKind")
    if not name:
        raise FilterError(f"parseEntityRef: {ref!r} has no name")
    return {"kind": str(kind), "namespace": str(namespace or default_namespace), "name": str(name)}


def _split_entity_ref(ref: str) -> tuple[str | None, str | None, str]:
    colon, slash = ref.find(":"), ref.find("/")
    # A colon after the slash belongs to the name, as in Backstage's parser.
    if colon != -1 and (slash == -1 or colon < slash):
        kind, rest = ref[:colon], ref[colon + 1:]
        if not kind:
            raise FilterError(f"parseEntityRef: {ref!r} has an empty kind before ':'")
    else:
        kind, rest = None, ref
    pieces = rest.split("/")
    if len(pieces) > 2 or pieces[0] == "":
        raise FilterError(f"parseEntityRef: {ref!r} is not of the form [kind:][namespace/]name")
    return (kind, pieces[0], pieces[1]) if len(pieces) == 2 else (kind, None, pieces[0])


def pick(value: Any, key: Any) -> Any:
    """The value at `key` (a dotted path like `a.b`) of an object, or nothing when absent."""
    current = value
    for part in str(key).split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def dump(value: Any, indent: int | None = None) -> str:
    """JSON text of a value, as Nunjucks' `dump` (compact unless an indent is given)."""
    separators = (",", ":") if indent is None else None
    return json.dumps(to_plain(value), indent=indent, separators=separators, ensure_ascii=False)


def to_plain(value: Any) -> Any:
    """A value as JSON data: tuples and generators become lists, undefined becomes None."""
    if isinstance(value, Undefined) or value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, range)) or hasattr(value, "__next__"):
        return [to_plain(item) for item in value]
    return str(value)


def _shown(value: Any) -> str:
    if value is None or isinstance(value, Undefined):
        return "nothing (an undefined value)"
    return repr(value)[:80]


BACKSTAGE_FILTERS = {
    "parseRepoUrl": parse_repo_url,
    "parseEntityRef": parse_entity_ref,
    "pick": pick,
    "projectSlug": project_slug,
    "dump": dump,
}
