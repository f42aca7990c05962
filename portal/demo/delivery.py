"""A component's year of delivery: pull requests, CI runs, staging and production deployments
(some failing), and the incidents some deployments cause; as flow records like the plugins write."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from portal.demo.labels import DEMO_CONNECTION, demo_id
from portal.demo.organisation import PAGERDUTY_SERVICE, Component
from portal.demo.plan import DemoYear, Profile, delivery_adoption, profiles_for, scaled
from portal.flow.records import FlowRecord, environment_tier

CHANGE_TITLES = (
    "Add retry with backoff to {area} client", "Fix flaky {area} test", "Bump dependencies",
    "Speed up {area} query", "Log {area} failures with context", "Handle empty {area} response",
    "Refactor {area} module", "Add metrics for {area}", "Document {area} configuration",
    "Remove dead {area} code", "Validate {area} input", "Cache {area} lookups",
)
AREAS = ("carrier", "billing", "label", "tracking", "inventory", "picking", "auth", "export", "webhook", "search")
AUTHORS = ("amelie", "bo", "chen", "dara", "emeka", "farah", "goran", "hana", "ines", "jonas")
INCIDENT_TITLES = ("Error rate above SLO on {name}", "{name} latency p95 over 2 s", "{name} returns 502s",
                   "{name} consumer lag growing", "Disk almost full on {name} database")


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _lognormal(rng: random.Random, median: float, spread: float = 0.6) -> float:
    return median * math.exp(rng.gauss(0, spread))


class _ComponentYear:
    """Builds one component's records; `source` is github or gitlab, as its annotations say."""

    def __init__(self, component: Component, year: DemoYear, plan: dict) -> None:
        self.component = component
        self.year = year
        self.source, self.slug = component.repository  # type: ignore[misc]
        self.annotation = "github.com/project-slug" if self.source == "github" else "gitlab.com/project-slug"
        self.rng = year.rng("delivery", component.ref)
        self.adopted = delivery_adoption(component.ref, plan)
        self.before, self.after = profiles_for(component.owner)
        self.pace = self.rng.uniform(0.6, 1.2)
        self.records: list[FlowRecord] = []
        self.counters = {"change": 0, "deployment": 0, "run": 0, "incident": 0, "release": 0}
        self.last_release: datetime | None = None

    def profile_at(self, at: datetime) -> Profile:
        chosen = self.after if self.adopted is not None and at >= self.adopted else self.before
        return scaled(chosen, self.pace)

    def _next(self, kind: str) -> int:
        self.counters[kind] += 1
        return self.counters[kind]

    def _base(self, record_id: str, updated: datetime | None) -> dict:
        return {"id": record_id, "source": self.source, "connection": DEMO_CONNECTION,
                "link_annotation": self.annotation, "link_value": self.slug.lower(), "url": None,
                "source_updated_at": updated}

    def build(self) -> list[FlowRecord]:
        previous = self.year.start
        for moment in self._deploy_moments():
            self._release(previous, moment)
            previous = moment
        return self.records

    def _deploy_moments(self) -> list[datetime]:
        """Working-hours production deployment times, as often as the profile of the moment says."""
        moments = []
        day = self.year.start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < self.year.until:
            if day.weekday() < 5:
                expected = self.profile_at(day).deploys_per_week / 5
                count = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
                for minute in sorted(self.rng.randint(9 * 60, 17 * 60) for _ in range(count)):
                    moment = day + timedelta(minutes=minute)
                    if self.year.start < moment < self.year.until - timedelta(hours=2):
                        moments.append(moment)
            day += timedelta(days=1)
        return moments

    def _release(self, previous: datetime, finished: datetime) -> None:
        """The changes merged since the last deployment, their CI, then staging and production."""
        profile = self.profile_at(finished)
        shas = [self._change(profile, previous, finished) for _ in range(self.rng.choice((1, 1, 2, 2, 3)))]
        sha = shas[-1]
        self._deployment("staging", sha, finished - timedelta(minutes=self.rng.randint(20, 90)), "success")
        if self.rng.random() < 0.08:  # a failed rollout, retried successfully a little later
            self._deployment("production", sha, finished - timedelta(minutes=self.rng.randint(25, 60)), "failure")
        self._deployment("production", sha, finished, "success")
        if self.last_release is None or finished - self.last_release > timedelta(days=28):
            self._release_tag(sha, finished)
        if self.component.annotations.get(PAGERDUTY_SERVICE) and self.rng.random() < profile.failure_rate:
            self._incident(finished, profile)

    def _change(self, profile: Profile, previous: datetime, deployed: datetime) -> str:
        number = self._next("change")
        window = max((deployed - previous).total_seconds(), 600.0)
        merged = deployed - timedelta(seconds=self.rng.uniform(0.05, 0.9) * min(window, 3 * 86_400))
        merged = max(merged, previous + timedelta(minutes=1))
        coding = timedelta(hours=_lognormal(self.rng, profile.lead_time_hours * 0.7))
        first_commit = merged - coding
        opened = first_commit + coding * self.rng.uniform(0.1, 0.5)
        sha = _sha(self.rng)
        area = self.rng.choice(AREAS)
        values = self._base(self._id("change", number), merged)
        values.update({
            "repository": self.slug, "number": number,
            "title": self.rng.choice(CHANGE_TITLES).format(area=area), "author": self.rng.choice(AUTHORS),
            "state": "merged", "created_at": opened, "first_commit_at": first_commit, "merged_at": merged,
            "closed_at": merged, "merge_sha": sha, "base_branch": "main", "head_branch": f"{area}-{number}",
        })
        self.records.append(FlowRecord("change", values))
        for index in range(self.rng.randint(1, 3)):
            self._commit(f"{area}-{number}", first_commit + (opened - first_commit) * index / 3,
                         values["title"] if index == 0 else "Address review comments")
        self._run(f"{area}-{number}", _sha(self.rng), opened + timedelta(minutes=2), 0.85)
        self._run("main", sha, merged + timedelta(minutes=1), 0.96)
        return sha

    def _commit(self, branch: str, authored: datetime, title: str) -> None:
        sha = _sha(self.rng)
        pushed = authored + timedelta(minutes=self.rng.randint(1, 90))
        values = self._base(demo_id(self.source, f"{self.slug}:commit:{sha}"), pushed)
        values.update({"repository": self.slug, "sha": sha, "branch": branch, "title": title,
                       "author": self.rng.choice(AUTHORS), "authored_at": authored, "pushed_at": pushed})
        self.records.append(FlowRecord("commit", values))

    def _release_tag(self, sha: str, published: datetime) -> None:
        number = self._next("release")
        self.last_release = published
        tag = f"v1.{number}.0"
        values = self._base(demo_id(self.source, f"{self.slug}:release:{number}"), published)
        values.update({"repository": self.slug, "tag": tag, "name": f"Release {tag}", "sha": sha, "target": "main",
                       "author": self.rng.choice(AUTHORS), "draft": False, "prerelease": False,
                       "created_at": published, "published_at": published, "deleted": False})
        self.records.append(FlowRecord("release", values))

    def _run(self, ref: str, sha: str, started: datetime, success_rate: float) -> None:
        number = self._next("run")
        name = "Northwind CI" if self.adopted is not None and started >= self.adopted else "build"
        finished = started + timedelta(minutes=self.rng.uniform(3, 25))
        status = "success" if self.rng.random() < success_rate else "failure"
        values = self._base(self._id("run", number), finished)
        values.update({"repository": self.slug, "name": name, "ref": ref, "sha": sha, "status": status,
                       "started_at": started, "finished_at": finished})
        self.records.append(FlowRecord("pipeline_run", values))

    def _deployment(self, environment: str, sha: str, finished: datetime, status: str) -> None:
        number = self._next("deployment")
        started = finished - timedelta(minutes=self.rng.uniform(2, 12))
        values = self._base(self._id("deployment", number), finished)
        values.update({"repository": self.slug, "environment": environment, "tier": environment_tier(environment),
                       "sha": sha, "ref": "main", "status": status, "started_at": started, "finished_at": finished})
        self.records.append(FlowRecord("deployment", values))

    def _incident(self, deployed: datetime, profile: Profile) -> None:
        number = self._next("incident")
        service = self.component.annotations[PAGERDUTY_SERVICE]
        created = deployed + timedelta(minutes=self.rng.randint(5, 180))
        acknowledged = created + timedelta(minutes=self.rng.randint(1, 20))
        resolved = created + timedelta(hours=max(_lognormal(self.rng, profile.recovery_hours, 0.8), 0.1))
        open_still = resolved >= self.year.until
        values = {
            "id": demo_id("pagerduty", f"{service}-{number}"), "source": "pagerduty", "connection": DEMO_CONNECTION,
            "link_annotation": PAGERDUTY_SERVICE, "link_value": service.lower(), "url": None,
            "source_updated_at": acknowledged if open_still else resolved,
            "title": self.rng.choice(INCIDENT_TITLES).format(name=self.component.name),
            "severity": self.rng.choice(("P1", "P2", "P2", "P3", "P3", "P3")),
            "status": "acknowledged" if open_still else "resolved", "created_at": created,
            "acknowledged_at": acknowledged, "resolved_at": None if open_still else resolved,
        }
        self.records.append(FlowRecord("incident", values))

    def _id(self, kind: str, number: int) -> str:
        if self.source == "gitlab":
            suffix = {"change": f"!{number}", "run": f":pipeline:{number}",
                      "deployment": f":deployment:{number}"}[kind]
        else:
            suffix = {"change": f"#{number}", "run": f":run:{number}", "deployment": f":deployment:{number}"}[kind]
        return demo_id(self.source, self.slug + suffix)


def delivery_records(component: Component, year: DemoYear, plan: dict) -> list[FlowRecord]:
    """All delivery records of one component (none when it names no GitHub or GitLab repository)."""
    if component.repository is None:
        return []
    return _ComponentYear(component, year, plan).build()


def reopen_one_incident(records: list[FlowRecord], year: DemoYear) -> None:
    """One resolved incident was reopened: it is open again, acknowledged, with no resolution time."""
    resolved = [record for record in records if record.kind == "incident" and record.values["resolved_at"]]
    if not resolved:
        return
    chosen = year.rng("reopened").choice(resolved)
    chosen.values.update({"status": "triggered", "resolved_at": None,
                          "title": chosen.values["title"] + " (reopened)",
                          "source_updated_at": chosen.values["resolved_at"] + timedelta(hours=2)})
