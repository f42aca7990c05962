"""The supported kinds: their apiVersions, spec rules and the relations each one emits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from portal.catalog.refs import EntityRef, RefError, entity_ref_of, parse_ref

BACKSTAGE_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
FLOWPORT_VERSIONS = ("flowport.dev/v1alpha1",)
TEMPLATE_VERSIONS = ("scaffolder.backstage.io/v1beta3",)

CAPABILITY_LIFECYCLES = ("experimental", "beta", "ga", "deprecated")
FULFILLMENT_MODES = ("automated", "approval", "manual")
USES_CAPABILITIES_ANNOTATION = "flowport.dev/uses-capabilities"

_ISO_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)

# Each relation pair: the type stored on the declaring entity and the type stored on the target.
RELATION_PAIRS = {
    "ownedBy": "ownerOf",
    "partOf": "hasPart",
    "dependsOn": "dependencyOf",
    "providesApi": "apiProvidedBy",
    "consumesApi": "apiConsumedBy",
    "memberOf": "hasMember",
    "childOf": "parentOf",
    "usesCapability": "capabilityUsedBy",
}
RELATION_PAIRS.update({inverse: forward for forward, inverse in list(RELATION_PAIRS.items())})
# Lower-cased lookup so `relations.ownedby=...` filters find the canonical type.
RELATION_TYPES_BY_LOWER = {name.lower(): name for name in RELATION_PAIRS}

Relation = tuple[str, str, str]  # (source key, type, target key)
SpecProblem = tuple[str, str]  # (path inside spec, message)


@dataclass(frozen=True)
class Rule:
    """One spec field: its shape and whether it is required."""

    path: str
    shape: str  # "string" | "strings" | "object" | "duration" | "any" | "objects-or-list"
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindSpec:
    kind: str
    api_versions: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    emit: Callable[[dict, EntityRef], Iterator[tuple[str, str, EntityRef]]] | None = None
    spec_required: bool = True
    extra_checks: tuple[Callable[[dict], Iterator[SpecProblem]], ...] = field(default=())

    def validate_spec(self, spec: dict) -> list[SpecProblem]:
        problems: list[SpecProblem] = []
        for rule in self.rules:
            problems += _check_rule(spec, rule)
        for check in self.extra_checks:
            problems += list(check(spec))
        return problems


def _get_path(data: dict, path: str) -> tuple[bool, object]:
    current: object = data
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def _check_rule(spec: dict, rule: Rule) -> list[SpecProblem]:
    present, value = _get_path(spec, rule.path)
    if not present or value is None:
        return [(rule.path, "is required")] if rule.required else []
    if rule.shape in ("string", "duration"):
        if not isinstance(value, str) or not value:
            return [(rule.path, "must be a non-empty string")]
        if rule.shape == "duration" and not _ISO_DURATION.match(value):
            return [(rule.path, f"{value!r} is not an ISO-8601 duration such as PT4H or P2D")]
        if rule.choices and value not in rule.choices:
            return [(rule.path, f"{value!r} is not one of {', '.join(rule.choices)}")]
        return []
    if rule.shape == "strings":
        if not isinstance(value, list):
            return [(rule.path, "must be a list of strings")]
        return [
            (f"{rule.path}[{index}]", "must be a non-empty string")
            for index, item in enumerate(value)
            if not isinstance(item, str) or not item
        ]
    if rule.shape == "object" and not isinstance(value, dict):
        return [(rule.path, "must be an object")]
    if rule.shape == "objects-or-list" and not isinstance(value, (dict, list)):
        return [(rule.path, "must be an object or a list of objects")]
    return []


def _refs(value: object, default_kind: str, namespace: str) -> Iterator[EntityRef]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item in (None, ""):
            continue
        try:
            yield parse_ref(item, default_kind, namespace)
        except RefError:
            continue


def _pair(spec: dict, key: str, relation: str, default_kind: str, ns: str):
    for target in _refs(spec.get(key), default_kind, ns):
        yield (relation, RELATION_PAIRS[relation], target)


def _emit_component(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "owner", "ownedBy", "Group", ns)
    yield from _pair(spec, "system", "partOf", "System", ns)
    yield from _pair(spec, "subcomponentOf", "partOf", "Component", ns)
    yield from _pair(spec, "providesApis", "providesApi", "API", ns)
    yield from _pair(spec, "consumesApis", "consumesApi", "API", ns)
    yield from _pair(spec, "dependsOn", "dependsOn", "Component", ns)
    yield from _pair(spec, "dependencyOf", "dependencyOf", "Component", ns)
    yield from _uses_capabilities(entity, ns)


def _uses_capabilities(entity: dict, ns: str):
    annotations = (entity.get("metadata") or {}).get("annotations") or {}
    declared = annotations.get(USES_CAPABILITIES_ANNOTATION)
    if isinstance(declared, str):
        refs = [part.strip() for part in declared.split(",") if part.strip()]
        for target in _refs(refs, "Capability", ns):
            yield ("usesCapability", "capabilityUsedBy", target)


def _emit_api(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "owner", "ownedBy", "Group", ns)
    yield from _pair(spec, "system", "partOf", "System", ns)


def _emit_resource(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "owner", "ownedBy", "Group", ns)
    yield from _pair(spec, "system", "partOf", "System", ns)
    yield from _pair(spec, "dependsOn", "dependsOn", "Component", ns)
    yield from _pair(spec, "dependencyOf", "dependencyOf", "Component", ns)


def _emit_system(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "owner", "ownedBy", "Group", ns)
    yield from _pair(spec, "domain", "partOf", "Domain", ns)


def _emit_domain(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "owner", "ownedBy", "Group", ns)
    yield from _pair(spec, "subdomainOf", "partOf", "Domain", ns)


def _emit_group(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "parent", "childOf", "Group", ns)
    yield from _pair(spec, "children", "parentOf", "Group", ns)
    yield from _pair(spec, "members", "hasMember", "User", ns)


def _emit_user(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "memberOf", "memberOf", "Group", ns)


def _emit_owned(entity: dict, me: EntityRef):
    spec = entity.get("spec") or {}
    yield from _pair(spec, "owner", "ownedBy", "Group", me.namespace)


def _emit_capability(entity: dict, me: EntityRef):
    spec, ns = entity.get("spec") or {}, me.namespace
    yield from _pair(spec, "owner", "ownedBy", "Group", ns)
    yield from _pair(spec, "product", "partOf", "PlatformProduct", ns)


def _check_location(spec: dict) -> Iterator[SpecProblem]:
    if "target" not in spec and "targets" not in spec:
        yield ("", "a Location needs spec.target or spec.targets")
    presence = spec.get("presence")
    if presence is not None and presence not in ("required", "optional"):
        yield ("presence", "must be 'required' or 'optional'")


def _check_api_definition(spec: dict) -> Iterator[SpecProblem]:
    # Upstream Backstage models MCP servers as `type: mcp-server` APIs with `remotes` instead of a
    # text definition (backstage/backstage RFC #32062, used by the official demo catalog).
    if spec.get("type") == "mcp-server":
        remotes = spec.get("remotes")
        if spec.get("definition") is None and (not isinstance(remotes, list) or not remotes):
            yield ("remotes", "is required for an mcp-server API (a list of {type, url})")
        elif isinstance(remotes, list):
            for index, remote in enumerate(remotes):
                if not isinstance(remote, dict) or not isinstance(remote.get("url"), str):
                    yield (f"remotes[{index}]", "must be an object with a url")
    elif spec.get("definition") is None:
        yield ("definition", "is required")


def _check_fulfillment(spec: dict) -> Iterator[SpecProblem]:
    fulfillment = spec.get("fulfillment")
    if isinstance(fulfillment, dict) and fulfillment.get("mode") == "approval":
        if not fulfillment.get("approvers"):
            yield ("fulfillment.approvers", "is required when mode is 'approval'")


_S = "string"
KIND_SPECS: tuple[KindSpec, ...] = (
    KindSpec("Component", BACKSTAGE_VERSIONS, (
        Rule("type", _S, True), Rule("lifecycle", _S, True), Rule("owner", _S, True),
        Rule("system", _S), Rule("subcomponentOf", _S), Rule("providesApis", "strings"),
        Rule("consumesApis", "strings"), Rule("dependsOn", "strings"), Rule("dependencyOf", "strings"),
    ), _emit_component),
    KindSpec("API", BACKSTAGE_VERSIONS, (
        Rule("type", _S, True), Rule("lifecycle", _S, True), Rule("owner", _S, True),
        Rule("definition", _S), Rule("system", _S),
    ), _emit_api, extra_checks=(_check_api_definition,)),
    KindSpec("Resource", BACKSTAGE_VERSIONS, (
        Rule("type", _S, True), Rule("owner", _S, True), Rule("system", _S),
        Rule("dependsOn", "strings"), Rule("dependencyOf", "strings"),
    ), _emit_resource),
    KindSpec("System", BACKSTAGE_VERSIONS, (
        Rule("owner", _S, True), Rule("domain", _S), Rule("type", _S),
    ), _emit_system),
    KindSpec("Domain", BACKSTAGE_VERSIONS, (
        Rule("owner", _S, True), Rule("subdomainOf", _S), Rule("type", _S),
    ), _emit_domain),
    KindSpec("Group", BACKSTAGE_VERSIONS, (
        Rule("type", _S, True), Rule("children", "strings", True), Rule("parent", _S),
        Rule("members", "strings"), Rule("profile", "object"),
    ), _emit_group),
    KindSpec("User", BACKSTAGE_VERSIONS, (
        Rule("memberOf", "strings"), Rule("profile", "object"),
    ), _emit_user, spec_required=True),
    KindSpec("Location", BACKSTAGE_VERSIONS, (
        Rule("type", _S), Rule("target", _S), Rule("targets", "strings"),
    ), None, extra_checks=(_check_location,)),
    KindSpec("Template", TEMPLATE_VERSIONS, (
        Rule("type", _S, True), Rule("steps", "any", True), Rule("parameters", "objects-or-list"),
        Rule("owner", _S),
    ), _emit_owned),
    KindSpec("PlatformProduct", FLOWPORT_VERSIONS, (
        Rule("owner", _S, True), Rule("lifecycle", _S, True), Rule("type", _S, True),
        Rule("customers", "strings"), Rule("objectives", "strings"), Rule("valueStream", "any"),
    ), _emit_owned),
    KindSpec("Capability", FLOWPORT_VERSIONS, (
        Rule("product", _S, True), Rule("owner", _S, True),
        Rule("lifecycle", _S, True, CAPABILITY_LIFECYCLES),
        Rule("fulfillment", "object", True),
        Rule("fulfillment.mode", _S, True, FULFILLMENT_MODES),
        Rule("fulfillment.template", _S), Rule("fulfillment.approvers", _S),
        Rule("targetLeadTime", "duration"), Rule("timeSaved", "duration"), Rule("inputs", "object"),
    ), _emit_capability, extra_checks=(_check_fulfillment,)),
)

_BY_LOWER_KIND = {spec.kind.lower(): spec for spec in KIND_SPECS}


def kind_spec_for(kind: str) -> KindSpec | None:
    """The spec definition of a kind (matched case-insensitively), or None if unsupported."""
    return _BY_LOWER_KIND.get(kind.lower())


def relations_of(entity: dict) -> list[Relation]:
    """Every relation an entity declares, in both directions, as lower-cased keys."""
    me = entity_ref_of(entity)
    spec_def = kind_spec_for(me.kind)
    if spec_def is None or spec_def.emit is None:
        return []
    relations: list[Relation] = []
    seen: set[Relation] = set()
    for forward, inverse, target in spec_def.emit(entity, me):
        for row in ((me.key, forward, target.key), (target.key, inverse, me.key)):
            if row not in seen:
                seen.add(row)
                relations.append(row)
    return relations
