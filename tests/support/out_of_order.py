"""One chain of runs that loads the sample's months out of order, shared by the tests of `--months`
(tests/orchestration/test_cli.py) and of determinism (tests/reliability/test_determinism.py).

Both need real runs that load some months and not others: one chain serves both. On a copy of
`sample_landing`, in a fresh output folder:
1. `strata materialize --months` (a real process, its output a pipe) loads the newest half of the
   months but one (the gap): two stretches of months, so two runs, the first loading batches only;
2. `materialize(months=...)` then loads what is left, the oldest half and the gap, late and out of
   order; the published tables must then equal the clean run's (`sample_run`).
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
    cli_months: list[str]  # what `--months` asked for: the newest half but the gap
    gap: str  # the month `--months` left out
    cli_returncode: int
    cli_stdout: str
    cli_stderr: str
    cli_loaded: list[str]  # the batches loaded after the CLI run (audit and raw layer agree)
    late_months: list[str]  # what the second run loaded: the oldest half and the gap
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
    half = len(months) // 2
    gap = months[half + 1]
    newest = [m for m in months[half:] if m != gap]
    option = f"{newest[0]},{newest[1]}..{newest[-1]}"
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
    late = sorted([*months[:half], gap])
    report = materialize(landing, out, months=late) if done.returncode == 0 else None
    return OutOfOrder(
        out=out, cli_months=newest, gap=gap, cli_returncode=done.returncode, cli_stdout=done.stdout,
        cli_stderr=done.stderr, cli_loaded=loaded, late_months=late,
        late_success=bool(report and report.success), late_failures=list(report.failures) if report else [],
        late_run_months=list(report.months) if report else [],
    )
