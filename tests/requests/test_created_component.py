"""The component a template's run created becomes the order's component (for the flow follower and adoption)."""

import pytest

from portal.requests.fulfillment import created_component


@pytest.mark.parametrize(("output", "expected"), [
    ({"links": [{"title": "Repository", "url": "https://git.example/x"},
                {"title": "Open in catalog", "entityRef": "component:default/orders-api"}]}, "component:default/orders-api"),
    ({"entityRef": "Component:Team-A/Billing"}, "component:team-a/billing"),
    ({"links": [{"entityRef": "group:default/team-a"}], "entityRef": "api:default/x"}, None),
    ({"links": [{"entityRef": "not a ref at all/with/slashes"}]}, None),
    ({"links": "not a list", "entityRef": 42}, None),
    ({"entityRef": "x" * 401}, None),
    (None, None),
])
def test_the_created_component_is_read_from_the_output(output, expected):
    assert created_component(output) == expected
