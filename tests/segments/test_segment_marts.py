"""The segment marts on the hand-made fixture (fixture.py) with the default configuration.

The whole pipeline runs once for the module (`orchestration.runner.materialize`: the fixture as a
landing folder, ingestion, dbt, checks, publishing) on a temporary folder. Every expected number is
worked out by hand from the fixture rows and methodology §6-12; the arithmetic is in the comments.
Money is compared as Decimal (DECIMAL(18,2)), scores and rates with a 1e-9 tolerance (DOUBLE).

Segment months: sales data starts in 2025-01, so the 12th month is 2025-12; the newest month of
data is 2026-01. W(2025-12) = 2025-01 … 2025-12, W(2026-01) = 2025-02 … 2026-01.
"""

# ruff: noqa: E501  (tables of fixture rows and expected values read best one row per line)

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from assets.core.settings import load_settings
from orchestration.runner import materialize
from tests.segments.fixture import BATCHES
from tests.support.warehouse import columns, query, write_landing

DEC, JAN = date(2025, 12, 31), date(2026, 1, 31)
VERSION = load_settings().version


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The whole pipeline, as `strata materialize` runs it: landing folder -> Dagster (ingestion, dbt
    build with every test, checks, publishing) -> warehouse."""
    tmp = tmp_path_factory.mktemp("segments")
    landing = write_landing(tmp / "landing", BATCHES)
    report = materialize(landing, tmp / "out")
    assert report.success, "\n".join(report.failures)
    return report.warehouse


pytestmark = pytest.mark.slow  # dbt builds a real warehouse (once per module)


def approx(value):
    return pytest.approx(value, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# The published interface: marts.md's columns, in its order, first
# ---------------------------------------------------------------------------------------------
MARTS_COLUMNS = {
    "customer_segments": [
        "month", "customer_no", "customer_name", "customer_group", "net_revenue_t12m", "gross_margin_t12m",
        "cost_to_serve_t12m", "contribution_margin_t12m", "orders_t12m", "product_families_t12m", "topline_score",
        "profitability_score", "stratum", "profitability_quadrant", "revenue_tier", "maturity_score",
        "maturity_tier", "appetite_score", "maturity_segment", "needs_group", "config_version",
    ],
    "segment_kpis": [
        "month", "segmentation", "segment", "customers", "net_revenue", "gross_margin", "cost_to_serve",
        "contribution_margin", "contribution_margin_pct", "aov", "retention_rate", "upsell_cross_sell_rate",
        "migration_up_rate", "migration_down_rate", "changed_rate", "cltv", "aov_yoy_change", "cltv_yoy_change",
    ],
    "segment_transitions": ["month", "segmentation", "from_segment", "to_segment", "customers"],
    "kpi_target_status": ["month", "segmentation", "segment", "kpi", "value", "target_low", "target_high", "status"],
    "account_playbook": [
        "customer_no", "customer_name", "month", "stratum", "maturity_segment", "profitability_quadrant",
        "review_cadence", "key_initiative", "relationship_owner", "last_review_date", "next_review_due",
        "review_overdue",
    ],
}
MONEY = {"net_revenue_t12m", "gross_margin_t12m", "cost_to_serve_t12m", "contribution_margin_t12m", "net_revenue",
         "gross_margin", "cost_to_serve", "contribution_margin", "aov", "cltv"}
DOUBLES = {"topline_score", "profitability_score", "maturity_score", "appetite_score", "contribution_margin_pct",
           "retention_rate", "upsell_cross_sell_rate", "migration_up_rate", "migration_down_rate", "changed_rate",
           "aov_yoy_change", "cltv_yoy_change", "value", "target_low", "target_high"}


@pytest.mark.parametrize("mart", sorted(MARTS_COLUMNS))
def test_mart_columns_follow_marts_md(warehouse, mart):
    cols = columns(warehouse, "marts", mart)
    listed = MARTS_COLUMNS[mart]
    assert [c for c, _ in cols[: len(listed)]] == listed
    types = dict(cols)
    for col in listed:
        if col in MONEY:
            assert types[col] == "DECIMAL(18,2)", col
        elif col in DOUBLES:
            assert types[col] == "DOUBLE", col
        elif col in ("month", "last_review_date", "next_review_due"):
            assert types[col] == "DATE", col


# ---------------------------------------------------------------------------------------------
# customer_segments
# ---------------------------------------------------------------------------------------------
# T12M money (no GL: cost pools unallocated, so cost to serve is C1's net freight 30 - 10 = 20):
#   W(2025-12): C1 nr 1000 + 500 + 500 = 2000, cogs 700 + 200 + 250 = 1150, gm 850, cts 20, cm 830;
#               orders SO-101, SO-102 = 2; families HARDWARE, SOFTWARE, CLOUD = 3
#               C2 nr 800 + 400 = 1200, cogs 850 + 420 = 1270, gm = cm = -70; orders 2; families 2
#               C3 nr 100 + 100 + 100 + 100 - 50 (credit) = 350, cogs 20 + 20 + 60 + 60 - 30 = 130,
#               gm = cm = 220; orders SO-301, SO-302, SO-303 (two invoices, one order) = 3; families 2
#               C4 nr 100, cogs 60, gm = cm = 40; orders 1; families 1
#               UNASSIGNED (CX, 5000) is never segmented.
#   W(2026-01): C1 nr 500 + 500 + 600 = 1600, cogs 200 + 250 + 420 = 870, gm 730, cts 20, cm 710;
#               orders SO-102, SO-103 = 2; families 3. C2 and C3 as before. C4 has nothing: inactive.
#               C5 nr 900, cogs 300, gm = cm = 600; orders 1; families 1.
#
# Percentile ranks at 2025-12 (N = 4, (rank - 1) / 3):
#   net revenue   C4 100: 0, C3 350: 1/3, C2 1200: 2/3, C1 2000: 1
#   orders        C4 1: 0, C1 = C2 = 2: 1/3 (tie, lowest rank), C3 3: 1
#   families      C4 1: 0, C2 = C3 = 2: 1/3, C1 3: 1
#   CM            C2 -70: 0, C4 40: 1/3, C3 220: 2/3, C1 830: 1
#   CM %          C2 -0.0583: 0, C4 0.4: 1/3, C1 0.415: 2/3, C3 0.6286: 1
# top-line = 0.5 nr + 0.3 orders + 0.2 families; profitability = 0.6 CM + 0.4 CM %:
#   C1 0.5 + 0.1 + 0.2 = 0.8 (high); 0.6 + 0.4 * 2/3 = 0.8667 (high)   -> CORE
#   C2 1/3 + 0.1 + 0.2/3 = 0.5 (low);  0 (low)                         -> MARGINAL
#   C3 0.5/3 + 0.3 + 0.2/3 = 0.5333;   0.4 + 0.4 = 0.8 (high, CM > 0)  -> OPPORTUNISTIC
#   C4 0;                              0.6/3 + 0.4/3 = 1/3              -> MARGINAL
# Quadrant: portfolio CM % = (830 - 70 + 220 + 40) / 3650 = 0.2795; revenue high from percentile 0.5:
#   C1 (1, 0.415) NURTURE_AND_RETAIN; C2 (2/3, -0.058) OPTIMIZE_AND_MOVE_RIGHT;
#   C3 (1/3, 0.629) and C4 (0, 0.4) GROW_AND_MOVE_UP
# Revenue tier (total 3650): share before C1 0, C2 2000/3650 = 0.548 -> HIGH; C3 3200/3650 = 0.877
#   -> MEDIUM; C4 3550/3650 = 0.973 -> LOW
#
# Maturity at 2025-12 (weights 0.25 / 0.20 / 0.20 / 0.15 / 0.20, renormalised over what exists):
#   C1 survey R-1 (2025-10-15; R-0's SOLUTION_COMPLEXITY is older and never consulted):
#        technical_capability = 100 * (4.5 - 1) / 4 = 87.5
#        digital_adoption = mean(survey 100 * (3 - 1) / 4 = 50, 3 of 3 lines EDI/PORTAL = 100) = 75
#        solution_complexity = mean(complex revenue (500 + 500) / 2000 = 50, breadth (3 - 1) / 4 = 50) = 50
#        it_standardization = 1 MONITORING of 2 tickets = 50; purchasing_volume = 100
#        maturity = 21.875 + 15 + 10 + 7.5 + 20 = 74.375 -> ADVANCED
#   C2 digital 0 (PHONE, EMAIL), solution = mean(0, 25) = 12.5, purchasing 66.667; no survey, no tickets:
#        (0 + 2.5 + 13.333) / 0.6 = 26.389 -> DEVELOPING
#   C3 digital 100 (API), solution = mean(100 * 200 / 350 = 57.143, 25) = 41.071, monitoring 1 of 1 = 100,
#        purchasing 33.333: (20 + 8.214 + 15 + 6.667) / 0.75 = 66.508 -> ADVANCED
#   C4 digital 0, solution mean(0, 0) = 0, purchasing 0 -> 0 -> TRANSACTIONAL
# Appetite = 0.4 survey GROWTH_APPETITE + 0.3 * 100 * pct(attended) + 0.3 * 100 * pct(opportunities):
#   attended in W: C1 2 (QBR, MEETING), C2 0 (not attended), C3 1, C4 0 -> pct 1, 0, 2/3, 0
#   created in W: C1 2 (O-1, O-2), C2 2, C3 1, C4 0 -> pct 2/3, 2/3, 1/3, 0
#   C1 0.4 * 100 + 30 + 20 = 90 -> TRANSFORM; C2 (0 + 20) / 0.6 = 33.3 -> SUSTAIN;
#   C3 (20 + 10) / 0.6 = 50 (on the cut: >= 50) -> TRANSFORM; C4 0 -> SUSTAIN
# Needs: C1 STRATEGIC 1000 (O-1) ties TACTICAL 1000 (O-2's newest version, not PERSONAL 5000)
#   -> STRATEGIC; C2 PERSONAL 300 (O-4 has no driver); C3 TACTICAL 200; C4 UNKNOWN
#
# 2026-01 (N = 4: C1, C2, C3, C5):
#   net revenue C3 0, C5 1/3, C2 2/3, C1 1; orders C5 0, C1 = C2 1/3, C3 1; families C5 0, C2 = C3 1/3,
#   C1 1; CM C2 0, C3 1/3, C5 2/3, C1 1; CM % C2 0, C1 (0.44375) 1/3, C3 2/3, C5 (0.667) 1
#   C1 top-line 0.8, profitability 0.6 + 0.4/3 = 0.7333 -> CORE
#   C2 0.5, 0 -> MARGINAL; C3 0 + 0.3 + 0.2/3 = 0.3667, 0.2 + 0.2667 = 0.4667 -> MARGINAL
#   C5 0.5/3 = 0.1667, 0.4 + 0.4 = 0.8 -> OPPORTUNISTIC
#   portfolio CM % 1460 / 4050 = 0.3605 -> C1 NURTURE_AND_RETAIN, C2 OPTIMIZE_AND_MOVE_RIGHT, C3, C5
#   GROW_AND_MOVE_UP; tier: C1 0, C2 0.395, C5 0.691 -> HIGH, C3 3700/4050 = 0.914 -> MEDIUM
#   C1 maturity: digital mean(50, 2 of 3 lines = 66.667) = 58.333, solution mean(1000/1600 = 62.5, 50)
#        = 56.25: 21.875 + 11.667 + 11.25 + 7.5 + 20 = 72.292 -> ADVANCED; appetite 40 + 30 + 20 = 90
#   C3 purchasing now 0: (20 + 8.214 + 15 + 0) / 0.75 = 57.619 -> ADVANCED; attended: C1 2, C3 1,
#        C5 1 (QBR 2025-12-15), C2 0 -> C3 1/3; created: C3 1/3 -> (10 + 10) / 0.6 = 33.3 -> EDUCATE
#   C5 digital 100, solution mean(100, 0) = 50, purchasing 33.333: (20 + 10 + 6.667) / 0.6 = 61.111
#        -> ADVANCED; appetite (0.3 * 33.333 + 0) / 0.6 = 16.667 -> EDUCATE
EXPECTED_SEGMENTS = {
    # (month, customer): (name, group, nr, gm, cts, cm, orders, families, topline, profitability,
    #                     stratum, quadrant, tier, maturity, maturity tier, appetite, segment, needs)
    (DEC, "C1"): ("Alpha", "VAR", "2000.00", "850.00", "20.00", "830.00", 2, 3, 0.8, 0.6 + 0.4 * 2 / 3,
                  "CORE", "NURTURE_AND_RETAIN", "HIGH", 74.375, "ADVANCED", 90.0, "TRANSFORM", "STRATEGIC"),
    (DEC, "C2"): ("Beta", "MSP", "1200.00", "-70.00", "0.00", "-70.00", 2, 2, 0.5, 0.0,
                  "MARGINAL", "OPTIMIZE_AND_MOVE_RIGHT", "HIGH", (2.5 + 40 / 3) / 0.6, "DEVELOPING", 100 / 3,
                  "SUSTAIN", "PERSONAL"),
    (DEC, "C3"): ("Gamma", "VAR", "350.00", "220.00", "0.00", "220.00", 3, 2, 0.5 / 3 + 0.3 + 0.2 / 3, 0.8,
                  "OPPORTUNISTIC", "GROW_AND_MOVE_UP", "MEDIUM", 66.50793650793650, "ADVANCED", 50.0,
                  "TRANSFORM", "TACTICAL"),
    (DEC, "C4"): ("Delta", "VAR", "100.00", "40.00", "0.00", "40.00", 1, 1, 0.0, 1 / 3,
                  "MARGINAL", "GROW_AND_MOVE_UP", "LOW", 0.0, "TRANSACTIONAL", 0.0, "SUSTAIN", "UNKNOWN"),
    (JAN, "C1"): ("Alpha", "VAR", "1600.00", "730.00", "20.00", "710.00", 2, 3, 0.8, 0.6 + 0.4 / 3,
                  "CORE", "NURTURE_AND_RETAIN", "HIGH", 72.29166666666667, "ADVANCED", 90.0, "TRANSFORM",
                  "STRATEGIC"),
    (JAN, "C2"): ("Beta", "MSP", "1200.00", "-70.00", "0.00", "-70.00", 2, 2, 0.5, 0.0,
                  "MARGINAL", "OPTIMIZE_AND_MOVE_RIGHT", "HIGH", (2.5 + 40 / 3) / 0.6, "DEVELOPING", 100 / 3,
                  "SUSTAIN", "PERSONAL"),
    (JAN, "C3"): ("Gamma", "VAR", "350.00", "220.00", "0.00", "220.00", 3, 2, 0.3 + 0.2 / 3, 0.2 + 0.4 * 2 / 3,
                  "MARGINAL", "GROW_AND_MOVE_UP", "MEDIUM", 57.61904761904762, "ADVANCED", 100 / 3, "EDUCATE",
                  "TACTICAL"),
    (JAN, "C5"): ("Epsilon", "VAR", "900.00", "600.00", "0.00", "600.00", 1, 1, 0.5 / 3, 0.8,
                  "OPPORTUNISTIC", "GROW_AND_MOVE_UP", "HIGH", 61.111111111111114, "ADVANCED", 50 / 3, "EDUCATE",
                  "UNKNOWN"),
}


def test_customer_segments_every_column(warehouse):
    rows = query(warehouse, "SELECT * FROM marts.customer_segments ORDER BY month, customer_no")
    assert {(r["month"], r["customer_no"]) for r in rows} == set(EXPECTED_SEGMENTS)
    for r in rows:
        (name, group, nr, gm, cts, cm, orders, families, topline, profitability, stratum, quadrant, tier,
         maturity, maturity_tier, appetite, segment, needs) = EXPECTED_SEGMENTS[(r["month"], r["customer_no"])]
        key = (r["month"], r["customer_no"])
        assert (r["customer_name"], r["customer_group"]) == (name, group), key
        assert (r["net_revenue_t12m"], r["gross_margin_t12m"], r["cost_to_serve_t12m"],
                r["contribution_margin_t12m"]) == tuple(Decimal(v) for v in (nr, gm, cts, cm)), key
        assert (r["orders_t12m"], r["product_families_t12m"]) == (orders, families), key
        assert r["topline_score"] == approx(topline), key
        assert r["profitability_score"] == approx(profitability), key
        assert (r["stratum"], r["profitability_quadrant"], r["revenue_tier"]) == (stratum, quadrant, tier), key
        assert r["maturity_score"] == approx(maturity), key
        assert r["appetite_score"] == approx(appetite), key
        assert (r["maturity_tier"], r["maturity_segment"], r["needs_group"]) == (maturity_tier, segment, needs), key
        assert r["config_version"] == VERSION


def test_customer_segments_explain_the_scores(warehouse):
    """The appended columns: each factor's percentile and the maturity dimensions."""
    r = query(warehouse, "SELECT * FROM marts.customer_segments WHERE month = ? AND customer_no = 'C1'", (DEC,))[0]
    assert (r["net_revenue_percentile"], r["orders_percentile"], r["product_families_percentile"],
            r["contribution_margin_percentile"], r["contribution_margin_pct_percentile"]) == (
        approx(1.0), approx(1 / 3), approx(1.0), approx(1.0), approx(2 / 3))
    assert (r["technical_capability"], r["digital_adoption"], r["solution_complexity"], r["it_standardization"],
            r["purchasing_volume"]) == (approx(87.5), approx(75.0), approx(50.0), approx(50.0), approx(100.0))
    assert r["survey_response_id"] == "R-1"
    assert r["portfolio_contribution_margin_pct"] == approx(1020 / 3650)
    # 2 of 2 opportunities created in W(M) carry a driver
    assert r["need_capture_rate"] == approx(1.0)
    c2 = query(warehouse, "SELECT * FROM marts.customer_segments WHERE month = ? AND customer_no = 'C2'", (DEC,))[0]
    assert c2["need_capture_rate"] == approx(0.5)  # O-3 PERSONAL, O-4 without a driver
    assert c2["technical_capability"] is None and c2["it_standardization"] is None


