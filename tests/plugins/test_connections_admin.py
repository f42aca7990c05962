"""The connections admin page: a form per plugin drawn from its config model, secrets never echoed."""

import hashlib
import hmac
import uuid

from tests.conftest import FIXTURES
from tests.web.csrf_support import csrf_headers

HTML = {"Accept": "text/html"}
BODY = (FIXTURES / "github/octokit-webhooks/ping/payload.json").read_bytes()


def test_the_page_offers_a_typed_form_for_each_plugin(client):
    page = client.get("/admin/connections", headers=HTML)
    assert page.status_code == 200
    for title in ("GitHub", "GitLab", "Jira", "PagerDuty", "CDEvents"):
        assert f"Save {title} connection" in page.text
    # Secret fields are password inputs; a plain field shows its default.
    assert 'id="github-token" name="token" type="password"' in page.text
    assert 'value="https://api.github.com"' in page.text


def test_saving_a_connection_from_the_form_then_receiving_its_webhooks(client):
    response = client.post("/admin/connections", data={
        "plugin": "github", "connection_name": "ghe", "api_url": "https://ghe.example.com/api/v3",
        "webhook_secrets": "old-one, new-one", "token": "ghp_formsecret",
    }, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"], headers=HTML).text
    assert "Saved connection github/ghe." in page
    assert "ghp_formsecret" not in page and "new-one" not in page
    assert "/webhooks/github/ghe" in page
    signature = "sha256=" + hmac.new(b"new-one", BODY, hashlib.sha256).hexdigest()
    delivered = client.post("/webhooks/github/ghe", content=BODY, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "ping", "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature})
    assert delivered.status_code == 202

    deleted = client.post("/admin/connections/github/ghe/delete", follow_redirects=False,
                          headers=csrf_headers(client))
    assert deleted.status_code == 303
    assert "github/ghe" not in client.get("/api/v1/connections").text


def test_a_bad_form_is_shown_again_with_the_reason(client):
    response = client.post("/admin/connections", data={"plugin": "github", "connection_name": "Bad Name"})
    assert response.status_code == 400
    assert "must be lower-case letters, digits and" in response.text
    assert "Bad Name" in response.text
    missing = client.post("/admin/connections", data={"plugin": "svn", "connection_name": "x"},
                          headers=csrf_headers(client))
    assert missing.status_code == 400
    assert "No plugin named &#39;svn&#39; is installed." in missing.text
