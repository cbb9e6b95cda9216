"""The three finance marts on the hand-made fixture (fixture.py), every column, to the cent.

Every expected number below is worked out by hand from the fixture rows and methodology §1-5;
the arithmetic is in the comments. Money is compared as Decimal (the marts publish DECIMAL(18,2),
rounded half away from zero from unrounded sums), rates with a 1e-9 tolerance (they are DOUBLE).
LCY is USD; EUR is 1.10 in January and 1.20 in February, GBP 1.25 and 1.30, USD (LCY) 1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.finance.fixture import BATCHES
from tests.support.warehouse import build_fixture_warehouse, columns, query, table

JAN, FEB = date(2026, 1, 31), date(2026, 2, 28)
UN = "UNASSIGNED"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_fixture_warehouse(BATCHES, tmp_path_factory.mktemp("finance"))


def money(*values) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


# ---------------------------------------------------------------------------------------------
# fct_customer_profit_monthly
# ---------------------------------------------------------------------------------------------
PROFIT_COLUMNS = [
    "month", "customer_no", "gross_sales", "credits", "net_revenue", "cogs", "rebate_income",
    "services_cost", "gross_margin", "cts_order_entry", "cts_warehouse", "cts_returns", "cts_sales_coverage",
    "cts_support_desk", "cts_credit_collections", "cts_net_freight", "cts_receivables_carrying",
    "cost_to_serve", "contribution_margin",
]

# Cost pools, January (rate = GL / Σ units of all customers, UNASSIGNED included):
#   ORDER_ENTRY   GL 100: units C100 PHONE 1.0 + EMAIL 1.0 = 2.0, C200 PORTAL 0.3, C300 EDI 0.1,
#                 UNASSIGNED (C999) API 0.1 -> 2.5 units, rate 40 -> 80.00, 12.00, 4.00, 4.00
#   WAREHOUSE     GL 100: non-drop-ship invoice lines INV-1/1 (C100), INV-2 (C200), INV-4 (UNASSIGNED);
#                 INV-1/2 and INV-3 are drop-shipped -> 3 units, 100/3 = 33.333333333333 each -> 33.33
#   RETURNS       GL 25: CM-1 DEFECTIVE (C100); CM-2 is a PRICE_ADJUSTMENT, no unit -> C100 25.00
#   SALES_COVERAGE GL 340: minutes C100 30 (ACC-A) + 45 (ACC-A2) = 75, C200 60, UNASSIGNED 20 (deleted
#                 ACC-DEL) + 15 (unmapped ACC-N) = 35 -> 170 min, rate 2 -> 150.00, 120.00, 70.00
#   SUPPORT_DESK  GL 50: non-billable hours C100 1.5, C200 3.0 (company 2 via CRM), UNASSIGNED 0.5
#                 (company 3) -> 5.0 h, rate 10 -> 15.00, 30.00, 5.00
#   CREDIT_COLL.  GL 60: invoices C100 1 (INV-1) + 5 × 1 late payment (P-1 paid 01-25 > due 01-20) = 6,
#                 C200 1, C300 1, UNASSIGNED 1 -> 9 units; C100 6 × 60/9 = 40.00, others 60/9 = 6.67
# Direct, January:
#   NET_FREIGHT   C100 40.00 - 25.00 = 15.00; C200 20.00 - 30.00 = -10.00; UNASSIGNED 8.00 - 5.00 = 3.00;
#                 C300 5.00 - 5.00 = 0: no cost-to-serve row (neither units nor cost)
#   RECEIVABLES   P-1: 1175.00 EUR × 1.10 = 1292.50; INV-1 posted 01-05, paid 01-25: 20 days;
#                 1292.50 × 20 × 0.08 / 365 = 2068 / 365 = 5.665753... -> 5.67
# Cost pools, February:
#   ORDER_ENTRY   GL 75: C100 PHONE + PHONE = 2.0, C200 API 0.1, C300 EMAIL 1.0 -> 3.1 units;
#                 C100 2 × 75 / 3.1 = 48.387097 -> 48.39; C200 7.5 / 3.1 = 2.419355 -> 2.42;
#                 C300 75 / 3.1 = 24.193548 -> 24.19
#   WAREHOUSE     GL 60: INV-5/1 (C100), INV-6 (C200), INV-7 (C300); INV-5/2 drop-shipped -> 20.00 each
#   RETURNS       CM-3 WRONG_ITEM (C200) 1 unit, but no GL row: unallocated, rate empty, cost 0
#   SALES_COVERAGE GL 100, no activities in February: unallocated 100.00
#   SUPPORT_DESK  GL 40: C300 2.0 h (company 5) -> rate 20 -> 40.00
#   CREDIT_COLL.  GL 33: invoices C100 1 (INV-5, two lines, one document), C200 1 + 5 (P-3 late),
#                 C300 1, UNASSIGNED 5 (P-5 late) -> 13 units; C100, C300 33/13 = 2.538462 -> 2.54;
#                 C200 6 × 33/13 = 15.230769 -> 15.23; UNASSIGNED 5 × 33/13 = 12.692308 -> 12.69
# Direct, February:
#   NET_FREIGHT   C100 12.50 - 0 = 12.50; C300 9.99 - 14.99 = -5.00
#   RECEIVABLES   C100 P-6: 500 EUR × 1.20 = 600.00; INV-5's earliest posting 02-03 (not 02-10), paid
#                 02-23: 20 days; 600 × 20 × 0.08 / 365 = 960/365 = 2.630137 -> 2.63
#                 C200 P-3: 200 GBP × 1.30 = 260.00; INV-OLD missing: due 02-15 - 45 days terms = 01-01,
#                 paid 02-20: 50 days; 260 × 50 × 0.08 / 365 = 1040/365 = 2.849315 -> 2.85
#                 C300 P-2: 1000 USD; INV-3 posted 01-15, paid 02-10: 26 days; 2080/365 = 5.698630;
#                 P-7 paid 02-18 before INV-7's posting 02-20: max(0, -2) = 0 -> 5.70
#                 UNASSIGNED P-4: 50 USD; INV-4 posted 01-20, paid 02-05: 16 days; 64/365 = 0.175342;
#                 P-5: 73 USD, INV-X9 missing, UNASSIGNED has no terms (0): invoice date = due 02-01,
#                 paid 02-10: 9 days; 73 × 9 × 0.08 / 365 = 0.144 -> 0.319342 -> 0.32
EXPECTED_PROFIT = {
    (JAN, "C100"): money(
        # gross: (995.00 + 180.00) EUR × 1.10 = 1094.50 + 198.00 = 1292.50
        "1292.50",
        # credits: CM-1 99.50 × 1.10 = 109.45 + CM-2 (price adjustment) 10.85 × 1.10 = 11.935
        #          = 121.385 -> 121.39 (half away from zero; half-even would give 121.38)
        "121.39",
        "1171.12",   # 1292.50 - 121.385 = 1171.115 -> 1171.12
        "820.00",    # cogs 800 + 100 - 80 (CM-1) - 0 (CM-2)
        "50.00",     # RB-1 APPROVED 50; RB-2 SUBMITTED is not income
        "150.00",    # billable 2.5 h × 60.00
        "251.12",    # 1171.115 - 820 + 50 - 150 = 251.115 -> 251.12
        "80.00", "33.33", "25.00", "150.00", "15.00", "40.00", "15.00", "5.67",
        # cost_to_serve 80 + 33.333333 + 25 + 150 + 15 + 40 + 15 + 5.665753 = 363.999087 -> 364.00
        "364.00",
        "-112.88",   # 251.115 - 363.999087 = -112.884087
    ),
    (JAN, "C200"): money(
        "625.00",    # 500.00 GBP × 1.25
        "0.00", "625.00",
        "450.00",
        "30.00",     # RB-3 PAID
        "222.00",    # billable 4.0 h × 55.50 (company 2, mapped only via CRM ACC-B)
        "-17.00",    # 625 - 450 + 30 - 222
        "12.00", "33.33", "0.00", "120.00", "30.00", "6.67", "-10.00", "0.00",
        "192.00",    # 12 + 33.333333 + 120 + 30 + 6.666667 - 10 = 192.000000
        "-209.00",
    ),
    (JAN, "C300"): money(
        "1000.00",   # 1000.00 USD at 1 (LCY, no fx row)
        "0.00", "1000.00", "700.00",
        "0.00",      # RB-4 REJECTED
        "0.00", "300.00",
        "4.00", "0.00", "0.00", "0.00", "0.00", "6.67", "0.00", "0.00",
        "10.67",     # 4 + 6.666667
        "289.33",    # 300 - 10.666667
    ),
    (JAN, UN): money(
        "50.00",     # INV-4 of C999, not in the newest customer snapshot
        "0.00", "50.00", "30.00",
        "5.00",      # RB-5 APPROVED, C999
        "70.00",     # billable 1.0 h × 70.00 of company 4 (only via the deleted ACC-DEL)
        "-45.00",    # 50 - 30 + 5 - 70
        "4.00", "33.33", "0.00", "70.00", "5.00", "6.67", "3.00", "0.00",
        "122.00",    # 4 + 33.333333 + 70 + 5 + 6.666667 + 3
        "-167.00",
    ),
    (FEB, "C100"): money(
        "1260.00",   # (1000.00 + 50.00) EUR × 1.20
        "0.00", "1260.00",
        "920.00",    # 900 + 20
        "0.00",
        "100.00",    # billable 1.25 h × 80.00
        "240.00",
        "48.39", "20.00", "0.00", "0.00", "0.00", "2.54", "12.50", "2.63",
        "86.06",     # 48.387097 + 20 + 2.538462 + 12.50 + 2.630137 = 86.055695
        "153.94",    # 240 - 86.055695
    ),
    (FEB, "C200"): money(
        "433.33",    # 333.33 GBP × 1.30 = 433.329
        "130.00",    # CM-3 100.00 GBP × 1.30
        "303.33",    # 303.329
        "160.00",    # 250 - 90
        "0.00", "0.00",
        "143.33",    # 303.329 - 160 = 143.329
        "2.42", "20.00", "0.00", "0.00", "0.00", "15.23", "0.00", "2.85",
        "40.50",     # 2.419355 + 20 + 15.230769 + 2.849315 = 40.499439
        "102.83",    # 143.329 - 40.499439 = 102.829561
    ),
    (FEB, "C300"): money(
        "250.00", "0.00", "250.00", "200.00",
        "15.00",     # RB-6 PAID
        "0.00", "65.00",
        "24.19", "20.00", "0.00", "0.00", "40.00", "2.54", "-5.00", "5.70",
        "87.43",     # 24.193548 + 20 + 40 + 2.538462 - 5 + 5.698630 = 87.430640
        "-22.43",
    ),
    (FEB, UN): money(
        "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00",
        "0.00", "0.00", "0.00", "0.00", "0.00", "12.69", "0.00", "0.32",
        "13.01",     # 12.692308 + 0.319342 = 13.011650
        "-13.01",
    ),
}


def test_profit_mart_columns_and_types(warehouse):
    cols = columns(warehouse, "marts", "fct_customer_profit_monthly")
    assert [c for c, _ in cols] == PROFIT_COLUMNS
    assert cols[0][1] == "DATE" and cols[1][1] == "VARCHAR"
    assert {t for _, t in cols[2:]} == {"DECIMAL(18,2)"}


def test_profit_mart_every_cell(warehouse):
    assert_profit_mart(warehouse)


def assert_profit_mart(warehouse):
    rows = table(warehouse, "marts.fct_customer_profit_monthly", "month, customer_no")
    got = {(r["month"], r["customer_no"]): tuple(r[c] for c in PROFIT_COLUMNS[2:]) for r in rows}
    assert sorted(got) == sorted(EXPECTED_PROFIT)
    for key, expected in EXPECTED_PROFIT.items():
        assert dict(zip(PROFIT_COLUMNS[2:], got[key], strict=True)) == \
            dict(zip(PROFIT_COLUMNS[2:], expected, strict=True)), key


def test_soft_deleted_account_and_unknown_customers_go_to_unassigned(warehouse):
    # C999 (older snapshot only), C777 (unknown), ACC-DEL (deleted), ACC-N (unmapped) never appear;
    # C400 has only a SUBMITTED claim: all its measures are 0, so it has no row
    customers = {r["customer_no"] for r in query(
        warehouse, "SELECT DISTINCT customer_no FROM marts.fct_cost_to_serve_monthly "
                   "UNION SELECT customer_no FROM marts.fct_customer_profit_monthly")}
    assert customers == {"C100", "C200", "C300", UN}
    crosswalk = {r["company_id"]: r["customer_no"] for r in query(
        warehouse, "SELECT * FROM intermediate.int_psa_company_customers")}
    assert crosswalk == {1: "C100", 2: "C200", 3: UN, 4: UN, 5: "C300"}


# ---------------------------------------------------------------------------------------------
# fct_cost_to_serve_monthly: (month, customer, activity) -> (driver_units, rate, cost)
# ---------------------------------------------------------------------------------------------
def units(v):
    return None if v is None else Decimal(v)


EXPECTED_CTS = {
    (JAN, "C100", "ORDER_ENTRY"): (units("2.0"), 40.0, Decimal("80.00")),
    (JAN, "C100", "WAREHOUSE"): (units("1"), 100 / 3, Decimal("33.33")),
    (JAN, "C100", "RETURNS"): (units("1"), 25.0, Decimal("25.00")),
    (JAN, "C100", "SALES_COVERAGE"): (units("75"), 2.0, Decimal("150.00")),
    (JAN, "C100", "SUPPORT_DESK"): (units("1.5"), 10.0, Decimal("15.00")),
    (JAN, "C100", "CREDIT_COLLECTIONS"): (units("6"), 60 / 9, Decimal("40.00")),
    (JAN, "C100", "NET_FREIGHT"): (None, None, Decimal("15.00")),
    (JAN, "C100", "RECEIVABLES_CARRYING"): (None, None, Decimal("5.67")),
    (JAN, "C200", "ORDER_ENTRY"): (units("0.3"), 40.0, Decimal("12.00")),
    (JAN, "C200", "WAREHOUSE"): (units("1"), 100 / 3, Decimal("33.33")),
    (JAN, "C200", "SALES_COVERAGE"): (units("60"), 2.0, Decimal("120.00")),
    (JAN, "C200", "SUPPORT_DESK"): (units("3.0"), 10.0, Decimal("30.00")),
    (JAN, "C200", "CREDIT_COLLECTIONS"): (units("1"), 60 / 9, Decimal("6.67")),
    (JAN, "C200", "NET_FREIGHT"): (None, None, Decimal("-10.00")),
    (JAN, "C300", "ORDER_ENTRY"): (units("0.1"), 40.0, Decimal("4.00")),
    (JAN, "C300", "CREDIT_COLLECTIONS"): (units("1"), 60 / 9, Decimal("6.67")),
    (JAN, UN, "ORDER_ENTRY"): (units("0.1"), 40.0, Decimal("4.00")),
    (JAN, UN, "WAREHOUSE"): (units("1"), 100 / 3, Decimal("33.33")),
    (JAN, UN, "SALES_COVERAGE"): (units("35"), 2.0, Decimal("70.00")),
    (JAN, UN, "SUPPORT_DESK"): (units("0.5"), 10.0, Decimal("5.00")),
    (JAN, UN, "CREDIT_COLLECTIONS"): (units("1"), 60 / 9, Decimal("6.67")),
    (JAN, UN, "NET_FREIGHT"): (None, None, Decimal("3.00")),
    (FEB, "C100", "ORDER_ENTRY"): (units("2.0"), 75 / 3.1, Decimal("48.39")),
    (FEB, "C100", "WAREHOUSE"): (units("1"), 20.0, Decimal("20.00")),
    (FEB, "C100", "CREDIT_COLLECTIONS"): (units("1"), 33 / 13, Decimal("2.54")),
    (FEB, "C100", "NET_FREIGHT"): (None, None, Decimal("12.50")),
    (FEB, "C100", "RECEIVABLES_CARRYING"): (None, None, Decimal("2.63")),
    (FEB, "C200", "ORDER_ENTRY"): (units("0.1"), 75 / 3.1, Decimal("2.42")),
    (FEB, "C200", "WAREHOUSE"): (units("1"), 20.0, Decimal("20.00")),
    # a return without a RETURNS GL row: the units show, the pool stays unallocated (rate empty, cost 0)
    (FEB, "C200", "RETURNS"): (units("1"), None, Decimal("0.00")),
    (FEB, "C200", "CREDIT_COLLECTIONS"): (units("6"), 33 / 13, Decimal("15.23")),
    (FEB, "C200", "RECEIVABLES_CARRYING"): (None, None, Decimal("2.85")),
    (FEB, "C300", "ORDER_ENTRY"): (units("1.0"), 75 / 3.1, Decimal("24.19")),
    (FEB, "C300", "WAREHOUSE"): (units("1"), 20.0, Decimal("20.00")),
    (FEB, "C300", "SUPPORT_DESK"): (units("2.0"), 20.0, Decimal("40.00")),
    (FEB, "C300", "CREDIT_COLLECTIONS"): (units("1"), 33 / 13, Decimal("2.54")),
    (FEB, "C300", "NET_FREIGHT"): (None, None, Decimal("-5.00")),
    (FEB, "C300", "RECEIVABLES_CARRYING"): (None, None, Decimal("5.70")),
    (FEB, UN, "CREDIT_COLLECTIONS"): (units("5"), 33 / 13, Decimal("12.69")),
    (FEB, UN, "RECEIVABLES_CARRYING"): (None, None, Decimal("0.32")),
}


def test_cost_to_serve_mart_columns_and_types(warehouse):
    assert columns(warehouse, "marts", "fct_cost_to_serve_monthly") == [
        ("month", "DATE"), ("customer_no", "VARCHAR"), ("activity", "VARCHAR"),
        ("driver_units", "DECIMAL(38,12)"), ("rate", "DOUBLE"), ("cost", "DECIMAL(18,2)"),
    ]


def test_cost_to_serve_mart_every_cell(warehouse):
    assert_cost_to_serve_mart(warehouse)


def assert_cost_to_serve_mart(warehouse):
    rows = table(warehouse, "marts.fct_cost_to_serve_monthly", "month, customer_no, activity")
    got = {(r["month"], r["customer_no"], r["activity"]): r for r in rows}
    assert sorted(got) == sorted(EXPECTED_CTS)
    for key, (driver_units, rate, cost) in EXPECTED_CTS.items():
        row = got[key]
        assert row["driver_units"] == driver_units, key
        assert row["cost"] == cost, key
        if rate is None:
            assert row["rate"] is None, key
        else:
            assert row["rate"] == pytest.approx(rate, abs=1e-9), key


def test_cost_to_serve_mart_sums_to_the_profit_mart(warehouse):
    # Σ of the rounded activity costs differs from the rounded total by at most half a cent per row;
    # on this fixture they agree exactly per customer and month.
    pairs = query(warehouse, """
        SELECT p.month, p.customer_no, p.cost_to_serve, sum(c.cost) AS summed
        FROM marts.fct_customer_profit_monthly p
        JOIN marts.fct_cost_to_serve_monthly c USING (month, customer_no)
        GROUP BY p.month, p.customer_no, p.cost_to_serve""")
    assert len(pairs) == 8
    for r in pairs:
        assert abs(r["cost_to_serve"] - r["summed"]) <= Decimal("0.02"), r


# ---------------------------------------------------------------------------------------------
# margin_reconciliation: (month, line_item) -> (pipeline, unassigned, unallocated, unused, gl, diff, status)
# ---------------------------------------------------------------------------------------------
def rec(pipeline, unassigned, unallocated, unused, gl, difference, status):
    def m(v):
        return None if v is None else Decimal(v)
    return (m(pipeline), m(unassigned), m(unallocated), m(unused), m(gl), m(difference), status)


EXPECTED_RECON = {
    # REVENUE Jan: 1171.115 + 625 + 1000 + 50 = 2846.115 -> 2846.12; UNASSIGNED 50
    (JAN, "REVENUE"): rec("2846.12", "50.00", None, None, "2846.12", "0.00", "OK"),
    # COGS Jan: 820 + 450 + 700 + 30 = 2000; the GL says 2010: -10.00 > tolerance 1.00
    (JAN, "COGS"): rec("2000.00", "30.00", None, None, "2010.00", "-10.00", "DIFFERENCE"),
    (JAN, "REBATE_INCOME"): rec("85.00", "5.00", None, None, "85.00", "0.00", "OK"),       # 50 + 30 + 5
    (JAN, "SERVICES_COST"): rec("442.00", "70.00", None, None, "442.00", "0.00", "OK"),    # 150 + 222 + 70
    (JAN, "FREIGHT_COST"): rec("73.00", "8.00", None, None, "73.00", "0.00", "OK"),      # 40 + 20 + 8 + 5
    (JAN, "FREIGHT_RECOVERY"): rec("65.00", "5.00", None, None, "65.00", "0.00", "OK"),  # 25 + 30 + 5 + 5
    (JAN, "COST_POOL:ORDER_ENTRY"): rec("100.00", "4.00", "0.00", "0.00", "100.00", "0.00", "OK"),
    # 3 × 33.333333333333 = 99.999999999999 -> 100.00: allocation loses nothing
    (JAN, "COST_POOL:WAREHOUSE"): rec("100.00", "33.33", "0.00", "0.00", "100.00", "0.00", "OK"),
    (JAN, "COST_POOL:RETURNS"): rec("25.00", "0.00", "0.00", "0.00", "25.00", "0.00", "OK"),
    (JAN, "COST_POOL:SALES_COVERAGE"): rec("340.00", "70.00", "0.00", "0.00", "340.00", "0.00", "OK"),
    (JAN, "COST_POOL:SUPPORT_DESK"): rec("50.00", "5.00", "0.00", "0.00", "50.00", "0.00", "OK"),
    (JAN, "COST_POOL:CREDIT_COLLECTIONS"): rec("60.00", "6.67", "0.00", "0.00", "60.00", "0.00", "OK"),
    (JAN, "OTHER"): rec(None, None, None, None, "750.00", None, "NOT_RECONCILED"),        # 500 + 250
    # REVENUE Feb: 1260 + 303.329 + 250 = 1813.329 -> 1813.33
    (FEB, "REVENUE"): rec("1813.33", "0.00", None, None, "1813.33", "0.00", "OK"),
    (FEB, "COGS"): rec("1280.00", "0.00", None, None, "1280.00", "0.00", "OK"),           # 920 + 160 + 200
    (FEB, "REBATE_INCOME"): rec("15.00", "0.00", None, None, "15.00", "0.00", "OK"),
    # 100.00 against the GL's 100.50: |-0.50| <= 1.00
    (FEB, "SERVICES_COST"): rec("100.00", "0.00", None, None, "100.50", "-0.50", "OK"),
    (FEB, "FREIGHT_COST"): rec("22.49", "0.00", None, None, "22.49", "0.00", "OK"),        # 12.50 + 9.99
    (FEB, "FREIGHT_RECOVERY"): rec("14.99", "0.00", None, None, "14.99", "0.00", "OK"),    # 0 + 14.99
    (FEB, "COST_POOL:ORDER_ENTRY"): rec("75.00", "0.00", "0.00", "0.00", "75.00", "0.00", "OK"),
    (FEB, "COST_POOL:WAREHOUSE"): rec("60.00", "0.00", "0.00", "0.00", "60.00", "0.00", "OK"),
    # driver units (CM-3) but no GL row: nothing to allocate, the row shows it
    (FEB, "COST_POOL:RETURNS"): rec("0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "OK"),
    # GL but no driver units: unallocated
    (FEB, "COST_POOL:SALES_COVERAGE"): rec("100.00", "0.00", "100.00", "0.00", "100.00", "0.00", "OK"),
    (FEB, "COST_POOL:SUPPORT_DESK"): rec("40.00", "0.00", "0.00", "0.00", "40.00", "0.00", "OK"),
    (FEB, "COST_POOL:CREDIT_COLLECTIONS"): rec("33.00", "12.69", "0.00", "0.00", "33.00", "0.00", "OK"),
}
RECON_COLUMNS = ["month", "line_item", "pipeline_amount", "unassigned_amount", "unallocated_amount",
                 "unused_capacity_amount", "gl_amount", "difference", "status"]


def test_reconciliation_columns_and_types(warehouse):
    cols = columns(warehouse, "marts", "margin_reconciliation")
    assert [c for c, _ in cols] == RECON_COLUMNS
    assert [t for _, t in cols] == ["DATE", "VARCHAR"] + ["DECIMAL(18,2)"] * 6 + ["VARCHAR"]


def test_reconciliation_every_cell(warehouse):
    assert_reconciliation(warehouse)


def assert_reconciliation(warehouse):
    rows = table(warehouse, "marts.margin_reconciliation", "month, line_item")
    got = {(r["month"], r["line_item"]): tuple(r[c] for c in RECON_COLUMNS[2:]) for r in rows}
    assert sorted(got) == sorted(EXPECTED_RECON)
    for key, expected in EXPECTED_RECON.items():
        assert dict(zip(RECON_COLUMNS[2:], got[key], strict=True)) == \
            dict(zip(RECON_COLUMNS[2:], expected, strict=True)), key


def test_missing_rates_model_is_empty_on_a_complete_fixture(warehouse):
    assert query(warehouse, "SELECT * FROM intermediate.int_fx_missing_rates") == []
