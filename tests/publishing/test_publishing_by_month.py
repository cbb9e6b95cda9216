"""Publishing by month: an update rewrites the build plans' months, links the others, and equals a
full publication row for row."""

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from assets.core.build_plan import FULL, INCREMENTAL, NOOP, BuildPlan, write_plan
from assets.publishing import (
    PUBLISHED_DUCKDB,
    PublishedCopy,
    list_versions,
    open_published,
    publish_version,
    sql_ident,
    sql_literal,
)
from assets.publishing import copy as versioned_copy
from assets.publishing.months import month_folder
from assets.publishing.postgres import publish_postgres

M1, M2 = dt.date(2026, 1, 31), dt.date(2026, 6, 30)  # M2: the newest month, the only one fitted
MONTHLY = [
    "fct_customer_profit_monthly", "fct_cost_to_serve_monthly", "margin_reconciliation",
    "customer_segments", "clv_model_fits", "segment_kpis", "segment_transitions", "kpi_target_status",
]


def _plan(warehouse: Path, run_id: str, mode: str = INCREMENTAL, months=(M1, M2)) -> None:
    months = frozenset(months)
    with duckdb.connect(str(warehouse)) as con:
        write_plan(con, BuildPlan(run_id=run_id, mode=mode, reason="test", fact_months=months,
                                  segment_months=months, kpi_months=months))


def _change_two_months(warehouse: Path) -> None:
    """What an incremental dbt build of M1 and M2 does to the marts (and ingestion to the audit)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE marts.fct_customer_profit_monthly SET gross_sales = gross_sales + 1.25 "
                    "WHERE month = ?", [M1])
        con.execute("DELETE FROM marts.fct_customer_profit_monthly WHERE month = ? AND customer_no = "
                    "(SELECT min(customer_no) FROM marts.fct_customer_profit_monthly WHERE month = ?)", [M2, M2])
        con.execute("UPDATE marts.fct_cost_to_serve_monthly SET cost = cost * 2 WHERE month = ?", [M2])
        con.execute("UPDATE marts.customer_segments SET stratum = 'CORE' WHERE month = ?", [M2])
        con.execute("UPDATE marts.segment_kpis SET customers = customers + 1 WHERE month = ?", [M1])
        con.execute("UPDATE marts.account_playbook SET key_initiative = 'changed'")
        con.execute("DELETE FROM audit.load_batches WHERE batch = (SELECT max(batch) FROM audit.load_batches)")


def _snapshot(copy: PublishedCopy) -> dict[str, tuple]:
    """Every table's columns and sorted rows, from the Parquet files and from marts.duckdb."""
    got = {}
    with duckdb.connect() as con, duckdb.connect(str(copy.duckdb_file), read_only=True) as db:
        for name in copy.tables:
            source = f"read_parquet({sql_literal(copy.parquet(name))})"
            got[name] = (
                con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall(),
                con.execute(f"SELECT * FROM {source} ORDER BY ALL").fetchall(),
                db.execute(f"SELECT * FROM {sql_ident(name)} ORDER BY ALL").fetchall(),
            )
    return got


def _full_publication(warehouse: Path, tmp_path: Path, name: str) -> PublishedCopy:
    """The same warehouse published whole into a fresh folder: what the update must equal."""
    out = tmp_path / name
    out.mkdir()
    shutil.copyfile(warehouse, out / "warehouse.duckdb")
    pub = publish_version(out / "warehouse.duckdb", out, "full")
    assert pub.manifest["based_on"] is None
    return open_published(out)


def _inode(copy: PublishedCopy, table: str, month: dt.date) -> int:
    return os.stat(copy.version / table / month_folder(month) / "data.parquet").st_ino


