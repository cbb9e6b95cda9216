"""The engine switch without Spark: target resolution, the raw export, reading Spark-layout Parquet.

Spark's output is imitated by Parquet folders in its layout (`<out>/spark_warehouse/<schema>.db/
<table>/part-*.parquet`), so these run in seconds; tests/engines/test_spark_target.py runs Spark.
"""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest

from assets.core import dbt_executable
from assets.core.catalog import table_exists
from assets.core.engines import (
    EngineError,
    attach_layers,
    dbt_env,
    export_raw_parquet,
    open_layers,
    resolve_target,
    spark_table_dir,
)
from assets.core.resources import StrataPaths
from assets.ingestion.audit import create_audit_tables


def test_target_resolution(monkeypatch):
    monkeypatch.delenv("STRATA_DBT_TARGET", raising=False)
    assert resolve_target() == "duckdb"
    monkeypatch.setenv("STRATA_DBT_TARGET", " Spark ")
    assert resolve_target() == "spark"
    assert resolve_target("duckdb") == "duckdb"  # an explicit value wins over the environment
    with pytest.raises(EngineError, match="unknown dbt target 'snowflake'"):
        resolve_target("snowflake")
    paths = StrataPaths(landing_dir="l", out_dir="/o")
    assert paths.target == "spark"
    assert StrataPaths(landing_dir="l", out_dir="/o", dbt_target="duckdb").target == "duckdb"
    assert paths.raw_parquet.as_posix() == "/o/raw_parquet"


def test_dbt_env_never_carries_the_target(tmp_path):
    env = dbt_env("spark", tmp_path / "warehouse.duckdb", tmp_path)
    assert "STRATA_DBT_TARGET" not in env
    assert env["STRATA_RAW_PARQUET"] == str(tmp_path / "raw_parquet")
    assert env["STRATA_SPARK_WAREHOUSE"] == str(tmp_path / "spark_warehouse")
    env = dbt_env("duckdb", tmp_path / "w.duckdb", tmp_path)
    assert set(env) == {"STRATA_WAREHOUSE", "STRATA_DBT_WORKDIR", "DBT_TARGET_PATH"}
    # the profile names the file only, dbt runs in its folder: one profile for every output folder
    assert (env["STRATA_WAREHOUSE"], env["STRATA_DBT_WORKDIR"]) == ("w.duckdb", str(tmp_path))


def test_every_output_folder_has_its_own_dbt_target_folder(tmp_path):
    # dbt's saved parse holds the profile (the warehouse path): one per output folder
    assert dbt_env("duckdb", tmp_path / "a" / "w", tmp_path / "a")["DBT_TARGET_PATH"] == str(tmp_path / "a" / "dbt_target")
    assert dbt_env("spark", tmp_path / "b" / "w", tmp_path / "b")["DBT_TARGET_PATH"] == str(tmp_path / "b" / "dbt_target")


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA marts")
        create_audit_tables(con)
        con.execute("CREATE TABLE raw.erp__fx_rates (period_end DATE, currency VARCHAR, "
                    "rate_to_lcy DECIMAL(38,12), _extra JSON, _loaded_at TIMESTAMP)")
        con.execute("INSERT INTO raw.erp__fx_rates VALUES ('2026-01-31', 'EUR', 1.0834, '{\"x\": 1}', "
                    "'2026-02-01 03:00:00'), ('2026-01-31', 'GBP', 1.27, NULL, '2026-02-01 03:00:00')")
        con.execute("INSERT INTO audit.load_batches (system, entity, batch, file) "
                    "VALUES ('erp', 'fx_rates', '2026-01', 'f.csv')")
        con.execute("CREATE TABLE marts.stale (x INTEGER)")  # a DuckDB mart the Spark target must not show
    return path


def test_export_raw_parquet(warehouse, tmp_path):
    dest = tmp_path / "raw_parquet"
    assert export_raw_parquet(warehouse, dest) == {"erp__fx_rates": 2}
    with duckdb.connect() as con:
        types = dict(con.execute(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{dest}/erp__fx_rates/data.parquet'))"
        ).fetchall())
        rows = con.execute(f"SELECT currency, rate_to_lcy, _extra FROM read_parquet('{dest}/erp__fx_rates/*.parquet') "
                           "ORDER BY 1").fetchall()
    assert types["rate_to_lcy"] == "DECIMAL(38,12)" and types["_extra"] == "VARCHAR"
    assert types["_loaded_at"] == "TIMESTAMP"  # no time zone: Spark reads it as TIMESTAMP_NTZ
    assert rows[0][2] == '{"x": 1}' and str(rows[1][1]) == "1.270000000000"
    assert json.loads((dest / "_export.json").read_text())["rows"] == {"erp__fx_rates": 2}
    # A second export replaces the folder and leaves nothing behind.
    export_raw_parquet(warehouse, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["_export.json", "erp__fx_rates"]


def _spark_table(out, schema, table, select):
    folder = spark_table_dir(out, schema, table)
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"COPY ({select}) TO '{folder}/part-00000.snappy.parquet' (FORMAT parquet)")
    (folder / "_SUCCESS").touch()


