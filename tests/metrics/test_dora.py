"""DORA rules on small hand-made scenarios; every expected number is worked out by hand in a comment."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.metrics.dora import Deployments, collect_samples, dora_metrics
from portal.metrics.dora_records import Change, ComponentRecords, Deployment, Incident
from portal.metrics.window import Window

REPO = "acme/shop"
# Two weeks, Monday 6 May to Monday 20 May 2024 (exclusive).
WINDOW = Window(datetime(2024, 5, 6, tzinfo=UTC), datetime(2024, 5, 20, tzinfo=UTC))
HOUR = 3600


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


def deployment(name: str, finished: datetime, sha: str | None = None, repository: str | None = REPO) -> Deployment:
    return Deployment(name, repository, sha or f"sha-{name}", finished)


def change(name: str, merged: datetime, *, opened: datetime | None, first_commit: datetime | None = None,
           sha: str | None = None, repository: str = REPO) -> Change:
    return Change(name, repository, opened, first_commit, merged, sha)


def shop() -> ComponentRecords:
    """Component A: five production deployments around the window, six incidents, six changes."""
    return ComponentRecords(
        deployments=[
            deployment("D0", at(3, 10)),                 # before the window
            deployment("D1", at(6, 10), sha="s1"),
            deployment("D2", at(6, 15), sha="s2"),
            deployment("D3", at(8, 9), sha="s3"),
            deployment("D4", at(13, 12), sha="s4"),
            deployment("D5", at(20, 0), sha="s5"),       # at `until`: the next window's
        ],
        incidents=[
            Incident("I1", at(6, 12), at(6, 13)),        # → D1; recovery 13:00-10:00 = 3 h, restore 1 h
            Incident("I2", at(6, 16), at(7, 15)),        # → D2; recovery 24 h, restore 23 h
            Incident("I3", at(8, 9), at(8, 11)),         # created as D3 finished: → D2; recovery 44 h, restore 2 h
            Incident("I4", at(4, 0), at(6, 6)),          # → D0 (outside); recovery 68 h, restore 54 h
            Incident("I5", at(9, 0), None),              # reopened, not resolved now: → D3, no recovery sample
            Incident("I6", at(10, 0), at(25, 0)),        # → D3; resolved after the window
        ],
        changes=[
            # Merge sha deployed by D1: 24 h from first commit; coding 2 h, open→merge 21 h, deploy 1 h.
            change("C1", at(6, 9), opened=at(5, 12), first_commit=at(5, 10), sha="s1"),
            # Unknown first commit and a sha never deployed: first deployment after the merge, D2,
            # 4 h from opening; open→merge 3 h, deploy 1 h.
            change("C2", at(6, 14), opened=at(6, 11), sha="never-deployed"),
            # Shipped by D0, before the window: no sample.
            change("C3", at(3, 9), opened=at(2, 0), first_commit=at(1, 0)),
            # Merged the instant D3 finished: D3 cannot hold it, D4 does. 6 d 3 h = 147 h from first
            # commit; coding 1 h, open→merge 23 h, deploy 5 d 3 h = 123 h.
            change("C4", at(8, 9), opened=at(7, 10), first_commit=at(7, 9), sha="zzz"),
            # Shipped by D5, outside the window: no sample.
            change("C5", at(14, 0), opened=at(13, 0)),
            # Another repository, which no deployment of this component ships: no sample.
            change("C6", at(6, 9, 30), opened=at(6, 8), repository="acme/other"),
        ],
    )


def billing() -> ComponentRecords:
    """Component B: its only incident comes before its only deployment."""
    return ComponentRecords(
        deployments=[deployment("E1", at(10, 0), repository="acme/billing")],
        incidents=[Incident("J1", at(7, 0), at(7, 2))],  # no earlier deployment: restore 2 h, no recovery
    )


@pytest.fixture
def metrics_of_shop() -> dict:
    return dora_metrics(collect_samples({"component:default/shop": shop()}, WINDOW), WINDOW, "2023")


def test_deployment_frequency_counts_deployments_finished_inside_the_window(metrics_of_shop):
    # D1..D4 in 2 weeks: 2 a week; deploy days 6, 8 and 13 May: 1.5 a week.
    frequency = metrics_of_shop["deploymentFrequency"]
    assert frequency == {"value": 2.0, "unit": "perWeek", "samples": 4, "tier": "high", "deployDaysPerWeek": 1.5}


def test_change_failure_rate_attributes_each_incident_to_the_last_earlier_deployment(metrics_of_shop):
    # D1 (I1), D2 (I2 and I3) and D3 (I5, I6) failed; D4 did not: 3 / 4.
    failure = metrics_of_shop["changeFailureRate"]
    assert failure == {"value": 0.75, "unit": "ratio", "samples": 4, "tier": "low", "failedDeployments": 3}


def test_recovery_times_are_medians_over_incidents_resolved_in_the_window(metrics_of_shop):
    # Recovery: 3 h, 24 h, 44 h, 68 h → median (24 + 44) / 2 = 34 h (medium: between a day and a week).
    recovery = metrics_of_shop["failedDeploymentRecoveryTime"]
    assert recovery == {"value": 34 * HOUR, "unit": "seconds", "samples": 4, "tier": "medium"}
    # Restore: 1 h, 2 h, 23 h, 54 h → median (2 + 23) / 2 = 12.5 h.
    restore = metrics_of_shop["timeToRestore"]
    assert restore == {"value": 12.5 * HOUR, "unit": "seconds", "samples": 4, "tier": "high"}


def test_lead_time_for_changes_and_its_breakdown(metrics_of_shop):
    # Samples C1 24 h, C2 4 h, C4 147 h → median 24 h = one day: high in 2023 (elite is less than a day).
    lead = metrics_of_shop["leadTimeForChanges"]
    assert (lead["value"], lead["unit"], lead["samples"], lead["tier"]) == (24 * HOUR, "seconds", 3, "high")
    parts = lead["breakdown"]
    # coding: C1 2 h, C4 1 h → 1.5 h (C2's first commit is unknown).
    assert parts["coding"] == {"value": 1.5 * HOUR, "unit": "seconds", "samples": 2}
    # open→merge: 21 h, 3 h, 23 h → 21 h. deploy: 1 h, 1 h, 123 h → 1 h.
    assert parts["pickupAndReview"] == {"value": 21 * HOUR, "unit": "seconds", "samples": 3}
    assert parts["deploy"] == {"value": 1 * HOUR, "unit": "seconds", "samples": 3}
    for missing in ("pickup", "review"):
        assert parts[missing]["value"] is None and parts[missing]["samples"] == 0
        assert "first-review" in parts[missing]["missing"]


def test_2021_benchmark_tiers_the_same_numbers_with_its_own_table():
    metrics = dora_metrics(collect_samples({"c": shop()}, WINDOW), WINDOW, "2021")
    # 2 a week is between weekly and monthly or better: high; 24 h lead time: high; 75 %: low;
    # restore 12.5 h: high.
    assert metrics["deploymentFrequency"]["tier"] == "high"
    assert metrics["leadTimeForChanges"]["tier"] == "high"
    assert metrics["changeFailureRate"]["tier"] == "low"
    assert metrics["timeToRestore"]["tier"] == "high"


def test_an_incident_before_any_deployment_is_not_attributed_and_never_crosses_components():
    metrics = dora_metrics(collect_samples({"a": shop(), "b": billing()}, WINDOW), WINDOW, "2023")
    # Deployments D1..D4 and E1: 5; failed stay D1, D2, D3 (J1 belongs to B, before E1): 3 / 5.
    assert metrics["changeFailureRate"]["value"] == pytest.approx(0.6)
    assert metrics["deploymentFrequency"]["samples"] == 5
    # J1 adds a restore sample (2 h) but no recovery sample: restore 1, 2, 2, 23, 54 h → 2 h.
    assert metrics["failedDeploymentRecoveryTime"]["samples"] == 4
    assert metrics["timeToRestore"] == {"value": 2 * HOUR, "unit": "seconds", "samples": 5, "tier": "high"}


def test_a_record_two_components_share_counts_once():
    shared = shop()
    metrics = dora_metrics(collect_samples({"a": shared, "a-docs": shared}, WINDOW), WINDOW, "2023")
    assert metrics["deploymentFrequency"]["samples"] == 4
    assert metrics["leadTimeForChanges"]["samples"] == 3
    assert metrics["timeToRestore"]["samples"] == 4


def test_no_samples_means_null_value_and_tier():
    metrics = dora_metrics(collect_samples({"empty": ComponentRecords()}, WINDOW), WINDOW, "2023")
    for name in ("deploymentFrequency", "leadTimeForChanges", "changeFailureRate",
                 "failedDeploymentRecoveryTime", "timeToRestore"):
        assert metrics[name]["value"] is None and metrics[name]["tier"] is None and metrics[name]["samples"] == 0
    assert metrics["deploymentFrequency"]["deployDaysPerWeek"] is None


def test_the_merge_sha_wins_over_an_earlier_deployment_after_the_merge():
    # A hotfix deployed from another sha finishes first, but the deployment of the merge sha ships the change.
    deployments = Deployments([deployment("hotfix", at(6, 10), sha="other"), deployment("real", at(6, 12), sha="m")])
    assert deployments.shipping(change("C", at(6, 9), opened=at(6, 8), sha="M")).id == "real"


def test_a_deployment_without_repository_ships_changes_of_any_repository():
    deployments = Deployments([deployment("argo", at(6, 12), repository=None)])
    assert deployments.shipping(change("C", at(6, 9), opened=at(6, 8), repository="acme/other")).id == "argo"


def test_equal_finish_times_attribute_to_the_later_id_deterministically():
    deployments = Deployments([deployment("b", at(6, 10)), deployment("a", at(6, 10))])
    assert deployments.last_before(at(6, 11)).id == "b"
    assert deployments.last_before(at(6, 10)) is None


def test_an_incident_more_than_90_days_after_the_last_deployment_is_not_attributed():
    deployments = Deployments([deployment("old", at(1, 0))])
    assert deployments.last_before(at(1, 0) + timedelta(days=90)).id == "old"
    assert deployments.last_before(at(1, 0) + timedelta(days=90, seconds=1)) is None
