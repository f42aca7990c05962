"""DORA's four keys (and 2021's time to restore) from a scope's records, as docs/metrics.md defines them.

Everything here is plain Python over the records dora_records.py read, so the rules can be tested on
hand-made records: which deployment ships a change, which deployment an incident is attributed to,
and which samples fall in the window.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from portal.metrics.dora_records import LOOKBACK, Change, ComponentRecords, Deployment, Incident
from portal.metrics.stats import median
from portal.metrics.tiers import tier
from portal.metrics.window import Window

METRICS = ("deploymentFrequency", "leadTimeForChanges", "changeFailureRate", "failedDeploymentRecoveryTime",
           "timeToRestore")
# Parts of the lead time the records cannot give: no tool sends a change's first review time yet.
NO_REVIEW_TIME = "changes carry no first-review time, so pickup and review cannot be told apart"


@dataclass(frozen=True)
class LeadTime:
    """One deployed change: its lead time and the parts of it the records allow, in seconds."""

    total: float
    coding: float | None
    open_to_merge: float | None
    deploy: float


@dataclass
class Samples:
    """What the window holds, keyed by record id so a record two components share counts once."""

    deployments: dict[str, Deployment] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    lead_times: dict[str, LeadTime] = field(default_factory=dict)
    recoveries: dict[str, float] = field(default_factory=dict)
    restores: dict[str, float] = field(default_factory=dict)


def _repository_key(repository: str | None) -> str | None:
    return repository.lower() if repository else None


class Deployments:
    """One component's successful production deployments, oldest first, with the look-ups the rules need."""

    def __init__(self, deployments: Iterable[Deployment]) -> None:
        self.all = sorted(deployments, key=lambda deployment: (deployment.finished_at, deployment.id))
        self._finished = [deployment.finished_at for deployment in self.all]
        self._by_repository: dict[str | None, list[Deployment]] = {}
        self._by_sha: dict[tuple[str | None, str], list[Deployment]] = {}
        for deployment in self.all:
            if deployment.stand_in:
                continue
            key = _repository_key(deployment.repository)
            self._by_repository.setdefault(key, []).append(deployment)
            if deployment.sha:
                self._by_sha.setdefault((key, deployment.sha.lower()), []).append(deployment)
        self._finished_by_repository = {key: [deployment.finished_at for deployment in deployments]
                                        for key, deployments in self._by_repository.items()}

    def in_window(self, window: Window) -> list[Deployment]:
        start = bisect.bisect_left(self._finished, window.start)
        end = bisect.bisect_left(self._finished, window.end)
        return self.all[start:end]

    def last_before(self, at: datetime) -> Deployment | None:
        """The last deployment that finished strictly before `at` (the one an incident is attributed to),
        if it finished at most LOOKBACK before: an incident months after the last deployment is not a
        failed change, and older deployments are not read."""
        index = bisect.bisect_left(self._finished, at)
        if not index or at - self.all[index - 1].finished_at > LOOKBACK:
            return None
        return self.all[index - 1]

    def shipping(self, change: Change) -> Deployment | None:
        """The first deployment of the change's repository whose sha is the merge sha and that finished
        at or after the merge (an earlier one deployed the branch, not the merged change); without one
        (the ancestry of later shas is unknown), the first that finished after the merge. A deployment
        that names no repository may ship a change of any repository of the component."""
        own, anonymous = _repository_key(change.repository), None
        if change.merge_sha:
            exact = [self._first_with_sha(key, change.merge_sha.lower(), change.merged_at) for key in {own, anonymous}]
            exact = [deployment for deployment in exact if deployment is not None]
            if exact:
                return min(exact, key=lambda deployment: (deployment.finished_at, deployment.id))
        after = [self._first_after(key, change.merged_at) for key in {own, anonymous}]
        after = [deployment for deployment in after if deployment is not None]
        return min(after, key=lambda deployment: (deployment.finished_at, deployment.id)) if after else None

    def _first_with_sha(self, repository: str | None, sha: str, merged_at: datetime) -> Deployment | None:
        return next((deployment for deployment in self._by_sha.get((repository, sha), ())
                     if deployment.finished_at >= merged_at), None)

    def _first_after(self, repository: str | None, at: datetime) -> Deployment | None:
        deployments = self._by_repository.get(repository, [])
        index = bisect.bisect_right(self._finished_by_repository.get(repository, []), at)
        return deployments[index] if index < len(deployments) else None


def lead_time(change: Change, shipped_by: Deployment) -> LeadTime | None:
    """From the first commit (the opening of the change when that is unknown) to the end of the
    deployment that shipped it; None when neither start is known or the times contradict each other."""
    start = change.first_commit_at or change.opened_at
    if start is None or shipped_by.finished_at < start:
        return None
    coding = None
    if change.first_commit_at and change.opened_at:
        # Commits pushed after the change was opened make no coding time before it.
        coding = max(0.0, (change.opened_at - change.first_commit_at).total_seconds())
    open_to_merge = (change.merged_at - change.opened_at).total_seconds() if change.opened_at else None
    return LeadTime(total=(shipped_by.finished_at - start).total_seconds(), coding=coding,
                    open_to_merge=max(0.0, open_to_merge) if open_to_merge is not None else None,
                    deploy=max(0.0, (shipped_by.finished_at - change.merged_at).total_seconds()))


def changes_shipped_in(records: Mapping[str, ComponentRecords], window: Window) -> set[str]:
    """Ids of the changes whose shipping deployment finished in the window (whose lead time counts)."""
    found = set()
    for component in records.values():
        deployments = Deployments(component.deployments)
        for change in component.changes:
            shipped_by = deployments.shipping(change)
            if shipped_by is not None and window.contains(shipped_by.finished_at):
                found.add(change.id)
    return found


