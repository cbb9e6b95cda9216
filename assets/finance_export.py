"""The finance export: the reconciliation and the customer profit waterfall per month, as CSV files.

`<out>/finance/margin_reconciliation.csv` (margin_reconciliation) and
`<out>/finance/customer_profit_waterfall.csv` (fct_customer_profit_monthly), every month, the mart's
columns in its order, sorted by its key. Written by DuckDB from the published copy (resolved once, so
both files come from the same publication): UTF-8, comma-separated, a header row, RFC 4180 quoting,
dates `YYYY-MM-DD`, money as exact decimal text with two places (`1234.50`, no thousands
separators, `.` as the decimal point), an empty field for an empty value. Each file is written
beside its target and renamed over it, so a reader never opens a half-written file.

XLSX (one sheet each) needs a spreadsheet writer (xlsxwriter or openpyxl) that the project does not
depend on yet; the CSV files open in any spreadsheet.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from assets.publishing import MART_KEYS, PublishedCopy, open_published, sql_ident, sql_literal
from orchestration.resources import StrataPaths

FINANCE_DIR = "finance"
# file name → the published mart it holds
EXPORTS = {
    "margin_reconciliation.csv": "margin_reconciliation",
    "customer_profit_waterfall.csv": "fct_customer_profit_monthly",
}


@dataclass
class FinanceExport:
    files: dict[str, Path]
    rows: dict[str, int]
    months: dict[str, tuple[str | None, str | None]]


def export_finance(copy: PublishedCopy, finance_dir: Path) -> FinanceExport:
    missing = sorted(set(EXPORTS.values()) - set(copy.tables))
    if missing:
        raise dg.Failure(f"the published copy {copy.version} lacks {', '.join(missing)}")
    finance_dir.mkdir(parents=True, exist_ok=True)
    files, rows, months = {}, {}, {}
    with duckdb.connect() as con:
        for file_name, table in EXPORTS.items():
            columns = [c["name"] for c in copy.tables[table]["columns"]]
            order = ", ".join(sql_ident(c) for c in MART_KEYS[table] if c in columns)
            source = f"read_parquet({sql_literal(copy.parquet(table))})"
            target = finance_dir / file_name
            tmp = finance_dir / f".{file_name}.{os.getpid()}.tmp"
            con.execute(
                f"COPY (SELECT {', '.join(sql_ident(c) for c in columns)} FROM {source} ORDER BY {order}) "
                f"TO {sql_literal(tmp)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', NULLSTR '')"
            )
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, target)
            n, first, last = con.execute(f"SELECT count(*), min(month), max(month) FROM {source}").fetchone()
            files[file_name], rows[file_name] = target, n
            months[file_name] = (first.isoformat() if first else None, last.isoformat() if last else None)
    return FinanceExport(files=files, rows=rows, months=months)


@dg.asset(
    name="finance_export",
    group_name="publishing",
    deps=[dg.AssetKey("published_marts")],
    description="The reconciliation and the customer profit waterfall per month for finance: "
    "<out>/finance/margin_reconciliation.csv and customer_profit_waterfall.csv (exact decimal text).",
    owners=["team:data-engineering"],
    kinds={"csv"},
)
def finance_export(context: dg.AssetExecutionContext, paths: StrataPaths) -> dg.MaterializeResult:
    copy = open_published(paths.out)
    result = export_finance(copy, paths.out / FINANCE_DIR)
    context.log.info(f"wrote {', '.join(str(p) for p in result.files.values())} from {copy.version.name}")
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(paths.out / FINANCE_DIR)),
            "published_copy": copy.version.name,
            **{f"file/{name}": dg.MetadataValue.path(str(p)) for name, p in result.files.items()},
            **{f"rows/{name}": n for name, n in result.rows.items()},
            **{f"months/{name}": f"{a} .. {b}" for name, (a, b) in result.months.items()},
        }
    )
