"""Cohort KPIs, transitions and targets on the same fixture, segmenting from the first month.

With `segments.first_segment_month_index: 1` every month 2025-01 … 2026-01 gets segments (the
windows of the early months are simply shorter), so 2026-01 has a cohort: the customers assigned at
2025-01. T12M windows do not depend on the first month, so 2026-01's assignments are exactly those
of the default run (test_segment_marts.py); 2025-01's are worked out below.

2025-01 (W = 2024-02 … 2025-01): active C1 (nr 1000, cm 300, 1 order, HARDWARE) and C4 (nr 100,
cm 40, 1 order, HARDWARE). Percentiles (N = 2): net revenue C4 0, C1 1; orders and families tie: 0;
CM C4 0, C1 1; CM % C1 0.3 < C4 0.4: C1 0, C4 1.
  C1 top-line 0.5 (low), profitability 0.6 (high, CM > 0) -> OPPORTUNISTIC; tier HIGH (0 before)
     maturity: digital 100 (EDI), solution mean(0, 0) = 0, purchasing 100; no survey yet (R-0 is
     2025-02): (20 + 0 + 20) / 0.6 = 66.7 -> ADVANCED
  C4 top-line 0, profitability 0.4 -> MARGINAL; tier MEDIUM (1000 / 1100 = 0.909 before it);
     maturity 0 -> TRANSACTIONAL
2026-01: C1 CORE / HIGH / ADVANCED, C2 MARGINAL / HIGH / DEVELOPING, C3 MARGINAL / MEDIUM / ADVANCED,
C5 OPPORTUNISTIC / HIGH / ADVANCED; C4 is inactive.
Upsell / cross-sell at 2026-01: C1 bought SOFTWARE and CLOUD in W(2026-01), only HARDWARE in
W(2025-01) -> yes.
"""

# ruff: noqa: E501  (tables of fixture rows and expected values read best one row per line)

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.segments.fixture import BATCHES
from tests.support.warehouse import build_segments_fixture_warehouse, query, write_config

JAN25, JAN = date(2025, 1, 31), date(2026, 1, 31)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("segment_cohorts")
    config = write_config(tmp / "strata.yml", **{
        "segments.first_segment_month_index": 1,
        # the playbook is business data: an edited play reaches the mart without a code change
        "segments.playbook.EDUCATE.review_cadence": "twice a year",
        "segments.playbook.EDUCATE.review_cadence_months": 6,
    })
    return build_segments_fixture_warehouse(BATCHES, tmp, config_file=config)


pytestmark = pytest.mark.slow  # dbt builds a real warehouse (once per module)


def approx(value):
    return pytest.approx(value, abs=1e-9)


def test_segment_months_start_at_the_configured_month(warehouse):
    rows = query(warehouse, "SELECT month FROM intermediate.int_segment_months ORDER BY month")
    assert [r["month"] for r in rows][0] == JAN25 and len(rows) == 13
    first = query(warehouse, "SELECT customer_no, stratum, revenue_tier, maturity_tier FROM marts.customer_segments "
                             "WHERE month = ? ORDER BY customer_no", (JAN25,))
    assert [tuple(r.values()) for r in first] == [
        ("C1", "OPPORTUNISTIC", "HIGH", "ADVANCED"), ("C4", "MARGINAL", "MEDIUM", "TRANSACTIONAL")]