def test_an_update_of_two_months_equals_a_full_publication_and_links_the_rest(warehouse, out_dir, tmp_path):
    _plan(warehouse, "build-1", FULL)
    publish_version(warehouse, out_dir, "run-1")
    first = open_published(out_dir)
    assert first.manifest["build_plan"] == "build-1" and first.manifest["based_on"] is None
    before = _snapshot(first)

    _change_two_months(warehouse)
    _plan(warehouse, "build-2")
    publish_version(warehouse, out_dir, "run-2", grace_seconds=3600)
    second = open_published(out_dir)

    assert second.manifest["based_on"] == first.version.name
    assert _snapshot(second) == _snapshot(_full_publication(warehouse, tmp_path, "full"))
    assert _snapshot(first) == before  # the previous version is untouched
    for table in MONTHLY:
        entry = second.tables[table]
        planned = [m.isoformat() for m in (M1, M2) if m.isoformat() in entry["months"]]
        assert planned and entry["rewritten_months"] == planned, table
        assert entry["months_outside_plan"] == []
        for month in map(dt.date.fromisoformat, entry["months"]):
            same = _inode(second, table, month) == _inode(first, table, month)
            assert same == (month not in (M1, M2)), (table, month)
    assert second.tables["account_playbook"]["rewritten_months"] is None
    # The hive folder's month is the file's own DATE column, first as in marts.md.
    with duckdb.connect() as con:
        first_column = con.execute(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
            f"read_parquet({sql_literal(second.parquet('segment_kpis'))}, hive_partitioning = true))"
        ).fetchone()
    assert first_column == ("month", "DATE")


def test_a_month_changed_outside_the_plan_is_rewritten_and_named(warehouse, out_dir, tmp_path):
    _plan(warehouse, "build-1", FULL)
    publish_version(warehouse, out_dir, "run-1")
    stray = dt.date(2026, 3, 31)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM marts.segment_transitions WHERE month = ? AND customers = "
                    "(SELECT max(customers) FROM marts.segment_transitions WHERE month = ?)", [stray, stray])
    _plan(warehouse, "build-2", months=[M1])
    publish_version(warehouse, out_dir, "run-2")
    copy = open_published(out_dir)
    assert copy.tables["segment_transitions"]["months_outside_plan"] == [stray.isoformat()]
    assert _snapshot(copy) == _snapshot(_full_publication(warehouse, tmp_path, "full"))


def test_a_noop_plan_links_every_month(warehouse, out_dir):
    _plan(warehouse, "build-1", FULL)
    publish_version(warehouse, out_dir, "run-1")
    first = open_published(out_dir)
    _plan(warehouse, "build-2", NOOP, months=())
    publish_version(warehouse, out_dir, "run-2", grace_seconds=3600)
    second = open_published(out_dir)
    assert second.manifest["based_on"] == first.version.name
    for table in MONTHLY:
        assert second.tables[table]["rewritten_months"] == []
        for month in map(dt.date.fromisoformat, second.tables[table]["months"]):
            assert _inode(second, table, month) == _inode(first, table, month)
    assert _snapshot(second) == _snapshot(first)


@pytest.mark.parametrize("why", ["full plan", "unknown plan", "no plan"])
def test_everything_is_rewritten_when_the_base_cannot_be_trusted(warehouse, out_dir, why):
    _plan(warehouse, "build-1", FULL)
    publish_version(warehouse, out_dir, "run-1")
    first = open_published(out_dir)
    if why == "full plan":
        _plan(warehouse, "build-2", FULL)
    elif why == "unknown plan":  # e.g. another warehouse in the same output folder
        with duckdb.connect(str(warehouse)) as con:
            con.execute("DELETE FROM audit.build_plans")
        _plan(warehouse, "build-2")
    else:
        with duckdb.connect(str(warehouse)) as con:
            con.execute("DROP TABLE audit.build_plans")
    publish_version(warehouse, out_dir, "run-2", grace_seconds=3600)
    second = open_published(out_dir)
    assert second.manifest["based_on"] is None, second.manifest["plan"]
    for table in MONTHLY:
        assert second.tables[table]["rewritten_months"] is None
        month = dt.date.fromisoformat(next(iter(second.tables[table]["months"])))
        assert _inode(second, table, month) != _inode(first, table, month)


def test_a_failed_update_leaves_the_previous_version_current_and_whole(warehouse, out_dir, monkeypatch):
    _plan(warehouse, "build-1", FULL)
    publish_version(warehouse, out_dir, "run-1")
    first = open_published(out_dir)
    before = _snapshot(first)
    _change_two_months(warehouse)
    _plan(warehouse, "build-2")
    calls = {"n": 0}
    original = versioned_copy._fill_duckdb

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # after three tables were written and linked
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(versioned_copy, "_fill_duckdb", failing)
    with pytest.raises(OSError, match="disk full"):
        publish_version(warehouse, out_dir, "run-2")
    assert calls["n"] == 4
    current = open_published(out_dir)
    assert current.version == first.version and current.run_id == "run-1"
    assert [v.name for v in list_versions(out_dir / ".published")] == [first.version.name]
    assert _snapshot(current) == before
    assert not (first.version / (PUBLISHED_DUCKDB + ".wal")).exists()


