"""The DORA tier tables at their boundaries, 2023 against 2021."""

import pytest

from portal.metrics.tiers import DAY, HOUR, WEEK, tier

MONTH = 30 * DAY
SIX_MONTHS = 180 * DAY
ONCE_A_MONTH = 7 / 30  # deployments per week


@pytest.mark.parametrize(("per_week", "expected_2023", "expected_2021"), [
    (14.0, "elite", "elite"),       # twice a day
    (7.0, "high", "high"),          # exactly daily is "once per day", not "multiple per day"
    (7.01, "elite", "elite"),
    (1.0, "high", "high"),          # weekly: 2023 high's lower edge; 2021 high band (week..month)
    (0.99, "medium", "high"),
    (ONCE_A_MONTH, "medium", "high"),
    (ONCE_A_MONTH * 0.99, "low", "medium"),
    (7 / 180, "low", "medium"),     # once in six months
    (7 / 181, "low", "low"),
    (0.0, "low", "low"),
])
def test_deployment_frequency(per_week, expected_2023, expected_2021):
    assert tier("2023", "deploymentFrequency", per_week) == expected_2023
    assert tier("2021", "deploymentFrequency", per_week) == expected_2021


@pytest.mark.parametrize(("seconds", "expected_2023", "expected_2021"), [
    (HOUR - 1, "elite", "elite"),
    (HOUR, "elite", "high"),        # 2021 elite is "less than one hour"
    (DAY - 1, "elite", "high"),
    (DAY, "high", "high"),          # 2023 elite is "less than one day"
    (WEEK, "high", "high"),         # "between one day and one week" includes the week
    (WEEK + 1, "medium", "medium"),
    (MONTH, "medium", "medium"),
    (MONTH + 1, "low", "medium"),
    (SIX_MONTHS, "low", "medium"),
    (SIX_MONTHS + 1, "low", "low"),
])
def test_lead_time_for_changes(seconds, expected_2023, expected_2021):
    assert tier("2023", "leadTimeForChanges", seconds) == expected_2023
    assert tier("2021", "leadTimeForChanges", seconds) == expected_2021


@pytest.mark.parametrize(("ratio", "expected_2023", "expected_2021"), [
    (0.0, "elite", "elite"),
    (0.05, "elite", "elite"),
    (0.0501, "high", "elite"),
    (0.10, "high", "elite"),
    (0.15, "medium", "elite"),
    (0.1501, "low", "high"),
    (0.30, "low", "high"),
    (0.3001, "low", "low"),
    (1.0, "low", "low"),
])
def test_change_failure_rate(ratio, expected_2023, expected_2021):
    assert tier("2023", "changeFailureRate", ratio) == expected_2023
    assert tier("2021", "changeFailureRate", ratio) == expected_2021


@pytest.mark.parametrize(("seconds", "expected"), [
    (HOUR - 1, "elite"), (HOUR, "high"), (DAY - 1, "high"), (DAY, "medium"), (WEEK, "medium"),
    (WEEK + 1, "low"), (SIX_MONTHS, "low"),
])
@pytest.mark.parametrize("metric", ["failedDeploymentRecoveryTime", "timeToRestore"])
@pytest.mark.parametrize("benchmark", ["2023", "2021"])
def test_recovery_rows_agree_between_the_reports(benchmark, metric, seconds, expected):
    assert tier(benchmark, metric, seconds) == expected


def test_no_value_has_no_tier():
    assert tier("2023", "leadTimeForChanges", None) is None
    assert tier("2021", "deploymentFrequency", None) is None
