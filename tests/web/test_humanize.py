"""Human words for durations, refs and kinds."""

from __future__ import annotations

import pytest

from portal.web.humanize import entity_url, human_duration, kind_name, plural, ref_label


@pytest.mark.parametrize(("iso", "words"), [
    ("P2D", "2 days"), ("P1D", "1 day"), ("PT15M", "15 minutes"), ("PT1H30M", "1 hour 30 minutes"),
    ("P1W", "1 week"), ("P1DT12H", "1 day 12 hours"), ("PT0.5H", "0.5 hours"), ("P1Y2M", "1 year 2 months"),
    ("soon", "soon"), ("P", "P"), ("", ""), (None, ""),
])
def test_human_duration(iso, words):
    assert human_duration(iso) == words


def test_entity_url_uses_backstage_shape_and_defaults():
    assert entity_url("group:team-a") == "/catalog/default/group/team-a"
    assert entity_url("team-a", "Group", "ops") == "/catalog/ops/group/team-a"
    assert entity_url("Component:Default/My.Service") == "/catalog/default/component/My.Service"
    assert entity_url("::bad") == "/catalog"


def test_ref_label_hides_default_namespace():
    assert ref_label("group:default/team-a") == "team-a"
    assert ref_label("group:ops/team-a") == "ops/team-a"


def test_plural_and_kind_names():
    assert plural("Capability", 2) == "Capabilities" and plural("API", 3) == "APIs" and plural("User", 1) == "User"
    assert kind_name("platformproduct") == "PlatformProduct" and kind_name("Widget") == "Widget"
