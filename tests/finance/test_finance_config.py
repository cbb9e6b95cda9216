"""The configuration drives the SQL: time-driven mode and changed weights change the numbers as the
methodology says, and a missing exchange rate blocks the marts. Same fixture as
test_finance_marts.py (whose comments derive the default numbers); only the changes are shown here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.finance.fixture import BATCHES
from tests.support.warehouse import (
    FINANCE_SELECTION,
    Batch,
    build_fixture_warehouse,
    load_raw,
    query,
    run_dbt,
    write_config,
)

JAN, FEB = date(2026, 1, 31), date(2026, 2, 28)
UN = "UNASSIGNED"
# The data tests run on every variant; the dbt unit tests do not depend on the fixture and run once,
# in test_finance_marts.py's build.
VARIANT_BUILD = ("build", *FINANCE_SELECTION, "--exclude-resource-type", "unit_test")


def cts(warehouse, activity):
    rows = query(warehouse, "SELECT * FROM marts.fct_cost_to_serve_monthly WHERE activity = ?", (activity,))
    return {(r["month"], r["customer_no"]): (r["rate"], r["cost"]) for r in rows}


RECON = ("pipeline_amount", "unassigned_amount", "unallocated_amount", "unused_capacity_amount", "gl_amount",
         "difference", "status")


def recon(warehouse, line_item):
    rows = query(warehouse, "SELECT * FROM marts.margin_reconciliation WHERE line_item = ?", (line_item,))
    return {r["month"]: r for r in rows}


def profit(warehouse, month, customer_no):
    return query(warehouse, "SELECT * FROM marts.fct_customer_profit_monthly "
                            "WHERE month = ? AND customer_no = ?", (month, customer_no))[0]


# ---------------------------------------------------------------------------------------------
# Time-driven mode: practical capacity 8 units a month for SUPPORT_DESK and CREDIT_COLLECTIONS
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def time_driven(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("time_driven")
    config = write_config(tmp / "strata.yml", **{
        "cost_to_serve.practical_capacity": {"SUPPORT_DESK": 8, "CREDIT_COLLECTIONS": 8}})
    return build_fixture_warehouse(BATCHES, tmp, config, VARIANT_BUILD)


def test_time_driven_rate_is_gl_over_capacity_and_the_rest_is_unused(time_driven):
    d = Decimal
    # SUPPORT_DESK January: rate 50 / 8 = 6.25 (not 50 / 5 h = 10):
    #   C100 1.5 h × 6.25 = 9.375 -> 9.38, C200 3.0 × 6.25 = 18.75, UNASSIGNED 0.5 × 6.25 = 3.125 -> 3.13
    # February: 40 / 8 = 5: C300 2.0 h × 5 = 10.00
    assert cts(time_driven, "SUPPORT_DESK") == {
        (JAN, "C100"): (6.25, d("9.38")), (JAN, "C200"): (6.25, d("18.75")), (JAN, UN): (6.25, d("3.13")),
        (FEB, "C300"): (5.0, d("10.00")),
    }
    sd = recon(time_driven, "COST_POOL:SUPPORT_DESK")
    # January: charged 9.375 + 18.75 + 3.125 = 31.25, unused 50 - 31.25 = 18.75; February 40 - 10 = 30
    assert tuple(sd[JAN][c] for c in RECON) == \
        (d("50.00"), d("3.13"), d("0.00"), d("18.75"), d("50.00"), d("0.00"), "OK")
    assert (sd[FEB]["pipeline_amount"], sd[FEB]["unused_capacity_amount"], sd[FEB]["status"]) == \
        (d("40.00"), d("30.00"), "OK")


def test_time_driven_over_capacity_gives_negative_unused_capacity(time_driven):
    d = Decimal
    # CREDIT_COLLECTIONS January: 9 units > capacity 8; rate 60 / 8 = 7.5: C100 6 × 7.5 = 45.00,
    # C200, C300, UNASSIGNED 7.50; charged 67.50, unused 60 - 67.50 = -7.50.
    # February: 13 units, rate 33 / 8 = 4.125: C100 and C300 4.125 -> 4.13, C200 6 × 4.125 = 24.75,
    # UNASSIGNED 5 × 4.125 = 20.625 -> 20.63; charged 53.625, unused 33 - 53.625 = -20.625 -> -20.63
    assert cts(time_driven, "CREDIT_COLLECTIONS") == {
        (JAN, "C100"): (7.5, d("45.00")), (JAN, "C200"): (7.5, d("7.50")), (JAN, "C300"): (7.5, d("7.50")),
        (JAN, UN): (7.5, d("7.50")),
        (FEB, "C100"): (4.125, d("4.13")), (FEB, "C200"): (4.125, d("24.75")),
        (FEB, "C300"): (4.125, d("4.13")), (FEB, UN): (4.125, d("20.63")),
    }
    cc = recon(time_driven, "COST_POOL:CREDIT_COLLECTIONS")
    assert (cc[JAN]["pipeline_amount"], cc[JAN]["unassigned_amount"], cc[JAN]["unused_capacity_amount"],
            cc[JAN]["status"]) == (d("60.00"), d("7.50"), d("-7.50"), "OK")
    assert (cc[FEB]["pipeline_amount"], cc[FEB]["unassigned_amount"], cc[FEB]["unused_capacity_amount"],
            cc[FEB]["status"]) == (d("33.00"), d("20.63"), d("-20.63"), "OK")


def test_time_driven_mode_leaves_other_pools_and_flows_into_profit(time_driven):
    d = Decimal
    assert cts(time_driven, "ORDER_ENTRY")[(JAN, "C100")] == (40.0, d("80.00"))   # unchanged: 100 / 2.5
    row = profit(time_driven, JAN, "C100")
    # cost_to_serve 80 + 33.333333 + 25 + 150 + 9.375 + 45 + 15 + 5.665753 = 363.374087 -> 363.37
    # contribution 251.115 - 363.374087 = -112.259087 -> -112.26
    assert (row["cts_support_desk"], row["cts_credit_collections"], row["cost_to_serve"],
            row["contribution_margin"]) == (d("9.38"), d("45.00"), d("363.37"), d("-112.26"))


# ---------------------------------------------------------------------------------------------
# Changed weights: late payment weight 10, PORTAL weight 0.5, carrying rate 10 %, tolerance 0.25
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reweighted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reweighted")
    config = write_config(tmp / "strata.yml", **{
        "cost_to_serve.late_payment_weight": 10,
        "cost_to_serve.order_entry_channel_weights.PORTAL": 0.5,
        "cost_to_serve.receivables_annual_rate": "0.10",
        "reconciliation.tolerance_lcy": "0.25",
    })
    return build_fixture_warehouse(BATCHES, tmp, config, VARIANT_BUILD)


def test_late_payment_weight_changes_credit_collections(reweighted):
    d = Decimal
    # January units: C100 1 invoice + 10 × 1 late = 11, C200 1, C300 1, UNASSIGNED 1 -> 14; rate 60/14:
    #   C100 660 / 14 = 47.142857 -> 47.14; the others 60 / 14 = 4.285714 -> 4.29
    # February: C100 1, C200 1 + 10 = 11, C300 1, UNASSIGNED 10 -> 23; rate 33 / 23:
    #   C100, C300 1.434783 -> 1.43; C200 363 / 23 = 15.782609 -> 15.78;
    #   UNASSIGNED 330 / 23 = 14.347826 -> 14.35
    got = {k: c for k, (_, c) in cts(reweighted, "CREDIT_COLLECTIONS").items()}
    assert got == {
        (JAN, "C100"): d("47.14"), (JAN, "C200"): d("4.29"), (JAN, "C300"): d("4.29"), (JAN, UN): d("4.29"),
        (FEB, "C100"): d("1.43"), (FEB, "C200"): d("15.78"), (FEB, "C300"): d("1.43"), (FEB, UN): d("14.35"),
    }


def test_channel_weight_changes_order_entry(reweighted):
    d = Decimal
    # January units: C100 2.0, C200 PORTAL 0.5 (was 0.3), C300 0.1, UNASSIGNED 0.1 -> 2.7; rate 100 / 2.7:
    #   C100 200 / 2.7 = 74.074074 -> 74.07; C200 50 / 2.7 = 18.518519 -> 18.52;
    #   C300, UNASSIGNED 10 / 2.7 = 3.703704 -> 3.70
    got = {k: c for k, (_, c) in cts(reweighted, "ORDER_ENTRY").items() if k[0] == JAN}
    assert got == {(JAN, "C100"): d("74.07"), (JAN, "C200"): d("18.52"), (JAN, "C300"): d("3.70"),
                   (JAN, UN): d("3.70")}


def test_carrying_rate_and_tolerance_change(reweighted):
    d = Decimal
    # at 10 %: C100 Jan 1292.50 × 20 × 0.10 / 365 = 7.082192 -> 7.08; Feb C100 1200/365 = 3.287671 -> 3.29,
    # C200 1300/365 = 3.561644 -> 3.56, C300 2600/365 = 7.123288 -> 7.12,
    # UNASSIGNED (50 × 16 + 73 × 9) × 0.10 / 365 = 145.7 / 365 = 0.399178 -> 0.40
    got = {k: c for k, (_, c) in cts(reweighted, "RECEIVABLES_CARRYING").items()}
    assert got == {(JAN, "C100"): d("7.08"), (FEB, "C100"): d("3.29"), (FEB, "C200"): d("3.56"),
                   (FEB, "C300"): d("7.12"), (FEB, UN): d("0.40")}
    # February services: 100.00 against the GL's 100.50; |-0.50| > 0.25 now
    services = recon(reweighted, "SERVICES_COST")[FEB]
    assert (services["difference"], services["status"]) == (d("-0.50"), "DIFFERENCE")


# ---------------------------------------------------------------------------------------------
# A missing exchange rate blocks the month
# ---------------------------------------------------------------------------------------------
def test_a_missing_rate_fails_the_build_and_names_the_month(tmp_path):
    batches = [b for b in BATCHES if not (b.entity == "fx_rates" and b.month == "2026-02")]
    batches.append(Batch("erp", "fx_rates", "2026-02", [
        {"period_end": FEB, "currency": "EUR", "rate_to_lcy": Decimal("1.20")}]))   # GBP missing
    warehouse = tmp_path / "warehouse.duckdb"
    load_raw(warehouse, batches)
    result = run_dbt(warehouse, VARIANT_BUILD, work=tmp_path)
    assert result.returncode != 0
    assert "strata_expect_no_rows_int_fx_missing_rates" in result.stdout
    # INV-6 and CM-3 (sales lines) and P-3 (payment) are GBP in February
    assert query(warehouse, "SELECT month, currency, entity, rows_without_rate FROM "
                            "intermediate.int_fx_missing_rates ORDER BY entity") == [
        {"month": FEB, "currency": "GBP", "entity": "erp/payments", "rows_without_rate": 1},
        {"month": FEB, "currency": "GBP", "entity": "erp/sales_lines", "rows_without_rate": 2},
    ]
    # the marts were not built over the gap
    assert query(warehouse, "SELECT count(*) AS n FROM information_schema.tables "
                            "WHERE table_schema = 'marts'") == [{"n": 0}]