def collect_samples(records: Mapping[str, ComponentRecords], window: Window) -> Samples:
    """Every component's samples for the window, merged. Incidents are attributed within their own
    component. A change or incident that several components claim is measured once: against the earliest
    deployment that ships the change, and the latest deployment before the incident, among them all."""
    samples = Samples()
    shipped: dict[str, tuple[Change, Deployment]] = {}
    attributed: dict[str, tuple[Incident, Deployment | None]] = {}
    for component in records.values():
        deployments = Deployments(component.deployments)
        for deployment in deployments.in_window(window):
            samples.deployments.setdefault(deployment.id, deployment)
        for change in component.changes:
            if (shipped_by := deployments.shipping(change)) is not None:
                known = shipped.get(change.id)
                if known is None or _order(shipped_by) < _order(known[1]):
                    shipped[change.id] = (change, shipped_by)
        for incident in component.incidents:
            last = deployments.last_before(incident.created_at)
            known = attributed.get(incident.id)
            if known is None or (last is not None and (known[1] is None or _order(last) > _order(known[1]))):
                attributed[incident.id] = (incident, last)
    for change_id, (change, shipped_by) in shipped.items():
        if window.contains(shipped_by.finished_at) and (measured := lead_time(change, shipped_by)) is not None:
            samples.lead_times[change_id] = measured
    for incident, deployment in attributed.values():
        _add_incident(samples, incident, deployment, window)
    return samples


def _order(deployment: Deployment) -> tuple[datetime, str]:
    return deployment.finished_at, deployment.id


def _add_incident(samples: Samples, incident: Incident, attributed: Deployment | None, window: Window) -> None:
    if attributed is not None and window.contains(attributed.finished_at):
        samples.failed.add(attributed.id)
    if incident.resolved_at is None or not window.contains(incident.resolved_at):
        return
    if incident.resolved_at >= incident.created_at:
        samples.restores[incident.id] = (incident.resolved_at - incident.created_at).total_seconds()
    if attributed is not None and incident.resolved_at >= attributed.finished_at:
        samples.recoveries[incident.id] = (incident.resolved_at - attributed.finished_at).total_seconds()


def _metric(benchmark: str, name: str, value: float | None, unit: str, count: int, **extra) -> dict:
    value = value if count else None
    return {"value": value, "unit": unit, "samples": count, "tier": tier(benchmark, name, value), **extra}


@dataclass(frozen=True)
class Median:
    """How many samples there were and their median (None without samples)."""

    samples: int
    value: float | None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Median:
        known = [value for value in values if value is not None]
        return cls(len(known), median(known))


def _median_part(part: Median) -> dict:
    return {"value": part.value, "unit": "seconds", "samples": part.samples}


@dataclass(frozen=True)
class LeadTimeMedians:
    """The lead time of the window's changes and of each of its parts (over the changes where it is known)."""

    total: Median
    coding: Median
    open_to_merge: Median
    deploy: Median

    @classmethod
    def of(cls, lead_times: Iterable[LeadTime]) -> LeadTimeMedians:
        items = list(lead_times)
        return cls(Median.of(item.total for item in items), Median.of(item.coding for item in items),
                   Median.of(item.open_to_merge for item in items), Median.of(item.deploy for item in items))


def lead_time_breakdown(medians: LeadTimeMedians) -> dict:
    """Medians of the parts of the lead time over the same changes; the parts the records lack say why."""
    missing = {"value": None, "unit": "seconds", "samples": 0, "missing": NO_REVIEW_TIME}
    return {
        "coding": _median_part(medians.coding),
        "pickup": dict(missing),
        "review": dict(missing),
        "pickupAndReview": _median_part(medians.open_to_merge),
        "deploy": _median_part(medians.deploy),
    }


@dataclass(frozen=True)
class SampleSummary:
    """What the metrics are computed from: counts, and the medians with their sample counts."""

    deployments: int
    deploy_days: int
    failed: int
    lead_times: LeadTimeMedians
    recovery: Median
    restore: Median


def summarize(samples: Samples) -> SampleSummary:
    days = {deployment.finished_at.date() for deployment in samples.deployments.values()}
    return SampleSummary(len(samples.deployments), len(days), len(samples.failed & samples.deployments.keys()),
                         LeadTimeMedians.of(samples.lead_times.values()), Median.of(samples.recoveries.values()),
                         Median.of(samples.restores.values()))


def dora_metrics(samples: Samples | SampleSummary, window: Window, benchmark: str) -> dict:
    """The API's five metric objects, each {value, unit, samples, tier} (value and tier null without samples)."""
    summary = samples if isinstance(samples, SampleSummary) else summarize(samples)
    deployed, failed = summary.deployments, summary.failed
    return {
        "deploymentFrequency": _metric(benchmark, "deploymentFrequency", deployed / window.weeks, "perWeek",
                                       deployed, deployDaysPerWeek=summary.deploy_days / window.weeks
                                       if deployed else None),
        "leadTimeForChanges": _metric(benchmark, "leadTimeForChanges",
                                      summary.lead_times.total.value, "seconds", summary.lead_times.total.samples,
                                      breakdown=lead_time_breakdown(summary.lead_times)),
        "changeFailureRate": _metric(benchmark, "changeFailureRate", failed / deployed if deployed else None,
                                     "ratio", deployed, failedDeployments=failed),
        "failedDeploymentRecoveryTime": _metric(benchmark, "failedDeploymentRecoveryTime",
                                                summary.recovery.value, "seconds", summary.recovery.samples),
        "timeToRestore": _metric(benchmark, "timeToRestore", summary.restore.value, "seconds",
                                 summary.restore.samples),
    }
