# ruff: noqa: E501  (expected rows read best on one line)
"""The landing folder scan: batches found, folders that break the layout refused, metadata ignored."""

from __future__ import annotations

from assets.ingestion import audit, batch_fingerprint, scan_landing
from assets.ingestion.landing_scan import BatchRef
from tests.ingestion.helpers import FX, rows, write_csv


def _layout(landing, tmp_path):
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, [["2026-10-31", "EUR", "1.08"]])
    write_csv(landing, "erp", "fx_rates", "2026-09", FX, [["2026-09-30", "EUR", "1.07"]])
    write_csv(landing, "psa", "tickets", "2026-08", ["x"], [])
    for bad in ("erp/fx_rates/2026-13", "erp/fx_rates/oct-2026", "ERP/fx_rates/2026-10", "erp/fx_rate/2026-10",
                "crm/_staging/2026-10", "crm/.git"):
        (landing / bad).mkdir(parents=True)
    (landing / "_generator.json").write_text("{}")
    (landing / ".DS_Store").write_bytes(b"\0")
    (landing / "README.txt").write_text("hello")
    (landing / "erp" / "fx_rates" / "notes.txt").write_text("hello")
    outside = tmp_path / "outside"
    (outside / "sales_lines" / "2026-10").mkdir(parents=True)
    (landing / "psa" / "companies").symlink_to(outside, target_is_directory=True)


def test_scan_finds_batches_and_refuses_what_breaks_the_layout(landing, tmp_path):
    _layout(landing, tmp_path)
    scan = scan_landing(landing)
    assert scan.batches == [BatchRef("erp", "fx_rates", "2026-09"), BatchRef("erp", "fx_rates", "2026-10"),
                            BatchRef("psa", "tickets", "2026-08")]
    assert scan.months == ["2026-08", "2026-09", "2026-10"]
    assert [(r.system, r.entity, r.batch, r.path, r.reason) for r in scan.refusals] == [
        ("ERP", None, None, "ERP", "unknown system folder 'ERP'"),
        ("README.txt", None, None, "README.txt", "a file where the layout expects a system folder"),
        ("erp", "fx_rate", None, "erp/fx_rate", "unknown entity folder 'fx_rate'"),
        ("erp", "fx_rates", "2026-13", "erp/fx_rates/2026-13", "batch folder '2026-13' is not a month"),
        ("erp", "fx_rates", "notes.txt", "erp/fx_rates/notes.txt", "a file where the layout expects a month folder"),
        ("erp", "fx_rates", "oct-2026", "erp/fx_rates/oct-2026", "batch folder 'oct-2026' is not a month"),
        ("psa", "companies", None, "psa/companies", "it is a symlink that points outside the landing root"),
    ]
    message = scan.refusals[5].message
    assert message == ("erp/fx_rates/oct-2026: batch folder 'oct-2026' is not a month. What to do: name the "
                       "batch folder after the fiscal month it covers, as YYYY-MM (e.g. 2026-10).")


def test_a_missing_landing_folder_has_nothing(tmp_path):
    scan = scan_landing(tmp_path / "nowhere")
    assert (scan.batches, scan.refusals) == ([], [])


def test_folder_refusals_are_recorded_and_replaced_by_the_next_scan(landing, tmp_path, load, con):
    _layout(landing, tmp_path)
    write_csv(landing, "erp", "fx_rates", "2026-11", FX[:2], [["2026-11-30", "EUR"]])  # refused as a batch
    load("erp", "fx_rates", "2026-10")
    load("erp", "fx_rates", "2026-11")
    audit.replace_folder_refusals(con, scan_landing(landing).refusals)
    audit.replace_folder_refusals(con, scan_landing(landing).refusals)  # idempotent
    assert rows(con, "SELECT system, entity, batch, file, status, fingerprint FROM audit.load_batches "
                     "WHERE coalesce(batch, '') NOT IN ('2026-10', '2026-11') ORDER BY file") == [
        ("ERP", None, None, "ERP", "REFUSED", None),
        ("README.txt", None, None, "README.txt", "REFUSED", None),
        ("erp", "fx_rate", None, "erp/fx_rate", "REFUSED", None),
        ("erp", "fx_rates", "2026-13", "erp/fx_rates/2026-13", "REFUSED", None),
        ("erp", "fx_rates", "notes.txt", "erp/fx_rates/notes.txt", "REFUSED", None),
        ("erp", "fx_rates", "oct-2026", "erp/fx_rates/oct-2026", "REFUSED", None),
        ("psa", "companies", None, "psa/companies", "REFUSED", None),
    ]
    # The sender fixes the folder: the refusals go, the batches' own audit rows stay.
    for bad in ("ERP", "erp/fx_rate", "erp/fx_rates/2026-13", "erp/fx_rates/oct-2026"):
        (landing / bad).rename(landing / "crm" / f"_{bad.replace('/', '_')}")
    for f in ("README.txt", "erp/fx_rates/notes.txt", "psa/companies"):
        (landing / f).unlink()
    audit.replace_folder_refusals(con, scan_landing(landing).refusals)
    assert rows(con, "SELECT batch, status FROM audit.load_batches ORDER BY ALL") == [
        ("2026-10", "LOADED"), ("2026-11", "REFUSED")]


def test_the_fingerprint_covers_every_file_of_the_batch(landing, load):
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, [["2026-10-31", "EUR", "1.08"]])
    bdir = landing / "erp" / "fx_rates" / "2026-10"
    first = batch_fingerprint(bdir)
    assert load("erp", "fx_rates", "2026-10").fingerprint == first
    (bdir / ".DS_Store").write_bytes(b"\0")  # metadata does not count
    assert batch_fingerprint(bdir) == first
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, [["2026-10-31", "EUR", "1.08"]], name="part-0002.csv")
    second = batch_fingerprint(bdir)
    assert second != first
    (bdir / "part-0002.csv").write_text((bdir / "part-0002.csv").read_text().replace("1.08", "1.09"))
    assert batch_fingerprint(bdir) not in (first, second)
