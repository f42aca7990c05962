from __future__ import annotations

import pytest
import yaml

from portal.scaffolder.actions import ActionError
from portal.scaffolder.actions.catalog import CatalogWrite
from portal.scaffolder.actions.paths import UnsafePathError
from tests.scaffolder.actions.helpers import make_context

ENTITY = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
          "metadata": {"name": "returns-service", "description": "Retouren – Rücksendungen"},
          "spec": {"type": "service", "owner": "group:default/team-returns", "lifecycle": "experimental"}}


def test_catalog_write_writes_catalog_info_yaml(tmp_path):
    ctx, lines = make_context(tmp_path, input={"entity": ENTITY})
    CatalogWrite().run(ctx)
    written = (tmp_path / "catalog-info.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(written) == ENTITY
    assert written.startswith("apiVersion: backstage.io/v1alpha1\nkind: Component\n")
    assert "Rücksendungen" in written
    assert lines == ["Writing catalog-info.yaml"]


def test_catalog_write_takes_a_file_path_inside_the_workspace(tmp_path):
    ctx, _ = make_context(tmp_path, input={"entity": ENTITY, "filePath": "deploy/catalog.yaml"})
    CatalogWrite().run(ctx)
    assert yaml.safe_load((tmp_path / "deploy" / "catalog.yaml").read_text())["metadata"]["name"] == "returns-service"


@pytest.mark.parametrize(("file_path", "error"), [
    ("../escape.yaml", UnsafePathError), ("/etc/cron.d/x", UnsafePathError), ("./", ActionError)])
def test_catalog_write_refuses_paths_outside_the_workspace(tmp_path, file_path, error):
    ctx, _ = make_context(tmp_path / "ws", input={"entity": ENTITY, "filePath": file_path})
    (tmp_path / "ws").mkdir()
    with pytest.raises(error):
        CatalogWrite().run(ctx)
    assert list(tmp_path.rglob("*.yaml")) == []
