"""The mart checks on hand-made marts: each passes on good data and fails on planted bad data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dagster as dg
import pytest

from quality import mart_checks
from tests.quality.conftest import failed_rules, meta

D = Decimal
JAN, FEB, MAR = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)


def recon(month, item, pipeline, gl, status, unallocated=None):
    diff = None if pipeline is None else D(pipeline) - D(gl)
    return {
        "month": month,
        "line_item": item,
        "pipeline_amount": None if pipeline is None else D(pipeline),
        "unassigned_amount": D("0"),
        "unallocated_amount": unallocated,
        "gl_amount": D(gl),
        "difference": diff,
        "status": status,
    }


GOOD_RECON = [
    recon(JAN, "REVENUE", "1000.00", "1000.00", "OK"),
    recon(JAN, "COGS", "700.00", "700.50", "OK"),
    recon(JAN, "COST_POOL:WAREHOUSE", "120.00", "120.00", "OK", unallocated=D("0")),
    recon(JAN, "COST_POOL:RETURNS", "30.00", "30.00", "OK", unallocated=D("30.00")),
    recon(JAN, "OTHER", None, "55.00", "NOT_RECONCILED"),
]


# --- margin_reconciliation ------------------------------------------------------------------------


def test_cost_pools_pass_when_every_pool_is_ok(wh):
    wh.mart("margin_reconciliation", GOOD_RECON)
    result = mart_checks.cost_pools_body(wh.env())
    assert result.passed
    assert meta(result, "rows_checked") == 2


def test_a_cost_pool_not_ok_blocks_with_month_and_amounts(wh):
    wh.mart(
        "margin_reconciliation",
        [*GOOD_RECON, recon(FEB, "COST_POOL:SUPPORT_DESK", "80.00", "95.00", "DIFFERENCE")],
    )
    result = mart_checks.cost_pools_body(wh.env())
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert failed_rules(result) == ["status.ok", "difference.tolerance"]
    assert meta(result, "failed_expectations")[0]["failing"] == ["2026-02-28 COST_POOL:SUPPORT_DESK"]
    assert "| 2026-02-28 | COST_POOL:SUPPORT_DESK | 80 | 0 |  |  | 95 | -15 | DIFFERENCE |" in meta(
        result, "examples/status.ok"
    )


def test_a_cost_pool_beyond_tolerance_blocks_even_if_marked_ok(wh):
    wh.mart(
        "margin_reconciliation",
        [
            recon(JAN, "COST_POOL:WAREHOUSE", "120.00", "121.01", "OK"),
            recon(FEB, "COST_POOL:WAREHOUSE", "120.00", "121.00", "OK"),
            recon(MAR, "COST_POOL:WAREHOUSE", "120.00", "120.00", None),
        ],
    )
    result = mart_checks.cost_pools_body(wh.env())
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert failed_rules(result) == ["status.not_null", "difference.tolerance"]
    by_rule = {f["rule"]: f for f in meta(result, "failed_expectations")}
    assert by_rule["difference.tolerance"]["failing"] == ["2026-01-31 COST_POOL:WAREHOUSE"]  # -1.00 is within
    assert by_rule["status.not_null"]["failing"] == ["2026-03-31 COST_POOL:WAREHOUSE"]


def test_ledger_differences_warn_with_month_and_amounts(wh):
    wh.mart("margin_reconciliation", GOOD_RECON)
    assert mart_checks.ledger_body(wh.env()).passed
    wh.mart(
        "margin_reconciliation",
        [
            recon(FEB, "REVENUE", "990.00", "1000.00", "DIFFERENCE"),
            recon(FEB, "COST_POOL:WAREHOUSE", "1.00", "9.00", "DIFFERENCE"),
        ],
    )
    result = mart_checks.ledger_body(wh.env())
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert meta(result, "failed_expectations")[0]["failing"] == ["2026-02-28 REVENUE"]
    assert "| 2026-02-28 | REVENUE | 990 | 0 |  |  | 1000 | -10 | DIFFERENCE |" in meta(
        result, "examples/status.ok"
    )
    assert result.description == (
        "data failed: revenue, COGS, rebates, services and freight agree with the "
        "ledger: 1 rows in 2026-02-28 REVENUE"
    )


def test_missing_mart_is_reported_clearly(wh):
    for body, table in [
        (mart_checks.cost_pools_body, "margin_reconciliation"),
        (mart_checks.segments_body, "customer_segments"),
        (mart_checks.kpis_body, "segment_kpis"),
        (mart_checks.mom_body, "fct_customer_profit_monthly"),
    ]:
        result = body(wh.env())
        assert not result.passed
        assert result.severity == dg.AssetCheckSeverity.WARN
        assert meta(result, "outcome") == "table missing"
        assert meta(result, "missing") == f"marts.{table}"
        assert "has not been built" in result.description


# --- missing exchange rates -----------------------------------------------------------------------


def test_fx_missing_from_the_finance_model(wh):
    wh.sql(
        "CREATE TABLE intermediate.int_fx_missing_rates (month DATE, currency VARCHAR, entity VARCHAR, "
        "rows_without_rate BIGINT)"
    )
    result = mart_checks.fx_complete_body(wh.env())
    assert result.passed
    assert meta(result, "source").startswith("intermediate.int_fx_missing_rates")
    wh.sql(
        "INSERT INTO intermediate.int_fx_missing_rates VALUES ('2026-02-28', 'EUR', 'erp/sales_lines', 12)"
    )
    result = mart_checks.fx_complete_body(wh.env())
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert meta(result, "failed_expectations")[0]["failing"] == ["2026-02-28 EUR"]
    assert "| 2026-02-28 | EUR | erp/sales_lines | 12 |  |" in meta(result, "examples/rate.present")


def test_fx_missing_model_absent_is_reported_not_rederived(wh):
    # which pairs lack a rate is int_fx_missing_rates' rule (its dbt unit test covers the months);
    # without the model the check says so instead of re-deriving the pairs from the raw layer
    result = mart_checks.fx_complete_body(wh.env())
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert meta(result, "missing") == "intermediate.int_fx_missing_rates"


# --- month over month -----------------------------------------------------------------------------


def _customers(wh):
    # the customers' groups as the dbt model int_customers holds them (newest snapshot)
    wh.sql(
        "CREATE TABLE intermediate.int_customers AS SELECT * FROM (VALUES "
        "('C1', 'VAR'), ('C2', 'VAR'), ('C3', 'MSP')) t(customer_no, customer_group)"
    )


def _profit(month, customer, revenue, cts):
    return {
        "month": month,
        "customer_no": customer,
        "net_revenue": D(revenue),
        "cost_to_serve": D(cts),
        "contribution_margin": D(revenue) - D(cts),
    }


def test_month_over_month_steady_groups_pass(wh):
    _customers(wh)
    wh.mart(
        "fct_customer_profit_monthly",
        [
            _profit(JAN, "C1", "50000", "5000"),
            _profit(JAN, "C2", "50000", "5000"),
            _profit(JAN, "C3", "30000", "100"),
            _profit(FEB, "C1", "60000", "6000"),
            _profit(FEB, "C2", "40000", "4000"),
            _profit(FEB, "C3", "35000", "900"),
        ],
    )
    result = mart_checks.mom_body(wh.env())
    assert result.passed  # MSP cost-to-serve ×9 but from 100 LCY: below the base, not compared
    assert meta(result, "comparisons") == 4


def test_month_over_month_jump_warns(wh):
    _customers(wh)
    wh.mart(
        "fct_customer_profit_monthly",
        [
            _profit(JAN, "C1", "50000", "5000"),
            _profit(FEB, "C1", "250000", "5000"),
            _profit(MAR, "UNASSIGNED", "20000", "0"),
        ],
    )
    result = mart_checks.mom_body(wh.env())
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    # VAR revenue ×5 in February, then to 0 in March
    assert meta(result, "failed_expectations")[0]["failing"] == [
        "2026-02-28 VAR net_revenue",
        "2026-03-31 VAR net_revenue",
    ]
    examples = meta(result, "examples/ratio.factor")
    assert "| 2026-02-28 | VAR | net_revenue | 50000 | 250000 | 5 |" in examples
    assert "| 2026-03-31 | VAR | net_revenue | 250000 | 0 | 0 |" in examples


# --- customer_segments ----------------------------------------------------------------------------

SEGMENT = {
    "stratum": "CORE",
    "profitability_quadrant": "NURTURE_AND_RETAIN",
    "revenue_tier": "HIGH",
    "maturity_tier": "ADVANCED",
    "maturity_segment": "EDUCATE",
    "needs_group": "UNKNOWN",
}


def _segments_setup(wh, customers=("C1", "C2")):
    # the active customers at 2026-03 as int_segment_customer_t12m lists them (C1 and C2; C3 with
    # negative T12M net revenue, C4 outside W(M) and UNASSIGNED are not there)
    wh.sql(
        "CREATE TABLE intermediate.int_segment_customer_t12m AS SELECT * FROM (VALUES "
        "(DATE '2026-03-31', 'C1', 100.00), (DATE '2026-03-31', 'C2', 5.00)) "
        "t(month, customer_no, net_revenue_t12m)"
    )
    wh.mart("customer_segments", [{"month": MAR, "customer_no": c, **SEGMENT} for c in customers])


def test_segments_pass_for_exactly_the_active_customers(wh):
    _segments_setup(wh)
    result = mart_checks.segments_body(wh.env())
    assert result.passed, result.description
    assert meta(result, "rows_checked") == 2
    assert meta(result, "active_customers_from") == "intermediate.int_segment_customer_t12m"


def test_segments_without_the_active_model_are_reported(wh):
    wh.mart("customer_segments", [{"month": MAR, "customer_no": "C1", **SEGMENT}])
    result = mart_checks.segments_body(wh.env())
    assert not result.passed and meta(result, "missing") == "intermediate.int_segment_customer_t12m"


@pytest.mark.parametrize(
    ("extra", "customers", "rule", "example"),
    [
        ([{"customer_no": "C1", **SEGMENT}], ("C1", "C2"), "duplicate_rows.zero", "| 2026-03-31 | C1 | 2 |"),
        (
            [{"customer_no": "UNASSIGNED", **SEGMENT}],
            ("C1", "C2"),
            "unassigned_rows.zero",
            "| 2026-03-31 | UNASSIGNED | CORE | HIGH |",
        ),
        ([], ("C1",), "active_not_segmented.zero", "| 2026-03-31 | C2 | 5 |"),
        (
            [{"customer_no": "C3", **SEGMENT, "net_revenue_t12m": D("-5")}],
            ("C1", "C2"),
            "segmented_not_active.zero",
            "| 2026-03-31 | C3 | -5 |",
        ),
        (
            [{"customer_no": "C4", **SEGMENT}],
            ("C1", "C2"),
            "segmented_not_active.zero",
            "| 2026-03-31 | C4 |  |",
        ),
        (
            [{"customer_no": "C9", **SEGMENT, "stratum": None}],
            ("C1", "C2"),
            "stratum.one_valid_segment",
            "| 2026-03-31 | C9 |  |",
        ),
        (
            [{"customer_no": "C9", **SEGMENT, "needs_group": "GREEDY"}],
            ("C1", "C2"),
            "needs_group.one_valid_segment",
            "| 2026-03-31 | C9 | GREEDY |",
        ),
    ],
)
def test_segment_failures_block(wh, extra, customers, rule, example):
    _segments_setup(wh, customers)
    wh.mart("customer_segments", [{"month": MAR, **row} for row in extra])
    result = mart_checks.segments_body(wh.env())
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert rule in failed_rules(result)
    assert example in meta(result, f"examples/{rule}")


# --- segment_kpis ---------------------------------------------------------------------------------


def _kpi(segment, **values):
    row = {
        "month": MAR,
        "segmentation": "stratum",
        "segment": segment,
        "customers": 3,
        "net_revenue": D("100"),
        "aov": D("10"),
        "retention_rate": 0.9,
        "upsell_cross_sell_rate": 0.2,
        "migration_up_rate": None,
        "migration_down_rate": None,
        "changed_rate": 0.1,
        "contribution_margin_pct": -0.4,
    }
    return {**row, **values}


def test_kpis_in_range_pass(wh):
    wh.mart(
        "segment_kpis",
        [
            _kpi("CORE"),
            _kpi("MARGINAL", customers=0, net_revenue=D("0"), aov=None),
            _kpi("ALL", retention_rate=1.0, changed_rate=None),
        ],
    )
    result = mart_checks.kpis_body(wh.env())
    assert result.passed
    assert meta(result, "rows_checked") == 3


def test_kpis_out_of_range_block(wh):
    wh.mart(
        "segment_kpis",
        [
            _kpi("CORE", retention_rate=1.2),
            _kpi("MARGINAL", customers=-1),
            _kpi("SERVICE_DRAIN", changed_rate=-0.01),
        ],
    )
    result = mart_checks.kpis_body(wh.env())
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert failed_rules(result) == ["customers.range", "retention_rate.range", "changed_rate.range"]
    assert meta(result, "failed_expectations")[1]["failing"] == ["2026-03-31 stratum CORE"]
    assert "| 2026-03-31 | stratum | CORE | 3 | 100 | 10 | 1.2 |" in meta(
        result, "examples/retention_rate.range"
    )
