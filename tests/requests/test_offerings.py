"""Refs of what requests are for, and the capability's rules read from the catalog."""

from __future__ import annotations

import pytest

from portal.requests.offerings import OfferingRefError, capability_offering, group_ref, normalize_ref, offering_of


def test_refs_are_completed_and_lower_cased():
    assert normalize_ref("CI-Pipeline", "capability") == "capability:default/ci-pipeline"
    assert normalize_ref("ops/ci", "capability") == "capability:ops/ci"
    with pytest.raises(OfferingRefError):
        normalize_ref("component:default/ci", "capability")
    with pytest.raises(OfferingRefError):
        normalize_ref("a/b/c", "capability")
    assert group_ref("team-dx") == "group:default/team-dx"
    assert group_ref("") is None and group_ref(None) is None


def test_a_capability_brings_its_product_owners_and_approvers(session, catalog):
    offering = capability_offering(session, "capability:default/progressive-delivery")
    assert offering.product_ref == "platformproduct:default/delivery-platform"
    assert offering.fulfillment_mode == "approval" and offering.approvers == "group:default/team-sre"
    assert offering.owners == ("group:default/team-dx",)
    assert offering.target_lead_time == "P2D"
    assert capability_offering(session, "capability:default/nothing") is None
    assert capability_offering(session, "platformproduct:default/delivery-platform") is None


def test_a_capability_gone_from_the_catalog_leaves_an_offering_without_rules(session, catalog):
    gone = offering_of(session, "capability:default/retired", "platformproduct:default/delivery-platform")
    assert gone.capability is None and gone.approvers is None and gone.owners == ("group:default/team-dx",)
    assert gone.fulfillment_mode == "manual"
