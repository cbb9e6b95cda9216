"""The progress view of `strata materialize`: plain phase lines when piped, live bars on a terminal."""

from __future__ import annotations

import io
import os
import re

from orchestration.progress_view import ProgressView, months_text
from orchestration.run_events import Phase, RunProgress


def _progress() -> RunProgress:
    return RunProgress(
        run_id="r1", months=["2025-01", "2025-02"], step_phase={},
        phases={"ingestion": Phase("ingestion", 16), "checks": Phase("checks", 3), "dbt": Phase("dbt", 1)},
    )


def test_months_text():
    assert months_text(["2025-01"]) == "1 month (2025-01)"
    assert months_text(["2025-01", "2025-03"]) == "2 months (2025-01 .. 2025-03)"


def test_piped_output_is_one_line_per_completed_phase_and_per_failure():
    out = io.StringIO()  # not a terminal
    view = ProgressView(out)
    progress = _progress()
    progress.phases["ingestion"].started_at = progress.started_at
    progress.phases["ingestion"].done, progress.rows_loaded = 15, 1234
    view.update(progress)
    assert out.getvalue() == ""  # nothing until a phase is complete
    progress.phases["ingestion"].done = 16
    progress.phases["ingestion"].finished_at = progress.started_at + 75
    view.update(progress)
    view.update(progress)  # printed once
    progress.failures.append("dbt_models: dbt build failed")
    progress.phases["dbt"].done, progress.phases["dbt"].failed = 1, 1
    progress.phases["dbt"].started_at = progress.phases["dbt"].finished_at = progress.started_at + 80
    view.update(progress)
    checks = progress.phases["checks"]  # stopped early (a failed run): shown by finish()
    checks.done, checks.started_at = 2, progress.started_at + 10
    checks.last_done_at = checks.started_at + 5
    view.finish(progress)
    view.close()
    assert out.getvalue().splitlines() == [
        "  ingestion   16/16 steps   1:15  1,234 rows  2 months (2025-01 .. 2025-02)",
        "  failed: dbt_models: dbt build failed",
        "  dbt           1/1 steps   0:00  1 failed",
        "  checks        2/3 steps   0:05",
    ]


def test_on_a_terminal_the_phases_are_live_bars():
    master, slave = os.openpty()
    terminal = os.fdopen(slave, "w", encoding="utf-8")
    view = ProgressView(terminal)
    assert view.live
    progress = _progress()
    progress.phases["ingestion"].started_at = progress.started_at
    progress.phases["ingestion"].done, progress.phases["ingestion"].running = 7, "erp__sales_lines"
    view.update(progress)
    view.close()
    terminal.close()
    shown = b""
    while chunk := _read(master):
        shown += chunk
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", errors="replace"))  # colours, cursor
    # The counts never give way: on a narrow terminal only the detail (rows, months, step) is cut.
    assert "ingestion" in text and " 7/16 " in text and "0 rows" in text and "checks" in text and " 0/3 " in text


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal's other end is closed
        return b""