def test_open_layers_on_spark_output(warehouse, tmp_path):
    _spark_table(tmp_path, "marts", "fct_customer_profit_monthly",
                 "SELECT DATE '2026-01-31' AS month, 'C1' AS customer_no, 12.34::DECIMAL(18,2) AS net_revenue")
    _spark_table(tmp_path, "intermediate", "int_customers", "SELECT 'C1' AS customer_no")
    with open_layers(warehouse, tmp_path, "spark") as con:
        assert con.execute("SELECT net_revenue FROM marts.fct_customer_profit_monthly").fetchone()[0] == Decimal("12.34")
        assert con.execute("SELECT count(*) FROM raw.erp__fx_rates").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM intermediate.int_customers").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM audit.load_batches").fetchone()[0] == 1
        marts = {t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'marts'").fetchall()}
        assert table_exists(con, "marts", "fct_customer_profit_monthly")
        assert not table_exists(con, "marts", "stale")
    assert marts == {"fct_customer_profit_monthly"}  # Spark's marts, not the DuckDB file's
    with open_layers(warehouse, tmp_path, "duckdb") as con:
        assert con.execute("SELECT count(*) FROM marts.stale").fetchone()[0] == 0


def test_publishing_reads_spark_marts(warehouse, tmp_path):
    from assets.publishing import open_published, publish_version

    _spark_table(tmp_path, "marts", "account_playbook",
                 "SELECT * FROM (VALUES ('C2', 'SUSTAIN'), ('C1', 'EDUCATE')) AS t(customer_no, play)")
    pub = publish_version(warehouse, tmp_path, "run-1", require=["account_playbook"], dbt_target="spark")
    assert pub.rows == {"account_playbook": 2, "audit_load_batches": 1, "audit_quarantined_rows": 0}
    copy = open_published(tmp_path)
    with copy.connect() as con:
        assert con.execute("SELECT customer_no FROM account_playbook").fetchall() == [("C1",), ("C2",)]
    with pytest.raises(Exception, match="lacks the marts segment_kpis.*dbt target spark"):
        publish_version(warehouse, tmp_path, "run-2", require=["segment_kpis"], dbt_target="spark")


def test_attach_layers_refuses_unknown_target(warehouse, tmp_path):
    with duckdb.connect() as con, pytest.raises(EngineError):
        attach_layers(con, warehouse, tmp_path, "bigquery")


def test_dbt_opens_duckdb_with_the_warehouse_settings(tmp_path):
    # The configuration's `warehouse:` section reaches DuckDB through the profile as connection
    # config (given once at open). Not as dbt-duckdb `settings`, which are SET again on every new
    # cursor: once a query had spilled, DuckDB refused that SET and every later model failed
    # ("Cannot switch temporary directory after the current one has been used", a full run at L).
    import os
    import subprocess

    import yaml

    from assets.core.dbt import DBT_PROJECT_DIR
    from assets.core.settings import Warehouse

    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["strata"]["outputs"]["duckdb"]
    assert "settings" not in profile and "config_options" in profile
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE marker AS SELECT 42 AS x")
    tuned = Warehouse(threads=1, memory_limit="256MB", temp_directory=str(tmp_path / "spill"))
    env = {**os.environ, **dbt_env("duckdb", warehouse, tmp_path, tuned)}
    sql = ("select current_setting('threads') as t, current_setting('memory_limit') as m, "
           "current_setting('temp_directory') as d, current_setting('preserve_insertion_order') as o, "
           "(select x from marker) as w")
    result = subprocess.run(
        [dbt_executable.path(), "show", "--inline", sql, "--output", "json", "--target", "duckdb", "--project-dir",
         str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path",
         str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"), "--vars",
         json.dumps({"strata": {}}), "--quiet"],
        env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    shown = json.loads(result.stdout[result.stdout.index("{"):])["show"][0]
    # w: dbt opened this folder's warehouse (strata-dbt runs dbt in the warehouse's folder), and
    # left no file in the project's folder, where dagster-dbt starts it
    assert shown == {"t": 1, "m": "244.1 MiB", "d": str(tmp_path / "spill"), "o": False, "w": 42}
    assert not list(DBT_PROJECT_DIR.glob("*.duckdb*"))