def test_unassigned_and_inactive_customers_get_no_segment(warehouse):
    rows = query(warehouse, "SELECT month, customer_no FROM marts.customer_segments "
                            "WHERE customer_no IN ('UNASSIGNED', 'CX') OR (customer_no = 'C4' AND month = ?) "
                            "OR (customer_no = 'C5' AND month = ?)", (JAN, DEC))
    assert rows == []


# ---------------------------------------------------------------------------------------------
# segment_kpis, segment_transitions, kpi_target_status: no cohort yet (M-12 has no assignment)
# ---------------------------------------------------------------------------------------------
def test_segment_kpis_sums_ratios_and_empty_cohort_kpis(warehouse):
    rows = query(warehouse, "SELECT * FROM marts.segment_kpis ORDER BY month, segmentation, segment")
    got = {(r["month"], r["segmentation"], r["segment"]): r for r in rows}
    # stratum at 2025-12: CORE C1, MARGINAL C2 + C4, OPPORTUNISTIC C3; 2026-01: CORE C1, MARGINAL C2 + C3,
    # OPPORTUNISTIC C5 (no M-12 assignments, so only segments with customers at M)
    assert sorted(k[2] for k in got if k[:2] == (DEC, "stratum")) == ["ALL", "CORE", "MARGINAL", "OPPORTUNISTIC"]
    assert sorted(k[2] for k in got if k[:2] == (JAN, "stratum")) == ["ALL", "CORE", "MARGINAL", "OPPORTUNISTIC"]
    assert sorted(k[2] for k in got if k[:2] == (DEC, "revenue_tier")) == ["ALL", "HIGH", "LOW", "MEDIUM"]
    # MARGINAL at 2025-12: C2 + C4: nr 1200 + 100 = 1300, gm = cm = -70 + 40 = -30, orders 2 + 1 = 3
    m = got[(DEC, "stratum", "MARGINAL")]
    assert m["customers"] == 2
    assert (m["net_revenue"], m["gross_margin"], m["cost_to_serve"], m["contribution_margin"]) == (
        Decimal("1300.00"), Decimal("-30.00"), Decimal("0.00"), Decimal("-30.00"))
    assert m["contribution_margin_pct"] == approx(-30 / 1300)
    assert m["aov"] == Decimal("433.33")  # 1300 / 3 = 433.333...
    # ALL at 2025-12: nr 3650, gm 850 - 70 + 220 + 40 = 1040, cts 20, cm 1020, orders 2 + 2 + 3 + 1 = 8
    a = got[(DEC, "stratum", "ALL")]
    assert (a["customers"], a["net_revenue"], a["gross_margin"], a["cost_to_serve"], a["contribution_margin"],
            a["aov"]) == (4, Decimal("3650.00"), Decimal("1040.00"), Decimal("20.00"), Decimal("1020.00"),
                          Decimal("456.25"))
    # ALL at 2026-01: nr 4050, cm 710 - 70 + 220 + 600 = 1460, aov 4050 / 8 = 506.25
    a = got[(JAN, "maturity_tier", "ALL")]
    assert (a["customers"], a["net_revenue"], a["contribution_margin"], a["aov"]) == (
        4, Decimal("4050.00"), Decimal("1460.00"), Decimal("506.25"))
    assert a["contribution_margin_pct"] == approx(1460 / 4050)
    # every segmentation has its ALL row, identical sums
    assert {k[1] for k in got if k[0] == JAN and k[2] == "ALL"} == {
        "stratum", "profitability_quadrant", "revenue_tier", "maturity_tier", "maturity_segment", "needs_group"}
    # M-12 (2024-12, 2025-01) has no assignments: every cohort KPI is empty
    for r in rows:
        for kpi in ("retention_rate", "upsell_cross_sell_rate", "migration_up_rate", "migration_down_rate",
                    "changed_rate", "cltv", "aov_yoy_change", "cltv_yoy_change"):
            assert r[kpi] is None, (r["month"], r["segmentation"], r["segment"], kpi)


