"""The finance export: a workbook of the newest month, and every month as CSV files.

From the published copy (resolved once, so every file comes from the same publication):

- `<out>/finance/finance.xlsx`, the newest month of the publication, one sheet per table:
  `Reconciliation` (margin_reconciliation; above its header the month, the configuration version,
  the reporting currency and the publication), `Profit waterfall` (fct_customer_profit_monthly with
  each customer's name, a subtotal row at the bottom) and `Cost to serve` (fct_cost_to_serve_monthly
  by customer and activity, with names). Money is numeric with the reporting currency's format,
  dates are dates, header rows are frozen, columns sized to their content. A sheet longer than
  Excel's row limit continues on a second sheet (`Cost to serve (2)`).
- `<out>/finance/margin_reconciliation.csv` and `customer_profit_waterfall.csv`, every month: the
  mart's columns in its order, sorted by its key, UTF-8 with a byte-order mark, comma-separated, a
  header row, RFC 4180 quoting, dates `YYYY-MM-DD`, money as exact decimal text with two places
  (`1234.50`), an empty field for an empty value.

Every file is written beside its target and renamed over it, so a reader never opens a half-written
one. Customer names come from the published segments (customer_segments, account_playbook: the
name in the newest month the customer had a segment); a customer never active since segments
start, and UNASSIGNED, has an empty name.
"""

import codecs
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import xlsxwriter
from xlsxwriter.utility import xl_range

from assets.core.resources import StrataPaths
from assets.core.retries import transient_retries
from assets.publishing import MART_KEYS, PublishedCopy, open_published, sql_ident, sql_literal

FINANCE_DIR = "finance"
WORKBOOK = "finance.xlsx"
# file name → the published mart it holds
EXPORTS = {
    "margin_reconciliation.csv": "margin_reconciliation",
    "customer_profit_waterfall.csv": "fct_customer_profit_monthly",
}
# sheet title → the published mart it holds, in the workbook's order
SHEETS = {
    "Reconciliation": "margin_reconciliation",
    "Profit waterfall": "fct_customer_profit_monthly",
    "Cost to serve": "fct_cost_to_serve_monthly",
}
NAMED_SHEETS = ("fct_customer_profit_monthly", "fct_cost_to_serve_monthly")  # get customer_name
NAME_SOURCES = ("customer_segments", "account_playbook")
MONEY_TYPE = "DECIMAL(18,2)"  # every published money column (the marts' interface)
EXCEL_MAX_ROWS = 1_048_576
FETCH_ROWS = 10_000
MAX_WIDTH = 45


@dataclass
class FinanceExport:
    files: dict[str, Path]
    rows: dict[str, int]
    months: dict[str, tuple[str | None, str | None]]
    workbook_month: str | None = None


def export_finance(copy: PublishedCopy, finance_dir: Path, lcy: str, config_version: str) -> FinanceExport:
    """Write the workbook and the CSV files from one publication.

    `lcy` is the reporting currency (its code labels the money cells); `config_version` the
    configuration's version, shown unless the publication's segments of the month carry their own.
    """
    needed = set(EXPORTS.values()) | set(SHEETS.values()) | set(NAME_SOURCES)
    missing = sorted(needed - set(copy.tables))
    if missing:
        raise dg.Failure(f"the published copy {copy.version} lacks {', '.join(missing)}: "
                         "publish again with a complete run (strata materialize)")
    finance_dir.mkdir(parents=True, exist_ok=True)
    files, rows, months = {}, {}, {}
    with copy.connect() as con:
        for file_name, table in EXPORTS.items():
            files[file_name] = _write_csv(con, copy, table, finance_dir / file_name)
            n, first, last = con.execute(
                f"SELECT count(*), min(month), max(month) FROM {sql_ident(table)}").fetchone()
            rows[file_name] = n
            months[file_name] = (first.isoformat() if first else None, last.isoformat() if last else None)
        month = con.execute("SELECT max(month) FROM margin_reconciliation").fetchone()[0]
        workbook = finance_dir / WORKBOOK
        if month is not None:
            version = _config_version(con, month) or config_version
            rows[WORKBOOK] = _write_workbook(con, copy, month, lcy, version, workbook)
            files[WORKBOOK] = workbook
            months[WORKBOOK] = (month.isoformat(), month.isoformat())
    return FinanceExport(files=files, rows=rows, months=months,
                         workbook_month=month.isoformat() if month else None)


def _replace(tmp: Path, target: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)


def _tmp(target: Path) -> Path:
    return target.parent / f".{target.name}.{os.getpid()}.tmp"


