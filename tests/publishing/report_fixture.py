"""The report's fixture warehouse: `fixture.py`'s marts plus the columns the real customer_segments
carries after marts.md's (factor percentiles, CM %, maturity dimensions, appetite inputs), computed as
the segment models do (percent_rank over the month's active customers), and optionally the
predicted-value columns (methodology §13). Values of the maturity and appetite inputs are
deterministic but arbitrary: the report shows them, it does not recompute them."""

from __future__ import annotations

from pathlib import Path

import duckdb

EXTRAS = """
CREATE OR REPLACE TABLE marts.customer_segments AS
SELECT s.*,
    percent_rank() OVER m_rev AS net_revenue_percentile,
    percent_rank() OVER (PARTITION BY month ORDER BY orders_t12m) AS orders_percentile,
    percent_rank() OVER (PARTITION BY month ORDER BY product_families_t12m) AS product_families_percentile,
    percent_rank() OVER (PARTITION BY month ORDER BY contribution_margin_t12m) AS contribution_margin_percentile,
    percent_rank() OVER (PARTITION BY month ORDER BY round(cast(contribution_margin_t12m AS DOUBLE)
        / cast(net_revenue_t12m AS DOUBLE), 9)) AS contribution_margin_pct_percentile,
    cast(contribution_margin_t12m AS DOUBLE) / cast(net_revenue_t12m AS DOUBLE) AS contribution_margin_pct_t12m,
    cast(sum(contribution_margin_t12m) OVER (PARTITION BY month) AS DOUBLE)
        / cast(sum(net_revenue_t12m) OVER (PARTITION BY month) AS DOUBLE) AS portfolio_contribution_margin_pct,
    cast(hash(customer_no, 'tc') % 101 AS DOUBLE) AS technical_capability,
    cast(hash(customer_no, 'da') % 101 AS DOUBLE) AS digital_adoption,
    cast(hash(customer_no, 'sc') % 101 AS DOUBLE) AS solution_complexity,
    CASE WHEN hash(customer_no) % 3 = 0 THEN NULL ELSE cast(hash(customer_no, 'it') % 101 AS DOUBLE) END
        AS it_standardization,
    100 * percent_rank() OVER m_rev AS purchasing_volume,
    cast(hash(customer_no, 'ga') % 101 AS DOUBLE) AS survey_growth_appetite,
    cast(hash(customer_no, 'aa') % 9 AS BIGINT) AS attended_activities_t12m,
    percent_rank() OVER (PARTITION BY month ORDER BY hash(customer_no, 'aa') % 9) AS attended_activities_percentile,
    cast(hash(customer_no, 'oc') % 5 AS BIGINT) AS opportunities_created_t12m,
    percent_rank() OVER (PARTITION BY month ORDER BY hash(customer_no, 'oc') % 5) AS opportunities_created_percentile
FROM marts.customer_segments AS s
WINDOW m_rev AS (PARTITION BY month ORDER BY net_revenue_t12m)
ORDER BY month, customer_no
"""

PREDICTED = """
ALTER TABLE marts.customer_segments ADD COLUMN p_alive DOUBLE;
ALTER TABLE marts.customer_segments ADD COLUMN churn_risk VARCHAR;
ALTER TABLE marts.customer_segments ADD COLUMN predicted_contribution_margin_12m DECIMAL(18,2);
UPDATE marts.customer_segments SET
    p_alive = (hash(customer_no, 'p') % 1000) / 1000.0,
    predicted_contribution_margin_12m = contribution_margin_t12m * 0.9;
UPDATE marts.customer_segments SET
    churn_risk = CASE WHEN p_alive < 0.5 THEN 'HIGH' WHEN p_alive < 0.8 THEN 'MEDIUM' ELSE 'LOW' END;
ALTER TABLE marts.account_playbook ADD COLUMN p_alive DOUBLE;
ALTER TABLE marts.account_playbook ADD COLUMN churn_risk VARCHAR;
UPDATE marts.account_playbook AS p SET p_alive = s.p_alive, churn_risk = s.churn_risk
FROM marts.customer_segments AS s WHERE s.customer_no = p.customer_no AND s.month = p.month;
"""


def add_report_columns(warehouse: Path, *, predicted: bool = False) -> Path:
    """Give the fixture warehouse's customer_segments the extra columns of the real mart (in place)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(EXTRAS)
        if predicted:
            con.execute(PREDICTED)
    finally:
        con.close()
    return warehouse
