"""Keep the local instance's SQLite files open while a run writes them.

The local instance stores every event of a run (`history/runs/<run id>.db`, asset and check events
also in `history/runs/index.db`, the run itself in `history/runs.db`), opening and closing a SQLite
connection per write. Its files are in WAL mode, and in WAL mode the last connection to close a
file checkpoints the log into the file and syncs it to disk: with nothing else holding the file
that is every event, thousands per run. While this process holds a connection of its own to each
file, Dagster's closes are plain closes; SQLite still checkpoints as the log grows, and once more
when the held connection closes after the run. Nothing is read or written through the held
connections, and a file that is not there (or not in WAL mode) is left alone: the run's own file is
opened as soon as the run has created it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

POLL_SECONDS = 0.02  # the run's file appears when the run starts; its first events follow at once
_WAL_HEADER_BYTES = 20  # a SQLite file's header bytes 18 and 19 (read and write version) are 2 in WAL mode


def in_wal_mode(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            header = fh.read(_WAL_HEADER_BYTES)
    except OSError:
        return False
    return len(header) == _WAL_HEADER_BYTES and header[18] == header[19] == 2


def storage_files(home: Path, run_id: str) -> list[Path]:
    """The SQLite files of the local instance (dagster_instances/local) that a run writes."""
    history = Path(home) / "history"
    return [history / "runs.db", history / "runs" / "index.db", history / "runs" / f"{run_id}.db"]


@contextlib.contextmanager
def kept_open(home: Path, run_id: str) -> Iterator[None]:
    """Hold a connection to each of the run's storage files (those in WAL mode) until the body ends."""
    waiting = storage_files(home, run_id)
    held: list[sqlite3.Connection] = []
    stop = threading.Event()

    def hold_ready() -> None:
        for path in list(waiting):
            if in_wal_mode(path):
                # mode=rw: never create a file; the first statement makes SQLite open the log.
                con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None,
                                      check_same_thread=False)
                con.execute("PRAGMA schema_version").fetchall()
                held.append(con)
                waiting.remove(path)

    def watch() -> None:
        while waiting and not stop.wait(POLL_SECONDS):
            with contextlib.suppress(sqlite3.Error):
                hold_ready()

    with contextlib.suppress(sqlite3.Error):
        hold_ready()
    watcher = threading.Thread(target=watch, name=f"wal-{run_id}", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        for con in held:
            con.close()
