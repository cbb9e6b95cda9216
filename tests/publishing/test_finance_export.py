"""The finance export: the workbook of the newest month and the CSV files, from the published copy."""

import codecs
import csv
import datetime as dt
from decimal import Decimal

import dagster as dg
import duckdb
import openpyxl
import pytest

from assets.core.resources import StrataPaths
from assets.core.settings import load_settings
from assets.finance_export import WORKBOOK, export_finance, finance_export
from assets.publishing import open_published, publish
from tests.publishing.fixture import MART_COLUMNS

LCY = load_settings().currency.lcy
MONTH = dt.date(2026, 7, 31)  # after the fixture's 30 months (2024-01 .. 2026-06): only the rows below
MONEY = [c for c, t in MART_COLUMNS["fct_customer_profit_monthly"] if t == "DECIMAL(18,2)"]

# The hand-made month. Each waterfall row keeps the identities:
#   net_revenue = gross_sales − credits; gross_margin = net_revenue − cogs + rebate_income − services_cost;
#   cost_to_serve = Σ cts_*; contribution_margin = gross_margin − cost_to_serve.
# C9001: 1000.10 − 100.00 = 900.10; 900.10 − 700.05 + 10.00 − 5.00 = 205.05;
#        cts 12.34 + 20.00 + 3.00 + 40.00 + 0 + 1.11 + 2.50 + 0.55 = 79.50; cm 205.05 − 79.50 = 125.55
# C9002: 2500.00 − 0 = 2500.00; 2500.00 − 2100.00 + 0 − 50.00 = 350.00;
#        cts 7.66 + 30.00 + 0 + 60.00 + 25.00 + 0.89 + 7.50 + 1.45 = 132.50; cm 350.00 − 132.50 = 217.50
# UNASSIGNED: 0 − 40.00 = −40.00; −40.00 − (−30.00) = −10.00; cts 0; cm −10.00
WATERFALL = {
    "C9001": ["1000.10", "100.00", "900.10", "700.05", "10.00", "5.00", "205.05",
              "12.34", "20.00", "3.00", "40.00", "0.00", "1.11", "2.50", "0.55", "79.50", "125.55"],
    "C9002": ["2500.00", "0.00", "2500.00", "2100.00", "0.00", "50.00", "350.00",
              "7.66", "30.00", "0.00", "60.00", "25.00", "0.89", "7.50", "1.45", "132.50", "217.50"],
    "UNASSIGNED": ["0.00", "40.00", "-40.00", "-30.00", "0.00", "0.00", "-10.00",
                   "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "-10.00"],
}
# The reconciliation of the month: pipeline = Σ of the waterfall above
#   REVENUE 900.10 + 2500.00 − 40.00 = 3360.10 (of which UNASSIGNED −40.00); COGS 700.05 + 2100.00 − 30.00 = 2770.05
#   COST_POOL:ORDER_ENTRY 12.34 + 7.66 = 20.00
RECONCILIATION = [
    ("COGS", "2770.05", "-30.00", None, None, "2770.05", "0.00", "OK"),
    ("COST_POOL:ORDER_ENTRY", "20.00", "0.00", "0.00", "0.00", "20.00", "0.00", "OK"),
    ("REVENUE", "3360.10", "-40.00", None, None, "3360.10", "0.00", "OK"),
]
# Cost to serve by activity: ORDER_ENTRY is allocated (6 + 4 orders at 2.00 a unit), NET_FREIGHT direct.
COST_TO_SERVE = [
    ("C9001", "NET_FREIGHT", None, None, "2.50"),
    ("C9001", "ORDER_ENTRY", "6", 2.0, "12.34"),
    ("C9002", "ORDER_ENTRY", "4", 2.0, "7.66"),
]


def _insert(con, table: str, values: dict) -> None:
    """One row into marts.<table>; columns not given (the fixture's run_id stamp) stay NULL."""
    names = ", ".join(values)
    con.execute(f"INSERT INTO marts.{table} ({names}) VALUES ({', '.join('?' for _ in values)})",
                list(values.values()))


@pytest.fixture
def hand_month(warehouse):
    """The fixture warehouse plus the hand-made month 2026-07, with names in two places."""
    with duckdb.connect(str(warehouse)) as con:
        for no, amounts in WATERFALL.items():
            _insert(con, "fct_customer_profit_monthly",
                    {"month": MONTH, "customer_no": no, **{c: Decimal(a) for c, a in zip(MONEY, amounts, strict=True)}})
        for item, pipe, unassigned, unallocated, unused, gl, diff, status in RECONCILIATION:
            _insert(con, "margin_reconciliation", {
                "month": MONTH, "line_item": item, "pipeline_amount": pipe, "unassigned_amount": unassigned,
                "unallocated_amount": unallocated, "unused_capacity_amount": unused, "gl_amount": gl,
                "difference": diff, "status": status})
        for no, activity, units, rate, cost in COST_TO_SERVE:
            _insert(con, "fct_cost_to_serve_monthly", {"month": MONTH, "customer_no": no, "activity": activity,
                                                       "driver_units": units, "rate": rate, "cost": cost})
        # C9001's name changed: the newest month's wins. C9002 is named by the account playbook only.
        segment = {"customer_group": "RESELLER", "net_revenue_t12m": 1, "gross_margin_t12m": 1,
                   "cost_to_serve_t12m": 1, "contribution_margin_t12m": 1, "orders_t12m": 1,
                   "product_families_t12m": 1, "topline_score": 50.0, "profitability_score": 50.0,
                   "stratum": "CORE", "profitability_quadrant": "Q1", "revenue_tier": "MID",
                   "maturity_score": 50.0, "maturity_tier": "DEVELOPING", "appetite_score": 50.0,
                   "maturity_segment": "GROW", "needs_group": "N1"}
        _insert(con, "customer_segments", {"month": dt.date(2026, 6, 30), "customer_no": "C9001",
                                           "customer_name": "Mueller (old name)", "config_version": "cfg-old", **segment})
        _insert(con, "customer_segments", {"month": MONTH, "customer_no": "C9001",
                                           "customer_name": "Müller Systemhaus GmbH", "config_version": "cfg-hand-001",
                                           **segment})
        con.execute("DELETE FROM marts.account_playbook WHERE customer_no = 'C9002'")
        _insert(con, "account_playbook", {"customer_no": "C9002", "customer_name": "Café Numérique SARL",
                                          "month": MONTH, "stratum": "CORE", "maturity_segment": "GROW",
                                          "profitability_quadrant": "Q1"})
    return warehouse


def _table(sheet, header_row: int) -> tuple[list[str], list[dict]]:
    rows = list(sheet.iter_rows(min_row=header_row, values_only=True))
    header = list(rows[0])
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_the_workbook_holds_the_newest_month_with_names_and_totals(hand_month, out_dir):
    publish(hand_month, out_dir, "fin-xlsx")
    result = export_finance(open_published(out_dir), out_dir / "finance", LCY, "cfg-settings")
    assert result.workbook_month == "2026-07-31"
    book = openpyxl.load_workbook(out_dir / "finance" / WORKBOOK, data_only=True)
    assert book.sheetnames == ["Reconciliation", "Profit waterfall", "Cost to serve"]

    # The first sheet: the month and the configuration version of the month's segments, then the mart.
    rec = book["Reconciliation"]
    assert rec["A2"].value == "Month" and rec["B2"].value == dt.datetime(2026, 7, 31)
    assert rec["A3"].value == "Configuration version" and rec["B3"].value == "cfg-hand-001"
    assert rec["B4"].value == LCY
    assert rec.freeze_panes == "A8"  # five lines, a blank one, the header on row 7
    header, rows = _table(rec, 7)
    assert header[: len(MART_COLUMNS["margin_reconciliation"])] == [c for c, _ in MART_COLUMNS["margin_reconciliation"]]
    assert [(r["line_item"], r["pipeline_amount"], r["unassigned_amount"], r["status"]) for r in rows] == [
        ("COGS", 2770.05, -30.00, "OK"), ("COST_POOL:ORDER_ENTRY", 20.00, 0.0, "OK"), ("REVENUE", 3360.10, -40.00, "OK")]
    assert rec.cell(8, header.index("pipeline_amount") + 1).number_format == f'#,##0.00 "{LCY}";[Red]-#,##0.00 "{LCY}"'
    pipeline = {r["line_item"]: r["pipeline_amount"] for r in rows}

    # The waterfall: names after customer_no, a total row equal to the reconciliation's pipeline amounts.
    wf = book["Profit waterfall"]
    assert wf.freeze_panes == "A2"
    header, rows = _table(wf, 1)
    assert header[:3] == ["month", "customer_no", "customer_name"]
    assert header[3: 3 + len(MONEY)] == MONEY
    *customers, total = rows
    assert [(r["customer_no"], r["customer_name"]) for r in customers] == [
        ("C9001", "Müller Systemhaus GmbH"), ("C9002", "Café Numérique SARL"), ("UNASSIGNED", None)]
    assert customers[0]["month"] == dt.datetime(2026, 7, 31)
    assert [customers[0][c] for c in MONEY] == [float(a) for a in WATERFALL["C9001"]]
    assert total["month"] == "Total"
    assert total["net_revenue"] == pytest.approx(pipeline["REVENUE"], abs=1e-9) == pytest.approx(3360.10)
    assert total["cogs"] == pytest.approx(pipeline["COGS"], abs=1e-9) == pytest.approx(2770.05)
    assert total["cts_order_entry"] == pytest.approx(pipeline["COST_POOL:ORDER_ENTRY"], abs=1e-9)
    assert total["cost_to_serve"] == pytest.approx(212.00, abs=1e-9)  # 79.50 + 132.50 + 0
    assert total["contribution_margin"] == pytest.approx(333.05, abs=1e-9)  # 125.55 + 217.50 − 10.00
    assert wf.cell(len(rows) + 1, header.index("net_revenue") + 1).value is not None
    money_cell = wf.cell(2, header.index("net_revenue") + 1)
    assert isinstance(money_cell.value, float) and LCY in money_cell.number_format

    # Cost to serve by customer and activity, with names; its total is the activities' cost.
    cts = book["Cost to serve"]
    header, rows = _table(cts, 1)
    assert header[:4] == ["month", "customer_no", "customer_name", "activity"]
    *lines, total = rows
    assert [(r["customer_no"], r["customer_name"], r["activity"], r["driver_units"], r["rate"], r["cost"])
            for r in lines] == [("C9001", "Müller Systemhaus GmbH", "NET_FREIGHT", None, None, 2.50),
                                ("C9001", "Müller Systemhaus GmbH", "ORDER_ENTRY", 6.0, 2.0, 12.34),
                                ("C9002", "Café Numérique SARL", "ORDER_ENTRY", 4.0, 2.0, 7.66)]
    assert total["cost"] == pytest.approx(22.50, abs=1e-9)  # 2.50 + 12.34 + 7.66
    assert total["driver_units"] is None  # only money is totalled


def test_the_csv_files_start_with_a_byte_order_mark_and_hold_every_month_exactly(warehouse, out_dir):
    publish(warehouse, out_dir, "fin-1")
    result = export_finance(open_published(out_dir), out_dir / "finance", LCY, "cfg")
    assert set(result.files) == {"margin_reconciliation.csv", "customer_profit_waterfall.csv", WORKBOOK}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for file_name, table in (
            ("margin_reconciliation.csv", "margin_reconciliation"),
            ("customer_profit_waterfall.csv", "fct_customer_profit_monthly"),
        ):
            path = out_dir / "finance" / file_name
            assert path.read_bytes()[:4] == codecs.BOM_UTF8 + b"m"  # the BOM, then the header's `month`
            with open(path, newline="", encoding="utf-8-sig") as f:
                rows = list(csv.reader(f))
            header, body = rows[0], rows[1:]
            assert header[: len(MART_COLUMNS[table])] == [c for c, _ in MART_COLUMNS[table]]
            expected = con.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
            assert len(body) == len(expected) == result.rows[file_name]
            # Money is exact decimal text with two places; empty stays empty.
            money = [i for i, (_, t) in enumerate(MART_COLUMNS[table]) if t == "DECIMAL(18,2)"]
            for row in body:
                for i in money:
                    assert row[i] == "" or (Decimal(row[i]).as_tuple().exponent == -2 and "," not in row[i])
            parsed = sorted(
                tuple(
                    row[0] if i == 0 else (Decimal(v) if i in money and v else (v or None))
                    for i, v in enumerate(row[: len(MART_COLUMNS[table])])
                )
                for row in body
            )
            want = sorted(
                tuple(r[0].isoformat() if i == 0 else r[i] for i in range(len(MART_COLUMNS[table])))
                for r in expected
            )
            assert parsed == want, file_name
            # Sorted by the key (month, then line item / customer).
            keys = [(r[0], r[1]) for r in body]
            assert keys == sorted(keys)


def test_the_asset_writes_the_files(warehouse, out_dir):
    publish(warehouse, out_dir, "fin-2")
    result = dg.materialize(
        [finance_export],
        resources={"paths": StrataPaths(landing_dir=str(out_dir / "landing"), out_dir=str(out_dir))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    [mat] = [e.materialization for e in result.get_asset_materialization_events()]
    assert mat.metadata["rows/margin_reconciliation.csv"].value > 0
    assert mat.metadata["workbook_month"].value == "2026-06-30"  # the fixture's newest month
    assert (out_dir / "finance" / "customer_profit_waterfall.csv").stat().st_size > 0
    assert openpyxl.load_workbook(out_dir / "finance" / WORKBOOK, read_only=True).sheetnames[0] == "Reconciliation"
    assert not list((out_dir / "finance").glob(".*.tmp")) and not list((out_dir / "finance").glob(".*.body"))
