"""Writing the generated tables as landing batches, on a background thread.

Generating a month (numpy) and formatting and writing the previous one (pyarrow, sha256) overlap:
both release the GIL for their heavy work, so two cores are used. The queue is bounded, so at most
about one month of tables waits in memory. File contents do not depend on the thread: each batch is
written whole by one BatchWriter.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pyarrow as pa

from orchestration.generator.calendar import Calendar
from orchestration.generator.landing import BatchWriter
from orchestration.generator.summary import GenerationSummary

QUEUE_TABLES = 16  # about one month of entities


class BackgroundWriter:
    def __init__(self, root: Path, fmt: str, cal: Calendar, summary: GenerationSummary) -> None:
        self.root, self.fmt, self.cal, self.summary = root, fmt, cal, summary
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_TABLES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="strata-generate-writer", daemon=True)
        self._thread.start()

    def __call__(self, system: str, entity_name: str, m: int, table: pa.Table) -> None:
        """Queue one batch (blocks while the queue is full); rows are counted at once."""
        self._raise()
        key = f"{system}/{entity_name}"
        self.summary.rows[key] = self.summary.rows.get(key, 0) + table.num_rows
        self._queue.put((system, entity_name, m, table))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain after a failure
            try:
                self._write(*item)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the generating thread
                self._error = exc

    def _write(self, system: str, entity_name: str, m: int, table: pa.Table) -> None:
        with BatchWriter(
            self.root,
            system,
            entity_name,
            self.cal.months[m],
            fmt=self.fmt,
            extracted_at=self.cal.extracted_at(m),
        ) as w:
            w.write_table(table)
        self.summary.files += len(w.files)

    def _raise(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"writing the landing folder failed: {self._error}") from self._error

    def abandon(self) -> None:
        """Stop after a failure in the generating thread: discard what is queued."""
        self._error = self._error or RuntimeError("generation failed")
        self._queue.put(None)
        self._thread.join()

    def close(self) -> None:
        """Wait until everything queued is written; raise the writer's error, if any."""
        self._queue.put(None)
        self._thread.join()
        self._raise()
