"""The task runner: a background loop that recovers stalled tasks, claims open ones and runs their steps."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.background import BackgroundLoop
from portal.catalog.point_reads import entity_by_ref
from portal.logging_setup import get_logger
from portal.net import guarded_client
from portal.scaffolder.actions import ActionRegistry, ActionServices, default_registry
from portal.scaffolder.expressions import mask_secrets
from portal.scaffolder.steps import StepEvent, StepFailed, StepRun, run_steps
from portal.scaffolder.tasks.claims import Claim, beat, cancel_requested, claim_next, held_task, recover_stale
from portal.scaffolder.tasks.events import ProgressLines
from portal.scaffolder.tasks.models import CANCELLED, COMPLETED, FAILED
from portal.scaffolder.tasks.secrets import SECRETS_NOT_KEPT, TaskSecrets
from portal.scaffolder.tasks.service import finish_task
from portal.scaffolder.templates import TemplateError, load_template

log = get_logger(__name__)
IDLE_SECONDS = 0.5
WORKSPACES_FOLDER = "scaffolder-tasks"


def registry_for(settings: Any, plugins: Any) -> ActionRegistry:
    """The actions tasks run with: the one place the runner builds its registry."""
    return default_registry(settings=settings, plugins=plugins)


def new_worker_id() -> str:
    """Host, process and a random part: two workers never share an id, and people can tell where a task ran."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ClaimedRun:
    """What a run needs, read in the claiming transaction so the run holds no session."""

    claim: Claim
    template: dict[str, Any]
    values: dict[str, Any]
    created_by: str
    needs_secrets: bool


@dataclass(frozen=True)
class Outcome:
    status: str
    message: str
    output: dict[str, Any] | None = None
    error: str | None = None


class Heartbeat:
    """Renews a claim's heartbeat from a thread of its own while the steps run."""

    def __init__(self, engine: Engine, claim: Claim, interval: float) -> None:
        self.engine, self.claim, self.interval = engine, claim, interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flowport-task-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self._thread.join(self.interval + 5)

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                beat(self.engine, self.claim)
            except Exception as error:  # noqa: BLE001 - a missed beat is retried; recovery has a margin
                log.warning("task heartbeat failed", task=self.claim.task_id, error=str(error).splitlines()[0])


