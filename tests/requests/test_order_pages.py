"""The order form pages (portal/requests/order_pages.py): inline errors, kept values, the wizard, the JSON twin."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.requests.forms.pickers import PICKER_LIMIT
from tests.auth.people import production_settings, sign_in
from tests.requests.factories import REQUESTER, capability, group, store
from tests.requests.order_catalog import seed_order_catalog
from tests.web.csrf_support import dev_sign_in

SHOWCASE = "/products/delivery-platform/capabilities/ordering-showcase"
WIZARD = "/products/delivery-platform/capabilities/new-service"
HTML = {"accept": "text/html"}
GOOD = {"parameters.repository": "northwind/shipments", "parameters.language": "go",
        "parameters.contact": "ops@northwind.example", "parameters.replicas": "3",
        "parameters.database.size": "large", "parameters.team": "group:default/team-dx",
        "parameters.token": "hunter2", "parameters.environments": ["staging", "production"]}


@pytest.fixture
def order_app(settings, session):
    seed_order_catalog(session)
    return create_app(settings.model_copy(update={"env": "development", "requests_visible_to": "everyone"}))


@pytest.fixture
def browser(order_app) -> Iterator[TestClient]:
    """A client signed in as the requester that posts like a browser (the page's CSRF token)."""
    with TestClient(order_app) as client:
        dev_sign_in(client, REQUESTER)
        yield client


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, f"no hidden {name} in the page"
    return html.unescape(found.group(1))


def post_step(client: TestClient, url: str, page: str, data: dict, action: str = "submit"):  # noqa: ANN201
    body = {"draft": hidden(page, "draft"), "step": hidden(page, "step"), "action": action, **data}
    return client.post(url + "/order", data=body, headers=HTML, follow_redirects=False)


def field_tag(page: str, field_id: str) -> str:
    found = re.search(rf'<(input|select|textarea)[^>]*id="{field_id}"[^>]*>', page)
    assert found, f"no input with id {field_id}"
    return found.group(0)


def test_the_capability_page_shows_the_form_with_its_token_and_json_twin(browser):
    page = browser.get(SHOWCASE, headers=HTML).text
    assert f'action="{SHOWCASE}/order"' in page and 'name="csrf_token"' in page and 'name="draft"' in page
    assert 'for="field-repository">Repository <span class="required-mark">(required)</span>' in page
    assert 'aria-required="true"' in field_tag(page, "field-repository")
    assert "autofocus" in field_tag(page, "field-repository")
    assert 'value="2"' in field_tag(page, "field-replicas")  # the default
    assert '<option value="group:default/team-dx">' in page  # the owner picker, from the catalog
    assert "Submit request" in page
    twin = browser.get(f"/api/v1{SHOWCASE}/order-form").json()
    assert twin["capability"] == "capability:default/ordering-showcase" and twin["source"] == "inputs"
    assert [field["name"] for field in twin["pages"][0]["fields"]][:3] == [
        "parameters.repository", "parameters.language", "parameters.contact"]
    assert browser.get(SHOWCASE + "/order", headers={"accept": "application/json"}).json() == twin


def test_errors_show_inline_and_in_a_summary_and_every_value_but_the_password_is_kept(browser):
    page = browser.get(SHOWCASE, headers=HTML).text
    response = post_step(browser, SHOWCASE, page, {**GOOD, "parameters.repository": "elsewhere/shipments",
                                                   "parameters.replicas": "99999999999999999999",
                                                   "parameters.notes": "keep me", "hypothesis.text": "Faster CI"})
    assert response.status_code == 422
    again = response.text
    repository = field_tag(again, "field-repository")
    assert 'aria-invalid="true"' in repository and 'aria-describedby="field-repository-hint field-repository-error"' in repository
    assert re.search(r'id="field-repository-error">.*does not match', again)
    assert 'aria-invalid="true"' in field_tag(again, "field-replicas")
    assert "must fit in 64 bits" in again
    assert 'id="error-summary"' in again and 'href="#field-repository"' in again and "2 problems need fixing" in again
    # Values are kept, as typed ...
    assert 'value="elsewhere/shipments"' in repository
    assert ">keep me</textarea>" in again and ">Faster CI</textarea>" in again
    assert '<option value="go" selected>' in again
    assert 'value="staging" checked' in again
    # ... but a password is never written back into the page.
    assert "hunter2" not in again
    assert "A value is kept from before" in again


def test_a_fixed_form_creates_the_order_and_redirects_to_the_request(browser):
    page = browser.get(SHOWCASE, headers=HTML).text
    first = post_step(browser, SHOWCASE, page, {**GOOD, "parameters.repository": "elsewhere/x"})
    assert first.status_code == 422
    fixed = {key: value for key, value in GOOD.items() if key != "parameters.token"}  # the draft kept it
    response = post_step(browser, SHOWCASE, first.text, {**fixed, "hypothesis.text": "Ship faster",
                                                         "hypothesis.metric": "lead time", "hypothesis.target": "-20 %"})
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/requests/REQ-\d+", location)
    order = browser.get("/api/v1" + location).json()
    assert order["capability"] == "capability:default/ordering-showcase" and order["requester"] == REQUESTER
    assert order["parameters"] == {
        "repository": "northwind/shipments", "language": "go", "contact": "ops@northwind.example", "replicas": 3,
        "publishImage": False, "environments": ["staging", "production"], "token": "hunter2",
        "database": {"size": "large", "backups": False}, "team": "group:default/team-dx", "source": "portal",
        "fixed": "eu-west-1"}
    assert order["valueHypothesis"] == {"text": "Ship faster", "metric": "lead time", "target": "-20 %"}


def test_forms_without_a_csrf_token_are_refused(order_app):
    with TestClient(order_app) as client:
        dev_sign_in(client, REQUESTER)
        page = client.get(SHOWCASE, headers=HTML).text
        del client.headers["X-CSRF-Token"]
        response = client.post(SHOWCASE + "/order", data={**GOOD, "draft": hidden(page, "draft")}, headers=HTML)
        assert response.status_code == 403 and "CSRF" in response.text
        # The token the page's form carries is enough.
        with_token = client.post(SHOWCASE + "/order", headers=HTML, follow_redirects=False,
                                 data={**GOOD, "draft": hidden(page, "draft"), "csrf_token": hidden(page, "csrf_token")})
        assert with_token.status_code == 303


def test_the_wizard_goes_next_back_review_and_submit(browser):
    page = browser.get(WIZARD + "/order", headers=HTML).text
    assert 'aria-current="step">Describe the service' in page and "Next" in page and "Submit request" not in page
    # Next checks only this page, against the template's schema, and the picked owner against the catalog.
    bad = post_step(browser, WIZARD, page, {"parameters.name": "X", "parameters.owner": "group:default/nobody"}, "next")
    assert bad.status_code == 422 and 'aria-current="step">Describe the service' in bad.text
    assert "does not match" in bad.text and "The catalog has no owner (group or user) called group:default/nobody" in bad.text
    second = post_step(browser, WIZARD, bad.text, {"parameters.name": "returns", "parameters.owner": "group:default/team-dx",
                                                   "parameters.system": "system:default/shipping"}, "next")
    assert second.status_code == 200 and 'aria-current="step">Runtime' in second.text
    assert 'value="8080"' in field_tag(second.text, "field-port")  # a page not seen before shows its defaults
    third = post_step(browser, WIZARD, second.text, {"parameters.port": "9000", "parameters.secret": "pa55"}, "next")
    assert 'aria-current="step">Choose a repository' in third.text
    back = post_step(browser, WIZARD, third.text, {}, "back")
    assert 'value="9000"' in field_tag(back.text, "field-port") and "pa55" not in back.text
    forward = post_step(browser, WIZARD, back.text, {"parameters.port": "9000"}, "next")  # the password stays kept
    review = post_step(browser, WIZARD, forward.text, {"parameters.repoUrl.host": "github.com",
                                                       "parameters.repoUrl.owner": "northwind",
                                                       "parameters.repoUrl.repo": "returns"}, "next")
    assert 'aria-current="step">Review and submit' in review.text
    for label, shown in [("Name", "returns"), ("Owner", "group:default/team-dx"), ("HTTP port", "9000"),
                         ("Registry password", "••••••••"), ("Repository location", "github.com?owner=northwind&amp;repo=returns")]:
        assert f'<th scope="row">{label}</th><td>{shown}</td>' in review.text, label
    assert "pa55" not in review.text
    edit = post_step(browser, WIZARD, review.text, {}, "goto:0")
    assert 'value="returns"' in field_tag(edit.text, "field-name") and "Back to review" in edit.text
    still_checked = post_step(browser, WIZARD, edit.text, {"parameters.name": "R"}, "review")
    assert still_checked.status_code == 422 and 'aria-current="step">Describe the service' in still_checked.text
    review = post_step(browser, WIZARD, edit.text, {"parameters.name": "returns",
                                                    "parameters.owner": "group:default/team-dx"}, "review")
    assert 'aria-current="step">Review and submit' in review.text
    done = post_step(browser, WIZARD, review.text, {"hypothesis.text": "A service in a day"})
    assert done.status_code == 303
    order = browser.get("/api/v1" + done.headers["location"]).json()
    assert order["parameters"] == {"name": "returns", "owner": "group:default/team-dx", "port": 9000, "secret": "pa55",
                                   "repoUrl": "github.com?owner=northwind&repo=returns"}
    assert order["valueHypothesis"] == "A service in a day"


def test_submitting_a_wizard_early_shows_the_first_page_with_problems(browser):
    page = browser.get(WIZARD + "/order", headers=HTML).text
    response = post_step(browser, WIZARD, page, {"parameters.name": "returns"}, "submit")
    assert response.status_code == 422 and 'aria-current="step">Describe the service' in response.text
    assert re.search(r'id="field-owner-error">.*This field is required', response.text)


def test_a_deprecated_capability_warns_and_still_takes_orders(browser):
    page = browser.get("/products/delivery-platform/capabilities/legacy-ci", headers=HTML).text
    assert "This capability is deprecated" in page
    assert post_step(browser, "/products/delivery-platform/capabilities/legacy-ci", page, {}).status_code == 303


@pytest.mark.parametrize(("capability", "message"), [
    ("broken-inputs", "its spec.inputs"),
    ("missing-template", "template:default/does-not-exist, which is not in the catalog"),
])
def test_a_capability_with_unusable_inputs_explains_itself(browser, capability, message):
    url = f"/products/delivery-platform/capabilities/{capability}"
    page = browser.get(url, headers=HTML)
    assert page.status_code == 200
    assert "This capability cannot take orders right now" in page.text and message in page.text
    assert "Ask its owners (group:team-dx) to fix the descriptor." in page.text
    assert browser.get(f"/api/v1{url}/order-form").json()["problem"].startswith("This capability")
    refused = browser.post(url + "/order", data={"action": "submit"}, headers=HTML)
    assert refused.status_code == 422 and message in refused.text


def test_a_capability_without_inputs_takes_just_a_hypothesis(browser):
    url = "/products/delivery-platform/capabilities/new-python-service"
    page = browser.get(url, headers=HTML).text
    assert "This capability asks for nothing" in page
    response = post_step(browser, url, page, {"hypothesis.metric": "lead time"})
    assert response.status_code == 422 and "Say in words what value you expect" in response.text
    assert 'value="lead time"' in response.text
    assert post_step(browser, url, page, {"hypothesis.text": "x" * 2001}).status_code == 422
    assert post_step(browser, url, page, {"hypothesis.text": "Less toil"}).status_code == 303


def test_signed_out_people_in_production_are_asked_to_sign_in_and_cannot_post(settings, session):
    seed_order_catalog(session)
    app = create_app(production_settings(settings))
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get(SHOWCASE, headers=HTML).text
        assert "to order this capability" in page and "Submit request" not in page
        refused = post_step(client, SHOWCASE, page, {**GOOD, "csrf_token": hidden(page, "csrf_token")})
        assert refused.status_code == 401 and "What you typed is kept: sign in, then submit again." in refused.text
        assert 'value="northwind/shipments"' in field_tag(refused.text, "field-repository")
        with_bad_token = client.get(SHOWCASE, headers={**HTML, "authorization": "Bearer not-a-token"})
        assert with_bad_token.status_code == 200 and "to order this capability" in with_bad_token.text
        sign_in(client, production_settings(settings), REQUESTER)
        assert "Submit request" in client.get(SHOWCASE, headers=HTML).text


def test_hostile_posts_get_clear_answers(browser):
    page = browser.get(SHOWCASE, headers=HTML).text
    many = post_step(browser, SHOWCASE, page, {**GOOD, "parameters.environments": ["staging"] * 10_000})
    assert many.status_code == 422 and "Has 10,000 items; at most 500 are accepted" in many.text
    nul = post_step(browser, SHOWCASE, page, {**GOOD, "parameters.repository": "a\x00b"})
    assert nul.status_code == 400 and "NUL" in nul.text
    huge = post_step(browser, SHOWCASE, page, {**GOOD, "parameters.notes": "x" * (10 * 1024 * 1024)})
    assert huge.status_code == 413
    tampered = post_step(browser, SHOWCASE, page, {**GOOD, "draft": hidden(page, "draft")[:-4] + "AAAA"})
    assert tampered.status_code == 422 and "expired or were changed" in tampered.text
    wizard_page = browser.get(WIZARD + "/order", headers=HTML).text
    other = browser.post(WIZARD + "/order", headers=HTML, data={"draft": hidden(page, "draft"), "action": "next"})
    assert other.status_code == 422 and "belong to another capability" in other.text
    odd = browser.post(SHOWCASE + "/order", headers=HTML, follow_redirects=False,
                       data={**GOOD, "step": "99999999999999999999", "action": "../../etc", "draft": hidden(page, "draft")})
    assert odd.status_code in (303, 422) and "Traceback" not in odd.text
    for step, action in [("²", "goto:²"), ("9" * 5000, "goto:" + "9" * 5000), ("-1", "goto:-1"), ("", "next")]:
        strange = browser.post(WIZARD + "/order", headers=HTML,
                               data={"draft": hidden(wizard_page, "draft"), "step": step, "action": action})
        assert strange.status_code in (200, 422) and 'aria-current="step">Describe the service' in strange.text
    far = post_step(browser, WIZARD, wizard_page, {}, "goto:999")
    assert far.status_code == 200 and 'aria-current="step">Choose a repository' in far.text
    files = browser.post(SHOWCASE + "/order", headers=HTML, files={"parameters.notes": ("a.txt", b"x")},
                         data={"draft": hidden(page, "draft")})
    assert files.status_code == 400


def test_picker_search_answers_options_for_htmx_and_json(browser):
    fragment = browser.get(SHOWCASE + "/order/options", params={"field": "parameters.team", "parameters.team": "sre"},
                           headers={"hx-request": "true"})
    assert fragment.status_code == 200
    assert '<option value="group:default/team-sre">' in fragment.text and "team-dx" not in fragment.text
    answer = browser.get(SHOWCASE + "/order/options", params={"field": "parameters.team", "q": "team"}).json()
    assert [item["value"] for item in answer["items"]] == ["group:default/team-apps", "group:default/team-dx",
                                                           "group:default/team-sre"]
    assert answer["complete"] is True
    missing = browser.get(SHOWCASE + "/order/options", params={"field": "parameters.repository"})
    assert missing.status_code == 404


def test_unknown_products_and_capabilities_are_404(browser):
    assert browser.get("/products/nope/capabilities/x/order", headers=HTML).status_code == 404
    assert browser.get("/api/v1/products/delivery-platform/capabilities/nope/order-form").status_code == 404
    assert browser.post("/products/delivery-platform/capabilities/nope/order", headers=HTML).status_code == 404


def test_large_catalogs_get_a_searchable_text_box_that_works_without_javascript(browser, session):
    store(session, [group(f"squad-{number:03d}", []) for number in range(PICKER_LIMIT + 20)])
    page = browser.get(SHOWCASE, headers=HTML).text
    team = field_tag(page, "field-team")
    assert team.startswith("<input") and 'list="field-team-options"' in team
    assert f'hx-get="{SHOWCASE}/order/options?field=parameters.team"' in team
    assert page.count('<option value="group:default/squad-') == PICKER_LIMIT  # the first page of the catalog
    found = browser.get(SHOWCASE + "/order/options", params={"field": "parameters.team", "q": "squad-11"}).json()
    assert [item["value"] for item in found["items"]] == [f"group:default/squad-{n}" for n in range(110, 120)]
    # Without JavaScript people type a ref (or a bare name: the picker's kind is assumed) ...
    done = post_step(browser, SHOWCASE, page, {**GOOD, "parameters.team": "squad-119"})
    assert done.status_code == 303
    assert browser.get("/api/v1" + done.headers["location"]).json()["parameters"]["team"] == "group:default/squad-119"
    # ... and one that is not in the catalog is named beside the field.
    missing = post_step(browser, SHOWCASE, page, {**GOOD, "parameters.team": "squad-999"})
    assert missing.status_code == 422 and "The catalog has no owner (group or user) called group:default/squad-999" in missing.text


def test_text_from_descriptors_is_escaped_everywhere_on_the_form(browser, session):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    inputs = {"type": "object", "title": hostile, "description": hostile, "properties": {
        "a": {"type": "string", "title": hostile, "description": hostile, "ui:help": hostile, "ui:placeholder": hostile,
              "default": hostile},
        "b": {"type": "string", "enum": [hostile], "enumNames": [hostile]},
        hostile: {"type": "string"}}}
    store(session, [capability("hostile-form", "manual", inputs=inputs)])
    url = "/products/delivery-platform/capabilities/hostile-form"
    for response in (browser.get(url, headers=HTML), browser.get(url + "/order", headers=HTML),
                     browser.post(url + "/order", headers=HTML, data={"action": "submit", "parameters.b": "nope"})):
        assert "<script>alert" not in response.text and "<img src=x" not in response.text
        assert "&lt;script&gt;" in response.text


def test_a_password_inside_an_object_is_kept_across_an_error(browser, session):
    inputs = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"},
        "registry": {"type": "object", "properties": {
            "host": {"type": "string", "ui:widget": "password"}, "repo": {"type": "string"}}}}}
    store(session, [capability("nested-secret", "manual", inputs=inputs)])
    url = "/products/delivery-platform/capabilities/nested-secret"
    page = browser.get(url, headers=HTML).text
    first = post_step(browser, url, page, {"parameters.registry.host": "s3cret", "parameters.registry.repo": "r"})
    assert first.status_code == 422 and "s3cret" not in first.text
    done = post_step(browser, url, first.text, {"parameters.name": "n", "parameters.registry.repo": "r"})
    assert done.status_code == 303
    assert browser.get("/api/v1" + done.headers["location"]).json()["parameters"] == {
        "name": "n", "registry": {"host": "s3cret", "repo": "r"}}


def test_a_client_can_order_from_the_json_twin_alone(browser):
    twin = browser.get(f"/api/v1{SHOWCASE}/order-form").json()
    fields = {field["path"].removeprefix("parameters."): field for field in twin["pages"][0]["fields"]}
    parameters = {"repository": "northwind/twin", "language": fields["language"]["choices"][2]["value"],
                  "contact": "ops@northwind.example", "database": {"size": "small"}}
    response = browser.post(twin["submit"]["url"], json={"kind": twin["submit"]["kind"],
                                                         "capability": twin["submit"]["capability"],
                                                         "parameters": parameters})
    assert response.status_code == 201, response.text
    assert response.json()["parameters"]["language"] == "go"
