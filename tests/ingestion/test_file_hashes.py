"""The landing files' sha256 remembered by their stat (assets/ingestion/audit.py: FileHashes)."""

from __future__ import annotations

import os

import duckdb
import pytest

from assets.core.contract import sha256_file
from assets.ingestion import audit
from assets.ingestion.audit import FileHashes


@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "erp" / "sales_lines" / "2026-10"
    folder.mkdir(parents=True)
    (folder / "part-0001.csv").write_text("a,b\n1,2\n")
    (folder / "_manifest.json").write_text('{"files": []}\n')
    return folder


def _unread(monkeypatch) -> None:
    """From here on, reading a file's bytes fails the test."""
    def read(path):
        raise AssertionError(f"{path} was read")
    monkeypatch.setattr(audit, "sha256_file", read)


def test_an_unchanged_file_is_not_read_again(batch, monkeypatch):
    con = duckdb.connect()
    hashes = FileHashes(con)
    first = hashes.of_batch(batch)
    assert first == {p.name: sha256_file(p) for p in audit.fingerprint_files(batch)}
    hashes.save()
    _unread(monkeypatch)
    assert FileHashes(con).of_batch(batch) == first


def test_a_file_rewritten_with_its_size_and_modification_time_is_read_again(batch, monkeypatch):
    con = duckdb.connect()
    hashes = FileHashes(con)
    before = hashes.of_batch(batch)
    hashes.save()
    part = batch / "part-0001.csv"
    st = part.stat()
    part.write_text("a,b\n1,3\n")  # the same size
    os.utime(part, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same modification time
    after = FileHashes(con).of_batch(batch)
    assert after["part-0001.csv"] == sha256_file(part) != before["part-0001.csv"]
    assert after["_manifest.json"] == before["_manifest.json"]


def test_save_keeps_the_files_of_this_scan_only(batch, tmp_path):
    con = duckdb.connect()
    hashes = FileHashes(con)
    hashes.of_batch(batch)
    hashes.save()
    (batch / "part-0001.csv").unlink()
    hashes = FileHashes(con)
    hashes.of_batch(batch)
    hashes.save()
    paths = [p for (p,) in con.execute("SELECT path FROM audit.landing_file_hashes").fetchall()]
    assert paths == [str((batch / "_manifest.json").absolute())]


def test_a_read_only_warehouse_is_read_and_never_written(batch, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        hashes = FileHashes(con)
        first = hashes.of_batch(batch)
        hashes.save()
    (batch / "part-0002.csv").write_text("a,b\n")
    with duckdb.connect(str(path), read_only=True) as con:
        hashes = FileHashes(con)
        assert {k: v for k, v in hashes.of_batch(batch).items() if k in first} == first
        hashes.save()
        assert con.execute("SELECT count(*) FROM audit.landing_file_hashes").fetchone()[0] == 2