class TaskRunner(BackgroundLoop):
    """Runs one task per round; a round with nothing to run pauses `idle_seconds`."""

    thread_name = "flowport-task-runner"

    def __init__(self, engine: Engine, settings: Any, *, secrets: TaskSecrets | None = None, plugins: Any = None,
                 registry: ActionRegistry | None = None, worker_id: str | None = None,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        super().__init__()
        self.engine, self.settings = engine, settings
        self.secrets = secrets if secrets is not None else TaskSecrets()
        self.registry = registry if registry is not None else registry_for(settings, plugins)
        # Each action asks for a client with its own timeout; every one is guarded (portal/net).
        self.services = ActionServices(settings=settings, engine=engine, plugins=plugins,
                                       http=lambda timeout: guarded_client(timeout, settings.url_allow_private_networks))
        self.worker_id = worker_id or new_worker_id()
        self.idle_seconds = idle_seconds
        self.timeout = float(settings.task_heartbeat_timeout)

    def round(self) -> int:
        with Session(self.engine, expire_on_commit=False) as session:
            recovered = recover_stale(session, self.timeout)
            session.commit()
        for lost in recovered:
            log.warning("task recovered after its worker stopped", task=lost.task_id, worker=lost.worker_id)
            # A worker killed on this machine left its workspace behind.
            shutil.rmtree(self._workspace(lost), ignore_errors=True)
        claimed = self.claim()
        if claimed is not None:
            self.run(claimed)
        return len(recovered) + (claimed is not None)

    def pause_after(self, done: int) -> float:
        return 0.0 if done else self.idle_seconds

    def claim(self) -> ClaimedRun | None:
        """Claim the oldest open task (and move its order) in one transaction."""
        with Session(self.engine, expire_on_commit=False) as session:
            task = claim_next(session, self.worker_id)
            if task is None:
                session.rollback()
                return None
            claimed = ClaimedRun(Claim(task.id, task.attempts, self.worker_id), dict(task.template),
                                 dict(task.values), task.created_by, task.needs_secrets)
            session.commit()
        log.info("task claimed", task=task.id, attempt=task.attempts, worker=self.worker_id)
        return claimed

    def run(self, claimed: ClaimedRun) -> Outcome:
        """Run the steps in a workspace removed afterwards, then record the outcome if the claim still holds."""
        task_id = claimed.claim.task_id
        secrets = self.secrets.get(task_id) or {}
        if claimed.needs_secrets and not secrets:
            outcome = Outcome(FAILED, SECRETS_NOT_KEPT.replace("{id}", task_id), error=SECRETS_NOT_KEPT)
        else:
            workspace = self._workspace(claimed.claim)
            try:
                workspace.mkdir(parents=True, exist_ok=True)
                with Heartbeat(self.engine, claimed.claim, max(0.5, self.timeout / 4)):
                    outcome = self._run_steps(claimed, workspace, secrets)
            finally:
                shutil.rmtree(workspace, ignore_errors=True)
        self._finish(claimed.claim, outcome)
        if outcome.status == COMPLETED:
            self.secrets.forget(task_id)
        return outcome

    def _workspace(self, claim: Claim) -> Path:
        return Path(self.settings.data_dir, WORKSPACES_FOLDER, f"{claim.task_id}-{claim.attempt}")

    def _run_steps(self, claimed: ClaimedRun, workspace: Path, secrets: dict[str, Any]) -> Outcome:
        try:
            template = load_template(claimed.template, self.registry)
        except TemplateError as error:
            return Outcome(FAILED, str(error), error=str(error))
        lines = ProgressLines(self.engine, claimed.claim.task_id)
        try:
            return self._run_template(claimed, template, workspace, secrets, lines)
        finally:
            lines.close()  # before the outcome is recorded, so every line comes before the completion

    def _run_template(self, claimed: ClaimedRun, template, workspace: Path, secrets: dict[str, Any],  # noqa: ANN001
                      lines: ProgressLines) -> Outcome:
        run = StepRun(
            template=template, registry=self.registry, workspace=workspace, parameters=claimed.values,
            emit=partial(self._emit, lines, secrets), secrets=secrets,
            user=self._user(claimed.created_by), template_path=template.base_path,
            is_cancelled=partial(cancel_requested, self.engine, claimed.claim), services=self.services,
        )
        try:
            output = run_steps(run)
        except StepFailed as failure:
            if failure.cancelled:
                return Outcome(CANCELLED, "Run cancelled")
            return Outcome(FAILED, f"Run failed: {failure}", error=str(failure))
        except Exception as error:  # noqa: BLE001 - the task fails with a message, the worker goes on
            message = mask_secrets(f"{type(error).__name__}: {error}", secrets)
            log.exception("task failed unexpectedly", task=claimed.claim.task_id)
            return Outcome(FAILED, f"Run failed: {message}", error=message)
        return Outcome(COMPLETED, "Run completed", output=output)

    def _emit(self, lines: ProgressLines, secrets: dict[str, Any], event: StepEvent) -> None:
        body = event.body()
        body["message"] = mask_secrets(body["message"], secrets)
        lines.add(body)

    def _user(self, created_by: str) -> dict[str, Any]:
        with self.engine.connect() as connection:
            entity = entity_by_ref(connection, created_by) if created_by.startswith("user:") else None
        return {"ref": created_by, **({"entity": entity} if entity else {})}

    def _finish(self, claim: Claim, outcome: Outcome) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            task = held_task(session, claim)
            if task is None:  # recovered by another worker meanwhile: that outcome stands
                log.warning("task finished after its claim was lost", task=claim.task_id)
                return
            finish_task(session, task, outcome.status, outcome.message, outcome.output, outcome.error)
            session.commit()
        log.info("task finished", task=claim.task_id, status=outcome.status)
