"""The bad-input corpus: every case of extracts.md "Bad input" and each real-world breakage it lists,
with its expected outcome, through the real loader (`assets.ingestion.load_batch`), as ONE
parametrised test; then the same corpus through the Dagster ingestion asset.

Outcomes (docs/landing-contract.md):
- REFUSED: nothing of the delivery loads, the previous version of the batch stays, the audit row and
  the message name the file and the reason;
- n rows QUARANTINED: kept with file, line and reason in audit.quarantined_rows, the rest loads;
- LOADED (+ flagged): loads whole; a reference that points nowhere is flagged by a data-quality check
  and its money goes to UNASSIGNED (shown on the clean run's published marts below).

Every case also checks `rows read = rows loaded + rows quarantined` in audit.load_batches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from assets.ingestion.loader import load_batch, prepare_warehouse
from orchestration.generator.landing import csv_text
from tests.ingestion.helpers import SL, sales, write_file, write_manifest

BATCH = "2026-10"
GOOD_ROWS = [
    sales(document_no="D1", line_no="1"),
    sales(document_no="D1", line_no="2", customer_no="C2"),
    sales(document_type="CREDIT_MEMO", document_no="CM1", line_no="1", return_reason="DEFECTIVE"),
]
# the previous, good delivery of the batch (loaded before every case): one distinct row
PREVIOUS_ROWS = [sales(document_no="OLD", line_no="1")]


def csv_bytes(rows, header=SL, **kw) -> bytes:
    return csv_text(list(header), [list(r) for r in rows]).encode("utf-8", **kw)


@dataclass
class Case:
    """One delivery of erp/sales_lines (unless `where` says otherwise) and what must happen to it."""

    files: dict[str, bytes]
    status: str  # LOADED | REFUSED
    loaded: int = 0
    quarantined: int = 0
    reason: str = ""  # a part of the refusal message or of every quarantine reason
    where: tuple[str, str, str] = ("erp", "sales_lines", BATCH)
    manifest: dict | None = None  # {"rows": {...}, "control_totals": {...}} written after the files
    check: object = None  # an extra check on (con, landing)
    tags: list[str] = field(default_factory=list)


def good(**kw) -> dict[str, bytes]:
    return {"part-0001.csv": csv_bytes(GOOD_ROWS, **kw)}


def parquet_bytes(tmp: Path, truncate: bool = False) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({c: pa.array([r[i] for r in GOOD_ROWS], pa.string()) for i, c in enumerate(SL)})
    path = tmp / "x.parquet"
    pq.write_table(table, path)
    data = path.read_bytes()
    return data[: len(data) // 2] if truncate else data


def european() -> bytes:
    lines = [";".join(SL)] + [";".join(v.replace(".", ",") for v in r) for r in GOOD_ROWS]
    return ("\n".join(lines) + "\n").encode()


def latin1() -> bytes:
    rows = [sales(customer_no="MÜLLER-01")] + GOOD_ROWS[1:]
    return csv_text(list(SL), rows).encode("latin-1")


def header_case() -> bytes:
    header = [c.upper() if i % 2 else f" {c.title()} " for i, c in enumerate(SL)]
    return csv_bytes(GOOD_ROWS, header=header)


def newline_in_quoted_name(con, landing) -> None:
    # customers: the name holds a line break and a comma; it loads as delivered, the line numbers
    # of the following rows count the break
    rows = con.execute("SELECT customer_name, _line FROM raw.erp__customers ORDER BY _line").fetchall()
    assert rows == [("Müller, \"IT\"\nSysteme GmbH", 2), ("Beta Ltd", 4)]


def customers_csv() -> bytes:
    from tests.reliability.test_roundtrip_property import customer_row

    rows = [customer_row("C1", "Müller, \"IT\"\nSysteme GmbH"), customer_row("C2", "Beta Ltd")]
    from assets.core.contract import entity

    return csv_text(list(entity("erp", "customers").column_names), rows).encode()


def unknown_reference_loads(con, landing) -> None:
    assert con.execute("SELECT customer_no FROM raw.erp__sales_lines ORDER BY _line").fetchall() == [
        ("NOWHERE-1",), ("C2",), ("C1",)]


def quarantine(**override) -> dict[str, bytes]:
    rows = [sales(document_no="D1", line_no="1", **override)] + GOOD_ROWS[1:]
    return {"part-0001.csv": csv_bytes(rows)}


CASES: dict[str, Case] = {
    # --- the batch is refused -------------------------------------------------------------------
    "european ; separator and decimal comma": Case({"part-0001.csv": european()}, "REFUSED",
                                                   reason="';'"),
    "Latin-1 file": Case({"part-0001.csv": latin1()}, "REFUSED", reason="not UTF-8"),
    "missing column": Case({"part-0001.csv": csv_text(list(SL[:-1]), [r[:-1] for r in GOOD_ROWS]).encode()},
                           "REFUSED", reason="return_reason"),
    "unterminated quote (unreadable)": Case({"part-0001.csv": csv_bytes(GOOD_ROWS) + b'D9,"unterminated\n'},
                                            "REFUSED"),
    "truncated Parquet (unreadable)": Case({}, "REFUSED", reason="part-0001.parquet"),
    "empty file": Case({"part-0001.csv": b""}, "REFUSED"),
    "manifest row count mismatch": Case(good(), "REFUSED", reason="rows",
                                        manifest={"rows": {"part-0001.csv": 4}}),
    "manifest checksum mismatch": Case(good(), "REFUSED", reason="sha256",
                                       manifest={"rows": {"part-0001.csv": 3}, "sha256": "0" * 64}),
    "manifest control total mismatch": Case(good(), "REFUSED", reason="net_amount",
                                            manifest={"rows": {"part-0001.csv": 3},
                                                      "control_totals": {"net_amount": "63.01"}}),
    "manifest control total not a decimal": Case(good(), "REFUSED", reason="net_amount",
                                                 manifest={"rows": {"part-0001.csv": 3},
                                                           "control_totals": {"net_amount": "63,00"}}),
    "control-total column holding a non-decimal": Case(
        {"part-0001.csv": csv_bytes([sales(net_amount="21,00")] + GOOD_ROWS[1:])}, "REFUSED",
        reason="net_amount", manifest={"rows": {"part-0001.csv": 3}, "control_totals": {"net_amount": "42.00"}}),
    "batch folder not a month": Case(good(), "REFUSED", reason="not a month",
                                     where=("erp", "sales_lines", "2026-13")),
    "batch folder named ..": Case({}, "REFUSED", where=("erp", "sales_lines", "..")),
    "unknown system": Case(good(), "REFUSED", reason="unknown system", where=("sap", "sales_lines", BATCH)),
    "unknown entity": Case(good(), "REFUSED", reason="unknown system/entity", where=("erp", "invoices", BATCH)),
    # --- accepted as delivered ------------------------------------------------------------------
    "header in another letter case, padded": Case({"part-0001.csv": header_case()}, "LOADED", loaded=3),
    "trailing empty line": Case({"part-0001.csv": csv_bytes(GOOD_ROWS) + b"\n"}, "LOADED", loaded=3),
    "UTF-8 byte-order mark": Case({"part-0001.csv": b"\xef\xbb\xbf" + csv_bytes(GOOD_ROWS)}, "LOADED", loaded=3),
    "CRLF line ends": Case({"part-0001.csv": csv_bytes(GOOD_ROWS).replace(b"\n", b"\r\n")}, "LOADED", loaded=3),
    "quoted customer name with a newline": Case({}, "LOADED", loaded=2, where=("erp", "customers", BATCH),
                                                check=newline_in_quoted_name),
    "extra column": Case({"part-0001.csv": csv_text(list(SL) + ["Contact Email"],
                                                    [r + ["x@example.com"] for r in GOOD_ROWS]).encode()},
                         "LOADED", loaded=3),
    # --- rows are quarantined -------------------------------------------------------------------
    "bad type (decimal)": Case(quarantine(quantity="2,5"), "LOADED", loaded=2, quarantined=1, reason="decimal"),
    "bad type (date)": Case(quarantine(posting_date="10/05/2026"), "LOADED", loaded=2, quarantined=1,
                            reason="date"),
    "bad type (boolean)": Case(quarantine(is_drop_ship="yes"), "LOADED", loaded=2, quarantined=1,
                               reason="boolean"),
    "bad enum (lower case)": Case(quarantine(order_channel="edi"), "LOADED", loaded=2, quarantined=1,
                                  reason="allowed values"),
    "empty required value": Case(quarantine(customer_no=""), "LOADED", loaded=2, quarantined=1,
                                 reason="required"),
    "return_reason on an invoice": Case(quarantine(return_reason="DEFECTIVE"), "LOADED", loaded=2,
                                        quarantined=1, reason="wants none"),
    "return_reason missing on a credit memo": Case(
        {"part-0001.csv": csv_bytes(GOOD_ROWS[:2] + [sales(document_type="CREDIT_MEMO", document_no="CM1",
                                                           line_no="1", return_reason="")])},
        "LOADED", loaded=2, quarantined=1, reason="return_reason is required"),
    "duplicate key": Case({"part-0001.csv": csv_bytes(GOOD_ROWS + [GOOD_ROWS[0]])}, "LOADED", loaded=2,
                          quarantined=2, reason="occurs 2 times"),
    "duplicate key across parts": Case({"part-0001.csv": csv_bytes(GOOD_ROWS),
                                        "part-0002.csv": csv_bytes([GOOD_ROWS[1]])}, "LOADED", loaded=2,
                                       quarantined=2, reason="occurs 2 times"),
    "batch_by date outside the month": Case(quarantine(posting_date="2026-11-01"), "LOADED", loaded=2,
                                            quarantined=1, reason="outside the batch month"),
    # --- loads, flagged downstream --------------------------------------------------------------
    "reference that points nowhere": Case(quarantine(customer_no="NOWHERE-1"), "LOADED", loaded=3,
                                          check=unknown_reference_loads),
}


def deliver(landing: Path, tmp: Path, name: str, case: Case) -> None:
    system, entity_name, batch = case.where
    files = dict(case.files)
    if name == "truncated Parquet (unreadable)":
        files = {"part-0001.parquet": parquet_bytes(tmp, truncate=True)}
    if name == "quoted customer name with a newline":
        files = {"part-0001.csv": customers_csv()}
    if batch == "..":
        return
    for fname, content in files.items():
        write_file(landing, system, entity_name, batch, content, name=fname)
    if case.manifest is not None:
        bdir = landing / system / entity_name / batch
        path = write_manifest(bdir, case.manifest["rows"], case.manifest.get("control_totals"))
        if "sha256" in case.manifest:
            body = json.loads(path.read_text())
            body["files"][0]["sha256"] = case.manifest["sha256"]
            path.write_text(json.dumps(body))


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_corpus_through_the_loader(tmp_path, name):
    case = CASES[name]
    landing = tmp_path / "landing"
    landing.mkdir()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    system, entity_name, batch = case.where
    valid_batch = case.where in {("erp", "sales_lines", BATCH), ("erp", "customers", BATCH)}
    try:
        prepare_warehouse(con)
        if case.status == "REFUSED" and valid_batch:
            # a good earlier version of the batch: it must stay
            write_file(landing, system, entity_name, batch, csv_bytes(PREVIOUS_ROWS))
            assert load_batch(con, landing, system, entity_name, batch).status == "LOADED"
            for p in (landing / system / entity_name / batch).iterdir():
                p.unlink()
        deliver(landing, tmp_path, name, case)
        before = _raw_digest(con)

        result = load_batch(con, landing, system, entity_name, batch)

        assert result.status == case.status, result.message
        assert case.reason in result.message or all(
            case.reason in r for r, in con.execute("SELECT reason FROM audit.quarantined_rows").fetchall()
        ), result.message
        if case.status == "REFUSED":
            assert result.message.startswith(f"REFUSED {system}/{entity_name}/{batch}: ")
            assert "Nothing of this delivery was loaded" in result.message
            assert _raw_digest(con) == before  # the previous version stays, untouched
            audit = con.execute("SELECT status, rows_read, rows_loaded, rows_quarantined, message "
                                "FROM audit.load_batches WHERE status = 'REFUSED'").fetchall()
            assert audit == [("REFUSED", 0, 0, 0, result.message)]
            if valid_batch:
                assert con.execute("SELECT status, rows_loaded FROM audit.load_batches "
                                   "WHERE status = 'LOADED'").fetchall() == [("LOADED", 1)]
        else:
            assert (result.rows_loaded, result.rows_quarantined) == (case.loaded, case.quarantined)
            table = f"raw.{system}__{entity_name}"
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == case.loaded
            audit = con.execute("SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_batches "
                                "WHERE status = 'LOADED'").fetchall()
            assert audit == [(case.loaded + case.quarantined, case.loaded, case.quarantined)]
            q = con.execute("SELECT file, line, reason FROM audit.quarantined_rows").fetchall()
            assert len({(f, line) for f, line, _ in q}) == case.quarantined
            assert all(f.startswith(f"{system}/{entity_name}/{batch}/part-") and line >= 2 for f, line, _ in q)
        if case.check:
            case.check(con, landing)
    finally:
        con.close()


def _raw_digest(con) -> str:
    """A digest of every raw table's rows (what the marts are built from)."""
    tables = [t for t, in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' ORDER BY 1").fetchall()]
    h = hashlib.sha256()
    for t in tables:
        h.update(repr(con.execute(f'SELECT * EXCLUDE (_loaded_at) FROM raw."{t}" ORDER BY ALL').fetchall())
                 .encode())
    return h.hexdigest()
