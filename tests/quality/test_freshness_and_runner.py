"""Freshness, the GX runner's outcomes (data failed vs validation raised), Data Docs, batch scopes."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from quality import check_results, gx_runner, suites
from quality.base import CheckDef
from quality.freshness import freshness_body, landing_months
from quality.warehouse import BatchScope
from tests.quality.conftest import meta

# --- freshness ------------------------------------------------------------------------------------


def test_an_entity_with_the_newest_month_is_fresh(wh):
    for month in ("2026-01", "2026-02"):
        wh.landing_batch("erp", "sales_lines", month)
        wh.load_batch("erp", "sales_lines", month, read=10, quarantined=0)
    wh.landing_batch("erp", "customers", "2026-02")
    result = freshness_body("erp", "sales_lines")(wh.env())
    assert result.passed
    assert meta(result, "newest_landing_month") == "2026-02"
    assert meta(result, "newest_month_load_status") == "LOADED"


def test_an_entity_behind_the_newest_month_is_reported(wh):
    wh.landing_batch("erp", "sales_lines", "2026-01")
    wh.landing_batch("erp", "customers", "2026-03")
    wh.landing_batch("erp", "customers", "not-a-month")  # ignored
    result = freshness_body("erp", "sales_lines")(wh.env())
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert meta(result, "months_behind") == 2
    assert meta(result, "entity_newest_month") == "2026-01"
    assert result.description == (
        "data failed: erp/sales_lines has no batch for 2026-03, the newest month in the "
        "landing folder; its newest is 2026-01 (2 months behind)"
    )
    assert meta(result, "expected_folder").endswith("landing/erp/sales_lines/2026-03")

    result = freshness_body("psa", "tickets")(wh.env())
    assert not result.passed
    assert result.description.endswith("it has no batch at all")


def test_a_refused_newest_batch_is_reported(wh):
    wh.landing_batch("erp", "sales_lines", "2026-02")
    wh.load_batch("erp", "sales_lines", "2026-02", read=0, quarantined=0, status="REFUSED")
    result = freshness_body("erp", "sales_lines")(wh.env())
    assert not result.passed
    assert "not loaded (REFUSED)" in result.description


def test_an_empty_landing_folder_has_nothing_to_report(wh):
    assert freshness_body("erp", "sales_lines")(wh.env()).passed
    assert landing_months(wh.landing)[("erp", "sales_lines")] == []


# --- data failed vs validation raised -------------------------------------------------------------


def test_validation_raised_is_told_apart_from_data_failed():
    spec = suites.cost_pool_suite(1.0)  # blocking
    frame = pd.DataFrame(
        {"month": ["2026-01-31"], "line_item": ["COST_POOL:X"], "status": ["OK"]}
    )  # no difference
    ev = gx_runner.run_suite(spec, frame)
    assert ev.outcome == "validation raised"
    assert ev.severity == "ERROR"  # a blocking check that cannot tell still blocks
    result = check_results.check_result(ev)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    errors = meta(result, "errors")
    assert errors == [
        {
            "rule": "difference.tolerance",
            "expectation": "ExpectColumnValuesToBeBetween",
            "error": 'Error: The column "difference" in BatchData does not exist.',
        }
    ]
    assert result.description.startswith("validation raised: the validation raised (difference.tolerance)")

    spec = suites.ledger_suite()  # non-blocking: a broken check warns
    ev = gx_runner.run_suite(spec, pd.DataFrame({"month": ["2026-01-31"], "line_item": ["REVENUE"]}))
    assert (ev.outcome, ev.severity) == ("validation raised", "WARN")


def test_data_failed_carries_counts_and_rows():
    spec = suites.ledger_suite()
    frame = pd.DataFrame(
        {
            "month": ["2026-01-31", "2026-02-28"],
            "line_item": ["REVENUE", "COGS"],
            "status": ["OK", "DIFFERENCE"],
        }
    )
    ev = gx_runner.run_suite(spec, frame)
    assert ev.outcome == "data failed"
    [failure] = ev.failures
    assert (failure.rows, failure.unexpected_count, failure.element_count) == ([1], 1, 2)


def test_a_check_whose_own_code_raises_reports_it():
    def broken(env):
        raise RuntimeError("boom")

    for severities, severity in (
        (frozenset({"WARN", "ERROR"}), dg.AssetCheckSeverity.ERROR),
        (frozenset({"WARN"}), dg.AssetCheckSeverity.WARN),
    ):
        check = CheckDef(dg.AssetKey(["x"]), "c", "", severities, broken)
        result = check.run(None)
        assert not result.passed and result.severity == severity
        assert meta(result, "outcome") == "check raised"
        assert meta(result, "error") == "RuntimeError: boom"
        assert "check_seconds" in result.metadata


@pytest.mark.data_docs
def test_data_docs_are_written_under_out_quality(tmp_path):
    spec = suites.ledger_suite()
    frame = pd.DataFrame({"month": ["2026-01-31"], "line_item": ["REVENUE"], "status": ["DIFFERENCE"]})
    result = check_results.check_result(gx_runner.run_suite(spec, frame, tmp_path), out=tmp_path)
    docs = tmp_path / "quality" / "data_docs"
    assert meta(result, "data_docs") == str(docs / "index.html")
    assert (docs / "index.html").is_file()
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) == 1 and "marts/margin_reconciliation/ledger_differences" in pages[0].as_posix()
    assert (docs / "expectations" / "marts" / "margin_reconciliation" / "ledger_differences.html").is_file()


def test_md_table_formats_dates_and_whole_numbers():
    df = pd.DataFrame(
        {"month": pd.to_datetime(["2026-01-31"]), "amount": [12.0], "rate": [1.25], "x": [None]}
    )
    assert (
        check_results.md_table(df)
        == "| month | amount | rate | x |\n|---|---|---|---|\n| 2026-01-31 | 12 | 1.25 |  |"
    )


# --- batch scope ----------------------------------------------------------------------------------


def test_batch_scope_from_run_tags():
    assert BatchScope.from_tags({"dagster/partition": "2026-03"}) == BatchScope("2026-03", "2026-03")
    scope = BatchScope.from_tags(
        {"dagster/asset_partition_range_start": "2025-01", "dagster/asset_partition_range_end": "2026-03"}
    )
    assert scope.where() == "_batch BETWEEN '2025-01' AND '2026-03'"
    assert scope.describe() == "2025-01..2026-03"
    assert BatchScope.from_tags({}).where() == "TRUE"
    assert BatchScope.from_tags({"dagster/partition": "x'; DROP"}) == BatchScope()
    with pytest.raises(ValueError):
        BatchScope("2026-13", "2026-13")
