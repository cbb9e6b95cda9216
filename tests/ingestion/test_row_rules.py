"""Row rules: a bad value quarantines its row (file, line, column, raw value, reason); the rest loads."""

# ruff: noqa: E501  (the expected quarantine rows read best on one line)
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assets.ingestion import rules
from tests.ingestion.helpers import FX, SL, TICKETS, audit_rows, quarantined, rows, sales, ticket, write_csv

F = "erp/sales_lines/2026-10/part-0001.csv"


def _one_bad_sales_value(landing, load, con, column: str, value: str):
    write_csv(landing, "erp", "sales_lines", "2026-10", SL, [
        sales(document_no="D1"),
        sales(**{"document_no": "D2", column: value}),
        sales(document_no="D3"),
    ])
    result = load("erp", "sales_lines", "2026-10")
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("LOADED", 3, 2, 1)
    assert rows(con, "SELECT document_no, _line FROM raw.erp__sales_lines ORDER BY 1") == [("D1", 2), ("D3", 4)]
    return quarantined(con)


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("line_no", "1.5", rules.NOT_INTEGER),
    ("line_no", "0x10", rules.NOT_INTEGER),
    ("line_no", "1_000", rules.NOT_INTEGER),
    ("line_no", "99999999999999999999", rules.INTEGER_RANGE),
    ("quantity", "12,50", rules.NOT_DECIMAL),
    ("quantity", "1,234.50", rules.NOT_DECIMAL),
    ("quantity", "1e3", rules.NOT_DECIMAL),
    ("quantity", "0.1234567890123", rules.DECIMAL_SCALE),
    ("quantity", "123456789012345678901234567", rules.DECIMAL_RANGE),
    ("posting_date", "2026-10-32", rules.NOT_DATE),
    ("posting_date", "2026-10-5", rules.NOT_DATE),
    ("posting_date", "05.10.2026", rules.NOT_DATE),
    ("is_drop_ship", "yes", rules.NOT_BOOLEAN),
    ("is_drop_ship", "1", rules.NOT_BOOLEAN),
    ("order_channel", "edi", "not one of the allowed values EDI, API, PORTAL, EMAIL, PHONE (exact, upper case)"),
    ("order_channel", "FAX", "not one of the allowed values EDI, API, PORTAL, EMAIL, PHONE (exact, upper case)"),
    ("customer_no", "", rules.EMPTY),
    ("net_amount", "", rules.EMPTY),
    ("posting_date", "2026-09-30", "posting_date is outside the batch month 2026-10"),
    ("posting_date", "2026-11-01", "posting_date is outside the batch month 2026-10"),
])
def test_a_bad_value_quarantines_its_row(landing, load, con, column, value, reason):
    assert _one_bad_sales_value(landing, load, con, column, value) == [(F, 3, column, value or None, reason)]


def test_return_reason_is_required_on_a_credit_memo_and_unwanted_on_an_invoice(landing, load, con):
    write_csv(landing, "erp", "sales_lines", "2026-10", SL, [
        sales(line_no="1", document_type="CREDIT_MEMO", return_reason=""),
        sales(line_no="2", document_type="INVOICE", return_reason="DEFECTIVE"),
        sales(line_no="3", document_type="CREDIT_MEMO", return_reason="DEFECTIVE"),
        sales(line_no="4", document_type="CREDIT_MEMO", return_reason="BROKEN"),
        sales(line_no="5", document_type="INVOICE", return_reason=""),
    ])
    result = load("erp", "sales_lines", "2026-10")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 2, 3)
    assert quarantined(con) == [
        (F, 2, "return_reason", None, "empty value: return_reason is required when document_type is CREDIT_MEMO"),
        (F, 3, "return_reason", "DEFECTIVE",
         "value where the contract wants none: return_reason must be empty when document_type is INVOICE"),
        (F, 5, "return_reason", "BROKEN",
         "not one of the allowed values DEFECTIVE, WRONG_ITEM, NOT_NEEDED, PRICE_ADJUSTMENT (exact, upper case)"),
    ]
    assert rows(con, "SELECT line_no, document_type, return_reason FROM raw.erp__sales_lines ORDER BY 1") == [
        (3, "CREDIT_MEMO", "DEFECTIVE"), (5, "INVOICE", None)]


def test_every_row_of_a_duplicated_key_is_quarantined_across_parts(landing, load, con):
    write_csv(landing, "erp", "sales_lines", "2026-10", SL, [
        sales(document_no="D1", line_no="1"),
        sales(document_no="D1", line_no="2"),
        sales(document_no="D1", line_no="1", net_amount="99.00"),
    ])
    write_csv(landing, "erp", "sales_lines", "2026-10", SL, [
        sales(document_no="D1", line_no="01"),  # the same integer key, written differently
        sales(document_type="CREDIT_MEMO", document_no="D1", line_no="2", return_reason="DEFECTIVE"),
    ], name="part-0002.csv")
    result = load("erp", "sales_lines", "2026-10")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 2, 3)
    reason = "key (document_type, document_no, line_no) occurs 3 times in this batch: every row with this key is quarantined"
    col = "document_type,document_no,line_no"
    assert quarantined(con) == [
        (F, 2, col, '["INVOICE","D1","1"]', reason),
        (F, 4, col, '["INVOICE","D1","1"]', reason),
        ("erp/sales_lines/2026-10/part-0002.csv", 2, col, '["INVOICE","D1","01"]', reason),
    ]
    assert rows(con, "SELECT document_type, line_no, _file, _line FROM raw.erp__sales_lines ORDER BY ALL") == [
        ("CREDIT_MEMO", 2, "erp/sales_lines/2026-10/part-0002.csv", 3), ("INVOICE", 2, F, 3)]


