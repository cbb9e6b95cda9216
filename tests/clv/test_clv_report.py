"""The report's predicted-value section (assets/report/clv.py) on small hand-made frames."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from assets.core.settings import load_settings
from assets.report import clv

F, M = dt.date(2025, 1, 31), dt.date(2026, 1, 31)


def backtest() -> pd.DataFrame:
    return pd.DataFrame({
        "fitted_month": [F] * 4, "month": [M] * 4, "customer_no": ["C1", "C2", "C3", "C4"],
        "stratum": ["CORE", "CORE", "MARGINAL", "MARGINAL"],
        "predicted_occasions": [10.0, 4.0, 1.5, 0.5], "actual_occasions": [12, 3, 0, 1],
    })


def test_backtest_by_segment_by_hand():
    # CORE: errors (10 − 12, 4 − 3) = (−2, 1): MAE 1.5, bias −0.5; means 7 predicted, 7.5 actual.
    # MARGINAL: errors (1.5, −0.5): MAE 1.0, bias 0.5; means 1.0 and 0.5.
    # ALL: errors (−2, 1, 1.5, −0.5): MAE 5 / 4 = 1.25, bias 0 / 4 = 0.
    summary = clv.backtest_by_segment(backtest()).set_index("segment")
    assert list(summary.index) == ["CORE", "MARGINAL", "ALL"]
    assert summary.loc["CORE", ["customers", "predicted", "actual", "mae", "bias"]].tolist() == [2, 7.0, 7.5, 1.5, -0.5]
    assert summary.loc["MARGINAL", ["mae", "bias", "predicted", "actual"]].tolist() == [1.0, 0.5, 1.0, 0.5]
    assert summary.loc["ALL", ["customers", "mae", "bias"]].tolist() == [4, 1.25, 0.0]


@pytest.fixture
def published():
    con = duckdb.connect()
    con.execute("""CREATE TABLE customer_segments AS SELECT * FROM (VALUES
        (DATE '2026-01-31', 'C1', 'CORE', 5000.00::DECIMAL(18,2), 0.30, 'HIGH'),
        (DATE '2026-01-31', 'C2', 'CORE', 800.00::DECIMAL(18,2), 0.95, 'LOW'),
        (DATE '2026-01-31', 'C3', 'MARGINAL', -200.00::DECIMAL(18,2), 0.70, 'MEDIUM'))
        AS t(month, customer_no, stratum, contribution_margin_t12m, p_alive, churn_risk)""")
    con.execute("""CREATE TABLE segment_kpis AS SELECT * FROM (VALUES
        (DATE '2026-01-31', 'stratum', 'CORE', 5800.00::DECIMAL(18,2), 4100.00::DECIMAL(18,2), 1::BIGINT),
        (DATE '2026-01-31', 'stratum', 'MARGINAL', -200.00::DECIMAL(18,2), -150.00::DECIMAL(18,2), 0::BIGINT),
        (DATE '2026-01-31', 'stratum', 'ALL', 5600.00::DECIMAL(18,2), 3950.00::DECIMAL(18,2), 1::BIGINT))
        AS t(month, segmentation, segment, contribution_margin, predicted_contribution_margin_12m, at_risk_customers)""")
    con.execute("""CREATE TABLE clv_model_fits AS SELECT * FROM (VALUES
        (DATE '2026-01-31', 'BG_NBD', 3::BIGINT, '{"a": 0.8, "alpha": 4.4, "b": 2.4, "r": 0.24}', -120.5, true, 'converged'),
        (DATE '2026-01-31', 'GAMMA_GAMMA', 2::BIGINT, NULL, NULL, false, 'not fitted: 1 customer(s)'))
        AS t(month, model, customers, parameters, log_likelihood, converged, message)""")
    yield con
    con.close()


def test_section_draws_three_charts_and_the_evidence(published):
    section = clv.section(published, load_settings(), backtest())
    assert [c.name for c in section.charts] == ["clv_p_alive", "clv_predicted_margin", "clv_backtest"]
    assert all(c.png.startswith(b"\x89PNG") and len(c.png) > 10_000 for c in section.charts)
    assert "<td class='num'>1.25</td><td class='num'>+0.00</td>" in section.html  # ALL: MAE, bias
    assert "not fitted: 1 customer(s)" in section.html and "-120.5" in section.html


def test_section_without_predictions_still_renders():
    con = duckdb.connect()
    section = clv.section(con, load_settings(), None)
    assert len(section.charts) == 3 and "No backtest yet" in section.html and "No fits yet" in section.html
