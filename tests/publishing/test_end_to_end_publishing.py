"""Publishing in a whole real run: generated extracts → `orchestration.runner.materialize` → every
publishing asset; then PostgreSQL from the real published copy. (A failed rerun keeps the copy, the
report and the finance files: tests/test_end_to_end.py, through the `strata` command.)"""

import csv
import re
from decimal import Decimal

import duckdb
import openpyxl
import pytest
from psycopg import sql

from assets.publishing import MART_KEYS, PUBLISHED_DUCKDB, open_published, sql_ident, sql_literal
from assets.publishing.postgres import publish_postgres
from tests.publishing.browser import Visit
from tests.publishing.fixture import MART_COLUMNS

pytestmark = pytest.mark.slow


def test_the_run_publishes_the_copy_the_report_and_the_finance_files(e2e_run):
    _, report = e2e_run
    assert {"published_marts", "segment_report", "finance_export"} <= set(report.materialized)
    copy = open_published(report.warehouse.parent)
    assert copy.run_id == report.run_id
    with duckdb.connect(str(report.warehouse), read_only=True) as wh, duckdb.connect() as con:
        for table, columns in MART_COLUMNS.items():
            published = [(c["name"], c["type"]) for c in copy.tables[table]["columns"]]
            # marts.md's columns, in its order and with its types (a mart may add columns after them)
            assert published[: len(columns)] == columns, table
            n = wh.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
            assert copy.tables[table]["rows"] == n
            key = ", ".join(sql_ident(c) for c in MART_KEYS[table])
            got, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT ({key})) "
                f"FROM read_parquet({sql_literal(copy.parquet(table))})"
            ).fetchone()
            assert got == distinct == n, table
    with duckdb.connect(str(report.published / PUBLISHED_DUCKDB), read_only=True) as con:
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE NOT internal").fetchone()[0]
        assert tags["storage_version"].startswith("v1.0.0")
        assert {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} >= set(
            MART_KEYS
        )

    out = report.warehouse.parent
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    newest = con_newest_segment_month(copy)
    assert f"Segment month {newest}" in page
    # the strata map, whale curve and quadrant interactive (the real marts carry every column they read),
    # the KPI trends, transitions and predicted value as still images
    assert len(re.findall(r'<script type="application/json" data-figure="plot-[a-z_]+">', page)) == 3
    assert (
        len(re.findall(r'<img class="chart" id="chart-[a-z_]+"[^>]*src="data:image/png;base64,', page)) == 5
    )  # the KPI trends, the transitions and three charts of the predicted value (assets/report/clv.py)

    for file_name, table in (
        ("margin_reconciliation.csv", "margin_reconciliation"),
        ("customer_profit_waterfall.csv", "fct_customer_profit_monthly"),
    ):
        with open(out / "finance" / file_name, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
        assert len(rows) - 1 == copy.tables[table]["rows"]

    # The workbook's waterfall total is the reconciliation's revenue, up to each customer's rounding
    # to cents (at most half a cent per row).
    book = openpyxl.load_workbook(out / "finance" / "finance.xlsx", read_only=True, data_only=True)
    rows = list(book["Profit waterfall"].iter_rows(values_only=True))
    header, customers, total = rows[0], rows[1:-1], rows[-1]
    assert total[0] == "Total" and all(r[header.index("customer_no")] for r in customers)
    with duckdb.connect() as con:
        revenue = con.execute(
            f"SELECT pipeline_amount FROM read_parquet({sql_literal(copy.parquet('margin_reconciliation'))}) "
            "WHERE line_item = 'REVENUE' ORDER BY month DESC LIMIT 1").fetchone()[0]
    assert abs(total[header.index("net_revenue")] - float(revenue)) <= 0.005 * len(customers) + 1e-6


def con_newest_segment_month(copy) -> str:
    with duckdb.connect() as con:
        return (
            con.execute(
                f"SELECT max(month) FROM read_parquet({sql_literal(copy.parquet('customer_segments'))})"
            )
            .fetchone()[0]
            .isoformat()
        )


def test_the_real_marts_load_into_postgresql_with_their_keys(e2e_run, pg_database):
    _, report = e2e_run
    copy = open_published(report.warehouse.parent)
    result = publish_postgres(copy, pg_database.target())  # primary keys accept the real grains
    with pg_database.connect() as conn:
        for table in MART_KEYS:
            n = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("marts", table))
            ).fetchone()[0]
            assert n == result.rows[table] == copy.tables[table]["rows"], table
        total = conn.execute("SELECT sum(net_revenue) FROM marts.fct_customer_profit_monthly").fetchone()[0]
    with duckdb.connect() as con:
        expected = con.execute(
            "SELECT sum(net_revenue) "
            f"FROM read_parquet({sql_literal(copy.parquet('fct_customer_profit_monthly'))})"
        ).fetchone()[0]
    assert total == expected  # exact decimals


def test_the_real_runs_report_opens_offline_and_a_page_matches_the_marts(e2e_run, browser):
    _, report = e2e_run
    out = report.warehouse.parent
    copy = open_published(out)
    with duckdb.connect() as con:
        segments = sql_literal(copy.parquet("customer_segments"))
        profit = sql_literal(copy.parquet("fct_customer_profit_monthly"))
        # the customer losing the most, and the 24 newest months of the fact up to the segment month
        customer, *percentiles = con.execute(
            f"SELECT customer_no, net_revenue_percentile, orders_percentile, product_families_percentile, "
            f"contribution_margin_percentile, contribution_margin_pct_percentile FROM read_parquet({segments}) "
            f"WHERE month = (SELECT max(month) FROM read_parquet({segments})) "
            "ORDER BY contribution_margin_t12m, customer_no LIMIT 1"
        ).fetchone()
        margin = con.execute(
            f"WITH months AS (SELECT DISTINCT month FROM read_parquet({profit}) "
            f"WHERE month <= (SELECT max(month) FROM read_parquet({segments})) ORDER BY month DESC LIMIT 24) "
            f"SELECT sum(contribution_margin) FROM read_parquet({profit}) "
            "WHERE customer_no = ? AND month IN (SELECT month FROM months)",
            [customer],
        ).fetchone()[0]
    page = out / "report" / "index.html"
    visit = Visit(browser, page.as_uri())
    visit.draw_every_chart()
    visit.open_customer(customer)
    last = visit.page.evaluate(
        "() => document.getElementById('customer-waterfall').data[0].customdata.at(-1)"
    )
    assert Decimal(repr(last)) == margin
    shown = visit.page.eval_on_selector_all(
        "td.percentile", "cells => cells.map(c => Number(c.dataset.value))"
    )
    assert shown == percentiles
    assert visit.errors == [] and visit.requests == [page.as_uri()]
