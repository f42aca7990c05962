"""Progress lines for long CLI work, redrawn by the working thread itself.

A live display (`Console.status`, a default `Progress`) redraws from a thread of its own about ten
times a second. Each redraw takes the GIL, and SQLite's inserts give it up and take it back for
every row, so that thread made a 100,000-entity SQLite import 19 % slower (38.8 -> 46.2 s). These
displays never start that thread: they redraw when the work reports progress, at most every
`REDRAW_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

REDRAW_SECONDS = 0.2


class ManualProgress:
    """A rich Progress without a refresh thread; `advance` redraws when enough time has passed."""

    def __init__(self, console: Console, *columns: ProgressColumn, transient: bool = False) -> None:
        self.progress = Progress(*columns, console=console, auto_refresh=False, transient=transient)
        self._drawn_at = 0.0

    def __enter__(self) -> ManualProgress:
        self.progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.progress.refresh()
        self.progress.stop()

    def add_task(self, description: str, total: float | None = None, **fields: object) -> int:
        task = self.progress.add_task(description, total=total, **fields)
        self.progress.refresh()
        return task

    def update(self, task: int, **changes: object) -> None:
        self.progress.update(task, **changes)  # type: ignore[arg-type]
        now = time.monotonic()
        if now - self._drawn_at >= REDRAW_SECONDS:
            self._drawn_at = now
            self.progress.refresh()

    def advance(self, task: int, steps: float = 1) -> None:
        self.update(task, advance=steps)


def counted_progress(console: Console) -> ManualProgress:
    """Description, bar, done/total and elapsed time: for work of a known size."""
    return ManualProgress(console, TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn())


@contextmanager
def entity_progress(console: Console, description: str) -> Iterator[Callable[[int], None]]:
    """A line `<description> N entities <elapsed>`; yields the callback that reports N so far."""
    with ManualProgress(console, TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} entities"),
                        TimeElapsedColumn()) as progress:
        task = progress.add_task(description)
        yield lambda count: progress.update(task, completed=count)