def _write_csv(con: duckdb.DuckDBPyConnection, copy: PublishedCopy, table: str, target: Path) -> Path:
    columns = [c["name"] for c in copy.tables[table]["columns"]]
    order = ", ".join(sql_ident(c) for c in MART_KEYS[table] if c in columns)
    body = _tmp(target).with_suffix(".body")
    con.execute(
        f"COPY (SELECT {', '.join(sql_ident(c) for c in columns)} FROM {sql_ident(table)} ORDER BY {order}) "
        f"TO {sql_literal(body)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', NULLSTR '')"
    )
    # DuckDB writes no byte-order mark; Excel needs one to read the file as UTF-8 (customer names).
    tmp = _tmp(target)
    try:
        with open(tmp, "wb") as out, open(body, "rb") as src:
            out.write(codecs.BOM_UTF8)
            shutil.copyfileobj(src, out, 1 << 20)
    finally:
        body.unlink(missing_ok=True)
    _replace(tmp, target)
    return target


def _config_version(con: duckdb.DuckDBPyConnection, month: dt.date) -> str | None:
    """The configuration version the publication's segments of `month` were built with, if any."""
    row = con.execute("SELECT min(config_version) FROM customer_segments WHERE month = ?", [month]).fetchone()
    return row[0] if row else None


# --------------------------------------------------------------------------------------------------
# The workbook.


@dataclass(frozen=True)
class _Column:
    name: str
    type: str

    @property
    def is_money(self) -> bool:
        return self.type == MONEY_TYPE

    @property
    def is_number(self) -> bool:
        return self.type.startswith(("DECIMAL", "DOUBLE", "FLOAT", "BIGINT", "INTEGER", "HUGEINT"))


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook, lcy: str):
        # Thousands separator and decimal point follow the reader's Excel locale; the code is literal.
        money = f'#,##0.00 "{lcy}";[Red]-#,##0.00 "{lcy}"'
        self.money = book.add_format({"num_format": money})
        self.money_total = book.add_format({"num_format": money, "bold": True, "top": 1})
        self.number = book.add_format({"num_format": "#,##0.00########"})
        self.integer = book.add_format({"num_format": "#,##0"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#EEF1F5", "text_wrap": True,
                                       "valign": "top"})
        self.label = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.total_label = book.add_format({"bold": True, "top": 1})

    def cell(self, column: _Column):
        if column.is_money:
            return self.money
        if column.type == "DATE":
            return self.date
        if column.type in ("BIGINT", "INTEGER", "HUGEINT"):
            return self.integer
        if column.is_number:
            return self.number
        return None


def _sheet_query(copy: PublishedCopy, table: str, month: dt.date) -> tuple[str, list[_Column]]:
    """The rows of `table` for `month`, sorted by its key, customer_name after customer_no."""
    columns = [_Column(c["name"], c["type"]) for c in copy.tables[table]["columns"]]
    select = []
    out: list[_Column] = []
    for column in columns:
        select.append(f"t.{sql_ident(column.name)}")
        out.append(column)
        if column.name == "customer_no" and table in NAMED_SHEETS:
            select.append("n.customer_name")
            out.append(_Column("customer_name", "VARCHAR"))
    order = ", ".join(f"t.{sql_ident(c)}" for c in MART_KEYS[table])
    join = ""
    if table in NAMED_SHEETS:
        names = " UNION ALL ".join(f"SELECT customer_no, customer_name, month FROM {sql_ident(s)}"
                                   for s in NAME_SOURCES)
        join = (f"LEFT JOIN (SELECT customer_no, arg_max(customer_name, month) AS customer_name "
                f"FROM ({names}) GROUP BY customer_no) AS n USING (customer_no)")
    sql = (f"SELECT {', '.join(select)} FROM {sql_ident(table)} AS t {join} "
           f"WHERE t.month = {sql_literal(month.isoformat())}::DATE ORDER BY {order}")
    return sql, out


def _widths(con: duckdb.DuckDBPyConnection, sql: str, columns: list[_Column]) -> list[int]:
    """A width per column from its longest value as displayed (money gets its separators and code)."""
    lengths = ", ".join(f"max(length(CAST({sql_ident(c.name)} AS VARCHAR)))" for c in columns)
    longest = con.execute(f"SELECT {lengths} FROM ({sql})").fetchone()
    widths = []
    for column, n in zip(columns, longest, strict=True):
        shown = (n or 0) + ((n or 0) // 3 + 5 if column.is_money else 0)  # separators, " EUR"
        if column.type == "DATE":
            shown = 10
        widths.append(min(MAX_WIDTH, max(shown, min(len(column.name), 18)) + 2))
    return widths


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[tuple]:
    cursor = con.execute(sql)
    while batch := cursor.fetchmany(FETCH_ROWS):
        yield from batch


def _write_value(sheet, row: int, col: int, value, fmt) -> None:
    if value is None:
        return
    if isinstance(value, Decimal | int | float):
        # Excel holds numbers as binary doubles: exact to the cent below 2^53 cents (~9e13).
        sheet.write_number(row, col, float(value), fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value))  # never a formula, whatever the text