def test_transitions_from_m_minus_12(warehouse):
    rows = query(warehouse, "SELECT month, segmentation, from_segment, to_segment, customers "
                            "FROM marts.segment_transitions ORDER BY segmentation, from_segment, to_segment")
    # only 2026-01 has assignments 12 months earlier
    assert {r["month"] for r in rows} == {JAN}
    got = {(r["segmentation"], r["from_segment"], r["to_segment"]): r["customers"] for r in rows}
    assert {k[1:]: v for k, v in got.items() if k[0] == "stratum"} == {
        ("OPPORTUNISTIC", "CORE"): 1,   # C1
        ("MARGINAL", "INACTIVE"): 1,    # C4 stopped buying
        ("NEW", "MARGINAL"): 2,         # C2, C3
        ("NEW", "OPPORTUNISTIC"): 1,    # C5
    }
    assert {k[1:]: v for k, v in got.items() if k[0] == "revenue_tier"} == {
        ("HIGH", "HIGH"): 1, ("MEDIUM", "INACTIVE"): 1, ("NEW", "HIGH"): 2, ("NEW", "MEDIUM"): 1}
    assert {k[1:]: v for k, v in got.items() if k[0] == "maturity_tier"} == {
        ("ADVANCED", "ADVANCED"): 1, ("TRANSACTIONAL", "INACTIVE"): 1, ("NEW", "DEVELOPING"): 1,
        ("NEW", "ADVANCED"): 2}
    # every segmentation counts the same 5 customers (4 at M or M-12 plus the inactive one)
    for seg in ("stratum", "profitability_quadrant", "revenue_tier", "maturity_tier", "maturity_segment",
                "needs_group"):
        assert sum(v for k, v in got.items() if k[0] == seg) == 5, seg


KPI_COLUMNS = ("customers", "net_revenue", "contribution_margin", "aov", "retention_rate", "upsell_cross_sell_rate",
               "migration_up_rate", "migration_down_rate", "changed_rate", "cltv", "aov_yoy_change",
               "cltv_yoy_change")
N = None
# cltv = (cm / customers) x r / (1 + 0.10 - r), r = retention capped at 0.95 (r / (1.1 - r) = 0.95 / 0.15)
EXPECTED_KPIS = {
    # OPPORTUNISTIC: now C5 (nr 900, cm 600, 1 order); cohort {C1}: retained (r = 1 -> 0.95), C1 upsold,
    # now CORE (changed 1/1; stratum is unordered: no migration rates); cltv = 600 x 0.95 / 0.15 = 3800;
    # aov 900 vs 1000 / 1 at 2025-01: yoy -0.1
    ("stratum", "OPPORTUNISTIC"): (1, "900.00", "600.00", "900.00", 1.0, 1.0, N, N, 1.0, "3800.00", -0.1, N),
    # MARGINAL: now C2 + C3 (nr 1550, cm 150, orders 2 + 3); cohort {C4}: not active -> retention 0,
    # upsell / changed empty (nobody retained / followed); r = 0: cltv = 0; aov 310 vs 100: yoy 2.1
    ("stratum", "MARGINAL"): (2, "1550.00", "150.00", "310.00", 0.0, N, N, N, N, "0.00", 2.1, N),
    # CORE: C1 only now, nobody at 2025-01: cohort KPIs empty (retention 0/0), no aov at M-12
    ("stratum", "CORE"): (1, "1600.00", "710.00", "800.00", N, N, N, N, N, N, N, N),
    # ALL: 4 now (nr 4050, cm 1460, orders 8); cohort {C1, C4}: r = 1/2, upsell 1/1;
    # cltv = (1460 / 4) x 0.5 / 0.6 = 304.1666... -> 304.17; aov 506.25 vs 1100 / 2 = 550:
    # yoy (4050 x 2) / (8 x 1100) - 1 = -0.0795...; cltv at 2025-01 is empty -> no cltv yoy
    ("stratum", "ALL"): (4, "4050.00", "1460.00", "506.25", 0.5, 1.0, N, N, N, "304.17", 4050 * 2 / (8 * 1100) - 1,
                         N),
    # revenue_tier HIGH: now C1, C2, C5 (nr 3700, cm 1240, orders 5); cohort {C1} stays HIGH (up 0, down 0,
    # changed 0); r capped: cltv = (1240 / 3) x 0.95 / 0.15 = 2617.777... -> 2617.78; aov 740 vs 1000
    ("revenue_tier", "HIGH"): (3, "3700.00", "1240.00", "740.00", 1.0, 1.0, 0.0, 0.0, 0.0, "2617.78",
                               3700 * 1 / (5 * 1000) - 1, N),
    # revenue_tier MEDIUM: now C3; cohort {C4} inactive: retention 0, nobody followed -> no migration rates
    ("revenue_tier", "MEDIUM"): (1, "350.00", "220.00", "116.67", 0.0, N, N, N, N, "0.00", 350 * 1 / (3 * 100) - 1, N),
    # maturity_tier ADVANCED: now C1, C3, C5 (nr 2850, cm 1530, orders 6); cohort {C1} stays ADVANCED;
    # cltv = (1530 / 3) x 0.95 / 0.15 = 3230; aov 475 vs 1000: yoy -0.525
    ("maturity_tier", "ADVANCED"): (3, "2850.00", "1530.00", "475.00", 1.0, 1.0, 0.0, 0.0, 0.0, "3230.00", -0.525, N),
    # TRANSACTIONAL: nobody now (the row stays, 0 customers); cohort {C4} inactive
    ("maturity_tier", "TRANSACTIONAL"): (0, "0.00", "0.00", N, 0.0, N, N, N, N, N, N, N),
    # DEVELOPING: C2 only now, no cohort
    ("maturity_tier", "DEVELOPING"): (1, "1200.00", "-70.00", "600.00", N, N, N, N, N, N, N, N),
}


