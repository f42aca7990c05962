"""GitHub REST pull sync: pull requests with their commits, deployments with their statuses, workflow
runs, issues and releases of every repository the catalog links through `github.com/project-slug`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from flowport_github.normalize import (
    LINK_ANNOTATION,
    deployment_record,
    first_commit_record,
    issue_records,
    pull_request_commit_record,
    pull_request_record,
    release_record,
    workflow_run_record,
)
from portal.flow.payload_shape import MalformedPayload, readable_reason
from portal.flow.record_checks import check_record
from portal.flow.records import FlowRecord, parse_time
from portal.sync.change_commits import CommitsQueue, read_change_commits
from portal.sync.client import TARGET_UNAVAILABLE_STATUSES, SyncClient, SyncHttpError, TargetsUnavailable
from portal.sync.pagination import walk_newest_first
from portal.sync.state import SyncPage, SyncState

API_VERSION = "2022-11-28"
PER_PAGE = 100
# A deployment whose latest status is one of these has finished; a later status may still change its
# outcome (a success marked failed after a smoke test), so finished ones are re-read for a while.
FINISHED_DEPLOYMENT_STATES = frozenset({"success", "failure", "error", "inactive"})
# How many finished deployments per repository are watched for a changed outcome at most (newest kept).
MAX_WATCHED_FINISHED = 100
# What of a deployment is kept in the cursor so an unfinished one can be re-read without listing.
_KEPT_DEPLOYMENT_FIELDS = ("id", "sha", "ref", "environment", "created_at", "updated_at", "url", "statuses_url")


def request_headers(config) -> dict[str, str]:  # noqa: ANN001
    """GitHub's recommended Accept and API version headers, and the token when configured."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    if config.token is not None:
        headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
    return headers


def _repo_of(item: dict, slug: str) -> dict:
    """The repository as GitHub spells it (so ids match webhook records), else the catalog's slug."""
    for candidate in ((item.get("base") or {}).get("repo"), item.get("repository")):
        if isinstance(candidate, dict) and candidate.get("full_name"):
            return {"full_name": candidate["full_name"]}
    url = item.get("repository_url") or ""
    if "/repos/" in url:
        return {"full_name": url.split("/repos/", 1)[1]}
    # Objects without a repository field (releases) are named by their own API URL: …/repos/{owner}/{repo}/….
    owner_and_name = (item.get("url") or "").partition("/repos/")[2].split("/")[:2]
    if len(owner_and_name) == 2 and all(owner_and_name):
        return {"full_name": "/".join(owner_and_name)}
    return {"full_name": slug}


async def sync_github(config, client: SyncClient, state: SyncState, full: bool  # noqa: ANN001
                      ) -> AsyncIterator[SyncPage]:
    """Every linked repository's resources, one after another."""
    client.headers.update(request_headers(config))
    api = config.api_url.rstrip("/")
    seen: set[str] = set()
    unavailable: list[str] = []
    for slug in state.linked_values(LINK_ANNOTATION):
        if slug.lower() in seen:
            continue
        seen.add(slug.lower())
        repository = GitHubRepositorySync(client, state, api, slug, config.name,
                                          timedelta(days=config.deployment_lookback_days))
        try:
            for resource in (repository.pulls, repository.deployments, repository.workflow_runs, repository.issues,
                             repository.releases):
                async for page in resource():
                    # Items of this page that could not be read are named on it; the others are stored.
                    page.skipped += repository.take_skipped()
                    yield page
        except SyncHttpError as error:
            # A renamed or private repository must not keep the others from syncing.
            if error.status not in TARGET_UNAVAILABLE_STATUSES:
                raise
            unavailable.append(f"{slug}: {error}")
    if unavailable:
        raise TargetsUnavailable("; ".join(unavailable))


