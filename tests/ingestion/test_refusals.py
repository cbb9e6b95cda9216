"""Refused batches: nothing of the delivery loads, the previous version stays, the audit says why.

Every bad delivery below replaces a good, already loaded version of `erp/fx_rates/2026-10` (or of
`erp/sales_lines/2026-10`); the load must refuse it with a message naming the file, the reason and
what to do, and leave the warehouse as it was.
"""

# ruff: noqa: E501  (the expected messages read best on one line)
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.generator.landing import csv_text
from tests.ingestion.helpers import FX, SL, batch_dir, rows, sales, write_manifest

GOOD_FX = [["2026-10-31", "EUR", "1.08"], ["2026-10-31", "GBP", "1.25"]]


def fx_csv(data=GOOD_FX, header=FX) -> str:
    return csv_text(list(header), data)


def put(bdir: Path, content: str | bytes, name: str = "part-0001.csv") -> Path:
    path = bdir / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def manifest_for(bdir: Path, n_rows: int = 2, totals: dict | None = None, **extra) -> None:
    write_manifest(bdir, {"part-0001.csv": n_rows}, totals, **extra)


# (id, entity, what to write into the emptied batch folder, file named in the message, reason text)
BAD = [
    ("corrupt-parquet", "fx_rates", lambda d, o: put(d, b"PAR1 this is not parquet PAR1", "part-0001.parquet"),
     "part-0001.parquet", "cannot be read as Parquet"),
    ("unterminated-quote", "fx_rates", lambda d, o: put(d, 'period_end,currency,rate_to_lcy\n2026-10-31,"EUR,1.08\n'),
     "part-0001.csv", "unterminated quote"),
    ("wrong-field-count", "fx_rates", lambda d, o: put(d, "period_end,currency,rate_to_lcy\n2026-10-31,EUR,1.08,x\n"),
     "part-0001.csv", "Expected Number of Columns: 3 Found: 4"),
    ("missing-column", "fx_rates", lambda d, o: put(d, fx_csv([["2026-10-31", "EUR"]], FX[:2])),
     "part-0001.csv", "missing column rate_to_lcy"),
    ("missing-nullable-column", "sales_lines",
     lambda d, o: put(d, csv_text([c for c in SL if c != "order_no"], [sales()[:4] + sales()[5:]])),
     "part-0001.csv", "missing column order_no"),
    ("duplicate-column", "fx_rates",
     lambda d, o: put(d, csv_text([*FX, "Currency "], [[*GOOD_FX[0], "EUR"]])),
     "part-0001.csv", "column 'Currency' appears twice"),
    ("empty-file", "fx_rates", lambda d, o: put(d, b""), "part-0001.csv", "the file is empty"),
    ("european-csv", "fx_rates",
     lambda d, o: put(d, "period_end;currency;rate_to_lcy\n2026-10-31;EUR;1,08\n2026-10-31;GBP;1,25\n"),
     "part-0001.csv", "European-style CSV: fields are separated by ';' and decimals written with ',' (e.g. '1,08')"),
    ("tab-separated", "fx_rates", lambda d, o: put(d, "period_end\tcurrency\trate_to_lcy\n2026-10-31\tEUR\t1.08\n"),
     "part-0001.csv", "fields are separated by tab, not by commas"),
    ("latin-1", "fx_rates",
     lambda d, o: put(d, "period_end,currency,rate_to_lcy\n2026-10-31,EUR,1.08\n2026-10-31,Zürich,1.1\n".encode("latin-1")),
     "part-0001.csv", "not UTF-8: invalid byte 0xFC on line 3"),
    ("utf-16", "fx_rates", lambda d, o: put(d, fx_csv().encode("utf-16")), "part-0001.csv", "UTF-16"),
    ("manifest-rows", "fx_rates", lambda d, o: (put(d, fx_csv()), manifest_for(d, n_rows=3)),
     "part-0001.csv", "the file has 2 data rows, the manifest says 3"),
    ("manifest-sha256", "fx_rates",
     lambda d, o: (put(d, fx_csv()), manifest_for(d), put(d, fx_csv([*GOOD_FX, ["2026-10-31", "JPY", "0.0067"]]))),
     "part-0001.csv", "sha256"),
    ("manifest-control-total", "fx_rates",
     lambda d, o: (put(d, fx_csv()), manifest_for(d, totals={"rate_to_lcy": "2.34"})),
     "_manifest.json", "control total of rate_to_lcy is 2.34 in the manifest, but the delivered rows sum to 2.33"),
    ("control-total-unverifiable", "fx_rates",
     lambda d, o: (put(d, fx_csv([GOOD_FX[0], ["2026-10-31", "GBP", "1,25"]])),
                   manifest_for(d, totals={"rate_to_lcy": "2.33"})),
     "part-0001.csv", "control total of rate_to_lcy cannot be verified: 1 value(s) in that column are not "
                      "decimals (first on line 3: '1,25')"),
    ("manifest-total-not-decimal", "fx_rates",
     lambda d, o: (put(d, fx_csv()), manifest_for(d, totals={"rate_to_lcy": "2,33"})),
     "_manifest.json", "control total of rate_to_lcy ('2,33') is not a decimal"),
    ("manifest-lists-missing-file", "fx_rates",
     lambda d, o: (put(d, fx_csv()), put(d, fx_csv(), "part-0002.csv"),
                   write_manifest(d, {"part-0001.csv": 2, "part-0002.csv": 2}), (d / "part-0002.csv").unlink()),
     "_manifest.json", "the manifest lists part-0002.csv, which the batch folder does not hold"),
    ("manifest-misses-a-file", "fx_rates",
     lambda d, o: (put(d, fx_csv()), manifest_for(d), put(d, fx_csv(), "part-0002.csv")),
     "_manifest.json", "the batch folder holds part-0002.csv, which the manifest does not list"),
    ("manifest-other-batch", "fx_rates",
     lambda d, o: (put(d, fx_csv()), manifest_for(d, batch="2026-09")),
     "_manifest.json", "the manifest is for batch '2026-09'"),
    ("manifest-not-json", "fx_rates", lambda d, o: (put(d, fx_csv()), put(d, "{files: [", "_manifest.json")),
     "_manifest.json", "cannot be read as JSON"),
    ("unknown-file-kind", "fx_rates", lambda d, o: (put(d, fx_csv()), put(d, fx_csv(), "part-0002.xlsx")),
     "part-0002.xlsx", "unknown kind of file"),
    ("no-data-file", "fx_rates", lambda d, o: put(d, "notes", "_readme.txt"),
     "erp/fx_rates/2026-10", "holds no .csv or .parquet file"),
    ("symlink-out-of-root", "fx_rates",
     lambda d, o: (o.joinpath("secret.csv").write_text(fx_csv()), (d / "part-0001.csv").symlink_to(o / "secret.csv")),
     "part-0001.csv", "symlink that points outside the landing root"),
    ("wildcard-file-name", "fx_rates",
     lambda d, o: (put(d, fx_csv(), "part-0001.csv"), put(d, fx_csv(), "part-*.csv")),
     "part-*.csv", "the path contains a wildcard character (* ? [ {), which DuckDB's readers would expand"),
    ("parquet-float-money", "fx_rates",
     lambda d, o: pq.write_table(pa.table({"period_end": ["2026-10-31"], "currency": ["EUR"], "rate_to_lcy": [1.08]}),
                                 d / "part-0001.parquet"),
     "part-0001.parquet", "column rate_to_lcy has Parquet type DOUBLE: binary floating point"),
]


