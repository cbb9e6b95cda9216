"""Landing paths that leave the landing root are refused: `..`, absolute names, symbolic links.

Nothing outside the landing root is ever read: a batch reached through such a path is refused as a
whole (its previous version stays) and the folder scan reports it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assets.ingestion.landing_scan import scan_landing
from assets.ingestion.loader import load_batch
from orchestration.generator.landing import csv_text
from tests.ingestion.helpers import SL, sales, write_file

GOOD = csv_text(list(SL), [sales()]).encode()


@pytest.fixture
def world(tmp_path):
    """A landing root and, beside it, an outside folder holding a perfectly valid batch."""
    landing, outside = tmp_path / "landing", tmp_path / "outside"
    landing.mkdir()
    write_file(outside, "erp", "sales_lines", "2026-10", GOOD)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield landing, outside, con
    con.close()


def loaded_rows(con) -> int:
    try:
        return con.execute("SELECT count(*) FROM raw.erp__sales_lines").fetchone()[0]
    except duckdb.CatalogException:
        return 0


@pytest.mark.parametrize("system,entity_name,batch", [
    ("erp", "sales_lines", ".."),
    ("erp", "sales_lines", "../../outside/erp/sales_lines/2026-10"),
    ("erp", "..", "2026-10"),
    ("..", "outside", "2026-10"),
    ("erp", "sales_lines", "/etc"),
    ("erp/../../outside/erp", "sales_lines", "2026-10"),
])
def test_names_with_dot_dot_or_absolute_paths_are_refused(world, system, entity_name, batch):
    landing, _outside, con = world
    result = load_batch(con, landing, system, entity_name, batch)
    assert result.status == "REFUSED", result.message
    assert loaded_rows(con) == 0


@pytest.mark.parametrize("link", ["system", "entity", "batch", "part file"])
def test_symbolic_links_out_of_the_root_are_refused(world, link):
    landing, outside, con = world
    target = {"system": outside / "erp", "entity": outside / "erp" / "sales_lines",
              "batch": outside / "erp" / "sales_lines" / "2026-10",
              "part file": outside / "erp" / "sales_lines" / "2026-10" / "part-0001.csv"}[link]
    place = {"system": landing / "erp", "entity": landing / "erp" / "sales_lines",
             "batch": landing / "erp" / "sales_lines" / "2026-10",
             "part file": landing / "erp" / "sales_lines" / "2026-10" / "part-0001.csv"}[link]
    place.parent.mkdir(parents=True, exist_ok=True)
    place.symlink_to(target)

    result = load_batch(con, landing, "erp", "sales_lines", "2026-10")

    assert result.status == "REFUSED", result.message
    assert "outside the landing root" in result.message
    assert loaded_rows(con) == 0
    scan = scan_landing(landing)
    if link in ("system", "entity"):
        assert any("outside the landing root" in r.message for r in scan.refusals)


def test_a_symlink_out_of_the_root_never_replaces_the_good_version(world):
    landing, outside, con = world
    write_file(landing, "erp", "sales_lines", "2026-10", GOOD)
    assert load_batch(con, landing, "erp", "sales_lines", "2026-10").status == "LOADED"
    part = landing / "erp" / "sales_lines" / "2026-10" / "part-0001.csv"
    part.unlink()
    bigger = outside / "big.csv"
    bigger.write_bytes(csv_text(list(SL), [sales(line_no=str(i)) for i in range(1, 6)]).encode())
    part.symlink_to(bigger)
    assert load_batch(con, landing, "erp", "sales_lines", "2026-10").status == "REFUSED"
    assert loaded_rows(con) == 1


def test_a_symlink_that_stays_inside_the_root_is_followed(world):
    landing, _outside, con = world
    real = landing / "_staging" / "2026-10"
    write_file(landing, "_staging", "x", "y", GOOD)  # creates _staging/x/y/part-0001.csv
    real.parent.mkdir(parents=True, exist_ok=True)
    (landing / "_staging" / "x" / "y").rename(real)
    (landing / "erp" / "sales_lines").mkdir(parents=True)
    (landing / "erp" / "sales_lines" / "2026-10").symlink_to(Path("../../_staging/2026-10"))
    assert load_batch(con, landing, "erp", "sales_lines", "2026-10").status == "LOADED"
    assert loaded_rows(con) == 1
