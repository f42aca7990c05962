"""Backstage's own @backstage/catalog-client (Node) against a real Flowport server."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session

from portal.app import create_app
from tests.live_server import serve_in_thread
from tests.compat.catalog_seed import seed

SCRIPT = Path(__file__).with_name("catalog_client_check.mjs")
REPO_ROOT = Path(__file__).resolve().parents[2]
LEDGER = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
spec:
  type: service
  lifecycle: production
  owner: team-a
"""

pytestmark = pytest.mark.slow



@pytest.fixture
def server_url(settings, engine, tmp_path):
    """The real app served by uvicorn on a free port, in a thread, for the length of the test; file
    locations may be registered from the test's folder."""
    settings = settings.model_copy(update={"file_location_roots": [str(tmp_path)]})
    with serve_in_thread(create_app(settings)) as base_url:
        yield f"{base_url}/api/catalog"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_backstage_catalog_client_works_against_flowport(server_url, engine, tmp_path):
    with Session(engine) as session:
        seed(session)
    location_file = tmp_path / "catalog-info.yaml"
    location_file.write_text(LEDGER)
    run = subprocess.run(
        ["node", str(SCRIPT)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "CATALOG_BASE_URL": server_url,
             "LOCATION_FILE": str(location_file)},
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)

    assert out["getEntities"] == ["Admin-Console", "web-shop"]
    assert out["getEntitiesByRefs"] == ["Component:orders", None, "Group:team-b"]
    assert out["queryTotalItems"] == 9
    flat = [name for page in out["queryPages"] for name in page]
    assert flat == sorted(flat, key=str.lower) and len(flat) == len(set(flat)) == 9
    assert out["queryPagesBack"] == list(reversed(out["queryPages"][:-1]))
    assert out["fullText"] == ["web-shop"]
    assert out["streamEntities"] == ["team-a", "team-b"]
    assert out["getEntityByRef"]["name"] == "orders" and out["getEntityByRef"]["uid"] is True
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in out["getEntityByRef"]["relations"]
    assert out["getEntityByRefMissing"] is None
    assert {"value": "service", "count": 6} in out["getEntityFacets"]["spec.type"]
    assert out["addLocationDryRun"]["exists"] is False and "ledger" in out["addLocationDryRun"]["entities"]
    assert "ledger" in out["addLocation"]["entities"]
    assert out["getLocationByRef"] is True and out["getLocationByEntity"] is True
    assert out["refreshEntity"] == "ok"
    assert out["validateValid"] == {"valid": True}
    assert out["validateInvalid"]["valid"] is False and out["validateInvalid"]["count"] >= 1
    assert out["badCursor"]["status"] == 400 and out["badCursor"]["causeName"] == "InputError"
    assert out["removedLocation"] is None