@pytest.mark.parametrize(("entity_name", "deliver", "named", "reason"),
                         [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_delivery_is_refused_and_the_previous_version_stays(tmp_path, landing, load, con, entity_name,
                                                                  deliver, named, reason):
    bdir = batch_dir(landing, "erp", entity_name, "2026-10")
    good = fx_csv() if entity_name == "fx_rates" else csv_text(SL, [sales(), sales(line_no="2")])
    put(bdir, good)
    first = load("erp", entity_name, "2026-10")
    assert first.status == "LOADED" and first.rows_loaded == 2
    before = rows(con, f"SELECT * FROM raw.erp__{entity_name} ORDER BY ALL")

    shutil.rmtree(bdir)
    bdir.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    deliver(bdir, outside)
    result = load("erp", entity_name, "2026-10")

    assert result.status == "REFUSED"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (0, 0, 0)
    assert reason in result.message
    path = named if named.startswith("erp/") else f"erp/{entity_name}/2026-10/{named}"
    assert f"{path}: " in result.message
    assert "What to do:" in result.message
    assert rows(con, f"SELECT * FROM raw.erp__{entity_name} ORDER BY ALL") == before
    assert rows(con, "SELECT status, rows_read, rows_loaded, rows_quarantined, message = ? "
                     "FROM audit.load_batches ORDER BY status", result.message) == [
        ("LOADED", 2, 2, 0, False), ("REFUSED", 0, 0, 0, True)]


def test_a_refused_first_delivery_loads_nothing(landing, load, con):
    put(batch_dir(landing, "erp", "fx_rates", "2026-10"),
        "period_end;currency;rate_to_lcy\n2026-10-31;EUR;1,08\n")
    result = load("erp", "fx_rates", "2026-10")
    assert result.status == "REFUSED"
    assert rows(con, "SELECT count(*) FROM raw.erp__fx_rates") == [(0,)]
    assert rows(con, "SELECT batch, file, status, fingerprint IS NOT NULL FROM audit.load_batches") == [
        ("2026-10", "erp/fx_rates/2026-10/part-0001.csv", "REFUSED", True)]


def test_a_later_good_delivery_replaces_the_refusal(landing, load, con):
    bdir = batch_dir(landing, "erp", "fx_rates", "2026-10")
    put(bdir, "period_end;currency;rate_to_lcy\n2026-10-31;EUR;1,08\n")
    assert load("erp", "fx_rates", "2026-10").status == "REFUSED"
    put(bdir, fx_csv())
    assert load("erp", "fx_rates", "2026-10").status == "LOADED"
    assert rows(con, "SELECT status, rows_loaded FROM audit.load_batches") == [("LOADED", 2)]


def test_a_control_total_over_quarantined_rows_and_long_fractions_is_exact(landing, load, con):
    bdir = batch_dir(landing, "erp", "fx_rates", "2026-10")
    put(bdir, fx_csv([
        ["2026-10-31", "EUR", "1.08"],
        ["2026-10-31", "GBP", "0.0000000000001"],  # 13 fractional digits: quarantined, still counted
        ["2026-09-30", "CHF", "1.5"],  # outside the month: quarantined, still counted
        ["2026-10-31", "JPY", ""],  # empty: adds 0 (and is quarantined as empty)
    ]))
    write_manifest(bdir, {"part-0001.csv": 4}, {"rate_to_lcy": "2.5800000000001"})
    result = load("erp", "fx_rates", "2026-10")
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("LOADED", 1, 3)
    assert rows(con, "SELECT currency, rate_to_lcy FROM raw.erp__fx_rates") == [("EUR", Decimal("1.08"))]


@pytest.mark.parametrize("bad", ["../../etc", "2026-13", "oct-2026"])
def test_load_batch_refuses_names_that_are_not_a_month(landing, load, con, bad):
    result = load("erp", "fx_rates", bad)
    assert result.status == "REFUSED"
    assert f"erp/fx_rates/{bad}: batch {bad!r} is not a month" in result.message


def test_load_batch_refuses_an_unknown_entity(load):
    result = load("erp", "../crm", "2026-10")
    assert result.status == "REFUSED" and "unknown system/entity erp/../crm" in result.message


def test_a_month_folder_that_is_a_symlink_out_of_the_root_is_refused(tmp_path, landing, load, con):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "part-0001.csv").write_text(fx_csv())
    (landing / "erp" / "fx_rates").mkdir(parents=True)
    (landing / "erp" / "fx_rates" / "2026-10").symlink_to(outside, target_is_directory=True)
    result = load("erp", "fx_rates", "2026-10")
    assert result.status == "REFUSED"
    assert "erp/fx_rates/2026-10: it is a symlink that points outside the landing root" in result.message
    assert rows(con, "SELECT count(*) FROM raw.erp__fx_rates") == [(0,)]
    assert rows(con, "SELECT fingerprint FROM audit.load_batches") == [(None,)]


def test_the_manifest_json_numbers_are_read_exactly(landing, load):
    bdir = batch_dir(landing, "erp", "fx_rates", "2026-10")
    put(bdir, fx_csv())
    manifest = write_manifest(bdir, {"part-0001.csv": 2})
    text = manifest.read_text().replace('"control_totals": {}', '"control_totals": {"rate_to_lcy": 2.33}')
    manifest.write_text(text)  # a JSON number, not a string: read as an exact decimal, never a float
    assert load("erp", "fx_rates", "2026-10").status == "LOADED"


def test_a_file_that_changes_after_its_byte_pass_is_refused(landing):
    from assets.ingestion.errors import Refused
    from assets.ingestion.reader import check_unchanged, scan_bytes

    path = put(batch_dir(landing, "erp", "fx_rates", "2026-10"), fx_csv())
    fb = scan_bytes(path, text=True)
    check_unchanged(path, "erp/fx_rates/2026-10/part-0001.csv", fb)  # untouched: fine
    with path.open("a") as fh:  # the copy is still running
        fh.write("2026-10-31,JPY,0.0067\n")
    with pytest.raises(Refused, match="the file changed while it was being loaded"):
        check_unchanged(path, "erp/fx_rates/2026-10/part-0001.csv", fb)
