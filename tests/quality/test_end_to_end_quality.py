"""The checks in the whole pipeline: `orchestration.runner.materialize` on generated extracts.

A blocking check is planted through the landing folder alone: a batch with a quarter of its sales
lines carrying an order channel outside the contract's enum, which the loader quarantines; the
quarantine share above the block share stops the dbt build and publishing. A few unparseable dates
(a share above the warning share) are a warning: the run publishes. The other warning is the
generator's own planted ledger difference.

Two real runs of their own (the blocked one stops before dbt); the sample's run
(`sample_run`, shared by the session) is the warning test's reference and the third test's run.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _copy(landing: Path, to: Path) -> Path:
    shutil.copytree(landing, to)
    return to


def _sales_lines(landing: Path, month: str) -> list[dict]:
    rows = []
    for part in sorted((landing / "erp" / "sales_lines" / month).glob("part-*.csv")):
        with part.open(encoding="utf-8", newline="") as fh:
            rows += [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(fh)]
    return rows


def _rewrite_sales_lines(landing: Path, month: str, rows: list[dict]) -> None:
    """The month's sales lines replaced by `rows`, with a manifest that matches them."""
    from orchestration.generator.landing import write_batch

    write_batch(landing, "erp", "sales_lines", month, rows)


def _published_marts(out: Path) -> dict[str, pd.DataFrame]:
    """Every published table but the audit tables, sorted by all its columns."""
    from assets.publishing import open_published

    copy = open_published(out)
    frames = {}
    for table in copy.tables:
        if table.startswith("audit_"):
            continue
        frame = duckdb.sql(f"SELECT * FROM read_parquet('{copy.parquet(table)}')").df()
        frames[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return frames


def _plant_bad_channels(landing: Path, month: str, share: float = 0.25) -> int:
    """Rewrite erp/sales_lines/<month> (with its manifest) so `share` of its lines have channel FAX."""
    rows = _sales_lines(landing, month)
    bad = int(len(rows) * share)
    for row in rows[:bad]:
        row["order_channel"] = "FAX"
    _rewrite_sales_lines(landing, month, rows)
    return bad


def test_a_mostly_quarantined_batch_blocks_the_build_and_publishing(tmp_path):
    from orchestration.generator import generate
    from orchestration.runner import materialize, open_instance
    from quality.summary import failed_checks

    # A small folder of its own (10 customers × 3 months): the blocked run stops before dbt.
    landing = tmp_path / "landing"
    month = generate(landing, customers=10, months=3, end_month="2026-10", seed=3).last_month
    bad = _plant_bad_channels(landing, month)
    assert bad > 0
    report = materialize(landing, tmp_path / "out")
    assert not report.success
    assert not any(m.startswith("marts/") or m == "published_marts" for m in report.materialized)
    assert not (tmp_path / "out" / "published").exists()
    checks = failed_checks(open_instance(tmp_path / "out"), report.run_id)
    blocking = [
        line for line in checks.blocking if line.startswith("ERROR erp/sales_lines:quarantine_share (blocking)")
    ]
    assert len(blocking) == 1 and f"batch {month}: {bad:,} of " in blocking[0]


def test_a_few_quarantined_rows_warn_and_the_marts_equal_those_without_them(sample_run, tmp_path):
    """Above the 1 % warning share, below the 10 % block share: the run succeeds, prints the warning
    in the group that says it did not stop anything, and publishes exactly the marts of the same folder
    from which the bad rows were removed (the contract: quarantined rows are set aside, the rest loads).

    The bad rows are added to a copy of the sample's landing folder, so the folder without them is
    the sample's own and its marts are the session's `sample_run`'s: one real run, not two."""
    from click.testing import CliRunner

    from orchestration.cli import cli

    summary, clean_report = sample_run
    month = summary.last_month
    rows = _sales_lines(summary.landing_root, month)
    bad = max(2, len(rows) * 5 // 100)
    total = len(rows) + bad  # the bad rows are about 5 % of the dirty batch
    assert 0.01 < bad / total < 0.10
    dirty = _copy(summary.landing_root, tmp_path / "dirty")
    planted = [dict(r) for r in rows[:bad]]
    for i, (row, date) in enumerate(zip(planted, ["2025-02-30", "14/05/2025", "2025-5-7"] * bad, strict=False)):
        row["document_no"] = f"QUARANTINED-{i}"  # a key of its own: a duplicate key would quarantine the original too
        row["posting_date"] = date  # unparseable: the loader quarantines the row
    _rewrite_sales_lines(dirty, month, rows + planted)  # appended: the sample's rows keep their lines

    result = CliRunner().invoke(cli, ["materialize", "--landing", str(dirty), "--out", str(tmp_path / "dirty_out")])
    printed = result.stdout + result.stderr
    assert result.exit_code == 0, printed
    assert "failed checks, warnings (published anyway):" in printed
    assert "blocking (stopped the run)" not in printed
    assert (
        f"WARN erp/sales_lines:quarantine_share — erp/sales_lines quarantined rows, batch {month}: "
        f"{bad:,} of {total:,} rows" in " ".join(printed.split())
    )
    assert clean_report.success
    dirty_marts = _published_marts(tmp_path / "dirty_out")
    clean_marts = _published_marts(clean_report.warehouse.parent)
    assert sorted(dirty_marts) == sorted(clean_marts) and "fct_customer_profit_monthly" in dirty_marts
    for table, frame in clean_marts.items():
        pd.testing.assert_frame_equal(dirty_marts[table], frame, obj=table)


def test_a_warning_lets_the_sample_run_publish(sample_run):
    from orchestration.runner import open_instance
    from quality.summary import failed_checks

    summary, report = sample_run
    assert report.success
    assert "published_marts" in report.materialized
    checks = failed_checks(open_instance(report.warehouse.parent), report.run_id)
    assert checks.blocking == []
    lines = checks.warnings
    assert not [line for line in lines if line.startswith("ERROR")]
    planted = {p.month for p in summary.planted_differences}
    ledger = [line for line in lines if ":ledger_differences" in line]
    assert len(ledger) == 1 and ledger[0].startswith("WARN marts/margin_reconciliation:ledger_differences")
    assert all(month in ledger[0] for month in planted)
