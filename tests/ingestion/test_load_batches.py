"""Loading several batches of an entity at once (`load_batches`) leaves the warehouse exactly as
loading them one after the other: the raw rows, the audit and the quarantine, value for value."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assets.ingestion import audit, landing_scan, loader, rules
from assets.ingestion.loader import load_batches, prepare_warehouse
from tests.ingestion.helpers import FX, SL, sales, write_csv, write_file

MONTHS = [f"2026-{m:02d}" for m in range(1, 10)]


@pytest.fixture
def delivered(landing: Path) -> Path:
    """Nine months of FX rates and sales lines: clean batches, quarantined rows, a duplicate key
    and a refused batch (not UTF-8)."""
    for i, month in enumerate(MONTHS, start=1):
        day = f"{month}-2{i % 8}"
        write_csv(landing, "erp", "fx_rates", month, FX,
                  [[day, "EUR", f"1.0{i}"], [day, "GBP", "?" if i == 3 else f"1.2{i}"]])
        lines = [sales(document_no=f"D{i}", line_no=str(n), posting_date=day, net_amount=f"{i}{n}.50")
                 for n in range(1, 4)]
        if i == 5:
            lines.append(sales(document_no="D5", line_no="2", posting_date=day))  # a key delivered twice
        if i == 7:
            lines.append(sales(document_no="D7", line_no="9", posting_date="2025-01-01"))  # outside the month
        write_csv(landing, "erp", "sales_lines", month, SL, lines)
    write_file(landing, "erp", "sales_lines", "2026-04",
               ",".join(SL).encode() + b"\n" + ",".join(sales(customer_no="M\xfcller")).encode("latin-1") + b"\n")
    return landing


def _load(landing: Path, warehouse: Path, at_once: int) -> list:
    refs = landing_scan.scan_landing(landing).batches
    with duckdb.connect(str(warehouse)) as con:
        prepare_warehouse(con)
        return load_batches(con, landing, refs, audit.loaded_fingerprints(con), at_once=at_once)


def _state(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            "fx": con.execute("SELECT * EXCLUDE (_loaded_at) FROM raw.erp__fx_rates ORDER BY ALL").fetchall(),
            "sales": con.execute("SELECT * EXCLUDE (_loaded_at) FROM raw.erp__sales_lines ORDER BY ALL").fetchall(),
            "batches": con.execute("SELECT * EXCLUDE (loaded_at) FROM audit.load_batches ORDER BY ALL").fetchall(),
            "quarantine": con.execute("SELECT * FROM audit.quarantined_rows ORDER BY ALL").fetchall(),
        }


def test_batches_loaded_at_once_equal_batches_loaded_one_after_the_other(delivered, tmp_path):
    one = _load(delivered, tmp_path / "one.duckdb", at_once=1)
    four = _load(delivered, tmp_path / "four.duckdb", at_once=4)

    assert [(r.entity, r.batch, r.status) for r in four] == [(r.entity, r.batch, r.status) for r in one]
    assert [(r.batch, r.status) for r in four if r.entity == "sales_lines"] == [
        (m, "REFUSED" if m == "2026-04" else "LOADED") for m in MONTHS]
    assert _state(tmp_path / "four.duckdb") == _state(tmp_path / "one.duckdb")
    state = _state(tmp_path / "four.duckdb")
    assert len(state["fx"]) == 17  # 18 rates, one quarantined
    # 8 batches of 3 lines, May's with a key twice (both quarantined), July's with a line dated outside
    assert len(state["sales"]) == 3 * 8 + 2 - 3
    assert [(q[1], q[2], q[5], q[6]) for q in state["quarantine"]] == [
        ("fx_rates", "2026-03", "rate_to_lcy", "?"),
        ("sales_lines", "2026-05", "document_type,document_no,line_no", '["INVOICE","D5","2"]'),
        ("sales_lines", "2026-05", "document_type,document_no,line_no", '["INVOICE","D5","2"]'),
        ("sales_lines", "2026-07", "posting_date", "2025-01-01")]


def test_a_rerun_at_once_finds_every_batch_unchanged(delivered, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _load(delivered, warehouse, at_once=3)
    before = _state(warehouse)
    again = _load(delivered, warehouse, at_once=3)
    assert {r.status for r in again if not r.refused} == {"UNCHANGED"}
    assert _state(warehouse) == before


def test_a_failure_stops_the_load_and_leaves_every_batch_whole(delivered, tmp_path, monkeypatch):
    append_part = rules.append_part

    def breaks_in_june(con, stage, src):
        if stage.batch == "2026-06":
            raise OSError("the disk went away")
        return append_part(con, stage, src)

    monkeypatch.setattr(rules, "append_part", breaks_in_june)
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(OSError, match="the disk went away"):
        _load(delivered, warehouse, at_once=2)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = con.execute("SELECT entity, batch, rows_loaded FROM audit.load_batches "
                             "WHERE status = 'LOADED'").fetchall()
        for entity, batch, rows in loaded:  # each batch that got in is all there
            table = f"raw.erp__{entity}"
            assert con.execute(f"SELECT count(*) FROM {table} WHERE _batch = ?", [batch]).fetchone()[0] == rows
        assert "2026-06" not in {b for _, b, _ in loaded}
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0


def test_large_batches_load_one_by_one_and_the_results_keep_their_order(delivered, tmp_path, monkeypatch):
    """With the limit lowered below a sales batch, the sales batches load one by one and the FX
    batches at once: the warehouse ends the same, and the results come in the order asked."""
    monkeypatch.setattr(loader, "AT_ONCE_MAX_BYTES", 300)
    refs = landing_scan.scan_landing(delivered).batches
    assert {r.entity for r in refs if loader._data_bytes(delivered / r.rel) > 300} == {"sales_lines"}
    results = _load(delivered, tmp_path / "mixed.duckdb", at_once=4)
    assert [(r.entity, r.batch) for r in results] == [(r.entity, r.batch) for r in refs]
    _load(delivered, tmp_path / "one.duckdb", at_once=1)
    assert _state(tmp_path / "mixed.duckdb") == _state(tmp_path / "one.duckdb")
