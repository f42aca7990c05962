"""Scaffolder fixtures: the registry, the real templates in templates/ and small template factories."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from portal.scaffolder.actions import ActionRegistry, default_registry
from portal.scaffolder.expressions import ExpressionRenderer
from tests.conftest import REPO_ROOT

TEMPLATES = REPO_ROOT / "templates"


def real_template(name: str) -> dict[str, Any]:
    """A template of templates/ as the catalog stores it (with the location annotation it would carry)."""
    path = TEMPLATES / name / "template.yaml"
    entity = yaml.safe_load(path.read_text())
    entity["metadata"].setdefault("annotations", {})["backstage.io/managed-by-location"] = f"file:{path}"
    return entity


def make_template(steps: list[dict[str, Any]] | None = None, parameters: Any = None,
                  output: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    """A minimal v1beta3 Template entity; pass only what a test is about."""
    spec: dict[str, Any] = {"owner": "group:team-a", "type": "service", "steps": steps or []}
    if parameters is not None:
        spec["parameters"] = parameters
    if output is not None:
        spec["output"] = output
    return {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": "demo", **metadata}, "spec": spec}


def python_service_values(**overrides: Any) -> dict[str, Any]:
    """What a person fills into the Python service template's form."""
    values = {"name": "returns-service", "description": "Handles parcel returns.",
              "owner": "group:default/team-returns", "system": "logistics", "python_version": "3.13",
              "port": 8081, "jira_key": "RET", "repoUrl": "github.com?owner=northwind&repo=returns-service"}
    return {**values, **overrides}


def static_website_values(**overrides: Any) -> dict[str, Any]:
    """What a person fills into the static website template's form."""
    values = {"name": "returns-info", "description": "How returns work, for customers.",
              "owner": "group:default/team-returns", "system": "logistics", "site_title": "Returns at Northwind",
              "accent_color": "#00875a", "repoUrl": "github.com?owner=northwind&repo=returns-info"}
    return {**values, **overrides}


@pytest.fixture
def registry() -> ActionRegistry:
    return default_registry()


@pytest.fixture
def renderer() -> ExpressionRenderer:
    return ExpressionRenderer()