def test_no_transitions_without_m_minus_12(warehouse):
    assert query(warehouse, "SELECT * FROM marts.segment_transitions") == []


def test_targets_without_data(warehouse):
    rows = query(warehouse, "SELECT * FROM marts.kpi_target_status ORDER BY month, kpi, segment")
    # default targets: cltv_yoy 2 segments, upsell 3, retention 1, aov_yoy 2, migration_up 3 = 11 a month
    assert len(rows) == 22
    assert {r["status"] for r in rows} == {"NO_DATA"}
    mig = [r for r in rows if r["kpi"] == "migration_up_rate" and r["segment"] == "DEVELOPING" and r["month"] == JAN]
    assert [(r["target_low"], r["target_high"], r["value"]) for r in mig] == [(approx(0.05), approx(0.10), None)]


# ---------------------------------------------------------------------------------------------
# account_playbook (newest month 2026-01)
# ---------------------------------------------------------------------------------------------
# C1 TRANSFORM: monthly; newest attended review MEETING 2025-11-20 (the CALL does not count) -> due
#    2025-12-20 < 2026-01-31: overdue
# C2 SUSTAIN: as needed; its MEETING was not attended -> no review, no due date, never overdue
# C3 EDUCATE: three times a year (4 months); SITE_VISIT 2025-05-01 -> due 2025-09-01: overdue
# C5 EDUCATE: QBR 2025-12-15 -> due 2026-04-15: not overdue
EXPECTED_PLAYBOOK = {
    "C1": ("Alpha", "CORE", "TRANSFORM", "NURTURE_AND_RETAIN", "monthly",
           "transform the business through innovation, with OKRs", "vCIO or strategic advisor",
           date(2025, 11, 20), date(2025, 12, 20), True),
    "C2": ("Beta", "MARGINAL", "SUSTAIN", "OPTIMIZE_AND_MOVE_RIGHT", "as needed",
           "basic reactive support without overwhelming them", "helpdesk or service coordinator",
           None, None, False),
    "C3": ("Gamma", "MARGINAL", "EDUCATE", "GROW_AND_MOVE_UP", "three times a year",
           "keep things running, suggest low-risk improvements", "technical account manager or account manager",
           date(2025, 5, 1), date(2025, 9, 1), True),
    "C5": ("Epsilon", "OPPORTUNISTIC", "EDUCATE", "GROW_AND_MOVE_UP", "three times a year",
           "keep things running, suggest low-risk improvements", "technical account manager or account manager",
           date(2025, 12, 15), date(2026, 4, 15), False),
}


