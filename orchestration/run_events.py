"""Following a run while it executes: its steps, phases and loaded rows, from Dagster's event log.

`strata materialize` executes the job in process; a thread reads the run's events from the instance's
event log as they are stored (`DagsterInstance.get_records_for_run`, a cursor at a time) and keeps a
`RunProgress`: per phase (ingestion, checks, dbt, publishing) the steps done out of the steps
planned, the step running, the rows the ingestion steps loaded. A view (orchestration/progress_view.py)
draws it after each change.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg

PHASES = ("ingestion", "checks", "dbt", "publishing")

# How Dagster records an interrupted step or run (SIGINT, or SIGTERM, which it treats alike): the
# error's class. The step is not retried (the jobs have no retry policy: assets/core/retries.py).
INTERRUPTS = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})
POLL_SECONDS = 0.3
RECORDS_PER_READ = 1000
DONE = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}


@dataclass
class Phase:
    name: str
    total: int | None  # steps planned; None: not known (the checks of a partial run)
    done: int = 0
    failed: int = 0
    running: str | None = None
    started_at: float | None = None
    last_done_at: float | None = None
    finished_at: float | None = None

    @property
    def complete(self) -> bool:
        return self.total is not None and self.done >= self.total


@dataclass
class RunProgress:
    run_id: str
    months: list[str]
    phases: dict[str, Phase]
    step_phase: dict[str, str]  # op name → phase; an op not listed is an asset check
    label: str = ""  # "run 1 of 2" when the months need several runs
    rows_loaded: int = 0
    failures: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.monotonic)
    _counted: set[str] = field(default_factory=set)

    def phase_of(self, step_key: str) -> Phase:
        return self.phases[self.step_phase.get(step_key, "checks")]

    def apply(self, entry) -> bool:
        """Take one event log entry into account; True if the progress changed."""
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            return False
        phase = self.phase_of(entry.step_key)
        if event.event_type == dg.DagsterEventType.STEP_START:
            phase.running = entry.step_key
            phase.started_at = phase.started_at or time.monotonic()
            return True
        if event.event_type in DONE:
            phase.done += 1
            phase.last_done_at = time.monotonic()
            if phase.running == entry.step_key:
                phase.running = None
            if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                phase.failed += 1
                error = event.step_failure_data.error
                if error is not None and error.cls_name in INTERRUPTS:
                    message = "interrupted"
                else:
                    message = (error.message.strip().splitlines() or ["failed"])[0] if error else "failed"
                self.failures.append(f"{entry.step_key}: {message}")
            if phase.complete:
                phase.finished_at = time.monotonic()
            return True
        materialized = event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
        if materialized and entry.step_key not in self._counted:
            # A ranged ingestion step stores one materialisation per month, each with the step's totals.
            rows = event.step_materialization_data.materialization.metadata.get("rows_loaded")
            if rows is not None:
                self._counted.add(entry.step_key)
                self.rows_loaded += int(rows.value)
                return True
        return False


def phase_of_group(group: str) -> str:
    if group.startswith("ingestion"):
        return "ingestion"
    if group == "publishing":
        return "publishing"
    return "dbt"  # the dbt models' groups (finance, segments)


def step_phases(defs: dg.Definitions) -> dict[str, str]:
    """Each asset op's phase, from its assets' group; asset check ops are left out (checks)."""
    phases = {}
    for assets_def in defs.assets or ():
        groups = set(assets_def.group_names_by_key.values())
        phases[assets_def.op.name] = phase_of_group(min(groups)) if groups else "dbt"
    return phases


def plan(job: dg.JobDefinition, step_phase: dict[str, str], ingestion_only: bool) -> dict[str, Phase]:
    """The phases of a run of `job` (all of it, or only its ingestion assets and their checks)."""
    ops = [node.name for node in job.graph.nodes]
    counts = {name: 0 for name in PHASES}
    for op in ops:
        counts[step_phase.get(op, "checks")] += 1
    if ingestion_only:
        return {"ingestion": Phase("ingestion", counts["ingestion"]), "checks": Phase("checks", None)}
    return {name: Phase(name, counts[name]) for name in PHASES}


@contextlib.contextmanager
def follow_run(instance_factory: Callable[[], dg.DagsterInstance], progress: RunProgress,
               on_change: Callable[[RunProgress], None]) -> Iterator[None]:
    """Read the run's events in a thread while the body executes it; a last read after it ends."""
    stop = threading.Event()

    def read() -> None:
        instance = instance_factory()  # its own storage connections, apart from the executing run's
        cursor = None
        while True:
            stopping = stop.is_set()
            while True:
                batch = instance.get_records_for_run(progress.run_id, cursor=cursor, limit=RECORDS_PER_READ)
                changed = False
                for record in batch.records:
                    changed = progress.apply(record.event_log_entry) or changed
                cursor = batch.cursor or cursor
                if changed:
                    on_change(progress)
                if not batch.has_more:
                    break
            if stopping:
                return
            stop.wait(POLL_SECONDS)

    thread = threading.Thread(target=read, name=f"follow-{progress.run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
