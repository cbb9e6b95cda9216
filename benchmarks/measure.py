"""Measuring a subprocess: wall time, and the resident memory of its whole process tree over time.

psutil is not a dependency of strata, so the tree is read from /proc: every 0.2 s the sampler finds
the descendants of the root process (Dagster's process, the dbt subprocess it starts, ...) and sums
their resident set sizes. The samples are kept with their time, so a peak can be taken over any
interval (a pipeline stage) afterwards.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants (0 when it is gone)."""
    kids = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except OSError:
            pass
        todo.extend(kids.get(pid, ()))
    return total


@dataclass
class Sampler:
    """Samples tree_rss(pid) every `interval` seconds in a thread until stopped."""

    pid: int
    interval: float = 0.2
    samples: list[tuple[float, int]] = field(default_factory=list)  # (epoch seconds, bytes)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), tree_rss(self.pid)))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float | None = None, end: float | None = None) -> int:
        """The largest sample in [start, end] (the whole run by default); 0 without samples."""
        return max(
            (b for t, b in self.samples if (start is None or t >= start) and (end is None or t <= end)),
            default=0,
        )


@dataclass
class Measured:
    returncode: int
    wall: float
    started: float
    ended: float
    peak_rss: int
    sampler: Sampler
    stdout: str
    stderr: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    memory_limit: int | None = None
    cpu_seconds: float | None = None  # user + system, the process and its waited-for descendants

    @property
    def out_of_memory(self) -> bool:
        """The process died of the address-space cap (MemoryError, or killed allocating)."""
        if self.memory_limit is None or self.returncode == 0:
            return False
        text = self.stderr[-4000:]
        return (
            "MemoryError" in text
            or "std::bad_alloc" in text
            or "Cannot allocate memory" in text
            or "Out of Memory" in text
            or "out of memory" in text
            or self.returncode < 0
        )


def failure_line(stderr: str) -> str | None:
    """The line of a failed process's output that says what failed: the last exception line (DuckDB
    ends its out-of-memory error with advice and a link, which say nothing by themselves), else the
    last line."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"[\w.]*(Error|Exception)\b", line)]
    return ((raised or lines)[-1][:300]) if lines else None


def run_measured(
    cmd: list[str],
    cwd: Path | None = None,
    env: dict | None = None,
    memory_limit: int | None = None,
    log: Path | None = None,
) -> Measured:
    """Run `cmd`, sampling its process tree's RSS; `memory_limit` caps its address space (bytes)."""

    def cap():
        if memory_limit:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out_path = log or Path(tmp) / "stdout"
        err_path = Path(tmp) / "stderr"
        with open(out_path, "w") as out_fh, open(err_path, "w") as err_fh:
            started = time.time()
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdout=out_fh,
                stderr=err_fh,
                text=True,
                preexec_fn=cap if memory_limit else None,
            )
            sampler = Sampler(proc.pid)
            # wait4: the child's CPU time, including every descendant it waited for (dbt, DuckDB).
            _, status, usage = os.wait4(proc.pid, 0)
            ended = time.time()
            proc.returncode = os.waitstatus_to_exitcode(status)
            sampler.stop()
        stdout = out_path.read_text(errors="replace")[-20000:]
        stderr = err_path.read_text(errors="replace")[-20000:]
    return Measured(
        proc.returncode,
        ended - started,
        started,
        ended,
        sampler.peak(),
        sampler,
        stdout,
        stderr,
        load_before,
        os.getloadavg(),
        memory_limit,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def gib(n: int | float | None) -> float | None:
    return None if n is None else round(n / 2**30, 3)