def test_account_playbook(warehouse):
    rows = query(warehouse, "SELECT * FROM marts.account_playbook ORDER BY customer_no")
    assert {r["customer_no"] for r in rows} == set(EXPECTED_PLAYBOOK)
    for r in rows:
        assert r["month"] == JAN
        got = tuple(r[c] for c in MARTS_COLUMNS["account_playbook"] if c not in ("customer_no", "month"))
        assert got == EXPECTED_PLAYBOOK[r["customer_no"]], r["customer_no"]


# ---------------------------------------------------------------------------------------------
# Predicted value (methodology §13): columns added at the end; this fixture is too small to fit
# ---------------------------------------------------------------------------------------------
PREDICTED_COLUMNS = {
    "customer_segments": [("p_alive", "DOUBLE"), ("expected_orders_12m", "DOUBLE"),
                          ("expected_order_value", "DECIMAL(18,2)"), ("predicted_net_revenue_12m", "DECIMAL(18,2)"),
                          ("predicted_contribution_margin_12m", "DECIMAL(18,2)"), ("churn_risk", "VARCHAR")],
    "segment_kpis": [("predicted_contribution_margin_12m", "DECIMAL(18,2)"), ("at_risk_customers", "BIGINT")],
    "account_playbook": [("p_alive", "DOUBLE"), ("churn_risk", "VARCHAR")],
}


