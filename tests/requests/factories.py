"""Small factories for request tests: teams, people, platform products and capabilities in the catalog."""

from __future__ import annotations

from sqlmodel import Session

from portal.catalog.store import PreparedEntity, write_entities

BACKSTAGE = "backstage.io/v1alpha1"
FLOWPORT = "flowport.dev/v1alpha1"
LOCATION = "file:/srv/catalog/requests-test.yaml"

OWNER = "user:default/olga.owner"        # team-dx: owns the product and its capabilities
APPROVER = "user:default/sami.approver"  # team-sre: approves progressive delivery
REQUESTER = "user:default/rui.requester"  # team-apps: orders and proposes
OUTSIDER = "user:default/otto.outsider"   # team-apps too, but never the requester in tests

CI_INPUTS = {
    "type": "object",
    "required": ["repository", "language"],
    "properties": {
        "repository": {"type": "string", "pattern": "^northwind/[a-z0-9._-]+$"},
        "language": {"type": "string", "enum": ["python", "java", "typescript", "go"]},
        "publishImage": {"type": "boolean", "default": True},
        "coverageThreshold": {"type": "integer", "minimum": 0, "maximum": 100},
        "environments": {"type": "array", "items": {"type": "string", "enum": ["staging", "production"]}},
    },
}


def _entity(api_version: str, kind: str, name: str, spec: dict, **metadata) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}


def group(name: str, members: list[str]) -> dict:
    return _entity(BACKSTAGE, "Group", name, {"type": "team", "children": [], "members": members})


def user(name: str, groups: list[str]) -> dict:
    display = " ".join(part.capitalize() for part in name.split("."))
    return _entity(BACKSTAGE, "User", name, {"profile": {"displayName": display}, "memberOf": groups})


def product(name: str, owner: str = "group:team-dx", **spec) -> dict:
    return _entity(FLOWPORT, "PlatformProduct", name, {"type": "platform-product", "lifecycle": "production",
                                                       "owner": owner, **spec}, title=name.replace("-", " ").title())


def capability(name: str, mode: str, product_name: str = "delivery-platform", **spec) -> dict:
    fulfillment = {"mode": mode}
    if "approvers" in spec:
        fulfillment["approvers"] = spec.pop("approvers")
    return _entity(FLOWPORT, "Capability", name, {
        "product": f"platformproduct:default/{product_name}", "owner": "group:team-dx", "lifecycle": "ga",
        "fulfillment": fulfillment, **spec}, title=name.replace("-", " ").capitalize())


def store(session: Session, entities: list[dict]) -> None:
    """Write entities the way ingestion would, and commit."""
    write_entities(session, [PreparedEntity(entity, LOCATION, LOCATION) for entity in entities])
    session.commit()


def request_catalog() -> list[dict]:
    """The teams, people, products and capabilities the request tests use."""
    return [
        group("team-dx", ["olga.owner"]),
        group("team-sre", ["sami.approver"]),
        group("team-apps", ["rui.requester", "otto.outsider"]),
        user("olga.owner", ["team-dx"]),
        user("sami.approver", ["team-sre"]),
        user("rui.requester", ["team-apps"]),
        user("otto.outsider", ["team-apps"]),
        product("delivery-platform"),
        product("runtime-platform", owner="group:default/team-sre", valueStream={"ideas": {"stages": [
            {"id": "submitted", "type": "wait"}, {"id": "discovery", "type": "work"},
            {"id": "released", "type": "wait"}, {"id": "rejected", "type": "wait", "terminal": True}]}}),
        product("security-platform", valueStream={"orders": {"stages": [
            {"id": "submitted"}, {"id": "awaiting-approval"}, {"id": "security-review", "type": "work"},
            {"id": "fulfilling", "type": "work"}, {"id": "delivered"}, {"id": "in-use"}, {"id": "value-confirmed"},
            {"id": "failed", "terminal": True}, {"id": "cancelled", "terminal": True},
            {"id": "rejected", "terminal": True}]}}),
        capability("hardened-image", "manual", product_name="security-platform"),
        capability("ci-pipeline", "automated", targetLeadTime="PT30M", timeSaved="PT6H", inputs=CI_INPUTS),
        capability("new-python-service", "automated", targetLeadTime="PT15M"),
        capability("progressive-delivery", "approval", approvers="group:default/team-sre", targetLeadTime="P2D"),
        capability("feature-flags", "manual", targetLeadTime="P3D"),
        capability("broken-inputs", "manual", inputs={"type": "no-such-type"}),
    ]


def seed_request_catalog(session: Session) -> None:
    store(session, request_catalog())
