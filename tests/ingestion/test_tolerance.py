# ruff: noqa: E501  (expected rows read best on one line)
"""What is legal loads: column order, header case and spaces, BOM, CRLF, trailing blank lines,
RFC 4180 quoting (with physical line numbers kept), extra columns, several parts, Parquet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from assets.ingestion import rules
from orchestration.generator.landing import write_batch
from tests.ingestion.helpers import (
    FX,
    SL,
    TICKETS,
    batch_dir,
    quarantined,
    rows,
    sales,
    ticket,
    write_csv,
    write_file,
)

FXF = "erp/fx_rates/2026-10/part-0001.csv"


def test_column_order_header_case_spaces_bom_crlf_and_trailing_blank_lines(landing, load, con):
    text = ("\ufeff Rate_To_LCY ,CURRENCY,  period_end\r\n"
            "1.08,EUR,2026-10-31\r\n"
            "1.25,GBP,2026-10-31\r\n"
            "\r\n\r\n")
    write_file(landing, "erp", "fx_rates", "2026-10", text)
    result = load("erp", "fx_rates", "2026-10")
    assert (result.status, result.rows_read, result.rows_loaded) == ("LOADED", 2, 2)
    assert rows(con, "SELECT period_end, currency, rate_to_lcy, _batch, _file, _line, _extra FROM raw.erp__fx_rates ORDER BY _line") == [
        (dt.date(2026, 10, 31), "EUR", Decimal("1.08"), "2026-10", FXF, 2, None),
        (dt.date(2026, 10, 31), "GBP", Decimal("1.25"), "2026-10", FXF, 3, None)]


def test_quoted_commas_quotes_and_newlines_keep_physical_line_numbers(landing, load, con):
    text = ("period_end,currency,rate_to_lcy\n"
            '2026-10-31,"EU,R",1.08\n'               # line 2
            '2026-10-31,"say ""hi""\nand\nbye",1.1\n'  # lines 3-5
            '2026-10-31,"X\r\nY",bad\n'              # lines 6-7, quarantined
            "2026-10-31,GBP,1.25\n")                 # line 8
    write_file(landing, "erp", "fx_rates", "2026-10", text)
    result = load("erp", "fx_rates", "2026-10")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    assert rows(con, "SELECT currency, _line FROM raw.erp__fx_rates ORDER BY _line") == [
        ("EU,R", 2), ('say "hi"\nand\nbye', 3), ("GBP", 8)]
    assert quarantined(con) == [(FXF, 6, "rate_to_lcy", "bad", rules.NOT_DECIMAL)]


def test_blank_lines_between_rows_keep_physical_line_numbers(landing, load, con):
    text = ("period_end,currency,rate_to_lcy\n"
            "2026-10-31,EUR,1.08\n"           # line 2
            "\n"                               # line 3: blank, skipped
            '2026-10-31,"A\n\nB",1.1\n'       # lines 4-6: a blank line inside quotes
            "\n"                               # line 7: blank
            "2026-10-31,GBP,x\n")              # line 8
    write_file(landing, "erp", "fx_rates", "2026-10", text)
    result = load("erp", "fx_rates", "2026-10")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert rows(con, "SELECT currency, _line FROM raw.erp__fx_rates ORDER BY _line") == [("EUR", 2), ("A\n\nB", 4)]
    assert quarantined(con) == [(FXF, 8, "rate_to_lcy", "x", rules.NOT_DECIMAL)]


def test_extra_columns_are_kept_in_extra_and_reported(landing, load, con):
    write_csv(landing, "erp", "fx_rates", "2026-10", [*FX, "Source System", " note "],
              [["2026-10-31", "EUR", "1.08", "SAP", ""], ["2026-10-31", "GBP", "1.25", "SAP", "checked, ok"]])
    result = load("erp", "fx_rates", "2026-10")
    assert (result.status, result.rows_loaded, result.extra_columns) == ("LOADED", 2, ["Source System", "note"])
    assert "extra columns kept in _extra: Source System, note" in result.message
    assert rows(con, "SELECT currency, _extra::VARCHAR FROM raw.erp__fx_rates ORDER BY 1") == [
        ("EUR", '{"Source System":"SAP","note":null}'), ("GBP", '{"Source System":"SAP","note":"checked, ok"}')]
    assert rows(con, "SELECT message FROM audit.load_batches")[0][0].endswith("extra columns kept in _extra: Source System, note")


def test_several_parts_are_one_batch(landing, load, con):
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, [["2026-10-31", "EUR", "1.08"]])
    write_csv(landing, "erp", "fx_rates", "2026-10", ["currency", "rate_to_lcy", "period_end", "x"],
              [["GBP", "1.25", "2026-10-31", "1"], ["CHF", "1.1", "2026-10-30", ""]], name="part-0002.csv")
    (batch_dir(landing, "erp", "fx_rates", "2026-10") / ".DS_Store").write_bytes(b"\0\1")
    (batch_dir(landing, "erp", "fx_rates", "2026-10") / "_notes.txt").write_text("ignored")
    result = load("erp", "fx_rates", "2026-10")
    assert result.files == [FXF, "erp/fx_rates/2026-10/part-0002.csv"]
    assert (result.rows_read, result.rows_loaded) == (3, 3)
    assert result.file_rows == {FXF: 1, "erp/fx_rates/2026-10/part-0002.csv": 2}
    assert rows(con, "SELECT currency, _file, _line, _extra::VARCHAR FROM raw.erp__fx_rates ORDER BY ALL") == [
        ("CHF", "erp/fx_rates/2026-10/part-0002.csv", 3, '{"x":null}'),
        ("EUR", FXF, 2, None),
        ("GBP", "erp/fx_rates/2026-10/part-0002.csv", 2, '{"x":"1"}')]
    assert rows(con, "SELECT file, rows_read FROM audit.load_batches") == [
        (f"{FXF}, erp/fx_rates/2026-10/part-0002.csv", 3)]


def test_a_header_only_file_is_an_empty_batch(landing, load, con):
    write_file(landing, "erp", "fx_rates", "2026-10", ",".join(FX) + "\n")
    result = load("erp", "fx_rates", "2026-10")
    assert (result.status, result.rows_read, result.rows_loaded) == ("LOADED", 0, 0)


def test_parquet_with_contract_types_loads_with_row_index_lines(landing, load, con):
    write_batch(landing, "psa", "tickets", "2026-10", [
        {"ticket_id": 1, "company_id": 10, "agreement_id": None, "board": "HELPDESK", "priority": "P1",
         "source": "PHONE", "created_at": dt.datetime(2026, 10, 3, 9, 30, tzinfo=dt.UTC), "closed_at": None,
         "sla_met": True},
        {"ticket_id": 2, "company_id": 10, "agreement_id": 7, "board": "RMA", "priority": "P9",
         "source": "PHONE", "created_at": dt.datetime(2026, 10, 4, tzinfo=dt.timezone(dt.timedelta(hours=2))),
         "closed_at": None, "sla_met": None},
        {"ticket_id": 3, "company_id": 11, "agreement_id": None, "board": "RMA", "priority": "P2",
         "source": "PORTAL", "created_at": dt.datetime(2026, 9, 30, 23, 0, tzinfo=dt.UTC), "closed_at": None,
         "sla_met": False},
    ], fmt="parquet")
    result = load("psa", "tickets", "2026-10")
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("LOADED", 3, 1, 2)
    f = "psa/tickets/2026-10/part-0001.parquet"
    assert quarantined(con) == [
        (f, 3, "priority", "P9", "not one of the allowed values P1, P2, P3, P4 (exact, upper case)"),
        (f, 4, "created_at", "2026-09-30 23:00:00+00", "created_at (UTC date) is outside the batch month 2026-10")]
    assert rows(con, "SELECT ticket_id, created_at, sla_met, _file, _line FROM raw.psa__tickets") == [
        (1, dt.datetime(2026, 10, 3, 9, 30), True, f, 2)]


def test_parquet_text_columns_and_other_compatible_types(landing, load, con):
    bdir = batch_dir(landing, "erp", "fx_rates", "2026-10")
    pq.write_table(pa.table({
        "Period_End": pa.array(["2026-10-31", "2026-10-31", "2026-10-31"]),  # text goes through the CSV rules
        "currency": pa.array(["EUR", "GBP", "CHF"]),
        "rate_to_lcy": pa.array([Decimal("1.08"), Decimal("1.25"), Decimal("0.12345678901234")], pa.decimal128(20, 14)),
    }), bdir / "part-0001.parquet")
    result = load("erp", "fx_rates", "2026-10")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert quarantined(con) == [
        ("erp/fx_rates/2026-10/part-0001.parquet", 4, "rate_to_lcy", "0.12345678901234", rules.DECIMAL_SCALE)]
    assert rows(con, "SELECT currency, rate_to_lcy FROM raw.erp__fx_rates ORDER BY 1") == [
        ("EUR", Decimal("1.08")), ("GBP", Decimal("1.25"))]


def test_csv_and_parquet_parts_mix_in_one_batch(landing, load, con):
    bdir = batch_dir(landing, "psa", "tickets", "2026-10")
    write_csv(landing, "psa", "tickets", "2026-10", TICKETS, [ticket(ticket_id="1")])
    pq.write_table(pa.table({
        "ticket_id": pa.array([2], pa.int32()), "company_id": pa.array([10], pa.int64()),
        "agreement_id": pa.array([None], pa.int64()), "board": ["HELPDESK"], "priority": ["P1"], "source": ["EMAIL"],
        "created_at": pa.array([dt.datetime(2026, 10, 9, 8, 0)], pa.timestamp("ms")),  # naive: UTC
        "closed_at": pa.array([None], pa.timestamp("us", tz="UTC")), "sla_met": pa.array([None], pa.bool_()),
    }), bdir / "part-0002.parquet")
    result = load("psa", "tickets", "2026-10")
    assert (result.rows_read, result.rows_loaded) == (2, 2)
    assert rows(con, "SELECT ticket_id, created_at, _file, _line FROM raw.psa__tickets ORDER BY 1") == [
        (1, dt.datetime(2026, 10, 5, 10, 0), "psa/tickets/2026-10/part-0001.csv", 2),
        (2, dt.datetime(2026, 10, 9, 8, 0), "psa/tickets/2026-10/part-0002.parquet", 2)]


def test_a_large_valid_batch_loads_every_row(landing, load, con):
    data = [sales(document_no=f"D{i}", net_amount=f"{i}.01") for i in range(2000)]
    write_csv(landing, "erp", "sales_lines", "2026-10", SL, data)
    result = load("erp", "sales_lines", "2026-10")
    assert (result.rows_read, result.rows_loaded) == (2000, 2000)
    assert rows(con, "SELECT sum(net_amount), min(_line), max(_line) FROM raw.erp__sales_lines") == [
        (Decimal(sum(range(2000))) + Decimal("20.00"), 2, 2001)]
