def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_current_schema(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def test_readyz_reports_missing_schema(tmp_path):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.settings import Settings

    app = create_app(Settings(env="test", data_dir=tmp_path, run_worker=False))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "flowport migrate" in response.json()["reason"]
