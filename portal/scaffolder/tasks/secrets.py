"""Secrets given to a run, kept only in this process's memory: never in the database, never in a log."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

SECRETS_NOT_KEPT = (
    "This task was given secrets, and secrets are kept only in the memory of the process that created the "
    "task; the process running it does not have them (another worker process, or the portal restarted). "
    "Retry it with the secrets (POST /api/scaffolder/v2/tasks/{id}/retry with a body {\"secrets\": {...}}) "
    "from a portal that runs its worker in-process, or create a new task."
)


class TaskSecrets:
    """Task id → secrets, shared by the API and the in-process worker of one portal process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_task: dict[str, dict[str, Any]] = {}

    def keep(self, task_id: str, secrets: Mapping[str, Any]) -> None:
        with self._lock:
            self._by_task[task_id] = dict(secrets)

    def get(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._by_task.get(task_id)
            return dict(found) if found is not None else None

    def forget(self, task_id: str) -> None:
        with self._lock:
            self._by_task.pop(task_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_task)
