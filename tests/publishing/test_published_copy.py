"""The published copy: contents, atomic replacement, concurrent readers, killed publishers."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from assets.publishing import (
    MANIFEST,
    MART_KEYS,
    PUBLISHED_DUCKDB,
    PublishError,
    list_versions,
    open_published,
    publish,
    publish_version,
    sql_ident,
    sql_literal,
)
from assets.publishing import copy as versioned_copy
from tests.publishing.fixture import MART_COLUMNS, restamp

REPO = Path(__file__).resolve().parents[2]


def test_sql_text_is_escaped():
    assert sql_literal("/tmp/o'brien/x.parquet") == "'/tmp/o''brien/x.parquet'"
    assert sql_ident('a"b') == '"a""b"'
    con = duckdb.connect()
    assert con.execute(f"SELECT {sql_literal(chr(39) * 3 + 'x')}").fetchone()[0] == "'''x"
    with pytest.raises(ValueError):
        sql_literal("a\x00b")


def test_publish_writes_every_table_as_parquet_and_an_old_format_duckdb_file(warehouse, out_dir):
    rows = publish(warehouse, out_dir, "run-a")
    link = out_dir / "published"
    assert link.is_symlink()
    copy = open_published(out_dir)
    assert copy.run_id == "run-a"
    assert set(MART_KEYS) <= set(rows)
    assert {"audit_load_batches", "audit_quarantined_rows"} <= set(rows)

    with duckdb.connect(str(warehouse), read_only=True) as wh:
        for name in MART_KEYS:
            expected = wh.execute(f"SELECT * FROM marts.{name} ORDER BY ALL").fetchall()
            assert rows[name] == len(expected) > 0
            with duckdb.connect() as con:
                got = con.execute(
                    f"SELECT * FROM read_parquet({sql_literal(link / copy.tables[name]['path'])}) ORDER BY ALL"
                ).fetchall()
                described = con.execute(
                    f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                    f"read_parquet({sql_literal(copy.parquet(name))}))"
                ).fetchall()
            assert got == expected, name
            # Types and order survive the trip (money stays DECIMAL(18,2), never floating point; the
            # hive folders' month is the files' own DATE column, in its place).
            assert described[: len(MART_COLUMNS[name])] == MART_COLUMNS[name]
            # Rows are sorted by the mart's key.
            keys = [
                tuple(r)
                for r in duckdb.connect()
                .execute(
                    f"SELECT {', '.join(MART_KEYS[name])} "
                    f"FROM read_parquet({sql_literal(copy.parquet(name))})"
                )
                .fetchall()
            ]
            assert keys == sorted(keys)

    with duckdb.connect(str(link / PUBLISHED_DUCKDB), read_only=True) as con:
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE NOT internal").fetchone()[0]
        assert tags["storage_version"].startswith("v1.0.0")
        for name, n in rows.items():
            assert con.execute(f"SELECT count(*) FROM {sql_ident(name)}").fetchone()[0] == n
        nullable = dict(
            con.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns "
                "WHERE table_name = 'fct_customer_profit_monthly'"
            ).fetchall()
        )
        assert nullable["month"] == "NO"
        assert not (copy.version / (PUBLISHED_DUCKDB + ".wal")).exists()

    manifest = json.loads((copy.version / MANIFEST).read_text())
    assert manifest["tables"]["segment_kpis"]["key"] == ["month", "segmentation", "segment"]
    assert {c["name"]: c["type"] for c in manifest["tables"]["margin_reconciliation"]["columns"]}[
        "gl_amount"
    ] == "DECIMAL(18,2)"
    # Published files are read-only: a careless read-write open cannot lock other readers out.
    assert not os.stat(copy.duckdb_file).st_mode & 0o222


def test_each_publication_replaces_the_link_and_old_versions_are_pruned_after_a_grace(warehouse, out_dir):
    for i in range(4):
        publish_version(warehouse, out_dir, f"run-{i}", grace_seconds=3600)
    assert len(list_versions(out_dir / ".published")) == 4  # all within the grace period
    pub = publish_version(warehouse, out_dir, "run-4", keep=2, grace_seconds=0)
    assert len(pub.pruned) == 3
    versions = list_versions(out_dir / ".published")
    assert [v.name for v in versions][-1] == pub.version.name and len(versions) == 2
    assert open_published(out_dir).run_id == "run-4"


def test_a_missing_mart_publishes_nothing_and_keeps_the_last_copy(warehouse, out_dir):
    publish(warehouse, out_dir, "good")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE marts.segment_kpis")
    with pytest.raises(PublishError, match="segment_kpis"):
        publish_version(warehouse, out_dir, "bad", require=MART_KEYS)
    assert open_published(out_dir).run_id == "good"
    assert not [p for p in (out_dir / ".published").iterdir() if p.name.endswith(".tmp")]


def test_a_failure_half_way_keeps_the_last_good_copy(warehouse, out_dir, monkeypatch):
    publish(warehouse, out_dir, "good")
    calls = {"n": 0}
    original = versioned_copy._columns

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(versioned_copy, "_columns", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(warehouse, out_dir, "broken")
    copy = open_published(out_dir)
    assert copy.run_id == "good"
    with duckdb.connect(str(copy.duckdb_file), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM segment_kpis").fetchone()[0]
            == copy.tables["segment_kpis"]["rows"]
        )
    assert len(list_versions(out_dir / ".published")) == 1


def test_a_directory_in_place_of_the_link_is_refused(warehouse, out_dir):
    (out_dir / "published").mkdir()
    with pytest.raises(PublishError, match="not the published-copy link"):
        publish(warehouse, out_dir, "x")


def _python(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.publishing.procs", *args], cwd=REPO, **kwargs)


def test_a_reader_in_another_process_never_sees_a_mix_or_a_lock_error(warehouse, out_dir, tmp_path):
    restamp(warehouse, "run-000")
    publish(warehouse, out_dir, "run-000")
    stop = tmp_path / "stop"
    reader = _python("reader", str(out_dir), str(stop), stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(3)  # the reader is importing and reading the first copy
        published = ["run-000"]
        for i in range(1, 13):
            run_id = f"run-{i:03d}"
            restamp(warehouse, run_id)
            publish(warehouse, out_dir, run_id)
            published.append(run_id)
        time.sleep(1)
    finally:
        stop.touch()
        output, _ = reader.communicate(timeout=120)
    report = json.loads(output.strip().splitlines()[-1])
    assert report["error_count"] == 0, report["errors"]
    assert report["mixed"] == []
    assert report["reads"] >= 10
    assert len(report["seen"]) >= 3  # it really read across publications
    assert set(report["seen"]) <= set(published)


def test_a_publisher_killed_at_any_moment_leaves_the_previous_copy_intact(warehouse, out_dir):
    restamp(warehouse, "first")
    publish(warehouse, out_dir, "first")
    rng = random.Random(11)
    killed_mid_write = 0
    newest_complete = "first"
    for attempt in range(6):
        proc = _python("publisher", str(warehouse), str(out_dir), stdout=subprocess.PIPE, text=True)
        lines = []
        begins = 0
        while begins < 1 + attempt % 3:  # kill during the 1st, 2nd or 3rd publication of the process
            line = proc.stdout.readline()
            assert line, "the publisher process died by itself"
            lines.append(line.split())
            begins += lines[-1][0] == "begin"
        time.sleep(rng.uniform(0.0, 0.5))  # a publication takes about 0.5-1 s
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        lines += [line.split() for line in proc.stdout.read().splitlines() if line.strip()]
        proc.stdout.close()
        finished = [run_id for what, run_id in lines if what == "end"]
        killed_mid_write += any(p.name.endswith(".tmp") for p in (out_dir / ".published").iterdir())

        copy = open_published(out_dir)
        # The current copy is the newest complete publication (or the one killed right after its swap).
        newest_complete = finished[-1] if finished else newest_complete
        in_flight = lines[-1][1] if lines[-1][0] == "begin" else None
        assert copy.run_id in (newest_complete, in_flight)  # in flight: killed after the swap
        newest_complete = copy.run_id
        with duckdb.connect() as con:
            for name, table in copy.tables.items():
                n, ids = con.execute(
                    "SELECT count(*), list(DISTINCT run_id) "
                    f"FROM read_parquet({sql_literal(copy.parquet(name))})"
                ).fetchone()
                assert n == table["rows"] and ids == [copy.run_id], name
        with duckdb.connect(str(out_dir / "published" / PUBLISHED_DUCKDB), read_only=True) as con:
            for name, table in copy.tables.items():
                assert con.execute(f"SELECT count(*) FROM {sql_ident(name)}").fetchone()[0] == table["rows"]
    assert killed_mid_write >= 1, "no kill landed while a version was being written; the test proved nothing"
    # The next publication cleans up what the killed ones left and succeeds.
    restamp(warehouse, "after")
    publish(warehouse, out_dir, "after")
    assert open_published(out_dir).run_id == "after"
    assert not [p for p in (out_dir / ".published").iterdir() if p.name.endswith(".tmp")]
    assert not list(out_dir.glob(".published.*.tmp"))