def test_a_row_with_several_bad_values_gets_one_quarantine_row_per_column(landing, load, con):
    write_csv(landing, "erp", "sales_lines", "2026-10", SL, [
        sales(quantity="abc", order_channel="FAX", posting_date="2026-11-02"),
    ])
    result = load("erp", "sales_lines", "2026-10")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (1, 0, 1)
    assert [(c, v) for _, _, c, v, _ in quarantined(con)] == [
        ("order_channel", "FAX"), ("posting_date", "2026-11-02"), ("quantity", "abc")]
    assert audit_rows(con) == [("erp", "sales_lines", "2026-10", "LOADED", 1, 0, 1)]


def test_timestamps_are_utc_and_belong_to_the_month_of_their_utc_date(landing, load, con):
    write_csv(landing, "psa", "tickets", "2026-10", TICKETS, [
        ticket(ticket_id="1", created_at="2026-10-01T01:30:00+02:00"),  # 2026-09-30 23:30 UTC
        ticket(ticket_id="2", created_at="2026-10-31T23:30:00-01:00"),  # 2026-11-01 00:30 UTC
        ticket(ticket_id="3", created_at="2026-11-01T00:30:00+01:00", closed_at="2026-11-02T08:00:00Z"),
        ticket(ticket_id="4", created_at="2026-10-15T12:00:00", sla_met="TRUE"),  # no zone
        ticket(ticket_id="5", created_at="2026-10-15 12:00:00.123456Z", sla_met="False"),
        ticket(ticket_id="6", created_at="2026-10-15T12:00Z", agreement_id="x"),
    ])
    result = load("psa", "tickets", "2026-10")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 2, 4)
    f = "psa/tickets/2026-10/part-0001.csv"
    outside = "created_at (UTC date) is outside the batch month 2026-10"
    assert quarantined(con) == [
        (f, 2, "created_at", "2026-10-01T01:30:00+02:00", outside),
        (f, 3, "created_at", "2026-10-31T23:30:00-01:00", outside),
        (f, 5, "created_at", "2026-10-15T12:00:00", rules.NOT_TIMESTAMP),
        (f, 7, "agreement_id", "x", rules.NOT_INTEGER),
    ]
    assert rows(con, "SELECT ticket_id, created_at, closed_at, sla_met FROM raw.psa__tickets ORDER BY 1") == [
        (3, dt.datetime(2026, 10, 31, 23, 30), dt.datetime(2026, 11, 2, 8, 0), None),
        (5, dt.datetime(2026, 10, 15, 12, 0, 0, 123456), None, False),
    ]


def test_values_that_are_legal_load_exactly(landing, load, con):
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, [
        ["2026-10-31", "EUR", "1.0812345678900000"],  # zeros beyond 12 digits lose nothing
        ["2026-10-31", "GBP", "+1.25"],
        ["2026-10-31", "JPY", ".0067"],
        ["2026-10-31", "CHF", "-0"],
    ])
    result = load("erp", "fx_rates", "2026-10")
    assert (result.rows_loaded, result.rows_quarantined) == (4, 0)
    assert rows(con, "SELECT currency, rate_to_lcy FROM raw.erp__fx_rates ORDER BY 1") == [
        ("CHF", Decimal("0")), ("EUR", Decimal("1.081234567890")), ("GBP", Decimal("1.25")),
        ("JPY", Decimal("0.0067"))]


def test_snapshot_entities_have_no_batch_month_rule(landing, load, con):
    header = ["account_id", "account_name", "erp_customer_no", "industry", "employee_count", "owner_role",
              "created_date", "is_deleted"]
    write_csv(landing, "crm", "accounts", "2026-10", header, [
        ["001A", "Acme", "C1", "", "", "ACCOUNT_MANAGER", "2019-03-01", "False"],
        ["001B", "Beta", "", "IT", "12.5", "ACCOUNT_MANAGER", "2019-03-01", "true"],
    ])
    result = load("crm", "accounts", "2026-10")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert quarantined(con) == [("crm/accounts/2026-10/part-0001.csv", 3, "employee_count", "12.5", rules.NOT_INTEGER)]
    assert rows(con, "SELECT account_id, erp_customer_no, industry, created_date, is_deleted FROM raw.crm__accounts") == [
        ("001A", "C1", None, dt.date(2019, 3, 1), False)]


def test_rows_read_always_equals_rows_loaded_plus_quarantined(landing, load, con):
    write_csv(landing, "erp", "sales_lines", "2026-10", SL,
              [sales(line_no=str(i), quantity="x" if i % 3 == 0 else "1") for i in range(1, 11)])
    load("erp", "sales_lines", "2026-10")
    (read, loaded, quarantined_rows), = rows(
        con, "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_batches")
    assert (read, loaded, quarantined_rows) == (10, 7, 3)
    assert rows(con, "SELECT count(*) FROM raw.erp__sales_lines") == [(7,)]
    assert rows(con, "SELECT count(DISTINCT (file, line)) FROM audit.quarantined_rows") == [(3,)]
