"""A plugin package built and installed the way a user would, then found through its entry points."""

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app

SAMPLE = Path(__file__).parent / "sample_plugin"


@pytest.fixture(scope="module")
def installed_sample(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(SAMPLE)],
        check=True,
    )
    [wheel] = wheels.glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    return target


@pytest.fixture
def app_with_sample(installed_sample, settings, monkeypatch):
    monkeypatch.syspath_prepend(str(installed_sample))
    monkeypatch.setenv("FLOWPORT_SAMPLE_WEBHOOK_SECRET", "t0ken")
    monkeypatch.setenv("FLOWPORT_SAMPLE_REGION", "us")
    return create_app(settings)


def test_installed_plugin_loads_and_a_broken_one_is_isolated(app_with_sample):
    with TestClient(app_with_sample) as client:
        plugins = {p["name"]: p for p in client.get("/api/v1/plugins").json()["items"]}
        assert client.get("/healthz").status_code == 200
    assert plugins["sample"]["loaded"] is True
    assert plugins["sample"]["connections"] == ["default"]
    assert plugins["broken"]["loaded"] is False
    assert "needs a library that is not installed" in plugins["broken"]["error"]
    assert plugins["github"]["loaded"] is True


def test_each_connection_gets_its_own_typed_instance(app_with_sample):
    registry = app_with_sample.state.plugins
    default = registry.connection("sample")
    other = registry.configure("sample", {"name": "second", "webhook_secrets": ["x"], "region": "ap"})
    assert default is not other
    assert (default.config.region, other.config.region) == ("us", "ap")
    assert registry.configure("sample", {"name": "bad", "colour": "red"}) is None
    assert "bad" in registry.status["sample"].error


def test_third_party_webhooks_go_through_the_same_intake(app_with_sample, engine):
    with TestClient(app_with_sample) as client:
        ok = client.post("/webhooks/sample", json={"id": "e1", "type": "thing.done"},
                         headers={"X-Sample-Token": "t0ken"})
        bad = client.post("/webhooks/sample", json={"id": "e2", "type": "x"}, headers={"X-Sample-Token": "no"})
    assert ok.status_code == 202 and ok.json()["eventType"] == "thing.done"
    assert bad.status_code == 401 and bad.json()["reason"] == "wrong X-Sample-Token"
