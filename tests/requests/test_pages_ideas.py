"""Ideas: per product by votes, one vote per person (HTMX and plain forms), and the form to submit one."""

from __future__ import annotations

import pytest

from tests.requests.factories import APPROVER, OUTSIDER, OWNER, REQUESTER
from tests.requests.page_clients import (  # noqa: F401 - fixtures
    HTML,
    JSON,
    STRANGER,
    involved_app,
    page,
    person,
    post_form,
    raise_idea,
    text_of,
)


def test_ideas_are_grouped_by_product_and_sorted_by_votes(person):
    requester = person(REQUESTER)
    quiet = raise_idea(requester, "Quiet idea")
    popular = raise_idea(requester, "Popular idea")
    runtime = raise_idea(requester, "Runtime idea", product="runtime-platform")
    for voter in (OUTSIDER, OWNER):
        post_form(person(voter), f"/requests/{popular}/vote", {})
    body = requester.get("/ideas", headers=JSON).json()
    assert [item["id"] for item in body["items"]][:1] == [popular]
    assert [(item["id"], item["votes"]) for item in body["items"]] == [(popular, 2), (runtime, 0), (quiet, 0)]
    html = page(requester, "/ideas")
    delivery = html.index('<a href="/catalog/default/platformproduct/delivery-platform">')
    runtime_section = html.index('<a href="/catalog/default/platformproduct/runtime-platform">')
    assert delivery < html.index("Popular idea") < html.index("Quiet idea") < runtime_section < html.index("Runtime idea")
    only = requester.get("/ideas?product=runtime-platform", headers=JSON).json()["items"]
    assert [item["id"] for item in only] == [runtime]


def test_one_vote_per_person_and_the_button_goes(person):
    idea = raise_idea(person(REQUESTER))
    voter = person(OUTSIDER)
    assert 'action="/requests/%s/vote"' % idea in page(voter, "/ideas")
    response = post_form(voter, f"/requests/{idea}/vote", {"next": "/ideas"})
    assert response.headers["location"] == "/ideas"
    post_form(voter, f"/requests/{idea}/vote", {"next": "/ideas"})
    assert voter.get(f"/api/v1/requests/{idea}").json()["votes"] == 1
    html = page(voter, "/ideas")
    assert 'action="/requests/%s/vote"' % idea not in html and "You voted" in html


def test_submitting_an_idea_goes_to_its_page(person):
    requester = person(REQUESTER)
    assert '<option value="platformproduct:default/runtime-platform">' in page(requester, "/ideas")
    response = post_form(requester, "/ideas", {"product": "platformproduct:default/runtime-platform",
                                               "title": "GPU nodes", "description": "For ML teams",
                                               "value_hypothesis": "Training jobs start within minutes"})
    location = response.headers["location"]
    assert location.startswith("/requests/REQ-")
    text = text_of(page(requester, location))
    assert "GPU nodes" in text and "Stage submitted" in text and "Training jobs start within minutes" in text


@pytest.mark.parametrize("form,expected", [
    ({"product": "", "title": "x"}, "Choose the platform product"),
    ({"product": "platformproduct:default/no-such", "title": "x"}, "no platform product"),
    ({"product": "component:default/x", "title": "x"}, "platformproduct ref is needed"),
    ({"product": "platformproduct:default/runtime-platform", "title": "   "}, "needs a title"),
])
def test_a_bad_idea_form_is_shown_again_with_the_reason(person, form, expected):
    response = post_form(person(REQUESTER), "/ideas", {"description": "<i>kept</i>", **form}, status=422)
    assert expected in response.text
    assert "&lt;i&gt;kept&lt;/i&gt;" in response.text  # what was typed comes back, escaped


def test_an_oversized_title_is_refused(person):
    response = person(REQUESTER).post("/ideas", data={"product": "runtime-platform", "title": "x" * 201},
                                      headers=HTML)
    assert response.status_code == 400 and "Traceback" not in response.text


def test_idea_titles_are_escaped_in_the_list(person):
    raise_idea(person(REQUESTER), "<script>alert('idea')</script>")
    html = page(person(REQUESTER), "/ideas")
    assert "<script>alert(" not in html and "&lt;script&gt;" in html


def test_ideas_respect_visibility(person):
    raise_idea(person(REQUESTER), "Only for us")
    assert person(STRANGER).get("/ideas", headers=JSON).json()["items"] == []
    assert person(APPROVER).get("/ideas", headers=JSON).json()["items"] == []  # team-sre: not its product


@pytest.mark.parametrize("query", ["product=a:b:c", "cursor=%%%", "cursor=WzEsIjIiXQ", "product=%00"])
def test_bad_idea_parameters_are_readable_400s(person, query):
    response = person(REQUESTER).get(f"/ideas?{query}", headers=HTML)
    assert response.status_code == 400 and "Traceback" not in response.text
