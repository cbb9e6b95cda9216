"""The dbt tests of an incremental build test the months it recomputed (macros/test_scope.sql).

On a real warehouse: a full build, then a sales batch corrected in one closed month (an incremental
plan of a few months). A duplicated staging line, or a staged amount that no longer matches the raw
layer, is reported by the tests of an incremental build when it lies in one of the plan's months,
passed over in a month the plan leaves alone (the last complete build tested it there), and
reported by every test of a full build wherever it lies.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from assets.core.dbt import plan_env
from tests.support.deliveries import Warehouse, correct_closed_month, deliver_month
from tests.support.warehouse import run_dbt

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02"]
STAGED_LINES = "staging.stg_erp__sales_lines"
UNIQUE_LINE = "strata_unique_combination_stg_erp__sales_lines_document_type__document_no__line_no"
RAW_TO_STAGING = "integrity_sales_raw_to_staging"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(warehouse, the incremental plan of a corrected closed month)."""
    from orchestration.generator import generate

    work = tmp_path_factory.mktemp("test_scope")
    source = work / "source"
    generate(source, customers=6, months=len(MONTHS), end_month=MONTHS[-1], seed=3)
    landing = work / "landing"
    for month in MONTHS:
        deliver_month(source, landing, month)
    warehouse = Warehouse(work / "out" / "warehouse.duckdb")
    warehouse.path.parent.mkdir()
    warehouse.load(landing)
    assert warehouse.build().mode == "FULL"
    assert correct_closed_month(landing, pick=3)
    assert warehouse.load(landing) == 1
    plan = warehouse.build()
    assert plan.mode == "INCREMENTAL", plan.reason
    return warehouse, plan


def _test(warehouse: Warehouse, plan, *names: str) -> set[str]:
    """Run the named dbt tests the way a build with `plan` (None: a full build) runs them; the
    names of those that failed (dbt's run_results.json)."""
    result = run_dbt(warehouse.path, ["test", "--select", *names], work=warehouse.path.parent, env=plan_env(plan))
    results = [r for r in json.loads((warehouse.path.parent / "dbt_target" / "run_results.json").read_text())["results"]
               if r["unique_id"].startswith("test.")]
    assert {r["status"] for r in results} <= {"pass", "fail"}, result.stdout[-4000:]
    assert len(results) >= len(names), result.stdout[-4000:]
    return {r["unique_id"].split(".")[2] for r in results if r["status"] == "fail"}


def _plan_month(plan) -> dt.date:
    return min(plan.months("erp__sales_lines"))


def _other_month(warehouse: Warehouse, plan) -> dt.date:
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        months = {m for (m,) in con.execute(f"SELECT DISTINCT last_day(posting_date) FROM {STAGED_LINES}").fetchall()}
    return max(months - set(plan.months("erp__sales_lines")))


def _change(warehouse: Warehouse, sql: str, month: dt.date) -> None:
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute(sql.format(lines=STAGED_LINES), [month])


DUPLICATE = ("INSERT INTO {lines} SELECT * FROM {lines} WHERE last_day(posting_date) = ? "
             "ORDER BY document_no, line_no LIMIT 1")
UNDO_DUPLICATE = ("DELETE FROM {lines} WHERE last_day(posting_date) = ? AND rowid = "
                  "(SELECT max(rowid) FROM {lines})")


# A second delivery of a staged line, put into the raw layer beside it with its amount changed: the
# batch name decides whether it is an older delivery (the staged one stays the newest) or a newer one.
REDELIVERED = ("INSERT INTO raw.erp__sales_lines SELECT * REPLACE (net_amount + 1 AS net_amount, ? AS _batch) "
               "FROM raw.erp__sales_lines WHERE rowid = (SELECT min(rowid) FROM raw.erp__sales_lines)")


def _redeliver(warehouse: Warehouse, batch: str) -> set[str]:
    """The failed tests of RAW_TO_STAGING with a line delivered again in `batch`, staging unchanged."""
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute(REDELIVERED, [batch])
    try:
        return _test(warehouse, None, RAW_TO_STAGING)
    finally:
        with duckdb.connect(str(warehouse.path)) as con:
            con.execute("DELETE FROM raw.erp__sales_lines WHERE _batch = ?", [batch])


def test_raw_to_staging_compares_staging_with_the_newest_delivery_of_each_line(built):
    warehouse, _ = built
    # older than every batch: the staged version is still the newest, and the test passes; a test
    # that summed every raw row would count the line twice
    assert _redeliver(warehouse, "0000-00") == set()
    # newer than every batch: staging keeps an outdated version, and the test fails
    assert _redeliver(warehouse, "9999-99") == {RAW_TO_STAGING}


def test_the_plan_recomputes_some_months_only(built):
    warehouse, plan = built
    assert 0 < len(plan.months("erp__sales_lines")) < len(MONTHS) - 2


def test_the_tests_of_an_incremental_build_pass_on_its_months(built):
    warehouse, plan = built
    assert _test(warehouse, plan, "stg_erp__sales_lines", "int_sales_lines", "fct_customer_profit_monthly",
                 RAW_TO_STAGING, "integrity_sales_staging_to_intermediate",
                 "integrity_profit_intermediate_to_marts") == set()


def test_a_duplicate_outside_the_plan_months_is_left_to_the_full_build(built):
    warehouse, plan = built
    month = _other_month(warehouse, plan)
    _change(warehouse, DUPLICATE, month)
    try:
        assert _test(warehouse, plan, UNIQUE_LINE) == set()
        assert _test(warehouse, None, UNIQUE_LINE) == {UNIQUE_LINE}
    finally:
        _change(warehouse, UNDO_DUPLICATE, month)


def test_a_duplicate_in_a_plan_month_fails_the_incremental_build(built):
    warehouse, plan = built
    month = _plan_month(plan)
    _change(warehouse, DUPLICATE, month)
    try:
        assert _test(warehouse, plan, UNIQUE_LINE, RAW_TO_STAGING) == {UNIQUE_LINE, RAW_TO_STAGING}
    finally:
        _change(warehouse, UNDO_DUPLICATE, month)
    assert _test(warehouse, plan, UNIQUE_LINE, RAW_TO_STAGING) == set()
