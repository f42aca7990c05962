from __future__ import annotations

import pytest

from portal.scaffolder.actions import ActionError, TaskCancelled
from portal.scaffolder.actions.debug import DebugLog, DebugWait
from tests.scaffolder.actions.helpers import make_context


def test_debug_log_writes_the_message(tmp_path):
    ctx, lines = make_context(tmp_path, input={"message": "Hello from the template"})
    DebugLog().run(ctx)
    assert lines == ["Hello from the template"]


def test_debug_log_lists_the_workspace(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hi')\n")
    ctx, lines = make_context(tmp_path, input={"listWorkspace": True})
    DebugLog().run(ctx)
    assert lines == ["Workspace:\n- src/app.py"]
    ctx, lines = make_context(tmp_path, input={"listWorkspace": "with-contents"})
    DebugLog().run(ctx)
    assert lines == ["Workspace:\n- src/app.py\nprint('hi')\n"]


def test_debug_log_says_when_the_workspace_is_empty(tmp_path):
    ctx, lines = make_context(tmp_path, input={"listWorkspace": "with-filenames"})
    DebugLog().run(ctx)
    assert lines == ["The workspace is empty"]


def test_debug_wait_sleeps_the_whole_time_in_slices(tmp_path):
    slept: list[float] = []
    ctx, lines = make_context(tmp_path, input={"seconds": 1, "milliseconds": 200}, sleep=slept.append)
    DebugWait().run(ctx)
    assert sum(slept) == pytest.approx(1.2) and max(slept) <= 0.5
    assert lines == ["Waiting 1.2 seconds"]


def test_debug_wait_stops_when_the_run_is_cancelled(tmp_path):
    slept: list[float] = []
    ctx, _ = make_context(tmp_path, input={"minutes": 5}, sleep=slept.append, is_cancelled=lambda: len(slept) >= 3)
    with pytest.raises(TaskCancelled):
        DebugWait().run(ctx)
    assert len(slept) == 3


def test_debug_wait_is_capped_at_ten_minutes(tmp_path):
    ctx, _ = make_context(tmp_path, input={"minutes": 10, "seconds": 1}, sleep=lambda _: None)
    with pytest.raises(ActionError, match="waiting 601 seconds is more than the 10 minutes allowed"):
        DebugWait().run(ctx)
