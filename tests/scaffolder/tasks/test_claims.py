"""Claims: two workers never take the same task; a worker that died is noticed and its task recovered."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session

from portal.scaffolder.actions import default_registry
from portal.scaffolder.tasks import service
from portal.scaffolder.tasks.claims import Claim, beat, claim_next, held_task, recover_stale
from portal.scaffolder.tasks.events import utcnow
from portal.scaffolder.tasks.models import COMPLETED, FAILED, OPEN, PROCESSING, ScaffolderTask
from portal.scaffolder.tasks.runner import ClaimedRun
from tests.scaffolder.tasks.support import greeting_template, runner_for, task_events, task_row

CREATOR = "user:default/rui.requester"


def open_tasks(engine, count: int) -> list[str]:  # noqa: ANN001
    with Session(engine, expire_on_commit=False) as session:
        ids = [service.create_task(session, entity=greeting_template(), values={"name": f"t{i}"},
                                   created_by=CREATOR, registry=default_registry()).id for i in range(count)]
        session.commit()
    return ids


def claim_in_own_session(engine, worker: str) -> str | None:  # noqa: ANN001
    with Session(engine, expire_on_commit=False) as session:
        task = claim_next(session, worker)
        task_id = task.id if task else None
        session.commit()
    return task_id


def test_two_workers_racing_claim_each_task_exactly_once(engine):
    ids = open_tasks(engine, 6)
    start = threading.Barrier(2)
    claimed: dict[str, list[str]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            while (task_id := claim_in_own_session(engine, f"worker-{name}")) is not None:
                claimed[name].append(task_id)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    every_claim = claimed["a"] + claimed["b"]
    assert sorted(every_claim) == sorted(ids)  # each task once, none lost
    for task_id in ids:
        task = task_row(engine, task_id)
        owner = "worker-a" if task_id in claimed["a"] else "worker-b"
        assert task.status == PROCESSING and task.claimed_by == owner and task.attempts == 1


def test_a_claimed_task_is_not_claimed_again(engine):
    [task_id] = open_tasks(engine, 1)
    assert claim_in_own_session(engine, "worker-a") == task_id
    assert claim_in_own_session(engine, "worker-b") is None


def _stop_heartbeat(engine, task_id: str, seconds_ago: float) -> None:  # noqa: ANN001
    with Session(engine) as session:
        session.execute(update(ScaffolderTask).where(ScaffolderTask.id == task_id)
                        .values(heartbeat_at=utcnow() - timedelta(seconds=seconds_ago)))
        session.commit()


def test_a_task_whose_worker_died_is_recovered_as_failed_and_can_be_retried(engine, settings):
    [task_id] = open_tasks(engine, 1)
    assert claim_in_own_session(engine, "worker-that-dies") == task_id
    _stop_heartbeat(engine, task_id, settings.task_heartbeat_timeout + 30)
    survivor = runner_for(engine, settings)

    assert survivor.run_once() == 1  # the round recovers it (and finds nothing open)

    task = task_row(engine, task_id)
    assert task.status == FAILED and task.claimed_by is None
    events = task_events(engine, task_id)
    assert [e.type for e in events[-2:]] == ["recovered", "completion"]
    assert "worker-that-dies stopped" in events[-2].body["message"]
    assert "can be retried" in events[-1].body["error"]["message"]

    with Session(engine, expire_on_commit=False) as session:
        service.retry_task(session, service.get_task(session, task_id), CREATOR)
        session.commit()
    survivor.run_once()
    assert task_row(engine, task_id).status == COMPLETED and task_row(engine, task_id).attempts == 2


def test_the_dead_workers_late_result_is_discarded_after_recovery(engine, settings):
    [task_id] = open_tasks(engine, 1)
    claim_in_own_session(engine, "slow-worker")
    slow_claim = Claim(task_id, 1, "slow-worker")
    _stop_heartbeat(engine, task_id, settings.task_heartbeat_timeout + 1)
    with Session(engine, expire_on_commit=False) as session:
        assert [c.task_id for c in recover_stale(session, settings.task_heartbeat_timeout)] == [task_id]
        session.commit()

    assert beat(engine, slow_claim) == (False, False)  # its heartbeat no longer lands
    with Session(engine) as session:
        assert held_task(session, slow_claim) is None
    slow = runner_for(engine, settings, worker_id="slow-worker")
    slow.run(ClaimedRun(slow_claim, greeting_template(), {"name": "late"}, CREATOR, False))
    assert task_row(engine, task_id).status == FAILED  # the recovery stands


def test_a_live_heartbeat_keeps_the_task(engine, settings):
    [task_id] = open_tasks(engine, 1)
    claim_in_own_session(engine, "busy-worker")
    _stop_heartbeat(engine, task_id, settings.task_heartbeat_timeout + 5)
    assert beat(engine, Claim(task_id, 1, "busy-worker")) == (True, False)

    with Session(engine, expire_on_commit=False) as session:
        assert recover_stale(session, settings.task_heartbeat_timeout) == []
    assert task_row(engine, task_id).status == PROCESSING


def test_open_tasks_are_claimed_oldest_first(engine):
    ids = open_tasks(engine, 3)
    assert [claim_in_own_session(engine, "w") for _ in ids] == ids
    assert all(task_row(engine, task_id).status != OPEN for task_id in ids)
