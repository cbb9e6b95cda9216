"""One chain of runs that loads the sample's months out of order, shared by the tests of `--months`
(tests/orchestration/test_cli.py) and of determinism (tests/reliability/test_determinism.py).

Both need real runs that load some months and not others: one chain serves both. On a copy of
`sample_landing`, in a fresh output folder:
1. `strata materialize --months` (a real process, its output a pipe) loads every month but one in
   the middle (the gap): two stretches of months, so two runs, the first loading batches only;
2. `materialize(months=[gap])` then loads the gap, late: a month older than the newest ones already
   built; the published tables must then equal the clean run's (`sample_run`).

The late part is the gap alone, one run: a late part that also held months before the CLI's would
be two stretches, so two runs (the first loading batches only) for the same check.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class OutOfOrder:
    out: Path
    cli_months: list[str]  # what `--months` asked for: every month but the gap
    gap: str  # the month `--months` left out, in the middle
    cli_returncode: int
    cli_stdout: str
    cli_stderr: str
    cli_loaded: list[str]  # the batches loaded after the CLI run (audit and raw layer agree)
    late_months: list[str]  # what the later call loaded: the gap
    late_success: bool
    late_failures: list[str]
    late_run_months: list[str]  # the RunReport's months of the second run


def build(landing_root: Path, work: Path) -> OutOfOrder:
    import duckdb

    from orchestration.runner import materialize

    landing = work / "landing"
    shutil.copytree(landing_root, landing)
    out = work / "out"
    months = sorted({p.name for p in landing.glob("*/*/*") if p.is_dir()})
    middle = len(months) // 2
    gap = months[middle]
    asked = [m for m in months if m != gap]
    option = f"{months[0]}..{months[middle - 1]},{months[middle + 1]}..{months[-1]}"
    done = subprocess.run([sys.executable, "-m", "orchestration.cli", "materialize", "--landing", str(landing),
                           "--out", str(out), "--months", option],
                          cwd=REPO, capture_output=True, text=True, timeout=1800)
    loaded: list[str] = []
    if done.returncode == 0:
        with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
            audit = con.execute("SELECT DISTINCT batch FROM audit.load_batches WHERE status = 'LOADED' "
                                "ORDER BY batch").fetchall()
            raw = con.execute("SELECT DISTINCT _batch FROM raw.erp__sales_lines ORDER BY 1").fetchall()
        loaded = [b for (b,) in audit] if audit == raw else ["audit and raw differ", str(audit), str(raw)]
    late = [gap]
    report = materialize(landing, out, months=late) if done.returncode == 0 else None
    return OutOfOrder(
        out=out, cli_months=asked, gap=gap, cli_returncode=done.returncode, cli_stdout=done.stdout,
        cli_stderr=done.stderr, cli_loaded=loaded, late_months=late,
        late_success=bool(report and report.success), late_failures=list(report.failures) if report else [],
        late_run_months=list(report.months) if report else [],
    )