class GitHubRepositorySync:
    """The resources of one repository, each with its own cursor."""

    def __init__(self, client: SyncClient, state: SyncState, api: str, slug: str, connection: str,
                 lookback: timedelta = timedelta(days=7)) -> None:
        self.client, self.state, self.slug, self.connection = client, state, slug, connection
        self.base = f"{api}/repos/{slug}"
        self.lookback = lookback
        self._skipped: list[str] = []

    def take_skipped(self) -> list[str]:
        """Why items read since the last call were skipped (and forget them)."""
        taken, self._skipped = self._skipped, []
        return taken

    def _each(self, kind: str, items: list, make: Callable[[dict], list[FlowRecord]]) -> list[FlowRecord]:
        """Records of each item; one that cannot be read (a missing id, a value of the wrong type) is skipped
        and named, and never keeps the others of its page from being stored."""
        records: list[FlowRecord] = []
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise MalformedPayload(f"is a {type(item).__name__}, not an object")
                made = make(item)
                for record in made:
                    check_record(record)
            except (MalformedPayload, KeyError, TypeError, AttributeError, ValueError) as error:
                name = item.get("number") or item.get("id") if isinstance(item, dict) else None
                self._skipped.append(f"{kind} {name if isinstance(name, str | int) else '?'} of {self.slug}: "
                                     f"{readable_reason(error)}")
                continue
            records += made
        return records

    def resource(self, name: str) -> str:
        return f"{self.slug}:{name}"

    async def pulls(self) -> AsyncIterator[SyncPage]:
        """Pull requests, most recently updated first, until older than the last completed walk; after
        each page, the commits of the pull requests it listed (portal/sync/change_commits.py)."""
        resource = self.resource("pulls")
        cursor = self.state.cursor(resource)
        queue = CommitsQueue(cursor)

        async def build(items: list[dict]) -> list[FlowRecord]:
            records = self._each("pull request", items,
                                 lambda pr: [pull_request_record(_repo_of(pr, self.slug), pr, self.connection)])
            for record in records:
                queue.add({"number": record.values["number"], "repo": record.values["repository"],
                           "branch": record.values["head_branch"]})
            return records

        # Pull requests queued by a run that stopped before reading their commits come first.
        async for page in self._pull_commits(queue, resource, cursor):
            yield page
        async for page in walk_newest_first(
            self.client, resource, f"{self.base}/pulls?state=all&sort=updated&direction=desc&per_page={PER_PAGE}",
            cursor, stamp_of=lambda pr: pr.get("updated_at"), build=build, extra=queue.state,
        ):
            yield page
            async for commits_page in self._pull_commits(queue, resource, page.cursor or {}):
                yield commits_page

    def _pull_commits(self, queue: CommitsQueue, resource: str, cursor: dict) -> AsyncIterator[SyncPage]:
        """The commits of each queued pull request (GitHub lists at most 250, oldest first)."""
        def commit_of(entry: dict, item: dict) -> FlowRecord | None:
            if not item.get("sha"):
                return None
            return pull_request_commit_record({"full_name": entry["repo"]}, item, entry.get("branch"), self.connection)

        return read_change_commits(
            self.client, queue, resource, cursor,
            url_of=lambda entry: f"{self.base}/pulls/{entry['number']}/commits?per_page={PER_PAGE}",
            commit_of=commit_of,
            first_commit_of=lambda entry, when: first_commit_record(
                {"full_name": entry["repo"]}, entry["number"], when, self.connection),
            label_of=lambda entry: f"pull request {entry['repo']}#{entry['number']}")

    def releases(self) -> AsyncIterator[SyncPage]:
        """Releases, newest first, until older than the last completed walk. A release carries no update
        time: one is read again when it is published (publishedAt moves), edits of older ones and deletions
        come from the `release` webhook (or `flowport sync --full`)."""
        async def build(items: list[dict]) -> list[FlowRecord]:
            return self._each("release", items, lambda release: [
                release_record(_repo_of(release, self.slug), release, None, self.connection)
            ] if release.get("id") is not None and release.get("tag_name") else [])

        resource = self.resource("releases")
        return walk_newest_first(
            self.client, resource, f"{self.base}/releases?per_page={PER_PAGE}", self.state.cursor(resource),
            stamp_of=lambda release: release.get("published_at") or release.get("created_at"), build=build)

    def issues(self) -> AsyncIterator[SyncPage]:
        """Issues (GitHub lists pull requests here too; those are skipped) with opened/closed transitions."""
        def records_of(issue: dict) -> list[FlowRecord]:
            if "pull_request" in issue:
                return []
            repo = _repo_of(issue, self.slug)
            records = issue_records(repo, issue, "opened", self.connection)
            if issue.get("state") == "closed":
                # REST names who closed it (closed_by); the issue's author did not necessarily.
                records += issue_records(repo, issue, "closed", self.connection, issue.get("closed_by"))[1:]
            return records

        async def build(items: list[dict]) -> list[FlowRecord]:
            return self._each("issue", items, records_of)

        resource = self.resource("issues")
        return walk_newest_first(
            self.client, resource, f"{self.base}/issues?state=all&sort=updated&direction=desc&per_page={PER_PAGE}",
            self.state.cursor(resource), stamp_of=lambda issue: issue.get("updated_at"), build=build)

    def workflow_runs(self) -> AsyncIterator[SyncPage]:
        """Workflow runs, newest first; the cursor stays at the oldest unfinished run so it is re-read."""
        async def build(items: list[dict]) -> list[FlowRecord]:
            return self._each("workflow run", items,
                              lambda run: [workflow_run_record(_repo_of(run, self.slug), run, self.connection)])

        resource = self.resource("workflow-runs")
        return walk_newest_first(
            self.client, resource, f"{self.base}/actions/runs?per_page={PER_PAGE}", self.state.cursor(resource),
            stamp_of=lambda run: run.get("created_at"), build=build,
            items_of=lambda body: (body or {}).get("workflow_runs") or [],
            still_open=lambda run: run.get("status") != "completed")

    async def deployments(self) -> AsyncIterator[SyncPage]:
        """New deployments with their latest status; unfinished ones again until they finish, and finished
        ones again for `deployment_lookback_days` after they finished, since a later status can change the
        outcome (success marked failed). Re-reads are conditional: an unchanged list of statuses is a 304."""
        resource = self.resource("deployments")
        cursor = self.state.cursor(resource)
        unfinished: dict[str, dict] = {str(d["id"]): d for d in cursor.get("unfinished", [])}
        horizon = datetime.now(UTC) - self.lookback
        finished: dict[str, dict] = {str(d["id"]): d for d in cursor.get("finished", [])
                                     if (parse_time(d.get("finished_at")) or horizon) > horizon}

        def watch(deployment: dict, status: dict | None) -> None:
            key = str(deployment["id"])
            kept = {name: deployment.get(name) for name in _KEPT_DEPLOYMENT_FIELDS}
            if status and status.get("state") in FINISHED_DEPLOYMENT_STATES:
                unfinished.pop(key, None)
                ended = parse_time(status.get("created_at"))
                if ended is not None and ended > horizon:
                    finished[key] = {**kept, "finished_at": ended.isoformat()}
                else:
                    finished.pop(key, None)
            else:
                finished.pop(key, None)
                unfinished[key] = kept

        def watched() -> dict:
            newest = sorted(finished.values(), key=lambda d: d["finished_at"], reverse=True)[:MAX_WATCHED_FINISHED]
            return {"unfinished": list(unfinished.values()), "finished": newest}

        if unfinished or finished:
            records = []
            for deployment in [*unfinished.values(), *finished.values()]:
                status, changed = await self._latest_status(deployment)
                if changed:
                    records.append(self._record(deployment, status))
                    watch(deployment, status)
            yield SyncPage(resource, records, {**cursor, **watched()})

        async def build(items: list[dict]) -> list[FlowRecord]:
            records = []
            for deployment in items:
                if not isinstance(deployment, dict) or deployment.get("id") is None:
                    records += self._each("deployment", [deployment], lambda d: [self._record(d, None)])
                    continue
                status, _ = await self._latest_status(deployment, conditional=False)
                made = self._each("deployment", [deployment], lambda d, status=status: [self._record(d, status)])
                if made:
                    records += made
                    watch(deployment, status)
            return records

        async for page in walk_newest_first(
            self.client, resource, f"{self.base}/deployments?per_page={PER_PAGE}", cursor,
            stamp_of=lambda deployment: deployment.get("created_at"), build=build, extra=watched,
        ):
            yield page

    async def _latest_status(self, deployment: dict, conditional: bool = True) -> tuple[dict | None, bool]:
        """The status that decides a deployment's outcome, and whether anything was read (False on a 304):
        the newest one, passing over `inactive` (a newer deployment superseded it: not an outcome)."""
        url = deployment.get("statuses_url") or f"{self.base}/deployments/{deployment['id']}/statuses"
        response = await self.client.get(url, {"per_page": PER_PAGE}, conditional=conditional)
        if response.not_modified:
            return None, False
        statuses = [s for s in response.json() or [] if isinstance(s, dict)]
        # Sorted here rather than trusting the API's order: the newest status decides the outcome.
        newest = sorted(statuses, key=lambda s: (s.get("created_at") or "", s.get("id") or 0), reverse=True)
        latest = next((s for s in newest if s.get("state") != "inactive"), newest[0] if newest else None)
        return latest, True

    def _record(self, deployment: dict, status: dict | None) -> FlowRecord:
        return deployment_record(_repo_of(deployment, self.slug), deployment, status, self.connection)
