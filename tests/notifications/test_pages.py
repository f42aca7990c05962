"""The bell in the header and the /notifications page with its mark-read forms."""

from __future__ import annotations

import re

from tests.requests.factories import OWNER, REQUESTER
from tests.requests.page_clients import HTML, page, post_form, raise_idea, raise_order


def bell_count(html: str) -> int | None:
    match = re.search(r'class="bell-count" data-unread="(\d+)"', html)
    return int(match.group(1)) if match else None


def test_the_bell_counts_unread_notifications(person):
    owner = person(OWNER)
    assert bell_count(page(owner, "/")) == 0
    raise_order(person(REQUESTER), "feature-flags")
    raise_idea(person(REQUESTER), "<script>alert('bell')</script>")
    assert bell_count(page(owner, "/")) == 2
    assert bell_count(page(owner, "/notifications/bell")) == 2
    assert bell_count(page(person(None), "/")) is None  # nobody signed in: no bell


def test_the_page_lists_them_escaped_and_marks_one_or_all_read(person):
    order = raise_order(person(REQUESTER), "feature-flags")
    raise_idea(person(REQUESTER), "<img src=x onerror=alert(1)>")
    owner = person(OWNER)
    html = page(owner, "/notifications")
    assert f'href="/requests/{order}"' in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<link rel="alternate" type="application/json" href="/api/v1/notifications">' in html
    first = owner.get("/api/v1/notifications").json()["items"][-1]["id"]
    response = post_form(owner, "/notifications/read", {"id": str(first)})
    assert response.headers["location"] == "/notifications"
    assert bell_count(page(owner, "/")) == 1
    post_form(owner, "/notifications/read", {"all": "1"})
    assert bell_count(page(owner, "/")) == 0
    assert "No notifications unread" in page(owner, "/notifications?unread=true")


def test_bad_mark_read_forms_are_readable_422s(person):
    owner = person(OWNER)
    for value in ("", "abc", "0", "99999999999", "-1"):
        response = owner.post("/notifications/read", data={"id": value}, headers=HTML)
        assert response.status_code == 422 and "Traceback" not in response.text


def test_mark_read_needs_a_csrf_token(person):
    raise_order(person(REQUESTER), "feature-flags")
    owner = person(OWNER)
    owner.headers.pop("X-CSRF-Token")
    response = owner.post("/notifications/read", data={"all": "1"}, headers=HTML)
    assert response.status_code == 403
    assert owner.get("/api/v1/notifications").json()["unread"] == 1
