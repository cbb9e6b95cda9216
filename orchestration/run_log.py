"""The full output of a run (dbt's, Dagster's, warnings) into `<out>/logs/<run>.log`.

dagster-dbt re-emits dbt's log on `sys.stdout`, Dagster's console logger writes `sys.stderr`, and a
library may write the file descriptors directly; redirecting descriptors 1 and 2 to the log file
catches all of them. The terminal keeps a descriptor of its own (`terminal`) for the progress view
and the summary. With `echo`, a thread copies what the log receives to the terminal as it comes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

LOGS_DIR = "logs"
ECHO_INTERVAL_SECONDS = 0.2


def log_path(out: Path, run_id: str) -> Path:
    return Path(out) / LOGS_DIR / f"{run_id}.log"


@dataclass
class CapturedOutput:
    path: Path
    terminal: TextIO  # the process's original standard output


@contextlib.contextmanager
def capture_output(path: Path, echo: bool = False) -> Iterator[CapturedOutput]:
    """Send descriptors 1 and 2 (and so `sys.stdout`, `sys.stderr`, child processes) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", encoding="utf-8", errors="replace", buffering=1)
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    stop = threading.Event()
    start = os.fstat(log_fd).st_size  # echo only what this capture writes
    follower = None
    if echo:
        follower = threading.Thread(target=_echo, args=(path, start, terminal, stop), daemon=True)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        if follower:
            follower.start()
        yield CapturedOutput(path=path, terminal=terminal)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log_fd):
            os.close(fd)
        if follower:
            stop.set()
            follower.join()
        terminal.flush()
        terminal.close()


def _echo(path: Path, start: int, terminal: TextIO, stop: threading.Event) -> None:
    """Copy what the log file receives after `start` to the terminal until `stop`, then the rest."""
    with open(path, encoding="utf-8", errors="replace") as log:
        log.seek(start)
        while True:
            stopping = stop.wait(ECHO_INTERVAL_SECONDS)
            chunk = log.read()
            if chunk:
                terminal.write(chunk)
                terminal.flush()
            if stopping:
                return