@pytest.mark.parametrize("mart", sorted(PREDICTED_COLUMNS))
def test_predicted_value_columns_come_last(warehouse, mart):
    assert columns(warehouse, "marts", mart)[-len(PREDICTED_COLUMNS[mart]):] == PREDICTED_COLUMNS[mart]


def test_clv_model_fits_columns(warehouse):
    assert columns(warehouse, "marts", "clv_model_fits") == [
        ("month", "DATE"), ("model", "VARCHAR"), ("customers", "BIGINT"), ("parameters", "VARCHAR"),
        ("log_likelihood", "DOUBLE"), ("converged", "BOOLEAN"), ("message", "VARCHAR"), ("config_version", "VARCHAR")]


# Purchase occasions (days with INVOICE lines) up to 2025-12-31: C1 2025-01-10, 2025-06-03 (x = 1);
# C2 2025-03-05, 2025-09-15 (x = 1); C3 four days (x = 3); C4 one (x = 0): 4 customers, 3 repeat
# buyers. Up to 2026-01-31 C5 joins (x = 0) and C1 has its 2026-01-12 occasion (x = 2): 5 and 3.
# Four or five customers do not pin down four parameters: the likelihood keeps rising towards a
# boundary, so neither month gets numbers, and clv_model_fits says why.
def test_clv_model_fits_say_why_the_fixture_has_no_predictions(warehouse):
    rows = query(warehouse, "SELECT * FROM marts.clv_model_fits ORDER BY month, model")
    assert [(r["month"], r["model"], r["customers"]) for r in rows] == [
        (DEC, "BG_NBD", 4), (DEC, "GAMMA_GAMMA", 3), (JAN, "BG_NBD", 5), (JAN, "GAMMA_GAMMA", 3)]
    for r in rows:
        assert r["converged"] is False and r["parameters"] is None and r["log_likelihood"] is None
        expected = "BG/NBD did not converge" if r["model"] == "BG_NBD" else "not fitted: the BG/NBD fit failed"
        assert r["message"].startswith(expected), r["message"]


def test_prediction_columns_are_empty_when_the_fit_failed(warehouse):
    names = ", ".join(c for c, _ in PREDICTED_COLUMNS["customer_segments"])
    assert {tuple(r.values()) for r in query(warehouse, f"SELECT {names} FROM marts.customer_segments")} == {(None,) * 6}
    kpis = query(warehouse, "SELECT predicted_contribution_margin_12m, at_risk_customers FROM marts.segment_kpis")
    assert {tuple(r.values()) for r in kpis} == {(None, None)}
    playbook = query(warehouse, "SELECT p_alive, churn_risk FROM marts.account_playbook")
    assert {tuple(r.values()) for r in playbook} == {(None, None)}
