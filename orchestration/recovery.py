"""Runs of the local instance whose process died: mark them failed and give back their pool slot.

A `strata materialize` run executes in its own process (in-process executor). When that process is
killed (kill -9, the OOM killer, a power cut) its run stays STARTED in `<out>/dagster_home` and
keeps the `warehouse_writer` pool slot it held, so every later run of the same folder would wait
for that slot forever: nothing runs the daemon's run monitoring for CLI runs. Before a run starts,
`release_dead_runs` looks at every unfinished run of the instance; a run whose process (the pid in
its RUN_START event) no longer exists on this machine, or is another process that started later
(a reused pid), is reported failed and its slots and pending steps are freed. A run whose process
is alive is left alone: the new run waits for its slot (one writer of the warehouse at a time).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Report every unfinished run whose process is gone as failed and free its pool slots.

    Returns the ids of the runs released.
    """
    released = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        starts = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_START).records
        if not starts:
            continue  # never started executing: it holds no slot (and may be about to start)
        entry = starts[-1].event_log_entry
        pid = entry.dagster_event.pid if entry.dagster_event else None
        if pid is None or _process_alive_since(pid, entry.timestamp):
            continue
        instance.report_run_failed(
            run, message=f"strata: the process of this run (pid {pid}) is gone (killed or crashed); "
                         "marked failed and its warehouse_writer slot freed before a new run")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def _process_alive_since(pid: int, started_at: float) -> bool:
    """Whether process `pid` exists (not a zombie) and was started no later than `started_at`."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: fall back to a plain existence test
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if fields[0] == "Z":
        return False
    try:
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration):
        return True
    process_start = boot + int(fields[19]) / _CLOCK_TICKS
    return process_start <= started_at + 2  # a later process with the same pid is another one
