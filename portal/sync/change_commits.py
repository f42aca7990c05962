"""The commits of changes (pull and merge requests) in pull sync, and the first commit time they give.

A page of a change list puts every change it lists into a queue kept in that list's cursor (committed with
the page), and the queue is drained right after, one committed SyncPage per change. So a request budget
or a crash can stop the run anywhere: the next run reads the changes still queued before walking on, and
no change is left without its commits. A change whose commits cannot be read is named in the run's report,
stays in the queue for MAX_TRIES runs, and never holds back the change itself or the others.

The first page of a change's commits is a conditional request: when it has not changed (304) the stored
commits and first commit time still hold, and the request costs nothing against the tool's rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

from portal.flow.records import FlowRecord
from portal.sync.client import SyncClient, SyncHttpError, SyncResponse
from portal.sync.pagination import link_next
from portal.sync.state import SyncPage

QUEUE_KEY = "commits_due"
# Runs in which a change's commits may fail before it leaves the queue (its error named each time).
MAX_TRIES = 3


class CommitsQueue:
    """Changes whose commits are still to be read: dicts with the change's `number` (PR number, MR iid),
    what the plugin needs to name it again (e.g. `branch`), and `tries` after a failure."""

    def __init__(self, cursor: dict) -> None:
        self.entries: list[dict] = [dict(entry) for entry in cursor.get(QUEUE_KEY) or []]
        # Changes that failed in this run wait for the next one instead of failing again after every page.
        self.deferred: set[int] = set()

    def add(self, entry: dict) -> None:
        """Queue a change, or refresh what is known of one queued already (keeping its failed tries,
        so it is read again in full rather than trusting a first page that may have been stored)."""
        for queued in self.entries:
            if queued["number"] == entry["number"]:
                queued.update({key: value for key, value in entry.items() if key != "tries"})
                return
        self.entries.append(dict(entry))

    def state(self) -> dict:
        """The cursor field holding the queue ({} when empty, so a drained cursor looks as before)."""
        return {QUEUE_KEY: [dict(entry) for entry in self.entries]} if self.entries else {}

    def cursor(self, base: dict) -> dict:
        """`base` (the list's cursor) with this queue in it."""
        return {**{key: value for key, value in base.items() if key != QUEUE_KEY}, **self.state()}


class _PartialRead(Exception):
    def __init__(self, items: list[dict], error: Exception) -> None:
        super().__init__(str(error))
        self.items, self.error = items, error


async def _read_all(client: SyncClient, url: str, conditional: bool,
                    next_of: Callable[[SyncResponse], str | None]) -> list[dict] | None:
    """Every item of a paginated list; None when its first page is unchanged (304)."""
    items: list[dict] = []
    try:
        response = await client.get(url, conditional=conditional)
        if response.not_modified:
            return None
        while True:
            body = response.json()
            items += [item for item in body or [] if isinstance(item, dict)]
            nxt = next_of(response)
            if not nxt:
                return items
            # Later pages shift whenever the first one changes, so they are never conditional.
            response = await client.get(nxt, conditional=False)
    except SyncHttpError as error:
        if error.status == 401:
            raise  # the connection's credentials, not this change: the run stops and says so
        raise _PartialRead(items, error) from error
    except ValueError as error:  # a body that is not JSON
        raise _PartialRead(items, error) from error


async def read_change_commits(
    client: SyncClient,
    queue: CommitsQueue,
    resource: str,
    base_cursor: dict,
    *,
    url_of: Callable[[dict], str],
    commit_of: Callable[[dict, dict], FlowRecord | None],
    first_commit_of: Callable[[dict, datetime], FlowRecord],
    label_of: Callable[[dict], str],
    next_of: Callable[[SyncResponse], str | None] = link_next,
) -> AsyncIterator[SyncPage]:
    """Drain the queue: one page per change with its commit records and first commit time (the earliest
    `authored_at` among them), and `base_cursor` with the queue as it is after that change."""
    for entry in [entry for entry in queue.entries if entry["number"] not in queue.deferred]:
        tries = int(entry.get("tries") or 0)
        failure: Exception | None = None
        try:
            # After a failure the first page's validator may describe commits that were never all read.
            items = await _read_all(client, url_of(entry), conditional=tries == 0, next_of=next_of)
        except _PartialRead as partial:
            items, failure = partial.items, partial.error
        queue.entries.remove(entry)
        # Commits read before a failure are kept; the first commit time only comes from the whole list
        # (a tool listing newest first has the earliest commit on its last page).
        records = _records(entry, items or [], commit_of, first_commit_of if failure is None else None)
        skipped = []
        if failure is not None:
            if tries + 1 < MAX_TRIES:
                queue.entries.append({**entry, "tries": tries + 1})
                queue.deferred.add(entry["number"])
                outcome = "read again next run"
            else:
                outcome = f"given up after {MAX_TRIES} runs"
            skipped.append(f"commits of {label_of(entry)}: {failure}; {outcome}")
        yield SyncPage(resource, records, queue.cursor(base_cursor), skipped=skipped)


def _records(entry: dict, items: list[dict], commit_of: Callable[[dict, dict], FlowRecord | None],
             first_commit_of: Callable[[dict, datetime], FlowRecord] | None) -> list[FlowRecord]:
    commits = [record for record in (commit_of(entry, item) for item in items) if record is not None]
    authored = [record.values["authored_at"] for record in commits if record.values.get("authored_at")]
    if authored and first_commit_of is not None:
        commits.append(first_commit_of(entry, min(authored)))
    return commits
