"""What `strata materialize` shows while a run executes: a live view on a terminal, a few lines elsewhere.

On a terminal: one bar per phase (ingestion, checks, dbt, publishing) with its steps done of planned,
the step running, the months and rows loaded, and the time since the phase started; redrawn by rich
as the run's events arrive (orchestration/run_events.py). Piped (CI logs, `| tee`): one line when a
phase completes and one per failed step, nothing else.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column

if TYPE_CHECKING:
    from orchestration.run_events import RunProgress


# spinner 1, phase 11, bar 20, steps 5, elapsed 7, and a space between the six columns
FIXED_WIDTH = 1 + 11 + 20 + 5 + 7 + 5


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def months_text(months: list[str]) -> str:
    if not months:
        return "no months"
    span = months[0] if len(months) == 1 else f"{months[0]} .. {months[-1]}"
    return f"{len(months)} month{'s' if len(months) != 1 else ''} ({span})"


class ProgressView:
    """Call `update(progress)` from any thread; `close()` when the runs are over."""

    def __init__(self, terminal: TextIO):
        self.console = Console(file=terminal)
        self.live = self.console.is_terminal
        self._lock = threading.Lock()
        self._printed: set[tuple[str, str]] = set()
        self._failures_shown: dict[str, int] = {}
        self._progress: Progress | None = None
        self._tasks: dict[tuple[str, str], int] = {}
        if self.live:
            # Fixed widths for the counts and the bar; the detail gets what is left and is cut.
            self._progress = Progress(
                SpinnerColumn(table_column=Column(width=1, no_wrap=True)),
                TextColumn("{task.description}", table_column=Column(width=11, no_wrap=True)),
                BarColumn(bar_width=20, table_column=Column(width=20, no_wrap=True)),
                MofNCompleteColumn(table_column=Column(width=5, no_wrap=True, justify="right")),
                TimeElapsedColumn(table_column=Column(width=7, no_wrap=True)),
                TextColumn("{task.fields[detail]}", table_column=Column(
                    max_width=max(10, self.console.width - FIXED_WIDTH), no_wrap=True, overflow="ellipsis")),
                console=self.console, transient=False, refresh_per_second=5,
                # sys.stdout and sys.stderr go to the log file (run_log.py): rich must not take them over.
                redirect_stdout=False, redirect_stderr=False,
            )
            self._progress.start()

    def update(self, progress: RunProgress) -> None:
        with self._lock:
            if self._progress is not None:
                self._draw(progress)
            else:
                self._lines(progress)

    def _detail(self, progress: RunProgress, name: str) -> str:
        phase = progress.phases[name]
        parts = []
        if name == "ingestion":
            parts += [f"{progress.rows_loaded:,} rows", months_text(progress.months)]
        if phase.failed:
            parts.append(f"[red]{phase.failed} failed[/]")
        if phase.running:
            parts.append(f"[dim]{phase.running}[/]")
        return "  ".join(parts)

    def _draw(self, progress: RunProgress) -> None:
        for name, phase in progress.phases.items():
            key = (progress.run_id, name)
            description = f"{name} {progress.label}".strip()
            if key not in self._tasks:
                self._tasks[key] = self._progress.add_task(description, total=phase.total, detail="",
                                                           start=False)
            task = self._tasks[key]
            if phase.started_at is not None:
                self._progress.start_task(task)
            self._progress.update(task, completed=phase.done, detail=self._detail(progress, name))
            if phase.complete:
                self._progress.stop_task(task)

    def _lines(self, progress: RunProgress) -> None:
        shown = self._failures_shown.get(progress.run_id, 0)
        for failure in progress.failures[shown:]:
            self.console.print(f"  failed: {failure}", highlight=False, soft_wrap=True)
        self._failures_shown[progress.run_id] = len(progress.failures)
        for name, phase in progress.phases.items():
            key = (progress.run_id, name)
            if phase.complete and key not in self._printed:
                self._printed.add(key)
                self._print_phase(progress, name)

    def _print_phase(self, progress: RunProgress, name: str) -> None:
        phase = progress.phases[name]
        end = phase.finished_at or phase.last_done_at or time.monotonic()
        took = end - (phase.started_at or progress.started_at)
        detail = self._detail(progress, name).replace("[red]", "").replace("[/]", "").replace("[dim]", "")
        steps = f"{phase.done}/{phase.total}" if phase.total is not None else str(phase.done)
        run = f"  ({progress.label})" if progress.label else ""
        line = f"  {name:<11} {steps:>5} steps  {_clock(took):>5}  {detail}".rstrip()
        self.console.print(line + run, highlight=False, soft_wrap=True)

    def finish(self, progress: RunProgress) -> None:
        """After a run: the phases whose total was not known, or that stopped early, get their line."""
        with self._lock:
            if self._progress is not None:
                self._draw(progress)
                return
            for name, phase in progress.phases.items():
                key = (progress.run_id, name)
                if key not in self._printed and phase.done:
                    self._printed.add(key)
                    self._print_phase(progress, name)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
