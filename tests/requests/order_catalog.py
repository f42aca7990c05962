"""Capabilities and a template for the order-form tests, on top of the request catalog (factories.py)."""

from __future__ import annotations

from sqlmodel import Session

from tests.requests.factories import BACKSTAGE, capability, request_catalog, store

SHOWCASE_INPUTS = {
    "type": "object",
    "required": ["repository", "language", "contact"],
    "properties": {
        "repository": {"title": "Repository", "type": "string", "pattern": "^northwind/[a-z0-9._-]+$",
                       "description": "GitHub repository as owner/name.", "ui:placeholder": "northwind/my-service",
                       "ui:autofocus": True},
        "language": {"title": "Language", "type": "string", "enum": ["python", "java", "go"],
                     "enumNames": ["Python", "Java", "Go"]},
        "contact": {"title": "Contact e-mail", "type": "string", "format": "email"},
        "docs": {"title": "Documentation URL", "type": "string", "format": "uri"},
        "startDate": {"title": "Start date", "type": "string", "format": "date"},
        "window": {"title": "Maintenance window", "type": "string", "format": "date-time"},
        "replicas": {"title": "Replicas", "type": "integer", "minimum": 1, "maximum": 10, "default": 2},
        "budget": {"title": "Monthly budget", "type": "number", "minimum": 0},
        "publishImage": {"title": "Publish a container image", "type": "boolean", "default": True},
        "tier": {"title": "Tier", "type": "string", "ui:widget": "radio",
                 "oneOf": [{"const": "gold", "title": "Gold (24/7)"}, {"const": "silver", "title": "Silver"}]},
        "environments": {"title": "Environments", "type": "array", "uniqueItems": True,
                         "items": {"type": "string", "enum": ["staging", "production"]}},
        "notes": {"title": "Notes", "type": "string", "ui:widget": "textarea", "maxLength": 500,
                  "ui:help": "Anything the owners should know."},
        "token": {"title": "Deploy token", "type": "string", "ui:widget": "password"},
        "database": {"title": "Database", "type": "object", "required": ["size"], "properties": {
            "size": {"title": "Size", "type": "string", "enum": ["small", "large"], "default": "small"},
            "backups": {"title": "Daily backups", "type": "boolean"}}},
        "team": {"title": "Owning team", "type": "string", "ui:field": "OwnerPicker",
                 "ui:options": {"catalogFilter": {"kind": "Group"}}},
        "source": {"title": "Source", "type": "string", "ui:widget": "hidden", "default": "portal"},
        "fixed": {"title": "Region", "type": "string", "default": "eu-west-1", "ui:readonly": True},
        "shape": {"title": "Shape", "anyOf": [{"type": "string"}, {"type": "integer"}]},
    },
}

WIZARD_PAGES = [
    {"title": "Describe the service", "required": ["name", "owner"], "properties": {
        "name": {"title": "Name", "type": "string", "pattern": "^[a-z][a-z0-9-]{2,40}$", "ui:field": "EntityNamePicker",
                 "ui:autofocus": True},
        "owner": {"title": "Owner", "type": "string", "ui:field": "OwnerPicker",
                  "ui:options": {"catalogFilter": {"kind": "Group"}}},
        "system": {"title": "System", "type": "string", "ui:field": "EntityPicker",
                   "ui:options": {"catalogFilter": {"kind": "System"}}}}},
    {"title": "Runtime", "required": ["port"], "properties": {
        "port": {"title": "HTTP port", "type": "integer", "minimum": 1024, "maximum": 65535, "default": 8080},
        "secret": {"title": "Registry password", "type": "string", "ui:widget": "password"}}},
    {"title": "Choose a repository", "required": ["repoUrl"], "properties": {
        "repoUrl": {"title": "Repository location", "type": "string", "ui:field": "RepoUrlPicker",
                    "ui:options": {"allowedHosts": ["github.com"], "allowedOwners": ["northwind"]}}}},
]


def template(name: str, parameters: list | dict) -> dict:
    return {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": name, "title": name.replace("-", " ").capitalize()},
            "spec": {"owner": "group:default/team-dx", "type": "service", "parameters": parameters,
                     "steps": [{"id": "log", "action": "debug:log", "input": {"message": "hello"}}]}}


def system(name: str) -> dict:
    return {"apiVersion": BACKSTAGE, "kind": "System", "metadata": {"name": name},
            "spec": {"owner": "group:default/team-dx"}}


def templated(name: str, template_ref: str) -> dict:
    entity = capability(name, "automated")
    entity["spec"]["fulfillment"]["template"] = template_ref
    return entity


def order_catalog() -> list[dict]:
    return [
        *request_catalog(),
        system("shipping"), system("payments"),
        template("service-wizard", WIZARD_PAGES),
        capability("ordering-showcase", "automated", inputs=SHOWCASE_INPUTS, targetLeadTime="PT30M"),
        templated("new-service", "template:default/service-wizard"),
        capability("legacy-ci", "manual", lifecycle="deprecated", inputs={
            "type": "object", "properties": {"repository": {"type": "string"}}}),
        templated("missing-template", "template:default/does-not-exist"),
    ]


def seed_order_catalog(session: Session) -> None:
    store(session, order_catalog())