def _write_workbook(con: duckdb.DuckDBPyConnection, copy: PublishedCopy, month: dt.date, lcy: str,
                    config_version: str, target: Path) -> int:
    """Write the workbook of `month`; returns the data rows written over all sheets."""
    tmp = _tmp(target)
    # constant_memory: rows go to disk as they are written, so a large month never sits in memory.
    book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "nan_inf_to_errors": True})
    book.set_properties({"title": f"strata finance export {month:%Y-%m}", "comments": copy.version.name})
    formats = _Formats(book, lcy)
    preamble = [
        ("strata finance export", None),
        ("Month", month),
        ("Configuration version", config_version),
        ("Reporting currency", lcy),
        ("Publication", f"{copy.version.name} (run {copy.run_id})"),
    ]
    total = 0
    try:
        for title, table in SHEETS.items():
            sql, columns = _sheet_query(copy, table, month)
            first = table == "margin_reconciliation"
            total += _write_table(book, formats, title, con, sql, columns, preamble if first else [],
                                  subtotal=table in NAMED_SHEETS)
    finally:
        book.close()
    _replace(tmp, target)
    return total


def _write_table(book, formats: _Formats, title: str, con, sql: str, columns: list[_Column],
                 preamble: list[tuple[str, object]], subtotal: bool) -> int:
    widths = _widths(con, sql, columns)
    rows = _rows(con, sql)
    written, part, pending = 0, 1, next(rows, None)
    while True:
        sheet = book.add_worksheet(title if part == 1 else f"{title} ({part})")
        for i, width in enumerate(widths):
            sheet.set_column(i, i, width)
        r = 0
        for label, value in preamble if part == 1 else []:
            if value is None:
                sheet.write_string(r, 0, label, formats.title)
            else:
                sheet.write_string(r, 0, label, formats.label)
                _write_value(sheet, r, 1, value, formats.date if isinstance(value, dt.date) else None)
            r += 1
        if preamble and part == 1:
            r += 1
        header = r
        for i, column in enumerate(columns):
            sheet.write_string(header, i, column.name, formats.header)
        sheet.freeze_panes(header + 1, 0)
        r += 1
        cells = [formats.cell(c) for c in columns]
        sums = [Decimal(0) if c.is_money else None for c in columns]
        limit = EXCEL_MAX_ROWS - (2 if subtotal else 0)
        while pending is not None and r < limit:
            for i, value in enumerate(pending):
                _write_value(sheet, r, i, value, cells[i])
                if sums[i] is not None and value is not None:
                    sums[i] += value
            r, written, pending = r + 1, written + 1, next(rows, None)
        last = r - 1
        sheet.autofilter(header, 0, max(last, header), len(columns) - 1)
        if subtotal and last > header:
            # SUBTOTAL(9, ...) sums what the autofilter shows; the cached value is the exact sum.
            sheet.write_string(r, 0, "Total", formats.total_label)
            for i, s in enumerate(sums):
                if s is not None:
                    ref = xl_range(header + 1, i, last, i)
                    sheet.write_formula(r, i, f"=SUBTOTAL(9,{ref})", formats.money_total, float(s))
        if pending is None:
            return written
        part += 1


@dg.asset(
    name="finance_export",
    group_name="publishing",
    deps=[dg.AssetKey("published_marts")],
    description="For finance: <out>/finance/finance.xlsx (the newest month: reconciliation, profit "
    "waterfall with customer names, cost to serve by activity) and every month as CSV "
    "(margin_reconciliation.csv, customer_profit_waterfall.csv: exact decimal text).",
    owners=["team:data-engineering"],
    kinds={"xlsx", "csv"},
)
@transient_retries
def finance_export(context: dg.AssetExecutionContext, paths: StrataPaths) -> dg.MaterializeResult:
    copy = open_published(paths.out)
    settings = paths.settings()
    result = export_finance(copy, paths.out / FINANCE_DIR, settings.currency.lcy, settings.version)
    context.log.info(f"wrote {', '.join(str(p) for p in result.files.values())} from {copy.version.name}")
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(paths.out / FINANCE_DIR)),
            "published_copy": copy.version.name,
            "workbook_month": result.workbook_month or "",
            **{f"file/{name}": dg.MetadataValue.path(str(p)) for name, p in result.files.items()},
            **{f"rows/{name}": n for name, n in result.rows.items()},
            **{f"months/{name}": f"{a} .. {b}" for name, (a, b) in result.months.items()},
        }
    )
