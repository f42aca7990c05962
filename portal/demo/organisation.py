"""The demo organisation as the seeder needs it, read from the catalog stored in the database."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity
from portal.catalog.refs import RefError, parse_ref

# The annotations flow records link through, as the plugins write them (see plugins/*/normalize.py).
GITHUB_SLUG = "github.com/project-slug"
GITLAB_SLUG = "gitlab.com/project-slug"
JIRA_KEY = "jira/project-key"
PAGERDUTY_SERVICE = "pagerduty.com/service-id"
USES_CAPABILITIES = "flowport.dev/uses-capabilities"
LINK_ANNOTATIONS = (GITHUB_SLUG, GITLAB_SLUG, JIRA_KEY, PAGERDUTY_SERVICE)
# Record ids are built from these values (`demo:github:<slug>:commit:<sha>` must fit 400 characters),
# so a longer or oddly shaped value leaves that component without records from that tool.
MAX_LINK_VALUE = 200
_LINK_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


@dataclass(frozen=True)
class Component:
    ref: str
    name: str
    owner: str | None
    annotations: dict[str, str]
    uses: tuple[str, ...] = ()

    @property
    def repository(self) -> tuple[str, str] | None:
        """(source, `owner/repo`) of its code: GitHub first, then GitLab."""
        for annotation, source in ((GITHUB_SLUG, "github"), (GITLAB_SLUG, "gitlab")):
            if self.annotations.get(annotation):
                return source, self.annotations[annotation]
        return None


@dataclass(frozen=True)
class Capability:
    ref: str
    name: str
    title: str
    product: str | None
    owner: str | None
    mode: str
    target_lead_time: str | None
    time_saved: str | None
    inputs: dict | None


@dataclass(frozen=True)
class Organisation:
    components: list[Component] = field(default_factory=list)
    capabilities: list[Capability] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    # Group ref -> its members' user refs, so orders come from someone in the component's team.
    members: dict[str, list[str]] = field(default_factory=dict)

    def people(self) -> list[str]:
        return sorted({person for people in self.members.values() for person in people})


def _ref(value: object, kind: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_ref(value.strip(), default_kind=kind).key
    except RefError:
        return None


def _usable_link(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_LINK_VALUE and _LINK_VALUE.fullmatch(value) is not None


def _bodies(session: Session, kind: str) -> list[dict]:
    rows = session.execute(
        select(CatalogEntity.body).where(func.lower(CatalogEntity.kind) == kind).order_by(CatalogEntity.entity_ref)
    ).scalars()
    return [json.loads(body) for body in rows]


def _entity_ref(body: dict) -> str:
    metadata = body.get("metadata") or {}
    return f"{str(body['kind']).lower()}:{str(metadata.get('namespace') or 'default').lower()}/" \
           f"{str(metadata['name']).lower()}"


def read_organisation(session: Session) -> Organisation:
    """Components with their links and owners, capabilities, products and who belongs to which group."""
    components = []
    for body in _bodies(session, "component"):
        metadata, spec = body.get("metadata") or {}, body.get("spec") or {}
        annotations = {key: str(value) for key, value in (metadata.get("annotations") or {}).items()
                       if key not in LINK_ANNOTATIONS or _usable_link(value)}
        uses = tuple(sorted(filter(None, (_ref(part, "capability")
                                          for part in annotations.get(USES_CAPABILITIES, "").split(",")))))
        components.append(Component(_entity_ref(body), metadata["name"], _ref(spec.get("owner"), "group"),
                                    annotations, uses))
    capabilities = []
    for body in _bodies(session, "capability"):
        metadata, spec = body.get("metadata") or {}, body.get("spec") or {}
        fulfillment = spec.get("fulfillment") if isinstance(spec.get("fulfillment"), dict) else {}
        capabilities.append(Capability(
            _entity_ref(body), metadata["name"], str(metadata.get("title") or metadata["name"]),
            _ref(spec.get("product"), "platformproduct"), _ref(spec.get("owner"), "group"),
            str(fulfillment.get("mode") or "manual"),
            spec.get("targetLeadTime"), spec.get("timeSaved"),
            spec.get("inputs") if isinstance(spec.get("inputs"), dict) else None))
    products = [_entity_ref(body) for body in _bodies(session, "platformproduct")]
    members: dict[str, list[str]] = {}
    for body in _bodies(session, "user"):
        for group in (body.get("spec") or {}).get("memberOf") or []:
            if group_ref := _ref(group, "group"):
                members.setdefault(group_ref, []).append(_entity_ref(body))
    return Organisation(components, capabilities, products, {key: sorted(value) for key, value in members.items()})
