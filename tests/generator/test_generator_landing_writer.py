"""BatchWriter.write_table (the generator's fast path) writes exactly what write() writes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest

from assets.core.contract import entity
from orchestration.generator.landing import PARQUET_TYPES, BatchWriter, write_batch

CUSTOMERS = [
    {
        "customer_no": "C1",
        "customer_name": 'Acme, "The" Systems\nInc.',
        "customer_group": "VAR",
        "country": "US",
        "currency": "USD",
        "payment_terms_days": 30,
        "credit_limit_lcy": Decimal("1000.50"),
        "created_date": dt.date(2020, 1, 2),
        "status": "ACTIVE",
        "parent_customer_no": None,
    },
    {
        "customer_no": "C2",
        "customer_name": "Müller IT GmbH",
        "customer_group": "MSP",
        "country": "DE",
        "currency": "EUR",
        "payment_terms_days": 45,
        "credit_limit_lcy": Decimal("0.00"),
        "created_date": dt.date(2021, 12, 31),
        "status": "BLOCKED",
        "parent_customer_no": "C1",
    },
    {
        "customer_no": "C3",
        "customer_name": "O'Neill IT",
        "customer_group": "RETAILER",
        "country": "GB",
        "currency": "GBP",
        "payment_terms_days": 60,
        "credit_limit_lcy": Decimal("-12.34"),
        "created_date": dt.date(1999, 2, 28),
        "status": "CLOSED",
        "parent_customer_no": "",
    },
]
TICKETS = [
    {
        "ticket_id": 1,
        "company_id": 5,
        "agreement_id": None,
        "board": "HELPDESK",
        "priority": "P1",
        "source": "PHONE",
        "created_at": dt.datetime(2026, 1, 3, 4, 5, 6, tzinfo=dt.UTC),
        "closed_at": None,
        "sla_met": None,
    },
    {
        "ticket_id": 2,
        "company_id": 5,
        "agreement_id": 7,
        "board": "RMA",
        "priority": "P2",
        "source": "EMAIL",
        "created_at": dt.datetime(2026, 1, 31, 23, 59, 59, tzinfo=dt.UTC),
        "closed_at": dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        "sla_met": False,
    },
]


MONEY = pa.decimal128(18, 2)


def table_of(system: str, name: str, rows: list[dict], decimal=MONEY) -> pa.Table:
    ent = entity(system, name)
    cols = {}
    for c in reversed(ent.columns):  # any column order is accepted
        type_ = decimal if c.type == "decimal" else PARQUET_TYPES[c.type]
        values = [r[c.name] for r in rows]
        if c.type == "decimal" and pa.types.is_floating(type_):
            values = [float(v) for v in values]
        cols[c.name] = pa.array(values, type_)
    return pa.table(cols)


def folder_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(
    ("system", "name", "rows"), [("erp", "customers", CUSTOMERS), ("psa", "tickets", TICKETS)]
)
def test_write_table_equals_write(tmp_path, fmt, system, name, rows):
    slow = write_batch(tmp_path / "a", system, name, "2026-01", rows, fmt=fmt)
    with BatchWriter(tmp_path / "b", system, name, "2026-01", fmt=fmt) as w:
        w.write_table(table_of(system, name, rows))
    assert folder_bytes(w.dir) == folder_bytes(slow)


def test_csv_text_is_the_contract_text(tmp_path):
    with BatchWriter(tmp_path, "erp", "customers", "2026-01") as w:
        w.write_table(table_of("erp", "customers", CUSTOMERS))
    text = (w.dir / "part-0001.csv").read_bytes().decode("utf-8")
    assert text == (
        "customer_no,customer_name,customer_group,country,currency,payment_terms_days,credit_limit_lcy,"
        "created_date,status,parent_customer_no\n"
        'C1,"Acme, ""The"" Systems\nInc.",VAR,US,USD,30,1000.50,2020-01-02,ACTIVE,\n'
        "C2,Müller IT GmbH,MSP,DE,EUR,45,0.00,2021-12-31,BLOCKED,C1\n"
        "C3,O'Neill IT,RETAILER,GB,GBP,60,-12.34,1999-02-28,CLOSED,\n"
    )


def test_wide_decimals_are_written_without_exponents(tmp_path):
    rows = [{**CUSTOMERS[1], "credit_limit_lcy": Decimal("0E-12")}, CUSTOMERS[0]]
    slow = write_batch(tmp_path / "a", "erp", "customers", "2026-01", rows)
    with BatchWriter(tmp_path / "b", "erp", "customers", "2026-01") as w:
        w.write_table(table_of("erp", "customers", rows, decimal=pa.decimal128(38, 12)))
    fast = (w.dir / "part-0001.csv").read_text(encoding="utf-8")
    assert ",0.000000000000," in fast and ",1000.500000000000," in fast
    slow_text = (slow / "part-0001.csv").read_text(encoding="utf-8")  # row by row: plain digits too
    assert ",0.000000000000," in slow_text and "E-" not in slow_text


def test_empty_table_and_several_tables(tmp_path):
    with BatchWriter(tmp_path, "psa", "tickets", "2026-01") as w:
        w.write_table(table_of("psa", "tickets", []))
        w.write_table(table_of("psa", "tickets", TICKETS[:1]))
        w.write_table(table_of("psa", "tickets", TICKETS[1:]))
    assert w.files == [{"name": "part-0001.csv", "rows": 2, "sha256": w.files[0]["sha256"]}]
    slow = write_batch(tmp_path / "slow", "psa", "tickets", "2026-01", TICKETS)
    assert folder_bytes(w.dir) == folder_bytes(slow)


def test_wrong_columns_are_refused(tmp_path):
    table = table_of("psa", "tickets", TICKETS)
    with BatchWriter(tmp_path, "psa", "tickets", "2026-01") as w, pytest.raises(ValueError, match="columns"):
        w.write_table(table.drop_columns(["sla_met"]))


def test_float_decimals_are_refused(tmp_path):
    with BatchWriter(tmp_path, "erp", "customers", "2026-01") as w, pytest.raises(TypeError, match="float"):
        w.write_table(table_of("erp", "customers", CUSTOMERS, decimal=pa.float64()))


def test_a_bare_carriage_return_is_quoted(tmp_path):
    rows = [{**CUSTOMERS[1], "customer_name": "cr\rlf"}]
    with BatchWriter(tmp_path, "erp", "customers", "2026-01") as w:
        w.write_table(table_of("erp", "customers", rows))
    assert b',"cr\rlf",' in (w.dir / "part-0001.csv").read_bytes()


def test_booleans_given_as_text_are_written_as_given(tmp_path):
    rows = [{**TICKETS[1], "sla_met": "false"}, {**TICKETS[0], "sla_met": "TRUE"}]
    write_batch(tmp_path, "psa", "tickets", "2026-01", rows)
    text = (tmp_path / "psa" / "tickets" / "2026-01" / "part-0001.csv").read_text()
    assert text.splitlines()[1].endswith(",false") and text.splitlines()[2].endswith(",TRUE")


def test_a_generated_batch_read_as_text_and_written_again_is_unchanged(landing, summary, tmp_path):
    """Re-delivering a batch read back as text (sorted by its key) reproduces it byte for byte."""
    import csv

    for month in summary.months:
        batch = landing / "erp" / "sales_lines" / month
        with open(batch / "part-0001.csv", encoding="utf-8", newline="") as fh:
            rows = [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(fh)]
        rows.sort(key=lambda r: (r["document_no"], r["line_no"]))  # as text
        again = write_batch(tmp_path, "erp", "sales_lines", month, rows)
        assert (again / "part-0001.csv").read_bytes() == (batch / "part-0001.csv").read_bytes(), month
        manifests = [json.loads((f / "_manifest.json").read_text()) for f in (again, batch)]
        for m in manifests:
            del m["extracted_at"]  # write_batch's default differs from the generator's
        assert manifests[0] == manifests[1]