# --------------------------------------------------------------------------------------------------
# PostgreSQL follows month by month.


def _pg_equals_copy(pg_database, copy: PublishedCopy) -> None:
    with pg_database.connect() as conn, duckdb.connect() as duck:
        for name, table in copy.tables.items():
            if table["schema"] != "marts":
                continue
            names = ", ".join(sql_ident(c["name"]) for c in table["columns"])
            pg = conn.execute(f"SELECT {names} FROM marts.{sql_ident(name)} ORDER BY {names}").fetchall()
            files = duck.execute(
                f"SELECT {names} FROM read_parquet({sql_literal(copy.parquet(name))}) ORDER BY {names}"
            ).fetchall()
            assert pg == [tuple(r) for r in files], name


def test_postgres_replaces_only_the_rewritten_months_in_one_transaction(pg_database, warehouse, out_dir):
    target = pg_database.target()
    _plan(warehouse, "build-1", FULL)
    publish_version(warehouse, out_dir, "run-1")
    first = publish_postgres(open_published(out_dir), target)
    assert first.replaced_months == {}
    with pg_database.connect() as conn:  # a row of an unchanged month, to see it is never rewritten
        conn.execute("CREATE TABLE public.marker AS SELECT ctid::text AS at FROM marts.segment_kpis "
                     "WHERE month = '2025-06-30' ORDER BY ctid LIMIT 1")
        conn.commit()

    _change_two_months(warehouse)
    _plan(warehouse, "build-2")
    publish_version(warehouse, out_dir, "run-2")
    copy = open_published(out_dir)
    second = publish_postgres(copy, target)
    assert second.replaced_months["fct_customer_profit_monthly"] == [M1.isoformat(), M2.isoformat()]
    assert set(second.replaced_months) == set(MONTHLY)  # account_playbook: always whole
    _pg_equals_copy(pg_database, copy)
    with pg_database.connect() as conn:
        # The unchanged month's row is where it was: not deleted and inserted again.
        still = conn.execute("SELECT count(*) FROM marts.segment_kpis k JOIN public.marker m "
                             "ON k.ctid::text = m.at WHERE k.month = '2025-06-30'").fetchone()[0]
        # Every mart's changes arrived in one transaction: the same transaction id wrote every
        # rewritten row (xmin), and no other transaction since the first publication did.
        writers = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM ("
            + " UNION ALL ".join(
                f"SELECT xmin FROM marts.{t} WHERE month IN ('{M1}', '{M2}')"
                for t in ("fct_customer_profit_monthly", "customer_segments", "segment_kpis")
            ) + ") w"
        ).fetchone()[0]
        conn.execute("DROP TABLE public.marker")
        conn.commit()
    assert still == 1
    assert writers == 1


def test_postgres_that_missed_a_publication_is_replaced_whole(pg_database, warehouse, out_dir):
    target = pg_database.target()
    _plan(warehouse, "build-1", FULL)
    publish_version(warehouse, out_dir, "run-1")
    publish_postgres(open_published(out_dir), target)
    _change_two_months(warehouse)
    _plan(warehouse, "build-2", months=[M1])
    publish_version(warehouse, out_dir, "run-2")  # PostgreSQL not published (say it was down)
    _plan(warehouse, "build-3", months=[M2])
    publish_version(warehouse, out_dir, "run-3")
    copy = open_published(out_dir)
    assert copy.tables["fct_customer_profit_monthly"]["rewritten_months"] == [M2.isoformat()]
    result = publish_postgres(copy, target)
    assert result.replaced_months == {}
    _pg_equals_copy(pg_database, copy)


def test_pyarrow_and_pandas_read_a_monthly_folder_as_the_docs_say(warehouse, out_dir):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    publish_version(warehouse, out_dir, "run-1")
    folder = out_dir / "published" / "segment_kpis"
    table = pq.read_table(folder, partitioning=None)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute("DESCRIBE marts.segment_kpis").fetchall()]
        rows = con.execute("SELECT count(*) FROM marts.segment_kpis").fetchone()[0]
    assert table.column_names == names and table.num_rows == rows
    assert table.schema.field("month").type == pa.date32()
    frame = pd.read_parquet(folder, partitioning=None)
    assert list(frame.columns) == names and isinstance(frame["month"].iloc[0], dt.date)
