"""What `strata demo` prints at the end: what was built, the newest month's KPIs, where to look."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

KPI_COLUMNS = [
    ("customers", "{:,.0f}"), ("net_revenue", "{:,.0f}"), ("contribution_margin", "{:,.0f}"),
    ("contribution_margin_pct", "{:.1%}"), ("aov", "{:,.0f}"), ("retention_rate", "{:.1%}"),
    ("upsell_cross_sell_rate", "{:.1%}"), ("cltv", "{:,.0f}"),
]


def _fmt(value, pattern: str) -> str:
    return "–" if value is None else pattern.format(float(value))


def kpi_table(con: duckdb.DuckDBPyConnection, published: Path, segmentation: str) -> Table | None:
    path = published / "segment_kpis" / "*.parquet"
    rows = con.execute(
        f"""SELECT month, segment, {", ".join(c for c, _ in KPI_COLUMNS)}
            FROM read_parquet('{path}')
            WHERE segmentation = ? AND month = (SELECT max(month) FROM read_parquet('{path}'))
            ORDER BY segment = 'ALL', segment""",
        [segmentation],
    ).fetchall()
    if not rows:
        return None
    table = Table(title=f"{segmentation} — {rows[0][0]} (T12M, LCY)", title_justify="left")
    table.add_column("segment")
    for column, _ in KPI_COLUMNS:
        table.add_column(column.replace("_", " "), justify="right")
    for row in rows:
        table.add_row(row[1], *(_fmt(v, p) for v, (_, p) in zip(row[2:], KPI_COLUMNS, strict=True)))
    return table


def print_summary(console: Console, report, landing: Path) -> None:
    published = report.published
    con = duckdb.connect()
    console.rule("published marts")
    for folder in sorted(p for p in published.iterdir() if p.is_dir()):
        n = con.execute(f"SELECT count(*) FROM read_parquet('{folder}/*.parquet')").fetchone()[0]
        console.print(f"  {folder.name:<32} {n:>10,} rows")
    if (published / "segment_kpis").is_dir():
        for segmentation in ("stratum", "maturity_segment"):
            table = kpi_table(con, published, segmentation)
            if table is not None:
                console.print(table)
    if (published / "margin_reconciliation").is_dir():
        diffs = con.execute(
            f"SELECT month, line_item, difference FROM read_parquet('{published}/margin_reconciliation/*.parquet') "
            "WHERE status = 'DIFFERENCE' ORDER BY month, line_item"
        ).fetchall()
        console.rule("reconciliation to the ledger")
        if diffs:
            for month, item, diff in diffs:
                console.print(f"  {month} {item}: pipeline − GL = {diff:,.2f}")
        else:
            console.print("  every line item within tolerance")
    console.rule("where to look")
    out = report.warehouse.parent
    console.print(f"  warehouse (DuckDB):  {report.warehouse}")
    console.print(f"  published marts:     {published}/<table>/*.parquet")
    console.print("  Dagster UI on this run:")
    console.print(
        f"    DAGSTER_HOME={report.dagster_home.resolve()} STRATA_LANDING={landing.resolve()} "
        f"STRATA_OUT={out.resolve()} uv run dagster dev -w workspace.yaml",
        soft_wrap=True,
    )
