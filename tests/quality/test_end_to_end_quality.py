"""The checks in the whole pipeline: `orchestration.runner.materialize` on generated extracts.

These run only once `orchestration.definitions.build_definitions` adds `quality.checks.all_checks`
to its Definitions (until then they skip, saying so). A blocking check is planted through the
landing folder alone: a batch with a quarter of its sales lines carrying an order channel outside
the contract's enum, which the loader quarantines; the quarantine share blocks the dbt build and
publishing. The warning is the generator's own planted ledger difference.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pytest

from orchestration.resources import StrataPaths

pytestmark = pytest.mark.slow


@cache
def checks_wired() -> bool:
    from orchestration.definitions import build_definitions

    defs = build_definitions(StrataPaths(landing_dir="landing", out_dir="out"))
    return any(k.name == "quarantine_share" for k in defs.resolve_asset_graph().asset_check_keys)


@pytest.fixture
def wired():
    if not checks_wired():
        pytest.skip("orchestration/definitions.py does not add quality.checks.all_checks(...) yet")


def _plant_bad_channels(landing: Path, month: str, share: float = 0.25) -> int:
    """Rewrite erp/sales_lines/<month> (with its manifest) so `share` of its lines have channel FAX."""
    from orchestration.landing import write_batch

    folder = landing / "erp" / "sales_lines" / month
    rows = []
    for part in sorted(folder.glob("part-*.csv")):
        with part.open(encoding="utf-8", newline="") as fh:
            rows += list(csv.DictReader(fh))
    bad = int(len(rows) * share)
    for row in rows[:bad]:
        row["order_channel"] = "FAX"
    write_batch(
        landing,
        "erp",
        "sales_lines",
        month,
        [{k: (v if v != "" else None) for k, v in r.items()} for r in rows],
    )
    return bad


def test_a_mostly_quarantined_batch_blocks_the_build_and_publishing(wired, tmp_path):
    from orchestration.generator import generate
    from orchestration.runner import materialize, open_instance
    from quality.summary import failed_checks

    summary = generate(tmp_path / "landing", customers=10, months=3, end_month="2026-10", seed=3)
    month = summary.last_month
    bad = _plant_bad_channels(tmp_path / "landing", month)
    assert bad > 0
    report = materialize(tmp_path / "landing", tmp_path / "out")
    assert not report.success
    assert not any(m.startswith("marts/") or m == "published_marts" for m in report.materialized)
    assert not (tmp_path / "out" / "published").exists()
    lines = failed_checks(open_instance(tmp_path / "out"), report.run_id)
    blocking = [
        line for line in lines if line.startswith("ERROR erp/sales_lines:quarantine_share (blocking)")
    ]
    assert len(blocking) == 1 and f"{bad:,} rows in {month}" in blocking[0]


def test_a_warning_lets_the_sample_run_publish(wired, quality_sample_run):
    from orchestration.runner import open_instance
    from quality.summary import failed_checks

    summary, report = quality_sample_run
    assert report.success
    assert "published_marts" in report.materialized
    lines = failed_checks(open_instance(report.warehouse.parent), report.run_id)
    assert not [line for line in lines if line.startswith("ERROR")]
    planted = {p.month for p in summary.planted_differences}
    ledger = [line for line in lines if ":ledger_differences" in line]
    assert len(ledger) == 1 and ledger[0].startswith("WARN marts/margin_reconciliation:ledger_differences")
    assert all(month in ledger[0] for month in planted)
