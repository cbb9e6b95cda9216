"""What the segment report reads from the published marts, and nothing else.

Every number the report shows is a value of a published mart or a sum of one over a window
(the customer page's profit waterfall and cost to serve by activity); the one statistic of its own is
the median of a segment's cost to serve per activity, the yardstick a customer is compared with.
Money stays Decimal here; the page formats it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import pandas as pd

from assets.publishing import PublishedCopy

# marts.md's activity codes, in the profit waterfall's order (an unknown code is listed after them).
ACTIVITIES = [
    "ORDER_ENTRY",
    "WAREHOUSE",
    "RETURNS",
    "SALES_COVERAGE",
    "SUPPORT_DESK",
    "CREDIT_COLLECTIONS",
    "NET_FREIGHT",
    "RECEIVABLES_CARRYING",
]
# fct_customer_profit_monthly's waterfall, gross sales down to contribution margin (marts.md order).
WATERFALL = [
    "gross_sales",
    "credits",
    "net_revenue",
    "cogs",
    "rebate_income",
    "services_cost",
    "gross_margin",
    "cost_to_serve",
    "contribution_margin",
]
# Predicted value (methodology §13): shown where the marts carry the columns.
PREDICTED_SEGMENT_COLUMNS = [
    "p_alive",
    "churn_risk",
    "expected_orders_12m",
    "expected_order_value",
    "predicted_net_revenue_12m",
    "predicted_contribution_margin_12m",
]
PLAYBOOK_COLUMNS = [
    "review_cadence",
    "key_initiative",
    "relationship_owner",
    "last_review_date",
    "next_review_due",
    "review_overdue",
]


@dataclass
class ReportData:
    """The newest segment month's view of the published copy."""

    month: dt.date | None
    segments: pd.DataFrame  # customer_segments at `month`, every column the mart has, by customer_no
    kpis: pd.DataFrame
    kpi_status: pd.DataFrame
    transitions: pd.DataFrame
    transitions_month: dt.date | None
    reconciliation: list[dict]
    reconciliation_month: dt.date | None
    page_customers: list[str] = field(default_factory=list)  # customers that get a page
    waterfall_from: dt.date | None = None  # first month-end of the waterfall window
    waterfall: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # customer → measure → sum
    monthly: dict[str, list[tuple]] = field(default_factory=dict)  # customer → [(month, net revenue, CM)]
    cts_window_from: dt.date | None = None  # first month-end of W(M)
    cts: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # customer → activity → T12M cost
    cts_medians: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # segment → activity → median
    playbook: dict[str, dict] = field(default_factory=dict)  # customer → account_playbook row
    playbook_month: dt.date | None = None
    predicted_columns: list[str] = field(default_factory=list)  # those of PREDICTED_SEGMENT_COLUMNS present


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """Rows as dicts of Python values: DECIMAL stays Decimal (a DataFrame would make it float)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()]


def page_customers_sql(per_stratum: int | None) -> str:
    """The customers of month `?` that get a page: the `per_stratum` most and least profitable (T12M
    contribution margin, ties by customer_no) of each stratum; every active customer when None."""
    if per_stratum is None:
        return "SELECT customer_no FROM customer_segments WHERE month = ? ORDER BY customer_no"
    return f"""
        SELECT customer_no FROM (
            SELECT customer_no,
                   row_number() OVER (PARTITION BY stratum
                                      ORDER BY contribution_margin_t12m DESC, customer_no) AS best,
                   row_number() OVER (PARTITION BY stratum
                                      ORDER BY contribution_margin_t12m ASC, customer_no) AS worst
            FROM customer_segments WHERE month = ?
        ) WHERE best <= {int(per_stratum)} OR worst <= {int(per_stratum)}
        ORDER BY customer_no"""


def window_start(month: dt.date, months: int) -> dt.date:
    """The first month-end of the `months` months ending with the month-end `month`."""
    first = dt.date(month.year, month.month, 1)
    index = first.year * 12 + first.month - 1 - (months - 1)
    start = dt.date(index // 12, index % 12 + 1, 1)
    following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def read_report_data(
    con: duckdb.DuckDBPyConnection,
    tables: set[str],
    *,
    per_stratum: int | None,
    waterfall_months: int,
    window_months: int,
) -> ReportData:
    """Everything the report shows, read through `con` (one view per published table in `tables`)."""
    empty = pd.DataFrame()
    month = None
    segments = empty
    if "customer_segments" in tables:
        month = con.execute("SELECT max(month) FROM customer_segments").fetchone()[0]
        if month is not None:
            segments = _frame(
                con, "SELECT * FROM customer_segments WHERE month = ? ORDER BY customer_no", [month]
            )
    kpis = _frame(con, "SELECT * FROM segment_kpis ORDER BY month") if "segment_kpis" in tables else empty
    status = (
        _frame(con, "SELECT * FROM kpi_target_status ORDER BY month")
        if "kpi_target_status" in tables
        else empty
    )
    transitions, transitions_month = empty, None
    if "segment_transitions" in tables:
        transitions_month = con.execute(
            "SELECT max(month) FROM segment_transitions WHERE segmentation = 'maturity_tier'"
        ).fetchone()[0]
        if transitions_month is not None:
            transitions = _frame(
                con,
                "SELECT * FROM segment_transitions WHERE segmentation = 'maturity_tier' AND month = ?",
                [transitions_month],
            )
    reconciliation, reconciliation_month = [], None
    if "margin_reconciliation" in tables:
        reconciliation_month = con.execute("SELECT max(month) FROM margin_reconciliation").fetchone()[0]
        reconciliation = _records(
            con,
            "SELECT * FROM margin_reconciliation WHERE month = ? ORDER BY "
            "CASE WHEN line_item LIKE 'COST_POOL:%' THEN 2 WHEN line_item = 'OTHER' THEN 3 ELSE 1 END, "
            "CASE line_item WHEN 'REVENUE' THEN 1 WHEN 'COGS' THEN 2 WHEN 'REBATE_INCOME' THEN 3 "
            "WHEN 'SERVICES_COST' THEN 4 WHEN 'FREIGHT_COST' THEN 5 WHEN 'FREIGHT_RECOVERY' THEN 6 "
            "ELSE 7 END, "
            "line_item",
            [reconciliation_month],
        )
    data = ReportData(
        month=month,
        segments=segments,
        kpis=kpis,
        kpi_status=status,
        transitions=transitions,
        transitions_month=transitions_month,
        reconciliation=reconciliation,
        reconciliation_month=reconciliation_month,
    )
    if month is None:
        return data
    data.predicted_columns = [c for c in PREDICTED_SEGMENT_COLUMNS if c in segments.columns]
    # The pages' customers, as a table the queries below join to (a list literal would not scale).
    con.execute(f"CREATE OR REPLACE TEMP TABLE report_pages AS {page_customers_sql(per_stratum)}", [month])
    data.page_customers = [
        r[0] for r in con.execute("SELECT customer_no FROM report_pages ORDER BY customer_no").fetchall()
    ]
    if "fct_customer_profit_monthly" in tables:
        _read_waterfall(con, data, month, waterfall_months)
    if "fct_cost_to_serve_monthly" in tables:
        _read_cost_to_serve(con, data, month, window_months)
    if "account_playbook" in tables:
        _read_playbook(con, data)
    return data


def _read_waterfall(con, data: ReportData, month: dt.date, months: int) -> None:
    """Each page customer's waterfall summed over the `months` months ending with `month`, and its
    net revenue and contribution margin per month of that window."""
    data.waterfall_from = window_start(month, months)
    sums = ", ".join(f"sum(f.{c}) AS {c}" for c in WATERFALL)
    for row in _records(
        con,
        f"SELECT f.customer_no, {sums} FROM fct_customer_profit_monthly AS f "
        "JOIN report_pages USING (customer_no) WHERE f.month BETWEEN ? AND ? GROUP BY f.customer_no",
        [data.waterfall_from, month],
    ):
        data.waterfall[row.pop("customer_no")] = row
    for customer, month_end, net_revenue, margin in con.execute(
        "SELECT f.customer_no, f.month, f.net_revenue, f.contribution_margin "
        "FROM fct_customer_profit_monthly AS f JOIN report_pages USING (customer_no) "
        "WHERE f.month BETWEEN ? AND ? ORDER BY f.customer_no, f.month",
        [data.waterfall_from, month],
    ).fetchall():
        data.monthly.setdefault(customer, []).append((month_end, net_revenue, margin))


def _read_cost_to_serve(con, data: ReportData, month: dt.date, window_months: int) -> None:
    """T12M cost per activity of each page customer, and per maturity segment the median over its
    active customers at `month` (a customer without cost in an activity counts as 0)."""
    data.cts_window_from = window_start(month, window_months)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE report_cts AS
        WITH cost AS (
            SELECT customer_no, activity, sum(cost) AS cost
            FROM fct_cost_to_serve_monthly WHERE month BETWEEN ? AND ?
            GROUP BY customer_no, activity
        ), active AS (
            SELECT customer_no, coalesce(maturity_segment, '(none)') AS segment
            FROM customer_segments WHERE month = ?
        ), activities AS (SELECT DISTINCT activity FROM cost)
        SELECT a.customer_no, a.segment, x.activity, coalesce(c.cost, 0) AS cost
        FROM active AS a CROSS JOIN activities AS x
        LEFT JOIN cost AS c ON c.customer_no = a.customer_no AND c.activity = x.activity
        """,
        [data.cts_window_from, month, month],
    )
    for customer, activity, cost in con.execute(
        "SELECT customer_no, activity, cost FROM report_cts JOIN report_pages USING (customer_no)"
    ).fetchall():
        data.cts.setdefault(customer, {})[activity] = cost
    for segment, activity, median in con.execute(
        "SELECT segment, activity, quantile_cont(cost, 0.5) FROM report_cts GROUP BY segment, activity"
    ).fetchall():
        data.cts_medians.setdefault(segment, {})[activity] = Decimal(str(median))


def _read_playbook(con, data: ReportData) -> None:
    data.playbook_month = con.execute("SELECT max(month) FROM account_playbook").fetchone()[0]
    wanted = [
        c for c in PLAYBOOK_COLUMNS + PREDICTED_SEGMENT_COLUMNS if c in _columns(con, "account_playbook")
    ]
    for row in _records(
        con,
        f"SELECT p.customer_no, {', '.join('p.' + c for c in wanted)} FROM account_playbook AS p "
        "JOIN report_pages USING (customer_no)",
    ):
        data.playbook[row.pop("customer_no")] = row


def read_published(copy: PublishedCopy, **kwargs) -> ReportData:
    """`read_report_data` over the published copy `copy` (one publication, resolved once)."""
    con = copy.connect()
    try:
        return read_report_data(con, set(copy.tables), **kwargs)
    finally:
        con.close()