def test_segment_kpis_with_a_cohort(warehouse):
    rows = query(warehouse, "SELECT * FROM marts.segment_kpis WHERE month = ?", (JAN,))
    got = {(r["segmentation"], r["segment"]): r for r in rows}
    assert sorted(s for g, s in got if g == "stratum") == ["ALL", "CORE", "MARGINAL", "OPPORTUNISTIC"]
    assert sorted(s for g, s in got if g == "maturity_tier") == ["ADVANCED", "ALL", "DEVELOPING", "TRANSACTIONAL"]
    for key, expected in EXPECTED_KPIS.items():
        r = got[key]
        for col, want in zip(KPI_COLUMNS, expected, strict=True):
            if want is None:
                assert r[col] is None, (key, col, r[col])
            elif col in ("net_revenue", "contribution_margin", "aov", "cltv"):
                assert r[col] == Decimal(want), (key, col)
            elif col == "customers":
                assert r[col] == want, (key, col)
            else:
                assert r[col] == approx(want), (key, col)
    # ALL carries no migration or changed rate in any segmentation
    for (seg, segment), r in got.items():
        if segment == "ALL":
            assert (r["migration_up_rate"], r["migration_down_rate"], r["changed_rate"]) == (N, N, N), seg


def test_targets_met_missed_no_data(warehouse):
    rows = query(warehouse, "SELECT kpi, segment, value, status FROM marts.kpi_target_status WHERE month = ?", (JAN,))
    got = {(r["kpi"], r["segment"]): (r["value"], r["status"]) for r in rows}
    assert got[("upsell_cross_sell_rate", "ADVANCED")] == (approx(1.0), "MET")       # >= 0.30
    assert got[("upsell_cross_sell_rate", "DEVELOPING")] == (None, "NO_DATA")        # no cohort
    assert got[("upsell_cross_sell_rate", "STRATEGIC")] == (None, "NO_DATA")         # no such segment
    assert got[("migration_up_rate", "ADVANCED")] == (approx(0.0), "MISSED")         # not in [0.05, 0.10]
    assert got[("migration_up_rate", "TRANSACTIONAL")] == (None, "NO_DATA")          # nobody followed
    assert got[("aov_yoy_change", "ADVANCED")] == (approx(-0.525), "MISSED")         # < 0.10
    assert got[("cltv_yoy_change", "ADVANCED")] == (None, "NO_DATA")                 # no cltv at M-12
    assert len(rows) == 11
    # every segment month reports every target
    counts = query(warehouse, "SELECT month, count(*) AS n FROM marts.kpi_target_status GROUP BY month")
    assert len(counts) == 13 and {r["n"] for r in counts} == {11}


def test_playbook_follows_the_configuration(warehouse):
    # EDUCATE now reviews every 6 months: C5's QBR 2025-12-15 is due 2026-06-15, C3's SITE_VISIT
    # 2025-05-01 was due 2025-11-01 (still overdue at 2026-01-31)
    rows = query(warehouse, "SELECT customer_no, review_cadence, next_review_due, review_overdue "
                            "FROM marts.account_playbook WHERE maturity_segment = 'EDUCATE' ORDER BY customer_no")
    assert [tuple(r.values()) for r in rows] == [
        ("C3", "twice a year", date(2025, 11, 1), True), ("C5", "twice a year", date(2026, 6, 15), False)]
