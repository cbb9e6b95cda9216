"""What `strata demo` prints at the end: what was built, the newest month's KPIs, where to look."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from assets.publishing import open_published

KPI_COLUMNS = [
    ("customers", "{:,.0f}"), ("net_revenue", "{:,.0f}"), ("contribution_margin", "{:,.0f}"),
    ("contribution_margin_pct", "{:.1%}"), ("aov", "{:,.0f}"), ("retention_rate", "{:.1%}"),
    ("upsell_cross_sell_rate", "{:.1%}"), ("cltv", "{:,.0f}"),
]


KPI_HEADERS = {"contribution_margin": "CM", "contribution_margin_pct": "CM %", "aov": "AOV",
               "retention_rate": "retention", "upsell_cross_sell_rate": "upsell/x-sell", "cltv": "CLTV"}


def _fmt(value, pattern: str) -> str:
    return "–" if value is None else pattern.format(float(value))


def kpi_table(con: duckdb.DuckDBPyConnection, segmentation: str, lcy: str) -> Table | None:
    """The newest month's KPIs of one segmentation (ALL last) as a rich table."""
    rows = con.execute(
        f"""SELECT month, segment, {", ".join(c for c, _ in KPI_COLUMNS)}
            FROM segment_kpis
            WHERE segmentation = ? AND month = (SELECT max(month) FROM segment_kpis)
            ORDER BY segment = 'ALL', segment""",
        [segmentation],
    ).fetchall()
    if not rows:
        return None
    table = Table(title=f"{segmentation}: {rows[0][0]} (T12M, {lcy})", title_justify="left")
    table.add_column("segment")
    for column, _ in KPI_COLUMNS:
        table.add_column(KPI_HEADERS.get(column, column.replace("_", " ")), justify="right")
    for row in rows:
        table.add_row(row[1], *(_fmt(v, p) for v, (_, p) in zip(row[2:], KPI_COLUMNS, strict=True)))
    return table


def print_summary(console: Console, report, landing: Path, lcy: str) -> None:
    out = report.warehouse.parent
    copy = open_published(out)  # one publication, resolved once
    con = copy.connect()
    console.rule("published marts")
    for name, meta in copy.tables.items():
        console.print(f"  {name:<32} {meta['rows']:>10,} rows")
    if "segment_kpis" in copy.tables:
        for segmentation in ("stratum", "maturity_segment"):
            table = kpi_table(con, segmentation, lcy)
            if table is not None:
                console.print(table)
    if "margin_reconciliation" in copy.tables:
        diffs = con.execute(
            "SELECT month, line_item, difference FROM margin_reconciliation "
            "WHERE status = 'DIFFERENCE' ORDER BY month, line_item"
        ).fetchall()
        console.rule("reconciliation to the ledger")
        for month, item, diff in diffs:
            console.print(f"  {month} {item}: pipeline − GL = {diff:,.2f} {lcy}")
        if not diffs:
            console.print("  every line item within tolerance")
    console.rule("where to look")
    console.print(f"  warehouse (DuckDB):   {report.warehouse}")
    console.print(f"  published marts:      {report.published}/<table>/  (Parquet by month; marts.duckdb)")
    for extra, what in (("report/index.html", "segment report"), ("finance/finance.xlsx", "finance workbook"),
                        ("finance", "finance CSV files")):
        if (out / extra).exists():
            console.print(f"  {what + ':':<21} {out / extra}")
    console.print("  Dagster UI on this run:")
    console.print(
        f"    DAGSTER_HOME={report.dagster_home.resolve()} STRATA_LANDING={landing.resolve()} "
        f"STRATA_OUT={out.resolve()} uv run dagster dev -w workspace.yaml",
        soft_wrap=True,
    )
